//! ⑥ 扫码缴费: an order per application with its QR code, its status (reconciled with the
//! provider when a notification is late), cancelling, and recording the provider's
//! notification exactly once, after checking its signature (in the provider), the order,
//! the currency and the amount.

use certdesk_shared::ErrorCode;
use certdesk_shared::apply::ApplicationStatus;
use certdesk_shared::payment::{PaymentOrder, PaymentStatus};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

use super::audit::{self, AuditKey, Event};
use super::exec;
use crate::entity::{application, payment_order};
use crate::error::AppError;
use crate::payment::{NewOrder, PayError, PaymentProvider, TradeResult};

/// WeChat Pay's default: an unpaid Native order lapses after two hours.
pub const ORDER_TTL: Duration = Duration::hours(2);

fn provider_failed(e: PayError) -> AppError {
    tracing::warn!(error = %e, "payment provider refused");
    ErrorCode::Unavailable.into()
}

pub fn qr_svg(data: &str) -> Result<String, AppError> {
    let code = qrcode::QrCode::new(data.as_bytes()).map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    Ok(code.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).quiet_zone(true).build())
}

pub fn view(o: &payment_order::Model) -> Result<PaymentOrder, AppError> {
    Ok(PaymentOrder {
        out_trade_no: o.out_trade_no.clone(),
        amount_fen: o.amount_fen,
        status: PaymentStatus::parse(&o.status).unwrap_or(PaymentStatus::NotPaid),
        qr_svg: qr_svg(&o.code_url)?,
        code_url: o.code_url.clone(),
        expires_at: o.expires_at.to_rfc3339(),
        paid_at: o.paid_at.map(|t| t.to_rfc3339()),
    })
}

async fn latest(db: &impl ConnectionTrait, application_id: &str) -> Result<Option<payment_order::Model>, AppError> {
    Ok(payment_order::Entity::find()
        .filter(payment_order::Column::ApplicationId.eq(application_id))
        .order_by_desc(payment_order::Column::CreatedAt)
        .one(db)
        .await?)
}

pub async fn is_paid(db: &impl ConnectionTrait, application_id: &str) -> Result<bool, AppError> {
    Ok(payment_order::Entity::find()
        .filter(payment_order::Column::ApplicationId.eq(application_id))
        .filter(payment_order::Column::Status.eq(PaymentStatus::Paid.as_str()))
        .count(db)
        .await?
        > 0)
}

/// The order to show for an application: the paid one, the open one, or a new one (older
/// unpaid orders are closed first, so at most one QR code can be paid).
pub async fn order_for(
    db: &impl ConnectionTrait,
    provider: &dyn PaymentProvider,
    app: &application::Model,
    now: DateTime<Utc>,
) -> Result<payment_order::Model, AppError> {
    if app.billing_mode == "settlement" {
        return Err(ErrorCode::NotEditable.into());
    }
    let status = ApplicationStatus::parse(&app.status).unwrap_or(ApplicationStatus::Draft);
    if !status.editable() {
        return Err(ErrorCode::NotEditable.into());
    }
    let amount = app.price_fen.ok_or(ErrorCode::StepMissing)?;
    if let Some(o) = current(db, provider, app, now).await? {
        match PaymentStatus::parse(&o.status) {
            Some(PaymentStatus::Paid) => return Ok(o),
            Some(PaymentStatus::NotPaid) if o.amount_fen == amount => return Ok(o),
            Some(PaymentStatus::NotPaid) => close(db, provider, &o).await?,
            _ => {}
        }
    }
    let out_trade_no = format!("CD{}{:06}", now.format("%Y%m%d%H%M%S"), u32::from_le_bytes(super::random_bytes::<4>()?) % 1_000_000);
    let order = NewOrder {
        out_trade_no: out_trade_no.clone(),
        amount_fen: amount,
        description: format!("CertDesk 数字证书新办 {}", app.id.chars().take(8).collect::<String>()),
        expires_at: now + ORDER_TTL,
    };
    let code_url = provider.precreate(&order).await.map_err(provider_failed)?;
    let model = payment_order::Model {
        out_trade_no,
        application_id: app.id.clone(),
        provider: provider.name().into(),
        amount_fen: amount,
        code_url,
        status: PaymentStatus::NotPaid.as_str().into(),
        transaction_id: None,
        created_at: now,
        expires_at: order.expires_at,
        paid_at: None,
    };
    let active: payment_order::ActiveModel = model.clone().into();
    payment_order::Entity::insert(active).exec(db).await?;
    Ok(model)
}

