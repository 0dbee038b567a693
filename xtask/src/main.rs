//! `cargo xtask <command>`: the README's two commands and their helpers.
//!
//! - `run`: install the build tools that are missing, build the app and the server in
//!   release, start the server.
//! - `test`: also install what the tests need, run the workspace tests, the backend API
//!   tests on SQLite and on a throw-away PostgreSQL, then the browser tests against the
//!   real server in Debian's Chromium.
//! - `app [BIN…]`: build the browser app in release into dist/ (what `run` and `test` build
//!   first); with bundles named (`certdesk-apply`…), only those.
//! - `size`: print the built app's sizes, raw, gzip and brotli as sent, against the budget.
//! - `fuzz [--seconds N] [--release] [--seed S] [ocsp] [csr]`: the stable fuzzer
//!   (`fuzz/`) on the OCSP request reader and the CSR reader, N seconds each (60 by
//!   default); fails when a target panics. Not part of `test`.
//! - `faults [--kills N]`: the fault scenarios (`backend/tests/api/faults.rs`): N kills (100
//!   by default), 10 rolling restarts and a 30 s PostgreSQL outage, on SQLite, then on a
//!   throw-away PostgreSQL. `test` runs short versions inside the API tests.
//! - `soak [--secs N] [--rate R]`: one release server on SQLite under R requests/s of mixed
//!   traffic (1,000 by default) for N seconds (600): errors, RSS, p50/p99 per route.

mod bench;
mod lighthouse;
mod postgres;
mod precompress;
mod setup;
mod size;
mod tally;
mod wasm;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("test") => test(),
        Some("e2e") => e2e(&args[1..]),
        Some("size") => size::report_all(&root().join("dist")),
        Some("lighthouse") => lighthouse::run(&args[1..]),
        Some("app") if args.len() > 1 => setup::build_tools().and_then(|()| setup::build_some(&args[1..])),
        Some("app") => setup::build_tools().and_then(|()| setup::build_app()),
        Some("bench") => bench::run(),
        Some("fuzz") => fuzz(&args[1..]),
        Some("faults") => faults(&args[1..]),
        Some("soak") => soak(&args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask run [server flags…] | test | app | size | lighthouse [--runs N] | bench | fuzz [--seconds N] [--release] | faults [--kills N] | soak [--secs N] [--rate R]"
            );
            std::process::exit(2);
        }
    }
}

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Runs a command to completion; a non-zero exit is an error that names the command.
pub fn sh(cmd: &mut Command) -> Result<()> {
    let status = cmd.status().with_context(|| format!("starting {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}

/// Runs `f` on every item, as many at a time as there are cores; fails with the first error.
pub fn on_every_core<T: Sync>(items: &[T], f: impl Fn(&T) -> Result<()> + Sync) -> Result<()> {
    let queue = std::sync::Mutex::new(items.iter());
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| -> Result<()> {
                    loop {
                        let next = queue.lock().map_err(|_| anyhow::anyhow!("a worker panicked"))?.next();
                        match next {
                            Some(item) => f(item)?,
                            None => return Ok(()),
                        }
                    }
                })
            })
            .collect();
        handles.into_iter().try_for_each(|h| h.join().map_err(|_| anyhow::anyhow!("a worker panicked"))?)
    })
}

pub fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

/// `cargo` whose workspace crates are compiled by clippy-driver with warnings denied, as
/// `cargo clippy -- -D warnings` has them checked: the test build is also the lint run. A
/// separate `cargo clippy` compiles every dependency a second time, in check mode, which on
/// a clean clone cost five minutes of the test command. Every host build of `test` and `e2e`
/// goes through this one, with the same packages (`--workspace`, so the same features), so no
/// crate is compiled twice.
pub fn linted_cargo() -> Result<Command> {
    let sysroot = setup::output(
        Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into())).args(["--print", "sysroot"]),
    )
    .context("asking rustc for its sysroot")?;
    let driver = Path::new(sysroot.trim()).join("bin/clippy-driver");
    if !driver.exists() {
        bail!("{} is missing: `rustup component add clippy`", driver.display());
    }
    let mut c = cargo();
    // cargo-clippy's own hand-over to its driver: the flags, each followed by this separator.
    c.env("RUSTC_WORKSPACE_WRAPPER", driver).env("CLIPPY_ARGS", "-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__");
    Ok(c)
}

