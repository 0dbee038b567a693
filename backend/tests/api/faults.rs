//! Crashes (issue 19): real `certdesk` servers — two on one PostgreSQL, or one on SQLite —
//! under a mixed load of customers and staff (registrations, drafts, WeChat Pay payments with
//! replayed notifications, submissions, reviews, issuance, freezes by holder and staff,
//! self-revocations), one of them killed with SIGKILL at random moments and started again.
//! Afterwards, from the database and from outside:
//! - no serial was issued twice;
//! - every submission, payment, issuance, freeze and revocation the servers acknowledged is
//!   there; every paid order was recorded exactly once (one `payment_received` in the trail),
//!   and every trade the provider took money for is recorded (the timers ask the provider
//!   about orders whose notification was lost with a killed server);
//! - every revoked or frozen certificate is in the CRL its certificate names and OCSP answers
//!   revoked; no CRL's number ever went down while the servers were killed;
//! - the audit chain verifies (`certdesk audit verify`);
//! - a journey only ever failed because its server was killed under it: any other failure
//!   (a wrong answer from the survivor or the restarted server) fails the test.
//!
//! The API suite runs a short version (3 kills); `cargo xtask faults` runs 100 per database
//! (`FAULTS_KILLS`) and prints the figures.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use certdesk::AppState;
use certdesk::entity::{certificate, payment_order, request, sandbox_trade};
use certdesk_shared::admin::StaffRole;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Statement};
use serde_json::json;

use crate::accounts::staff_browser;
use crate::apply::{CHALLENGE_PHRASE, complete_draft};
use crate::ca::{Files, crl_number, crl_url_of, openssl_ocsp};
use crate::directory::issue_into;
use crate::helpers::{TestApp, attached, test_config};
use crate::payment::{pay, payments_received, replay_notification};

