//! Sizes of the built app, raw, gzip and brotli as the server sends them: each bundle (the
//! portal in `dist/`, the others in `dist/<name>-app/`, listed in [`BUNDLES`]) against the
//! budget, since a browser loads one of them to start.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};

/// Gzip budget for everything a browser downloads to start a bundle (`report`'s "gzip"), and to
/// draw any of its lazy pages (the start with the page's chunks).
pub const BUDGET_GZIP: u64 = 200 * 1024;

/// Gzip budget for a step that a page fetches after a user's action (it is drawn by then): the
/// start with the page's chunks and the step's, each file counted once.
pub const STEP_BUDGET_GZIP: u64 = 225 * 1024;

/// The lazy functions that are steps inside a page, as `(step, before)`: `before` names the
/// lazy functions whose files the browser may hold by then (the page's, when the page is a lazy
/// function; none where it is in the bundle's main module; an earlier step). Every other lazy
/// function draws a page, within [`BUDGET_GZIP`]. A step renamed in the app and not here counts
/// as a page, which fails the stricter budget rather than passing unseen; a name here that no
/// bundle has fails [`report_all`].
const STEPS: &[(&str, &[&str])] = &[
    // The wizard's step ⑥ (`apply::pay_step_lazy`), and 证书延期's and 证书补办's payment.
    ("pay_step_lazy", &[]),
    ("pay_lazy", &[]),
    // The new certificate written into the token.
    ("download_renewed", &[]),
    ("download_reissued", &[]),
    ("download_changed_lazy", &["change"]),
    // 客服's customer file, opened from what was found.
    ("customer_file_lazy", &["customers"]),
    // The phone app: 延期's download, 扫码登录's camera decoder and its approval (after a scan
    // by the camera, or after a code typed).
    ("download_renewed_lazy", &["renew"]),
    ("read_qr_lazy", &["scan"]),
    ("approve_qr_login_lazy", &["scan", "read_qr_lazy"]),
];

/// A lazy function's name without the hash the macro appends (`pay_lazy_1321…` → `pay_lazy`).
fn lazy_name(function: &str) -> &str {
    match function.rsplit_once('_') {
        Some((name, hash)) if !hash.is_empty() && hash.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => function,
    }
}

fn gzip_len(bytes: &[u8]) -> Result<u64> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes)?;
    Ok(enc.finish()?.len() as u64)
}

/// The bundles besides the portal, as `(name, folder under dist/)`.
pub const BUNDLES: &[(&str, &str)] = &[
    ("account (/sign-in, /register, /forgot-password, /account)", "account-app"),
    ("new certificate (/apply)", "apply-app"),
    ("holder (/my-certificates, /applications, /invoices, /shipments)", "holder-app"),
    ("renewal and reissue (/renew, /reissue)", "renew-app"),
    ("holder's requests (/revoke, /change, /operator-change)", "request-app"),
    ("staff sign-in (/admin/sign-in, /admin/enrol)", "admin-sign-in-app"),
    ("staff console's 工作台 (/admin)", "admin-dashboard-app"),
    ("staff console (/admin/…)", "admin-app"),
    ("staff console settings (/admin/settings)", "admin-settings-app"),
    ("public directory (/search)", "directory-app"),
    ("token pages (/remote-download, /unlock, /verify, /agent)", "token-app"),
    ("mobile shield app (/m)", "mobile-app"),
];

/// Reports every bundle; fails when one is over budget.
pub fn report_all(dist: &Path) -> Result<()> {
    println!("bundle: portal");
    let mut seen = Vec::new();
    let mut over = report(dist, &mut seen).err();
    for (name, dir) in BUNDLES {
        println!("bundle: {name}");
        if let Err(e) = report(&dist.join(dir), &mut seen) {
            over.get_or_insert(e);
        }
    }
    texts(&dist.join(crate::setup::TEXTS_DIR))?;
    if let Some(e) = over {
        return Err(e);
    }
    // A step that no bundle has is a name left behind by a rename: its budget checks nothing.
    if let Some((step, _)) = STEPS.iter().find(|(step, _)| !seen.iter().any(|s| s == step)) {
        bail!("{step} is listed as a step (size.rs STEPS), but no bundle has a lazy function of that name");
    }
    Ok(())
}

