//! The one typed client of the server's JSON API (gloo-net; file uploads through
//! XMLHttpRequest, for their progress). Every failure is an
//! `ApiError` whose code the pages match on; [`error_message`] gives its text.
//! State-changing requests carry the session's CSRF token (customer and staff apart).

use std::cell::RefCell;

use certdesk_shared::endpoint::{Answers, Carries, Endpoint, Method as EndpointMethod};
use certdesk_shared::{ApiError, ErrorCode, Lang};
use gloo_net::http::{Method, RequestBuilder};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::i18n::Locale;

pub fn lang(l: Locale) -> Lang {
    match l {
        Locale::zh_CN => Lang::ZhCn,
        Locale::zh_TW => Lang::ZhTw,
        Locale::en => Lang::En,
    }
}

thread_local! {
    /// The customer session's CSRF token, from the last `SessionInfo` answered.
    static CUSTOMER_CSRF: RefCell<Option<String>> = const { RefCell::new(None) };
    /// The staff session's CSRF token, from the last `StaffSession` answered.
    static STAFF_CSRF: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Staff calls (`endpoint::is_staff_path`) carry the staff session's token.
fn csrf_slot(path: &str) -> &'static std::thread::LocalKey<RefCell<Option<String>>> {
    if certdesk_shared::endpoint::is_staff_path(path) { &STAFF_CSRF } else { &CUSTOMER_CSRF }
}

/// Forgets the token of the session `path` belongs to (after signing out).
pub fn forget_csrf(path: &str) {
    csrf_slot(path).with(|t| t.borrow_mut().take());
}

/// Any answer with a `csrf_token` (a `SessionInfo` or a `StaffSession`) replaces the token.
#[derive(serde::Deserialize)]
struct CsrfCarrier {
    csrf_token: String,
}

/// Detaches an upload's progress handler when the upload ends or is abandoned, aborting a
/// request still under way.
struct XhrGuard<'a> {
    xhr: &'a web_sys::XmlHttpRequest,
    upload: &'a web_sys::XmlHttpRequestUpload,
    _on_progress: wasm_bindgen::closure::Closure<dyn FnMut(web_sys::ProgressEvent)>,
}

impl Drop for XhrGuard<'_> {
    fn drop(&mut self) {
        self.upload.set_onprogress(None);
        // DONE (4): nothing to abort.
        if self.xhr.ready_state() != 4 {
            let _ = self.xhr.abort();
        }
    }
}

/// What a request carries (files go through [`put_file`]).
enum Body {
    Json(String),
}

async fn send(method: Method, path: &str, body: Option<Body>, locale: Locale) -> Result<String, ApiError> {
    let l = lang(locale);
    let changes_state = method != Method::GET;
    let mut req = RequestBuilder::new(path).method(method).header("Accept-Language", l.tag());
    if changes_state && let Some(token) = csrf_slot(path).with(|t| t.borrow().clone()) {
        req = req.header("X-CSRF-Token", &token);
    }
    let built = match body {
        Some(Body::Json(json)) => req.header("Content-Type", "application/json").body(json),
        None => req.build(),
    };
    let sent = built.map_err(|_| ApiError::local(ErrorCode::Internal))?.send().await;
    let res = sent.map_err(|_| ApiError::local(ErrorCode::Unavailable))?;
    let text = res.text().await.map_err(|_| ApiError::local(ErrorCode::Unavailable))?;
    answer(path, res.ok(), text)
}

/// An answer's text, or the server's error in it; a session's answer renews its CSRF token.
fn answer(path: &str, ok: bool, text: String) -> Result<String, ApiError> {
    if !ok {
        return Err(serde_json::from_str::<ApiError>(&text).unwrap_or_else(|_| ApiError::local(ErrorCode::Unavailable)));
    }
    if let Ok(c) = serde_json::from_str::<CsrfCarrier>(&text) {
        csrf_slot(path).with(|t| *t.borrow_mut() = Some(c.csrf_token));
    }
    Ok(text)
}

/// `PUT` a file's bytes (`X-File-Name` percent-encoded), decode the JSON answer. Sent
/// through XMLHttpRequest so that `progress` hears the share sent so far (0.0 to 1.0): fetch
/// cannot report an upload's progress.
async fn put_file<T: DeserializeOwned>(
    path: &str,
    name: String,
    bytes: js_sys::Uint8Array,
    locale: Locale,
    progress: impl Fn(f64) + 'static,
) -> Result<T, ApiError> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    let l = lang(locale);
    let internal = |_| ApiError::local(ErrorCode::Internal);
    let xhr = web_sys::XmlHttpRequest::new().map_err(internal)?;
    xhr.open("PUT", path).map_err(internal)?;
    let mut headers = vec![
        ("Accept-Language", l.tag().to_owned()),
        ("Content-Type", "application/octet-stream".to_owned()),
        ("X-File-Name", String::from(js_sys::encode_uri_component(&name))),
    ];
    if let Some(token) = csrf_slot(path).with(|t| t.borrow().clone()) {
        headers.push(("X-CSRF-Token", token));
    }
    for (k, v) in headers {
        xhr.set_request_header(k, &v).map_err(internal)?;
    }
    let on_progress = Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |e: web_sys::ProgressEvent| {
        if e.length_computable() && e.total() > 0.0 {
            progress(e.loaded() / e.total());
        }
    });
    let upload = xhr.upload().map_err(internal)?;
    upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    // Settles after success, failure or abort alike.
    let done = js_sys::Promise::new(&mut |resolve, _| xhr.set_onloadend(Some(&resolve)));
    xhr.send_with_opt_buffer_source(Some(&bytes)).map_err(|_| ApiError::local(ErrorCode::Unavailable))?;
    // Should this future be dropped half-way, the request is aborted and the browser no
    // longer calls the closure that goes with it.
    let guard = XhrGuard { xhr: &xhr, upload: &upload, _on_progress: on_progress };
    let _ = wasm_bindgen_futures::JsFuture::from(done).await;
    drop(guard);
    // Status 0: the request never got an answer.
    let status = xhr.status().unwrap_or(0);
    if status == 0 {
        return Err(ApiError::local(ErrorCode::Unavailable));
    }
    let text = xhr.response_text().ok().flatten().unwrap_or_default();
    decode(&answer(path, (200..300).contains(&status), text)?)
}

