//! Installs what the commands need where it is missing, and says what it cannot install.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail, ensure};
use certdesk_shared::downloads::{Download, Platform};

use crate::{root, sh, wasm};

pub const TRUNK_VERSION: &str = "0.21.14";
/// Must equal the `wasm-bindgen = "=…"` pin in frontend/Cargo.toml (checked by a test).
pub const WASM_BINDGEN_VERSION: &str = "0.2.130";
/// Debian's binaryen (108) breaks the app; the npm build of 132 works.
pub const BINARYEN_VERSION: &str = "132";
/// The browser app's toolchain: a pinned nightly, for what only nightly does to a wasm's size
/// (see [`app_cargo`]). The server, the agent and every test build with the stable toolchain.
pub const APP_TOOLCHAIN: &str = "nightly-2026-05-19";
/// The wasm's compiler flags, beside the `wasm-release` profile (opt-level "z", LTO, one
/// codegen unit):
/// - `erase_components`: leptos's components return type-erased views (less monomorphised
///   view code, about 8 % less gzip);
/// - `panic=immediate-abort`: a panic is a trap (`RuntimeError: unreachable` in the console,
///   which the browser tests fail on), without the code that formats and reports it;
/// - `location-detail=none`: no source paths of panics in the wasm's data;
/// - `--emit-relocs` to the linker: the relocations that splitting the wasm at its lazy
///   functions reads (`crate::wasm`).
const APP_RUSTFLAGS: &str = "--cfg erase_components -Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Clink-args=--emit-relocs";
/// `cargo deny check licenses bans` (deny.toml), which needs no network.
pub const CARGO_DENY_VERSION: &str = "0.20.2";

/// Debian packages the tests use, each with a file that only that package installs.
const TEST_PACKAGES: &[(&str, &str)] = &[
    ("chromium", "/usr/bin/chromium"),
    ("fonts-noto-cjk", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    ("softhsm2", "/usr/bin/softhsm2-util"),
    // pkcs11-tool, to look inside a token from outside.
    ("opensc", "/usr/bin/pkcs11-tool"),
    // Outside checkers of the CA's output.
    ("openssl", "/usr/bin/openssl"),
    // pdftotext reads our PDFs back; poppler-data has the Chinese CMaps it needs for that.
    ("poppler-utils", "/usr/bin/pdftotext"),
    ("poppler-data", "/usr/share/poppler/cMap/Adobe-GB1/UniGB-UCS2-H"),
    // The browser tests' server runs under libfaketime, so that the renewal journey reaches a
    // certificate's last 90 days on the operating system's clock (the server has no switch).
    ("faketime", "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"),
    // The server, not only the client: checked by its initdb below.
    ("postgresql", ""),
    // The agent's Windows build runs under Wine in its test.
    ("wine64", "/usr/lib/wine/wine64"),
];

pub fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn is_root() -> bool {
    output(Command::new("id").arg("-u")).is_some_and(|s| s.trim() == "0")
}

/// apt-get install, as root or through password-less sudo; otherwise explains what to run.
pub fn apt_install(packages: &[&str]) -> Result<()> {
    let mut prefix: Vec<&str> = Vec::new();
    if !is_root() {
        if Command::new("sudo").args(["-n", "true"]).status().is_ok_and(|s| s.success()) {
            prefix.push("sudo");
        } else {
            bail!("these Debian packages are needed: {p}\nrun as root: apt-get install -y {p}", p = packages.join(" "));
        }
    }
    println!("installing with apt-get: {}", packages.join(" "));
    let apt = |args: &[&str]| -> Result<()> {
        let mut all: Vec<&str> = prefix.clone();
        all.push("apt-get");
        all.extend_from_slice(args);
        sh(Command::new(all[0]).args(&all[1..]).env("DEBIAN_FRONTEND", "noninteractive"))
    };
    apt(&["update", "-qq"])?;
    let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
    args.extend_from_slice(packages);
    apt(&args)
}

/// Debian packages the build needs: webauthn-rs links OpenSSL; the agent's Windows build
/// (served by the 下载中心) links with mingw-w64.
const BUILD_PACKAGES: &[(&str, &str)] = &[
    ("libssl-dev", "/usr/include/openssl/ssl.h"),
    ("pkg-config", "/usr/bin/pkg-config"),
    ("gcc-mingw-w64-x86-64", "/usr/bin/x86_64-w64-mingw32-gcc"),
];

/// The Rust target of the agent's Windows build.
pub const WINDOWS_TARGET: &str = "x86_64-pc-windows-gnu";

pub fn build_packages() -> Result<()> {
    let missing: Vec<&str> =
        BUILD_PACKAGES.iter().filter(|(_, f)| !std::path::Path::new(f).exists()).map(|(p, _)| *p).collect();
    if missing.is_empty() {
        return Ok(());
    }
    apt_install(&missing)
}

pub fn test_packages() -> Result<()> {
    let installed = |(pkg, file): &(&str, &str)| match *pkg {
        "postgresql" => crate::postgres::bin_dir().is_ok(),
        _ => std::path::Path::new(file).exists(),
    };
    let missing: Vec<&str> = TEST_PACKAGES.iter().filter(|p| !installed(p)).map(|(p, _)| *p).collect();
    if missing.is_empty() {
        println!("installed: {}", TEST_PACKAGES.iter().map(|p| p.0).collect::<Vec<_>>().join(", "));
        return Ok(());
    }
    apt_install(&missing)
}

/// cargo-deny at [`CARGO_DENY_VERSION`], installed from crates.io if missing; its path.
pub fn cargo_deny() -> Result<PathBuf> {
    let bin = cargo_bin("cargo-deny");
    if output(Command::new(&bin).arg("--version"))
        .is_none_or(|v| v.trim() != format!("cargo-deny {CARGO_DENY_VERSION}"))
    {
        sh(crate::cargo().args(["install", "--locked", &format!("cargo-deny@{CARGO_DENY_VERSION}")]))?;
    }
    Ok(bin)
}

fn cargo_bin(name: &str) -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_default();
    home.join("bin").join(name)
}

