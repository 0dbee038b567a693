//! The fault harness: real `certdesk` binaries on one database under a mixed load of
//! customer journeys, what the servers acknowledged, and the invariants checked afterwards.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use certdesk::AppState;
use certdesk::entity::{certificate, payment_order, request, sandbox_trade};
use certdesk_shared::admin::StaffRole;
use certdesk_shared::certificate::RevocationReason;
use certdesk_shared::directory::SelfRevocation;
use certdesk_shared::endpoint::{self, Endpoint};
use certdesk_shared::freeze::StaffFreeze;
use certdesk_shared::request::RequestView;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Statement};

use crate::helpers::browser::{decode, staff_browser};
use crate::helpers::ca::{Files, crl_number, crl_url_of, openssl_ocsp, pem_to_der};
use crate::helpers::issuing::{CHALLENGE_PHRASE, complete_draft, issue_into};
use crate::helpers::payment::{pay, payments_received, replay_notification};
use crate::helpers::{TestApp, attached, free_port, test_config};

pub fn random(below: u64) -> u64 {
    u64::from_le_bytes(uuid::Uuid::new_v4().as_bytes()[..8].try_into().unwrap()) % below
}

/// An IPv4 address for one client (the servers trust X-Forwarded-For): each customer comes
/// from an address of its own, so the production per-address limits stay on.
pub fn random_address() -> String {
    format!("10.{}.{}.{}", random(250) + 1, random(250), random(250) + 1)
}

/// A client whose every request says it comes from a random address of its own.
pub fn client_from_an_address_of_its_own() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-forwarded-for", random_address().parse().unwrap());
    reqwest::Client::builder().default_headers(headers).timeout(Duration::from_secs(30)).build().unwrap()
}

/// One `certdesk` process on a fixed port, started again on the same port after each kill.
pub struct Server {
    port: u16,
    env: Vec<(String, String)>,
    log: std::path::PathBuf,
    pub child: Option<Child>,
}

