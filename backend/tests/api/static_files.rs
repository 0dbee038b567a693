use base64::Engine;
use certdesk_shared::endpoint::{self, Endpoint};
use sha2::Digest;

use crate::helpers::{LOADER, spawn_app, spawn_app_with};

#[tokio::test]
async fn pages_carry_security_headers_and_a_csp_for_the_loader_only() {
    let app = spawn_app().await;
    let res = app.get("/").await;
    assert_eq!(res.status(), 200);
    let h = res.headers();
    let csp = h["content-security-policy"].to_str().unwrap();
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(LOADER.as_bytes()));
    assert!(csp.contains(&format!("'sha256-{hash}'")), "{csp}");
    assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "strict-origin-when-cross-origin");
    assert!(h.get("strict-transport-security").is_none(), "no HSTS on plain http");
    assert_eq!(h["x-request-id"].to_str().unwrap().len(), 36);
    assert_eq!(h["cache-control"], "no-cache");
}

#[tokio::test]
async fn deep_links_get_the_app_and_hashed_files_are_cached() {
    let app = spawn_app().await;
    for path in ["/env-check", "/apply/step/3", "/no/such/page"] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        assert!(res.text().await.unwrap().contains("<title>CertDesk</title>"), "{path}");
    }
    let res = app.get("/certdesk-frontend-0123456789abcdef.js").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "public, max-age=31536000, immutable");
}

#[tokio::test]
async fn a_missing_file_is_a_404_not_the_app() {
    let app = spawn_app().await;
    // An old build's file after a redeploy: caching index.html under its name would break the app for a year.
    let res = app.get("/certdesk-frontend-fedcba9876543210.js").await;
    assert_eq!(res.status(), 404);
    assert_eq!(res.headers()["cache-control"], "no-cache");
    assert!(!res.text().await.unwrap().contains("<title>CertDesk</title>"));
}

#[tokio::test]
async fn responses_are_compressed_when_asked() {
    let app = spawn_app().await;
    let client = reqwest::Client::builder().build().unwrap();
    let res = client.get(app.url("/")).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(res.headers()["content-encoding"], "gzip");
}

/// The build's precompressed copies are sent as they are to a browser that accepts their
/// encoding (not compressed again, not the uncompressed file); others get the file.
#[tokio::test]
async fn precompressed_copies_are_sent_to_who_accepts_them() {
    use std::io::Write;
    let wasm: Vec<u8> = (0..50_000u32).flat_map(|i| (i % 251).to_le_bytes()).collect();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&wasm).unwrap();
    let gz = gz.finish().unwrap();
    // Not real brotli: the server must send the copy's bytes, whatever they are.
    let br = b"the build's brotli copy".to_vec();
    let app = spawn_app_with(|config| {
        let file = config.static_dir.join("certdesk-frontend-0123456789abcdef_bg.wasm");
        std::fs::write(&file, &wasm).unwrap();
        std::fs::write(file.with_extension("wasm.gz"), &gz).unwrap();
        std::fs::write(file.with_extension("wasm.br"), &br).unwrap();
    })
    .await;
    let client = reqwest::Client::new();
    let path = app.url("/certdesk-frontend-0123456789abcdef_bg.wasm");
    for (accept, encoding, body) in
        [("gzip, deflate, br, zstd", Some("br"), &br), ("gzip", Some("gzip"), &gz), ("identity", None, &wasm)]
    {
        let res = client.get(&path).header("accept-encoding", accept).send().await.unwrap();
        assert_eq!(res.status(), 200, "{accept}");
        let h = res.headers().clone();
        assert_eq!(h.get("content-encoding").map(|v| v.to_str().unwrap()), encoding, "{accept}");
        assert_eq!(h["content-type"], "application/wasm", "{accept}");
        assert_eq!(h["cache-control"], "public, max-age=31536000, immutable", "{accept}");
        assert!(h["vary"].to_str().unwrap().to_ascii_lowercase().contains("accept-encoding"), "{accept}");
        assert_eq!(&res.bytes().await.unwrap()[..], &body[..], "{accept}");
    }
}

#[tokio::test]
async fn request_id_from_the_caller_is_kept() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url(&endpoint::Health::path(&[])))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "trace-me-42");
}

