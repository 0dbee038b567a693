//! 证书变更 and 经办人变更: thin handlers over `domain::change`, for the signed-in holder.
//! Documents go through the wizard's upload (`/api/applications/{id}/documents/{kind}`).

use super::routes::RouteEndpoint;
use axum::extract::{Path, State};
use axum::{Json, Router};
use certdesk_shared::apply::{Holder, Issued, OperatorInfo};
use certdesk_shared::change::{ChangeOffer, StartChange};
use certdesk_shared::endpoint;
use certdesk_shared::renew::RenewalCsr;
use certdesk_shared::request::RequestView;
use chrono::Utc;

use super::AppJson;
use super::auth::CurrentUser;
use crate::domain::{change, request};
use crate::error::AppError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .endpoint(endpoint::OfferChange, offer)
        .endpoint(endpoint::StartChange, start)
        .endpoint(endpoint::SaveChangeHolder, holder)
        .endpoint(endpoint::SaveChangeOperator, operator)
        .endpoint(endpoint::SubmitChange, submit)
        .endpoint(endpoint::WithdrawChange, withdraw)
        .endpoint(endpoint::IssueChange, issue)
        .endpoint(endpoint::FinishChange, finish)
}

async fn offer(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(uid): Path<String>,
) -> Result<Json<ChangeOffer>, AppError> {
    Ok(Json(change::offer(&state.db, &user.account_id, &uid, Utc::now()).await?))
}

async fn start(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(uid): Path<String>,
    AppJson(body): AppJson<StartChange>,
) -> Result<Json<RequestView>, AppError> {
    let r = change::start(&state.db, &user.account_id, &uid, body.kind, Utc::now()).await?;
    Ok(Json(request::view(&state.db, &r).await?))
}

async fn holder(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    AppJson(body): AppJson<Holder>,
) -> Result<Json<RequestView>, AppError> {
    let r = change::save_holder(&state.db, &user.account_id, &id, body, Utc::now()).await?;
    Ok(Json(request::view(&state.db, &r).await?))
}

async fn operator(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    AppJson(body): AppJson<OperatorInfo>,
) -> Result<Json<RequestView>, AppError> {
    let r = change::save_operator(&state.db, &user.account_id, &id, body, Utc::now()).await?;
    Ok(Json(request::view(&state.db, &r).await?))
}

async fn submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<RequestView>, AppError> {
    let r = change::submit(&state.db, &state.audit_key, &user.account_id, &id, &user.meta, Utc::now()).await?;
    Ok(Json(request::view(&state.db, &r).await?))
}

async fn withdraw(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<RequestView>, AppError> {
    let r = change::withdraw(&state.db, &state.audit_key, &user.account_id, &id, &user.meta, Utc::now()).await?;
    Ok(Json(request::view(&state.db, &r).await?))
}

async fn issue(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    AppJson(body): AppJson<RenewalCsr>,
) -> Result<Json<Issued>, AppError> {
    let cert =
        change::issue(&state.db, &state.ca, &state.audit_key, &user.account_id, &id, &body, &user.meta, Utc::now())
            .await?;
    Ok(Json(super::apply::issued_answer(&state, &cert.der, cert.uid, cert.serial)?))
}

async fn finish(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<RequestView>, AppError> {
    let r = change::finish(
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
