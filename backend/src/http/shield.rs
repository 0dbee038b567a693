//! The mobile shield (移动软盾) over HTTP, under `/api/shield`: the phone app's 远程下载, PIN
//! challenge and proof, 修改PIN码, 证书解锁, status, 证书更新(延期), and disabling a lost phone without
//! signing in. Thin handlers over `domain::mobile_shield`; no session (the phone proves
//! itself with its device key, the PIN and the SMS code). Disabling from 我的证书 is in
//! `my_certificates.rs`.

use super::routes::RouteEndpoint;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Json, Router};
use certdesk_shared::endpoint;
use certdesk_shared::shield::{
    PinOutcome, ShieldChallenge, ShieldChangePin, ShieldCodeSent, ShieldDevice, ShieldDisableByCode, ShieldEnrol,
    ShieldEnrolled, ShieldRenew, ShieldRenewFinish, ShieldRenewed, ShieldStatus, ShieldUnlock, ShieldUnseal,
};
use chrono::Utc;

use super::AppJson;
use super::auth::Client;
use crate::domain::mobile_shield;
use crate::error::AppError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .endpoint(endpoint::EnrolShield, enrol)
        .endpoint(endpoint::ShieldChallenge, challenge)
        .endpoint(endpoint::UnsealShield, unseal)
        .endpoint(endpoint::ChangeShieldPin, change_pin)
        .endpoint(endpoint::SendShieldUnlockCode, unlock_code)
        .endpoint(endpoint::UnlockShield, unlock)
        .endpoint(endpoint::ShieldStatus, status)
        .endpoint(endpoint::SendShieldDisableCode, disable_code)
        .endpoint(endpoint::DisableShieldByCode, disable_by_code)
        .endpoint(endpoint::RenewShield, renew)
        .endpoint(endpoint::FinishShieldRenewal, finish_renewal)
}

async fn renew(
    State(state): State<AppState>,
    Client(meta): Client,
    AppJson(req): AppJson<ShieldRenew>,
) -> Result<Json<ShieldRenewed>, AppError> {
    Ok(Json(mobile_shield::renew(&state.db, &state.ca, &state.audit_key, &req, &meta, Utc::now()).await?))
}

async fn finish_renewal(
    State(state): State<AppState>,
    Client(meta): Client,
    AppJson(req): AppJson<ShieldRenewFinish>,
) -> Result<Json<ShieldStatus>, AppError> {
    let (db, ca, key, notifier) = (&state.db, &state.ca, &state.audit_key, &state.notifier);
    Ok(Json(mobile_shield::finish_renewal(db, ca, key, notifier, &req, &meta, Utc::now()).await?))
}

async fn enrol(
    State(state): State<AppState>,
    Client(meta): Client,
    AppJson(req): AppJson<ShieldEnrol>,
) -> Result<Json<ShieldEnrolled>, AppError> {
    Ok(Json(mobile_shield::enrol(&state.db, &state.ca, &state.audit_key, &req, &meta, Utc::now()).await?))
}

async fn challenge(
    State(state): State<AppState>,
    Client(meta): Client,
    AppJson(req): AppJson<ShieldDevice>,
) -> Result<Json<ShieldChallenge>, AppError> {
    Ok(Json(mobile_shield::challenge(&state.db, &req, &meta, Utc::now()).await?))
}

async fn unseal(
    State(state): State<AppState>,
    Client(meta): Client,
    AppJson(req): AppJson<ShieldUnseal>,
) -> Result<Json<PinOutcome>, AppError> {
    Ok(Json(mobile_shield::unseal(&state.db, &state.audit_key, &req, &meta, Utc::now()).await?))
}

async fn change_pin(
    State(state): State<AppState>,
    Client(meta): Client,
    AppJson(req): AppJson<ShieldChangePin>,
) -> Result<Json<PinOutcome>, AppError> {
    Ok(Json(mobile_shield::change_pin(&state.db, &state.audit_key, &req, &meta, Utc::now()).await?))
}

async fn unlock_code(
    State(state): State<AppState>,
    Client(meta): Client,
    AppJson(req): AppJson<ShieldDevice>,
) -> Result<Json<ShieldCodeSent>, AppError> {
    let sent =
        mobile_shield::unlock_code(&state.db, &state.notifier, &state.audit_key, &req, &meta, Utc::now()).await?;
    Ok(Json(sent))
}

async fn unlock(
    State(state): State<AppState>,
    Client(meta): Client,
    AppJson(req): AppJson<ShieldUnlock>,
) -> Result<Json<ShieldStatus>, AppError> {
    Ok(Json(mobile_shield::unlock(&state.db, &state.audit_key, &req, &meta, Utc::now()).await?))
}

async fn status(
    State(state): State<AppState>,
    AppJson(req): AppJson<ShieldDevice>,
) -> Result<Json<ShieldStatus>, AppError> {
    Ok(Json(mobile_shield::status(&state.db, &req).await?))
}

async fn disable_code(
    State(state): State<AppState>,
    Client(meta): Client,
    AppJson(req): AppJson<ShieldDisableByCode>,
) -> Result<Json<ShieldCodeSent>, AppError> {
    let sent =
        mobile_shield::disable_code(&state.db, &state.notifier, &state.audit_key, &req, &meta, Utc::now()).await?;
    Ok(Json(sent))
}

async fn disable_by_code(
    State(state): State<AppState>,
    Client(meta): Client,
    AppJson(req): AppJson<ShieldDisableByCode>,
) -> Result<StatusCode, AppError> {
    mobile_shield::disable_by_code(&state.db, &state.audit_key, &req, &meta, Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
