//! ⑥ 扫码缴费: an order per application with its QR code, in the way the customer chose
//! (微信支付 or 支付宝, among those offered), its status (reconciled with the order's own
//! provider when a notification is late), cancelling, and recording the provider's
//! notification exactly once, after checking its signature (in the provider), the order,
//! the currency and the amount.

use certdesk_shared::ErrorCode;
use certdesk_shared::admin::{Page, TransferColumn, TransferQuery};
use certdesk_shared::apply::BillingMode;
use certdesk_shared::payment::{PayWay, PaymentOrder, PaymentStatus};
use certdesk_shared::request::RequestStatus;
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, TransactionTrait};

use super::audit::{self, AuditKey, Event};
use super::exec;
use super::paging::{ListAsk, fetch, refuse};
use crate::entity::request::Status;
use crate::entity::{payment_order, request};
use crate::error::AppError;
use crate::payment::{NewOrder, PayError, PaymentProvider, Payments, TradeResult};
use certdesk_shared::Named;

/// WeChat Pay's default: an unpaid Native order lapses after two hours.
pub const ORDER_TTL: Duration = Duration::hours(2);

/// How often the status poll may ask the provider about an open order (the wizard polls
/// every 2 s; the provider limits how often it is asked).
pub const QUERY_EVERY: Duration = Duration::seconds(10);

/// A provider's failure as the customer's error code; the cause goes to the log.
fn provider_failed(e: PayError) -> AppError {
    tracing::warn!(error = %e, "payment provider call failed");
    e.code().into()
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
        way: PayWay::parse(&o.provider),
        qr_svg: qr_svg(&o.code_url)?,
        code_url: o.code_url.clone(),
        expires_at: o.expires_at.to_rfc3339(),
        paid_at: o.paid_at.map(|t| t.to_rfc3339()),
    })
}

async fn latest(db: &impl ConnectionTrait, application_id: &str) -> Result<Option<payment_order::Model>, AppError> {
    Ok(payment_order::Entity::find()
        .filter(payment_order::Column::RequestId.eq(application_id))
        .order_by_desc(payment_order::Column::CreatedAt)
        .one(db)
        .await?)
}

/// Paid in full: a paid order for the application's current price.
pub async fn is_paid(db: &impl ConnectionTrait, app: &request::Model) -> Result<bool, AppError> {
    let Some(price) = app.price_fen else { return Ok(false) };
    Ok(payment_order::Entity::find()
        .filter(payment_order::Column::RequestId.eq(app.id.clone()))
        .filter(payment_order::Column::Status.eq(PaymentStatus::Paid.as_str()))
        .filter(payment_order::Column::AmountFen.eq(price))
        .count(db)
        .await?
        > 0)
}

/// Any money received for the application (what was chosen can no longer change then).
pub async fn has_payment(db: &impl ConnectionTrait, application_id: &str) -> Result<bool, AppError> {
    Ok(payment_order::Entity::find()
        .filter(payment_order::Column::RequestId.eq(application_id))
        .filter(payment_order::Column::Status.eq(PaymentStatus::Paid.as_str()))
        .count(db)
        .await?
        > 0)
}