impl Server {
    fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    pub fn start(&mut self) {
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

    /// What the server has written to its log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL (what `Child::kill` sends on Unix): no handler runs, nothing is flushed.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub async fn wait_healthy(&mut self, client: &reqwest::Client) -> Duration {
        let started = Instant::now();
        loop {
            let up = client.get(format!("http://{}{}", self.addr(), endpoint::Health::PATH)).send().await;
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
    /// Serial → the certificate as the answer gave it (PEM).
    issued: BTreeMap<String, String>,
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
        acks.lock().unwrap().paid.insert(order.out_trade_no.clone());
        if random(3) == 0 {
            // The provider delivers the same notification again: still paid once.
            replay_notification(app, &order).await;
        }
    }
    let (s, v) = b.send::<endpoint::SubmitApplication>(&[&id], &()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let acceptance = decode::<RequestView>(&v).acceptance_no.expect("an acceptance number");
    acks.lock().unwrap().submitted.insert(id.clone(), acceptance.clone());
    let (uid, serial, pem, _) = issue_into(app, &mut admin, &id, &acceptance, &mobile, None).await;
    acks.lock().unwrap().issued.insert(serial.clone(), pem);
    match random(4) {
        0 => {
            let (s, v) = b.send::<endpoint::Freeze>(&[&uid], &()).await;
            assert_eq!(s, StatusCode::OK, "{v}");
            acks.lock().unwrap().frozen.insert(serial);
        }
        1 => {
            let body = StaffFreeze { comment: "持有人来电挂失".into() };
            let (s, v) = admin.send::<endpoint::StaffFreeze>(&[&uid], &body).await;
            assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
            acks.lock().unwrap().frozen.insert(serial);
        }
        2 => {
            let body =
                SelfRevocation { challenge_phrase: CHALLENGE_PHRASE.into(), reason: RevocationReason::KeyCompromise };
            let (s, v) = b.send::<endpoint::RevokeByChallengePhrase>(&[&uid], &body).await;
            assert_eq!(s, StatusCode::OK, "{v}");
            acks.lock().unwrap().revoked.insert(serial);
        }
        _ => {}
    }
}

/// Which failures of a journey the scenario expects.
#[derive(Clone, Copy)]
pub enum Tolerance {
    /// A transport error (never a timeout) of a journey whose server was down (killed, not
    /// yet healthy again) at some moment while it ran.
    Kills,
    /// None at all.
    Nothing,
    /// A journey that ended after the database went away (the first moment) and began before
    /// it was back (the second; `None` while it is away).
    Window(Instant, Option<Instant>),
}

/// A server down: killed at `from`, healthy again at `until`.
pub struct Down {
    pub server: SocketAddr,
    pub from: Instant,
    pub until: Option<Instant>,
}

/// One journey: the server it ran on, and when it began and ended.
struct Ran {
    server: SocketAddr,
    began: Instant,
    ended: Instant,
}

impl Tolerance {
    fn tolerates(&self, message: &str, ran: &Ran, kills: &[Down]) -> bool {
        match *self {
            Tolerance::Kills => {
                message.contains("reqwest::Error")
                    && !message.contains("TimedOut")
                    && kills.iter().any(|d| {
                        d.server == ran.server && d.from <= ran.ended && d.until.is_none_or(|until| until >= ran.began)
                    })
            }
            Tolerance::Nothing => false,
            Tolerance::Window(from, back) => ran.ended >= from && back.is_none_or(|back| ran.began <= back),
        }
    }
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

pub fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|k| k.parse().ok()).unwrap_or(default)
}

/// Servers on one database, the load on them, and what it was told.
pub struct Harness {
    dir: tempfile::TempDir,
    config: certdesk::Config,
    database: String,
    public_url: String,
    pub state: AppState,
    pub servers: Vec<Server>,
    pub addrs: Vec<SocketAddr>,
    /// The payment and SMS providers' sandboxes, in a server of their own that no fault
    /// touches (a real provider is not in our data centre): every server's provider clients
    /// and the providers' notifications go there.
    vendor: Server,
    /// Each kill: the server and how long it was down.
    pub kills: Arc<Mutex<Vec<Down>>>,
    /// Journeys that began after the database came back and completed.
    completed_after_outage: Arc<AtomicU64>,
    pub probe: reqwest::Client,
    /// Servers the balancer leaves out (rolling restart).
    pub drained: Arc<Mutex<BTreeSet<usize>>>,
    pub tolerance: Arc<Mutex<Tolerance>>,
    stop: Arc<AtomicBool>,
    acks: Arc<Mutex<Acks>>,
    failures: Arc<Mutex<Vec<String>>>,
    completed: Arc<AtomicU64>,
    tolerated: Arc<AtomicU64>,
    crl_numbers: Arc<Mutex<BTreeMap<String, u64>>>,
    went_down: Arc<Mutex<Vec<String>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Harness {
    /// The servers' data directory (the CA's files, and on SQLite the counters database).
    pub fn data_dir(&self) -> std::path::PathBuf {
        self.config.data_dir.clone()
    }

    /// `n` servers on `database` (the CA and the audit key made once, by this process, before
    /// any server starts).
    pub async fn start(database: String, n: usize) -> Harness {
        let (dir, mut config) = test_config().await;
        config.database_url = Some(database.clone());
        let ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
        let vendor_port = free_port();
        // Behind one address, as behind a load balancer: the certificates name one public URL.
        let public_url = format!("http://localhost:{}", ports[0]);
        config.public_url = public_url.clone();
        let state = AppState::new(config.clone()).await.expect("state");
        let server = |port: u16, name: &str| Server {
            port,
            log: dir.path().join(format!("{name}.log")),
            child: None,
            env: [
                ("CERTDESK_BIND", format!("127.0.0.1:{port}")),
                ("CERTDESK_DATA_DIR", config.data_dir.display().to_string()),
                ("CERTDESK_STATIC_DIR", config.static_dir.display().to_string()),
                ("CERTDESK_PUBLIC_URL", public_url.clone()),
                ("CERTDESK_SANDBOX_URL", format!("http://127.0.0.1:{vendor_port}")),
                ("CERTDESK_CALLBACK_URL", format!("http://127.0.0.1:{vendor_port}")),
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
                ("RUST_LOG", "warn,tower_http=error".into()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
        };
        let mut vendor = server(vendor_port, "vendor");
        let mut servers: Vec<Server> =
            ports.iter().enumerate().map(|(i, &port)| server(port, &format!("server-{i}"))).collect();
        let probe = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
        vendor.start();
        vendor.wait_healthy(&probe).await;
        for s in &mut servers {
            s.start();
            s.wait_healthy(&probe).await;
        }
        let addrs = servers.iter().map(Server::addr).collect();
        Harness {
            dir,
            config,
            database,
            public_url,
            state,
            servers,
            addrs,
            vendor,
            kills: Arc::default(),
            completed_after_outage: Arc::default(),
            probe,
            drained: Arc::default(),
            tolerance: Arc::new(Mutex::new(Tolerance::Nothing)),
            stop: Arc::default(),
            acks: Arc::default(),
            failures: Arc::default(),
            completed: Arc::default(),
            tolerated: Arc::default(),
            crl_numbers: Arc::default(),
            went_down: Arc::default(),
            tasks: Vec::new(),
        }
    }

    /// Four customers at a time, and a sampler of every CRL's number. `balanced`: each
    /// request goes to a server the balancer has in (rolling restart); otherwise each journey
    /// stays on one server picked at random.
    pub fn load(&mut self, balanced: bool) {
        for _ in 0..4 {
            let (stop, acks, failures, state, addrs, drained, tolerance) = (
                self.stop.clone(),
                self.acks.clone(),
                self.failures.clone(),
                self.state.clone(),
                self.addrs.clone(),
                self.drained.clone(),
                self.tolerance.clone(),
            );
            let (completed, tolerated) = (self.completed.clone(), self.tolerated.clone());
            let (kills, completed_after_outage) = (self.kills.clone(), self.completed_after_outage.clone());
            self.tasks.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let addr = addrs[random(addrs.len() as u64) as usize];
                    let mut app = attached(addr, state.clone(), client_from_an_address_of_its_own());
                    if balanced {
                        let (addrs, drained) = (addrs.clone(), drained.clone());
                        app.balancer = Some(Arc::new(move || {
                            let out = drained.lock().unwrap().clone();
                            let open: Vec<SocketAddr> =
                                addrs.iter().enumerate().filter(|(i, _)| !out.contains(i)).map(|(_, a)| *a).collect();
                            open[random(open.len() as u64) as usize]
                        }));
                    }
                    let (app, acks) = (Arc::new(app), acks.clone());
                    let began = Instant::now();
                    let outcome = tokio::spawn(async move { journey(&app, &acks).await }).await;
                    let ran = Ran { server: addr, began, ended: Instant::now() };
                    let tolerance = *tolerance.lock().unwrap();
                    match outcome {
                        Ok(()) => {
                            completed.fetch_add(1, Ordering::Relaxed);
                            if let Tolerance::Window(_, Some(back)) = tolerance
                                && began > back
                            {
                                completed_after_outage.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        Err(e) => {
                            let text = panic_text(e);
                            if tolerance.tolerates(&text, &ran, &kills.lock().unwrap()) {
                                tolerated.fetch_add(1, Ordering::Relaxed);
                                tokio::time::sleep(Duration::from_millis(200)).await;
                            } else {
                                failures.lock().unwrap().push(text);
                            }
                        }
                    }
                }
            }));
        }
        // Every CRL's number as served, sampled throughout: it may only grow.
        let (stop, addrs, numbers, went_down) =
            (self.stop.clone(), self.addrs.clone(), self.crl_numbers.clone(), self.went_down.clone());
        let (client, public_url) = (self.probe.clone(), self.public_url.clone());
        self.tasks.push(tokio::spawn(async move {
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
                    let before = numbers.lock().unwrap().insert(path.clone(), n).unwrap_or(0);
                    if n < before {
                        went_down.lock().unwrap().push(format!("{path}: {before} then {n}"));
                    }
                }
            }
        }));
    }

