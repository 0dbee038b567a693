//! Alipay's asynchronous notification (`POST /api/payments/alipay/notify`): a form body the
//! provider verifies, recorded once by `domain::payment::notified`. Answered as Alipay
//! requires: the plain text `success` when recorded (or recorded before), else `fail`, which
//! makes Alipay send it again.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use axum::routing::post;

use crate::domain::payment;
use crate::payment::Notification;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/payments/alipay/notify", post(notify))
}

async fn notify(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> impl IntoResponse {
    let notification = Notification { headers, body: body.to_vec() };
    let answer = match &state.alipay {
        Some(alipay) => match payment::notified(&state.db, alipay.as_ref(), &state.audit_key, &notification).await {
            Ok(_) => "success",
            Err(_) => "fail",
        },
        None => "fail",
    };
    ([(header::CONTENT_TYPE, "text/plain;charset=utf-8")], answer)
}