/// Version of a tool as the build will find it: cargo's bin directory first (see `tool_path`).
fn tool_version(bin: &str) -> Option<String> {
    output(Command::new(cargo_bin(bin)).arg("--version")).or_else(|| output(Command::new(bin).arg("--version")))
}

/// The app's toolchain with the standard library's source, the agent's Windows target,
/// trunk, wasm-bindgen-cli and binaryen at the versions that work here.
pub fn build_tools() -> Result<()> {
    build_packages()?;
    let targets = output(Command::new("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    if !targets.lines().any(|t| t.trim() == WINDOWS_TARGET) {
        sh(Command::new("rustup").args(["target", "add", WINDOWS_TARGET]))?;
    }
    // The wasm needs no prebuilt standard library: `-Zbuild-std` compiles it from rust-src.
    let src = output(Command::new("rustup").args(["component", "list", "--installed", "--toolchain", APP_TOOLCHAIN]))
        .unwrap_or_default();
    if !src.lines().any(|c| c.trim() == "rust-src") {
        sh(Command::new("rustup").args([
            "toolchain",
            "install",
            APP_TOOLCHAIN,
            "--profile",
            "minimal",
            "--component",
            "rust-src",
        ]))?;
    }
    if tool_version("trunk").is_none_or(|v| !v.contains(TRUNK_VERSION)) {
        // --locked: an unlocked build pulls a lightningcss that does not compile.
        sh(crate::cargo().args(["install", "--locked", &format!("trunk@{TRUNK_VERSION}")]))?;
    }
    if tool_version("wasm-bindgen").is_none_or(|v| v.trim() != format!("wasm-bindgen {WASM_BINDGEN_VERSION}")) {
        // Not --locked: its lock file names crates the registry mirror may lack.
        sh(crate::cargo().args(["install", "--force", &format!("wasm-bindgen-cli@{WASM_BINDGEN_VERSION}")]))?;
    }
    let wasm_opt = tools_dir().join("node_modules/.bin/wasm-opt");
    let ok = output(Command::new(&wasm_opt).arg("--version"))
        .is_some_and(|v| v.contains(&format!("version {BINARYEN_VERSION}")));
    if !ok {
        std::fs::create_dir_all(tools_dir())?;
        sh(Command::new("npm").current_dir(tools_dir()).args([
            "install",
            "--no-save",
            "--no-audit",
            "--no-fund",
            &format!("binaryen@{BINARYEN_VERSION}"),
        ]))
        .context("installing binaryen from npm (is Node.js with npm installed?)")?;
    }
    println!(
        "build tools: {APP_TOOLCHAIN} with rust-src, trunk {TRUNK_VERSION}, wasm-bindgen {WASM_BINDGEN_VERSION}, binaryen {BINARYEN_VERSION}"
    );
    Ok(())
}

fn tools_dir() -> PathBuf {
    root().join("target/tools")
}

/// PATH with binaryen's npm bin and cargo's bin first.
fn tool_path() -> std::ffi::OsString {
    let mut paths = vec![tools_dir().join("node_modules/.bin"), cargo_bin("")];
    paths.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
    std::env::join_paths(paths).unwrap_or_default()
}

/// cargo as the app is built: [`APP_TOOLCHAIN`] (through rustup's `cargo`), the standard library
/// compiled with the app (`-Zbuild-std`: at opt-level "z" and with the app's panic strategy,
/// where the prebuilt one is at opt-level 3 with the code that reports panics) and
/// [`APP_RUSTFLAGS`]. Measured on the holder's bundle: 309 KB of gzip wasm on stable, 287 KB
/// so.
fn app_cargo() -> Command {
    let mut cmd = Command::new("cargo");
    app_env(&mut cmd).current_dir(root());
    cmd
}

/// The environment of [`app_cargo`], for trunk too (it reads the frontend's manifest). What
/// `cargo xtask` itself was started with (stable cargo and rustc, the test build's
/// clippy-driver) is not passed on.
fn app_env(cmd: &mut Command) -> &mut Command {
    for var in [
        "CARGO",
        "RUSTC",
        "RUSTDOC",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("RUSTUP_TOOLCHAIN", APP_TOOLCHAIN)
        .env("CARGO_UNSTABLE_BUILD_STD", "std,panic_abort")
        .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS", APP_RUSTFLAGS)
}

/// The app's pages: each its own wasm bundle (`bin`), its HTML and CSS built by trunk from its
/// HTML page into a folder of dist/ (`None`: the home page's bundle, into dist/ itself).
#[derive(Clone)]
struct Page {
    html: &'static str,
    dir: Option<&'static str>,
    bin: &'static str,
}

const PAGES: &[Page] = &[
    Page { html: "index.html", dir: None, bin: "certdesk-frontend" },
    Page { html: "account.html", dir: Some("account-app"), bin: "certdesk-account" },
    Page { html: "apply.html", dir: Some("apply-app"), bin: "certdesk-apply" },
    Page { html: "holder.html", dir: Some("holder-app"), bin: "certdesk-holder" },
    Page { html: "renew.html", dir: Some("renew-app"), bin: "certdesk-renew" },
    Page { html: "request.html", dir: Some("request-app"), bin: "certdesk-request" },
    Page { html: "admin-sign-in.html", dir: Some("admin-sign-in-app"), bin: "certdesk-admin-sign-in" },
    Page { html: "admin-dashboard.html", dir: Some("admin-dashboard-app"), bin: "certdesk-admin-dashboard" },
    Page { html: "admin.html", dir: Some("admin-app"), bin: "certdesk-admin" },
    Page { html: "admin-settings.html", dir: Some("admin-settings-app"), bin: "certdesk-admin-settings" },
    Page { html: "directory.html", dir: Some("directory-app"), bin: "certdesk-directory" },
    Page { html: "token.html", dir: Some("token-app"), bin: "certdesk-token" },
    Page { html: "mobile.html", dir: Some("mobile-app"), bin: "certdesk-mobile" },
];

/// The app in release into dist/: the home page's bundle, then the account pages, the
/// new-certificate wizard, 我的证书, 证书延期 and 证书补办, the request pages, the staff's sign-in, the
/// staff console's 工作台, daily work and settings, the public directory, the token pages and
/// the phone app, each its own wasm in its own folder ([`PAGES`]); then every file's
/// precompressed copies (`precompress`).
///
/// Each bundle links with LTO into one codegen unit, which uses one core for about two
/// minutes. So all the bundles' wasm is built first by one cargo command, which links as
/// many at a time as there are cores. Then, as many pages at a time as there are cores,
/// trunk builds a page's HTML and CSS, and [`crate::wasm`] splits, binds, shrinks and names
/// its wasm and writes the page's loader.
///
/// The home page starts its app two frames after the browser has shown the first screen
/// that `index.html` holds as HTML ([`wasm::Start::AfterFirstPaint`]; other pages preload
/// their wasm and start at once). Fetched at once, the wasm arrived before the first frame
/// from a precompressed copy, and Lighthouse counted its download into the largest
/// contentful paint, or the app's drawing became it (mobile LCP 2.5 s in 3 runs of 3;
/// 0.96-1.06 s in 4 of 5 fetched after two frames).
pub fn build_app() -> Result<()> {
    build_pages(PAGES)
}

/// [`build_app`] for only the bundles named (their `bin`, as `cargo xtask size` names their
/// files), to measure a change to one of them in a few minutes: the others' files in dist/
/// stay as they were. The portal's bundle (`certdesk-frontend`) is built into dist/ itself,
/// which trunk empties: naming it builds them all.
pub fn build_some(bins: &[String]) -> Result<()> {
    if bins.iter().any(|bin| PAGES.first().is_some_and(|home| home.bin == bin)) {
        return build_app();
    }
    let pages: Vec<&Page> = bins
        .iter()
        .map(|bin| {
            PAGES.iter().find(|p| p.bin == bin).with_context(|| {
                let all: Vec<_> = PAGES.iter().map(|p| p.bin).collect();
                format!("no bundle {bin}: the bundles are {}", all.join(", "))
            })
        })
        .collect::<Result<_>>()?;
    build_pages(pages.into_iter().cloned().collect::<Vec<_>>().as_slice())
}

fn build_pages(pages: &[Page]) -> Result<()> {
    let mut cargo = app_cargo();
    cargo.args(["build", "-p", "certdesk-frontend", "--profile", "wasm-release", "--target", "wasm32-unknown-unknown"]);
    if pages.len() == PAGES.len() {
        cargo.arg("--bins");
    } else {
        for page in pages {
            cargo.args(["--bin", page.bin]);
        }
    }
    let texts = build_reporting_out_dir(&mut cargo, "certdesk-frontend")?.join("texts");
    let page = |page: &Page| -> Result<()> {
        let mut cmd = Command::new("trunk");
        app_env(&mut cmd)
            .current_dir(root())
            .args(["build", page.html, "--release", "--offline"])
            .env("PATH", tool_path());
        let public = page.dir.map_or("/".to_owned(), |dir| format!("/{dir}/"));
        let out = page.dir.map_or(root().join("dist"), |dir| root().join("dist").join(dir));
        if page.dir.is_some() {
            cmd.args(["--dist", &out.to_string_lossy(), "--public-url", &public]);
        }
        sh(&mut cmd)?;
        let work = crate::target_dir().join("wasm-split").join(page.bin);
        let built = wasm::build(page.bin, &wasm::linked(page.bin), &work, &out, &tool_path())?;
        println!("{}: {} and {} lazy chunk(s) {:?}", page.bin, built.wasm, built.chunks.len(), built.chunks);
        let start = if page.dir.is_none() { wasm::Start::AfterFirstPaint } else { wasm::Start::AtOnce };
        wasm::write_loader(&out.join("index.html"), &public, &built, start)
    };
    // The home page first: trunk empties dist/ when it builds into it.
    let (home, rest) = match pages.split_first() {
        Some((home, rest)) if home.dir.is_none() => (Some(home), rest),
        _ => (None, pages),
    };
    if let Some(home) = home {
        page(home)?;
    }
    crate::on_every_core(rest, page)?;
    copy_texts(&texts, &root().join("dist").join(TEXTS_DIR))?;
    for page in pages {
        let out = page.dir.map_or(root().join("dist"), |dir| root().join("dist").join(dir));
        one_language_inside(&out, &texts)?;
    }
    crate::precompress::all(&root().join("dist"))
}

/// Where the app's texts in the languages besides the default are served from (`/texts/`;
/// `frontend/src/i18n.rs` fetches them).
pub const TEXTS_DIR: &str = "texts";

/// Runs `cargo build` and returns the `OUT_DIR` of `package`'s build script, from cargo's
/// JSON messages (compiler messages are still shown, on stderr).
fn build_reporting_out_dir(cargo: &mut Command, package: &str) -> Result<PathBuf> {
    cargo.arg("--message-format=json-render-diagnostics").stdout(std::process::Stdio::piped());
    let mut child = cargo.spawn().with_context(|| format!("starting {cargo:?}"))?;
    let stdout = child.stdout.take().context("cargo's stdout")?;
    let mut out_dir = None;
    for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)) {
        let message: serde_json::Value = serde_json::from_str(&line?).unwrap_or_default();
        let id = message["package_id"].as_str().unwrap_or("");
        if message["reason"] == "build-script-executed" && id.contains(&format!("#{package}@")) {
            out_dir = message["out_dir"].as_str().map(PathBuf::from);
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("{cargo:?} failed with {status}");
    }
    out_dir.with_context(|| format!("cargo did not report {package}'s build script"))
}

/// Copies the texts' files (`<tag>-<hash>.json`, written by the frontend's build script) to
/// `to`, in place of an earlier build's.
fn copy_texts(from: &std::path::Path, to: &std::path::Path) -> Result<()> {
    if to.exists() {
        std::fs::remove_dir_all(to)?;
    }
    std::fs::create_dir_all(to)?;
    let mut copied = 0;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let path = entry?.path();
        if let Some(name) = path.file_name() {
            std::fs::copy(&path, to.join(name))?;
            copied += 1;
        }
    }
    if copied == 0 {
        bail!("no texts in {}", from.display());
    }
    Ok(())
}

