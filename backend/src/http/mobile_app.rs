//! The mobile shield app's files that must live under its scope `/m/`: the web app manifest
//! (`/m/manifest.webmanifest`, what makes it installable) and its service worker (`/m/sw.js`,
//! which keeps the app shell for offline use). Both are compiled in from `frontend/mobile/`.

use axum::Router;
use axum::http::{HeaderName, header};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::state::AppState;

pub const MANIFEST: &str = include_str!("../../../frontend/mobile/manifest.webmanifest");
pub const SERVICE_WORKER: &str = include_str!("../../../frontend/mobile/sw.js");

pub fn router() -> Router<AppState> {
    Router::new().route("/m/manifest.webmanifest", get(manifest)).route("/m/sw.js", get(service_worker))
}

async fn manifest() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/manifest+json"), (header::CACHE_CONTROL, "no-cache")], MANIFEST)
}

/// Revalidated on every check, so a new version of the app reaches the phones at once.
async fn service_worker() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            (HeaderName::from_static("service-worker-allowed"), "/m/"),
        ],
        SERVICE_WORKER,
    )
}
