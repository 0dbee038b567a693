//! CA figures for `cargo xtask bench` (printed, not asserted):
//! - issuance through the domain API, CSR in, certificate stored in SQLite: a transaction
//!   each, and by the group commit with 64, 256 and 1,024 callers at once, with the cores
//!   kept busy and the CPU each certificate cost;
//! - CRL regeneration with many revoked entries, and how long a revocation takes to show
//!   in the CRL: in the one CRL of every certificate (as before the shards) and in the
//!   certificate's shard (`--crl-shards`, 64 by default) with its OCSP response, on the same
//!   database in the same run, and the process's memory then.
//!
//! Environment: `BENCH_ISSUE` (certificates, default 2000; `cargo xtask bench` asks for
//! 8000), `BENCH_CRL` (comma-separated revoked counts, default `100000`), `BENCH_OUT` (a
//! directory: the CSRs are written there as PEM for the `openssl ca` baseline, and a
//! database of issued certificates, with a GET path for each, is left there for the OCSP
//! load test; `BENCH_OCSP_CERTS` of them, 20,000 by default, and one more).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use base64::Engine;

use certdesk::ca::asn1::pem;
use certdesk::ca::issue::{IssueRequest, issue, prepare};
use certdesk::ca::profile::Subject;
use certdesk::ca::revoke;
use certdesk::entity::certificate;
use certdesk_shared::certificate::{CertificateProfile, RevocationReason};
use sea_orm::{EntityTrait, Set};

fn subject() -> Subject {
    Subject {
        common_name: "天津市滨海测试有限公司".into(),
        identifier: Some("91350100M000100Y43".into()),
        business_number: Some("SL20261121000001".into()),
        province: "天津市".into(),
        city: "滨海新区".into(),
        organisation: Some("天津市滨海测试有限公司".into()),
    }
}

fn csr() -> Vec<u8> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(rcgen::DnType::CommonName, "bench");
    p.serialize_request(&key).unwrap().der().to_vec()
}

async fn state(dir: &std::path::Path, name: &str) -> certdesk::AppState {
    let url = format!("sqlite://{}?mode=rwc", dir.join(format!("{name}.db")).display());
    let mut config = certdesk::Config::for_tests(url, dir.to_owned());
    config.ca_passphrase = Some("bench passphrase, not for production".into());
    certdesk::AppState::new(config).await.unwrap()
}

