//! 客服 over HTTP (`/api/admin/customers…`, `/api/admin/requests/{id}/…`): thin handlers over
//! `domain::customer_service`, each behind [`ServeCustomers`].

use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use certdesk_shared::admin::{
    CustomerFile, CustomerQuery, CustomerSummary, DownloadCodeSent, NewRequestNote, Page, RequestNote,
};
use chrono::Utc;

use super::AppJson;
use super::auth::{Allowed, ServeCustomers};
use crate::domain::customer_service;
use crate::error::AppError;
use crate::state::AppState;

/// Staff routes, nested under `/api/admin` behind its staff check.
pub fn admin_router() -> Router<AppState> {
    Router::new()
        .route("/customers", get(search))
        .route("/customers/{id}", get(file))
        .route("/requests/{id}/notes", post(add_note))
        .route("/requests/{id}/download-code", post(resend_download_code))
}

async fn search(
    State(state): State<AppState>,
    who: Allowed<ServeCustomers>,
    Query(q): Query<CustomerQuery>,
) -> Result<Json<Page<CustomerSummary>>, AppError> {
    let u = &who.user;
    Ok(Json(customer_service::search(&state.db, &state.audit_key, &u.staff, &q, &u.meta).await?))
}

async fn file(
    State(state): State<AppState>,
    who: Allowed<ServeCustomers>,
    Path(id): Path<String>,
) -> Result<Json<CustomerFile>, AppError> {
    let u = &who.user;
    Ok(Json(customer_service::file(&state.db, &state.audit_key, &u.staff, &id, &u.meta, Utc::now()).await?))
}

async fn add_note(
    State(state): State<AppState>,
    who: Allowed<ServeCustomers>,
    Path(id): Path<String>,
    AppJson(body): AppJson<NewRequestNote>,
) -> Result<Json<RequestNote>, AppError> {
    let u = &who.user;
    Ok(Json(customer_service::add_note(&state.db, &state.audit_key, &u.staff, &id, &body, &u.meta, Utc::now()).await?))
}

async fn resend_download_code(
    State(state): State<AppState>,
    who: Allowed<ServeCustomers>,
    Path(id): Path<String>,
) -> Result<Json<DownloadCodeSent>, AppError> {
    let u = &who.user;
    let sent_to = customer_service::resend_download_code(
        &state.db,
        &state.audit_key,
        &state.notifier,
        &u.staff,
        &id,
        &u.meta,
        Utc::now(),
    )
    .await?;
    Ok(Json(DownloadCodeSent { sent_to }))
}
