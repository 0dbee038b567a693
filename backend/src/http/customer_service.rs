//! 客服 over HTTP (`/api/admin/customers…`, `/api/admin/requests/{id}/…`): thin handlers over
//! `domain::customer_service`, each behind [`ServeCustomers`].

use super::errors::AppQuery;
use super::routes::RouteEndpoint;
use axum::extract::{Path, State};
use axum::{Json, Router};
use certdesk_shared::admin::{
    CustomerFile, CustomerQuery, CustomerSummary, DownloadCodeSent, NewRequestNote, Page, RequestNote,
};
use certdesk_shared::endpoint;
use chrono::Utc;

use super::AppJson;
use super::auth::{Allowed, ServeCustomers};
use crate::domain::customer_service;
use crate::error::AppError;
use crate::state::AppState;

/// Staff routes (under `/api/admin`), merged behind the staff check in `admin::router`.
pub fn admin_router() -> Router<AppState> {
    Router::new()
        .endpoint(endpoint::SearchCustomers, search)
        .endpoint(endpoint::GetCustomerFile, file)
        .endpoint(endpoint::AddRequestNote, add_note)
        .endpoint(endpoint::ResendDownloadCode, resend_download_code)
}

async fn search(
    State(state): State<AppState>,
    who: Allowed<ServeCustomers>,
    AppQuery(q): AppQuery<CustomerQuery>,
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
