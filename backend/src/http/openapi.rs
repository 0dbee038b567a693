//! `GET /api/openapi.json`: the API's OpenAPI 3.1 document, generated once from its
//! declarations (`certdesk_shared::openapi`).

use std::sync::OnceLock;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use certdesk_shared::endpoint;

use super::routes::RouteEndpoint;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().endpoint(endpoint::OpenApi, document)
}

async fn document() -> impl IntoResponse {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    let body = DOCUMENT.get_or_init(|| certdesk_shared::openapi::document(env!("CARGO_PKG_VERSION")).to_string());
    ([(header::CONTENT_TYPE, "application/json")], body.as_str())
}