fn decode<T: DeserializeOwned>(text: &str) -> Result<T, ApiError> {
    serde_json::from_str(text).map_err(|_| ApiError::local(ErrorCode::Internal))
}

/// Calls a declared endpoint (`certdesk_shared::endpoint`): its path filled with `args` in
/// order, its request sent as the JSON body or the query string its declaration names, and
/// its answer decoded (`()` for one that answers 204). A state-changing request that carries
/// nothing sends `{}`.
pub async fn call<E: Endpoint>(args: &[&str], request: &E::Request, locale: Locale) -> Result<E::Response, ApiError>
where
    E::Request: Serialize,
    E::Response: DeserializeOwned,
{
    debug_assert!(E::CARRIES != Carries::File, "{}: a file goes through api::upload", E::PATH);
    let (path, body) =
        certdesk_shared::endpoint::request::<E>(args, request).ok_or_else(|| ApiError::local(ErrorCode::Internal))?;
    let body = body.map(Body::Json);
    let text = send(method_of(E::METHOD), &path, body, locale).await?;
    decode_answer::<E::Response>(&text, E::ANSWERS)
}

/// Calls a declared endpoint with its JSON body already encoded (a form's saved state).
pub async fn call_json<E: Endpoint>(args: &[&str], json: String, locale: Locale) -> Result<E::Response, ApiError>
where
    E::Response: DeserializeOwned,
{
    debug_assert!(E::CARRIES == Carries::Json, "{}: carries no JSON body", E::PATH);
    let text = send(method_of(E::METHOD), &E::path(args), Some(Body::Json(json)), locale).await?;
    decode_answer::<E::Response>(&text, E::ANSWERS)
}

/// Uploads a file to a declared endpoint that carries one ([`put_file`]).
pub async fn upload<E: Endpoint>(
    args: &[&str],
    name: String,
    bytes: js_sys::Uint8Array,
    locale: Locale,
    progress: impl Fn(f64) + 'static,
) -> Result<E::Response, ApiError>
where
    E::Response: DeserializeOwned,
{
    put_file(&E::path(args), name, bytes, locale, progress).await
}

/// The address of a declared endpoint's file (a link's `href`): its path filled with `args`
/// and its query string, if the query asks anything.
pub fn file_link<E: Endpoint>(args: &[&str], query: &E::Request) -> String
where
    E::Request: Serialize,
{
    let path = E::path(args);
    match certdesk_shared::endpoint::query_string(query) {
        Ok(q) if !q.is_empty() => format!("{path}?{q}"),
        _ => path,
    }
}

fn method_of(m: EndpointMethod) -> Method {
    match m {
        EndpointMethod::Get => Method::GET,
        EndpointMethod::Post => Method::POST,
        EndpointMethod::Put => Method::PUT,
        EndpointMethod::Delete => Method::DELETE,
    }
}

/// A success's body as the endpoint's answer: JSON, or nothing (`null` decodes as `()`).
fn decode_answer<T: DeserializeOwned>(text: &str, answers: Answers) -> Result<T, ApiError> {
    match answers {
        Answers::Json => decode(text),
        Answers::NoContent | Answers::File(_) => decode("null"),
    }
}

/// The text of an error code in the app's language ([`crate::i18n::error_text`]).
pub fn error_message(code: ErrorCode, l: Locale) -> &'static str {
    crate::i18n::error_text(code, l)
}

#[cfg(test)]
mod tests {
    use certdesk_shared::endpoint;

    use super::*;

    const LOCALES: [(Locale, &str); 3] = [
        (Locale::zh_CN, include_str!("../locales/zh-CN.json")),
        (Locale::zh_TW, include_str!("../locales/zh-TW.json")),
        (Locale::en, include_str!("../locales/en.json")),
    ];

    /// Error texts live in `shared`'s catalogue only: a key of theirs in a translation file
    /// would be a second copy, free to drift.
    #[test]
    fn the_translation_files_hold_no_error_text() {
        for (locale, file) in LOCALES {
            for code in ErrorCode::ALL {
                assert!(!file.contains(&format!("\"{}\":", code.message_key())), "{code:?} in {locale:?}");
            }
        }
        assert_eq!(error_message(ErrorCode::NotFound, Locale::en), "Not found");
        assert_eq!(error_message(ErrorCode::Unavailable, Locale::zh_CN), "无法连接服务器，请检查网络后重试");
    }

    #[test]
    fn tokens_are_kept_apart_and_forgotten() {
        CUSTOMER_CSRF.with(|t| *t.borrow_mut() = Some("c".into()));
        STAFF_CSRF.with(|t| *t.borrow_mut() = Some("s".into()));
        assert_eq!(csrf_slot(endpoint::GetProfile::PATH).with(|t| t.borrow().clone()).as_deref(), Some("c"));
        assert_eq!(csrf_slot(endpoint::ListStaff::PATH).with(|t| t.borrow().clone()).as_deref(), Some("s"));
        forget_csrf(endpoint::SignOut::PATH);
        assert_eq!(CUSTOMER_CSRF.with(|t| t.borrow().clone()), None);
        assert_eq!(STAFF_CSRF.with(|t| t.borrow().clone()).as_deref(), Some("s"));
    }
}
