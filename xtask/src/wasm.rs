//! A bundle's wasm, from the binary cargo links to the files a browser loads, and the page's
//! loader for them. Trunk builds each page's HTML and CSS; this builds its wasm, because
//! trunk cannot split one (trunk-rs/trunk#1022):
//!
//! 1. **Split** at the app's `#[lazy]` functions (leptos's `lazy`, over `wasm_split_helpers`),
//!    as cargo-leptos does, with the same library (`wasm_split_cli_support`): the main module,
//!    one module per lazy function (or group of them) and shared chunks, and a small JS
//!    module that fetches a chunk the first time its function is called. This needs the
//!    linker's relocations (`--emit-relocs`, in `setup::APP_RUSTFLAGS`). A bundle without lazy
//!    functions comes out whole.
//! 2. **Bind** the main module with wasm-bindgen (`--target web`; with chunks,
//!    `--keep-lld-exports` so that they can reach the main module's functions, table and
//!    memory, and `--no-demangle`).
//! 3. **Shrink**: the main module's imports from the JS get short names in both files
//!    ([`with_short_import_names`]), then every module goes through `wasm-opt -Oz`, as trunk
//!    ran it.
//! 4. **Name** every file by one hash of all of them (`<name>-<16 hex>`, which the server
//!    caches for a year). The files name each other (the main JS imports the split loader,
//!    which imports the main JS and fetches the chunks), so they are written with a
//!    placeholder of the hash's length, hashed, and the placeholder replaced.
//! 5. **Load**: the page gets a module script that starts the app, and preload links with
//!    subresource integrity, as trunk's were.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail, ensure};
use base64::Engine;
use sha2::{Digest, Sha256, Sha384};

use crate::sh;

/// In a bundle's work folder (`target/wasm-split/<bin>/`): for each lazy function, the files
/// its first call fetches, as `[[function, [file, …]], …]` (read by `cargo xtask size`).
pub const FETCHES: &str = "fetches.json";

/// How wasm_split_cli_support's loader reports a chunk it could not fetch, and what we do
/// instead: reload, and never answer the wasm (the page is going away).
const CHUNK_FAILED: &str = "console.error(e);\n            success = false;";
const CHUNK_FAILED_RELOAD: &str =
    "console.error(e);\n            location.reload();\n            await new Promise(() => {});";

/// Where each file's hash goes until it is known: as long as the hash (16 hex digits), so
/// that replacing it inside a wasm changes no length.
const PLACEHOLDER: &str = "__CERTDESK_HASH_";

/// What a page loads: the main module's JS and wasm, and the split loader and chunks when
/// the bundle has lazy functions. File names, in the page's folder.
#[derive(Debug)]
pub struct Built {
    pub js: String,
    pub wasm: String,
    pub loader: Option<String>,
    pub chunks: Vec<String>,
}

