//! 证书延期: thin handlers over `domain::renew`, for the signed-in holder.

use super::routes::RouteEndpoint;
use axum::extract::{Path, State};
use axum::{Json, Router};
use certdesk_shared::apply::Issued;
use certdesk_shared::endpoint;
use certdesk_shared::renew::{RenewalCsr, RenewalOffer, StartRenewal};
use certdesk_shared::request::RequestView;
use chrono::Utc;

use super::AppJson;
use super::auth::CurrentUser;
use crate::domain::{renew, request};
use crate::error::AppError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .endpoint(endpoint::OfferRenewal, offer)
        .endpoint(endpoint::StartRenewal, start)
        .endpoint(endpoint::SubmitRenewal, submit)
        .endpoint(endpoint::IssueRenewal, issue)
        .endpoint(endpoint::FinishRenewal, finish)
}

async fn offer(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(uid): Path<String>,
) -> Result<Json<RenewalOffer>, AppError> {
    Ok(Json(renew::offer(&state.db, &user.account_id, &uid, Utc::now()).await?))
}

async fn start(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(uid): Path<String>,
    AppJson(body): AppJson<StartRenewal>,
) -> Result<Json<RequestView>, AppError> {
    let r = renew::start(&state.db, &state.audit_key, &user.account_id, &uid, &body, &user.meta, Utc::now()).await?;
    Ok(Json(request::view(&state.db, &r).await?))
}

async fn submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<RequestView>, AppError> {
    let r = renew::submit(&state.db, &state.audit_key, &user.account_id, &id, &user.meta, Utc::now()).await?;
    Ok(Json(request::view(&state.db, &r).await?))
}

async fn issue(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    AppJson(body): AppJson<RenewalCsr>,
) -> Result<Json<Issued>, AppError> {
    let cert =
        renew::issue(&state.db, &state.ca, &state.audit_key, &user.account_id, &id, &body, &user.meta, Utc::now())
            .await?;
    Ok(Json(super::apply::issued_answer(&state, &cert.der, cert.uid, cert.serial)?))
}

async fn finish(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<RequestView>, AppError> {
    let r = renew::finish(
        &state.db,
        &state.ca,
        &state.audit_key,
        &state.notifier,
        &user.account_id,
        &id,
        &user.meta,
        Utc::now(),
    )
    .await?;
    Ok(Json(request::view(&state.db, &r).await?))
}