/// Issues every CSR with `callers` tasks at once, each taking its share in turn, grouped
/// ([`issue_grouped`]) or alone ([`issue_alone`]); the seconds it took.
async fn callers(app: &certdesk::AppState, csrs: &[Vec<u8>], callers: usize, grouped: bool) -> f64 {
    let start = Instant::now();
    let tasks: Vec<_> = (0..callers.min(csrs.len()))
        .map(|i| {
            let chunk: Vec<Vec<u8>> = csrs.iter().skip(i).step_by(callers).cloned().collect();
            let app = app.clone();
            tokio::spawn(async move {
                for c in &chunk {
                    if grouped {
                        issue_grouped(&app, c).await;
                    } else {
                        issue_alone(&app, c).await;
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    start.elapsed().as_secs_f64()
}

/// Issues in a transaction of its own, as every issuance did before the group commit: one
/// durable commit (one fsync) per certificate.
async fn issue_alone(app: &certdesk::AppState, csr: &[u8]) {
    let s = subject();
    let req = IssueRequest { profile: CertificateProfile::OrgSign, subject: &s, csr, validity_days: 365 };
    let txn = certdesk::db::begin_write(&app.db).await.unwrap();
    issue(&*txn, &app.ca, &req).await.unwrap();
    txn.commit().await.unwrap();
}

/// Issues as the server does (`domain::download::issue_for_csr`): signs on a signer
/// thread, then the group commit writes it with the others of its batch.
async fn issue_grouped(app: &certdesk::AppState, csr: &[u8]) -> String {
    let (ca, csr) = (app.ca.clone(), csr.to_vec());
    let signed = certdesk::ca::issue::off_thread(move || {
        let s = subject();
        let req = IssueRequest { profile: CertificateProfile::OrgSign, subject: &s, csr: &csr, validity_days: 365 };
        prepare(&ca, &req)
    })
    .await
    .unwrap();
    app.commits.store(signed).await.unwrap().serial
}

/// Issues one certificate for a new key.
async fn issue_fresh(app: &certdesk::AppState) -> certdesk::ca::issue::Issued {
    let s = subject();
    let csr = csr();
    let req = IssueRequest { profile: CertificateProfile::OrgSign, subject: &s, csr: &csr, validity_days: 365 };
    issue(&app.db, &app.ca, &req).await.unwrap()
}

/// CPU seconds this process has used (user and system, all threads), from /proc: a phase's
/// share over its wall time is how many of the cores it kept busy.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command's closing parenthesis; utime and stime are the 12th and 13th.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = [11, 12].iter().filter_map(|&i| fields.get(i)?.parse::<f64>().ok()).sum();
    ticks / 100.0
}

/// This process's resident memory, from /proc.
fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(f64::NAN);
    kb / 1024.0
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(run());
}

async fn run() {
    let n: usize = std::env::var("BENCH_ISSUE").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    let crl_sizes: Vec<usize> = std::env::var("BENCH_CRL")
        .unwrap_or_else(|_| "100000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let out = std::env::var("BENCH_OUT").ok().map(std::path::PathBuf::from);
    let tmp = tempfile::tempdir().unwrap();
    let dir = out.clone().unwrap_or_else(|| tmp.path().to_owned());
    std::fs::create_dir_all(&dir).unwrap();

    // Issuance.
    let app = state(&dir, "issue").await;
    let csrs: Vec<Vec<u8>> = (0..n).map(|_| csr()).collect();
    if out.is_some() {
        let csr_dir = dir.join("csr");
        std::fs::create_dir_all(&csr_dir).unwrap();
        for (i, c) in csrs.iter().enumerate() {
            std::fs::write(csr_dir.join(format!("{i:05}.csr")), pem("CERTIFICATE REQUEST", c).unwrap()).unwrap();
        }
    }
    let s = subject();
    // The work before the write, alone: the CSR's checks, the lint, the certificate's and its
    // OCSP response's signatures, on one core.
    let start = Instant::now();
    for c in &csrs {
        let req = IssueRequest { profile: CertificateProfile::OrgSign, subject: &s, csr: c, validity_days: 365 };
        std::hint::black_box(prepare(&app.ca, &req).unwrap());
    }
    let secs = start.elapsed().as_secs_f64();
    println!("BENCH sign_only count={n} seconds={secs:.3} per_second={:.0}", n as f64 / secs);

    let secs = callers(&app, &csrs, 1, false).await;
    println!("BENCH issue_sequential count={n} seconds={secs:.3} per_second={:.0}", n as f64 / secs);
    let secs = callers(&app, &csrs, 8, false).await;
    println!("BENCH issue_concurrent_8 count={n} seconds={secs:.3} per_second={:.0}", n as f64 / secs);

    // As the server issues: signed on the signing threads, written by the group commit with
    // the other issuances of the moment, answered once durable. Each caller waits for its
    // certificate before it asks for the next, so about half the callers fill each commit
    // while the other half wait for theirs: more callers, larger commits.
    for n_callers in [64, 256, 1024] {
        let (commits_before, writes_before) = app.commits.counts();
        let cpu = cpu_seconds();
        let secs = callers(&app, &csrs, n_callers, true).await;
        let cpu = cpu_seconds() - cpu;
        let (commits, writes) = app.commits.counts();
        let (commits, writes) = (commits - commits_before, writes - writes_before);
        println!(
            "BENCH issue_grouped_{n_callers} count={n} seconds={secs:.3} per_second={:.0} commits={commits} writes_per_commit={:.1} cores_busy={:.2} cpu_us_each={:.0}",
            n as f64 / secs,
            writes as f64 / commits.max(1) as f64,
            cpu / secs,
            cpu * 1e6 / n as f64
        );
    }

    // The writes alone (signed beforehand): the group commit's own ceiling on this disk.
    let signed: Vec<_> = csrs
        .iter()
        .map(|c| {
            let req = IssueRequest { profile: CertificateProfile::OrgSign, subject: &s, csr: c, validity_days: 365 };
            prepare(&app.ca, &req).unwrap()
        })
        .collect();
    let (commits_before, _) = app.commits.counts();
    let cpu = cpu_seconds();
    let start = Instant::now();
    let tasks: Vec<_> = signed
        .into_iter()
        .map(|signed| {
            let app = app.clone();
            tokio::spawn(async move { app.commits.store(signed).await.unwrap() })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    println!(
        "BENCH store_grouped count={n} seconds={secs:.3} per_second={:.0} commits={} cores_busy={:.2} cpu_us_each={:.0}",
        n as f64 / secs,
        app.commits.counts().0 - commits_before,
        cpu / secs,
        cpu * 1e6 / n as f64
    );

    // CRLs with many revoked entries.
    for &size in &crl_sizes {
        let app = state(tmp.path(), &format!("crl{size}")).await;
        let partitions = app.ca.issuing.partitions.clone().unwrap();
        // The same CA without partitions: one CRL of every certificate, as before the shards.
        let mut unpartitioned = app.ca.issuing.clone();
        unpartitioned.partitions = None;
        let now = chrono::DurationRound::duration_trunc(chrono::Utc::now(), chrono::Duration::seconds(1)).unwrap();
        let start = Instant::now();
        let mut batch = Vec::with_capacity(1000);
        for i in 0..size {
            let mut serial = [0u8; 16];
            serial[0] = 0x40;
            serial[8..].copy_from_slice(&(i as u64).to_be_bytes());
            let serial_hex = hex::encode(serial);
            let entry = revoke::crl_entry(&serial_hex, now, RevocationReason::KeyCompromise, None).unwrap();
            batch.push(certificate::ActiveModel {
                uid: Set(format!("bench-{size}-{i}")),
                ca_id: Set(app.ca.issuing.id),
                serial: Set(serial_hex),
                profile: Set("org_sign".into()),
                subject: Set("bench".into()),
                not_before: Set(now),
                not_after: Set(now),
                der: Set(Vec::new()),
                status: Set(revoke::REVOKED.into()),
                revoked_at: Set(Some(now)),
                reason: Set(Some(1)),
                invalidity_date: Set(None),
                crl_entry: Set(Some(entry)),
                created_at: Set(now),
                crl_shard: Set(Some(i32::from(partitions.shard_of(&serial)))),
                ..Default::default()
            });
            if batch.len() == 1000 || i + 1 == size {
                certificate::Entity::insert_many(std::mem::take(&mut batch)).exec(&app.db).await.unwrap();
            }
        }
        println!("BENCH crl_setup revoked={size} seconds={:.1}", start.elapsed().as_secs_f64());
        let start = Instant::now();
        let crl = revoke::regenerate_crl(&app.db, &unpartitioned).await.unwrap();
        println!(
            "BENCH crl_regenerate revoked={size} seconds={:.3} bytes={}",
            start.elapsed().as_secs_f64(),
            crl.der.len()
        );
        let start = Instant::now();
        let shard = revoke::regenerate_shard(&app.db, &app.ca.issuing, 0).await.unwrap();
        println!(
            "BENCH shard_regenerate revoked={size} seconds={:.3} bytes={}",
            start.elapsed().as_secs_f64(),
            shard.der.len()
        );

        // One more revocation each way: revoke() returns once the status change and the new
        // CRL are committed together. First into the one CRL of everything (the CA without
        // partitions), then into the certificate's shard.
        let c = issue_fresh(&app).await;
        let start = Instant::now();
        revoke::revoke(&app.db, &unpartitioned, &c.serial, RevocationReason::KeyCompromise, None).await.unwrap();
        let in_crl = start.elapsed().as_secs_f64();
        println!("BENCH revoke_to_crl revoked={size} seconds={in_crl:.3}");
        // revoke() returns once the status, the shard's new CRL and the certificate's new
        // OCSP response are committed together.
        let mut times = Vec::new();
        for _ in 0..100 {
            let c = issue_fresh(&app).await;
            let start = Instant::now();
            revoke::revoke(&app.db, &app.ca.issuing, &c.serial, RevocationReason::KeyCompromise, None).await.unwrap();
            times.push(start.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        println!(
            "BENCH revoke_to_shard revoked={size} shards={} count={} median={:.4} p99={:.4} max={:.4}",
            partitions.shards,
            times.len(),
            times[times.len() / 2],
            times[times.len() * 99 / 100 - 1],
            times[times.len() - 1]
        );
        println!("BENCH memory revoked={size} rss_mib={:.1}", rss_mib());
    }

    if out.is_some() {
        // Leave a database with an issued certificate for the OCSP load test.
        let ocsp = state(&dir, "ocsp").await;
        let c = issue_fresh(&ocsp).await;
        std::fs::write(dir.join("ocsp-serial"), &c.serial).unwrap();
        // And many more, with a GET path each, for the responder's load over many certificates.
        let many: usize = std::env::var("BENCH_OCSP_CERTS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let ocsp = ocsp.clone();
                let csr = csr();
                tokio::spawn(async move {
                    let mut paths = Vec::new();
                    for _ in 0..many.div_ceil(8) {
                        let serial = issue_grouped(&ocsp, &csr).await;
                        let req = ocsp.ca.responder.request(&serial).unwrap();
                        paths.push(format!("/ocsp/{}", base64::engine::general_purpose::STANDARD.encode(req)));
                    }
                    paths
                })
            })
            .collect();
        let mut paths = Vec::new();
        for t in tasks {
            paths.extend(t.await.unwrap());
        }
        std::fs::write(dir.join("ocsp-paths.txt"), paths.join("\n") + "\n").unwrap();
        std::fs::write(dir.join("ocsp-issuing.pem"), pem("CERTIFICATE", &ocsp.ca.issuing.cert_der).unwrap()).unwrap();
        std::fs::write(dir.join("ocsp-root.pem"), pem("CERTIFICATE", &ocsp.ca.root.cert_der).unwrap()).unwrap();
    }
}