/// Fails when a bundle's wasm (in `dir`) holds an English text of the app's or of the error
/// catalogue (from the English texts' file in `texts`): a bundle carries simplified Chinese
/// only, and fetches another language's texts when it is chosen (`frontend/src/i18n.rs`).
/// Texts of 20 bytes or more only: shorter English words are in the code for other reasons.
fn one_language_inside(dir: &std::path::Path, texts: &std::path::Path) -> Result<()> {
    let english = std::fs::read_dir(texts)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("en-") && n.ends_with(".json")))
        .context("no English texts")?;
    let english: Vec<String> = serde_json::from_str(&std::fs::read_to_string(english)?)?;
    let mut wasm = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "wasm") {
            wasm.extend(std::fs::read(&path)?);
        }
    }
    ensure!(!wasm.is_empty(), "no wasm in {}", dir.display());
    // A text is valid UTF-8, so it is intact in the lossy string (and found fast there).
    let wasm = String::from_utf8_lossy(&wasm);
    let inside = english.iter().filter(|t| t.len() >= 20).find(|t| wasm.contains(t.as_str()));
    match inside {
        Some(text) => bail!("{}: the wasm holds the English text {text:?}", dir.display()),
        None => Ok(()),
    }
}

/// The 下载中心's files, built in release into `dist/downloads/`: the token agent for Windows
/// (`certdesk-agent-<version>-windows-x86_64.exe`) and for Linux (a `.tar.gz` keeping the
/// executable bit). Returns the Windows file. The server lists what it finds there with
/// each file's size and SHA-256.
pub fn build_downloads() -> Result<PathBuf> {
    let version = env!("CARGO_PKG_VERSION");
    let out = root().join("dist/downloads");
    // Only this build's files: an older version left here would still be listed.
    if out.exists() {
        std::fs::remove_dir_all(&out)?;
    }
    std::fs::create_dir_all(&out)?;
    let release = |target: Option<&str>| -> Result<PathBuf> {
        let mut cargo = crate::cargo();
        cargo.args(["build", "--release", "-p", "certdesk-agent", "--bin", "certdesk-agent"]);
        if let Some(t) = target {
            cargo.args(["--target", t]);
        }
        sh(&mut cargo)?;
        let dir = match target {
            Some(t) => crate::target_dir().join(t).join("release"),
            None => crate::target_dir().join("release"),
        };
        Ok(dir)
    };
    let name = |p| Download::agent_file(version, p);
    let windows = out.join(name(Platform::Windows));
    std::fs::copy(release(Some(WINDOWS_TARGET))?.join("certdesk-agent.exe"), &windows)?;
    let linux_dir = release(None)?;
    let linux = out.join(name(Platform::Linux));
    sh(Command::new("tar")
        .arg("-czf")
        .arg(&linux)
        .arg("--owner=0")
        .arg("--group=0")
        .arg("-C")
        .arg(&linux_dir)
        .arg("certdesk-agent"))?;
    for f in [&windows, &linux] {
        println!("下载中心: {} ({} bytes)", f.display(), std::fs::metadata(f)?.len());
    }
    Ok(windows)
}

