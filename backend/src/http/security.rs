//! Security headers on every response. The Content-Security-Policy allows our own files,
//! the WebAssembly app (`'wasm-unsafe-eval'`), the exact inline loader scripts of the built
//! pages (by their SHA-256), and the local token agent; nothing else.

use axum::http::{HeaderName, HeaderValue, header};
use base64::Engine;
use sha2::{Digest, Sha256};

pub fn content_security_policy<'a>(inline_scripts: impl Iterator<Item = &'a str>, agent_port: u16) -> String {
    let hashes: String = inline_scripts
        .map(|s| {
            let digest = Sha256::digest(s.as_bytes());
            format!(" 'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest))
        })
        .collect();
    format!(
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'{hashes}; style-src 'self'; \
         img-src 'self' data:; font-src 'self'; connect-src 'self' http://127.0.0.1:{agent_port}; \
         manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"
    )
}

/// The headers every response carries (set only where a handler did not set its own).
pub fn headers(csp: &str, https: bool) -> Vec<(HeaderName, HeaderValue)> {
    let mut h = vec![
        (header::CONTENT_SECURITY_POLICY, csp.to_owned()),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        (header::X_FRAME_OPTIONS, "DENY".to_owned()),
        (header::REFERRER_POLICY, "strict-origin-when-cross-origin".to_owned()),
        (HeaderName::from_static("cross-origin-opener-policy"), "same-origin".to_owned()),
        (HeaderName::from_static("cross-origin-resource-policy"), "same-origin".to_owned()),
        (
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=(), payment=(), usb=(self)".to_owned(),
        ),
    ];
    if https {
        h.push((header::STRICT_TRANSPORT_SECURITY, "max-age=31536000; includeSubDomains".to_owned()));
    }
    h.into_iter().filter_map(|(n, v)| HeaderValue::from_str(&v).ok().map(|v| (n, v))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csp_hashes_each_inline_script() {
        let csp = content_security_policy(["alert(1)"].into_iter(), 17530);
        // printf 'alert(1)' | openssl dgst -sha256 -binary | base64
        assert!(csp.contains("'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"), "{csp}");
        assert!(csp.contains("connect-src 'self' http://127.0.0.1:17530"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(!csp.contains("unsafe-inline"));
    }
}