/// The host's test build, linted: every workspace crate's libraries, binaries, tests and
/// benches (what `cargo clippy --workspace --all-targets` checks), with the server and the
/// agent that the API and browser suites start. A test build compiles a binary in test mode
/// only, unless its package has integration tests (the server's and the agent's have), so
/// xtask is also built as itself: code only its tests use would otherwise go unlinted. (The
/// fuzzer's `main` is linted in test mode only: built as itself, it would compile the
/// backend and its dependencies again without the tests' features, minutes on a clean clone.)
fn build_and_lint() -> Result<()> {
    step("Build and lint (clippy, warnings are errors): the workspace's test build");
    sh(linted_cargo()?.args(["test", "--workspace", "--all-targets", "--no-run", "--quiet"]))?;
    sh(linted_cargo()?.args(["build", "-p", "xtask", "--quiet"]))
}

/// `cargo xtask fuzz`: builds and runs `certdesk-fuzz` (debug by default, which reuses the
/// test build's dependencies; `--release` for more executions per second), then schemathesis
/// against a test server's OpenAPI document (`endpoints::schemathesis_…` in the API tests).
fn fuzz(args: &[String]) -> Result<()> {
    let mut cmd = cargo();
    cmd.arg("run");
    if args.iter().any(|a| a == "--release") {
        cmd.arg("--release");
    }
    cmd.args(["-q", "-p", "certdesk-fuzz", "--"]);
    cmd.args(args.iter().filter(|a| *a != "--release"));
    step("Fuzzing the OCSP request reader and the CSR reader");
    sh(&mut cmd)?;
    step("Schemathesis against a test server's /api/openapi.json (anonymous, customer, administrator)");
    let st = setup::schemathesis()?;
    setup::test_packages()?;
    let mut api = cargo();
    api.args(["test", "-p", "certdesk-backend", "--test", "api", "endpoints::schemathesis", "--"])
        .args(["--ignored", "--nocapture"])
        .env("SCHEMATHESIS", st)
        .env("PKILINT_BIN", setup::pkilint()?);
    sh(&mut api)
}

/// `cargo xtask faults [--kills N]`: the crash harness on SQLite, then on PostgreSQL.
fn faults(args: &[String]) -> Result<()> {
    let kills = match args {
        [] => "100".to_owned(),
        [flag, n] if flag == "--kills" && n.parse::<u32>().is_ok() => n.clone(),
        _ => bail!("usage: cargo xtask faults [--kills N]"),
    };
    setup::test_packages()?;
    let started = Instant::now();
    let mut tally = tally::Tally::default();
    let harness = |db: &str| {
        let mut c = cargo();
        c.args(["test", "-p", "certdesk-backend", "--test", "api", "faults::", "--", "--nocapture"])
            .env("FAULTS_KILLS", &kills)
            .env("FAULTS_ROLLS", "10")
            .env("FAULTS_OUTAGE_SECS", "30")
            // One scenario at a time: each runs its own servers and load.
            .arg("--test-threads=1");
        step(&format!("Fault scenarios on {db}: {kills} kills, 10 rolling restarts (and on PostgreSQL a 30 s outage)"));
        c
    };
    // The outage scenario stops a PostgreSQL of its own: once is enough.
    tally.cargo(
        "faults on SQLite",
        harness("SQLite").args(["--skip", "while_postgresql_is_away"]).env_remove("TEST_DATABASE_URL"),
    )?;
    let pg = postgres::TempPostgres::start()?;
    tally.cargo("faults on PostgreSQL", harness("PostgreSQL").env("TEST_DATABASE_URL", pg.url()))?;
    drop(pg);
    tally.print(started.elapsed());
    tally.check()
}