/// Builds `bin`'s wasm (linked already by cargo into `input`) into `out`, through `work`.
pub fn build(bin: &str, input: &Path, work: &Path, out: &Path, path: &std::ffi::OsStr) -> Result<Built> {
    if work.exists() {
        std::fs::remove_dir_all(work)?;
    }
    std::fs::create_dir_all(work)?;
    let linked = std::fs::read(input).with_context(|| format!("reading {}", input.display()))?;
    let linked = without_unused_lazy_exports(&linked).with_context(|| format!("reading {}", input.display()))?;
    let main = work.join("main.wasm");
    let link_name = format!("./__wasm_split-{PLACEHOLDER}.js");
    let main_module = format!("./{bin}-{PLACEHOLDER}.js");
    let split = wasm_split_cli_support::transform({
        let mut opts = wasm_split_cli_support::Options::new(&linked);
        opts.output_dir = work;
        opts.main_out_path = &main;
        opts.link_name = &link_name;
        opts.main_module = &main_module;
        opts
    })
    .map_err(|e| anyhow::anyhow!("splitting {bin}'s wasm: {e:?}"))?;

    // A lazy function whose module came out empty still has a loader to import.
    let split_at_all = !split.prefetch_map.is_empty();
    let stem = format!("{bin}-{PLACEHOLDER}");
    let bound = work.join("bound");
    let mut bindgen = Command::new("wasm-bindgen");
    bindgen
        .env("PATH", path)
        .args(["--target=web", "--no-typescript"])
        .arg(format!("--out-dir={}", bound.display()))
        .arg(format!("--out-name={stem}"));
    if split_at_all {
        bindgen.args(["--keep-lld-exports", "--no-demangle"]);
    }
    sh(bindgen.arg(&main))?;
    if split_at_all {
        // wasm-bindgen has dropped what nothing reaches. A lazy function whose loader is gone
        // is called only from another lazy function that this bundle never calls: lazy
        // functions inside lazy functions are split into every bundle, so they are refused.
        let imports = imported_names(&std::fs::read(bound.join(format!("{stem}_bg.wasm")))?)?;
        for function in split.prefetch_map.keys() {
            ensure!(
                imports.contains(&format!("__wasm_split_load_{function}")),
                "{bin}: the lazy function {function} is reached only from inside another lazy function (not supported)"
            );
        }
    }

    // (file name with the placeholder, bytes)
    // JS that a crate ships (`inline_js`, `module = …`) would be there: nothing copies it.
    ensure!(!bound.join("snippets").exists(), "{bin}: wasm-bindgen wrote JS snippets, which this build does not serve");
    let (js, wasm) = (bound.join(format!("{stem}.js")), bound.join(format!("{stem}_bg.wasm")));
    let (short_js, short_wasm) = with_short_import_names(&std::fs::read_to_string(&js)?, &std::fs::read(&wasm)?)
        .with_context(|| format!("{bin}: naming the imports"))?;
    let short = bound.join(format!("{stem}_bg.short.wasm"));
    std::fs::write(&short, short_wasm)?;
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    files.push((format!("{stem}.js"), short_js.into_bytes()));
    files.push((format!("{stem}_bg.wasm"), optimized(&short, path)?));
    let mut chunks = Vec::new();
    if split_at_all {
        let mut loader = std::fs::read_to_string(work.join(&link_name))?;
        // A chunk that cannot be fetched (gone with a deploy since the page was loaded, or the
        // network) would be reported to the wasm, where `#[lazy]` panics, and a panic is a
        // trap that stops the whole app: load the page again instead (the new build's page).
        ensure!(loader.matches(CHUNK_FAILED).count() == 1, "{bin}: the split loader's failure path is not as expected");
        loader = loader.replace(CHUNK_FAILED, CHUNK_FAILED_RELOAD);
        let mut modules = split.split_modules.clone();
        modules.sort();
        for module in &modules {
            let name = module.file_name().and_then(|n| n.to_str()).context("a chunk's name")?;
            let hashed = format!("{}-{PLACEHOLDER}.wasm", name.trim_end_matches(".wasm"));
            let quoted = format!("\"./{name}\"");
            ensure!(loader.contains(&quoted), "the split loader does not fetch {name}");
            loader = loader.replace(&quoted, &format!("\"./{hashed}\""));
            chunks.push(hashed.clone());
            files.push((hashed, optimized(module, path)?));
        }
        files.push((link_name.trim_start_matches("./").to_owned(), loader.into_bytes()));
    }

    let mut digest = Sha256::new();
    for (name, bytes) in &files {
        digest.update(name.as_bytes());
        digest.update(bytes);
    }
    let hash = hex::encode(&digest.finalize()[..8]);
    let name_of = |name: &str| name.replace(PLACEHOLDER, &hash);
    for (name, bytes) in &files {
        std::fs::write(out.join(name_of(name)), replaced(bytes, PLACEHOLDER.as_bytes(), hash.as_bytes()))
            .with_context(|| format!("writing {name} into {}", out.display()))?;
    }
    // What a first call of each lazy function fetches: its module and the chunks it shares.
    let mut starts: Vec<(String, Vec<String>)> = split
        .prefetch_map
        .iter()
        .map(|(function, stems)| (function.clone(), stems.iter().map(|stem| format!("{stem}-{hash}.wasm")).collect()))
        .collect();
    starts.sort();
    std::fs::write(work.join(FETCHES), serde_json::to_string_pretty(&starts)?)?;
    Ok(Built {
        js: name_of(&files[0].0),
        wasm: name_of(&files[1].0),
        loader: split_at_all.then(|| name_of(link_name.trim_start_matches("./"))),
        chunks: chunks.iter().map(|c| name_of(c)).collect(),
    })
}