/// The order to show for an application: the paid one, the open one in the chosen way, or a
/// new one (older unpaid orders are closed first, at their own provider, so at most one QR
/// code can be paid). Without a chosen way, the only way offered.
pub async fn order_for(
    db: &(impl ConnectionTrait + TransactionTrait),
    payments: &Payments,
    key: &AuditKey,
    app: &request::Model,
    way: Option<PayWay>,
    now: DateTime<Utc>,
) -> Result<payment_order::Model, AppError> {
    if app.billing_mode == BillingMode::Settlement.as_str() {
        return Err(ErrorCode::NotEditable.into());
    }
    let status = RequestStatus::from(app.status);
    if !status.editable() {
        return Err(ErrorCode::NotEditable.into());
    }
    let amount = app.price_fen.ok_or(ErrorCode::StepMissing)?;
    let way = match (way, payments.ways().as_slice()) {
        (Some(w), _) => w,
        (None, []) => return Err(ErrorCode::Unavailable.into()),
        (None, [only]) => *only,
        (None, _) => {
            return Err(AppError::Validation(vec![certdesk_shared::FieldError {
                field: "way".into(),
                error: certdesk_shared::ValidationError::Required,
            }]));
        }
    };
    let provider = payments.get(way).ok_or(ErrorCode::Unavailable)?;
    if let Some(o) = current(db, payments, key, app, now).await? {
        match PaymentStatus::parse(&o.status) {
            Some(PaymentStatus::Paid) => return Ok(o),
            // A transfer waiting for finance: no QR code on top of it.
            Some(PaymentStatus::NotPaid) if o.provider == TRANSFER => return Err(ErrorCode::NotEditable.into()),
            Some(PaymentStatus::NotPaid) if o.amount_fen == amount && o.provider == way.as_str() => return Ok(o),
            Some(PaymentStatus::NotPaid) => close(db, payments, key, &o).await?,
            _ => {}
        }
    }
    let out_trade_no = format!("CD{}{:06}", now.format("%Y%m%d%H%M%S"), super::random_below(1_000_000)?);
    let order = NewOrder {
        out_trade_no: out_trade_no.clone(),
        amount_fen: amount,
        description: format!(
            "CertDesk 数字{} {}",
            certdesk_shared::request::RequestKind::from(app.kind).name_zh(),
            app.id.chars().take(8).collect::<String>()
        ),
        expires_at: now + ORDER_TTL,
    };
    let code_url = provider.precreate(&order).await.map_err(provider_failed)?;
    let model = payment_order::Model {
        out_trade_no,
        request_id: app.id.clone(),
        provider: way.as_str().into(),
        amount_fen: amount,
        code_url,
        status: PaymentStatus::NotPaid.as_str().into(),
        transaction_id: None,
        created_at: now,
        expires_at: order.expires_at,
        paid_at: None,
        queried_at: None,
    };
    let active: payment_order::ActiveModel = model.clone().into();
    match payment_order::Entity::insert(active).exec(db).await {
        Ok(_) => Ok(model),
        // Another request made the open order at the same moment (one open order per
        // application, by a partial unique index): ours is withdrawn, theirs is shown.
        Err(e) if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => {
            provider.close(&model.out_trade_no).await.map_err(provider_failed)?;
            latest(db, &app.id).await?.ok_or_else(|| ErrorCode::Internal.into())
        }
        Err(e) => Err(e.into()),
    }
}

/// Provider name of bank-transfer orders (finance confirms them; no timer, no cancel).
pub const TRANSFER: &str = "bank_transfer";

/// The application's latest order, brought up to date: an open order past its time is
/// expired; an open one is checked with its provider, in case its notification is late.
pub async fn current(
    db: &(impl ConnectionTrait + TransactionTrait),
    payments: &Payments,
    key: &AuditKey,
    app: &request::Model,
    now: DateTime<Utc>,
) -> Result<Option<payment_order::Model>, AppError> {
    let Some(o) = latest(db, &app.id).await? else { return Ok(None) };
    if o.status != PaymentStatus::NotPaid.as_str() || o.provider == TRANSFER {
        return Ok(Some(o));
    }
    if let Some(provider) = payments.of_order(&o.provider)
        && claim_query(db, &o.out_trade_no, now, QUERY_EVERY).await?
        && let Ok(r) = provider.query(&o.out_trade_no).await
        && r.trade_state == "SUCCESS"
    {
        // Checked like a notification: same order, same amount; audited the same way.
        let _ = record(db, key, &r, provider.way().as_str(), "query").await;
        return latest(db, &app.id).await;
    }
    if o.expires_at <= now {
        expire(db, &o.out_trade_no).await?;
        return latest(db, &app.id).await;
    }
    Ok(Some(o))
}

/// How long a new order's notification may take before the timer asks the provider.
pub const NOTIFY_GRACE: Duration = Duration::seconds(30);

/// How often the timer asks about one open order (the status poll may ask more often).
pub const RECONCILE_EVERY: Duration = Duration::minutes(1);

/// The most orders one round asks about.
const RECONCILE_BATCH: u64 = 20;