/// `cargo xtask soak [--secs N] [--rate R]`: `backend/tests/api/soak.rs` in release.
fn soak(args: &[String]) -> Result<()> {
    let (mut secs, mut rate) = ("600".to_owned(), "1000".to_owned());
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().filter(|v| v.parse::<u32>().is_ok());
        match (flag.as_str(), value) {
            ("--secs", Some(v)) => secs = v.clone(),
            ("--rate", Some(v)) => rate = v.clone(),
            _ => bail!("usage: cargo xtask soak [--secs N] [--rate R]"),
        }
    }
    setup::test_packages()?;
    step(&format!("Soak: {rate} requests/s for {secs} s against a release server on SQLite"));
    let mut tally = tally::Tally::default();
    let started = Instant::now();
    tally.cargo(
        "soak",
        cargo()
            .args(["test", "--release", "-p", "certdesk-backend", "--test", "api", "soak::", "--", "--nocapture"])
            .env("SOAK_SECS", &secs)
            .env("SOAK_RATE", &rate)
            .env_remove("TEST_DATABASE_URL"),
    )?;
    tally.print(started.elapsed());
    tally.check()
}

/// A step's heading, with the time since the command started (so that a log shows where
/// the time goes).
fn step(title: &str) {
    static STARTED: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let t = STARTED.get_or_init(Instant::now).elapsed().as_secs();
    println!("\n==> [{:02}:{:02}] {title}", t / 60, t % 60);
}

fn run(server_args: &[String]) -> Result<()> {
    step("Build tools");
    setup::build_tools()?;
    step("Browser app (release)");
    setup::build_app()?;
    size::report_all(&root().join("dist"))?;
    step("Token agent for the 下载中心 (release, Windows and Linux)");
    setup::build_downloads()?;
    step("Server (release)");
    sh(cargo().args(["build", "--release", "-p", "certdesk-backend", "--bin", "certdesk"]))?;
    let server = target_dir().join("release/certdesk");
    let bind = server_bind(server_args);
    let loopback = bind.parse::<std::net::SocketAddr>().is_ok_and(|a| a.ip().is_loopback());
    let port = bind.rsplit(':').next().unwrap_or("8080");
    let open = if loopback { format!("http://localhost:{port}") } else { format!("http://{bind}") };
    println!("\nCertDesk: open {open} (Ctrl-C stops it).");
    println!("Data lives in ./data (SQLite). Set DATABASE_URL=postgres://… to use PostgreSQL.");
    let metrics = std::env::var("CERTDESK_METRICS_BIND").unwrap_or_else(|_| "127.0.0.1:9464".to_owned());
    println!("Health: {open}/api/health   Metrics (internal listener): http://{metrics}/metrics");
    println!(
        "First administrator: target/release/certdesk admin create --role administrator --username admin \
         (prints a link to enrol a security key; staff sign in at /admin with it)."
    );
    let mut cmd = Command::new(server);
    cmd.current_dir(root());
    if std::env::var_os("CERTDESK_METRICS_BIND").is_none()
        && !server_args.iter().any(|a| a.starts_with("--metrics-bind"))
    {
        cmd.env("CERTDESK_METRICS_BIND", "127.0.0.1:9464");
    }
    if loopback && std::env::var_os("CERTDESK_PUBLIC_URL").is_none() {
        // Plain http on loopback only: cookies cannot be `Secure` there. Security keys need
        // a host name, so the portal calls itself localhost.
        cmd.env("CERTDESK_DEV", "true");
        cmd.env("CERTDESK_PUBLIC_URL", &open);
    }
    sh(cmd.args(server_args))
}

/// The address the server will listen on: `--bind`, else `CERTDESK_BIND`, else the default.
fn server_bind(args: &[String]) -> String {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if let Some(v) = a.strip_prefix("--bind=") {
            return v.to_owned();
        }
        if a == "--bind"
            && let Some(v) = it.next()
        {
            return v.clone();
        }
    }
    std::env::var("CERTDESK_BIND").unwrap_or_else(|_| "127.0.0.1:8080".to_owned())
}

/// Cargo's target directory (`CARGO_TARGET_DIR` or `target/`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"))
}

