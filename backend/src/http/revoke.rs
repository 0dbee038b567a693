//! 证书注销 over HTTP: thin handlers over `domain::revoke` (by challenge phrase, without a
//! session; by request of the signed-in holder) and `domain::staff_revocation` and
//! `domain::freeze` for staff (under `/api/admin`).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use certdesk_shared::directory::{CertificateDetail, SelfRevocation};
use certdesk_shared::freeze::StaffFreeze;
use certdesk_shared::request::RequestView;
use certdesk_shared::revoke::{
    RevocationOffer, StaffCertificateView, StaffRevocationDecision, StaffRevocationRequest, StaffRevocationView,
    StartRevocation, SubmitRevocation,
};
use chrono::Utc;
use serde::Deserialize;

use super::AppJson;
use super::auth::{Allowed, Client, CurrentUser, Revoke};
use crate::domain::{freeze, request, revoke, staff_revocation};
use crate::error::AppError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/public/certificates/{uid}/revoke", post(by_challenge_phrase))
        .route("/revoke/{uid}", get(offer).post(start))
        .route("/revoke/requests/{id}/submit", post(submit))
}

/// Staff: find a certificate, freeze and unfreeze it, ask for and decide revocations.
pub fn admin_router() -> Router<AppState> {
    Router::new()
        .route("/certificates", get(find_certificates))
        .route("/certificates/{uid}/freeze", post(staff_freeze))
        .route("/certificates/{uid}/unfreeze", post(staff_unfreeze))
        .route("/certificates/{uid}/revocations", post(ask))
        .route("/revocations", get(revocations))
        .route("/revocations/{id}/decision", post(decide))
}

async fn by_challenge_phrase(
    State(state): State<AppState>,
    Client(meta): Client,
    Path(uid): Path<String>,
    AppJson(r): AppJson<SelfRevocation>,
) -> Result<Json<CertificateDetail>, AppError> {
    let now = Utc::now();
    Ok(Json(
        revoke::by_challenge_phrase(&state.db, &state.counters, &state.ca, &state.audit_key, &uid, r, &meta, now)
            .await?,
    ))
}

async fn offer(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(uid): Path<String>,
) -> Result<Json<RevocationOffer>, AppError> {
    Ok(Json(revoke::offer(&state.db, &user.account_id, &uid, Utc::now()).await?))
}

async fn start(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(uid): Path<String>,
    AppJson(body): AppJson<StartRevocation>,
) -> Result<Json<RequestView>, AppError> {
    let r = revoke::start(&state.db, &user.account_id, &uid, &body, Utc::now()).await?;
    Ok(Json(request::view(&state.db, &r).await?))
}

async fn submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    AppJson(body): AppJson<SubmitRevocation>,
) -> Result<Json<RequestView>, AppError> {
    let r = revoke::submit(&state.db, &state.audit_key, &user.account_id, &id, &body, &user.meta, Utc::now()).await?;
    Ok(Json(request::view(&state.db, &r).await?))
}

#[derive(Deserialize)]
struct SerialQuery {
    #[serde(default)]
    serial: String,
}

async fn find_certificates(
    State(state): State<AppState>,
    who: Allowed<Revoke>,
    Query(q): Query<SerialQuery>,
) -> Result<Json<Vec<StaffCertificateView>>, AppError> {
    Ok(Json(staff_revocation::find_by_serial(&state.db, &who.user.staff, &q.serial, Utc::now()).await?))
}

async fn staff_freeze(
    State(state): State<AppState>,
    who: Allowed<Revoke>,
    Path(uid): Path<String>,
    AppJson(body): AppJson<StaffFreeze>,
) -> Result<StatusCode, AppError> {
    freeze::staff_freeze(&state.db, &state.ca, &state.audit_key, &who.user.staff, &uid, &body, &who.user.meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn staff_unfreeze(
    State(state): State<AppState>,
    who: Allowed<Revoke>,
    Path(uid): Path<String>,
    AppJson(body): AppJson<StaffFreeze>,
) -> Result<StatusCode, AppError> {
    freeze::staff_unfreeze(&state.db, &state.ca, &state.audit_key, &who.user.staff, &uid, &body, &who.user.meta)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn ask(
    State(state): State<AppState>,
    who: Allowed<Revoke>,
    Path(uid): Path<String>,
    AppJson(body): AppJson<StaffRevocationRequest>,
) -> Result<Json<StaffRevocationView>, AppError> {
    let u = &who.user;
    Ok(Json(staff_revocation::ask(&state.db, &state.audit_key, &u.staff, &uid, &body, &u.meta, Utc::now()).await?))
}

async fn revocations(
    State(state): State<AppState>,
    who: Allowed<Revoke>,
) -> Result<Json<Vec<StaffRevocationView>>, AppError> {
    Ok(Json(staff_revocation::list(&state.db, &who.user.staff).await?))
}

async fn decide(
    State(state): State<AppState>,
    who: Allowed<Revoke>,
    Path(id): Path<String>,
    AppJson(body): AppJson<StaffRevocationDecision>,
) -> Result<Json<StaffRevocationView>, AppError> {
    let u = &who.user;
    let now = Utc::now();
    Ok(Json(
        staff_revocation::decide(&state.db, &state.ca, &state.audit_key, &u.staff, &id, &body, &u.meta, now).await?,
    ))
}
