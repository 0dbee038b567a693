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
        .arg("--data-dir")
        .arg(dir.join("agent"))
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

#[tokio::test]
async fn ten_wrong_pins_lock_the_token_and_the_right_one_no_longer_opens_it() {
    let dir = tempfile::tempdir().unwrap();
    softhsm(dir.path(), "UKey 2");
    let port = free_port();
    let mut agent_process = agent(dir.path(), port);
    // No kept-alive connections: the agent is restarted half-way.
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let tokens: serde_json::Value = client.get(format!("http://127.0.0.1:{port}/v1/tokens")).send().await.unwrap().json().await.unwrap();
    let medium = tokens[0]["medium_no"].as_str().unwrap().to_owned();
    let check = |pin: &'static str| {
        let (client, medium) = (client.clone(), medium.clone());
        async move {
            let res = client
                .post(format!("http://127.0.0.1:{port}/v1/tokens/{medium}/pin"))
                .header("origin", PORTAL)
                .json(&serde_json::json!({ "pin": pin }))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
            res.json::<serde_json::Value>().await.unwrap()
        }
    };
    assert_eq!(check("000000").await, serde_json::json!({ "verified": false, "tries_left": 9, "locked": false }));
    // The right PIN starts the count again.
    assert_eq!(check("123456").await, serde_json::json!({ "verified": true, "tries_left": 10, "locked": false }));
    for left in (1..=9).rev() {
        assert_eq!(check("000000").await["tries_left"], left);
    }
    // A restart does not forget the count.
    drop(agent_process);
    agent_process = agent(dir.path(), port);
    assert_eq!(check("000000").await, serde_json::json!({ "verified": false, "tries_left": 0, "locked": true }));
    assert_eq!(check("123456").await, serde_json::json!({ "verified": false, "tries_left": 0, "locked": true }));
    let res = client.post(format!("http://127.0.0.1:{port}/v1/tokens/no-such-token/pin")).json(&serde_json::json!({ "pin": "123456" })).send().await.unwrap();
    assert_eq!(res.status(), 404);
    drop(agent_process);
}

#[tokio::test]
async fn a_key_made_on_the_token_signs_its_certificate_request() {
    let dir = tempfile::tempdir().unwrap();
    softhsm(dir.path(), "UKey 3");
    let port = free_port();
    let _agent = agent(dir.path(), port);
    let client = reqwest::Client::new();
    let tokens: serde_json::Value = client.get(format!("http://127.0.0.1:{port}/v1/tokens")).send().await.unwrap().json().await.unwrap();
    let medium = tokens[0]["medium_no"].as_str().unwrap().to_owned();
    let csr_url = format!("http://127.0.0.1:{port}/v1/tokens/{medium}/csr");

    // A wrong PIN makes nothing and counts.
    let res = client.post(&csr_url).header("origin", PORTAL).json(&serde_json::json!({ "pin": "000000", "label": "BH20261121000001" })).send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.json::<serde_json::Value>().await.unwrap(), serde_json::json!({ "verified": false, "tries_left": 9, "locked": false }));

    let res = client.post(&csr_url).header("origin", PORTAL).json(&serde_json::json!({ "pin": "123456", "label": "BH20261121000001" })).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let made: serde_json::Value = res.json().await.unwrap();
    let pem = made["csr_pem"].as_str().unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE REQUEST-----\n"), "{pem}");
    // OpenSSL checks the signature with the public key inside: the token's key signed it.
    let file = dir.path().join("req.pem");
    std::fs::write(&file, pem).unwrap();
    let out = Command::new("openssl").args(["req", "-verify", "-noout", "-text", "-in"]).arg(&file).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && text.contains("verify OK"), "{text}");
    assert!(text.contains("prime256v1") || text.contains("P-256"), "{text}");
    // The right PIN started the count again.
    let res = client
        .post(format!("http://127.0.0.1:{port}/v1/tokens/{medium}/pin"))
        .json(&serde_json::json!({ "pin": "000000" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<serde_json::Value>().await.unwrap()["tries_left"], 9);
}
