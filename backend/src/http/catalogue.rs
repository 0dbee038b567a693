//! The catalogue over HTTP: what a customer may apply for, and for administrators the whole
//! catalogue with its projects, types, validity periods and prices. Thin handlers over
//! `domain::catalogue`.

use super::routes::RouteEndpoint;
use axum::extract::{Path, State};
use axum::{Json, Router};
use certdesk_shared::apply::{
    Catalogue, CertificateType, NewProject, NewType, NewValidity, Project, SetPrice, TypeSettings, ValidityOption,
};
use certdesk_shared::endpoint;

use super::AppJson;
use super::auth::{Allowed, CurrentUser, ManageCatalogue};
use crate::domain::{account, catalogue};
use crate::error::AppError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().endpoint(endpoint::CustomerCatalogue, customer_catalogue)
}

/// Staff routes (under `/api/admin`), merged behind the staff check in `admin::router`.
pub fn admin_router() -> Router<AppState> {
    Router::new()
        .endpoint(endpoint::FullCatalogue, full_catalogue)
        .endpoint(endpoint::AddProject, add_project)
        .endpoint(endpoint::AddType, add_type)
        .endpoint(endpoint::ChangeType, change_type)
        .endpoint(endpoint::AddValidity, add_validity)
        .endpoint(endpoint::SetPrice, set_price)
        .endpoint(endpoint::SetReissuePrice, set_reissue_price)
}

async fn customer_catalogue(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Catalogue>, AppError> {
    let a = account::find(&state.db, &user.account_id).await?;
    Ok(Json(catalogue::catalogue(&state.db, &a).await?))
}

async fn full_catalogue(
    State(state): State<AppState>,
    _: Allowed<ManageCatalogue>,
) -> Result<Json<Vec<Project>>, AppError> {
    Ok(Json(catalogue::full_catalogue(&state.db).await?))
}

async fn add_project(
    State(state): State<AppState>,
    who: Allowed<ManageCatalogue>,
    AppJson(b): AppJson<NewProject>,
) -> Result<Json<Project>, AppError> {
    Ok(Json(catalogue::add_project(&state.db, &state.audit_key, &who.user.actor(), &b.name, &who.user.meta.ip).await?))
}

async fn add_type(
    State(state): State<AppState>,
    who: Allowed<ManageCatalogue>,
    Path(id): Path<String>,
    AppJson(b): AppJson<NewType>,
) -> Result<Json<CertificateType>, AppError> {
    Ok(Json(catalogue::add_type(&state.db, &state.audit_key, &who.user.actor(), &id, &b, &who.user.meta.ip).await?))
}

async fn change_type(
    State(state): State<AppState>,
    who: Allowed<ManageCatalogue>,
    Path(id): Path<String>,
    AppJson(b): AppJson<TypeSettings>,
) -> Result<Json<CertificateType>, AppError> {
    Ok(Json(catalogue::change_type(&state.db, &state.audit_key, &who.user.actor(), &id, &b, &who.user.meta.ip).await?))
}

async fn add_validity(
    State(state): State<AppState>,
    who: Allowed<ManageCatalogue>,
    Path(id): Path<String>,
    AppJson(b): AppJson<NewValidity>,
) -> Result<Json<ValidityOption>, AppError> {
    Ok(Json(
        catalogue::add_validity(
            &state.db,
            &state.audit_key,
            &who.user.actor(),
            &id,
            b.years,
            b.price_fen,
            &who.user.meta.ip,
        )
        .await?,
    ))
}

async fn set_price(
    State(state): State<AppState>,
    who: Allowed<ManageCatalogue>,
    Path(id): Path<String>,
    AppJson(b): AppJson<SetPrice>,
) -> Result<Json<ValidityOption>, AppError> {
    Ok(Json(
        catalogue::set_price(&state.db, &state.audit_key, &who.user.actor(), &id, b.price_fen, &who.user.meta.ip)
            .await?,
    ))
}

async fn set_reissue_price(
    State(state): State<AppState>,
    who: Allowed<ManageCatalogue>,
    Path(id): Path<String>,
    AppJson(b): AppJson<SetPrice>,
) -> Result<Json<CertificateType>, AppError> {
    Ok(Json(
        catalogue::set_reissue_price(
            &state.db,
            &state.audit_key,
            &who.user.actor(),
            &id,
            b.price_fen,
            &who.user.meta.ip,
        )
        .await?,
    ))
}
