//! Tokens over HTTP: the portal's unlock key (public), 证书解锁's challenge and grant, and
//! 证书校验. Thin
//! handlers over `domain::token_unlock` and `domain::verification`.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use certdesk_shared::account::CertificateChallenge;
use certdesk_shared::agent::{UnlockChallenge, UnlockGrant, UnlockKey, UnlockToken};
use certdesk_shared::directory::{VerificationReport, VerifyCertificate};
use chrono::Utc;

use super::AppJson;
use super::auth::Client;
use crate::domain::{token_unlock, verification};
use crate::error::AppError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tokens/unlock-key", get(unlock_key))
        .route("/tokens/unlock/start", post(start_unlock))
        .route("/tokens/unlock", post(unlock))
        .route("/verification/start", post(start_verification))
        .route("/verification", post(verify))
}

async fn start_verification(
    State(state): State<AppState>,
    Client(meta): Client,
) -> Result<Json<CertificateChallenge>, AppError> {
    let (challenge_id, challenge) = verification::start(&state.db, &meta, Utc::now()).await?;
    Ok(Json(CertificateChallenge { challenge_id, challenge }))
}

async fn verify(
    State(state): State<AppState>,
    Client(meta): Client,
    AppJson(req): AppJson<VerifyCertificate>,
) -> Result<Json<VerificationReport>, AppError> {
    // Each verification signs an OCSP answer: a public lookup, counted per address.
    crate::domain::directory::count_lookup(&state.counters, &meta.ip, Utc::now()).await?;
    Ok(Json(verification::verify(&state.db, &state.ca, &req, Utc::now()).await?))
}

async fn unlock_key(State(state): State<AppState>) -> Result<Json<UnlockKey>, AppError> {
    Ok(Json(token_unlock::public_key(&state.audit_key).map_err(AppError::Internal)?))
}

async fn start_unlock(State(state): State<AppState>, Client(meta): Client) -> Result<Json<UnlockChallenge>, AppError> {
    Ok(Json(token_unlock::start(&state.db, &state.audit_key, &meta, Utc::now()).await?))
}

async fn unlock(
    State(state): State<AppState>,
    Client(meta): Client,
    AppJson(req): AppJson<UnlockToken>,
) -> Result<Json<UnlockGrant>, AppError> {
    Ok(Json(token_unlock::grant(&state.db, &state.audit_key, &req, &meta, Utc::now()).await?))
}
