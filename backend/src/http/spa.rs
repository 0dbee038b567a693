//! The built browser app: files from the static directory, and an `index.html` for every
//! path that names no file (no dot in its last segment) so that the app's own router
//! handles deep links (history fallback). A missing file is a 404, never `index.html`.
//!
//! The app is seven bundles, each its own wasm: the new-certificate wizard (built into
//! `apply-app/`) answers `certdesk_shared::bundles::APPLY_PATHS`, the holder's bundle
//! (`holder-app/`) `HOLDER_PATHS` (我的证书, 证书延期), the holder's requests (`request-app/`) `REQUEST_PATHS`
//! (证书注销, 证书变更, 经办人变更), the staff console (`admin-app/`) `/admin…`
//! and its settings (`admin-settings-app/`) `/admin/settings`, the
//! public directory (`directory-app/`) `/search`, `/bulletin` and `/certificates/…`, the
//! mobile shield app (`mobile-app/`) `/m` and every path under it (with the camera allowed,
//! for APP扫码登录); the portal (`index.html`) answers everything else.
//! The apps' routers map paths the same way and reload to reach the other bundle.

use std::path::{Path, PathBuf};

use anyhow::Context;
use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

use certdesk_shared::bundles::{
    is_admin_path, is_admin_settings_path, is_apply_path, is_directory_path, is_holder_path, is_mobile_path,
    is_request_path,
};

/// Where that bundle is built, under the static directory.
pub const APPLY_DIR: &str = "apply-app";
/// Where the holder's bundle (我的证书, 证书延期) is built.
pub const HOLDER_DIR: &str = "holder-app";
/// Where the holder's requests (证书注销, 证书变更, 经办人变更) are built.
pub const REQUEST_DIR: &str = "request-app";
/// Where the staff console (every `/admin…` path but its settings) is built.
pub const ADMIN_DIR: &str = "admin-app";
/// Where the staff console's settings (`/admin/settings`) are built.
pub const ADMIN_SETTINGS_DIR: &str = "admin-settings-app";
/// Where the public directory (/search, /bulletin, /certificates/…) is built.
pub const DIRECTORY_DIR: &str = "directory-app";
/// Where the mobile shield app (`/m…`) is built.
pub const MOBILE_DIR: &str = "mobile-app";

/// The mobile app's pages may use the camera (扫码登录 reads the desktop's QR code); every
/// other page keeps the default policy, camera off.
pub const MOBILE_PERMISSIONS: &str = "camera=(self), microphone=(), geolocation=(), payment=(), usb=()";

pub struct Spa {
    dir: PathBuf,
    index_html: Option<String>,
    apply_html: Option<String>,
    holder_html: Option<String>,
    request_html: Option<String>,
    admin_html: Option<String>,
    admin_settings_html: Option<String>,
    directory_html: Option<String>,
    mobile_html: Option<String>,
}

fn read_bundle(dir: &Path, sub: &str) -> anyhow::Result<Option<String>> {
    let page = dir.join(sub).join("index.html");
    if !page.exists() {
        return Ok(None);
    }
    Ok(Some(std::fs::read_to_string(&page).with_context(|| format!("reading {}", page.display()))?))
}

impl Spa {
    /// Reads `index.html` from the static directory. A missing directory is not an error
    /// (the API still works and pages say how to build the app); an unreadable one is.
    pub fn load(dir: &Path) -> anyhow::Result<Spa> {
        let index = dir.join("index.html");
        let index_html = if index.exists() {
            Some(std::fs::read_to_string(&index).with_context(|| format!("reading {}", index.display()))?)
        } else {
            tracing::warn!(dir = %dir.display(), "the browser app is not built; run `cargo xtask run`");
            None
        };
        let apply_html = read_bundle(dir, APPLY_DIR)?;
        let holder_html = read_bundle(dir, HOLDER_DIR)?;
        let request_html = read_bundle(dir, REQUEST_DIR)?;
        let admin_html = read_bundle(dir, ADMIN_DIR)?;
        let admin_settings_html = read_bundle(dir, ADMIN_SETTINGS_DIR)?;
        let directory_html = read_bundle(dir, DIRECTORY_DIR)?;
        let mobile_html = read_bundle(dir, MOBILE_DIR)?;
        Ok(Spa {
            dir: dir.to_owned(),
            index_html,
            apply_html,
            holder_html,
            request_html,
            admin_html,
            admin_settings_html,
            directory_html,
            mobile_html,
        })
    }

    /// Bodies of the inline `<script>` elements of both bundles' pages (trunk's loaders).
    pub fn inline_scripts(&self) -> impl Iterator<Item = &str> {
        [
            &self.index_html,
            &self.apply_html,
            &self.holder_html,
            &self.request_html,
            &self.admin_html,
            &self.admin_settings_html,
            &self.directory_html,
            &self.mobile_html,
        ]
        .into_iter()
        .flatten()
        .flat_map(|h| inline_scripts(h))
    }