/// The linked wasm without the exports of lazy functions that this bundle never calls.
///
/// A `#[lazy]` function is exported (`__wasm_split_00<module>00_export_<id>_<name>`, with
/// `#[no_mangle]`) from every binary that links the app's library, and imported
/// (`…_import_…`) only where something calls it. The splitter only splits where both are,
/// so an export alone kept the function's code, and everything it reaches, in every bundle:
/// one lazy function in the wizard made all thirteen bundles 13-34 KB gzip larger. Without
/// the export, wasm-bindgen and wasm-opt drop the code as unreachable.
fn without_unused_lazy_exports(wasm: &[u8]) -> Result<Vec<u8>> {
    use wasmparser::{ExternalKind, Parser, Payload};
    let payloads: Vec<Payload> = Parser::new(0).parse_all(wasm).collect::<Result<_, _>>()?;
    let imported: std::collections::HashSet<String> =
        imported_names(wasm)?.iter().filter_map(|name| split_point(name, "import")).collect();
    let mut module = wasm_encoder::Module::new();
    for payload in &payloads {
        match payload {
            Payload::ExportSection(exports) => {
                let mut kept = wasm_encoder::ExportSection::new();
                for export in exports.clone() {
                    let export = export?;
                    if split_point(export.name, "export").is_some_and(|key| !imported.contains(&key)) {
                        continue;
                    }
                    let kind = match export.kind {
                        ExternalKind::Func => wasm_encoder::ExportKind::Func,
                        ExternalKind::Table => wasm_encoder::ExportKind::Table,
                        ExternalKind::Memory => wasm_encoder::ExportKind::Memory,
                        ExternalKind::Global => wasm_encoder::ExportKind::Global,
                        ExternalKind::Tag => wasm_encoder::ExportKind::Tag,
                        other => bail!("an export of a kind this build does not copy: {other:?}"),
                    };
                    kept.export(export.name, kind, export.index);
                }
                module.section(&kept);
            }
            other => {
                if let Some((id, range)) = other.as_section() {
                    let range = usize::try_from(range.start)?..usize::try_from(range.end)?;
                    module.section(&wasm_encoder::RawSection { id, data: &wasm[range] });
                }
            }
        }
    }
    Ok(module.finish())
}

