//! 证书解锁 over HTTP: the portal's unlock key (public), the one-time challenge and the
//! grant. Thin handlers over `domain::unlock`; no session.

use super::routes::RouteEndpoint;
use axum::extract::State;
use axum::{Json, Router};
use certdesk_shared::agent::{UnlockChallenge, UnlockGrant, UnlockKey, UnlockToken};
use certdesk_shared::endpoint;
use chrono::Utc;

use super::AppJson;
use super::auth::Client;
use crate::domain::unlock;
use crate::error::AppError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .endpoint(endpoint::GetUnlockKey, unlock_key)
        .endpoint(endpoint::StartTokenUnlock, start)
        .endpoint(endpoint::GrantTokenUnlock, grant)
}

async fn unlock_key(State(state): State<AppState>) -> Result<Json<UnlockKey>, AppError> {
    Ok(Json(unlock::public_key(&state.audit_key).map_err(AppError::Internal)?))
}

async fn start(State(state): State<AppState>, Client(meta): Client) -> Result<Json<UnlockChallenge>, AppError> {
    Ok(Json(unlock::start(&state.db, &state.audit_key, &meta, Utc::now()).await?))
}

async fn grant(
    State(state): State<AppState>,
    Client(meta): Client,
    AppJson(req): AppJson<UnlockToken>,
) -> Result<Json<UnlockGrant>, AppError> {
    Ok(Json(unlock::grant(&state.db, &state.audit_key, &req, &meta, Utc::now()).await?))
}
