//! 证书注销 over HTTP: thin handlers over `domain::revoke` (by challenge phrase, without a
//! session; by request of the signed-in holder) and `domain::staff_revocation` and
//! `domain::freeze` for staff (under `/api/admin`).

use super::errors::AppQuery;
use super::routes::RouteEndpoint;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Json, Router};
use certdesk_shared::admin::SerialQuery;
use certdesk_shared::directory::{CertificateDetail, SelfRevocation};
use certdesk_shared::endpoint;
use certdesk_shared::freeze::StaffFreeze;
use certdesk_shared::request::RequestView;
use certdesk_shared::revoke::{
    RevocationOffer, StaffCertificateView, StaffRevocationDecision, StaffRevocationRequest, StaffRevocationView,
    StartRevocation, SubmitRevocation,
};
use chrono::Utc;

use super::AppJson;
use super::auth::{Allowed, Client, CurrentUser, Revoke};
use crate::domain::{freeze, request, revoke, staff_revocation};
use crate::error::AppError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .endpoint(endpoint::RevokeByChallengePhrase, by_challenge_phrase)
        .endpoint(endpoint::OfferRevocation, offer)
        .endpoint(endpoint::StartRevocation, start)
        .endpoint(endpoint::SubmitRevocation, submit)
}

/// Staff: find a certificate, freeze and unfreeze it, ask for and decide revocations.
pub fn admin_router() -> Router<AppState> {
    Router::new()
        .endpoint(endpoint::FindCertificates, find_certificates)
        .endpoint(endpoint::StaffFreeze, staff_freeze)
        .endpoint(endpoint::StaffUnfreeze, staff_unfreeze)
        .endpoint(endpoint::AskRevocation, ask)
        .endpoint(endpoint::ListRevocations, revocations)
        .endpoint(endpoint::DecideRevocation, decide)
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

async fn find_certificates(
    State(state): State<AppState>,
    who: Allowed<Revoke>,
    AppQuery(q): AppQuery<SerialQuery>,
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