/// The main module's imports from wasm-bindgen's JS (`__wbg_addEventListener_847fd86b8c33ec43`
/// and the like, about 170 in a bundle), named `_0`, `_1`… in the wasm and in the JS object
/// that provides them: each name is in both files, and its hash compresses badly (5–6 KB of
/// gzip a bundle). An import is renamed only where the JS holds its name exactly once, as
/// that object's key (`name:`); the others keep theirs. Their module, whose name is in every
/// one of them, becomes `a` likewise.
fn with_short_import_names(js: &str, wasm: &[u8]) -> Result<(String, Vec<u8>)> {
    use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
    use wasmparser::{Parser, Payload};
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$';
    let is_bindgen = |name: &str| name.starts_with("__wbg") || name.starts_with("__wbindgen");
    // The one place `name` is a key in the JS, as a byte offset.
    let key_at = |name: &str| -> Option<usize> {
        let mut found = js.match_indices(name).filter(|&(at, _)| {
            let before = js[..at].chars().next_back().is_none_or(|c| !is_ident(c));
            let after = js[at + name.len()..].chars().next();
            before && after.is_none_or(|c| !is_ident(c))
        });
        let (at, _) = found.next()?;
        (found.next().is_none() && js[at + name.len()..].starts_with(':')).then_some(at)
    };
    let mut renames: Vec<(usize, usize, String)> = Vec::new(); // (offset in JS, old length, new)
    let mut module = wasm_encoder::Module::new();
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload?;
        if let Payload::ImportSection(imports) = &payload {
            // wasm-bindgen's JS module (`./<bundle>-<hash>_bg.js`), named in every one of its
            // imports: `a`, where the JS holds it once, as the key of its imports' object.
            let bindgen_module =
                imports.clone().into_imports().find_map(|i| i.ok().filter(|i| is_bindgen(i.name)).map(|i| i.module));
            let module_key = bindgen_module.and_then(|m| {
                let key = format!("\"{m}\":");
                let mut found = js.match_indices(&key);
                let (at, _) = found.next()?;
                found.next().is_none().then(|| (m, at, key.len() - 1))
            });
            if let Some((_, at, len)) = module_key {
                renames.push((at, len, "a".into()));
            }
            let mut section = wasm_encoder::ImportSection::new();
            let mut renamed = 0;
            for import in imports.clone().into_imports() {
                let import = import?;
                let name = match key_at(import.name).filter(|_| is_bindgen(import.name)) {
                    Some(at) => {
                        let short = format!("_{:x}", renamed);
                        renamed += 1;
                        renames.push((at, import.name.len(), short.clone()));
                        short
                    }
                    None => import.name.to_owned(),
                };
                let from = match module_key {
                    Some((m, _, _)) if m == import.module => "a",
                    _ => import.module,
                };
                section.import(from, &name, RoundtripReencoder.entity_type(import.ty)?);
            }
            module.section(&section);
        } else if let Some((id, range)) = payload.as_section() {
            let range = usize::try_from(range.start)?..usize::try_from(range.end)?;
            module.section(&wasm_encoder::RawSection { id, data: &wasm[range] });
        }
    }
    renames.sort();
    let mut out = String::with_capacity(js.len());
    let mut from = 0;
    for (at, len, short) in renames {
        out.push_str(&js[from..at]);
        out.push_str(&short);
        from = at + len;
    }
    out.push_str(&js[from..]);
    Ok((out, module.finish()))
}

/// The split point a lazy function's import or export (`what`) names, as its module and id:
/// `__wasm_split_00<module>00_<what>_<32 hex>_<name>` (wasm_split_macros), where the module
/// and the name may themselves hold `_import_` or `_export_`.
fn split_point(name: &str, what: &str) -> Option<String> {
    let rest = name.strip_prefix("__wasm_split_00")?;
    let marker = format!("00_{what}_");
    rest.match_indices(&marker).find_map(|(at, _)| {
        let id = rest.get(at + marker.len()..at + marker.len() + 32)?;
        let hex = id.bytes().all(|b| b.is_ascii_hexdigit());
        (hex && rest[at + marker.len() + 32..].starts_with('_')).then(|| format!("{}/{id}", &rest[..at]))
    })
}

/// The names of a wasm's imports.
fn imported_names(wasm: &[u8]) -> Result<std::collections::HashSet<String>> {
    let mut names = std::collections::HashSet::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let wasmparser::Payload::ImportSection(imports) = payload? {
            for import in imports.into_imports() {
                names.insert(import?.name.to_owned());
            }
        }
    }
    Ok(names)
}

/// `wasm-opt -Oz`, as trunk ran it.
fn optimized(wasm: &Path, path: &std::ffi::OsStr) -> Result<Vec<u8>> {
    let out = wasm.with_extension("opt.wasm");
    sh(Command::new("wasm-opt").env("PATH", path).arg("-Oz").arg(wasm).arg("-o").arg(&out))?;
    Ok(std::fs::read(out)?)
}

/// `bytes` with every `from` replaced by `to`, both of one length.
fn replaced(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut out = bytes.to_vec();
    let mut i = 0;
    while i + from.len() <= out.len() {
        if &out[i..i + from.len()] == from {
            out[i..i + from.len()].copy_from_slice(to);
            i += from.len();
        } else {
            i += 1;
        }
    }
    out
}

