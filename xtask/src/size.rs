//! Sizes of the built app, raw and gzip: each bundle (the portal in `dist/`, the others in
//! `dist/<name>-app/`, listed in [`BUNDLES`]) against the budget, since a browser loads one
//! of them to start.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};

/// Gzip budget for everything the browser downloads to start the app.
pub const BUDGET_GZIP: u64 = 350 * 1024;

fn gzip_len(bytes: &[u8]) -> Result<u64> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes)?;
    Ok(enc.finish()?.len() as u64)
}

/// The bundles besides the portal, as `(name, folder under dist/)`.
pub const BUNDLES: &[(&str, &str)] = &[
    ("new certificate (/apply)", "apply-app"),
    ("holder (/my-certificates, /renew)", "holder-app"),
    ("holder's requests (/revoke, /change, /operator-change)", "request-app"),
    ("staff sign-in (/admin/sign-in, /admin/enrol)", "admin-sign-in-app"),
    ("staff console's 工作台 (/admin)", "admin-dashboard-app"),
    ("staff console (/admin/…)", "admin-app"),
    ("staff console settings (/admin/settings)", "admin-settings-app"),
    ("public directory (/search)", "directory-app"),
    ("mobile shield app (/m)", "mobile-app"),
];

/// Reports every bundle; fails when one is over budget.
pub fn report_all(dist: &Path) -> Result<()> {
    println!("bundle: portal");
    let mut over = report(dist).err();
    for (name, dir) in BUNDLES {
        println!("bundle: {name}");
        if let Err(e) = report(&dist.join(dir)) {
            over.get_or_insert(e);
        }
    }
    match over {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Prints one line per wasm, js and css file and a total; fails over budget.
pub fn report(dist: &Path) -> Result<u64> {
    let mut total_raw = 0;
    let mut total_gz = 0;
    let mut rows = Vec::new();
    for entry in std::fs::read_dir(dist).with_context(|| format!("reading {} (build the app first)", dist.display()))? {
        let path = entry?.path();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !matches!(ext, "wasm" | "js" | "css" | "html") {
            continue;
        }
        let bytes = std::fs::read(&path)?;
        let gz = gzip_len(&bytes)?;
        total_raw += bytes.len() as u64;
        total_gz += gz;
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("").to_owned();
        rows.push((ext.to_owned(), name, bytes.len() as u64, gz));
    }
    rows.sort();
    println!("{:<6} {:>10} {:>10}  file", "kind", "raw", "gzip");
    for (ext, name, raw, gz) in &rows {
        println!("{ext:<6} {:>8.1}KB {:>8.1}KB  {name}", *raw as f64 / 1024.0, *gz as f64 / 1024.0);
    }
    println!(
        "{:<6} {:>8.1}KB {:>8.1}KB  ({:.0}% of the {} KB gzip budget)",
        "total",
        total_raw as f64 / 1024.0,
        total_gz as f64 / 1024.0,
        100.0 * total_gz as f64 / BUDGET_GZIP as f64,
        BUDGET_GZIP / 1024
    );
    if total_gz > BUDGET_GZIP {
        bail!("the app is over its size budget");
    }
    Ok(total_gz)
}
