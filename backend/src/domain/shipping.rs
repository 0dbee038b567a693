//! Shipping (邮寄): approved requests whose certificate goes by post, the courier and
//! tracking number staff record, and the customer's 邮寄查询.

use certdesk_shared::ErrorCode;
use certdesk_shared::admin::{Page, ShipmentColumn, ShipmentQuery};
use certdesk_shared::apply::CertificateInfo;
use certdesk_shared::{FieldError, ValidationError};
use chrono::Utc;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait};

use super::ClientMeta;
use super::audit::{self, AuditKey, Event};
use super::invalid;
use super::paging::{ListAsk, fetch, refuse};
use super::request::{find, parse};
use crate::entity::request::{self, Status};
use crate::error::AppError;

/// Approved requests whose token goes by post and that have no tracking number yet, a page
/// at a time, the longest waiting first unless asked otherwise; `q` names requests as the
/// review queue's search does.
pub async fn awaiting_shipment(db: &impl ConnectionTrait, q: &ShipmentQuery) -> Result<Page<request::Model>, AppError> {
    let mut errors = Vec::new();
    let ask = ListAsk::<ShipmentColumn>::parse(q, &[], &mut errors);
    refuse(errors)?;
    let statuses = [Status::Approved, Status::Issued, Status::Done];
    let mut find = request::Entity::find()
        .filter(request::Column::ShipsByPost.eq(true))
        .filter(request::Column::TrackingNo.is_null())
        .filter(request::Column::Status.is_in(statuses));
    if let Some(words) = &ask.q {
        find = find.filter(super::request::matching(words));
    }
    let column = match ask.sort.column {
        ShipmentColumn::DecidedAt => request::Column::DecidedAt,
        ShipmentColumn::AcceptanceNo => request::Column::AcceptanceNo,
    };
    let (rows, total) = fetch(db, find, column, ask.order(), request::Column::Id, ask.paging).await?;
    Ok(ask.paging.page(rows, total))
}

/// Records the courier and tracking number of a posted certificate (邮寄).
pub async fn ship(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    actor: &str,
    id: &str,
    courier: &str,
    tracking_no: &str,
    meta: &ClientMeta,
) -> Result<request::Model, AppError> {
    let (courier, tracking_no) = (courier.trim(), tracking_no.trim());
    let mut errors = Vec::new();
    for (f, v) in [("courier", courier), ("tracking_no", tracking_no)] {
        if v.is_empty() {
            errors.push(FieldError { field: f.into(), error: ValidationError::Required });
        } else if v.chars().count() > 40 {
            errors.push(FieldError { field: f.into(), error: ValidationError::TooLong });
        }
    }
    invalid(errors)?;
    let app = find(db, id).await?;
    if !matches!(app.status, Status::Approved | Status::Issued | Status::Done) {
        return Err(ErrorCode::NotEditable.into());
    }
    let mut active: request::ActiveModel = app.clone().into();
    active.courier = Set(Some(courier.into()));
    active.tracking_no = Set(Some(tracking_no.into()));
    active.shipped_at = Set(Some(Utc::now()));
    let updated = request::Entity::update(active).exec(db).await?;
    let detail = serde_json::json!({ "application": app.id, "courier": courier, "tracking_no": tracking_no });
    let subject = app.acceptance_no.clone().unwrap_or_default();
    audit::append(db, key, Event { actor, action: "shipped", subject: &subject, ip: &meta.ip, detail }).await?;
    Ok(updated)
}

/// 邮寄查询: the customer's posted certificates.
pub async fn shipments(
    db: &impl ConnectionTrait,
    account_id: &str,
) -> Result<Vec<certdesk_shared::apply::Shipment>, AppError> {
    let apps = request::Entity::find()
        .filter(request::Column::AccountId.eq(account_id))
        .filter(request::Column::TrackingNo.is_not_null())
        .order_by_desc(request::Column::ShippedAt)
        .all(db)
        .await?;
    Ok(apps
        .into_iter()
        .map(|a| certdesk_shared::apply::Shipment {
            common_name: parse::<CertificateInfo>(&a.certificate_info)
                .map(|i| i.holder.common_name().to_owned())
                // A request of another kind (补办) names its holder as the certificate does.
                .or_else(|| a.search_name.clone())
                .unwrap_or_default(),
            kind: a.kind.into(),
            application_id: a.id,
            acceptance_no: a.acceptance_no,
            courier: a.courier.unwrap_or_default(),
            tracking_no: a.tracking_no.unwrap_or_default(),
            shipped_at: a.shipped_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
        })
        .collect())
}