fn test() -> Result<()> {
    let started = Instant::now();
    step("System packages for tests");
    setup::test_packages()?;
    step("Build tools");
    setup::build_tools()?;
    setup::e2e_packages()?;
    let pkilint = setup::pkilint()?;

    step("Formatting (rustfmt.toml)");
    sh(cargo().args(["fmt", "--all", "--check"]))?;

    // cargo-deny reads every crate of the lock file, for every platform, offline: fetched first.
    step("Licenses and banned dependencies (deny.toml)");
    sh(cargo().args(["fetch"]))?;
    sh(Command::new(setup::cargo_deny()?).current_dir(root()).args(["--offline", "check", "licenses", "bans"]))?;

    build_and_lint()?;

    let mut tally = tally::Tally::default();
    step("Workspace unit tests");
    tally.cargo("workspace unit tests", linted_cargo()?.args(["test", "--workspace", "--lib", "--bins"]))?;

    step("Token agent against SoftHSM2");
    tally.cargo("token agent", linted_cargo()?.args(["test", "--workspace", "--test", "agent"]))?;

    step("Token agent for the 下载中心 (release, Windows and Linux), the Windows one under Wine");
    let windows = setup::build_downloads()?;
    tally.cargo(
        "Windows agent under Wine",
        linted_cargo()?.args(["test", "--workspace", "--test", "windows"]).env("CERTDESK_AGENT_WINDOWS_EXE", &windows),
    )?;

    // Everything the browser suite needs is built first (one heavy build at a time), with the
    // API suites' test binary. Then the browser suite runs beside the two API suites: the one
    // waits on Chromium and the pages, the others on the databases' disk flushes, so together
    // they keep both cores busy where one after the other each left one idle.
    build_browser_parts()?;

    step("Browser tests (Playwright, Debian Chromium), beside the backend API tests on SQLite, then PostgreSQL");
    let (api, browser, outcome) = std::thread::scope(|s| {
        let browser = s.spawn(|| {
            let mut browser = tally::Tally::prefixed("browser │ ");
            let result = run_browser_suite(&mut browser, &[]);
            (browser, result)
        });
        let mut api = tally::Tally::default();
        let api_result = api_suites(&mut api, &pkilint);
        match browser.join() {
            Ok((b, browser_result)) => (api, b, api_result.and(browser_result)),
            Err(_) => (api, tally::Tally::default(), Err(anyhow::anyhow!("the browser suite's thread panicked"))),
        }
    });
    // Every suite's rows in the summary, also when one of them failed.
    tally.absorb(api);
    tally.absorb(browser);
    if let Err(e) = outcome {
        tally.print(started.elapsed());
        return Err(e);
    }

    tally.print(started.elapsed());
    tally.check()
}

/// `cargo xtask e2e [playwright args…]`: only the browser tests (for instance one spec file,
/// `cargo xtask e2e tests/renew.spec.ts`), with the app, the server and the agent built first.
fn e2e(args: &[String]) -> Result<()> {
    let started = Instant::now();
    setup::test_packages()?;
    setup::build_tools()?;
    setup::e2e_packages()?;
    let mut tally = tally::Tally::default();
    browser_tests(&mut tally, args)?;
    tally.print(started.elapsed());
    tally.check()
}

/// The backend's API suite on SQLite, then on a PostgreSQL of its own.
fn api_suites(tally: &mut tally::Tally, pkilint: &Path) -> Result<()> {
    step("Backend API tests on SQLite");
    tally.cargo(
        "API on SQLite",
        linted_cargo()?
            .args(["test", "--workspace", "--test", "api"])
            .env_remove("TEST_DATABASE_URL")
            .env("PKILINT_BIN", pkilint),
    )?;
    step("Backend API tests on PostgreSQL");
    let pg = postgres::TempPostgres::start()?;
    tally.cargo(
        "API on PostgreSQL",
        linted_cargo()?
            .args(["test", "--workspace", "--test", "api"])
            .env("TEST_DATABASE_URL", pg.url())
            .env("PKILINT_BIN", pkilint),
    )
}

/// Builds the release app, the server and the agent, starts the server, and runs Playwright.
fn browser_tests(tally: &mut tally::Tally, args: &[String]) -> Result<()> {
    build_browser_parts()?;
    step("Browser tests (Playwright, Debian Chromium)");
    run_browser_suite(tally, args)
}