/// A Python virtual environment at `venv` (made if it has no pip); its bin directory.
fn python_venv(venv: &std::path::Path) -> Result<PathBuf> {
    let bin = venv.join("bin");
    let make_venv = || Command::new("python3").args(["-m", "venv"]).arg(venv).status().is_ok_and(|s| s.success());
    if bin.join("pip").exists() {
        return Ok(bin);
    }
    if !make_venv() {
        // Debian's python3 needs python3-venv for ensurepip.
        apt_install(&["python3-venv"])?;
    }
    if !bin.join("pip").exists() && !make_venv() {
        bail!("cannot create a Python virtual environment in {}", venv.display());
    }
    Ok(bin)
}

/// Schemathesis, pinned: `cargo xtask fuzz` runs it against a test server's `/api/openapi.json`.
pub const SCHEMATHESIS_VERSION: &str = "4.32.5";

/// Schemathesis from PyPI in its own virtual environment (it pins libraries of its own);
/// the path of its `st` program.
pub fn schemathesis() -> Result<PathBuf> {
    let venv = tools_dir().join("schemathesis");
    let st = venv.join("bin/st");
    if output(Command::new(&st).arg("--version")).is_some_and(|v| v.contains(SCHEMATHESIS_VERSION)) {
        println!("schemathesis {SCHEMATHESIS_VERSION}: installed");
        return Ok(st);
    }
    sh(Command::new(python_venv(&venv)?.join("pip")).args([
        "install",
        "--quiet",
        "--disable-pip-version-check",
        &format!("schemathesis=={SCHEMATHESIS_VERSION}"),
    ]))
    .context("installing schemathesis from PyPI")?;
    Ok(st)
}

