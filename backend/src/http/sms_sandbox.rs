//! The SMS sandbox's wire endpoint: Alibaba Cloud's `SendSms` (RPC style, GET with a query or
//! POST with a form) at `/sandbox/aliyun-sms/`, mounted only on a server that serves the
//! sandbox (`Notifier::sms_sandbox`). It answers as the vendor does: `200` with
//! `{"Code":"OK","Message":"OK","BizId":…,"RequestId":…}`, `200` with an `isv.*` code for a
//! business refusal, `400`/`404` for a request that does not authenticate.

use std::collections::BTreeMap;

use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use serde_json::json;

use crate::notify::SmsError;
use crate::state::AppState;

/// The endpoint, on a server that serves the SMS sandbox; nothing elsewhere.
pub fn router(state: &AppState) -> Router<AppState> {
    if state.notifier.sms_sandbox.is_none() {
        return Router::new();
    }
    Router::new().route("/sandbox/aliyun-sms/", get(by_query).post(by_form))
}

async fn by_query(State(state): State<AppState>, Query(params): Query<BTreeMap<String, String>>) -> Response {
    send_sms(&state, "GET", params).await
}

async fn by_form(State(state): State<AppState>, Form(params): Form<BTreeMap<String, String>>) -> Response {
    send_sms(&state, "POST", params).await
}

async fn send_sms(state: &AppState, method: &str, params: BTreeMap<String, String>) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string().to_uppercase();
    let Some(sandbox) = &state.notifier.sms_sandbox else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match sandbox.receive(method, params, Utc::now()).await {
        Ok(biz_id) => {
            Json(json!({ "Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": request_id })).into_response()
        }
        Err(e) => {
            let status = match e {
                SmsError::AccessKeyIdNotFound => StatusCode::NOT_FOUND,
                SmsError::SignatureDoesNotMatch
                | SmsError::SignatureNonceUsed
                | SmsError::TimestampExpired
                | SmsError::Other { .. } => StatusCode::BAD_REQUEST,
                SmsError::System(_) => StatusCode::INTERNAL_SERVER_ERROR,
                _ => StatusCode::OK,
            };
            if status == StatusCode::INTERNAL_SERVER_ERROR {
                tracing::error!(error = %e, "the SMS sandbox failed");
            }
            let mut body = json!({ "Code": e.code(), "Message": e.message(), "RequestId": request_id });
            if status != StatusCode::OK {
                body["HostId"] = json!("dysmsapi.aliyuncs.com");
            }
            (status, Json(body)).into_response()
        }
    }
}