#[tokio::test]
async fn each_bundle_gets_its_paths_and_the_portal_the_rest() {
    let app = crate::helpers::spawn_app_with(|c| {
        for (sub, title) in [
            ("account-app", "account"),
            ("apply-app", "wizard"),
            ("holder-app", "holder"),
            ("renew-app", "renew"),
            ("request-app", "request"),
            ("admin-sign-in-app", "staff sign-in"),
            ("admin-dashboard-app", "dashboard"),
            ("admin-app", "console"),
            ("admin-settings-app", "settings"),
            ("directory-app", "directory"),
            ("token-app", "token"),
            ("mobile-app", "mobile"),
        ] {
            let dir = c.static_dir.join(sub);
            std::fs::create_dir_all(&dir).unwrap();
            let page = format!("<!doctype html><title>{title}</title><script type=\"module\">import init from '/{sub}/x.js'; await init();</script>");
            std::fs::write(dir.join("index.html"), page).unwrap();
        }
    })
    .await;
    for path in ["/apply", "/apply?id=1&step=2"] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 200);
        let csp = res.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(res.text().await.unwrap().contains("<title>wizard</title>"), "{path}");
        // The thirteen bundles' loaders are allowed, nothing else inline.
        assert_eq!(csp.matches("'sha256-").count(), 13, "{csp}");
    }
    for path in [
        "/my-certificates",
        "/my-certificates?tab=frozen",
        "/my-certificates/",
        "/applications",
        "/invoices",
        "/shipments",
    ] {
        assert!(app.get(path).await.text().await.unwrap().contains("<title>holder</title>"), "{path}");
    }
    for path in ["/renew", "/renew?uid=x", "/reissue", "/reissue/?uid=x"] {
        assert!(app.get(path).await.text().await.unwrap().contains("<title>renew</title>"), "{path}");
    }
    for path in ["/revoke", "/revoke?uid=x", "/change?uid=x", "/operator-change"] {
        assert!(app.get(path).await.text().await.unwrap().contains("<title>request</title>"), "{path}");
    }
    for path in ["/admin", "/admin/"] {
        assert!(app.get(path).await.text().await.unwrap().contains("<title>dashboard</title>"), "{path}");
    }
    for path in ["/admin/sign-in", "/admin/enrol", "/admin/enrol?x=1"] {
        assert!(app.get(path).await.text().await.unwrap().contains("<title>staff sign-in</title>"), "{path}");
    }
    for path in ["/admin/review", "/admin/customers?q=1"] {
        assert!(app.get(path).await.text().await.unwrap().contains("<title>console</title>"), "{path}");
    }
    for path in ["/admin/settings", "/admin/settings/"] {
        assert!(app.get(path).await.text().await.unwrap().contains("<title>settings</title>"), "{path}");
    }
    for path in ["/search", "/bulletin", "/certificates/0f3a", "/downloads"] {
        assert!(app.get(path).await.text().await.unwrap().contains("<title>directory</title>"), "{path}");
    }
    for path in ["/remote-download", "/unlock", "/verify/", "/agent", "/verify?uid=x"] {
        assert!(app.get(path).await.text().await.unwrap().contains("<title>token</title>"), "{path}");
    }
    for path in ["/m", "/m/scan"] {
        assert!(app.get(path).await.text().await.unwrap().contains("<title>mobile</title>"), "{path}");
    }
    for path in ["/sign-in", "/sign-in?next=%2Fapply", "/sign-in//", "/register", "/forgot-password", "/account/"] {
        assert!(app.get(path).await.text().await.unwrap().contains("<title>account</title>"), "{path}");
    }
    for path in [
        "/",
        "/agreement",
        "/env-check",
        "/accounts",
        "/applyx",
        "/administration",
        "/searching",
        "/certificates/a/b",
        "/mobile",
    ] {
        assert!(app.get(path).await.text().await.unwrap().contains("<title>CertDesk</title>"), "{path}");
    }
}

#[tokio::test]
async fn the_mobile_app_is_installable_and_may_use_the_camera() {
    let app = crate::helpers::spawn_app_with(|c| {
        let dir = c.static_dir.join("mobile-app");
        std::fs::create_dir_all(&dir).unwrap();
        let page = "<!doctype html><title>mobile</title><link rel=\"manifest\" href=\"/m/manifest.webmanifest\">";
        std::fs::write(dir.join("index.html"), page).unwrap();
    })
    .await;
    for path in ["/m", "/m/", "/m/download", "/m/scan", "/m/pin", "/m/unlock"] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
        let policy = res.headers()["permissions-policy"].to_str().unwrap().to_owned();
        assert!(policy.contains("camera=(self)"), "{path}: {policy}");
        assert!(res.text().await.unwrap().contains("<title>mobile</title>"), "{path}");
    }
    // Elsewhere the camera stays off, and /mobile is not the app.
    for path in ["/", "/mobile", "/sign-in"] {
        let res = app.get(path).await;
        assert!(res.headers()["permissions-policy"].to_str().unwrap().contains("camera=()"), "{path}");
        assert!(!res.text().await.unwrap().contains("<title>mobile</title>"), "{path}");
    }

    let res = app.get("/m/manifest.webmanifest").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/manifest+json");
    let manifest: serde_json::Value = res.json().await.unwrap();
    assert_eq!(manifest["name"], "CertDesk 移动软盾");
    // The app starts inside the service worker's scope, or it would not open offline.
    assert_eq!((manifest["start_url"].as_str(), manifest["scope"].as_str()), (Some("/m/"), Some("/m/")));
    assert_eq!(manifest["display"], "standalone");
    let icons: Vec<&str> = manifest["icons"].as_array().unwrap().iter().map(|i| i["sizes"].as_str().unwrap()).collect();
    assert_eq!(icons, ["any", "192x192", "512x512"]);

    let res = app.get("/m/sw.js").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["service-worker-allowed"], "/m/");
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
    assert_eq!(res.headers()["cache-control"], "no-cache");
    let sw = res.text().await.unwrap();
    assert!(sw.contains("addEventListener(\"fetch\"") && sw.contains("/mobile-app/"), "{sw}");
}

#[test]
fn the_app_icons_are_the_sizes_the_manifest_says() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for (file, side) in [("public/mobile-icon-192.png", 192u32), ("public/mobile-icon-512.png", 512)] {
        let png = std::fs::read(root.join(file)).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{file}");
        // IHDR: width and height, big-endian, right after the chunk's length and type.
        let w = u32::from_be_bytes(png[16..20].try_into().unwrap());
        let h = u32::from_be_bytes(png[20..24].try_into().unwrap());
        assert_eq!((w, h), (side, side), "{file}");
    }
    assert!(std::fs::read_to_string(root.join("public/mobile-icon.svg")).unwrap().starts_with("<svg"));
}
