//! The staff console's side navigation: the sections a member's role opens
//! ([`StaffRole::sections`]), each queue with how many items wait in it. A count is the length
//! of the very list the section shows (the same domain query), so the two cannot disagree.

use certdesk_shared::admin::{Section, SectionEntry};
use certdesk_shared::apply::InvoiceStatus;
use sea_orm::ConnectionTrait;

use super::{invoice, payment, review, shipping, staff, staff_revocation};
use crate::entity::staff as staff_entity;
use crate::error::AppError;

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
            Section::Review => Some(review::queue(db, None, None, member).await?.len()),
            Section::Revocations => Some(staff_revocation::pending(db).await?.len()),
            Section::Shipping => Some(shipping::awaiting_shipment(db).await?.len()),
            Section::Invoices => Some(invoice::queue(db, Some(InvoiceStatus::Requested)).await?.len()),
            Section::Transfers => Some(payment::pending_transfers(db).await?.len()),
            Section::Statements
            | Section::Billing
            | Section::Catalogue
            | Section::Prices
            | Section::Staff
            | Section::Outbox
            | Section::Audit => None,
        };
        out.push(SectionEntry { section, waiting: waiting.map(|n| n as u64) });
    }
    Ok(out)
}
