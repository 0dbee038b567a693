//! ⑥ 扫码缴费 over HTTP: the ways offered, an application's QR order in the chosen way, its
//! status for the wizard's polling, and cancelling; WeChat Pay's notification endpoint
//! (answered in its protocol); transfers and statements. (Alipay's notification is
//! `http/alipay.rs`; the sandboxes' routes are `http/sandbox_wechatpay.rs`,
//! `payment/alipay_sandbox.rs` and `http/sms_sandbox.rs`.)

use super::errors::AppQuery;
use super::routes::{RouteEndpoint, routed};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use certdesk_shared::admin::MonthQuery;
use certdesk_shared::admin::{MAX_PER_PAGE, Page, PendingTransfer, TransferQuery};
use certdesk_shared::endpoint::{self, Endpoint as _};
use certdesk_shared::payment::{BankTransfer, PayWay, PaymentOrder, PaymentRequest, PaymentWays, Statement};
use certdesk_shared::{ErrorCode, ValidationError};
use chrono::Utc;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::AppJson;
use super::auth::{Allowed, CurrentUser, Finance};
use crate::domain::apply;
use crate::domain::payment::{self, NotifyRefused};
use crate::entity::{payment_order, request};
use crate::error::AppError;
use crate::payment::Notification;
use crate::state::AppState;
use certdesk_shared::Named;

pub fn router() -> Router<AppState> {
    Router::new()
        .endpoint(endpoint::PaymentStatus, status)
        .endpoint(endpoint::OrderPayment, order)
        .endpoint(endpoint::CancelPayment, cancel)
        .endpoint(endpoint::PaymentWays, ways)
        .route("/api/payments/wechat/notify", post(wechat_notify))
        .endpoint(endpoint::GetBankTransfer, transfer)
        .route(
            endpoint::UploadTransferVoucher::PATH,
            routed(endpoint::UploadTransferVoucher, transfer_voucher)
                .layer(axum::extract::DefaultBodyLimit::max(2 * certdesk_shared::apply::MAX_DOCUMENT_BYTES)),
        )
}

/// Finance (under `/api/admin`), merged behind the staff check in `admin::router`.
pub fn admin_router() -> Router<AppState> {
    Router::new()
        .endpoint(endpoint::PendingTransfers, pending_transfers)
        .endpoint(endpoint::TransferCsv, transfer_csv)
        .endpoint(endpoint::TransferVoucher, voucher)
        .endpoint(endpoint::ConfirmTransfer, confirm_transfer)
        .endpoint(endpoint::Statement, statement)
        .endpoint(endpoint::StatementCsv, statement_csv)
}

/// Our account and the amount; the voucher's order once there is one.
fn transfer_view(
    state: &AppState,
    application_id: &str,
    amount_fen: i64,
    o: Option<&crate::entity::payment_order::Model>,
    voucher_name: Option<String>,
) -> BankTransfer {
    BankTransfer {
        application_id: application_id.to_owned(),
        account_name: state.config.transfer_account_name.clone(),
        account_no: state.config.transfer_account_no.clone(),
        bank: state.config.transfer_bank.clone(),
        out_trade_no: o.map(|o| o.out_trade_no.clone()),
        amount_fen: o.map_or(amount_fen, |o| o.amount_fen),
        status: o.map(|o| {
            certdesk_shared::payment::PaymentStatus::parse(&o.status)
                .unwrap_or(certdesk_shared::payment::PaymentStatus::NotPaid)
        }),
        voucher_name,
    }
}

