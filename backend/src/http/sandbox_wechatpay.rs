//! The WeChat Pay sandbox over HTTP (`/sandbox/wechatpay`, outside `/api`): Native API v3 as
//! WeChat Pay answers it (signed answers, its error bodies and status codes), and the pay page
//! a phone opens after scanning. Served only where the sandbox runs (`--dev` or `--staging`
//! with `CERTDESK_PAYMENT_SANDBOX`); elsewhere every path is 404.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Utc;

use crate::payment::escape;
use crate::payment::wechat_sandbox::{PREFIX, WechatSandbox, WxError};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(&format!("{PREFIX}/v3/pay/transactions/native"), post(native))
        .route(&format!("{PREFIX}/v3/pay/transactions/out-trade-no/{{no}}"), get(query))
        .route(&format!("{PREFIX}/v3/pay/transactions/out-trade-no/{{no}}/close"), post(close))
        .route(&format!("{PREFIX}/pay/{{token}}"), get(pay_page))
        .route(&format!("{PREFIX}/pay/{{token}}/confirm"), post(confirm))
}

/// An answer signed with the platform key, as every WeChat Pay answer is.
async fn signed(sandbox: &WechatSandbox, status: StatusCode, body: Vec<u8>) -> Response {
    let headers = match sandbox.sign_answer(&body).await {
        Ok(h) => h,
        Err(e) => {
            tracing::error!(error = %e, "the WeChat Pay sandbox cannot sign");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let json = !body.is_empty();
    let mut res = (status, body).into_response();
    if json {
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    for (name, value) in headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            res.headers_mut().insert(name, v);
        }
    }
    res
}

async fn error(sandbox: &WechatSandbox, e: WxError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::json!({ "code": e.code, "message": e.message }).to_string().into_bytes();
    signed(sandbox, status, body).await
}

/// Checks the merchant's signature over the request as it arrived.
async fn checked(
    sandbox: &WechatSandbox,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), WxError> {
    let canonical = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("");
    sandbox.check_request(method.as_str(), canonical, authorization, body).await
}

async fn native(State(state): State<AppState>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let Some(s) = state.wechat_sandbox.clone() else { return StatusCode::NOT_FOUND.into_response() };
    let result = match checked(&s, &method, &uri, &headers, &body).await {
        Ok(()) => s.create_native(&body).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(v) => signed(&s, StatusCode::OK, v.to_string().into_bytes()).await,
        Err(e) => error(&s, e).await,
    }
}

#[derive(serde::Deserialize)]
struct MchidQuery {
    mchid: Option<String>,
}

async fn query(
    State(state): State<AppState>,
    Path(no): Path<String>,
    Query(q): Query<MchidQuery>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let Some(s) = state.wechat_sandbox.clone() else { return StatusCode::NOT_FOUND.into_response() };
    let result = match checked(&s, &method, &uri, &headers, b"").await {
        Ok(()) => s.query(&no, q.mchid.as_deref()).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(v) => signed(&s, StatusCode::OK, v.to_string().into_bytes()).await,
        Err(e) => error(&s, e).await,
    }
}

async fn close(
    State(state): State<AppState>,
    Path(no): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(s) = state.wechat_sandbox.clone() else { return StatusCode::NOT_FOUND.into_response() };
    let result = match checked(&s, &method, &uri, &headers, &body).await {
        Ok(()) => s.close(&no, &body).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => signed(&s, StatusCode::NO_CONTENT, Vec::new()).await,
        Err(e) => error(&s, e).await,
    }
}

fn page(title: &str, body: &str) -> Html<String> {
    crate::payment::sandbox_page("微信支付", title, body)
}

async fn pay_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let Some(s) = state.wechat_sandbox.clone() else { return StatusCode::NOT_FOUND.into_response() };
    match s.trade(&token).await {
        Ok(t) => {
            let expired = t.expires_at <= Utc::now();
            let action = match (t.state.as_str(), expired) {
                ("NOTPAY", false) => format!(
                    "<form method=\"post\" action=\"{PREFIX}/pay/{}/confirm\"><button type=\"submit\" style=\"font-size:1.2rem;padding:.6rem 2rem\">确认支付</button></form>",
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
    let Some(s) = state.wechat_sandbox.clone() else { return StatusCode::NOT_FOUND.into_response() };
    match s.confirm(&token).await {
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
