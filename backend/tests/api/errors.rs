use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::{Request, StatusCode};
use axum::routing::post;
use certdesk::http::AppJson;
use certdesk_shared::endpoint::{self, Endpoint};
use certdesk_shared::{ApiError, ErrorCode, Mobile, PersonName, ValidationError};
use serde::Deserialize;
use tower::ServiceExt;

use crate::helpers::spawn_app;

#[tokio::test]
async fn unknown_api_routes_get_our_error_body_in_the_asked_language() {
    let app = spawn_app().await;
    let res = app.get("/api/no-such-thing").await;
    assert_eq!(res.status(), 404);
    let body: ApiError = res.json().await.unwrap();
    assert_eq!(body.code, ErrorCode::NotFound);
    assert_eq!(body.message_key, "error_not_found");
    assert_eq!(body.message, "未找到");

    let res =
        app.client.get(app.url("/api/no-such-thing")).header("accept-language", "en-GB,en;q=0.8").send().await.unwrap();
    assert_eq!(res.headers()["content-language"], "en");
    let body: ApiError = res.json().await.unwrap();
    assert_eq!(body.message, "Not found");

    for path in [endpoint::Health::PATH, "/ocsp"] {
        let res = app.client.delete(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 405, "{path}");
        let body: ApiError = res.json().await.unwrap();
        assert_eq!(body.code, ErrorCode::MethodNotAllowed, "{path}");
    }
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Operator {
    name: PersonName,
    mobile: Mobile,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Form {
    operator: Operator,
}

async fn accept(AppJson(_): AppJson<Form>) -> StatusCode {
    StatusCode::NO_CONTENT
}

async fn post_json(body: &'static str) -> (StatusCode, Option<ApiError>) {
    post_as("application/json", body).await
}

async fn post_as(content_type: &str, body: &'static str) -> (StatusCode, Option<ApiError>) {
    let router = Router::new().route("/", post(accept)).layer(DefaultBodyLimit::max(256));
    let res = router
        .oneshot(Request::post("/").header("content-type", content_type).body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20).await.unwrap();
    (status, serde_json::from_slice(&bytes).ok())
}

#[tokio::test]
async fn json_bodies_are_validated_while_decoding() {
    let (status, body) = post_json(r#"{"operator":{"name":"张三","mobile":"13812345678"}}"#).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(body.is_none());

    let (status, body) = post_json(r#"{"operator":{"name":"张三","mobile":"12345"}}"#).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let body = body.unwrap();
    assert_eq!(body.code, ErrorCode::Validation);
    assert_eq!(body.fields.len(), 1);
    assert_eq!(body.fields[0].field, "operator.mobile");
    assert_eq!(body.fields[0].error, ValidationError::MobileFormat);

    let (status, body) = post_json(r#"{"operator":{"mobile":"13812345678"}}"#).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let body = body.unwrap();
    assert_eq!(body.fields[0].field, "operator.name");
    assert_eq!(body.fields[0].error, ValidationError::Required);
}

#[tokio::test]
async fn only_json_bodies_are_accepted() {
    let good = r#"{"operator":{"name":"张三","mobile":"13812345678"}}"#;
    assert_eq!(post_as("application/json; charset=utf-8", good).await.0, StatusCode::NO_CONTENT);
    // What a cross-site HTML form can send without a CORS preflight:
    for ct in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
        let (status, body) = post_as(ct, good).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{ct}");
        assert_eq!(body.unwrap().code, ErrorCode::UnsupportedMediaType, "{ct}");
    }
}

#[tokio::test]
async fn malformed_and_oversized_bodies_get_our_error_body() {
    for bad in [r#"{"operator":"#, "not json", r#"{"operator":{"name":3,"mobile":"13812345678"}}"#] {
        let (status, body) = post_json(bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(body.unwrap().code, ErrorCode::MalformedJson, "{bad}");
    }
    let big: &'static str =
        Box::leak(format!(r#"{{"operator":{{"name":"{}","mobile":"1"}}}}"#, "张".repeat(200)).into_boxed_str());
    let (status, body) = post_json(big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body.unwrap().code, ErrorCode::PayloadTooLarge);
}
