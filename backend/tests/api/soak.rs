//! Soak (issue 19): one real `certdesk` under a steady rate of mixed traffic — the public
//! status search by e-mail and by name, OCSP, sign-ins (the captcha answered by the test
//! switch), wizard saves and status polls — for a while: not one error, memory flat.
//! Prints the server's RSS at the start, the middle and the end, and p50/p99 per route.
//!
//! The API suite runs it for 10 s at 100 requests/s; `cargo xtask soak` runs it in release
//! for 10 minutes at 1,000 requests/s (`SOAK_SECS`, `SOAK_RATE`).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use certdesk_shared::account::{Captcha, SignInRequest};
use certdesk_shared::admin::StaffRole;
use certdesk_shared::apply::OperatorInfo;
use certdesk_shared::endpoint::{self, Endpoint};
use certdesk_shared::request::RequestView;
use reqwest::{Method, StatusCode};

use crate::helpers::attached;
use crate::helpers::browser::{PASSWORD, decode, registered, staff_browser};
use crate::helpers::harness::{
    Harness, client_from_an_address_of_its_own, database, env_number, random, random_address,
};
use crate::helpers::issuing::{complete_draft, issue_into};

/// The server's resident memory, in MiB.
fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap();
    kb / 1024.0
}

/// CPU seconds a process has used (user and system), from `/proc/<pid>/stat`.
fn cpu_secs(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name (which is in parentheses and may hold spaces).
    let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or_default();
    (ticks(11) + ticks(12)) / 100.0
}