/// The timer's side of [`current`], for orders nobody is looking at: open orders of the
/// providers this server offers, older than [`NOTIFY_GRACE`], are asked of their provider, as
/// WeChat Pay and Alipay tell merchants to do with an order whose notification has not come
/// (it was lost, or the server that should have taken it was down). A paid one is recorded as
/// a notification would be; a lapsed one expires. The orders asked least recently go first,
/// each at most once per [`RECONCILE_EVERY`] however many servers run this, at most
/// [`RECONCILE_BATCH`] a round; a provider that fails ends the round (it is asked again next
/// round), and so does an order whose answer cannot be recorded (a wrong amount is audited
/// by [`record`] and stays open for staff). Returns how many payments were recorded.
pub async fn reconcile_open_orders(
    db: &(impl ConnectionTrait + TransactionTrait),
    payments: &Payments,
    key: &AuditKey,
    now: DateTime<Utc>,
) -> Result<u64, AppError> {
    use sea_orm::sea_query::{NullOrdering, Order};
    use sea_orm::{Condition, QuerySelect};
    let offered: Vec<&str> = payments.ways().into_iter().map(PayWay::as_str).collect();
    let open = payment_order::Entity::find()
        .filter(payment_order::Column::Status.eq(PaymentStatus::NotPaid.as_str()))
        .filter(payment_order::Column::Provider.is_in(offered))
        .filter(payment_order::Column::CreatedAt.lte(now - NOTIFY_GRACE))
        .filter(
            Condition::any()
                .add(payment_order::Column::QueriedAt.is_null())
                .add(payment_order::Column::QueriedAt.lte(now - RECONCILE_EVERY)),
        )
        .order_by_with_nulls(payment_order::Column::QueriedAt, Order::Asc, NullOrdering::First)
        .order_by_asc(payment_order::Column::CreatedAt)
        .limit(RECONCILE_BATCH)
        .all(db)
        .await?;
    let mut paid = 0;
    for o in open {
        let Some(provider) = payments.of_order(&o.provider) else { continue };
        let now = Utc::now().max(now);
        if !claim_query(db, &o.out_trade_no, now, RECONCILE_EVERY).await? {
            continue;
        }
        match provider.query(&o.out_trade_no).await {
            Ok(r) if r.trade_state == "SUCCESS" => {
                match record(db, key, &r, provider.way().as_str(), "reconcile").await {
                    Ok(Recorded::Paid) => paid += 1,
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = ?e, out_trade_no = %o.out_trade_no, "a provider's answer could not be recorded");
                    }
                }
            }
            Ok(_) | Err(PayError::OrderNotFound) if o.expires_at <= now => expire(db, &o.out_trade_no).await?,
            Ok(_) | Err(PayError::OrderNotFound) => {}
            Err(e) => {
                tracing::warn!(error = %e, out_trade_no = %o.out_trade_no, "asking the provider about an open order failed; next round");
                break;
            }
        }
    }
    Ok(paid)
}

/// An open order past its time lapses (one paid meanwhile stays paid).
async fn expire(db: &impl ConnectionTrait, out_trade_no: &str) -> Result<(), AppError> {
    exec(
        db,
        "UPDATE payment_order SET status = 'expired' WHERE out_trade_no = $1 AND status = 'not_paid'",
        vec![out_trade_no.into()],
    )
    .await?;
    Ok(())
}

/// Claims the next query of an open order: at most one per `every`, across servers.
async fn claim_query(
    db: &impl ConnectionTrait,
    out_trade_no: &str,
    now: DateTime<Utc>,
    every: Duration,
) -> Result<bool, AppError> {
    let claimed = exec(
        db,
        "UPDATE payment_order SET queried_at = $2 WHERE out_trade_no = $1 AND (queried_at IS NULL OR queried_at <= $3)",
        vec![out_trade_no.into(), now.into(), (now - every).into()],
    )
    .await?
    .rows_affected();
    Ok(claimed == 1)
}

