//! Generates the app's texts from `locales/*.json`, each a flat object of key → text, the same
//! keys in every language (a key missing from one fails the build):
//!
//! - `$OUT_DIR/texts.rs`, included by `src/i18n.rs`: a function per key, which holds the
//!   default language's text (simplified Chinese) and finds the others by the key's index in
//!   their table. On the host (the unit tests) the other tables are compiled in too.
//! - `$OUT_DIR/texts/<tag>-<hash>.json` for traditional Chinese and English: each table as a
//!   JSON array in key order, then the error catalogue's texts (`shared`'s `ErrorCode` and
//!   `ValidationError`), named by a hash of its content. `cargo xtask app` copies them to
//!   `dist/texts/`; the app fetches one when its language is chosen, so a bundle carries one
//!   language's texts, not three.

use std::collections::BTreeMap;
use std::error::Error;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use certdesk_shared::{ErrorCode, Lang, ValidationError};
use sha2::Digest;

/// The languages, the default first, as (`Locale` variant, file and tag).
const LANGUAGES: [(&str, &str); 3] = [("zh_CN", "zh-CN"), ("zh_TW", "zh-TW"), ("en", "en")];

fn read(dir: &Path, tag: &str) -> Result<BTreeMap<String, String>, Box<dyn Error>> {
    let path = dir.join(format!("{tag}.json"));
    println!("cargo::rerun-if-changed={}", path.display());
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(serde_json::from_str(&text).map_err(|e| format!("{}: {e} (a flat object of key → text)", path.display()))?)
}

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo::rerun-if-changed=build.rs");
    let locales =
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").ok_or("CARGO_MANIFEST_DIR is not set")?).join("locales");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?);
    let tables = LANGUAGES.map(|(_, tag)| read(&locales, tag));
    let [default, others @ ..] = tables;
    let default = default?;
    let others = others.into_iter().collect::<Result<Vec<_>, _>>()?;
    for ((_, tag), table) in LANGUAGES[1..].iter().zip(&others) {
        let missing: Vec<&String> = default.keys().filter(|k| !table.contains_key(*k)).collect();
        let extra: Vec<&String> = table.keys().filter(|k| !default.contains_key(*k)).collect();
        if !missing.is_empty() || !extra.is_empty() {
            return Err(format!("locales/{tag}.json: missing {missing:?}, not in zh-CN.json {extra:?}").into());
        }
    }
    for key in default.keys() {
        if !key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
            return Err(format!("text key {key:?}: keys are snake_case identifiers").into());
        }
    }

    // The error catalogue (`shared`: what the server's error bodies say too) joins each
    // table after the app's own texts, error codes then validation errors, in `ALL` order.
    let catalogue = |lang: Lang| -> Vec<String> {
        let errors = ErrorCode::ALL.iter().map(|c| c.message(lang));
        errors.chain(ValidationError::ALL.iter().map(|e| e.message(lang))).map(str::to_owned).collect()
    };
    let others: Vec<Vec<String>> = others
        .iter()
        .zip([Lang::ZhTw, Lang::En])
        .map(|(table, lang)| table.values().cloned().chain(catalogue(lang)).collect())
        .collect();

    let dir = out.join("texts");
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    let mut rs = String::new();
    writeln!(rs, "/// How many texts each language has.\npub const COUNT: usize = {};", others[0].len())?;
    writeln!(rs, "/// Where `ErrorCode::ALL`'s texts start.\npub const ERRORS: usize = {};", default.len())?;
    writeln!(
        rs,
        "/// Where `ValidationError::ALL`'s texts start.\npub const VALIDATIONS: usize = {};",
        default.len() + ErrorCode::ALL.len()
    )?;
    let mut files = Vec::new();
    for ((variant, tag), table) in LANGUAGES[1..].iter().zip(&others) {
        let texts = table;
        let json = serde_json::to_string(&texts)?;
        let hash = hex::encode(&sha2::Sha256::digest(json.as_bytes())[..8]);
        let name = format!("{tag}-{hash}.json");
        std::fs::write(dir.join(&name), &json)?;
        files.push(format!("Locale::{variant} => {name:?},"));
        writeln!(
            rs,
            "#[cfg(not(target_arch = \"wasm32\"))]\npub static {}: [&str; COUNT] = {:?};",
            variant.to_uppercase(),
            texts
        )?;
    }
    writeln!(
        rs,
        "/// The file of a language's texts under `/texts/` (`None`: the default, compiled in).\n\
         pub fn file(l: Locale) -> Option<&'static str> {{\n    Some(match l {{ Locale::zh_CN => return None, {} }})\n}}",
        files.join(" ")
    )?;
    writeln!(rs, "/// The texts, by key.\npub mod keys {{\n    use super::super::{{Locale, text}};")?;
    for (index, (key, zh_cn)) in default.iter().enumerate() {
        writeln!(rs, "    pub fn {key}(l: Locale) -> &'static str {{ text(l, {index}, {zh_cn:?}) }}")?;
    }
    writeln!(rs, "}}")?;
    std::fs::write(out.join("texts.rs"), rs)?;
    Ok(())
}
