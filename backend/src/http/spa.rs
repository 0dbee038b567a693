//! The built browser app: files from the static directory, and an `index.html` for every
//! path that names no file (no dot in its last segment) so that the app's own router
//! handles deep links (history fallback). A missing file is a 404, never `index.html`.
//!
//! The app is thirteen bundles, each its own wasm ([`BUNDLES`]): the account pages (built
//! into `account-app/`) answer `certdesk_shared::bundles::ACCOUNT_PATHS` (注册, 登录, 忘记密码,
//! 我的账户), the new-certificate wizard (`apply-app/`) `APPLY_PATHS`, the holder's bundle
//! (`holder-app/`) `HOLDER_PATHS` (我的证书, 我的证书申请, 发票申请, 邮寄查询), 证书延期 and 证书补办 (`renew-app/`)
//! `RENEW_PATHS`, the holder's requests
//! (`request-app/`) `REQUEST_PATHS` (证书注销, 证书变更, 经办人变更), the staff's sign-in
//! and enrolment (`admin-sign-in-app/`) `ADMIN_SIGN_IN_PATHS`, the staff console's
//! 工作台 (`admin-dashboard-app/`) `/admin`, its daily work (`admin-app/`) every other
//! `/admin/…` path but its settings (`admin-settings-app/`) `/admin/settings…`, the public
//! directory (`directory-app/`) `/search`, `/bulletin`, `/downloads` and `/certificates/…`,
//! the token pages (`token-app/`) `TOKEN_PATHS` (远程下载, 证书解锁, 证书校验, 证书助手),
//! the mobile shield app (`mobile-app/`) `/m` and every path under it (with the camera allowed, for
//! APP扫码登录); the portal (`index.html`) answers everything else. The apps' routers map
//! paths the same way and reload to reach the other bundle.
//!
//! A file is sent as the build's precompressed copy the browser accepts (`x.wasm.br`, else
//! `x.wasm.gz`; `cargo xtask app` writes them), else as it is, for the compression layer.

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
    is_account_path, is_admin_dashboard_path, is_admin_path, is_admin_settings_path, is_admin_sign_in_path,
    is_apply_path, is_directory_path, is_holder_path, is_mobile_path, is_renew_path, is_request_path, is_token_path,
};

/// Where the mobile shield app (`/m…`) is built.
pub const MOBILE_DIR: &str = "mobile-app";

/// A bundle: the folder it is built into under the static directory, and the paths it answers.
pub type Bundle = (&'static str, fn(&str) -> bool);

/// Every bundle besides the portal.
pub const BUNDLES: [Bundle; 12] = [
    ("account-app", is_account_path),
    ("apply-app", is_apply_path),
    ("holder-app", is_holder_path),
    ("renew-app", is_renew_path),
    ("request-app", is_request_path),
    ("admin-sign-in-app", is_admin_sign_in_path),
    ("admin-dashboard-app", is_admin_dashboard_path),
    ("admin-app", is_admin_path),
    ("admin-settings-app", is_admin_settings_path),
    ("directory-app", is_directory_path),
    ("token-app", is_token_path),
    (MOBILE_DIR, is_mobile_path),
];

/// The mobile app's pages may use the camera (扫码登录 reads the desktop's QR code); every
/// other page keeps the default policy, camera off.
pub const MOBILE_PERMISSIONS: &str = "camera=(self), microphone=(), geolocation=(), payment=(), usb=()";

pub struct Spa {
    dir: PathBuf,
    index_html: Option<String>,
    /// Each of [`BUNDLES`]' pages, in that order (`None`: not built).
    bundle_html: Vec<Option<String>>,
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
        let bundle_html = BUNDLES.iter().map(|(sub, _)| read_bundle(dir, sub)).collect::<anyhow::Result<_>>()?;
        Ok(Spa { dir: dir.to_owned(), index_html, bundle_html })
    }

    /// Bodies of the inline `<script>` elements of every bundle's page (the wasm loaders
    /// `cargo xtask app` writes).
    pub fn inline_scripts(&self) -> impl Iterator<Item = &str> {
        std::iter::once(&self.index_html).chain(&self.bundle_html).flatten().flat_map(|h| inline_scripts(h))
    }

    pub fn service(&self) -> Router {
        match self.index_html {
            Some(_) => {
                // The build's precompressed copies (`x.wasm.br`, `x.wasm.gz`), where the browser
                // accepts one; the compression layer leaves an encoded answer alone.
                let files = ServeDir::new(&self.dir).precompressed_br().precompressed_gzip();
                let index = ServeFile::new(self.dir.join("index.html"));
                // Without a bundle (an old build), the portal answers its paths too.
                let bundles = BUNDLES
                    .iter()
                    .zip(&self.bundle_html)
                    .map(|((sub, _), html)| match html {
                        Some(_) => ServeFile::new(self.dir.join(sub).join("index.html")),
                        None => index.clone(),
                    })
                    .collect();
                let pages = Pages { index, bundles };
                Router::new()
                    .fallback(move |req: Request| serve(files.clone(), pages.clone(), req))
                    .layer(middleware::from_fn(cache_headers))
            }
            None => Router::new().fallback(not_built),
        }
    }
}

/// The portal's page, and each of [`BUNDLES`]' in that order.
#[derive(Clone)]
struct Pages {
    index: ServeFile,
    bundles: Vec<ServeFile>,
}

async fn serve(files: ServeDir, pages: Pages, req: Request) -> Response {
    let path = req.uri().path();
    let names_a_file = path.rsplit('/').next().is_some_and(|last| last.contains('.'));
    let bundle = BUNDLES.iter().zip(pages.bundles).find(|((_, answers), _)| answers(path));
    let res = match bundle {
        _ if names_a_file => {
            let mut res = files.oneshot(req).await;
            // Which copy was sent depends on Accept-Encoding, and ServeDir does not say so:
            // without this a shared cache could give a brotli copy to a gzip-only browser.
            if let Ok(res) = &mut res {
                res.headers_mut().insert(header::VARY, HeaderValue::from_static("accept-encoding"));
            }
            res
        }
        Some(((sub, _), page)) => {
            let mut res = page.oneshot(req).await;
            if let Ok(res) = &mut res
                && *sub == MOBILE_DIR
            {
                res.headers_mut().insert("permissions-policy", HeaderValue::from_static(MOBILE_PERMISSIONS));
            }
            res
        }
        None => pages.index.oneshot(req).await,
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

/// Hashed file names (`app-1a2b3c4d5e6f7a8b.js`, by trunk and `cargo xtask app`) never change:
/// cache them for a year.
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
        // A bundle's split loader and lazy chunks (`cargo xtask app`).
        assert!(is_hashed_name("__wasm_split-1a2b3c4d5e6f7a8b.js"));
        assert!(is_hashed_name("split_unlock_8919521280153276840-1a2b3c4d5e6f7a8b.wasm"));
        assert!(is_hashed_name("chunk_3-1a2b3c4d5e6f7a8b.wasm"));
        assert!(!is_hashed_name("index.html"));
        assert!(!is_hashed_name("favicon.svg"));
        assert!(!is_hashed_name("logo-small.png"));
    }
}
