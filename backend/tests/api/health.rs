use certdesk_shared::health::{Health, HealthStatus};

use crate::helpers::{expected_kind, spawn_app};
use certdesk_shared::endpoint::{self, Endpoint};

#[tokio::test]
async fn health_reports_version_and_reachable_database() {
    let app = spawn_app().await;
    let res = app.get(&endpoint::Health::path(&[])).await;
    assert_eq!(res.status(), 200);
    let h: Health = res.json().await.unwrap();
    assert_eq!(h.status, HealthStatus::Ok);
    assert!(h.database);
    assert_eq!(h.database_kind, expected_kind());
    assert_eq!(h.version, env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn health_says_degraded_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.state.db.clone().close().await.unwrap();
    let res = app.get(&endpoint::Health::path(&[])).await;
    assert_eq!(res.status(), 503);
    let h: Health = res.json().await.unwrap();
    assert_eq!(h.status, HealthStatus::Degraded);
    assert!(!h.database);
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = spawn_app().await;
    for _ in 0..3 {
        assert_eq!(app.get(&endpoint::Health::path(&[])).await.status(), 200);
    }
    assert_eq!(app.get("/api/nope").await.status(), 404);
    // The public listener serves no metrics: they are on the internal one only.
    let public = app.get("/metrics").await.text().await.unwrap();
    assert!(!public.contains("certdesk_http_requests_total"), "{public}");
    let res = app.client.get(format!("http://{}/metrics", app.metrics_addr)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
    let text = res.text().await.unwrap();
    assert!(
        text.contains(r#"certdesk_http_requests_total{method="GET",route="/api/health",status="200"} 3"#),
        "{text}"
    );
    assert!(text.contains(r#"certdesk_http_requests_total{method="GET",route="unmatched",status="404"} 1"#), "{text}");
    assert!(text.contains("certdesk_http_request_duration_seconds_bucket"), "{text}");
    assert!(text.contains("certdesk_build_info{"), "{text}");
    assert!(text.trim_end().ends_with("# EOF"));
}

#[tokio::test]
async fn migrations_are_idempotent_and_keep_the_instance() {
    let app = spawn_app().await;
    let first = certdesk::domain::health::instance_id(&app.state.db).await.unwrap();
    // A second server on the same database runs the migrations again: nothing changes.
    let again = certdesk::AppState::new((*app.state.config).clone()).await.unwrap();
    let second = certdesk::domain::health::instance_id(&again.db).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(first.len(), 36);
}

#[tokio::test]
async fn servers_starting_together_on_postgres_migrate_one_at_a_time() {
    if expected_kind() != "postgres" {
        return; // one machine, one SQLite file: a single server is the supported setup
    }
    let dir = tempfile::tempdir().unwrap();
    let url = crate::helpers::fresh_database(dir.path()).await;
    let config = certdesk::Config::for_tests(url, dir.path().to_owned());
    let (a, b, c) = tokio::join!(
        certdesk::AppState::new(config.clone()),
        certdesk::AppState::new(config.clone()),
        certdesk::AppState::new(config.clone()),
    );
    let ids: Vec<String> = futures_ids(&[a.unwrap(), b.unwrap(), c.unwrap()]).await;
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
}

async fn futures_ids(states: &[certdesk::AppState]) -> Vec<String> {
    let mut ids = Vec::new();
    for s in states {
        ids.push(certdesk::domain::health::instance_id(&s.db).await.unwrap());
    }
    ids
}
