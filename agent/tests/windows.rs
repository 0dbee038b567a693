//! The Windows build of the agent (`x86_64-pc-windows-gnu`, the file the 下载中心 serves), run
//! under Wine: it starts, answers `/v1/info` to the portal's origin only, makes a PC soft
//! shield in `%APPDATA%`, and makes a key pair and its certificate request behind the PIN.
//!
//! `cargo xtask test` builds the file and names it in `CERTDESK_AGENT_WINDOWS_EXE`. Wine 8
//! (Debian 12) lacks `bcryptprimitives.dll`, which Rust's standard library imports on
//! Windows 10 and later, so the test's own Wine prefix gets a stand-in built from
//! `tests/wine/bcryptprimitives.c` with mingw-w64; the file users download is unchanged.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

const PORTAL: &str = "https://ca.example.com";
const WINE: &str = "/usr/lib/wine/wine64";

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn exe() -> PathBuf {
    let exe = std::env::var_os("CERTDESK_AGENT_WINDOWS_EXE")
        .map(PathBuf::from)
        .expect("CERTDESK_AGENT_WINDOWS_EXE names the Windows build: run `cargo xtask test`, which builds it");
    assert!(exe.exists(), "{} is missing", exe.display());
    exe
}

/// A Wine prefix of the test's own, made once, with the `ProcessPrng` stand-in.
fn prefix(dir: &Path) -> PathBuf {
    let prefix = dir.join("wine");
    let boot = Command::new(WINE)
        .env("WINEPREFIX", &prefix)
        .env("WINEDEBUG", "-all")
        .args(["cmd", "/c", "exit"])
        .output()
        .expect("wine64 (cargo xtask test installs Debian's wine64)");
    assert!(prefix.join("drive_c/windows/system32").is_dir(), "wineboot failed: {boot:?}");
    let shim = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/wine/bcryptprimitives.c");
    let out = Command::new("x86_64-w64-mingw32-gcc")
        .args(["-shared", "-O2", "-o"])
        .arg(prefix.join("drive_c/windows/system32/bcryptprimitives.dll"))
        .arg(shim)
        .arg("-ladvapi32")
        .output()
        .expect("x86_64-w64-mingw32-gcc (Debian's gcc-mingw-w64-x86-64)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    prefix
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test]
async fn the_windows_build_answers_and_makes_a_pc_soft_shield_under_wine() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = prefix(dir.path());
    let port = free_port();
    let started = Instant::now();
    let _agent = Running(
        Command::new(WINE)
            .env("WINEPREFIX", &prefix)
            .env("WINEDEBUG", "-all")
            .env("RUST_LOG", "warn")
            .arg(exe())
            .args(["--port", &port.to_string(), "--allow-origin", PORTAL])
            .spawn()
            .unwrap(),
    );
    let client = reqwest::Client::new();
    let url = |p: &str| format!("http://127.0.0.1:{port}{p}");
    let info = loop {
        match client.get(url("/v1/info")).header("origin", PORTAL).send().await {
            Ok(res) => break res,
            Err(_) if started.elapsed() < Duration::from_secs(60) => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("the Windows agent did not answer within 60 s: {e}"),
        }
    };
    println!("the Windows agent answered {:.1} s after Wine started it", started.elapsed().as_secs_f64());
    assert_eq!(info.headers()["access-control-allow-origin"], PORTAL);
    let info: serde_json::Value = info.json().await.unwrap();
    assert_eq!(
        (info["name"].as_str(), info["version"].as_str()),
        (Some("certdesk-agent"), Some(env!("CARGO_PKG_VERSION")))
    );
    let other = client.get(url("/v1/tokens")).header("origin", "https://evil.example").send().await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());

    // A PC soft shield, its unlock secret sealed to the portal's key.
    let portal = certdesk_shared::seal::new_key();
    let portal_key = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(certdesk_shared::seal::public_bytes(&portal.public_key()))
    };
    let post = |path: &str, body: serde_json::Value| client.post(url(path)).header("origin", PORTAL).json(&body).send();
    let res =
        post("/v1/shields", serde_json::json!({ "label": "Windows软盾", "pin": "135790", "portal_key": portal_key }))
            .await
            .unwrap();
    assert_eq!(res.status(), 201);
    let shield: serde_json::Value = res.json().await.unwrap();
    assert_eq!(shield["kind"], "pc_shield", "{shield}");
    let medium = shield["medium_no"].as_str().unwrap().to_owned();

    // Its keystore lies in the user's roaming profile, as on Windows.
    let profiles = prefix.join("drive_c/users");
    let stored = walk(&profiles).into_iter().any(|p| p.to_string_lossy().contains("AppData/Roaming/CertDesk/agent"));
    assert!(stored, "no keystore under %APPDATA%\\CertDesk\\agent in {}", profiles.display());

    // A wrong PIN is counted; the right one makes a key pair and its request.
    let wrong =
        post(&format!("/v1/tokens/{medium}/csr"), serde_json::json!({ "pin": "000000", "label": "W1" })).await.unwrap();
    let wrong: serde_json::Value = wrong.json().await.unwrap();
    assert_eq!(wrong["tries_left"], 9, "{wrong}");
    let made =
        post(&format!("/v1/tokens/{medium}/csr"), serde_json::json!({ "pin": "135790", "label": "W1" })).await.unwrap();
    assert_eq!(made.status(), 200);
    let made: serde_json::Value = made.json().await.unwrap();
    assert!(made["csr_pem"].as_str().unwrap().starts_with("-----BEGIN CERTIFICATE REQUEST-----"), "{made}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        }
        found.push(path);
    }
    found
}
