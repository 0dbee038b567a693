//! Precompressed copies of the app's hashed files, made once at build time: `<file>.br`
//! (brotli, quality 11) and `<file>.gz` (gzip by Zopfli, which any gzip reader reads and
//! which is about 4 % smaller than `gzip -9`). The server sends the copy the browser
//! accepts (`ServeDir::precompressed_br`, `precompressed_gzip`), so no request compresses
//! the wasm again, and a browser gets smaller files than the compression a server can
//! afford per request.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// What is precompressed: the hashed files a page loads. The HTML pages (about 1 KB of gzip
/// each) are compressed as they are sent.
pub const EXTENSIONS: &[&str] = &["wasm", "js", "css", "json"];

/// Writes `.br` and `.gz` beside every file of [`EXTENSIONS`] under `dist`, a file per core.
pub fn all(dist: &Path) -> Result<()> {
    let mut files = Vec::new();
    collect(dist, &mut files)?;
    crate::on_every_core(&files, |path| one(path))
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().and_then(|e| e.to_str()).is_some_and(|e| EXTENSIONS.contains(&e)) {
            out.push(path);
        }
    }
    Ok(())
}

fn one(path: &Path) -> Result<()> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    write_whole(&with_suffix(path, "br"), &brotli(&bytes)?)?;
    write_whole(&with_suffix(path, "gz"), &gzip(&bytes)?)
}

/// Writes beside, then renames: a build stopped halfway, or a server sending `dist/` while
/// it is rebuilt, never finds a truncated copy (which it would send as the file).
fn write_whole(path: &Path, bytes: &[u8]) -> Result<()> {
    let part = with_suffix(path, "part");
    std::fs::write(&part, bytes).with_context(|| format!("writing {}", part.display()))?;
    std::fs::rename(&part, path).with_context(|| format!("renaming {}", part.display()))
}

/// `x.wasm` → `x.wasm.br`.
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

/// Brotli at its best quality, with a 4 MiB window (larger than any of the files).
pub fn brotli(bytes: &[u8]) -> Result<Vec<u8>> {
    let params = brotli::enc::BrotliEncoderParams { quality: 11, lgwin: 22, ..Default::default() };
    let mut out = Vec::new();
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params)?;
    Ok(out)
}

/// gzip by Zopfli with its default 15 iterations.
pub fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    zopfli::compress(zopfli::Options::default(), zopfli::Format::Gzip, bytes, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    /// Both copies decompress to the file itself (the gzip by flate2, as browsers' zlib would).
    #[test]
    fn copies_decompress_to_the_file() {
        let text: Vec<u8> =
            (0..2_000u32).flat_map(|i| format!("{i}: 数字证书 certificate {}\n", i % 7).into_bytes()).collect();
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&gzip(&text).unwrap()[..]).read_to_end(&mut back).unwrap();
        assert_eq!(back, text);
        let mut back = Vec::new();
        brotli::Decompressor::new(&brotli(&text).unwrap()[..], 4096).read_to_end(&mut back).unwrap();
        assert_eq!(back, text);
    }

    #[test]
    fn suffix_is_added_not_swapped() {
        assert_eq!(with_suffix(Path::new("dist/a-1.wasm"), "br"), Path::new("dist/a-1.wasm.br"));
    }
}
