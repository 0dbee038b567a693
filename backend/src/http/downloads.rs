//! 下载中心: `GET /api/downloads` lists the files the release build put under
//! `<static dir>/downloads/` (the token agent for Windows and Linux), each with its size and
//! SHA-256; the files themselves are served as static files at `/downloads/{file}`.

use super::routes::RouteEndpoint;
use certdesk_shared::endpoint;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use axum::extract::State;
use axum::{Json, Router};
use certdesk_shared::downloads::{Download, Platform};
use sha2::{Digest, Sha256};

use crate::error::AppError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().endpoint(endpoint::ListDownloads, list)
}

async fn list(State(state): State<AppState>) -> Result<Json<Vec<Download>>, AppError> {
    let dir = state.config.static_dir.join("downloads");
    let found = tokio::task::spawn_blocking(move || downloads(&dir))
        .await
        .map_err(|e| anyhow::anyhow!("listing downloads: {e}"))?
        .map_err(|e| anyhow::anyhow!("listing downloads: {e}"))?;
    Ok(Json(found))
}

/// A file's digest, kept while its size and modification time stay the same (a release
/// build replaces the file, which changes both).
type Seen = HashMap<PathBuf, (u64, SystemTime, String)>;
static DIGESTS: Mutex<Option<Seen>> = Mutex::new(None);

/// The agent's files in `dir`, Windows first, newest version first within a platform.
pub fn downloads(dir: &Path) -> std::io::Result<Vec<Download>> {
    let mut found = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some((platform, version)) = Download::parse_agent_file(&file) else { continue };
        let meta = entry.metadata()?;
        if !meta.is_file() {
            continue;
        }
        let sha256 = digest(&entry.path(), meta.len(), meta.modified()?)?;
        found.push(Download { file, platform, version, size: meta.len(), sha256 });
    }
    found.sort_by(|a, b| {
        (a.platform != Platform::Windows, &b.version).cmp(&(b.platform != Platform::Windows, &a.version))
    });
    Ok(found)
}

fn digest(path: &Path, size: u64, modified: SystemTime) -> std::io::Result<String> {
    let mut seen = DIGESTS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let seen = seen.get_or_insert_with(HashMap::new);
    if let Some((s, m, d)) = seen.get(path)
        && (*s, *m) == (size, modified)
    {
        return Ok(d.clone());
    }
    let mut hasher = Sha256::new();
    std::io::copy(&mut std::fs::File::open(path)?, &mut hasher)?;
    let d = hex::encode(hasher.finalize());
    seen.insert(path.to_owned(), (size, modified, d.clone()));
    Ok(d)
}