    /// Stops the load, checks every invariant, and prints the scenario's figures.
    pub async fn finish(mut self, scenario: &str, figures: String) {
        // A last stretch without faults, then the load stops.
        tokio::time::sleep(Duration::from_secs(3)).await;
        self.stop.store(true, Ordering::Relaxed);
        for t in std::mem::take(&mut self.tasks) {
            t.await.unwrap();
        }
        let acks = std::mem::take(&mut *self.acks.lock().unwrap());
        let db = &self.state.db;
        let app = attached(self.addrs[0], self.state.clone(), self.probe.clone());

        // Trades the provider took money for are all recorded: those whose notification died
        // with a server are found by the timers' rounds (a new order waits 30 s for its
        // notification first).
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let mut unrecorded = Vec::new();
            let paid = sandbox_trade::Entity::find().filter(sandbox_trade::Column::State.eq("SUCCESS")).all(db);
            for t in paid.await.unwrap() {
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
            assert_eq!(payments_received(&app, &o.out_trade_no).await, 1, "{}", o.out_trade_no);
        }
        for out_trade_no in &acks.paid {
            let o = payment_order::Entity::find_by_id(out_trade_no.clone()).one(db).await.unwrap().unwrap();
            assert_eq!(o.status, "paid");
        }
        // Issued, frozen and revoked certificates as acknowledged; the frozen and the revoked
        // in the CRL their certificate names, and revoked by OCSP.
        let files = Files { dir: tempfile::tempdir().unwrap() };
        for (serial, pem) in &acks.issued {
            let c = certificate::Entity::find()
                .filter(certificate::Column::Serial.eq(serial.to_ascii_lowercase()))
                .one(db)
                .await
                .unwrap()
                .expect("an acknowledged issuance");
            // The very certificate the answer gave: its serial was not given to another.
            assert_eq!(c.der, pem_to_der(pem), "{serial}");
            let expected = if acks.revoked.contains(serial) {
                "revoked"
            } else if acks.frozen.contains(serial) {
                "hold"
            } else {
                continue;
            };
            assert_eq!(c.status, expected, "{serial}");
            let url = crl_url_of(&c.der);
            let path = url.strip_prefix(&self.public_url).unwrap();
            let crl = app.get(path).await.bytes().await.unwrap();
            let (_, parsed) = x509_parser::parse_x509_crl(&crl).unwrap();
            assert!(
                parsed.iter_revoked_certificates().any(|r| r.raw_serial_as_string().replace(':', "") == *serial),
                "{serial} is not in {path}"
            );
            let answer = openssl_ocsp(&files, &app, serial, &[]);
            assert!(answer.contains(": revoked"), "{answer}");
        }
        assert!(!self.crl_numbers.lock().unwrap().is_empty(), "no CRL was sampled");
        if let Tolerance::Window(_, Some(_)) = *self.tolerance.lock().unwrap() {
            let after = self.completed_after_outage.load(Ordering::Relaxed);
            assert!(after > 0, "no journey begun after the database was back completed");
        }
        let went_down = self.went_down.lock().unwrap().clone();
        assert!(went_down.is_empty(), "a CRL number went down: {went_down:?}");

        // The audit chain, by the command an operator runs.
        let verify = Command::new(env!("CARGO_BIN_EXE_certdesk"))
            .args(["audit", "verify"])
            .env("CERTDESK_DATA_DIR", &self.config.data_dir)
            .env("DATABASE_URL", &self.database)
            .env("CERTDESK_AUDIT_KEY", self.config.audit_key.clone().unwrap_or_default())
            .env("RUST_LOG", "error")
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&verify.stdout).trim().to_owned();
        assert!(verify.status.success(), "{said}{}", String::from_utf8_lossy(&verify.stderr));

