//! `cargo xtask lighthouse [--runs N]`: Lighthouse's mobile performance run (simulated slow 4G
//! and a 4× slower CPU) on the home page of the release app, served by the real server, with
//! the public search page (its own bundle, no HTML first paint) as the peer measured in the
//! same run. Prints each run and the medians: score, largest and first contentful paint, total
//! blocking time, layout shift. The home page's goal is an LCP of at most 2.0 s.

use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::{TempDir, TestServer, root, setup, sh, step};

/// Lighthouse, pinned, from npm.
const LIGHTHOUSE_VERSION: &str = "12.8.2";

struct Figures {
    score: f64,
    lcp_ms: f64,
    fcp_ms: f64,
    tbt_ms: f64,
    cls: f64,
}

pub fn run(args: &[String]) -> Result<()> {
    let runs = match args {
        [] => 3,
        [flag, n] if flag == "--runs" => n.parse::<usize>().ok().filter(|&n| n > 0).context("--runs N, N ≥ 1")?,
        _ => bail!("usage: cargo xtask lighthouse [--runs N]"),
    };
    step("Build tools, browser app (release), Chromium");
    setup::build_tools()?;
    setup::build_app()?;
    setup::test_packages()?;
    let lighthouse = install()?;
    step("Server");
    sh(crate::cargo().args(["build", "-q", "-p", "certdesk-backend", "--bin", "certdesk"]))?;
    let server = TestServer::start()?;
    let pages = [("home page (/)", "/"), ("search page (/search), the peer", "/search")];
    let mut medians = Vec::new();
    for (name, path) in pages {
        step(&format!("Lighthouse, mobile: {name}, {runs} runs"));
        let mut all = Vec::new();
        for i in 1..=runs {
            let url = format!("{}{path}", server.url());
            // Lighthouse's own failures to record a trace (NO_NAVSTART, "run Lighthouse
            // again") happen now and then: a run is tried twice, and the failure is printed.
            let f = match measure(&lighthouse, &url) {
                Ok(f) => f,
                Err(e) => {
                    println!("run {i}: Lighthouse failed, tried again: {e:#}");
                    measure(&lighthouse, &url)?
                }
            };
            println!(
                "run {i}: score {:.2}, LCP {:.2} s, FCP {:.2} s, TBT {:.0} ms, CLS {:.3}",
                f.score,
                f.lcp_ms / 1000.0,
                f.fcp_ms / 1000.0,
                f.tbt_ms,
                f.cls
            );
            all.push(f);
        }
        let median = |get: fn(&Figures) -> f64| {
            let mut v: Vec<f64> = all.iter().map(get).collect();
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let m = Figures {
            score: median(|f| f.score),
            lcp_ms: median(|f| f.lcp_ms),
            fcp_ms: median(|f| f.fcp_ms),
            tbt_ms: median(|f| f.tbt_ms),
            cls: median(|f| f.cls),
        };
        medians.push((name, m));
    }
    println!("\nLighthouse {LIGHTHOUSE_VERSION}, mobile, medians of {runs} runs:");
    println!("{:<34} {:>5} {:>8} {:>8} {:>8} {:>6}", "page", "score", "LCP", "FCP", "TBT", "CLS");
    for (name, m) in &medians {
        println!(
            "{name:<34} {:>5.2} {:>6.2} s {:>6.2} s {:>5.0} ms {:>6.3}",
            m.score,
            m.lcp_ms / 1000.0,
            m.fcp_ms / 1000.0,
            m.tbt_ms,
            m.cls
        );
    }
    if let [(_, home), (_, peer)] = medians.as_slice() {
        println!(
            "home page LCP: {:.2} s (goal ≤ 2.0 s: {}), {:.2}× the peer's",
            home.lcp_ms / 1000.0,
            if home.lcp_ms <= 2000.0 { "met" } else { "MISSED" },
            home.lcp_ms / peer.lcp_ms
        );
    }
    drop(server);
    Ok(())
}

/// Lighthouse in a folder of its own under target/tools (npm would prune binaryen's).
fn install() -> Result<std::path::PathBuf> {
    let dir = root().join("target/tools/lighthouse");
    let bin = dir.join("node_modules/.bin/lighthouse");
    let installed = Command::new(&bin).arg("--version").output().ok().filter(|o| o.status.success());
    if installed.is_some_and(|o| String::from_utf8_lossy(&o.stdout).trim() == LIGHTHOUSE_VERSION) {
        return Ok(bin);
    }
    std::fs::create_dir_all(&dir)?;
    // A package of its own, or npm would install into the nearest one above.
    std::fs::write(dir.join("package.json"), "{\"private\": true}\n")?;
    sh(Command::new("npm").current_dir(&dir).args([
        "install",
        "--no-audit",
        "--no-fund",
        &format!("lighthouse@{LIGHTHOUSE_VERSION}"),
    ]))
    .context("installing lighthouse from npm")?;
    Ok(bin)
}

fn measure(lighthouse: &std::path::Path, url: &str) -> Result<Figures> {
    let out = TempDir::new("certdesk-lighthouse")?;
    let report = out.path().join("report.json");
    sh(Command::new(lighthouse)
        .arg(url)
        .args(["--only-categories=performance", "--output=json", "--quiet"])
        .arg(format!("--output-path={}", report.display()))
        .arg("--chrome-flags=--headless=new --no-sandbox")
        .env("CHROME_PATH", "/usr/bin/chromium"))?;
    let v: Value = serde_json::from_slice(&std::fs::read(&report)?)?;
    let audit = |id: &str| v["audits"][id]["numericValue"].as_f64().with_context(|| format!("no {id} in the report"));
    Ok(Figures {
        score: v["categories"]["performance"]["score"].as_f64().context("no score")?,
        lcp_ms: audit("largest-contentful-paint")?,
        fcp_ms: audit("first-contentful-paint")?,
        tbt_ms: audit("total-blocking-time")?,
        cls: audit("cumulative-layout-shift")?,
    })
}
