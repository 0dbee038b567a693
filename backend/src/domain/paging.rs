//! Lists the staff console pages on the server: the page asked for, checked, and the page
//! answered ([`Page`]).

use certdesk_shared::admin::{MAX_PER_PAGE, PER_PAGE, Page};
use certdesk_shared::{FieldError, ValidationError};

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