/// How a page starts its app.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// At once, with the wasm preloaded.
    AtOnce,
    /// Two frames after the page's own HTML is on the screen, without preloading the wasm:
    /// the home page, whose first screen is HTML (see `setup::build_app`).
    AfterFirstPaint,
}

/// Writes the loader of `built` (files under `public`, the page's URL folder) into the page
/// trunk built, where the page's `<link data-trunk rel="rust" … data-trunk-skip>` was (trunk
/// leaves it, with an id of its own).
pub fn write_loader(page: &Path, public: &str, built: &Built, start: Start) -> Result<()> {
    let html = std::fs::read_to_string(page).with_context(|| format!("reading {}", page.display()))?;
    let mut links = html.match_indices("<link data-trunk rel=\"rust\"");
    let (Some((at, _)), None) = (links.next(), links.next()) else {
        bail!("{}: not one <link data-trunk rel=\"rust\" …> to put the loader in", page.display());
    };
    let end = at + html[at..].find('>').context("an unclosed link")? + 1;
    ensure!(html[at..end].contains("data-trunk-skip"), "{}: trunk built a wasm of its own", page.display());
    let dir = page.parent().context("a page's folder")?;
    let wait = match start {
        Start::AtOnce => "",
        Start::AfterFirstPaint => {
            "await new Promise((painted) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(painted))));\n"
        }
    };
    let (js, wasm) = (format!("{public}{}", built.js), format!("{public}{}", built.wasm));
    let loader = format!(
        "<script type=\"module\">\nimport init from '{js}';\n{wait}await init({{ module_or_path: '{wasm}' }});\n</script>"
    );
    // At the end of the head, as trunk put them: after the stylesheet, which the first paint
    // waits for.
    let mut preloads = String::new();
    let mut preload = |file: &str, what: &str| -> Result<()> {
        let sri = integrity(&dir.join(file))?;
        preloads
            .push_str(&format!("<link {what} href=\"{public}{file}\" crossorigin=\"anonymous\" integrity=\"{sri}\">"));
        Ok(())
    };
    preload(&built.js, "rel=\"modulepreload\"")?;
    if let Some(split) = &built.loader {
        preload(split, "rel=\"modulepreload\"")?;
    }
    if start == Start::AtOnce {
        preload(&built.wasm, "rel=\"preload\" as=\"fetch\" type=\"application/wasm\"")?;
    }
    let html = format!("{}{loader}{}", &html[..at], &html[end..]);
    ensure!(html.matches("</head>").count() == 1, "{}: not one </head>", page.display());
    let html = html.replacen("</head>", &format!("{preloads}</head>"), 1);
    std::fs::write(page, html).with_context(|| format!("writing {}", page.display()))
}

/// Subresource integrity of a file, SHA-384 as trunk wrote it.
fn integrity(file: &Path) -> Result<String> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    Ok(format!("sha384-{}", base64::engine::general_purpose::STANDARD.encode(Sha384::digest(&bytes))))
}