/// The application's latest order, brought up to date: an open order past its time is
/// expired; an open one is checked with the provider, in case its notification is late.
pub async fn current(
    db: &impl ConnectionTrait,
    provider: &dyn PaymentProvider,
    app: &application::Model,
    now: DateTime<Utc>,
) -> Result<Option<payment_order::Model>, AppError> {
    let Some(o) = latest(db, &app.id).await? else { return Ok(None) };
    if o.status != PaymentStatus::NotPaid.as_str() {
        return Ok(Some(o));
    }
    if let Ok(r) = provider.query(&o.out_trade_no).await
        && r.trade_state == "SUCCESS"
    {
        // Checked like a notification: same order, same amount.
        let _ = record(db, None, &r, "query").await;
        return latest(db, &app.id).await;
    }
    if o.expires_at <= now {
        exec(db, "UPDATE payment_order SET status = 'expired' WHERE out_trade_no = $1 AND status = 'not_paid'", vec![o.out_trade_no.clone().into()])
            .await?;
        return latest(db, &app.id).await;
    }
    Ok(Some(o))
}

async fn close(db: &impl ConnectionTrait, provider: &dyn PaymentProvider, o: &payment_order::Model) -> Result<(), AppError> {
    provider.close(&o.out_trade_no).await.map_err(provider_failed)?;
    exec(db, "UPDATE payment_order SET status = 'closed' WHERE out_trade_no = $1 AND status = 'not_paid'", vec![o.out_trade_no.clone().into()]).await?;
    Ok(())
}

/// The user cancels the QR code.
pub async fn cancel(db: &impl ConnectionTrait, provider: &dyn PaymentProvider, app: &application::Model) -> Result<(), AppError> {
    match latest(db, &app.id).await? {
        Some(o) if o.status == PaymentStatus::NotPaid.as_str() => close(db, provider, &o).await,
        Some(o) if o.status == PaymentStatus::Paid.as_str() => Err(ErrorCode::NotEditable.into()),
        _ => Ok(()),
    }
}

/// What recording a provider result did.
#[derive(Debug, PartialEq, Eq)]
pub enum Recorded {
    Paid,
    /// Paid before: a retry or a replay. Nothing changed.
    AlreadyPaid,
    /// Not a success (e.g. `CLOSED`): nothing to record.
    NotSuccess,
}

/// Records a verified result exactly once: the order must exist and the currency and the
/// amount must match it. Money received for a closed or expired order is still recorded.
pub async fn record(db: &impl ConnectionTrait, key: Option<&AuditKey>, r: &TradeResult, source: &str) -> Result<Recorded, AppError> {
    let o = payment_order::Entity::find_by_id(r.out_trade_no.clone()).one(db).await?.ok_or(ErrorCode::NotFound)?;
    if r.trade_state != "SUCCESS" {
        return Ok(Recorded::NotSuccess);
    }
    if r.currency != "CNY" || r.amount_fen != o.amount_fen {
        if let Some(key) = key {
            let detail = serde_json::json!({ "expected": o.amount_fen, "got": r.amount_fen, "currency": r.currency, "source": source });
            audit::append(db, key, Event { actor: audit::SYSTEM, action: "payment_mismatch", subject: &o.out_trade_no, ip: "", detail }).await?;
        }
        return Err(ErrorCode::Validation.into());
    }
    let n = exec(
        db,
        "UPDATE payment_order SET status = 'paid', transaction_id = $2, paid_at = $3 WHERE out_trade_no = $1 AND status <> 'paid'",
        vec![o.out_trade_no.clone().into(), r.transaction_id.clone().into(), Utc::now().into()],
    )
    .await?
    .rows_affected();
    if n == 0 {
        return Ok(Recorded::AlreadyPaid);
    }
    if let Some(key) = key {
        let detail = serde_json::json!({ "amount": o.amount_fen, "transaction_id": r.transaction_id, "application": o.application_id, "source": source });
        audit::append(db, key, Event { actor: audit::SYSTEM, action: "payment_received", subject: &o.out_trade_no, ip: "", detail }).await?;
    }
    Ok(Recorded::Paid)
}

/// A notification as it arrives: verified by the provider, then recorded.
pub async fn notified(
    db: &impl ConnectionTrait,
    provider: &dyn PaymentProvider,
    key: &AuditKey,
    headers: &crate::payment::SignatureHeaders,
    body: &[u8],
) -> Result<Recorded, NotifyRefused> {
    let r = provider.verify_notification(headers, body).await.map_err(|e| {
        tracing::warn!(error = %e, "payment notification refused");
        NotifyRefused::Signature
    })?;
    record(db, Some(key), &r, "notification").await.map_err(|e| match e.code() {
        ErrorCode::NotFound | ErrorCode::Validation => NotifyRefused::Order,
        _ => NotifyRefused::Retry,
    })
}

/// Why a notification was not accepted (the provider retries on any refusal).
#[derive(Debug, PartialEq, Eq)]
pub enum NotifyRefused {
    /// Signature, serial, timestamp or encryption wrong: not from the provider.
    Signature,
    /// Unknown order, or amount or currency not the order's.
    Order,
    /// Our side failed; try again.
    Retry,
}
