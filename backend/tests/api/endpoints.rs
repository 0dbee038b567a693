//! The API's declarations (`certdesk_shared::endpoint`) against the running server: every
//! declared endpoint is routed at its path for its method, and `/api/openapi.json` publishes
//! them.

use certdesk_shared::endpoint::{ALL, Method, fill, parameters};
use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn every_declared_endpoint_is_routed_at_its_path_and_method() {
    let app = spawn_app().await;
    for op in ALL {
        let args: Vec<&str> = parameters(op.path).map(|_| "x").collect();
        let url = app.url(&fill(op.path, &args));
        let method = reqwest::Method::from_bytes(op.method.as_str().as_bytes()).unwrap();
        let mut req = app.client.request(method, url).header("origin", app.url(""));
        if op.method != Method::Get {
            req = req.header("content-type", "application/json").body("{}");
        }
        let res = req.send().await.unwrap();
        assert_ne!(res.status(), 405, "{} {} is not routed for its method", op.method.as_str(), op.path);
    }
    // The metrics name the route each request matched: every declared one, by its pattern.
    let metrics = app.client.get(format!("http://{}/metrics", app.metrics_addr)).send().await.unwrap();
    let text = metrics.text().await.unwrap();
    for op in ALL {
        let label = format!(r#"method="{}",route="{}","#, op.method.as_str(), op.path);
        assert!(text.contains(&label), "{} {} matched no route of its own", op.name, op.path);
    }
    // An undeclared path under /api is the API's 404 and counts as unmatched.
    let res = app.get("/api/no-such-thing").await;
    assert_eq!(res.status(), 404);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
}

#[tokio::test]
async fn the_openapi_document_lists_every_endpoint_with_its_schemas() {
    let app = spawn_app().await;
    let res = app.get("/api/openapi.json").await;
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    for op in ALL {
        let entry = &doc["paths"][op.path][op.method.as_str().to_ascii_lowercase()];
        assert_eq!(entry["operationId"], op.name, "{} {}", op.method.as_str(), op.path);
        assert!(entry["responses"]["default"].is_object(), "{}: no error answer", op.name);
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for name in ["ApiError", "ErrorCode", "SessionInfo", "RequestView", "MyCertificate"] {
        assert!(schemas.contains_key(name), "{name} missing");
    }
}