fn random(below: u64) -> u64 {
    u64::from_le_bytes(uuid::Uuid::new_v4().as_bytes()[..8].try_into().unwrap()) % below
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One `certdesk` process on a fixed port, started again on the same port after each kill.
struct Server {
    port: u16,
    env: Vec<(String, String)>,
    log: std::path::PathBuf,
    child: Option<Child>,
}

impl Server {
    fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    fn start(&mut self) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_certdesk"))
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("certdesk");
        self.child = Some(child);
    }

    /// SIGKILL (what `Child::kill` sends on Unix): no handler runs, nothing is flushed.
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    async fn wait_healthy(&mut self, client: &reqwest::Client) -> Duration {
        let started = Instant::now();
        loop {
            let up = client.get(format!("http://{}/api/health", self.addr())).send().await;
            if up.is_ok_and(|r| r.status() == StatusCode::OK) {
                return started.elapsed();
            }
            if let Some(c) = self.child.as_mut()
                && let Ok(Some(code)) = c.try_wait()
            {
                panic!(
                    "the server exited at start ({code}):\n{}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            assert!(started.elapsed() < Duration::from_secs(90), "the server did not come up");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// What the servers acknowledged (a 2xx answer that reached the client).
#[derive(Default)]
struct Acks {
    /// Application id → acceptance number.
    submitted: BTreeMap<String, String>,
    /// Out-trade-no of orders seen paid.
    paid: BTreeSet<String>,
    issued: BTreeSet<String>,
    frozen: BTreeSet<String>,
    revoked: BTreeSet<String>,
}

/// One customer's way from registration to a certificate and what they do with it next, on
/// one server (with a staff member's session on the same server).
async fn journey(app: &TestApp, acks: &Mutex<Acks>) {
    let (mut admin, _) = staff_browser(app, StaffRole::Administrator).await;
    let settlement = random(3) == 0;
    let (mut b, id, mobile) = complete_draft(app, &mut admin, settlement).await;
    if !settlement {
        let order = pay(app, &mut b, &id).await;
        acks.lock().unwrap().paid.insert(order["out_trade_no"].as_str().unwrap().to_owned());
        if random(3) == 0 {
            // The provider delivers the same notification again: still paid once.
            replay_notification(app, &order).await;
        }
    }
    let (s, v) = b.post(&format!("/api/applications/{id}/submit"), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let acceptance = v["acceptance_no"].as_str().unwrap().to_owned();
    acks.lock().unwrap().submitted.insert(id.clone(), acceptance.clone());
    let (uid, serial, _, _) = issue_into(app, &mut admin, &id, &acceptance, &mobile, None).await;
    acks.lock().unwrap().issued.insert(serial.clone());
    match random(4) {
        0 => {
            let (s, v) = b.post(&format!("/api/my-certificates/{uid}/freeze"), json!({})).await;
            assert_eq!(s, StatusCode::OK, "{v}");
            acks.lock().unwrap().frozen.insert(serial);
        }
        1 => {
            let body = json!({ "comment": "持有人来电挂失" });
            let (s, v) = admin.post(&format!("/api/admin/certificates/{uid}/freeze"), body).await;
            assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
            acks.lock().unwrap().frozen.insert(serial);
        }
        2 => {
            let body = json!({ "challenge_phrase": CHALLENGE_PHRASE, "reason": "key_compromise" });
            let (s, v) = b.post(&format!("/api/public/certificates/{uid}/revoke"), body).await;
            assert_eq!(s, StatusCode::OK, "{v}");
            acks.lock().unwrap().revoked.insert(serial);
        }
        _ => {}
    }
}

/// A journey's panic: the server went away under it (a transport error), or anything else.
fn interrupted_by_the_kill(message: &str) -> bool {
    message.contains("reqwest::Error")
}

fn panic_text(e: tokio::task::JoinError) -> String {
    match e.try_into_panic() {
        Ok(p) => p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default(),
        Err(e) => e.to_string(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_servers_lose_nothing_they_acknowledged_and_issue_no_serial_twice() {
    let kills: u32 = std::env::var("FAULTS_KILLS").ok().and_then(|k| k.parse().ok()).unwrap_or(3);
    let (dir, config) = test_config().await;
    let database = config.database_url.clone().expect("a test database");
    let two = database.starts_with("postgres");
    let ports: Vec<u16> = (0..if two { 2 } else { 1 }).map(|_| free_port()).collect();
    // Behind one address, as behind a load balancer: the certificates name one public URL.
    let public_url = format!("http://localhost:{}", ports[0]);
    let mut config = config;
    config.public_url = public_url.clone();
    // This process's view of the database and the data directory (the CA and the audit key
    // made once, before any server starts).
    let state = AppState::new(config.clone()).await.expect("state");
    let mut servers: Vec<Server> = ports
        .iter()
        .enumerate()
        .map(|(i, &port)| Server {
            port,
            log: dir.path().join(format!("server-{i}.log")),
            child: None,
            env: [
                ("CERTDESK_BIND", format!("127.0.0.1:{port}")),
                ("CERTDESK_DATA_DIR", config.data_dir.display().to_string()),
                ("CERTDESK_STATIC_DIR", config.static_dir.display().to_string()),
                ("CERTDESK_PUBLIC_URL", public_url.clone()),
                // Each server's payment clients reach the sandbox on itself, and the sandbox
                // notifies the server it runs in.
                ("CERTDESK_SANDBOX_URL", format!("http://127.0.0.1:{port}")),
                ("CERTDESK_CALLBACK_URL", format!("http://127.0.0.1:{port}")),
                ("CERTDESK_DEV", "true".into()),
                ("CERTDESK_INSECURE_CAPTCHA_ECHO", "true".into()),
                // Each journey comes from an address of its own (the per-address limits stay
                // the production ones).
                ("CERTDESK_TRUST_FORWARDED_FOR", "true".into()),
                ("CERTDESK_PAYMENT_RECONCILE_INTERVAL_SECS", "1".into()),
                ("DATABASE_URL", database.clone()),
                ("CERTDESK_CA_PASSPHRASE", config.ca_passphrase.clone().unwrap_or_default()),
                ("CERTDESK_AUDIT_KEY", config.audit_key.clone().unwrap_or_default()),
                ("CERTDESK_CA_ORGANISATION", config.ca_organisation.clone()),
                ("CERTDESK_CA_NAME", config.ca_name.clone()),
                ("RUST_LOG", "warn".into()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
        })
        .collect();
    let probe = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    for s in &mut servers {
        s.start();
        s.wait_healthy(&probe).await;
    }
    let addrs: Vec<SocketAddr> = servers.iter().map(Server::addr).collect();

    let stop = Arc::new(AtomicBool::new(false));
    let acks = Arc::new(Mutex::new(Acks::default()));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let (completed, interrupted) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));

    // Four customers at a time, each journey on a server picked at random.
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (stop, acks, failures, state, addrs) =
                (stop.clone(), acks.clone(), failures.clone(), state.clone(), addrs.clone());
            let (completed, interrupted) = (completed.clone(), interrupted.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let addr = addrs[random(addrs.len() as u64) as usize];
                    let ip = format!("10.{}.{}.{}", random(250) + 1, random(250), random(250) + 1);
                    let mut headers = reqwest::header::HeaderMap::new();
                    headers.insert("x-forwarded-for", ip.parse().unwrap());
                    let client = reqwest::Client::builder()
                        .default_headers(headers)
                        .timeout(Duration::from_secs(30))
                        .build()
                        .unwrap();
                    let app = Arc::new(attached(addr, state.clone(), client));
                    let acks = acks.clone();
                    match tokio::spawn(async move { journey(&app, &acks).await }).await {
                        Ok(()) => {
                            completed.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => {
                            let text = panic_text(e);
                            if interrupted_by_the_kill(&text) {
                                interrupted.fetch_add(1, Ordering::Relaxed);
                                tokio::time::sleep(Duration::from_millis(200)).await;
                            } else {
                                failures.lock().unwrap().push(text);
                            }
                        }
                    }
                }
            })
        })
        .collect();

    // Every CRL's number as served, sampled throughout: it may only grow.
    let crl_numbers = Arc::new(Mutex::new(BTreeMap::<String, u64>::new()));
    let went_down = Arc::new(Mutex::new(Vec::<String>::new()));
    let sampler = {
        let (stop, addrs, numbers, went_down) = (stop.clone(), addrs.clone(), crl_numbers.clone(), went_down.clone());
        let client = probe.clone();
        let public_url = public_url.clone();
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(500)).await;
                let base = format!("http://{}", addrs[random(addrs.len() as u64) as usize]);
                let Ok(r) = client.get(format!("{base}/ca/issuing-crls.json")).send().await else { continue };
                let Ok(urls) = r.json::<Vec<String>>().await else { continue };
                for url in urls {
                    let path = url.strip_prefix(&public_url).unwrap_or(&url).to_owned();
                    let Ok(r) = client.get(format!("{base}{path}")).send().await else { break };
                    if r.status() != StatusCode::OK {
                        continue;
                    }
                    let Ok(der) = r.bytes().await else { break };
                    let n = crl_number(&der);
                    let mut seen = numbers.lock().unwrap();
                    let before = seen.insert(path.clone(), n).unwrap_or(0);
                    if n < before {
                        went_down.lock().unwrap().push(format!("{path}: {before} then {n}"));
                    }
                }
            }
        })
    };

    // The kills: a random server at a random moment, started again at once.
    let mut restarts = Vec::new();
    tokio::time::sleep(Duration::from_secs(3)).await;
    for _ in 0..kills {
        tokio::time::sleep(Duration::from_millis(200 + random(1800))).await;
        let victim = &mut servers[random(addrs.len() as u64) as usize];
        victim.kill();
        victim.start();
        restarts.push(victim.wait_healthy(&probe).await);
    }
    // A last stretch without kills, then the load stops.
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }
    sampler.await.unwrap();
    let acks = std::mem::take(&mut *acks.lock().unwrap());
    let db = &state.db;

    // Trades the provider took money for are all recorded: those whose notification died
    // with a server are found by the timers' rounds (a new order waits 30 s for its
    // notification first).
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let mut unrecorded = Vec::new();
        for t in sandbox_trade::Entity::find().filter(sandbox_trade::Column::State.eq("SUCCESS")).all(db).await.unwrap()
        {
            let o = payment_order::Entity::find_by_id(t.out_trade_no.clone()).one(db).await.unwrap();
            if o.is_none_or(|o| o.status != "paid") {
                unrecorded.push(t.out_trade_no);
            }
        }
        if unrecorded.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "paid at the provider but never recorded: {unrecorded:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // No serial twice.
    let twice = db
        .query_all(Statement::from_string(
            db.get_database_backend(),
            "SELECT serial FROM certificate GROUP BY serial HAVING COUNT(*) > 1",
        ))
        .await
        .unwrap();
    assert!(twice.is_empty(), "a serial was issued twice");

    // Every acknowledged submission is there, past its draft.
    for (id, acceptance) in &acks.submitted {
        let r = request::Entity::find_by_id(id.clone()).one(db).await.unwrap().expect("an acknowledged submission");
        assert_eq!(r.acceptance_no.as_deref(), Some(acceptance.as_str()));
        assert_ne!(r.status, request::Status::Draft);
    }
    // Every paid order (acknowledged or found by the timers) recorded once.
    for o in payment_order::Entity::find().filter(payment_order::Column::Status.eq("paid")).all(db).await.unwrap() {
        let app = attached(addrs[0], state.clone(), probe.clone());
        assert_eq!(payments_received(&app, &o.out_trade_no).await, 1, "{}", o.out_trade_no);
    }
    for out_trade_no in &acks.paid {
        let o = payment_order::Entity::find_by_id(out_trade_no.clone()).one(db).await.unwrap().unwrap();
        assert_eq!(o.status, "paid");
    }
    // Issued, frozen and revoked certificates as acknowledged; the frozen and the revoked in
    // the CRL their certificate names, and revoked by OCSP.
    let app = attached(addrs[0], state.clone(), probe.clone());
    let files = Files { dir: tempfile::tempdir().unwrap() };
    for serial in &acks.issued {
        let c = certificate::Entity::find()
            .filter(certificate::Column::Serial.eq(serial.to_ascii_lowercase()))
            .one(db)
            .await
            .unwrap()
            .expect("an acknowledged issuance");
        let expected = if acks.revoked.contains(serial) {
            Some("revoked")
        } else if acks.frozen.contains(serial) {
            Some("hold")
        } else {
            None
        };
        let Some(expected) = expected else { continue };
        assert_eq!(c.status, expected, "{serial}");
        let url = crl_url_of(&c.der);
        let path = url.strip_prefix(&public_url).unwrap();
        let crl = app.get(path).await.bytes().await.unwrap();
        let (_, parsed) = x509_parser::parse_x509_crl(&crl).unwrap();
        assert!(
            parsed.iter_revoked_certificates().any(|r| r.raw_serial_as_string().replace(':', "") == *serial),
            "{serial} is not in {path}"
        );
        let answer = openssl_ocsp(&files, &app, serial, &[]);
        assert!(answer.contains(": revoked"), "{answer}");
    }
    let went_down = went_down.lock().unwrap().clone();
    assert!(went_down.is_empty(), "a CRL number went down: {went_down:?}");

    // The audit chain, by the command an operator runs.
    let verify = Command::new(env!("CARGO_BIN_EXE_certdesk"))
        .args(["audit", "verify"])
        .env("CERTDESK_DATA_DIR", &config.data_dir)
        .env("DATABASE_URL", &database)
        .env("CERTDESK_AUDIT_KEY", config.audit_key.clone().unwrap_or_default())
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );

    let failures = failures.lock().unwrap().clone();
    let (completed, interrupted) = (completed.load(Ordering::Relaxed), interrupted.load(Ordering::Relaxed));
    restarts.sort();
    println!(
        "faults on {}: {} server(s), {kills} kills survived; journeys {completed} completed, {interrupted} \
         interrupted by a kill, {} failed otherwise; acknowledged: {} submissions, {} payments, {} issued, \
         {} frozen, {} revoked; {} CRLs sampled; restart to healthy: median {:?}, max {:?}",
        if two { "PostgreSQL" } else { "SQLite" },
        addrs.len(),
        failures.len(),
        acks.submitted.len(),
        acks.paid.len(),
        acks.issued.len(),
        acks.frozen.len(),
        acks.revoked.len(),
        crl_numbers.lock().unwrap().len(),
        restarts.get(restarts.len() / 2).copied().unwrap_or_default(),
        restarts.last().copied().unwrap_or_default(),
    );
    if !failures.is_empty() {
        let errors: Vec<String> = servers
            .iter()
            .flat_map(|s| {
                std::fs::read_to_string(&s.log).unwrap_or_default().lines().map(str::to_owned).collect::<Vec<_>>()
            })
            .filter(|l| l.contains("ERROR"))
            .collect();
        panic!(
            "journeys failed for another reason than a kill:\n{}\nthe servers' errors:\n{}",
            failures.join("\n---\n"),
            errors.join("\n")
        );
    }
    assert!(completed > 0, "no journey completed");
    for s in &servers {
        let log = std::fs::read_to_string(&s.log).unwrap_or_default();
        assert!(!log.contains("panicked"), "{log}");
    }
    drop(servers);
    drop(dir);
}
