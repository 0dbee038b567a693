//! 我的证书 over HTTP: the signed-in account's certificates, under `/api/my-certificates`.
//! Thin handlers over `domain::my_certificates`; the files themselves are the CA's public
//! downloads (`/api/certificates/{uid}.pem`, `.der`, `.p7b` in `ca.rs`).

use super::routes::RouteEndpoint;
use axum::extract::{Path, State};
use axum::{Json, Router};
use certdesk_shared::endpoint;
use certdesk_shared::freeze::Unfreeze;
use certdesk_shared::my_certificates::{CertificateCodeRequest, CertificateCodeSent, MyCertificate};
use chrono::Utc;

use super::AppJson;
use super::auth::CurrentUser;
use crate::domain::{codes, freeze as holder_freeze, mobile_shield, my_certificates};
use crate::error::AppError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .endpoint(endpoint::ListMyCertificates, list)
        .endpoint(endpoint::GetMyCertificate, one)
        .endpoint(endpoint::SendCertificateCode, send_code)
        .endpoint(endpoint::Freeze, freeze)
        .endpoint(endpoint::Unfreeze, unfreeze)
        .endpoint(endpoint::DisableShield, disable_shield)
}

async fn list(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Vec<MyCertificate>>, AppError> {
    Ok(Json(my_certificates::list(&state.db, &user.account_id, Utc::now()).await?))
}

/// Another account's certificate is not found.
async fn one(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(uid): Path<String>,
) -> Result<Json<MyCertificate>, AppError> {
    Ok(Json(my_certificates::one(&state.db, &user.account_id, &uid, Utc::now()).await?))
}

/// An SMS code to the certificate's phone of record (证书注销, 证书补办, 解冻).
async fn send_code(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(uid): Path<String>,
    AppJson(body): AppJson<CertificateCodeRequest>,
) -> Result<Json<CertificateCodeSent>, AppError> {
    let sent = codes::send_to_record(
        &state.db,
        &state.notifier,
        &state.audit_key,
        &user.account_id,
        &uid,
        body.purpose,
        &user.meta,
        Utc::now(),
    )
    .await?;
    Ok(Json(sent))
}

/// 冻结, at once.
async fn freeze(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(uid): Path<String>,
) -> Result<Json<MyCertificate>, AppError> {
    let c =
        holder_freeze::freeze(&state.db, &state.ca, &state.audit_key, &user.account_id, &uid, &user.meta, Utc::now())
            .await?;
    Ok(Json(c))
}

/// 解冻, with the code sent to the phone of record.
async fn unfreeze(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(uid): Path<String>,
    AppJson(body): AppJson<Unfreeze>,
) -> Result<Json<MyCertificate>, AppError> {
    let now = Utc::now();
    let c =
        holder_freeze::unfreeze(&state.db, &state.ca, &state.audit_key, &user.account_id, &uid, &body, &user.meta, now)
            .await?;
    Ok(Json(c))
}

/// The lost phone: the certificate's mobile shield is disabled for good.
async fn disable_shield(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(uid): Path<String>,
) -> Result<Json<MyCertificate>, AppError> {
    let c = mobile_shield::disable(&state.db, &state.audit_key, &user.account_id, &uid, &user.meta, Utc::now()).await?;
    Ok(Json(c))
}
