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
    std::fs::write(
        dir.join("softhsm2.conf"),
        format!("directories.tokendir = {}\nobjectstore.backend = file\n", dir.join("tokens").display()),
    )
    .unwrap();
    let out = Command::new("softhsm2-util")
        .env("SOFTHSM2_CONF", dir.join("softhsm2.conf"))
        .args(["--init-token", "--free", "--label", label, "--so-pin", "87654321", "--pin", "123456"])
        .output()
        .expect("softhsm2-util (cargo xtask test installs softhsm2)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// A port free now and not handed to another test of this binary: the tests run at once, and
/// a port given back by the system could go to two of them, whose agents would then race for it
/// (one test talking to the other's agent, reset when that one stops).
fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap();
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
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
    assert_eq!(
        (info["name"].as_str(), info["version"].as_str()),
        (Some("certdesk-agent"), Some(env!("CARGO_PKG_VERSION")))
    );

    let res = client.get(url("/v1/tokens")).header("origin", PORTAL).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let tokens: serde_json::Value = res.json().await.unwrap();
    let t = &tokens[0];
    assert_eq!(
        (t["label"].as_str(), t["kind"].as_str(), t["pin_locked"].as_bool()),
        (Some("UKey 1"), Some("ukey"), Some(false)),
        "{tokens}"
    );
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
        let res =
            client.request(method, url("/v1/tokens")).header("origin", "https://evil.example").send().await.unwrap();
        assert_eq!(res.status(), 403);
        assert!(res.headers().get("access-control-allow-origin").is_none());
        assert!(res.text().await.unwrap().is_empty());
    }
    // Never personalised: no unlock secret to ask the portal about.
    let medium = t["medium_no"].as_str().unwrap();
    let start = Portal::new().start();
    let res = client
        .post(url(&format!("/v1/tokens/{medium}/unlock-request")))
        .header("origin", PORTAL)
        .json(&start)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    // A page that rebinds its own host name to 127.0.0.1.
    let res = client
        .get(url("/v1/tokens"))
        .header("host", format!("evil.example:{port}"))
        .header("origin", PORTAL)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