    pub fn service(&self) -> Router {
        match self.index_html {
            Some(_) => {
                let files = ServeDir::new(&self.dir);
                let index = ServeFile::new(self.dir.join("index.html"));
                // Without a bundle (an old build), the portal answers its paths too.
                let bundle = |html: &Option<String>, sub: &str| match html {
                    Some(_) => ServeFile::new(self.dir.join(sub).join("index.html")),
                    None => index.clone(),
                };
                let pages = Pages {
                    index: index.clone(),
                    apply: bundle(&self.apply_html, APPLY_DIR),
                    holder: bundle(&self.holder_html, HOLDER_DIR),
                    request: bundle(&self.request_html, REQUEST_DIR),
                    admin: bundle(&self.admin_html, ADMIN_DIR),
                    admin_settings: bundle(&self.admin_settings_html, ADMIN_SETTINGS_DIR),
                    directory: bundle(&self.directory_html, DIRECTORY_DIR),
                    mobile: bundle(&self.mobile_html, MOBILE_DIR),
                };
                Router::new()
                    .fallback(move |req: Request| serve(files.clone(), pages.clone(), req))
                    .layer(middleware::from_fn(cache_headers))
            }
            None => Router::new().fallback(not_built),
        }
    }
}

/// The page of each bundle.
#[derive(Clone)]
struct Pages {
    index: ServeFile,
    apply: ServeFile,
    holder: ServeFile,
    request: ServeFile,
    admin: ServeFile,
    admin_settings: ServeFile,
    directory: ServeFile,
    mobile: ServeFile,
}

async fn serve(files: ServeDir, pages: Pages, req: Request) -> Response {
    let path = req.uri().path();
    let names_a_file = path.rsplit('/').next().is_some_and(|last| last.contains('.'));
    let res = if names_a_file {
        files.oneshot(req).await
    } else if is_apply_path(path) {
        pages.apply.oneshot(req).await
    } else if is_holder_path(path) {
        pages.holder.oneshot(req).await
    } else if is_request_path(path) {
        pages.request.oneshot(req).await
    } else if is_admin_path(path) {
        pages.admin.oneshot(req).await
    } else if is_admin_settings_path(path) {
        pages.admin_settings.oneshot(req).await
    } else if is_directory_path(path) {
        pages.directory.oneshot(req).await
    } else if is_mobile_path(path) {
        let mut res = pages.mobile.oneshot(req).await;
        if let Ok(res) = &mut res {
            res.headers_mut().insert("permissions-policy", HeaderValue::from_static(MOBILE_PERMISSIONS));
        }
        res
    } else {
        pages.index.oneshot(req).await
    };
    match res {
        Ok(res) => res.map(axum::body::Body::new),
        Err(never) => match never {},
    }
}

async fn not_built() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "The CertDesk browser app is not built. Run `cargo xtask run` from the repository.\n",
    )
        .into_response()
}

/// File names trunk hashes (`app-1a2b3c4d5e6f7a8b.js`) never change: cache them for a year.
/// Everything else, `index.html` above all, is revalidated.
async fn cache_headers(req: Request, next: Next) -> Response {
    let hashed = req.uri().path().rsplit('/').next().is_some_and(is_hashed_name);
    let mut res = next.run(req).await;
    let value = if hashed && res.status().is_success() { "public, max-age=31536000, immutable" } else { "no-cache" };
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    res
}

fn is_hashed_name(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or("");
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-').is_some_and(|(_, h)| h.len() == 16 && h.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Bodies of `<script>` elements without a `src` attribute.
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    html.split("<script").skip(1).filter_map(|rest| {
        let (attrs, after) = rest.split_once('>')?;
        let (body, _) = after.split_once("</script>")?;
        (!attrs.contains("src=")).then_some(body)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_inline_scripts_only() {
        let html = r#"<head><script src="/a.js"></script><script type="module">
import init from '/x.js';
</script></head><body><script>b()</script></body>"#;
        let found: Vec<&str> = inline_scripts(html).collect();
        assert_eq!(found, vec!["\nimport init from '/x.js';\n", "b()"]);
    }

    #[test]
    fn hashed_names() {
        assert!(is_hashed_name("certdesk-frontend-1a2b3c4d5e6f7a8b.js"));
        assert!(is_hashed_name("certdesk-frontend-1a2b3c4d5e6f7a8b_bg.wasm"));
        assert!(is_hashed_name("main-0123456789abcdef.css"));
        assert!(!is_hashed_name("index.html"));
        assert!(!is_hashed_name("favicon.svg"));
        assert!(!is_hashed_name("logo-small.png"));
    }
}