/// The release app, the token agent downloads, the server and the agent the browser suite runs.
fn build_browser_parts() -> Result<()> {
    step("Browser app (release) and server");
    setup::build_app()?;
    size::report_all(&root().join("dist"))?;
    // After the app: trunk empties dist/ as it builds.
    setup::build_downloads()?;
    // The server and the agent as their integration tests build them (cargo builds a
    // package's binaries for its integration tests, into target/debug): the same features as
    // the test runs, so neither is compiled twice, and the API suite's binary is ready.
    build_and_lint()
}

/// Starts the server and runs Playwright against it (everything built already).
fn run_browser_suite(tally: &mut tally::Tally, args: &[String]) -> Result<()> {
    let server = TestServer::start()?;
    let mut npx = Command::new("npx");
    npx.current_dir(root().join("e2e"))
        .args(["playwright", "test"])
        .args(args)
        .env("BASE_URL", server.url())
        .env("CERTDESK_BIN", target_dir().join("debug/certdesk"))
        .env("CERTDESK_AGENT_BIN", target_dir().join("debug/certdesk-agent"))
        .env("CERTDESK_DATA_DIR", server.data.path())
        .env("CERTDESK_CLOCK_FILE", server.clock_file())
        .env_remove("DATABASE_URL")
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
    let result = tally.playwright("browser", &mut npx);
    drop(server);
    result
}

/// Debian's libfaketime (package `faketime`).
const FAKETIME_LIB: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

/// The real server on a free port with a fresh data directory (embedded SQLite).
struct TestServer {
    child: Child,
    port: u16,
    data: TempDir,
}

impl TestServer {
    fn start() -> Result<TestServer> {
        let port = free_port()?;
        let data = TempDir::new("certdesk-e2e")?;
        // The operating system's clock as the server sees it: libfaketime reads the offset
        // from this file at each call ("+0d" is the real time; the renewal journey moves it).
        std::fs::write(data.path().join("clock"), "+0d\n")?;
        let child = Command::new(target_dir().join("debug/certdesk"))
            .current_dir(root())
            .env("LD_PRELOAD", FAKETIME_LIB)
            .env("FAKETIME_TIMESTAMP_FILE", data.path().join("clock"))
            .env("FAKETIME_NO_CACHE", "1")
            .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
            .env("CERTDESK_BIND", format!("127.0.0.1:{port}"))
            .env("CERTDESK_DATA_DIR", data.path())
            .env("CERTDESK_STATIC_DIR", root().join("dist"))
            .env("CERTDESK_PUBLIC_URL", format!("http://localhost:{port}"))
            .env("CERTDESK_DEV", "true")
            // The browser tests read each captcha's answer from a header (test-only switch).
            .env("CERTDESK_INSECURE_CAPTCHA_ECHO", "true")
            // As behind a reverse proxy: every journey's browser registers from an address of
            // its own (`support.ts` `register`), so the per-address limits on SMS codes, which
            // all the journeys together would pass from 127.0.0.1, stay the production ones.
            .env("CERTDESK_TRUST_FORWARDED_FOR", "true")
            .env_remove("DATABASE_URL")
            .env("RUST_LOG", "warn")
            .spawn()
            .context("starting certdesk")?;
        let server = TestServer { child, port, data };
        server.wait_healthy()?;
        Ok(server)
    }

    fn clock_file(&self) -> PathBuf {
        self.data.path().join("clock")
    }

    /// `localhost`, not an IP: browsers allow security keys on host names only.
    fn url(&self) -> String {
        format!("http://localhost:{}", self.port)
    }

    fn wait_healthy(&self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
                use std::io::{Read, Write};
                let _ = s.write_all(b"GET /api/health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
                let mut buf = String::new();
                let _ = s.read_to_string(&mut buf);
                if buf.starts_with("HTTP/1.0 200") || buf.starts_with("HTTP/1.1 200") {
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        bail!("certdesk did not become healthy on port {} within 60 s", self.port)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// A directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> Result<TempDir> {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.subsec_nanos();
        let p = std::env::temp_dir().join(format!("{prefix}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p)?;
        Ok(TempDir(p))
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
