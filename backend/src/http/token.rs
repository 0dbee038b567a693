//! Tokens over HTTP: the portal's unlock key (public) and 证书解锁's grant. Thin handlers
//! over `domain::token_unlock`.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use certdesk_shared::agent::{UnlockGrant, UnlockKey, UnlockToken};
use chrono::Utc;

use super::AppJson;
use super::auth::Client;
use crate::domain::token_unlock;
use crate::error::AppError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/tokens/unlock-key", get(unlock_key)).route("/tokens/unlock", post(unlock))
}

async fn unlock_key(State(state): State<AppState>) -> Result<Json<UnlockKey>, AppError> {
    Ok(Json(token_unlock::public_key(&state.audit_key).map_err(AppError::Internal)?))
}

async fn unlock(State(state): State<AppState>, Client(meta): Client, AppJson(req): AppJson<UnlockToken>) -> Result<Json<UnlockGrant>, AppError> {
    Ok(Json(token_unlock::grant(&state.db, &state.audit_key, &req, &meta, Utc::now()).await?))
}