async fn transfer(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<BankTransfer>, AppError> {
    let app = apply::get(&state.db, &user.account_id, &id).await?;
    let amount = app.price_fen.ok_or(ErrorCode::StepMissing)?;
    let o = crate::entity::payment_order::Entity::find()
        .filter(crate::entity::payment_order::Column::RequestId.eq(app.id.clone()))
        .filter(crate::entity::payment_order::Column::Provider.eq(payment::TRANSFER))
        .order_by_desc(crate::entity::payment_order::Column::CreatedAt)
        .one(&state.db)
        .await?;
    let voucher = match &o {
        Some(_) => apply::stored_file(&state.db, &app.id, apply::VOUCHER_KIND).await.ok().map(|d| d.file_name),
        None => None,
    };
    Ok(Json(transfer_view(&state, &app.id, amount, o.as_ref(), voucher)))
}

async fn transfer_voucher(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<BankTransfer>, AppError> {
    let app = apply::get(&state.db, &user.account_id, &id).await?;
    let name = super::apply::upload_name(&headers);
    let o =
        payment::transfer_voucher(&state.db, &state.payments, &state.audit_key, &app, &name, body.to_vec(), Utc::now())
            .await?;
    let stored = apply::stored_file(&state.db, &app.id, apply::VOUCHER_KIND).await?;
    Ok(Json(transfer_view(&state, &app.id, o.amount_fen, Some(&o), Some(stored.file_name))))
}

/// A transfer as finance sees it: the request it pays, the payer and the voucher.
async fn pending_view(
    db: &impl sea_orm::ConnectionTrait,
    o: &payment_order::Model,
) -> Result<PendingTransfer, AppError> {
    let r = request::Entity::find_by_id(o.request_id.clone()).one(db).await?;
    let voucher = apply::stored_file(db, &o.request_id, apply::VOUCHER_KIND).await.ok().map(|d| d.file_name);
    Ok(PendingTransfer {
        out_trade_no: o.out_trade_no.clone(),
        application_id: o.request_id.clone(),
        acceptance_no: r.as_ref().and_then(|r| r.acceptance_no.clone()),
        payer: r.and_then(|r| r.search_name),
        amount_fen: o.amount_fen,
        created_at: o.created_at.to_rfc3339(),
        voucher_name: voucher,
    })
}

/// 转账确认: one page.
async fn pending_transfers(
    State(state): State<AppState>,
    _: Allowed<Finance>,
    AppQuery(q): AppQuery<TransferQuery>,
) -> Result<Json<Page<PendingTransfer>>, AppError> {
    let page = payment::pending_transfers(&state.db, &q).await?;
    let mut out = Vec::new();
    for o in &page.items {
        out.push(pending_view(&state.db, o).await?);
    }
    Ok(Json(page.with(out)))
}

/// 导出 CSV of 转账确认: every waiting transfer the filters match (all pages).
async fn transfer_csv(
    State(state): State<AppState>,
    who: Allowed<Finance>,
    AppQuery(q): AppQuery<TransferQuery>,
) -> Result<Response, AppError> {
    let first = TransferQuery { page: Some(1), per_page: Some(MAX_PER_PAGE), ..q.clone() };
    payment::pending_transfers(&state.db, &first).await?;
    super::csv::audited(&state, &who.user, "transfers_exported", &q).await?;
    let txn = super::csv::snapshot(&state.db).await?;
    let head = ["商户订单号", "受理号", "付款单位", "金额 (元)", "凭证上传时间 (UTC)", "凭证文件"];
    Ok(super::csv::download("transfers.csv", "转账确认.csv", &head, 1, move |n| {
        let (txn, q) = (txn.clone(), TransferQuery { page: Some(n), per_page: Some(MAX_PER_PAGE), ..q.clone() });
        async move {
            let page = payment::pending_transfers(&*txn, &q).await?;
            let mut rows = Vec::new();
            for o in &page.items {
                let v = pending_view(&*txn, o).await?;
                rows.push(vec![
                    v.out_trade_no,
                    v.acceptance_no.unwrap_or_default(),
                    v.payer.unwrap_or_default(),
                    certdesk_shared::apply::yuan(v.amount_fen),
                    super::csv::short_utc(&o.created_at),
                    v.voucher_name.unwrap_or_default(),
                ]);
            }
            Ok((rows, (n < page.pages()).then_some(n + 1)))
        }
    }))
}

async fn voucher(
    State(state): State<AppState>,
    _: Allowed<Finance>,
    Path(no): Path<String>,
) -> Result<Response, AppError> {
    let o = crate::entity::payment_order::Entity::find_by_id(no).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    let doc = apply::stored_file(&state.db, &o.request_id, apply::VOUCHER_KIND).await?;
    Ok(super::apply::file_response(doc))
}

async fn confirm_transfer(
    State(state): State<AppState>,
    who: Allowed<Finance>,
    Path(no): Path<String>,
) -> Result<StatusCode, AppError> {
    payment::confirm_transfer(&state.db, &state.audit_key, &who.user.actor(), &no, &who.user.meta.ip).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn statement(
    State(state): State<AppState>,
    _: Allowed<Finance>,
    Path(month): Path<String>,
) -> Result<Json<Statement>, AppError> {
    Ok(Json(payment::statement(&state.db, &month).await?))
}

/// 导出 CSV of a month's 月结对账单: one line per approved settlement request, then the total.
async fn statement_csv(
    State(state): State<AppState>,
    who: Allowed<Finance>,
    AppQuery(q): AppQuery<MonthQuery>,
) -> Result<Response, AppError> {
    // `yyyy-mm`, or a refusal of the field (the JSON statement's path answers 404 instead).
    if chrono::NaiveDate::parse_from_str(&format!("{}-01", q.month), "%Y-%m-%d").is_err() {
        let error = if q.month.is_empty() { ValidationError::Required } else { ValidationError::OutOfRange };
        return Err(AppError::field("month", error));
    }
    super::csv::audited(&state, &who.user, "statement_exported", &serde_json::json!({ "month": q.month })).await?;
    let s = payment::statement(&state.db, &q.month).await?;
    let head = ["账号", "单位名称", "受理号", "证书类型", "金额 (元)", "审核通过时间 (北京时间)"];
    let mut rows: Vec<Vec<String>> = s
        .lines
        .into_iter()
        .map(|l| {
            let approved = chrono::DateTime::parse_from_rfc3339(&l.approved_at)
                .map(|t| t.with_timezone(&crate::BEIJING).format("%Y-%m-%d %H:%M:%S").to_string())
                .unwrap_or(l.approved_at);
            vec![
                l.mobile,
                l.org_name,
                l.acceptance_no,
                l.certificate_type,
                certdesk_shared::apply::yuan(l.amount_fen),
                approved,
            ]
        })
        .collect();
    rows.push(vec![
        "合计".into(),
        String::new(),
        String::new(),
        String::new(),
        certdesk_shared::apply::yuan(s.total_fen),
        String::new(),
    ]);
    let file = format!("月结对账单{}.csv", s.month);
    let mut rows = Some(rows);
    Ok(super::csv::download("statement.csv", &file, &head, (), move |()| {
        let page = rows.take().unwrap_or_default();
        async move { Ok((page, None)) }
    }))
}

async fn ways(State(state): State<AppState>) -> Json<PaymentWays> {
    Json(PaymentWays { ways: state.payments.ways() })
}

async fn order(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    AppJson(req): AppJson<PaymentRequest>,
) -> Result<Json<PaymentOrder>, AppError> {
    let app = apply::get(&state.db, &user.account_id, &id).await?;
    let o = payment::order_for(&state.db, &state.payments, &state.audit_key, &app, req.way, Utc::now()).await?;
    Ok(Json(payment::view(&o)?))
}

async fn status(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<PaymentOrder>, AppError> {
    let app = apply::get(&state.db, &user.account_id, &id).await?;
    let o = payment::current(&state.db, &state.payments, &state.audit_key, &app, Utc::now())
        .await?
        .ok_or(ErrorCode::NotFound)?;
    Ok(Json(payment::view(&o)?))
}

async fn cancel(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let app = apply::get(&state.db, &user.account_id, &id).await?;
    payment::cancel(&state.db, &state.payments, &state.audit_key, &app).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// WeChat Pay's notification, answered as WeChat Pay expects: 204 when recorded (or
/// recorded before); otherwise 4xx/5xx with `{"code": "FAIL", "message"}`, and it retries.
async fn wechat_notify(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(provider) = state.payments.get(PayWay::Wechat) else {
        return fail(StatusCode::NOT_FOUND, "未开通微信支付");
    };
    let notification = Notification { headers, body: body.to_vec() };
    match payment::notified(&state.db, provider.as_ref(), &state.audit_key, &notification).await {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(NotifyRefused::Signature) => fail(StatusCode::UNAUTHORIZED, "签名错误"),
        Err(NotifyRefused::Order) => fail(StatusCode::BAD_REQUEST, "订单或金额不符"),
        // Not recorded now (the database is away, for one): 503, and WeChat Pay tries again.
        Err(NotifyRefused::Retry) => fail(StatusCode::SERVICE_UNAVAILABLE, "处理失败"),
    }
}

fn fail(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "code": "FAIL", "message": message }))).into_response()
}
