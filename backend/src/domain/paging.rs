//! Lists the staff console pages on the server: the page asked for, checked, and the page
//! answered ([`Page`]).

use certdesk_shared::admin::{ListParams, MAX_PER_PAGE, PER_PAGE, Page, Sort, SortColumn};
use certdesk_shared::{FieldError, ValidationError};
use sea_orm::IntoSimpleExpr;
use sea_orm::{ConnectionTrait, EntityTrait, Order, PaginatorTrait, QueryOrder, QuerySelect, Select};

use crate::error::AppError;

/// The furthest page one may ask for (no list the console pages is near a billion rows).
const MAX_PAGE: u64 = 10_000_000;

/// Which rows: page `page` (from 1) of `per_page` rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub page: u64,
    pub per_page: u64,
}

impl Paging {
    /// The first page of [`PER_PAGE`] rows unless asked otherwise; page 0, a page past
    /// [`MAX_PAGE`] and more than [`MAX_PER_PAGE`] rows are refused by field (into `errors`).
    pub fn parse(page: Option<u64>, per_page: Option<u64>, errors: &mut Vec<FieldError>) -> Paging {
        let paging = Paging { page: page.unwrap_or(1), per_page: per_page.unwrap_or(PER_PAGE) };
        if paging.page == 0 || paging.page > MAX_PAGE {
            errors.push(FieldError { field: "page".into(), error: ValidationError::OutOfRange });
        }
        if paging.per_page == 0 || paging.per_page > MAX_PER_PAGE {
            errors.push(FieldError { field: "per_page".into(), error: ValidationError::OutOfRange });
        }
        paging
    }

    /// Rows to skip.
    pub fn offset(self) -> u64 {
        self.page.saturating_sub(1) * self.per_page
    }

    /// This page of `total` matching rows.
    pub fn page<T>(self, items: Vec<T>, total: u64) -> Page<T> {
        Page { items, total, page: self.page, per_page: self.per_page }
    }
}

/// The most characters a list's search words may have.
const MAX_SEARCH_CHARS: usize = 100;

/// What every staff list is asked besides its own filters: search words (whole, matched
/// exactly against the list's columns), an order and a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListAsk<C> {
    /// Trimmed; `None` when empty.
    pub q: Option<String>,
    pub sort: Sort<C>,
    pub paging: Paging,
}

impl<C: SortColumn> ListAsk<C> {
    /// Refuses, by field into `errors`, search words over [`MAX_SEARCH_CHARS`], a column the
    /// list does not sort by, and a page out of range.
    /// `has` names the filters (`kind`, `status`, `role`) the list has; another one asked is
    /// refused too.
    pub fn parse(asked: &ListParams, has: &[&str], errors: &mut Vec<FieldError>) -> ListAsk<C> {
        for name in asked.filters(has) {
            errors.push(FieldError { field: name.into(), error: ValidationError::OutOfRange });
        }
        let (q, sort, page, per_page) = (asked.q.trim(), asked.sort.as_str(), asked.page, asked.per_page);
        if q.chars().count() > MAX_SEARCH_CHARS {
            errors.push(FieldError { field: "q".into(), error: ValidationError::TooLong });
        }
        let sort = Sort::parse(sort).unwrap_or_else(|| {
            errors.push(FieldError { field: "sort".into(), error: ValidationError::OutOfRange });
            C::DEFAULT
        });
        let paging = Paging::parse(page, per_page, errors);
        ListAsk { q: (!q.is_empty()).then(|| q.to_owned()), sort, paging }
    }

    /// The order as SeaORM says it.
    pub fn order(&self) -> Order {
        if self.sort.descending { Order::Desc } else { Order::Asc }
    }
}

/// `errors` as the refusal, or nothing to refuse.
pub fn refuse(errors: Vec<FieldError>) -> Result<(), AppError> {
    if errors.is_empty() { Ok(()) } else { Err(AppError::Validation(errors)) }
}

/// One page of `select`'s rows, ordered by `column` (then by `tie`, so that a page never
/// repeats or skips a row of equal value), and how many rows match in all.
pub async fn fetch<E: EntityTrait>(
    db: &impl ConnectionTrait,
    select: Select<E>,
    column: impl IntoSimpleExpr,
    order: Order,
    tie: impl IntoSimpleExpr,
    paging: Paging,
) -> Result<(Vec<E::Model>, u64), AppError>
where
    E::Model: Sync,
{
    let total = select.clone().count(db).await?;
    let rows = select
        .order_by(column, order.clone())
        .order_by(tie, order)
        .offset(paging.offset())
        .limit(paging.per_page)
        .all(db)
        .await?;
    Ok((rows, total))
}