/// Closes an open order at its provider, then here. One paid meanwhile is recorded instead,
/// and closing it is refused.
async fn close(
    db: &(impl ConnectionTrait + TransactionTrait),
    payments: &Payments,
    key: &AuditKey,
    o: &payment_order::Model,
) -> Result<(), AppError> {
    if let Some(provider) = payments.of_order(&o.provider) {
        match provider.close(&o.out_trade_no).await {
            Ok(()) | Err(PayError::OrderClosed | PayError::OrderNotFound) => {}
            Err(PayError::OrderPaid) => {
                if let Ok(r) = provider.query(&o.out_trade_no).await {
                    let _ = record(db, key, &r, provider.way().as_str(), "query").await;
                }
                return Err(ErrorCode::NotEditable.into());
            }
            Err(e) => return Err(provider_failed(e)),
        }
    }
    exec(
        db,
        "UPDATE payment_order SET status = 'closed' WHERE out_trade_no = $1 AND status = 'not_paid'",
        vec![o.out_trade_no.clone().into()],
    )
    .await?;
    Ok(())
}

/// The user cancels the QR code.
pub async fn cancel(
    db: &(impl ConnectionTrait + TransactionTrait),
    payments: &Payments,
    key: &AuditKey,
    app: &request::Model,
) -> Result<(), AppError> {
    match latest(db, &app.id).await? {
        Some(o) if o.provider == TRANSFER => Err(ErrorCode::NotEditable.into()),
        Some(o) if o.status == PaymentStatus::NotPaid.as_str() => close(db, payments, key, &o).await,
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

/// Records a verified result exactly once: the order must exist, be one of `provider` (the
/// way that vouched for the result: `wechat`, `alipay`, `bank_transfer`), and the currency
/// and the amount must match it. Money received for a closed or expired order is still
/// recorded.
pub async fn record(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    r: &TradeResult,
    provider: &str,
    source: &str,
) -> Result<Recorded, AppError> {
    let o = payment_order::Entity::find_by_id(r.out_trade_no.clone())
        .one(db)
        .await?
        .filter(|o| o.provider == provider)
        .ok_or(ErrorCode::NotFound)?;
    if r.trade_state != "SUCCESS" {
        return Ok(Recorded::NotSuccess);
    }
    if r.currency != "CNY" || r.amount_fen != o.amount_fen {
        let detail = serde_json::json!({ "expected": o.amount_fen, "got": r.amount_fen, "currency": r.currency, "source": source });
        audit::append(
            db,
            key,
            Event { actor: audit::SYSTEM, action: "payment_mismatch", subject: &o.out_trade_no, ip: "", detail },
        )
        .await?;
        return Err(ErrorCode::Validation.into());
    }
    // The payment and its audit row commit together.
    let txn = crate::db::begin_write(db).await?;
    let n = exec(
        &txn,
        "UPDATE payment_order SET status = 'paid', transaction_id = $2, paid_at = $3 WHERE out_trade_no = $1 AND status <> 'paid'",
        vec![o.out_trade_no.clone().into(), r.transaction_id.clone().into(), Utc::now().into()],
    )
    .await?
    .rows_affected();
    if n == 0 {
        return Ok(Recorded::AlreadyPaid);
    }
    let detail = serde_json::json!({ "amount": o.amount_fen, "transaction_id": r.transaction_id, "application": o.request_id, "source": source });
    audit::append(
        &txn,
        key,
        Event { actor: audit::SYSTEM, action: "payment_received", subject: &o.out_trade_no, ip: "", detail },
    )
    .await?;
    txn.commit().await?;
    Ok(Recorded::Paid)
}

/// A notification as it arrives: verified by the provider, then recorded.
pub async fn notified(
    db: &(impl ConnectionTrait + TransactionTrait),
    provider: &dyn PaymentProvider,
    key: &AuditKey,
    notification: &crate::payment::Notification,
) -> Result<Recorded, NotifyRefused> {
    let r = provider.verify_notification(notification).await.map_err(|e| {
        tracing::warn!(error = %e, "payment notification refused");
        NotifyRefused::Signature
    })?;
    record(db, key, &r, provider.way().as_str(), "notification").await.map_err(|e| match e.code() {
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

/// Payment by bank transfer: the customer uploads the voucher (缴费凭证; a picture or PDF,
/// checked like the documents) and an order of provider `bank_transfer` waits for finance.
pub async fn transfer_voucher(
    db: &(impl ConnectionTrait + sea_orm::TransactionTrait),
    payments: &Payments,
    key: &AuditKey,
    app: &request::Model,
    file_name: &str,
    bytes: Vec<u8>,
    now: DateTime<Utc>,
) -> Result<payment_order::Model, AppError> {
    use certdesk_shared::apply::{DocumentKind, check_document};
    if app.billing_mode == BillingMode::Settlement.as_str() || !RequestStatus::from(app.status).editable() {
        return Err(ErrorCode::NotEditable.into());
    }
    if has_payment(db, &app.id).await? {
        return Err(ErrorCode::NotEditable.into());
    }
    let amount = app.price_fen.ok_or(ErrorCode::StepMissing)?;
    // An open QR code must stop being payable first; one paid meanwhile ends it here.
    if let Some(o) = current(db, payments, key, app, now).await?
        && o.provider != TRANSFER
    {
        if o.status == PaymentStatus::Paid.as_str() {
            return Err(ErrorCode::NotEditable.into());
        }
        if o.status == PaymentStatus::NotPaid.as_str() {
            close(db, payments, key, &o).await?;
        }
    }
    // Same rules as the licence: jpg, png, gif, bmp or pdf, up to 2 MB.
    let file_type = check_document(DocumentKind::BusinessLicence, &bytes)
        .map_err(|error| AppError::Validation(vec![certdesk_shared::FieldError { field: "voucher".into(), error }]))?;
    let txn = crate::db::begin_write(db).await?;
    super::apply::store_document(&txn, &app.id, super::apply::VOUCHER_KIND, file_name, file_type, bytes, now).await?;
    // A voucher sent again replaces the pending transfer.
    exec(
        &txn,
        "UPDATE payment_order SET status = 'closed' WHERE request_id = $1 AND status = 'not_paid'",
        vec![app.id.clone().into()],
    )
    .await?;
    let out_trade_no = format!("TR{}{:06}", now.format("%Y%m%d%H%M%S"), super::random_below(1_000_000)?);
    let model = payment_order::Model {
        out_trade_no,
        request_id: app.id.clone(),
        provider: TRANSFER.into(),
        amount_fen: amount,
        code_url: String::new(),
        status: PaymentStatus::NotPaid.as_str().into(),
        transaction_id: None,
        created_at: now,
        // Transfers take days; finance decides, not a timer.
        expires_at: now + Duration::days(30),
        paid_at: None,
        queried_at: None,
    };
    let active: payment_order::ActiveModel = model.clone().into();
    payment_order::Entity::insert(active).exec(&txn).await?;
    txn.commit().await?;
    Ok(model)
}

/// 转账确认: one page of the transfers waiting for finance, the longest waiting first unless
/// asked otherwise; `q` is a trade number or what names the request
/// ([`matching`](super::request::matching)).
pub async fn pending_transfers(
    db: &impl ConnectionTrait,
    q: &TransferQuery,
) -> Result<Page<payment_order::Model>, AppError> {
    let mut errors = Vec::new();
    let ask = ListAsk::<TransferColumn>::parse(q, &[], &mut errors);
    refuse(errors)?;
    let mut find = payment_order::Entity::find()
        .filter(payment_order::Column::Provider.eq(TRANSFER))
        .filter(payment_order::Column::Status.eq(PaymentStatus::NotPaid.as_str()));
    if let Some(words) = &ask.q {
        find = find.filter(
            sea_orm::Condition::any()
                .add(payment_order::Column::OutTradeNo.eq(words.as_str()))
                .add(payment_order::Column::RequestId.in_subquery(super::request::ids_matching(words))),
        );
    }
    let column = match ask.sort.column {
        TransferColumn::CreatedAt => payment_order::Column::CreatedAt,
        TransferColumn::Amount => payment_order::Column::AmountFen,
        TransferColumn::TradeNo => payment_order::Column::OutTradeNo,
    };
    let (rows, total) = fetch(db, find, column, ask.order(), payment_order::Column::OutTradeNo, ask.paging).await?;
    Ok(ask.paging.page(rows, total))
}

/// Finance confirms the money arrived (once).
pub async fn confirm_transfer(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    actor: &str,
    out_trade_no: &str,
    ip: &str,
) -> Result<(), AppError> {
    let o = payment_order::Entity::find_by_id(out_trade_no.to_owned()).one(db).await?.ok_or(ErrorCode::NotFound)?;
    if o.provider != TRANSFER {
        return Err(ErrorCode::NotFound.into());
    }
    let result = TradeResult {
        out_trade_no: o.out_trade_no.clone(),
        transaction_id: Some(format!("transfer confirmed by {actor}")),
        trade_state: "SUCCESS".into(),
        amount_fen: o.amount_fen,
        currency: "CNY".into(),
    };
    // Paid, audited as received and as confirmed by this person, all together.
    let txn = crate::db::begin_write(db).await?;
    match record(&txn, key, &result, TRANSFER, "finance").await? {
        Recorded::Paid => {
            let detail = serde_json::json!({ "amount": o.amount_fen, "application": o.request_id });
            audit::append(
                &txn,
                key,
                Event { actor, action: "transfer_confirmed", subject: &o.out_trade_no, ip, detail },
            )
            .await?;
            txn.commit().await?;
            Ok(())
        }
        _ => Err(ErrorCode::NotEditable.into()),
    }
}

/// The settlement customers' approved applications of a month (`YYYY-MM`, Beijing time).
pub async fn statement(
    db: &impl ConnectionTrait,
    month: &str,
) -> Result<certdesk_shared::payment::Statement, AppError> {
    use chrono::{NaiveDate, TimeZone};
    let start = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").map_err(|_| ErrorCode::NotFound)?;
    let end = start.checked_add_months(chrono::Months::new(1)).ok_or(ErrorCode::NotFound)?;
    let cst = crate::BEIJING;
    let at = |d: NaiveDate| {
        cst.from_local_datetime(&d.and_time(chrono::NaiveTime::MIN)).single().map(|t| t.with_timezone(&Utc))
    };
    let (from, to) = (at(start).ok_or(ErrorCode::NotFound)?, at(end).ok_or(ErrorCode::NotFound)?);
    let apps = request::Entity::find()
        .filter(request::Column::BillingMode.eq(BillingMode::Settlement.as_str()))
        .filter(request::Column::Status.is_in([Status::Approved, Status::Issued, Status::Done]))
        .filter(request::Column::DecidedAt.gte(from))
        .filter(request::Column::DecidedAt.lt(to))
        .order_by_asc(request::Column::DecidedAt)
        .all(db)
        .await?;
    let mut lines = Vec::new();
    for a in apps {
        let account = crate::entity::account::Entity::find_by_id(a.account_id.clone()).one(db).await?;
        let type_name = match &a.type_id {
            Some(t) => crate::entity::catalogue_type::Entity::find_by_id(t.clone())
                .one(db)
                .await?
                .map(|t| t.name)
                .unwrap_or_default(),
            None => String::new(),
        };
        let org = a
            .certificate_info
            .as_deref()
            .and_then(|j| serde_json::from_str::<certdesk_shared::apply::CertificateInfo>(j).ok())
            .map(|i| i.holder.organisation().map_or_else(|| i.holder.common_name().to_owned(), |(o, _)| o.to_string()))
            .unwrap_or_default();
        lines.push(certdesk_shared::payment::StatementLine {
            account_id: a.account_id.clone(),
            mobile: account.map(|x| x.mobile).unwrap_or_default(),
            org_name: org,
            acceptance_no: a.acceptance_no.clone().unwrap_or_default(),
            certificate_type: type_name,
            amount_fen: a.price_fen.unwrap_or(0),
            approved_at: a.decided_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
        });
    }
    let total_fen = lines.iter().map(|l| l.amount_fen).sum();
    Ok(certdesk_shared::payment::Statement { month: month.to_owned(), lines, total_fen })
}
