//! `/ocsp`: the OCSP responder over HTTP (RFC 6960 appendix A): POST with an
//! `application/ocsp-request` body, or GET with the base64 request in the path.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;

use crate::ca::ocsp::{Failure, failure, respond};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/ocsp", post(ocsp_post)).route("/ocsp/{*request}", get(ocsp_get))
}

fn ocsp_response(body: Vec<u8>, cacheable: bool) -> Response {
    let cache = if cacheable { "public, max-age=60, no-transform, must-revalidate" } else { "no-store" };
    ([(header::CONTENT_TYPE, "application/ocsp-response"), (header::CACHE_CONTROL, cache)], body).into_response()
}

async fn ocsp_post(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let is_ocsp = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("application/ocsp-request"));
    if !is_ocsp {
        return ocsp_response(failure(Failure::MalformedRequest), false);
    }
    ocsp_response(respond(&state.db, &state.ca, &state.ca.responder, &body).await.der, false)
}

async fn ocsp_get(State(state): State<AppState>, Path(request): Path<String>) -> Response {
    let der = base64::engine::general_purpose::STANDARD.decode(request.trim_start_matches('/'));
    match der {
        Ok(der) => {
            // A GET answer may be kept by HTTP caches, unless it says `unknown`.
            let answer = respond(&state.db, &state.ca, &state.ca.responder, &der).await;
            ocsp_response(answer.der, answer.cacheable)
        }
        Err(_) => ocsp_response(failure(Failure::MalformedRequest), false),
    }
}
