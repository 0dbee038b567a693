//! HTTP: the router, middleware and thin handlers. Only this module knows status codes.

mod account;
mod admin;
mod alipay;
mod apply;
pub mod auth;
mod ca;
mod catalogue;
mod change;
mod csv;
mod customer_service;
mod directory;
mod downloads;
mod errors;
mod health;
mod metrics;
mod mobile_app;
mod my_certificates;
mod notice;
mod ocsp;
mod openapi;
mod payment;
mod qr_login;
mod reissue;
mod renew;
mod revoke;
mod routes;
mod sandbox_wechatpay;
mod security;
mod shield;
mod sms_sandbox;
mod spa;
mod unlock;
mod verify;

use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use certdesk_shared::ErrorCode;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub use admin::enrol_url;
pub use errors::{AppJson, decode_json};

use crate::error::AppError;
use crate::metrics::HttpLabels;
use crate::state::AppState;
use errors::{ErrorParts, request_lang};

/// The whole application. Fails only when the built app's `index.html` cannot be read.
pub fn app(state: AppState) -> anyhow::Result<Router> {
    let spa = spa::Spa::load(&state.config.static_dir)?;
    let csp = security::content_security_policy(spa.inline_scripts(), certdesk_shared::AGENT_DEFAULT_PORT);

    // The API's routes sit at their declared full paths (`certdesk_shared::endpoint`); an
    // unknown path under /api answers the API's 404, never the app's page.
    let api = Router::new()
        .merge(health::router())
        .merge(openapi::router())
        .merge(ca::api_router())
        .merge(account::router())
        .merge(apply::router())
        .merge(my_certificates::router())
        .merge(renew::router())
        .merge(change::router())
        .merge(reissue::router())
        .merge(revoke::router())
        .merge(catalogue::router())
        .merge(payment::router())
        .merge(alipay::router())
        .merge(directory::router())
        .merge(downloads::router())
        .merge(unlock::router())
        .merge(shield::router())
        .merge(qr_login::router())
        .merge(verify::router())
        .merge(notice::router())
        .merge(admin::router(state.clone()))
        .route(API_UNKNOWN[0], any(api_not_found))
        .route(API_UNKNOWN[1], any(api_not_found))
        .route(API_UNKNOWN[2], any(api_not_found))
        .layer(middleware::from_fn_with_state(state.clone(), auth::same_origin_only));

    let mut router = Router::new()
        .merge(api)
        .merge(ca::router())
        .merge(ocsp::router())
        .merge(mobile_app::router())
        .merge(sandbox_wechatpay::router())
        .merge(crate::payment::alipay_sandbox::router())
        .merge(sms_sandbox::router(&state))
        .method_not_allowed_fallback(api_method_not_allowed)
        .route_layer(middleware::from_fn(remember_route))
        .fallback_service(spa.service())
        .layer(DefaultBodyLimit::max(state.config.body_limit))
        .layer(middleware::from_fn(localize_errors))
        .layer(CompressionLayer::new());
    for (name, value) in security::headers(&csp, state.config.public_url.starts_with("https://")) {
        router = router.layer(SetResponseHeaderLayer::if_not_present(name, value));
    }
    let router = router
        .layer(middleware::from_fn_with_state(state.clone(), track_metrics))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
                    let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
                    tracing::info_span!("http", method = %req.method(), path = %log_path(req.uri().path()), request_id = %id)
                }))
                .layer(PropagateRequestIdLayer::x_request_id()),
        )
        .with_state(state);
    Ok(router)
}

/// `GET /metrics` alone, for the internal listener (`--metrics-bind`): what it tells (routes,
/// rates, build) is for the operator, not for the public.
pub fn metrics_app(state: AppState) -> Router {
    metrics::router().layer(CompressionLayer::new()).with_state(state)
}

/// A request's path as the log records it: never the query string (search terms, tokens),
/// and a sandbox pay page's token replaced, since whoever holds it may pay the order.
fn log_path(path: &str) -> std::borrow::Cow<'_, str> {
    for prefix in ["/sandbox/wechatpay/pay/", "/sandbox/alipay/pay/"] {
        if let Some(rest) = path.strip_prefix(prefix) {
            let tail = rest.split_once('/').map(|(_, t)| format!("/{t}")).unwrap_or_default();
            return format!("{prefix}…{tail}").into();
        }
    }
    path.into()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_log_keeps_no_query_and_no_pay_token() {
        let uri: axum::http::Uri = "/api/public/search?email=zs%40example.com&status=all".parse().unwrap_or_default();
        assert_eq!(super::log_path(uri.path()), "/api/public/search");
        assert_eq!(super::log_path("/sandbox/wechatpay/pay/Zm9vYmFy"), "/sandbox/wechatpay/pay/…");
        assert_eq!(super::log_path("/sandbox/wechatpay/pay/Zm9vYmFy/confirm"), "/sandbox/wechatpay/pay/…/confirm");
        assert_eq!(super::log_path("/sandbox/alipay/pay/Zm9vYmFy/confirm"), "/sandbox/alipay/pay/…/confirm");
        assert_eq!(super::log_path("/ocsp"), "/ocsp");
    }
}

/// The routes of the paths under /api that no endpoint declares: the API's 404, counted as
/// unmatched (a catch-all matches no empty tail, so `/api/` is its own).
const API_UNKNOWN: [&str; 3] = ["/api", "/api/", "/api/{*rest}"];

async fn api_not_found() -> AppError {
    ErrorCode::NotFound.into()
}

async fn api_method_not_allowed() -> AppError {
    ErrorCode::MethodNotAllowed.into()
}

/// Route pattern of a matched request, carried to `track_metrics` on the response.
#[derive(Clone)]
struct RouteLabel(String);

async fn remember_route(req: Request, next: Next) -> Response {
    // The API's catch-all for unknown paths is no route: its requests count as unmatched.
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str()).filter(|p| !API_UNKNOWN.contains(p));
    let route = route.map(str::to_owned);
    let mut res = next.run(req).await;
    if let Some(route) = route {
        res.extensions_mut().insert(RouteLabel(route));
    }
    res
}

async fn track_metrics(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = match *req.method() {
        Method::GET | Method::HEAD | Method::POST | Method::PUT | Method::PATCH | Method::DELETE | Method::OPTIONS => {
            req.method().to_string()
        }
        _ => "other".to_owned(),
    };
    let is_api = req.uri().path().starts_with("/api/");
    let res = next.run(req).await;
    let route = match res.extensions().get::<RouteLabel>() {
        Some(RouteLabel(r)) => r.clone(),
        None if is_api => "unmatched".to_owned(),
        None => "static".to_owned(),
    };
    let labels = HttpLabels { method, route, status: res.status().as_u16() };
    state.metrics.http_requests.get_or_create(&labels).inc();
    state.metrics.http_duration.get_or_create(&labels).observe(start.elapsed().as_secs_f64());
    res
}

/// Writes error bodies again in the language the request asked for (`Accept-Language`).
async fn localize_errors(req: Request, next: Next) -> Response {
    let lang = request_lang(req.headers());
    let res = next.run(req).await;
    match res.extensions().get::<ErrorParts>() {
        Some(parts) if lang != certdesk_shared::Lang::default() => {
            let mut localized = parts.clone().into_response(lang);
            if let Some(v) = res.headers().get("x-request-id") {
                localized.headers_mut().insert("x-request-id", v.clone());
            }
            localized.headers_mut().insert("content-language", HeaderValue::from_static(lang.tag()));
            localized
        }
        _ => res.into_response(),
    }
}
