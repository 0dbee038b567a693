//! ⑥ 扫码缴费 over HTTP: an application's QR order, its status for the wizard's polling, and
//! cancelling; the provider's notification endpoint (answered in the provider's protocol);
//! and the sandbox provider's pay page, the page a phone opens after scanning.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use certdesk_shared::ErrorCode;
use certdesk_shared::payment::{BankTransfer, PaymentOrder, Statement};
use chrono::Utc;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::auth::{Allowed, CurrentUser, Finance};
use crate::domain::apply;
use crate::domain::payment::{self, NotifyRefused};
use crate::error::AppError;
use crate::payment::Notification;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/applications/{id}/payment", get(status).post(order).delete(cancel))
        .route("/payments/notify", post(notify))
        .route("/applications/{id}/transfer", get(transfer))
        .route(
            "/applications/{id}/transfer-voucher",
            axum::routing::put(transfer_voucher)
                .layer(axum::extract::DefaultBodyLimit::max(2 * certdesk_shared::apply::MAX_DOCUMENT_BYTES)),
        )
}

/// Finance, nested under `/api/admin`.
pub fn admin_router() -> Router<AppState> {
    Router::new()
        .route("/transfers", get(pending_transfers))
        .route("/transfers/{no}/voucher", get(voucher))
        .route("/transfers/{no}/confirm", post(confirm_transfer))
        .route("/statements/{month}", get(statement))
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

fn order_view(state: &AppState, o: &crate::entity::payment_order::Model) -> BankTransfer {
    transfer_view(state, &o.request_id, o.amount_fen, Some(o), None)
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
    let o = payment::transfer_voucher(
        &state.db,
        state.payments.as_ref(),
        &state.audit_key,
        &app,
        &name,
        body.to_vec(),
        Utc::now(),
    )
    .await?;
    let stored = apply::stored_file(&state.db, &app.id, apply::VOUCHER_KIND).await?;
    Ok(Json(transfer_view(&state, &app.id, o.amount_fen, Some(&o), Some(stored.file_name))))
}

async fn pending_transfers(
    State(state): State<AppState>,
    _: Allowed<Finance>,
) -> Result<Json<Vec<BankTransfer>>, AppError> {
    Ok(Json(payment::pending_transfers(&state.db).await?.iter().map(|o| order_view(&state, o)).collect()))
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

/// Outside `/api`: the sandbox provider's pages.
pub fn sandbox_router() -> Router<AppState> {
    Router::new().route("/sandbox/pay/{token}", get(pay_page)).route("/sandbox/pay/{token}/confirm", post(confirm))
}

async fn order(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<PaymentOrder>, AppError> {
    let app = apply::get(&state.db, &user.account_id, &id).await?;
    let o = payment::order_for(&state.db, state.payments.as_ref(), &state.audit_key, &app, Utc::now()).await?;
    Ok(Json(payment::view(&o)?))
}

async fn status(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<PaymentOrder>, AppError> {
    let app = apply::get(&state.db, &user.account_id, &id).await?;
    let o = payment::current(&state.db, state.payments.as_ref(), &state.audit_key, &app, Utc::now())
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
    payment::cancel(&state.db, state.payments.as_ref(), &app).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The provider's notification. Answers as WeChat Pay expects: 200 `SUCCESS` when recorded
/// (or recorded before), 4xx/5xx `FAIL` otherwise, which makes the provider retry.
async fn notify(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let notification = Notification { headers, body: body.to_vec() };
    let (status, message) =
        match payment::notified(&state.db, state.payments.as_ref(), &state.audit_key, &notification).await {
            Ok(_) => (StatusCode::OK, None),
            Err(NotifyRefused::Signature) => (StatusCode::UNAUTHORIZED, Some("签名错误")),
            Err(NotifyRefused::Order) => (StatusCode::BAD_REQUEST, Some("订单或金额不符")),
            Err(NotifyRefused::Retry) => (StatusCode::INTERNAL_SERVER_ERROR, Some("处理失败")),
        };
    let body = match message {
        None => serde_json::json!({ "code": "SUCCESS" }),
        Some(m) => serde_json::json!({ "code": "FAIL", "message": m }),
    };
    (status, Json(body)).into_response()
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title></head><body style=\"font-family:sans-serif;max-width:26rem;margin:2rem auto;padding:0 1rem\">\
         <p style=\"color:#777\">CertDesk 支付沙箱（模拟手机扫码后打开的付款页，不会产生真实扣款）</p>{body}</body></html>"
    ))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

async fn pay_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    if !state.config.payment_sandbox {
        return StatusCode::NOT_FOUND.into_response();
    }
    match state.sandbox_pay.trade(&token).await {
        Ok(t) => {
            let expired = t.expires_at <= Utc::now();
            let action = match (t.state.as_str(), expired) {
                ("NOTPAY", false) => format!(
                    "<form method=\"post\" action=\"/sandbox/pay/{}/confirm\"><button type=\"submit\" style=\"font-size:1.2rem;padding:.6rem 2rem\">确认支付</button></form>",
                    escape(&token)
                ),
                ("SUCCESS", _) => "<p role=\"status\">已支付</p>".into(),
                ("NOTPAY", true) => "<p role=\"status\">订单已过期</p>".into(),
                _ => "<p role=\"status\">订单已关闭</p>".into(),
            };
            page(
                "确认付款",
                &format!(
                    "<h1>确认付款</h1><p>{}</p><p>金额：<strong>¥{}</strong></p><p>订单号：{}</p>{action}",
                    escape(&t.description),
                    certdesk_shared::apply::yuan(t.amount_fen),
                    escape(&t.out_trade_no)
                ),
            )
            .into_response()
        }
        Err(_) => (StatusCode::NOT_FOUND, page("订单不存在", "<h1>订单不存在</h1>")).into_response(),
    }
}

async fn confirm(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    if !state.config.payment_sandbox {
        return StatusCode::NOT_FOUND.into_response();
    }
    match state.sandbox_pay.confirm(&token).await {
        Ok(t) => page(
            "支付成功",
            &format!(
                "<h1 role=\"status\">支付成功</h1><p>¥{}</p><p>请回到电脑上的申请页面，页面会自动进入下一步。</p>",
                certdesk_shared::apply::yuan(t.amount_fen)
            ),
        )
        .into_response(),
        Err(e) => {
            (StatusCode::CONFLICT, page("无法支付", &format!("<h1>无法支付</h1><p>{}</p>", escape(&e.to_string()))))
                .into_response()
        }
    }
}