/// Issue 17, item 7: nothing that is not a page of the portal learns anything, whatever it
/// asks for.
#[tokio::test]
async fn a_request_without_the_portals_origin_or_typed_into_the_address_bar_learns_nothing() {
    let dir = tempfile::tempdir().unwrap();
    softhsm(dir.path(), "UKey 9");
    let port = free_port();
    let _agent = agent(dir.path(), port);
    let client = reqwest::Client::new();
    let url = |p: &str| format!("http://127.0.0.1:{port}{p}");
    let tokens: serde_json::Value =
        client.get(url("/v1/tokens")).header("origin", PORTAL).send().await.unwrap().json().await.unwrap();
    let medium = tokens[0]["medium_no"].as_str().unwrap().to_owned();
    let certificates = format!("/v1/tokens/{medium}/certificates");
    for path in ["/v1/info", "/v1/tokens", certificates.as_str()] {
        // No Origin at all (another program, or a page's request the browser names no origin for).
        let res = client.get(url(path)).send().await.unwrap();
        assert_eq!(res.status(), 403, "{path} without an Origin");
        assert!(res.headers().get("access-control-allow-origin").is_none());
        assert!(res.text().await.unwrap().is_empty());
        // `<script src="http://127.0.0.1:17530/v1/tokens">` on another site: a no-cors GET,
        // no Origin, Sec-Fetch-Site cross-site, Sec-Fetch-Dest script.
        let res = client
            .get(url(path))
            .header("sec-fetch-site", "cross-site")
            .header("sec-fetch-mode", "no-cors")
            .header("sec-fetch-dest", "script")
            .header("referer", "https://evil.example/page.html")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{path} as a <script src>");
        let body = res.text().await.unwrap();
        assert!(body.is_empty() && !body.contains(&medium), "{path}: {body}");
        // Typed into the address bar: Sec-Fetch-Site none, even with the portal's origin.
        let res = client
            .get(url(path))
            .header("sec-fetch-site", "none")
            .header("sec-fetch-mode", "navigate")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{path} typed into the address bar");
        let res = client.get(url(path)).header("sec-fetch-site", "none").header("origin", PORTAL).send().await.unwrap();
        assert_eq!(res.status(), 403, "{path} with Sec-Fetch-Site: none");
        assert!(res.text().await.unwrap().is_empty());
    }
    // A POST without an Origin (a program, or a form of a page that hides it) changes nothing
    // and counts no PIN try.
    let res = client
        .post(url(&format!("/v1/tokens/{medium}/pin")))
        .json(&serde_json::json!({ "pin": "000000" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = client
        .post(url(&format!("/v1/tokens/{medium}/pin")))
        .header("origin", PORTAL)
        .header("sec-fetch-site", "cross-site")
        .json(&serde_json::json!({ "pin": "123456" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap(),
        serde_json::json!({ "verified": true, "tries_left": 10, "locked": false })
    );
}

#[tokio::test]
async fn ten_wrong_pins_lock_the_token_and_the_right_one_no_longer_opens_it() {
    let dir = tempfile::tempdir().unwrap();
    softhsm(dir.path(), "UKey 2");
    let port = free_port();
    let mut agent_process = agent(dir.path(), port);
    // No kept-alive connections: the agent is restarted half-way.
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let tokens: serde_json::Value = client
        .get(format!("http://127.0.0.1:{port}/v1/tokens"))
        .header("origin", PORTAL)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
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
    let res = client
        .post(format!("http://127.0.0.1:{port}/v1/tokens/no-such-token/pin"))
        .header("origin", PORTAL)
        .json(&serde_json::json!({ "pin": "123456" }))
        .send()
        .await
        .unwrap();
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
    let tokens: serde_json::Value = client
        .get(format!("http://127.0.0.1:{port}/v1/tokens"))
        .header("origin", PORTAL)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let medium = tokens[0]["medium_no"].as_str().unwrap().to_owned();
    let csr_url = format!("http://127.0.0.1:{port}/v1/tokens/{medium}/csr");

    // A wrong PIN makes nothing and counts.
    let res = client
        .post(&csr_url)
        .header("origin", PORTAL)
        .json(&serde_json::json!({ "pin": "000000", "label": "BH20261121000001" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap(),
        serde_json::json!({ "verified": false, "tries_left": 9, "locked": false })
    );

    let res = client
        .post(&csr_url)
        .header("origin", PORTAL)
        .json(&serde_json::json!({ "pin": "123456", "label": "BH20261121000001" }))
        .send()
        .await
        .unwrap();
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
        .header("origin", PORTAL)
        .json(&serde_json::json!({ "pin": "000000" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<serde_json::Value>().await.unwrap()["tries_left"], 9);
}

/// A throw-away CA that signs a request as the portal's CA would: (certificate PEM, CA PEM).
fn issue_for(csr_pem: &str) -> (String, String) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "Test Issuing CA");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let csr = rcgen::CertificateSigningRequestParams::from_pem(csr_pem).unwrap();
    (csr.signed_by(&issuer).unwrap().pem(), ca.pem())
}

/// A certificate (PEM) for a P-256 public key (SEC1) whose private key we do not have.
fn certificate_for(point: &[u8]) -> String {
    struct Point(Vec<u8>);
    impl rcgen::PublicKeyData for Point {
        fn der_bytes(&self) -> &[u8] {
            &self.0
        }
        fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
            &rcgen::PKCS_ECDSA_P256_SHA256
        }
    }
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    rcgen::CertificateParams::new(vec!["unlock".into()])
        .unwrap()
        .signed_by(&Point(point.to_vec()), &issuer)
        .unwrap()
        .pem()
}

#[tokio::test]
async fn the_issued_certificate_is_kept_next_to_its_key_which_signs_a_login_challenge() {
    let dir = tempfile::tempdir().unwrap();
    softhsm(dir.path(), "UKey 4");
    let port = free_port();
    let _agent = agent(dir.path(), port);
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let tokens: serde_json::Value =
        client.get(format!("{base}/v1/tokens")).header("origin", PORTAL).send().await.unwrap().json().await.unwrap();
    let medium = tokens[0]["medium_no"].as_str().unwrap().to_owned();
    let post = |path: String, body: serde_json::Value| {
        let client = client.clone();
        async move { client.post(path).header("origin", PORTAL).json(&body).send().await.unwrap() }
    };
    let made: serde_json::Value = post(
        format!("{base}/v1/tokens/{medium}/csr"),
        serde_json::json!({ "pin": "123456", "label": "BH20261121000002" }),
    )
    .await
    .json()
    .await
    .unwrap();
    let (cert_pem, ca_pem) = issue_for(made["csr_pem"].as_str().unwrap());

    // A certificate for a key the token does not hold is refused; garbage too.
    let key = rcgen::KeyPair::generate().unwrap();
    let stranger = rcgen::CertificateParams::new(vec!["stranger".into()]).unwrap().self_signed(&key).unwrap().pem();
    let certs_url = format!("{base}/v1/tokens/{medium}/certificates");
    let res = post(certs_url.clone(), serde_json::json!({ "pin": "123456", "certificate_pem": stranger })).await;
    assert_eq!(res.status(), 422);
    let res =
        post(certs_url.clone(), serde_json::json!({ "pin": "123456", "certificate_pem": "not a certificate" })).await;
    assert_eq!(res.status(), 422);
    let res = post(certs_url.clone(), serde_json::json!({ "pin": "654321", "certificate_pem": cert_pem })).await;
    assert_eq!(res.status(), 401);

    let res = post(
        certs_url.clone(),
        serde_json::json!({ "pin": "123456", "certificate_pem": cert_pem, "chain_pem": [ca_pem] }),
    )
    .await;
    assert_eq!(res.status(), 204);
    let listed: serde_json::Value =
        client.get(&certs_url).header("origin", PORTAL).send().await.unwrap().json().await.unwrap();
    let list = listed.as_array().unwrap();
    assert_eq!(list.len(), 2, "{listed}");
    let leaf = list.iter().find(|c| c["has_key"] == true).unwrap();
    assert_eq!(leaf["label"], "BH20261121000002");
    assert_eq!(leaf["pem"].as_str().unwrap().trim(), cert_pem.trim());
    assert!(list.iter().any(|c| c["has_key"] == false && c["label"] == "CertDesk CA"));

    // A login challenge, signed by the token; OpenSSL verifies it with the certificate.
    let challenge: Vec<u8> = (0u8..32).collect();
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let res = post(
        format!("{base}/v1/tokens/{medium}/sign"),
        serde_json::json!({ "pin": "123456", "certificate_sha256": leaf["sha256"], "challenge": b64.encode(&challenge) }),
    )
    .await;
    assert_eq!(res.status(), 200);
    let signed: serde_json::Value = res.json().await.unwrap();
    assert_eq!(signed["certificate_pem"].as_str().unwrap().trim(), cert_pem.trim());
    let d = dir.path();
    std::fs::write(d.join("challenge.bin"), &challenge).unwrap();
    std::fs::write(d.join("sig.der"), b64.decode(signed["signature"].as_str().unwrap()).unwrap()).unwrap();
    std::fs::write(d.join("cert.pem"), &cert_pem).unwrap();
    let pubkey =
        Command::new("openssl").args(["x509", "-pubkey", "-noout", "-in"]).arg(d.join("cert.pem")).output().unwrap();
    std::fs::write(d.join("pub.pem"), pubkey.stdout).unwrap();
    let verify = |file: &str| {
        Command::new("openssl")
            .args(["dgst", "-sha256", "-verify"])
            .arg(d.join("pub.pem"))
            .arg("-signature")
            .arg(d.join("sig.der"))
            .arg(d.join(file))
            .output()
            .unwrap()
    };
    let ok = verify("challenge.bin");
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stdout));
    std::fs::write(d.join("other.bin"), [1u8; 32]).unwrap();
    assert!(!verify("other.bin").status.success(), "a signature over other bytes does not verify");
    // Too short a challenge, or a certificate the token has no key for, gets nothing.
    let res = post(
        format!("{base}/v1/tokens/{medium}/sign"),
        serde_json::json!({ "pin": "123456", "certificate_sha256": leaf["sha256"], "challenge": b64.encode([0u8; 8]) }),
    )
    .await;
    assert_eq!(res.status(), 422);
    let ca_sha = list.iter().find(|c| c["has_key"] == false).unwrap()["sha256"].clone();
    let res = post(
        format!("{base}/v1/tokens/{medium}/sign"),
        serde_json::json!({ "pin": "123456", "certificate_sha256": ca_sha, "challenge": b64.encode(&challenge) }),
    )
    .await;
    assert_eq!(res.status(), 404);
}

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The portal's side of 证书解锁 after the SMS check, as `domain::token_unlock` does it: a
/// one-time challenge; the medium's current sealed secret (the portal's copy once it has
/// one, else the one the token carries), opened; the token's unlock key, sealed in with it,
/// must have signed the challenge, the agent's key and the next sealed secret; the next one
/// replaces the current one (so each opens once); the secret goes out sealed to the agent.
struct Portal {
    key: p256::SecretKey,
    current: std::collections::HashMap<String, Vec<u8>>,
    challenges: Vec<Vec<u8>>,
}

impl Portal {
    fn new() -> Portal {
        Portal { key: certdesk_shared::seal::new_key(), current: Default::default(), challenges: Vec::new() }
    }

    /// `POST /api/tokens/unlock/start`'s answer, as the page passes it to the agent.
    fn start(&mut self) -> serde_json::Value {
        use base64::Engine;
        let challenge = certdesk_shared::seal::random_bytes(32);
        self.challenges.push(challenge.clone());
        serde_json::json!({ "challenge": B64.encode(challenge), "portal_key": portal_key_b64(&self.key) })
    }

    fn grant(&mut self, challenge: &serde_json::Value, request: &serde_json::Value) -> Result<String, &'static str> {
        use base64::Engine;
        use certdesk_shared::agent::UNLOCK_KEY_LEN;
        use certdesk_shared::seal;
        let challenge = B64.decode(challenge["challenge"].as_str().unwrap()).unwrap();
        let at = self.challenges.iter().position(|c| *c == challenge).ok_or("challenge used or unknown")?;
        self.challenges.remove(at);
        let medium = request["medium_no"].as_str().unwrap();
        let sealed = match self.current.get(medium) {
            Some(kept) => kept.clone(),
            None => B64.decode(request["sealed_secret"].as_str().ok_or("nothing to open")?).unwrap(),
        };
        let opened = seal::open(&self.key, medium.as_bytes(), &sealed).ok_or("does not open")?;
        let (unlock_key, secret) = opened.split_at(UNLOCK_KEY_LEN);
        let agent_key = B64.decode(request["agent_key"].as_str().unwrap()).unwrap();
        let next = B64.decode(request["next_sealed_secret"].as_str().unwrap()).unwrap();
        let signature = B64.decode(request["signature"].as_str().unwrap()).unwrap();
        let message = certdesk_shared::agent::unlock_signed_bytes(medium, &challenge, &agent_key, &next);
        ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_ASN1, unlock_key)
            .verify(&message, &signature)
            .map_err(|_| "not signed by the token's unlock key")?;
        let next_opened = seal::open(&self.key, medium.as_bytes(), &next).ok_or("the next secret does not open")?;
        if &next_opened[..UNLOCK_KEY_LEN] != unlock_key {
            return Err("the next secret names another unlock key");
        }
        self.current.insert(medium.to_owned(), next);
        let agent = seal::public_from_bytes(&agent_key).ok_or("not a key")?;
        Ok(B64.encode(seal::seal(&agent, medium.as_bytes(), secret).unwrap()))
    }

    /// What the portal would open next for `medium` (only a test may look).
    fn secret(&self, medium: &str) -> Vec<u8> {
        let opened = certdesk_shared::seal::open(&self.key, medium.as_bytes(), &self.current[medium]).unwrap();
        opened[certdesk_shared::agent::UNLOCK_KEY_LEN..].to_vec()
    }
}

fn portal_key_b64(portal: &p256::SecretKey) -> String {
    use base64::Engine;
    B64.encode(certdesk_shared::seal::public_bytes(&portal.public_key()))
}

/// `certdesk-agent personalize` as the CA's counter runs it.
fn personalize(dir: &Path, so_pin: &str, portal: &p256::SecretKey) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_certdesk-agent"))
        .env("SOFTHSM2_CONF", dir.join("softhsm2.conf"))
        .env("RUST_LOG", "warn")
        .args(["--pkcs11-module", MODULE, "personalize", "--so-pin", so_pin, "--portal-key", &portal_key_b64(portal)])
        .output()
        .unwrap()
}

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    fn new(port: u16) -> Client {
        // No kept-alive connections: a test may restart the agent.
        Client {
            http: reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap(),
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    async fn post(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        let res =
            self.http.post(format!("{}{path}", self.base)).header("origin", PORTAL).json(&body).send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// `GET /v1/tokens`: every token the agent sees.
    async fn tokens(&self) -> serde_json::Value {
        self.http
            .get(format!("{}/v1/tokens", self.base))
            .header("origin", PORTAL)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// `GET /v1/tokens/{medium}/certificates`: what a token holds (no PIN needed).
    async fn certificates(&self, medium: &str) -> serde_json::Value {
        self.http
            .get(format!("{}/v1/tokens/{medium}/certificates", self.base))
            .header("origin", PORTAL)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn pin(&self, medium: &str, pin: &str) -> serde_json::Value {
        self.post(&format!("/v1/tokens/{medium}/pin"), serde_json::json!({ "pin": pin })).await.1
    }
}

#[tokio::test]
async fn a_personalised_ukey_locked_by_ten_wrong_pins_opens_only_with_the_portals_grant_and_a_new_pin() {
    let dir = tempfile::tempdir().unwrap();
    softhsm(dir.path(), "UKey 5");
    let mut portal = Portal::new();
    // Personalised: the initial SO PIN is replaced, and nobody was told the new one.
    let out = personalize(dir.path(), "87654321", &portal.key);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let medium = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let again = personalize(dir.path(), "87654321", &portal.key);
    assert!(
        !again.status.success() && String::from_utf8_lossy(&again.stderr).contains("SO PIN"),
        "the initial SO PIN no longer works: {again:?}"
    );

    let port = free_port();
    let _agent = agent(dir.path(), port);
    let c = Client::new(port);
    // Nothing to unlock with before a request.
    let grant = serde_json::json!({ "grant": "AAAA", "new_pin": "246810" });
    assert_eq!(c.post(&format!("/v1/tokens/{medium}/unlock"), grant).await.0, 410);

    // The unlock key signs unlock requests and nothing else: behind the user PIN, a page can
    // neither make a key under its label nor keep a certificate for it (and so have it sign
    // chosen bytes with `…/sign`).
    let (_, request) = c.post(&format!("/v1/tokens/{medium}/unlock-request"), portal.start()).await;
    let unlock_public = {
        use base64::Engine;
        let sealed = B64.decode(request["sealed_secret"].as_str().unwrap()).unwrap();
        certdesk_shared::seal::open(&portal.key, medium.as_bytes(), &sealed).unwrap()
            [..certdesk_shared::agent::UNLOCK_KEY_LEN]
            .to_vec()
    };
    assert_eq!(
        c.post(&format!("/v1/tokens/{medium}/csr"), serde_json::json!({ "pin": "123456", "label": "CertDesk unlock" }))
            .await
            .0,
        422
    );
    let for_unlock_key = certificate_for(&unlock_public);
    let (s, _) = c
        .post(
            &format!("/v1/tokens/{medium}/certificates"),
            serde_json::json!({ "pin": "123456", "certificate_pem": for_unlock_key }),
        )
        .await;
    assert_eq!(s, 422, "no certificate is kept for the unlock key");
    assert!(c.certificates(&medium).await.as_array().unwrap().is_empty());

    for _ in 0..10 {
        c.pin(&medium, "000000").await;
    }
    assert_eq!(c.pin(&medium, "123456").await["locked"], true);
    let tokens = c.tokens().await;
    assert_eq!(tokens[0]["pin_locked"], true, "{tokens}");

    let unlock_request = format!("/v1/tokens/{medium}/unlock-request");
    let unlock = format!("/v1/tokens/{medium}/unlock");
    // No request without the portal's challenge.
    assert_eq!(c.post(&unlock_request, serde_json::json!({})).await.0, 422);
    // The page swaps the agent's one-time key for its own: the token signed the agent's, so
    // the portal refuses (and the challenge is used up).
    let start = portal.start();
    let (s, request) = c.post(&unlock_request, start.clone()).await;
    assert_eq!(s, 200, "{request}");
    assert!(
        request["sealed_secret"].is_string(),
        "before its first unlock the token carries its sealed secret: {request}"
    );
    let mut swapped = request.clone();
    swapped["agent_key"] = serde_json::json!(portal_key_b64(&certdesk_shared::seal::new_key()));
    assert_eq!(portal.grant(&start, &swapped), Err("not signed by the token's unlock key"));
    assert_eq!(portal.grant(&start, &request), Err("challenge used or unknown"), "a challenge works once");
    // A grant sealed to another key does not open in the agent.
    let (_, request) = c.post(&unlock_request, portal.start()).await;
    let forged = {
        use base64::Engine;
        let opened = certdesk_shared::seal::open(
            &portal.key,
            medium.as_bytes(),
            &B64.decode(request["sealed_secret"].as_str().unwrap()).unwrap(),
        )
        .unwrap();
        let stranger = certdesk_shared::seal::new_key();
        B64.encode(
            certdesk_shared::seal::seal(
                &stranger.public_key(),
                medium.as_bytes(),
                &opened[certdesk_shared::agent::UNLOCK_KEY_LEN..],
            )
            .unwrap(),
        )
    };
    assert_eq!(c.post(&unlock, serde_json::json!({ "grant": forged, "new_pin": "246810" })).await.0, 403);
    assert_eq!(c.pin(&medium, "123456").await["locked"], true, "still locked");

    // The portal's grant for the agent's latest request, with a PIN the user chose (111111
    // is refused).
    let start = portal.start();
    let (_, request) = c.post(&unlock_request, start.clone()).await;
    let grant = portal.grant(&start, &request).unwrap();
    let old_so_pin = {
        use base64::Engine;
        let opened = certdesk_shared::seal::open(
            &portal.key,
            medium.as_bytes(),
            &B64.decode(request["sealed_secret"].as_str().unwrap()).unwrap(),
        )
        .unwrap();
        String::from_utf8(opened[certdesk_shared::agent::UNLOCK_KEY_LEN..].to_vec()).unwrap()
    };
    assert_eq!(c.post(&unlock, serde_json::json!({ "grant": grant, "new_pin": "111111" })).await.0, 422);
    assert_eq!(c.post(&unlock, serde_json::json!({ "grant": grant, "new_pin": "246810" })).await.0, 204);
    // The one-time key is used up with it.
    assert_eq!(c.post(&unlock, serde_json::json!({ "grant": grant, "new_pin": "246810" })).await.0, 410);
    assert_eq!(
        c.pin(&medium, "246810").await,
        serde_json::json!({ "verified": true, "tries_left": 10, "locked": false })
    );
    assert_eq!(c.pin(&medium, "123456").await["verified"], false, "the old PIN is gone");

    // The SO PIN the grant carried is spent: the token took the next one, and no longer
    // carries a sealed copy (the portal keeps the current one).
    let (_, again) = c.post(&unlock_request, portal.start()).await;
    assert!(again["sealed_secret"].is_null(), "{again}");
    drop(_agent);
    let out = personalize(dir.path(), &old_so_pin, &portal.key);
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("SO PIN"),
        "the released SO PIN no longer works: {out:?}"
    );
    let _agent = agent(dir.path(), port);

    // Locked again: the next unlock opens with the secret the portal kept, and replaces it too.
    for _ in 0..10 {
        c.pin(&medium, "000000").await;
    }
    let start = portal.start();
    let (_, request) = c.post(&unlock_request, start.clone()).await;
    let kept = portal.secret(&medium);
    let grant = portal.grant(&start, &request).unwrap();
    assert_eq!(c.post(&unlock, serde_json::json!({ "grant": grant, "new_pin": "246810" })).await.0, 204);
    assert_ne!(portal.secret(&medium), kept);
    let out = personalize(dir.path(), std::str::from_utf8(&kept).unwrap(), &portal.key);
    assert!(!out.status.success(), "the second SO PIN is spent too: {out:?}");
    let current = portal.secret(&medium);
    let out = personalize(dir.path(), std::str::from_utf8(&current).unwrap(), &portal.key);
    assert!(
        out.status.success(),
        "the token's SO PIN is the one the portal keeps: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // 修改PIN码: behind the current PIN, to a PIN that passes the rules.
    let change = format!("/v1/tokens/{medium}/pin/change");
    assert_eq!(c.post(&change, serde_json::json!({ "old_pin": "999999", "new_pin": "135791" })).await.0, 401);
    assert_eq!(c.post(&change, serde_json::json!({ "old_pin": "246810", "new_pin": "654321" })).await.0, 422);
    assert_eq!(c.post(&change, serde_json::json!({ "old_pin": "246810", "new_pin": "135791" })).await.0, 204);
    assert_eq!(c.pin(&medium, "135791").await["verified"], true);
}

#[tokio::test]
async fn a_pc_soft_shield_keeps_its_key_behind_its_pin_and_signs_and_unlocks_like_a_ukey() {
    let dir = tempfile::tempdir().unwrap();
    softhsm(dir.path(), "UKey 6");
    let port = free_port();
    let _agent = agent(dir.path(), port);
    let c = Client::new(port);
    let mut portal = Portal::new();
    let key = portal_key_b64(&portal.key);

    for bad in [
        serde_json::json!({ "label": "我的软盾", "pin": "123456", "portal_key": key }),
        serde_json::json!({ "label": "我的软盾", "pin": "135790", "portal_key": "bm90IGEga2V5" }),
        serde_json::json!({ "label": " ", "pin": "135790", "portal_key": key }),
    ] {
        assert_eq!(c.post("/v1/shields", bad).await.0, 422);
    }
    let (s, shield) =
        c.post("/v1/shields", serde_json::json!({ "label": "我的软盾", "pin": "135790", "portal_key": key })).await;
    assert_eq!(
        (s, shield["kind"].as_str(), shield["label"].as_str()),
        (201, Some("pc_shield"), Some("我的软盾")),
        "{shield}"
    );
    let medium = shield["medium_no"].as_str().unwrap().to_owned();
    let tokens = c.tokens().await;
    assert_eq!(
        tokens.as_array().unwrap().iter().map(|t| t["kind"].as_str().unwrap()).collect::<Vec<_>>(),
        ["ukey", "pc_shield"]
    );

    // The same operations as a UKey: a key, its request, the certificate, a signature.
    assert_eq!(
        c.post(&format!("/v1/tokens/{medium}/csr"), serde_json::json!({ "pin": "000000", "label": "BH1" })).await.1["tries_left"],
        9
    );
    let (s, made) =
        c.post(&format!("/v1/tokens/{medium}/csr"), serde_json::json!({ "pin": "135790", "label": "BH1" })).await;
    assert_eq!(s, 200);
    let (cert_pem, ca_pem) = issue_for(made["csr_pem"].as_str().unwrap());
    let (s, _) = c
        .post(
            &format!("/v1/tokens/{medium}/certificates"),
            serde_json::json!({ "pin": "135790", "certificate_pem": cert_pem, "chain_pem": [ca_pem] }),
        )
        .await;
    assert_eq!(s, 204);
    let listed = c.certificates(&medium).await;
    let leaf = listed.as_array().unwrap().iter().find(|x| x["has_key"] == true).unwrap().clone();
    use base64::Engine;
    let challenge = [7u8; 32];
    let (s, signed) = c
        .post(&format!("/v1/tokens/{medium}/sign"), serde_json::json!({ "pin": "135790", "certificate_sha256": leaf["sha256"], "challenge": B64.encode(challenge) }))
        .await;
    assert_eq!(s, 200, "{signed}");
    // The signature verifies with the certificate's public key (ring, as the portal does).
    let der = pem_der(&cert_pem);
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    let point = cert.public_key().subject_public_key.data.to_vec();
    let signature = B64.decode(signed["signature"].as_str().unwrap()).unwrap();
    let verify = |msg: &[u8]| {
        ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_ASN1, &point)
            .verify(msg, &signature)
            .is_ok()
    };
    assert!(verify(&challenge) && !verify(&[8u8; 32]));

    // Unlock with the portal's grant, as for a UKey, twice: the unlock secret is replaced
    // each time, and the second opens with what the portal kept from the first.
    let file = dir.path().join("agent").join("shields").join(format!("{medium}.json"));
    let before = std::fs::read_to_string(&file).unwrap();
    for new_pin in ["864209", "975318"] {
        let start = portal.start();
        let (s, request) = c.post(&format!("/v1/tokens/{medium}/unlock-request"), start.clone()).await;
        assert_eq!(s, 200, "{request}");
        let grant = portal.grant(&start, &request).unwrap();
        assert_eq!(
            c.post(&format!("/v1/tokens/{medium}/unlock"), serde_json::json!({ "grant": grant, "new_pin": new_pin }))
                .await
                .0,
            204
        );
        assert_eq!(c.pin(&medium, new_pin).await["verified"], true);
        assert_eq!(c.pin(&medium, "135790").await["verified"], false);
    }
    let after: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let before: serde_json::Value = serde_json::from_str(&before).unwrap();
    assert_ne!(after["unlock_wrapped"], before["unlock_wrapped"], "the unlock secret was replaced");
    assert!(after["sealed_unlock"].is_null() && before["sealed_unlock"].is_string(), "the spent sealed copy is gone");
}

fn pem_der(pem: &str) -> Vec<u8> {
    pem_rfc7468::decode_vec(pem.as_bytes()).unwrap().1
}

/// An RSA-2048 key made on `medium` (an encryption profile's key): its request verifies, the
/// certificate finds the key by its modulus, and the key signs (PKCS#1 v1.5, SHA-256).
async fn rsa_round_trip(c: &Client, dir: &Path, medium: &str, pin: &str) {
    use base64::Engine;
    let (s, made) = c
        .post(
            &format!("/v1/tokens/{medium}/csr"),
            serde_json::json!({ "pin": pin, "label": "BH-RSA", "algorithm": "rsa2048" }),
        )
        .await;
    assert_eq!(s, 200, "{made}");
    let pem = made["csr_pem"].as_str().unwrap();
    let file = dir.join(format!("rsa-{medium}.pem"));
    std::fs::write(&file, pem).unwrap();
    let out = Command::new("openssl").args(["req", "-verify", "-noout", "-text", "-in"]).arg(&file).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && text.contains("verify OK"), "{text}");
    assert!(text.contains("rsaEncryption") && text.contains("2048 bit"), "{text}");

    let (cert_pem, ca_pem) = issue_for(pem);
    let (s, _) = c
        .post(
            &format!("/v1/tokens/{medium}/certificates"),
            serde_json::json!({ "pin": pin, "certificate_pem": cert_pem, "chain_pem": [ca_pem] }),
        )
        .await;
    assert_eq!(s, 204);
    let listed = c.certificates(medium).await;
    let leaf = listed.as_array().unwrap().iter().find(|x| x["label"] == "BH-RSA" && x["has_key"] == true).cloned();
    let leaf = leaf.unwrap_or_else(|| panic!("no RSA certificate with its key: {listed}"));
    let challenge = [9u8; 32];
    let (s, signed) = c
        .post(
            &format!("/v1/tokens/{medium}/sign"),
            serde_json::json!({ "pin": pin, "certificate_sha256": leaf["sha256"], "challenge": B64.encode(challenge) }),
        )
        .await;
    assert_eq!(s, 200, "{signed}");
    let der = pem_der(&cert_pem);
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    let public = cert.public_key().subject_public_key.data.to_vec();
    let signature = B64.decode(signed["signature"].as_str().unwrap()).unwrap();
    let verify = |msg: &[u8]| {
        ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, &public)
            .verify(msg, &signature)
            .is_ok()
    };
    assert!(verify(&challenge) && !verify(&[8u8; 32]));
}

#[tokio::test]
async fn an_encryption_profile_gets_an_rsa_2048_key_on_a_ukey_and_on_a_soft_shield() {
    let dir = tempfile::tempdir().unwrap();
    softhsm(dir.path(), "UKey 7");
    let port = free_port();
    let _agent = agent(dir.path(), port);
    let c = Client::new(port);
    let tokens = c.tokens().await;
    let ukey = tokens[0]["medium_no"].as_str().unwrap().to_owned();
    rsa_round_trip(&c, dir.path(), &ukey, "123456").await;

    let portal = Portal::new();
    let (_, shield) = c
        .post(
            "/v1/shields",
            serde_json::json!({ "label": "RSA软盾", "pin": "135790", "portal_key": portal_key_b64(&portal.key) }),
        )
        .await;
    rsa_round_trip(&c, dir.path(), shield["medium_no"].as_str().unwrap(), "135790").await;
}

#[tokio::test]
async fn parallel_wrong_pins_stop_at_ten_and_a_locked_token_signs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    softhsm(dir.path(), "UKey 8");
    let port = free_port();
    let _agent = agent(dir.path(), port);
    let c = Client::new(port);
    let tokens = c.tokens().await;
    let medium = tokens[0]["medium_no"].as_str().unwrap().to_owned();
    // A certificate to sign with, made while the PIN still opens the token.
    let (_, made) =
        c.post(&format!("/v1/tokens/{medium}/csr"), serde_json::json!({ "pin": "123456", "label": "BH-LOCK" })).await;
    let (cert_pem, _) = issue_for(made["csr_pem"].as_str().unwrap());
    assert_eq!(
        c.post(
            &format!("/v1/tokens/{medium}/certificates"),
            serde_json::json!({ "pin": "123456", "certificate_pem": cert_pem })
        )
        .await
        .0,
        204
    );
    let listed = c.certificates(&medium).await;
    let sha = listed[0]["sha256"].clone();

    // 30 wrong PINs at once: exactly 10 reach the token, every other one is refused as locked.
    let pin_path = format!("/v1/tokens/{medium}/pin");
    let tries = (0..30).map(|_| c.post(&pin_path, serde_json::json!({ "pin": "000000" })));
    let answers = futures::future::join_all(tries).await;
    assert!(answers.iter().all(|(s, v)| *s == 200 && v["verified"] == false), "{answers:?}");
    let left: std::collections::BTreeSet<u64> = answers.iter().filter_map(|(_, v)| v["tries_left"].as_u64()).collect();
    assert_eq!(left, (0..=9).collect(), "the counts 9 down to 0: {answers:?}");
    assert_eq!(answers.iter().filter(|(_, v)| v["locked"] == false).count(), 9, "{answers:?}");
    // Locked: the right PIN opens nothing, on any route that takes it.
    use base64::Engine;
    for (path, body) in [
        ("pin", serde_json::json!({ "pin": "123456" })),
        ("csr", serde_json::json!({ "pin": "123456", "label": "BH-2" })),
        ("sign", serde_json::json!({ "pin": "123456", "certificate_sha256": sha, "challenge": B64.encode([1u8; 32]) })),
        ("pin/change", serde_json::json!({ "old_pin": "123456", "new_pin": "246813" })),
    ] {
        let (_, v) = c.post(&format!("/v1/tokens/{medium}/{path}"), body).await;
        assert_eq!((v["verified"].as_bool(), v["locked"].as_bool()), (Some(false), Some(true)), "{path}: {v}");
    }
}
