//! APP扫码登录 over HTTP, under `/api/qr-login`: the desktop's QR code and its poll (bound to
//! the browser by a cookie), the phone's scan and approval. Thin handlers over
//! `domain::qr_login`; the poll that collects an approval starts the session the way every
//! sign-in does (`account::start_session`).

use super::routes::RouteEndpoint;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use certdesk_shared::endpoint;
use certdesk_shared::shield::{QrLoginApprove, QrLoginPoll, QrLoginScan, QrLoginScanned, QrLoginStatus};
use chrono::Utc;

use super::AppJson;
use super::account::start_session;
use super::auth::{Client, cookie};
use crate::domain::qr_login::{self, Polled};
use crate::domain::session::Kind;
use crate::error::AppError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .endpoint(endpoint::ShowQrLogin, show)
        .endpoint(endpoint::ScanQrLogin, scan)
        .endpoint(endpoint::ApproveQrLogin, approve)
        .endpoint(endpoint::PollQrLogin, poll)
}

/// The binding cookie's name. Outside dev mode the `__Host-` prefix makes the browser insist
/// on Secure, Path=/ and no Domain (as `auth::cookie_name`).
pub fn cookie_name(dev: bool) -> &'static str {
    if dev { "certdesk-qr" } else { "__Host-certdesk-qr" }
}

fn set_cookie(dev: bool, value: &str) -> HeaderValue {
    super::auth::set_cookie_header(&super::auth::strict_cookie(cookie_name(dev), value.to_owned(), dev))
}

async fn show(State(state): State<AppState>, Client(meta): Client) -> Result<Response, AppError> {
    let shown = qr_login::show(&state.db, &state.audit_key, &meta, Utc::now()).await?;
    let mut res = Json(shown.shown).into_response();
    res.headers_mut().insert(header::SET_COOKIE, set_cookie(state.config.dev, &shown.cookie));
    Ok(res)
}

async fn poll(
    State(state): State<AppState>,
    headers: HeaderMap,
    Client(meta): Client,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let bound = cookie(&headers, cookie_name(state.config.dev));
    match qr_login::poll(&state.db, &state.audit_key, &id, bound, &meta, Utc::now()).await? {
        Polled::Status(status) => Ok(Json(QrLoginPoll { status }).into_response()),
        Polled::SignIn(a) => {
            let signed_in = |_csrf| QrLoginPoll { status: QrLoginStatus::SignedIn };
            start_session(&state, &headers, Kind::Customer, &a.id, "qr_login", &meta, signed_in).await
        }
    }
}

async fn scan(
    State(state): State<AppState>,
    Client(meta): Client,
    AppJson(req): AppJson<QrLoginScan>,
) -> Result<Json<QrLoginScanned>, AppError> {
    Ok(Json(qr_login::scan(&state.db, &state.audit_key, &req, &meta, Utc::now()).await?))
}

async fn approve(
    State(state): State<AppState>,
    Client(meta): Client,
    AppJson(req): AppJson<QrLoginApprove>,
) -> Result<StatusCode, AppError> {
    let origin = qr_login::origin(&state.config.public_url);
    qr_login::approve(&state.db, &state.audit_key, &state.ca, &origin, &req, &meta, Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
