//! Faults (issue 19), each scenario on real `certdesk` binaries under a mixed load of
//! customers and staff (registrations, drafts, WeChat Pay payments with replayed
//! notifications, submissions, reviews, issuance, freezes by holder and staff,
//! self-revocations):
//! - **kills**: two servers on one PostgreSQL (or one on SQLite), one killed with SIGKILL at
//!   random moments and started again;
//! - **rolling restart**: two servers behind a balancer; each in turn is taken out of it,
//!   stopped with SIGTERM and started again: not one request fails;
//! - **database outage**: PostgreSQL (a cluster of the test's own) stopped under load and
//!   started again: meanwhile the servers answer 503 `unavailable`, never 500; afterwards
//!   they serve again without a restart.
//!
//! After each, from the database and from outside:
//! - no serial was issued twice;
//! - every submission, payment, issuance, freeze and revocation the servers acknowledged is
//!   there; every paid order was recorded exactly once (one `payment_received` in the trail),
//!   and every trade the provider took money for is recorded (the timers ask the provider
//!   about orders whose notification was lost with a killed server);
//! - every revoked or frozen certificate is in the CRL its certificate names and OCSP answers
//!   revoked; no CRL's number ever went down meanwhile;
//! - the audit chain verifies (`certdesk audit verify`);
//! - a journey failed only for the fault itself (its server killed under it, or the database
//!   away): any other failure fails the test, and no server logged a panic or a 500.
//!
//! The API suite runs short versions (3 kills, each server restarted once, a 5 s outage);
//! `cargo xtask faults` runs 100 kills, 10 rolling restarts and a 30 s outage
//! (`FAULTS_KILLS`, `FAULTS_ROLLS`, `FAULTS_OUTAGE_SECS`) and prints the figures.

use std::process::Command;
use std::time::{Duration, Instant};

use certdesk_shared::endpoint::{self, Endpoint};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::harness::{Down, Harness, Tolerance, database, env_number, random};
use crate::helpers::postgres::OwnPostgres;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_servers_lose_nothing_they_acknowledged_and_issue_no_serial_twice() {
    let kills = env_number("FAULTS_KILLS", 3);
    let (url, _db_dir) = database().await;
    let two = url.starts_with("postgres");
    let mut h = Harness::start(url, if two { 2 } else { 1 }).await;
    *h.tolerance.lock().unwrap() = Tolerance::Kills;
    h.load(false);
    let mut restarts = Vec::new();
    tokio::time::sleep(Duration::from_secs(3)).await;
    for _ in 0..kills {
        tokio::time::sleep(Duration::from_millis(200 + random(1800))).await;
        let victim = random(h.servers.len() as u64) as usize;
        h.kills.lock().unwrap().push(Down { server: h.addrs[victim], from: Instant::now(), until: None });
        h.servers[victim].kill();
        h.servers[victim].start();
        restarts.push(h.servers[victim].wait_healthy(&h.probe).await);
        if let Some(down) = h.kills.lock().unwrap().last_mut() {
            down.until = Some(Instant::now());
        }
    }
    restarts.sort();
    let figures = format!(
        "{kills} kills survived, restart to healthy median {} ms, max {} ms",
        restarts.get(restarts.len() / 2).copied().unwrap_or_default().as_millis(),
        restarts.last().copied().unwrap_or_default().as_millis()
    );
    h.finish("SIGKILL", figures).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_of_two_servers_fails_no_request() {
    let rolls = env_number("FAULTS_ROLLS", 2);
    let (url, _db_dir) = database().await;
    let mut h = Harness::start(url, 2).await;
    h.load(true);
    let mut stops = Vec::new();
    for roll in 0..rolls {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let i = (roll % 2) as usize;
        // Out of the balancer first; a request already sent to it finishes there.
        h.drained.lock().unwrap().insert(i);
        tokio::time::sleep(Duration::from_millis(500)).await;
        let stopping = Instant::now();
        let pid = h.servers[i].child.as_ref().unwrap().id();
        assert!(Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap().success());
        let code = h.servers[i].child.as_mut().unwrap().wait().unwrap();
        assert!(code.success(), "the server's exit after SIGTERM: {code}");
        stops.push(stopping.elapsed());
        h.servers[i].child = None;
        h.servers[i].start();
        h.servers[i].wait_healthy(&h.probe).await;
        h.drained.lock().unwrap().remove(&i);
    }
    stops.sort();
    let figures = format!(
        "{rolls} servers restarted in turn, SIGTERM to exit median {} ms",
        stops.get(stops.len() / 2).copied().unwrap_or_default().as_millis()
    );
    h.finish("rolling restart", figures).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_postgresql_is_away_under_load_the_servers_answer_503_and_recover_losing_nothing() {
    let away_for = Duration::from_secs(env_number("FAULTS_OUTAGE_SECS", 5));
    let pg = OwnPostgres::init();
    pg.start();
    let mut h = Harness::start(pg.url(), 2).await;
    h.load(false);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let from = Instant::now();
    *h.tolerance.lock().unwrap() = Tolerance::Window(from, None);
    pg.stop();
    // Meanwhile: each server answers a read and a write with 503 `unavailable` (each after
    // the pool's 10 s acquire timeout, asked together).
    let mut answered = 0;
    while from.elapsed() < away_for {
        let mut asked = Vec::new();
        for addr in &h.addrs {
            let progress = json!({ "acceptance_no": "BH00000000000000", "mobile": "13800000000", "name": "张三" });
            asked.push(tokio::spawn(
                h.probe.post(format!("http://{addr}{}", endpoint::LookUpProgress::PATH)).json(&progress).send(),
            ));
            asked.push(tokio::spawn(h.probe.get(format!("http://{addr}{}", endpoint::NewCaptcha::PATH)).send()));
        }
        for a in asked {
            let res = a.await.unwrap().unwrap();
            assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(res.headers()["retry-after"], "5");
            let body: serde_json::Value = res.json().await.unwrap();
            let error: certdesk_shared::ApiError = crate::helpers::browser::decode(&body);
            assert_eq!(error.code, certdesk_shared::ErrorCode::Unavailable, "{body}");
            answered += 1;
        }
    }
    pg.start();
    let back = Instant::now();
    for i in 0..h.servers.len() {
        let s = &mut h.servers[i];
        s.wait_healthy(&h.probe).await;
        assert!(s.child.as_mut().unwrap().try_wait().unwrap().is_none(), "a server restarted");
    }
    let recovered = back.elapsed();
    // From now on every journey begun completes.
    *h.tolerance.lock().unwrap() = Tolerance::Window(from, Some(back));
    tokio::time::sleep(Duration::from_secs(5)).await;
    let figures = format!(
        "PostgreSQL away {} s, {answered} probes answered 503 meanwhile, both servers healthy {} ms after it was back",
        back.duration_since(from).as_secs(),
        recovered.as_millis()
    );
    h.finish("database outage", figures).await;
    drop(pg);
}
