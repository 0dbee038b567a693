//! Who is asking: the client's address, the customer or staff session behind a cookie, and
//! the permission a staff route needs. Authorization lives here, in extractors, so a handler
//! cannot forget it. State-changing requests must carry the session's CSRF token.

use std::marker::PhantomData;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use certdesk_shared::ErrorCode;
use chrono::Utc;
use cookie::{Cookie, SameSite};

use crate::domain::ClientMeta;
use crate::domain::session::{self, Kind};
use crate::domain::staff::{self, Permission};
use crate::entity::{session as session_entity, staff as staff_entity};
use crate::error::AppError;
use crate::state::AppState;

pub const CSRF_HEADER: &str = "x-csrf-token";

/// Cookie name per session kind. Outside dev mode the `__Host-` prefix makes the browser
/// insist on Secure, Path=/ and no Domain.
pub fn cookie_name(kind: Kind, dev: bool) -> &'static str {
    match (kind, dev) {
        (Kind::Customer, false) => "__Host-certdesk",
        (Kind::Customer, true) => "certdesk",
        (Kind::Staff, false) => "__Host-certdesk-staff",
        (Kind::Staff, true) => "certdesk-staff",
    }
}

/// A cookie only this site's requests carry and no script reads: Path=/, HttpOnly,
/// SameSite=Strict, and Secure outside dev mode (which the `__Host-` names need). No
/// Max-Age: the server decides when what it names ends.
pub fn strict_cookie(name: &'static str, value: String, dev: bool) -> Cookie<'static> {
    Cookie::build((name, value)).path("/").http_only(true).same_site(SameSite::Strict).secure(!dev).build()
}

/// The `Set-Cookie` header of a cookie.
pub fn set_cookie_header(cookie: &Cookie<'_>) -> HeaderValue {
    HeaderValue::from_str(&cookie.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `Set-Cookie` for a new session.
pub fn set_cookie(kind: Kind, dev: bool, value: &str) -> HeaderValue {
    set_cookie_header(&strict_cookie(cookie_name(kind, dev), value.to_owned(), dev))
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_cookie(kind: Kind, dev: bool) -> HeaderValue {
    let mut c = strict_cookie(cookie_name(kind, dev), String::new(), dev);
    c.make_removal();
    set_cookie_header(&c)
}

/// The value of the cookie `name` the request carries.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .and_then(|c| c.value_raw())
}

fn client_meta(parts: &Parts, trust_forwarded_for: bool) -> ClientMeta {
    let forwarded = trust_forwarded_for
        .then(|| parts.headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()))
        .flatten()
        .and_then(|v| v.rsplit(',').next())
        .map(|s| s.trim().to_owned());
    let ip = forwarded
        .or_else(|| parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string()))
        .unwrap_or_else(|| "unknown".to_owned());
    let user_agent =
        parts.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("").chars().take(300).collect();
    ClientMeta { ip, user_agent }
}

/// The client's address and user agent.
pub struct Client(pub ClientMeta);

impl<S: Send + Sync> FromRequestParts<S> for Client
where
    AppState: FromRef<S>,
{
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        Ok(Client(client_meta(parts, state.config.trust_forwarded_for)))
    }
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

async fn load_session(parts: &Parts, state: &AppState, kind: Kind) -> Result<session_entity::Model, AppError> {
    let value = cookie(&parts.headers, cookie_name(kind, state.config.dev)).ok_or(ErrorCode::Unauthorized)?;
    let s = session::load(&state.db, kind, value, Utc::now()).await?.ok_or(ErrorCode::Unauthorized)?;
    if !is_safe(&parts.method) {
        let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !crate::domain::same(sent, &s.csrf_token) {
            return Err(ErrorCode::CsrfInvalid.into());
        }
    }
    Ok(s)
}

/// A signed-in customer. Answers 401 without a live session, 403 `csrf_invalid` for a
/// state-changing request without the session's token.
pub struct CurrentUser {
    pub account_id: String,
    pub session: session_entity::Model,
    pub meta: ClientMeta,
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser
where
    AppState: FromRef<S>,
{
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let s = load_session(parts, &state, Kind::Customer).await?;
        Ok(CurrentUser {
            account_id: s.subject_id.clone(),
            session: s,
            meta: client_meta(parts, state.config.trust_forwarded_for),
        })
    }
}

/// A signed-in staff member (any role). Their role is read on every request, so a change
/// takes effect at once.
pub struct StaffUser {
    pub staff: staff_entity::Model,
    pub session: session_entity::Model,
    pub meta: ClientMeta,
}

impl StaffUser {
    pub fn actor(&self) -> String {
        crate::domain::audit::staff(&self.staff.id)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for StaffUser
where
    AppState: FromRef<S>,
{
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let s = load_session(parts, &state, Kind::Staff).await?;
        let member = staff::find(&state.db, &s.subject_id)
            .await?
            .filter(|m| m.disabled_at.is_none())
            .ok_or(ErrorCode::Unauthorized)?;
        Ok(StaffUser { staff: member, session: s, meta: client_meta(parts, state.config.trust_forwarded_for) })
    }
}

/// A permission as a type, for [`Allowed`].
pub trait Needs {
    const PERMISSION: Permission;
}

macro_rules! permissions {
    ($($name:ident),+) => {$(
        pub struct $name;
        impl Needs for $name {
            const PERMISSION: Permission = Permission::$name;
        }
    )+};
}
permissions!(ManageStaff, ReadOutbox, ReadAudit, Review, ManageCatalogue, Finance, Ship, Revoke, ServeCustomers);

/// A staff member whose role grants `P`; 403 otherwise.
pub struct Allowed<P: Needs> {
    pub user: StaffUser,
    _p: PhantomData<P>,
}

impl<S: Send + Sync, P: Needs> FromRequestParts<S> for Allowed<P>
where
    AppState: FromRef<S>,
{
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let user = StaffUser::from_request_parts(parts, state).await?;
        if !staff::may(&user.staff, P::PERMISSION) {
            return Err(ErrorCode::Forbidden.into());
        }
        Ok(Allowed { user, _p: PhantomData })
    }
}

/// Middleware for every state-changing `/api` request: a browser that says the request came
/// from another site (`Sec-Fetch-Site`, `Origin`) is refused before any handler runs, which
/// also covers the sign-in and registration forms that have no session yet.
pub async fn same_origin_only(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if !is_safe(req.method()) {
        let site = req.headers().get("sec-fetch-site").and_then(|v| v.to_str().ok());
        let cross_site = matches!(site, Some("cross-site" | "same-site"));
        let origin = req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok());
        let host = req.headers().get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
        let foreign_origin = origin.is_some_and(|o| {
            let o = o.trim_end_matches('/');
            o != state.config.public_url.trim_end_matches('/') && o.split_once("://").map(|(_, h)| h) != Some(host)
        });
        if cross_site || foreign_origin {
            return AppError::from(ErrorCode::CsrfInvalid).into_response();
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_cookies_are_strict_and_read_back_by_name() {
        let set = set_cookie(Kind::Customer, false, "abc").to_str().unwrap().to_owned();
        assert!(set.starts_with("__Host-certdesk=abc"), "{set}");
        for part in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
            assert!(set.split("; ").any(|p| p == part), "{part} missing from {set}");
        }
        let cleared = clear_cookie(Kind::Staff, true).to_str().unwrap().to_owned();
        assert!(cleared.starts_with("certdesk-staff=;") && cleared.contains("Max-Age=0"), "{cleared}");
        assert!(!cleared.contains("Secure"), "{cleared}");

        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("lang=en; certdesk-staff=s1"));
        h.append(header::COOKIE, HeaderValue::from_static("certdesk=c1"));
        assert_eq!(cookie(&h, "certdesk"), Some("c1"));
        assert_eq!(cookie(&h, "certdesk-staff"), Some("s1"));
        assert_eq!(cookie(&h, "certdesk-qr"), None);
    }
}
