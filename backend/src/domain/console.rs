//! The staff console's side navigation: the sections a member's role opens
//! ([`StaffRole::sections`]), each queue with how many items wait in it. A count is the length
//! of the very list the section shows (the same domain query), so the two cannot disagree.

use certdesk_shared::admin::{
    InvoiceQuery, OutboxMessage, OutboxQuery, Page, QueueQuery, Section, SectionEntry, ShipmentQuery, TransferQuery,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use super::paging::Paging;
use super::{invoice, payment, review, shipping, staff, staff_revocation};
use crate::entity::{outbox_message, staff as staff_entity};
use crate::error::AppError;

/// A count is the `total` of the list's first page; one row is enough to read it.
const ONE: Option<u64> = Some(1);

/// The sections this member may open, in navigation order; none for a disabled member or a
/// role this build does not know.
pub async fn sections(db: &impl ConnectionTrait, member: &staff_entity::Model) -> Result<Vec<SectionEntry>, AppError> {
    let Some(role) = staff::role_of(member).filter(|_| member.disabled_at.is_none()) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for section in role.sections() {
        let waiting = match section {
            // What this reviewer may decide: requests made with their own phone are not theirs.
            Section::Review => {
                Some(review::queue(db, &QueueQuery { per_page: ONE, ..Default::default() }, member).await?.total)
            }
            Section::Revocations => Some(staff_revocation::pending(db).await?.len() as u64),
            Section::Shipping => Some(
                shipping::awaiting_shipment(db, &ShipmentQuery { per_page: ONE, ..Default::default() }).await?.total,
            ),
            Section::Invoices => {
                let waiting = InvoiceQuery { status: "requested".into(), per_page: ONE, ..Default::default() };
                Some(invoice::queue(db, &waiting).await?.total)
            }
            Section::Transfers => Some(
                payment::pending_transfers(db, &TransferQuery { per_page: ONE, ..Default::default() }).await?.total,
            ),
            Section::Dashboard
            | Section::Customers
            | Section::Statements
            | Section::Billing
            | Section::Catalogue
            | Section::Prices
            | Section::Staff
            | Section::Outbox
            | Section::Audit => None,
        };
        out.push(SectionEntry { section, waiting });
    }
    Ok(out)
}

/// 短信发件箱 (the sandbox gateway's and the e-mail fallback's messages): one page, newest
/// first, by recipient and template (each exactly).
pub async fn outbox(db: &impl ConnectionTrait, q: &OutboxQuery) -> Result<Page<OutboxMessage>, AppError> {
    let mut errors = Vec::new();
    let paging = Paging::parse(q.page, q.per_page, &mut errors);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let mut find = outbox_message::Entity::find();
    if let Some(r) = Some(q.recipient.trim()).filter(|r| !r.is_empty()) {
        find = find.filter(outbox_message::Column::Recipient.eq(r));
    }
    if let Some(t) = Some(q.template.trim()).filter(|t| !t.is_empty()) {
        find = find.filter(outbox_message::Column::Template.eq(t));
    }
    let total = find.clone().count(db).await?;
    let rows = find
        .order_by_desc(outbox_message::Column::CreatedAt)
        .order_by_desc(outbox_message::Column::Id)
        .offset(paging.offset())
        .limit(paging.per_page)
        .all(db)
        .await?;
    let items = rows
        .into_iter()
        .map(|m| OutboxMessage {
            id: m.id,
            channel: m.channel,
            recipient: m.recipient,
            template: m.template,
            body: m.body,
            created_at: m.created_at.to_rfc3339(),
        })
        .collect();
    Ok(paging.page(items, total))
}
