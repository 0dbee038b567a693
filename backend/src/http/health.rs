//! `GET /api/health`.

use super::routes::RouteEndpoint;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Json, Router};
use certdesk_shared::endpoint;
use certdesk_shared::health::{Health, HealthStatus};

use crate::domain;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().endpoint(endpoint::Health, health)
}

async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let health = domain::health::check(&state.db, state.config.staging).await;
    let status = match health.status {
        HealthStatus::Ok => StatusCode::OK,
        HealthStatus::Degraded => StatusCode::SERVICE_UNAVAILABLE,
    };
    (status, Json(health))
}