/// The texts of the languages besides the default: fetched when a visitor chooses one (or
/// starts in one), outside every bundle's total.
fn texts(dir: &Path) -> Result<()> {
    println!("texts of the other languages (one is fetched when chosen)");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {} (build the app first)", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.retain(|p| p.extension().is_some_and(|e| e == "json"));
    files.sort();
    for path in files {
        let Sent { raw, gz, br, .. } = as_sent(&path)?;
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        println!("{:<6} {:>10} {:>10} {:>10}  {name}", "json", kb(raw), kb(gz), kb(br));
    }
    Ok(())
}

fn kb(bytes: u64) -> String {
    format!("{:.1}KB", bytes as f64 / 1024.0)
}

/// A file's sizes, raw and as the server sends it ([`report`] says how).
struct Sent {
    raw: u64,
    gz: u64,
    gz9: u64,
    br: u64,
}

fn as_sent(path: &Path) -> Result<Sent> {
    let bytes = std::fs::read(path)?;
    let gz9 = gzip_len(&bytes)?;
    let copy = |suffix: &str| std::fs::metadata(crate::precompress::with_suffix(path, suffix)).map(|m| m.len()).ok();
    let br = match copy("br") {
        Some(len) => len,
        None => crate::precompress::brotli(&bytes)?.len() as u64,
    };
    Ok(Sent { raw: bytes.len() as u64, gz: copy("gz").unwrap_or(gz9), gz9, br })
}