/// The Python tools the tests run, from PyPI, in one virtual environment: pkilint (the
/// outside checker of certificates, CRLs and OCSP responses) and aiosmtpd (a real SMTP
/// server for the e-mail tests). Returns its bin directory.
pub fn pkilint() -> Result<PathBuf> {
    let venv = tools_dir().join("pkilint");
    let bin = venv.join("bin");
    let has_aiosmtpd =
        || Command::new(bin.join("python")).args(["-c", "import aiosmtpd"]).status().is_ok_and(|s| s.success());
    if bin.join("lint_pkix_cert").exists() && has_aiosmtpd() {
        println!("pkilint, aiosmtpd: installed");
        return Ok(bin);
    }
    python_venv(&venv)?;
    sh(Command::new(bin.join("pip")).args([
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "pkilint",
        "aiosmtpd",
    ]))
    .context("installing pkilint and aiosmtpd from PyPI")?;
    Ok(bin)
}

/// The e2e folder's npm packages (Playwright), never a browser download.
pub fn e2e_packages() -> Result<()> {
    let e2e = root().join("e2e");
    let marker = e2e.join("node_modules/.package-lock.json");
    let fresh = match (std::fs::metadata(&marker), std::fs::metadata(e2e.join("package-lock.json"))) {
        (Ok(m), Ok(l)) => m.modified()? >= l.modified()?,
        _ => false,
    };
    if !fresh {
        sh(Command::new("npm")
            .current_dir(&e2e)
            .args(["ci", "--no-audit", "--no-fund"])
            .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1"))
        .context("installing the e2e npm packages")?;
    }
    println!("e2e packages: installed");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wasm_bindgen_pins_agree() {
        let frontend = std::fs::read_to_string(root().join("frontend/Cargo.toml")).unwrap();
        assert!(frontend.contains(&format!("wasm-bindgen = \"={WASM_BINDGEN_VERSION}\"")), "frontend/Cargo.toml");
        let lock = std::fs::read_to_string(root().join("Cargo.lock")).unwrap();
        assert!(lock.contains(&format!("name = \"wasm-bindgen\"\nversion = \"{WASM_BINDGEN_VERSION}\"")), "Cargo.lock");
    }
}
