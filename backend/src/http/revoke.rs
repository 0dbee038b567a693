//! 证书撤销 by challenge phrase over HTTP (no session): a thin handler over
//! `domain::revoke`.

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use certdesk_shared::directory::{CertificateDetail, SelfRevocation};
use chrono::Utc;

use super::AppJson;
use super::auth::Client;
use crate::domain::revoke;
use crate::error::AppError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/public/certificates/{uid}/revoke", post(by_challenge_phrase))
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