        let failures = self.failures.lock().unwrap().clone();
        let (completed, tolerated) = (self.completed.load(Ordering::Relaxed), self.tolerated.load(Ordering::Relaxed));
        println!(
            "faults, {scenario} on {}: {} server(s); {figures}; journeys {completed} completed, {tolerated} ended by \
             the fault, {} failed otherwise; acknowledged: {} submissions, {} payments, {} issued, {} frozen, {} \
             revoked; {} CRLs sampled, none went down; {}",
            if self.database.starts_with("postgres") { "PostgreSQL" } else { "SQLite" },
            self.addrs.len(),
            failures.len(),
            acks.submitted.len(),
            acks.paid.len(),
            acks.issued.len(),
            acks.frozen.len(),
            acks.revoked.len(),
            self.crl_numbers.lock().unwrap().len(),
            said.trim(),
        );
        let logs: Vec<String> = self
            .servers
            .iter()
            .chain([&self.vendor])
            .map(|s| std::fs::read_to_string(&s.log).unwrap_or_default())
            .collect();
        if !failures.is_empty() {
            let errors: Vec<&str> = logs.iter().flat_map(|l| l.lines()).filter(|l| l.contains("ERROR")).collect();
            panic!(
                "journeys failed for another reason than the fault:\n{}\nthe servers' errors:\n{}",
                failures.join("\n---\n"),
                errors.join("\n")
            );
        }
        assert!(completed > 0, "no journey completed");
        // The vendor's sandboxes keep their trades in the same database (so that every server
        // is one sandbox): while it is away they answer 500 SYSTEM_ERROR, as WeChat Pay does
        // when it fails, which the merchant's side takes as "try again". Our servers never 500.
        let (ours, vendor) = logs.split_at(logs.len() - 1);
        for log in ours {
            assert!(!log.contains("panicked") && !log.contains("500 Internal Server Error"), "{log}");
        }
        assert!(!vendor[0].contains("panicked"), "{}", vendor[0]);
        drop(self.servers);
        drop(self.vendor);
        drop(self.dir);
    }
}

/// The database of this test run: a new PostgreSQL database with `TEST_DATABASE_URL`, else a
/// new SQLite file (in a directory that lives as long as the test).
pub async fn database() -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    (crate::helpers::fresh_database(dir.path()).await, dir)
}