/// Prints one line per wasm, js, css and html file and a total of what starts the bundle,
/// then what each lazy function's first call adds (its chunks, listed by `crate::wasm` in
/// [`crate::wasm::FETCHES`]), and for a step (see [`STEPS`]) what the browser holds with it;
/// fails when the total or a page's start is over [`BUDGET_GZIP`], or a step's over
/// [`STEP_BUDGET_GZIP`]. The names of the lazy functions go into `seen`.
///
/// "gzip" is what a browser that accepts gzip downloads: the server's precompressed `.gz`
/// copy (Zopfli, see `precompress`) where there is one; "br" is the same for brotli, which
/// Chromium, Firefox and Safari accept. The HTML page, which the server compresses as it
/// sends it (at a lower level: about 1 KB either way), is counted at `gzip -9` and brotli 11.
/// The total at plain `gzip -9` is printed beside, to compare with figures from before the
/// copies.
pub fn report(dist: &Path, seen: &mut Vec<String>) -> Result<u64> {
    let (mut total_raw, mut total_gz, mut total_gz9, mut total_br) = (0, 0, 0, 0);
    let mut rows = Vec::new();
    let mut lazy_rows = Vec::new();
    for entry in std::fs::read_dir(dist).with_context(|| format!("reading {} (build the app first)", dist.display()))? {
        let path = entry?.path();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !matches!(ext, "wasm" | "js" | "css" | "html") {
            continue;
        }
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("").to_owned();
        // A wasm besides the main module (`…_bg.wasm`) is a lazy chunk (`crate::wasm`): fetched
        // when a lazy function first runs, not to start the bundle.
        let lazy = ext == "wasm" && !name.ends_with("_bg.wasm");
        let Sent { raw, gz, gz9, br } = as_sent(&path)?;
        if lazy {
            lazy_rows.push((name, raw, gz, br));
            continue;
        }
        total_raw += raw;
        total_gz += gz;
        total_gz9 += gz9;
        total_br += br;
        rows.push((ext.to_owned(), name, raw, gz, br));
    }
    rows.sort();
    println!("{:<6} {:>10} {:>10} {:>10}  file", "kind", "raw", "gzip", "br");
    for (ext, name, raw, gz, br) in &rows {
        println!("{ext:<6} {:>10} {:>10} {:>10}  {name}", kb(*raw), kb(*gz), kb(*br));
    }
    println!(
        "{:<6} {:>10} {:>10} {:>10}  ({:.0}% of the {} KB gzip budget; {} at gzip -9)",
        "total",
        kb(total_raw),
        kb(total_gz),
        kb(total_br),
        100.0 * total_gz as f64 / BUDGET_GZIP as f64,
        BUDGET_GZIP / 1024,
        kb(total_gz9)
    );
    // The lazy chunks, shown as what each lazy function's first call fetches on top of the
    // total: a page whose code is lazy (`components::lazily`) starts with exactly that.
    let mut largest = total_gz;
    let mut steps_largest = 0;
    let bin = rows.iter().find_map(|(ext, name, ..)| {
        let stem = name.strip_suffix(".js").filter(|_| ext == "js" && !name.starts_with("__wasm_split"))?;
        stem.rsplit_once('-').map(|(bin, _)| bin.to_owned())
    });
    let fetches = bin.map(|bin| crate::target_dir().join("wasm-split").join(bin).join(crate::wasm::FETCHES));
    if !lazy_rows.is_empty() {
        let fetches = fetches.context("a bundle with lazy chunks but no main JS")?;
        let json = std::fs::read_to_string(&fetches)
            .with_context(|| format!("reading {} (written by `cargo xtask app`)", fetches.display()))?;
        let starts: Vec<(String, Vec<String>)> = serde_json::from_str(&json)?;
        let size =
            |file: &String| lazy_rows.iter().find(|(name, ..)| name == file).map(|&(_, raw, gz, br)| (raw, gz, br));
        let files_of = |name: &str| starts.iter().find(|(f, _)| lazy_name(f) == name).map(|(_, files)| files);
        let sum = |function: &str, files: &mut dyn Iterator<Item = &String>| -> Result<(u64, u64, u64)> {
            let (mut raw, mut gz, mut br) = (0, 0, 0);
            for file in files {
                let (r, g, b) = size(file).with_context(|| format!("{function} fetches {file}, which is not there"))?;
                (raw, gz, br) = (raw + r, gz + g, br + b);
            }
            Ok((raw, gz, br))
        };
        for (function, files) in &starts {
            seen.push(lazy_name(function).to_owned());
            let (raw, gz, br) = sum(function, &mut files.iter())?;
            let step = STEPS.iter().find(|(step, _)| *step == lazy_name(function));
            let Some(&(_, before)) = step else {
                largest = largest.max(total_gz + gz);
                println!(
                    "{:<6} {:>10} {:>10} {:>10}  {function}: {} file(s) at its first call; start with it {} gzip, {} br",
                    "lazy",
                    kb(raw),
                    kb(gz),
                    kb(br),
                    files.len(),
                    kb(total_gz + gz),
                    kb(total_br + br)
                );
                continue;
            };
            // A step: what the browser holds once it is drawn, the files of what came before and
            // its own, each once.
            let mut held: std::collections::BTreeSet<&String> = files.iter().collect();
            for name in before {
                held.extend(
                    files_of(name)
                        .with_context(|| format!("{function} comes after {name}, which is not a lazy function here"))?,
                );
            }
            let (_, with_gz, with_br) = sum(function, &mut held.into_iter())?;
            steps_largest = steps_largest.max(total_gz + with_gz);
            println!(
                "{:<6} {:>10} {:>10} {:>10}  {function}: a step after {}, {} file(s) at its first call; start with them and it {} gzip, {} br",
                "step",
                kb(raw),
                kb(gz),
                kb(br),
                if before.is_empty() { "the main module".to_owned() } else { before.join(" and ") },
                files.len(),
                kb(total_gz + with_gz),
                kb(total_br + with_br)
            );
        }
    }
    if largest > BUDGET_GZIP {
        bail!("the app is over its size budget: {} gzip to start a page, against {}", kb(largest), kb(BUDGET_GZIP));
    }
    if steps_largest > STEP_BUDGET_GZIP {
        bail!(
            "the app is over its size budget: {} gzip with a step, against {}",
            kb(steps_largest),
            kb(STEP_BUDGET_GZIP)
        );
    }
    Ok(total_gz)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lazy_functions_name_is_read_without_its_hash() {
        assert_eq!(lazy_name("pay_step_lazy_206966417303143233"), "pay_step_lazy");
        assert_eq!(lazy_name("renew_4190686419474440357"), "renew");
        // Only a hash of digits goes: a name ending in a word stays whole.
        assert_eq!(lazy_name("download_renewal"), "download_renewal");
        assert_eq!(lazy_name("read_qr_"), "read_qr_");
    }

    #[test]
    fn every_step_is_listed_once_and_comes_after_others() {
        for (step, before) in STEPS {
            assert!(STEPS.iter().filter(|(s, _)| s == step).count() == 1, "{step} is listed twice");
            assert!(!before.contains(step), "{step} comes after itself");
        }
    }
}