/// The size of every SQLite write-ahead log under `dirs`, in MiB.
fn wal_mib(dirs: &[&std::path::Path]) -> f64 {
    let mut bytes = 0;
    for dir in dirs {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if entry.file_name().to_string_lossy().ends_with("-wal") {
                bytes += entry.metadata().map_or(0, |m| m.len());
            }
        }
    }
    bytes as f64 / (1024.0 * 1024.0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// What each route's requests took, and what went wrong.
#[derive(Default)]
struct Record {
    took: BTreeMap<&'static str, Vec<Duration>>,
    errors: Vec<String>,
    /// Each request: when it was sent (seconds into the run), what it took, whether it failed.
    timeline: Vec<(f32, Duration, bool)>,
}

/// An error with its causes (reqwest's own text alone says only "error sending request").
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// `n` registered customers (each from an address of its own), by their phone numbers.
async fn customers(h: &Harness, n: usize) -> Vec<String> {
    let gate = Arc::new(tokio::sync::Semaphore::new(8));
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (addr, state, gate) = (h.addrs[0], h.state.clone(), gate.clone());
            tokio::spawn(async move {
                let _turn = gate.acquire().await.unwrap();
                let app = attached(addr, state, client_from_an_address_of_its_own());
                registered(&app).await.1
            })
        })
        .collect();
    let mut mobiles = Vec::with_capacity(n);
    for t in tasks {
        mobiles.push(t.await.unwrap());
    }
    mobiles
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_traffic_at_a_steady_rate_gets_no_error_and_memory_stays_flat() {
    let secs = env_number("SOAK_SECS", 10);
    let rate = env_number("SOAK_RATE", 100);
    let (url, db_dir) = database().await;
    let h = Harness::start(url, 1).await;
    let addr = h.addrs[0];
    let pid = h.servers[0].child.as_ref().unwrap().id();
    let app = Arc::new(attached(addr, h.state.clone(), reqwest::Client::new()));

    // What the traffic asks about: an issued certificate, and a customer with a draft.
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut holder, id, mobile) = complete_draft(&app, &mut admin, true).await;
    let (s, v) = holder.send::<endpoint::SubmitApplication>(&[&id], &()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let acceptance = decode::<RequestView>(&v).acceptance_no.expect("an acceptance number");
    let (_, serial, _, _) = issue_into(&app, &mut admin, &id, &acceptance, &mobile, None).await;
    let (customer, draft, customer_mobile) = complete_draft(&app, &mut admin, false).await;
    // Whom the sign-ins are for: customers taking turns, each every ten seconds or so, as
    // people sign in (one phone signing in several times at once is what the per-account
    // throttle is there to refuse).
    let signing_in = Arc::new(customers(&h, (rate as usize / 10).max(3)).await);
    let turn = Arc::new(AtomicUsize::new(0));
    let (cookie, csrf) = (customer.cookie.clone().unwrap(), customer.csrf.clone().unwrap());
    // An OCSP request for the certificate, as OpenSSL makes it.
    let files = crate::helpers::ca::Files { dir: tempfile::tempdir().unwrap() };
    let issuing = files.write("issuing.pem", &crate::helpers::ca::pem("CERTIFICATE", &h.state.ca.issuing.cert_der));
    let req_file = files.dir.path().join("ocsp.req");
    let made = std::process::Command::new("openssl")
        .args(["ocsp", "-no_nonce", "-issuer"])
        .arg(&issuing)
        .args(["-serial", &format!("0x{serial}"), "-reqout"])
        .arg(&req_file)
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let ocsp_request = std::fs::read(&req_file).unwrap();

    let client =
        reqwest::Client::builder().timeout(Duration::from_secs(10)).pool_max_idle_per_host(64).build().unwrap();
    let record = Arc::new(Mutex::new(Record::default()));
    let base = format!("http://{addr}");
    // When the run starts (the first request is sent one period later).
    let begun = Instant::now();
    let one = {
        let (client, base, record) = (client.clone(), base.clone(), record.clone());
        let (cookie, csrf, draft, customer_mobile) = (cookie.clone(), csrf.clone(), draft.clone(), customer_mobile);
        let ocsp_request = ocsp_request.clone();
        let (signing_in, turn) = (signing_in.clone(), turn.clone());
        move || {
            let (client, base, record) = (client.clone(), base.clone(), record.clone());
            let (signing_in, turn) = (signing_in.clone(), turn.clone());
            let (cookie, csrf, draft, customer_mobile) =
                (cookie.clone(), csrf.clone(), draft.clone(), customer_mobile.clone());
            let ocsp_request = ocsp_request.clone();
            async move {
                // Each anonymous request from an address of its own (the per-address limits
                // are the production ones).
                let ip = random_address();
                let pick = random(100);
                let started = Instant::now();
                let (route, result): (&'static str, Result<reqwest::Response, reqwest::Error>) = match pick {
                    0..40 => {
                        // The public status search, by e-mail or by unit name.
                        let (route, query) = if pick < 25 {
                            ("GET /api/public/certificates?email", ("email", "zhangsan@example.com"))
                        } else {
                            ("GET /api/public/certificates?name", ("name", "天津滨海测试有限公司"))
                        };
                        let search =
                            client.get(format!("{base}{}", endpoint::SearchCertificates::PATH)).query(&[query]);
                        (route, search.header("x-forwarded-for", &ip).send().await)
                    }
                    40..70 => (
                        "POST /ocsp",
                        client
                            .post(format!("{base}/ocsp"))
                            .header("content-type", "application/ocsp-request")
                            .body(ocsp_request)
                            .send()
                            .await,
                    ),
                    70..85 => (
                        "GET /api/applications/{id}",
                        client
                            .get(format!("{base}{}", endpoint::GetApplication::path(&[&draft])))
                            .header("cookie", &cookie)
                            .send()
                            .await,
                    ),
                    85..99 => {
                        let operator = OperatorInfo {
                            unit_phone: Some("022-12345678".into()),
                            address: Some("天津市空港经济区西七道26号".into()),
                            ..crate::helpers::issuing::operator(&customer_mobile)
                        };
                        (
                            "PUT /api/applications/{id}/operator",
                            client
                                .request(Method::PUT, format!("{base}{}", endpoint::SaveOperator::path(&[&draft])))
                                .header("cookie", &cookie)
                                .header("x-csrf-token", &csrf)
                                .json(&operator)
                                .send()
                                .await,
                        )
                    }
                    _ => {
                        // A sign-in: a captcha (its answer from the test switch), then the form.
                        let captcha = client
                            .get(format!("{base}{}", endpoint::NewCaptcha::PATH))
                            .header("x-forwarded-for", &ip)
                            .send()
                            .await;
                        match captcha {
                            Ok(c) if c.status() == StatusCode::OK => {
                                let answer = c.headers()["x-captcha-answer"].to_str().unwrap().to_lowercase();
                                let v: Captcha = c.json().await.unwrap();
                                // The next customer's turn (taken by sign-ins only, so each signs
                                // in every `signing_in.len()` sign-ins).
                                let mobile = &signing_in[turn.fetch_add(1, Ordering::Relaxed) % signing_in.len()];
                                let body = SignInRequest {
                                    mobile: mobile.clone(),
                                    password: PASSWORD.into(),
                                    captcha_id: v.id,
                                    captcha_answer: answer,
                                    agreed: true,
                                };
                                (
                                    "GET /api/captcha + POST /api/sign-in",
                                    client
                                        .post(format!("{base}{}", endpoint::SignIn::PATH))
                                        .header("x-forwarded-for", &ip)
                                        .json(&body)
                                        .send()
                                        .await,
                                )
                            }
                            other => ("GET /api/captcha", other),
                        }
                    }
                };
                let took = started.elapsed();
                let mut r = record.lock().unwrap();
                let ok = match result {
                    Ok(res) if res.status().is_success() => {
                        r.took.entry(route).or_default().push(took);
                        true
                    }
                    Ok(res) => {
                        let status = res.status();
                        drop(r);
                        let body: serde_json::Value = res.json().await.unwrap_or_default();
                        r = record.lock().unwrap();
                        r.errors.push(format!("{route}: {status} {}", body["code"].as_str().unwrap_or_default()));
                        false
                    }
                    Err(e) => {
                        r.errors.push(format!("{route}: {}", with_causes(&e)));
                        false
                    }
                };
                let at = started.duration_since(begun).as_secs_f32();
                r.timeline.push((at, took, ok));
            }
        }
    };

    // Requests at a steady pace (each on its own task, however long the ones before take).
    let period = Duration::from_secs_f64(1.0 / rate as f64);
    let started = begun;
    let mut next = tokio::time::Instant::now();
    let mut rss = vec![rss_mib(pid)];
    // Every tenth of the run: the RSS, the CPU the server and this test used since the last
    // tenth (in cores), and the size of the write-ahead logs.
    let data_dir = h.data_dir();
    let sample = |pid: u32| {
        (
            rss_mib(pid),
            cpu_secs(&pid.to_string()),
            cpu_secs("self"),
            wal_mib(&[db_dir.path(), &data_dir]),
            Instant::now(),
        )
    };
    let mut curve = vec![(0u64, sample(pid))];
    let mut in_flight = Vec::new();
    let mut sent = 0u64;
    while started.elapsed() < Duration::from_secs(secs) {
        next += period;
        tokio::time::sleep_until(next).await;
        in_flight.push(tokio::spawn(one()));
        sent += 1;
        if rss.len() == 1 && started.elapsed() >= Duration::from_secs(secs) / 2 {
            rss.push(rss_mib(pid));
        }
        let tenth = started.elapsed().as_secs() * 10 / secs.max(1);
        if tenth > curve.last().unwrap().0 {
            curve.push((tenth, sample(pid)));
        }
        in_flight.retain(|t| !t.is_finished());
    }
    let elapsed = started.elapsed();
    for t in in_flight {
        t.await.unwrap();
    }
    rss.push(rss_mib(pid));

    let record = std::mem::take(&mut *record.lock().unwrap());
    println!(
        "soak: {sent} requests in {:.1} s ({:.0}/s asked {rate}/s), {} errors; server RSS start {:.1} MiB, middle {:.1} MiB, end {:.1} MiB",
        elapsed.as_secs_f64(),
        sent as f64 / elapsed.as_secs_f64(),
        record.errors.len(),
        rss[0],
        rss[1],
        rss[2]
    );
    println!(
        "soak: RSS every tenth of the run (MiB): {}",
        curve.iter().map(|(_, m)| format!("{:.0}", m.0)).collect::<Vec<_>>().join(" → ")
    );
    for pair in curve.windows(2) {
        let ((t, a), (_, b)) = (&pair[0], &pair[1]);
        let wall = b.4.duration_since(a.4).as_secs_f64();
        println!(
            "soak: tenth {t}: server {:.2} cores, this test {:.2} cores, write-ahead logs {:.1} MiB",
            (b.1 - a.1) / wall,
            (b.2 - a.2) / wall,
            b.3
        );
    }
    // The run by windows of a tenth: requests, errors and the p99 of those sent in each.
    let window = (secs as f32 / 10.0).max(1.0);
    let mut windows: BTreeMap<u64, (u64, Vec<Duration>)> = BTreeMap::new();
    for (at, took, ok) in &record.timeline {
        let w = windows.entry((at / window) as u64).or_default();
        w.0 += u64::from(!ok);
        w.1.push(*took);
    }
    for (w, (errors, mut took)) in windows {
        took.sort();
        println!(
            "soak: from {:>5.0} s  {:>7} requests  {:>6} errors  p50 {:>8.2} ms  p99 {:>8.2} ms",
            w as f32 * window,
            took.len(),
            errors,
            percentile(&took, 0.5).as_secs_f64() * 1e3,
            percentile(&took, 0.99).as_secs_f64() * 1e3,
        );
    }
    // What the server logged above INFO, by message, most frequent first.
    let log = h.servers[0].log_text();
    let mut logged: BTreeMap<String, u64> = BTreeMap::new();
    for line in log.lines().filter(|l| l.contains("ERROR") || l.contains("WARN")) {
        // Without colours and time stamp, and cut before the figures that make each line unique.
        let mut plain = String::new();
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            if c == '\u{1b}' {
                chars.by_ref().find(|c| *c == 'm');
            } else {
                plain.push(c);
            }
        }
        let from = plain.find(" WARN ").or_else(|| plain.find("ERROR ")).unwrap_or(0);
        let message: String = plain[from..].chars().take(90).collect();
        *logged.entry(message).or_default() += 1;
    }
    let mut logged: Vec<(String, u64)> = logged.into_iter().collect();
    logged.sort_by_key(|k| std::cmp::Reverse(k.1));
    for (message, n) in logged.iter().take(10) {
        println!("soak: server logged {n:>7} × {message}");
    }
    for (route, mut took) in record.took {
        took.sort();
        println!(
            "soak: {route:<40} {:>7} ok  p50 {:>8.2} ms  p99 {:>8.2} ms  max {:>8.2} ms",
            took.len(),
            percentile(&took, 0.5).as_secs_f64() * 1e3,
            percentile(&took, 0.99).as_secs_f64() * 1e3,
            took.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        );
    }
    // The errors by kind (route and status or transport error), most frequent first.
    let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
    for e in &record.errors {
        let kind = if e.contains("timed out") || e.contains("TimedOut") {
            format!("{}: timed out", e.split(':').next().unwrap_or_default())
        } else {
            e.chars().take(160).collect()
        };
        *kinds.entry(kind).or_default() += 1;
    }
    let mut kinds: Vec<(String, u64)> = kinds.into_iter().collect();
    kinds.sort_by_key(|k| std::cmp::Reverse(k.1));
    for (kind, n) in &kinds {
        println!("soak: error {n:>7} × {kind}");
    }
    assert!(record.errors.is_empty(), "{} errors: {kinds:#?}", record.errors.len());
    // Flat: the second half adds at most half of what the server held at the middle.
    assert!(rss[2] <= rss[1] * 1.5, "memory grew from {:.1} MiB to {:.1} MiB in the second half", rss[1], rss[2]);
}
