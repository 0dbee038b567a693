//! The agent as a user runs it, against SoftHSM2 with a token directory of its own: it
//! reports its version and the token with its medium number, and answers only the portal
//! origins in its allowlist (CORS and Private Network Access preflights included).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const PORTAL: &str = "https://ca.example.com";

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A SoftHSM2 configuration with one initialised token labelled `label`.
fn softhsm(dir: &Path, label: &str) {
    std::fs::create_dir_all(dir.join("tokens")).unwrap();
    std::fs::write(dir.join("softhsm2.conf"), format!("directories.tokendir = {}\nobjectstore.backend = file\n", dir.join("tokens").display())).unwrap();
    let out = Command::new("softhsm2-util")
        .env("SOFTHSM2_CONF", dir.join("softhsm2.conf"))
        .args(["--init-token", "--free", "--label", label, "--so-pin", "87654321", "--pin", "123456"])
        .output()
        .expect("softhsm2-util (cargo xtask test installs softhsm2)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn agent(dir: &Path, port: u16) -> Running {
    let child = Command::new(env!("CARGO_BIN_EXE_certdesk-agent"))
        .env("SOFTHSM2_CONF", dir.join("softhsm2.conf"))
        .env("RUST_LOG", "warn")
        .args(["--port", &port.to_string(), "--allow-origin", PORTAL, "--pkcs11-module", MODULE])
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the agent did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Running(child)
}

#[tokio::test]
async fn reports_its_version_and_the_token_and_answers_only_the_portal() {
    let dir = tempfile::tempdir().unwrap();
    softhsm(dir.path(), "UKey 1");
    let port = free_port();
    let _agent = agent(dir.path(), port);
    let client = reqwest::Client::new();
    let url = |p: &str| format!("http://127.0.0.1:{port}{p}");

    // The portal's page: its origin is echoed, nothing else.
    let res = client.get(url("/v1/info")).header("origin", PORTAL).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["access-control-allow-origin"], PORTAL);
    let info: serde_json::Value = res.json().await.unwrap();
    assert_eq!((info["name"].as_str(), info["version"].as_str()), (Some("certdesk-agent"), Some(env!("CARGO_PKG_VERSION"))));

    let res = client.get(url("/v1/tokens")).header("origin", PORTAL).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let tokens: serde_json::Value = res.json().await.unwrap();
    let t = &tokens[0];
    assert_eq!((t["label"].as_str(), t["kind"].as_str(), t["pin_locked"].as_bool()), (Some("UKey 1"), Some("ukey"), Some(false)), "{tokens}");
    assert!(t["medium_no"].as_str().is_some_and(|s| !s.is_empty()), "{tokens}");
    assert_eq!(tokens.as_array().unwrap().len(), 1);

    // The preflight a public page's browser sends for a loopback address.
    let res = client
        .request(reqwest::Method::OPTIONS, url("/v1/tokens"))
        .header("origin", PORTAL)
        .header("access-control-request-method", "GET")
        .header("access-control-request-private-network", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(res.headers()["access-control-allow-private-network"], "true");
    assert_eq!(res.headers()["access-control-allow-origin"], PORTAL);

    // Any other origin, and its preflight, get nothing.
    for method in [reqwest::Method::GET, reqwest::Method::OPTIONS] {
        let res = client.request(method, url("/v1/tokens")).header("origin", "https://evil.example").send().await.unwrap();
        assert_eq!(res.status(), 403);
        assert!(res.headers().get("access-control-allow-origin").is_none());
        assert!(res.text().await.unwrap().is_empty());
    }
    // A page that rebinds its own host name to 127.0.0.1.
    let res = client.get(url("/v1/tokens")).header("host", format!("evil.example:{port}")).send().await.unwrap();
    assert_eq!(res.status(), 403);
}
