//! The test toolkit of the API suite. This module starts servers: `spawn_app()`, a real
//! server on port 0 with a fresh database and a small built app, its variants and the test
//! configuration. The submodules hold what more than one feature module uses:
//! - [`browser`]: a [`browser::Browser`] with its session and CSRF token, registered customers,
//!   staff sessions, SMS codes, captchas and sign-in;
//! - [`issuing`]: the application wizard (a complete draft, uploads, a holder's draft),
//!   submission, approval and issuance into a fresh key;
//! - [`ca`]: the CA seen from outside: CSRs, PEM (one implementation, the production one),
//!   OpenSSL's verify and OCSP, CRLs;
//! - [`payment`]: paying with WeChat Pay on the sandbox page, its notifications, an invoice;
//! - [`shield`]: the mobile-shield phone app; [`token`]: a hardware token's unlock;
//! - [`mail`]: a real SMTP server and the messages it received;
//! - [`postgres`]: a PostgreSQL cluster of a test's own; [`harness`]: real `certdesk`
//!   binaries under a mixed load, for the fault and soak tests.
//!
//! Feature modules import from here only, never from each other.

pub mod browser;
pub mod ca;
pub mod harness;
pub mod issuing;
pub mod mail;
pub mod payment;
pub mod postgres;
pub mod shield;
pub mod token;

use std::net::SocketAddr;

use certdesk::{AppState, Config};
use sea_orm::{ConnectionTrait, Database};

/// How much later than its own deadline a timed step may end on a loaded CI machine: the
/// browser suite runs beside the API suites on two cores, and a step that waited 1 s was seen
/// to end after 3 s. A hang is what the upper bounds catch, and a hang is minutes, not this.
pub const SCHEDULING_SLACK: std::time::Duration = std::time::Duration::from_secs(10);

/// A server that accepts connections and never answers: its address, and how many
/// connections it has accepted (a client that sent twice after a timeout would show 2).
pub async fn silent_server() -> (SocketAddr, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            held.push(socket);
        }
    });
    (addr, accepted)
}

/// The inline loader script of the stand-in `index.html` (its hash must be in the CSP).
pub const LOADER: &str = "\nimport init from '/certdesk-frontend-0123456789abcdef.js';\nawait init();\n";

pub struct TestApp {
    pub addr: SocketAddr,
    /// The internal listener of `GET /metrics` (`--metrics-bind`).
    pub metrics_addr: SocketAddr,
    pub client: reqwest::Client,
    pub state: AppState,
    /// Picks the server of each request, as a load balancer would (the crash harness's
    /// rolling restart); `None`: always `addr`.
    pub balancer: Option<std::sync::Arc<dyn Fn() -> SocketAddr + Send + Sync>>,
    _dir: Option<tempfile::TempDir>,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        let addr = self.balancer.as_ref().map_or(self.addr, |pick| pick());
        format!("http://{addr}{path}")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("request")
    }
}

/// A database URL no other test uses: a new SQLite file, or a new PostgreSQL database.
pub async fn fresh_database(dir: &std::path::Path) -> String {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(admin_url) if admin_url.starts_with("postgres") => {
            let name = format!("t_{}", uuid::Uuid::new_v4().simple());
            let admin = Database::connect(&admin_url).await.expect("connect to PostgreSQL");
            admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create database");
            let (base, _) = admin_url.rsplit_once('/').expect("URL with a database name");
            format!("{base}/{name}")
        }
        _ => format!("sqlite://{}?mode=rwc", dir.join("test.db").display()),
    }
}

pub fn expected_kind() -> &'static str {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(u) if u.starts_with("postgres") => "postgres",
        _ => "sqlite",
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// `spawn_app` with a changed configuration.
pub async fn spawn_app_with(change: impl FnOnce(&mut Config)) -> TestApp {
    let (dir, mut config) = test_config().await;
    change(&mut config);
    start(dir, config).await
}

/// A fresh directory (with a small built app under `dist/`, the data directory `data/`
/// apart from it) and the test configuration over a fresh database.
pub async fn test_config() -> (tempfile::TempDir, Config) {
    let dir = tempfile::tempdir().expect("temp dir");
    let dist = dir.path().join("dist");
    std::fs::create_dir_all(&dist).expect("dist");
    std::fs::write(
        dist.join("index.html"),
        format!("<!doctype html><html><head><title>CertDesk</title><script type=\"module\">{LOADER}</script></head><body></body></html>"),
    )
    .expect("index.html");
    std::fs::write(dist.join("certdesk-frontend-0123456789abcdef.js"), "export default function init() {}")
        .expect("js");
    let mut config = Config::for_tests(fresh_database(dir.path()).await, dist);
    // Nothing the server keeps (the development root among it) lies in the served app.
    config.data_dir = dir.path().join("data");
    (dir, config)
}

/// Starts a server with `config` on port 0; `dir` lives as long as it.
/// The providers' callbacks and this server's provider clients reach the sandboxes on the
/// test server's own address (over HTTP, as in production), unless the test set them.
pub async fn start(dir: tempfile::TempDir, mut config: Config) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    config.callback_url.get_or_insert_with(|| format!("http://{addr}"));
    config.sandbox_url.get_or_insert_with(|| format!("http://{addr}"));
    let state = AppState::new(config).await.expect("state");
    let app = certdesk::app(state.clone()).expect("app");
    tokio::spawn(async move { axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await });
    let metrics = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind metrics");
    let metrics_addr = metrics.local_addr().expect("metrics addr");
    let metrics_app = certdesk::metrics_app(state.clone());
    tokio::spawn(async move { axum::serve(metrics, metrics_app).await });
    TestApp { addr, metrics_addr, client: reqwest::Client::new(), state, balancer: None, _dir: Some(dir) }
}

/// A `TestApp` for a server running in another process at `addr` (a real `certdesk`
/// binary): requests go there with `client`, and `state`, on the same database and data
/// directory, lets the test read what that server wrote.
pub fn attached(addr: SocketAddr, state: AppState, client: reqwest::Client) -> TestApp {
    TestApp { addr, metrics_addr: addr, client, state, balancer: None, _dir: None }
}

/// A loopback port free at the moment of asking.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// The test configuration in production mode, over a database whose CA the development
/// ceremony made (so the CA check passes and the sandbox check is the one left).
pub async fn production_with_a_ca() -> (tempfile::TempDir, Config) {
    let (dir, config) = test_config().await;
    drop(AppState::new(config.clone()).await.expect("development start makes the CA"));
    let mut config = config;
    config.dev = false;
    config.insecure_captcha_echo = false;
    (dir, config)
}

/// An answer's status and its JSON body (`Null` when it has none, or none that is JSON).
pub async fn status_and_json(res: reqwest::Response) -> (reqwest::StatusCode, serde_json::Value) {
    let status = res.status();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
}
