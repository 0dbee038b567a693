//! 通知消息 over HTTP: the signed-in customer's notices and marking one read. Thin handlers
//! over `domain::expiry_notice`; every notice is looked up within the caller's account.

use super::routes::RouteEndpoint;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Json, Router};
use certdesk_shared::endpoint;
use certdesk_shared::notice::NoticeList;

use super::auth::CurrentUser;
use crate::domain::expiry_notice;
use crate::error::AppError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().endpoint(endpoint::ListNotices, list).endpoint(endpoint::MarkNoticeRead, mark_read)
}

async fn list(State(state): State<AppState>, user: CurrentUser) -> Result<Json<NoticeList>, AppError> {
    Ok(Json(expiry_notice::list(&state.db, &user.account_id).await?))
}

async fn mark_read(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    expiry_notice::mark_read(&state.db, &user.account_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