/// The linked wasm of `bin` as `setup::build_app`'s cargo leaves it.
pub fn linked(bin: &str) -> PathBuf {
    crate::target_dir().join(format!("wasm32-unknown-unknown/wasm-release/{bin}.wasm"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_placeholder_is_replaced_everywhere_and_keeps_every_length() {
        let bytes = b"\0a__CERTDESK_HASH_b__CERTDESK_HASH___CERTDESK_HASH_\xff".to_vec();
        let out = replaced(&bytes, PLACEHOLDER.as_bytes(), b"0123456789abcdef");
        assert_eq!(out.len(), bytes.len());
        assert_eq!(out, b"\0a0123456789abcdefb0123456789abcdef0123456789abcdef\xff".to_vec());
        assert_eq!(PLACEHOLDER.len(), 16, "a hash is 16 hex digits");
    }

    /// A wasm as the linker writes it, with lazy functions called (`a`) and not (`b`), and
    /// other exports; only `b`'s export goes, and every other byte stays.
    #[test]
    fn only_the_exports_of_lazy_functions_never_called_go() {
        let split = |what: &str, f: &str| format!("__wasm_split_00{f}00_{what}_0123456789abcdef0123456789abcdef_{f}");
        let wat = format!(
            r#"(module
                (import "__wasm_split_placeholder__" "{}" (func))
                (func $a) (func $b) (func $main)
                (memory 1)
                (export "{}" (func $a))
                (export "{}" (func $b))
                (export "main" (func $main))
                (export "memory" (memory 0))
                (@custom "reloc.CODE" "x")
            )"#,
            split("import", "a"),
            split("export", "a"),
            split("export", "b")
        );
        let wasm = wat::parse_str(&wat).unwrap();
        let out = without_unused_lazy_exports(&wasm).unwrap();
        let exports = |bytes: &[u8]| -> Vec<String> {
            wasmparser::Parser::new(0)
                .parse_all(bytes)
                .filter_map(|p| match p.unwrap() {
                    wasmparser::Payload::ExportSection(s) => {
                        Some(s.into_iter().map(|e| e.unwrap().name.to_owned()).collect::<Vec<_>>())
                    }
                    _ => None,
                })
                .flatten()
                .collect()
        };
        assert_eq!(exports(&out), [split("export", "a"), "main".into(), "memory".into()]);
        assert!(out.windows(10).any(|w| w == b"reloc.CODE"), "custom sections are kept");
        wasmparser::Validator::new().validate_all(&out).unwrap();
        // Nothing to drop: the same bytes.
        assert_eq!(without_unused_lazy_exports(&out).unwrap(), out);
    }

    #[test]
    fn imports_from_the_js_get_short_names_in_both_files() {
        let wasm = wat::parse_str(
            r#"(module
                (import "./app_bg.js" "__wbg_alert_0123456789abcdef" (func (param i32)))
                (import "./app_bg.js" "__wbg_twice_0123456789abcdef" (func))
                (import "./app_bg.js" "__wbindgen_init_externref_table" (func))
                (import "__wasm_split" "__wasm_split_load_x" (func))
                (import "./app_bg.js" "memory" (memory 1))
                (func (export "run") (call 0 (i32.const 1)) (call 1) (call 2) (call 3))
            )"#,
        )
        .unwrap();
        let js = "const import0 = { __wbg_alert_0123456789abcdef: function(a) { alert(a); },\n\
                  __wbg_twice_0123456789abcdef: function() {}, x: __wbg_twice_0123456789abcdef,\n\
                  __wbindgen_init_externref_table: function() {}, my__wbindgen_init_externref_table: 1 };\n\
                  return { \"./app_bg.js\": import0, \"./__wasm_split.js\": import1 };";
        let (js, out) = with_short_import_names(js, &wasm).unwrap();
        wasmparser::Validator::new().validate_all(&out).unwrap();
        let names: Vec<String> = imported_names(&out).unwrap().into_iter().collect();
        let mut names = names;
        names.sort();
        // `__wbg_twice…` is in the JS twice, and the split loader and the memory are not
        // wasm-bindgen's: they keep their names.
        assert_eq!(names, ["_0", "_1", "__wasm_split_load_x", "__wbg_twice_0123456789abcdef", "memory"]);
        // wasm-bindgen's module is `a` for all its imports, the memory too; the split's keeps its name.
        let modules: Vec<(String, String)> = wasmparser::Parser::new(0)
            .parse_all(&out)
            .filter_map(|p| match p.unwrap() {
                wasmparser::Payload::ImportSection(s) => Some(s),
                _ => None,
            })
            .flat_map(|s| s.into_imports().map(|i| i.unwrap()).map(|i| (i.module.to_owned(), i.name.to_owned())))
            .filter(|(_, name)| name == "memory" || name.starts_with("__wasm_split"))
            .collect();
        assert_eq!(modules, [("__wasm_split".into(), "__wasm_split_load_x".into()), ("a".into(), "memory".into())]);
        assert_eq!(
            js,
            "const import0 = { _0: function(a) { alert(a); },\n\
             __wbg_twice_0123456789abcdef: function() {}, x: __wbg_twice_0123456789abcdef,\n\
             _1: function() {}, my__wbindgen_init_externref_table: 1 };\n\
             return { a: import0, \"./__wasm_split.js\": import1 };"
        );
    }

    #[test]
    fn an_import_and_its_export_are_paired_whatever_the_function_is_called() {
        let id = "0123456789abcdef0123456789abcdef";
        let import = format!("__wasm_split_00bulk_import_step_100_import_{id}_bulk_import_step");
        let export = format!("__wasm_split_00bulk_import_step_100_export_{id}_bulk_import_step");
        assert_eq!(split_point(&import, "import"), Some(format!("bulk_import_step_1/{id}")));
        assert_eq!(split_point(&import, "import"), split_point(&export, "export"));
        assert_eq!(split_point(&export, "import"), None);
        assert_eq!(split_point("__wasm_split_load_x", "import"), None);
    }

    fn page_with(dir: &Path, start: Start, built: &Built) -> Result<String> {
        let page = dir.join("index.html");
        let trunk = "<head>\n    <link data-trunk rel=\"rust\" href=\"frontend/Cargo.toml\" data-trunk-skip data-trunk-id=\"0\" />\n    <link rel=\"stylesheet\" href=\"/a/main.css\"/>\n</head>";
        std::fs::write(&page, trunk)?;
        write_loader(&page, "/a/", built, start)?;
        Ok(std::fs::read_to_string(&page)?)
    }

    /// The loader takes the place of trunk's skipped link; the home page waits for two frames
    /// and does not preload its wasm; every preload carries the file's SHA-384.
    #[test]
    fn a_page_loads_its_files_with_their_integrity() {
        let dir = crate::TempDir::new("xtask-loader").unwrap();
        for (name, bytes) in [
            ("app-0123456789abcdef.js", "js"),
            ("app-0123456789abcdef_bg.wasm", "wasm"),
            ("__wasm_split-0123456789abcdef.js", "split"),
        ] {
            std::fs::write(dir.path().join(name), bytes).unwrap();
        }
        let built = Built {
            js: "app-0123456789abcdef.js".into(),
            wasm: "app-0123456789abcdef_bg.wasm".into(),
            loader: Some("__wasm_split-0123456789abcdef.js".into()),
            chunks: vec![],
        };
        let html = page_with(dir.path(), Start::AtOnce, &built).unwrap();
        assert!(!html.contains("data-trunk"), "{html}");
        assert!(html.contains("import init from '/a/app-0123456789abcdef.js';\nawait init({ module_or_path: '/a/app-0123456789abcdef_bg.wasm' });"), "{html}");
        // printf js | openssl dgst -sha384 -binary | base64
        assert!(html.contains("<link rel=\"modulepreload\" href=\"/a/app-0123456789abcdef.js\" crossorigin=\"anonymous\" integrity=\"sha384-"), "{html}");
        assert!(html.contains(&integrity(&dir.path().join("app-0123456789abcdef.js")).unwrap()));
        assert!(html.contains("href=\"/a/__wasm_split-0123456789abcdef.js\""), "{html}");
        assert!(
            html.contains(
                "<link rel=\"preload\" as=\"fetch\" type=\"application/wasm\" href=\"/a/app-0123456789abcdef_bg.wasm\""
            ),
            "{html}"
        );
        assert!(html.find("<script").unwrap() < html.find("main.css").unwrap(), "{html}");
        assert!(html.find("main.css").unwrap() < html.find("modulepreload").unwrap(), "{html}");

        let home = page_with(dir.path(), Start::AfterFirstPaint, &Built { loader: None, ..built }).unwrap();
        assert!(!home.contains("rel=\"preload\""), "{home}");
        assert!(!home.contains("__wasm_split"), "{home}");
        let wait = home
            .find("requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(painted)))")
            .expect("the wait");
        assert!(wait < home.find("await init(").unwrap(), "{home}");
        // Once written, the page has no link left to write into: a second run fails.
        assert!(
            write_loader(
                &dir.path().join("index.html"),
                "/a/",
                &Built { js: "x".into(), wasm: "y".into(), loader: None, chunks: vec![] },
                Start::AtOnce
            )
            .is_err()
        );
    }
}
