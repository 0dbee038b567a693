//! 证书补办 / 密钥恢复: thin handlers over `domain::reissue`, for the signed-in holder. The
//! documents and the payment use the routes every request uses
//! (`/api/applications/{id}/documents/{kind}`, `/api/applications/{id}/payment`).

use super::routes::RouteEndpoint;
use axum::extract::{Path, State};
use axum::{Json, Router};
use certdesk_shared::apply::{DeliveryInfo, Issued};
use certdesk_shared::endpoint;
use certdesk_shared::reissue::{ReissueCsr, ReissueOffer, StartReissue, VerifyReissue};
use certdesk_shared::request::RequestView;
use chrono::Utc;

use super::AppJson;
use super::auth::CurrentUser;
use crate::domain::{reissue, request};
use crate::error::AppError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .endpoint(endpoint::OfferReissue, offer)
        .endpoint(endpoint::StartReissue, start)
        .endpoint(endpoint::VerifyReissue, verify)
        .endpoint(endpoint::SaveReissueDelivery, delivery)
        .endpoint(endpoint::SubmitReissue, submit)
        .endpoint(endpoint::IssueReissue, issue)
        .endpoint(endpoint::FinishReissue, finish)
}

async fn offer(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(uid): Path<String>,
) -> Result<Json<ReissueOffer>, AppError> {
    Ok(Json(reissue::offer(&state.db, &user.account_id, &uid, Utc::now()).await?))
}

async fn start(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(uid): Path<String>,
    AppJson(body): AppJson<StartReissue>,
) -> Result<Json<RequestView>, AppError> {
    let r = reissue::start(&state.db, &state.audit_key, &user.account_id, &uid, &body, &user.meta, Utc::now()).await?;
    Ok(Json(request::view(&state.db, &r).await?))
}

async fn verify(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    AppJson(body): AppJson<VerifyReissue>,
) -> Result<Json<RequestView>, AppError> {
    let r = reissue::verify(&state.db, &state.audit_key, &user.account_id, &id, &body, &user.meta, Utc::now()).await?;
    Ok(Json(request::view(&state.db, &r).await?))
}

async fn delivery(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    AppJson(body): AppJson<DeliveryInfo>,
) -> Result<Json<RequestView>, AppError> {
    let r = reissue::set_delivery(&state.db, &user.account_id, &id, &body, Utc::now()).await?;
    Ok(Json(request::view(&state.db, &r).await?))
}

async fn submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<RequestView>, AppError> {
    let r =
        reissue::submit(&state.db, &state.ca, &state.audit_key, &user.account_id, &id, &user.meta, Utc::now()).await?;
    Ok(Json(request::view(&state.db, &r).await?))
}

async fn issue(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    AppJson(body): AppJson<ReissueCsr>,
) -> Result<Json<Issued>, AppError> {
    let cert =
        reissue::issue(&state.db, &state.ca, &state.audit_key, &user.account_id, &id, &body, &user.meta, Utc::now())
            .await?;
    Ok(Json(super::apply::issued_answer(&state, &cert.der, cert.uid, cert.serial)?))
}

async fn finish(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<RequestView>, AppError> {
    let r =
        reissue::finish(&state.db, &state.audit_key, &state.notifier, &user.account_id, &id, &user.meta, Utc::now())
            .await?;
    Ok(Json(request::view(&state.db, &r).await?))
}
