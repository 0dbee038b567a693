//! 证书校验 over HTTP: the challenge the token signs, and the report. Thin handlers over
//! `domain::verify`; no session.

use super::routes::RouteEndpoint;
use axum::extract::State;
use axum::{Json, Router};
use certdesk_shared::account::CertificateChallenge;
use certdesk_shared::directory::{VerificationReport, VerifyCertificate};
use certdesk_shared::endpoint;
use chrono::Utc;

use super::AppJson;
use super::auth::Client;
use crate::domain::verify;
use crate::error::AppError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().endpoint(endpoint::StartVerification, start).endpoint(endpoint::VerifyCertificate, report)
}

async fn start(State(state): State<AppState>, Client(meta): Client) -> Result<Json<CertificateChallenge>, AppError> {
    let (challenge_id, challenge) = verify::start(&state.db, &meta, Utc::now()).await?;
    Ok(Json(CertificateChallenge { challenge_id, challenge }))
}

async fn report(
    State(state): State<AppState>,
    Client(meta): Client,
    AppJson(req): AppJson<VerifyCertificate>,
) -> Result<Json<VerificationReport>, AppError> {
    // Each verification signs an OCSP answer: a public lookup, counted per address.
    crate::domain::directory::count_lookup(&state.counters, &meta.ip, Utc::now()).await?;
    Ok(Json(verify::verify(&state.db, &state.ca, &req, Utc::now()).await?))
}
