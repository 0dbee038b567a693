//! A browser with its session, and the accounts behind it: registered customers, staff
//! sessions, SMS codes, captchas, sign-in and stored security keys.
//!
//! The browser calls the API through its declarations (`certdesk_shared::endpoint`), as the
//! app does: [`Browser::send`] and [`Browser::ok`] with the endpoint's request type,
//! [`Browser::send_json`] for a body no request type holds, [`Browser::fetch`] and
//! [`Browser::prepare`] for a file or a header of the test's own. [`Browser::call`] takes a
//! path by hand, for what no endpoint declares.

use certdesk::domain::{ClientMeta, session};
use certdesk::entity::outbox_message;
use certdesk_shared::account::{
    AGREEMENT_VERSION, AccountKind, Captcha, CodePurpose, CodeSent, RegisterRequest, SendCodeRequest, SignInRequest,
};
use certdesk_shared::endpoint::{self, Answers, Carries, Endpoint, Method as EndpointMethod, query_string};
use certdesk_shared::{
    ApiError, CreditCode, Email, IdCardNumber, Mobile, Named, OrgName, OtpCode, Password, PersonName, ValidationError,
};
use chrono::Utc;
use reqwest::{Method, StatusCode};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::helpers::TestApp;

pub const ID_NUMBER: &str = "11010519491231002X";
pub const CREDIT_CODE: &str = "91350100M000100Y43";
pub const PASSWORD: &str = "blue harbour lantern 42";

/// A browser: keeps the session cookie and the CSRF token.
pub struct Browser<'a> {
    pub app: &'a TestApp,
    pub cookie: Option<String>,
    pub csrf: Option<String>,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Browser { app, cookie: None, csrf: None }
    }

    /// A request with this browser's session cookie and CSRF token.
    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let mut req = self.app.client.request(method, self.app.url(path));
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        if let Some(t) = &self.csrf {
            req = req.header("x-csrf-token", t);
        }
        req
    }

    /// A request by hand: for what no endpoint declares (the providers' notifications, the
    /// sandboxes, an unknown path) and for a raw HTTP detail a test is about.
    pub async fn call(&mut self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self.request(method, path);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        if let Some(set) = res.headers().get("set-cookie") {
            let set = set.to_str().unwrap();
            assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/"), "{set}");
            let pair = set.split(';').next().unwrap().to_owned();
            self.cookie = if pair.ends_with('=') { None } else { Some(pair) };
        }
        let text = res.text().await.unwrap();
        let v: Value = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() };
        if let Some(t) = v.get("csrf_token").and_then(|t| t.as_str()) {
            self.csrf = Some(t.to_owned());
        }
        (status, v)
    }

    /// Calls a declared endpoint (`certdesk_shared::endpoint`) as the app does: its method,
    /// its path filled with `args` in order, and `request` as the JSON body or the query
    /// string its declaration names. A state-changing request that carries nothing sends
    /// `{}`; a `GET` or a `DELETE` sends no body. The answer's status and JSON (`Null` if none).
    pub async fn send<E: Endpoint>(&mut self, args: &[&str], request: &E::Request) -> (StatusCode, Value)
    where
        E::Request: Serialize,
    {
        let (path, body) = path_and_body::<E>(args, request);
        self.call(method_of::<E>(), &path, body).await
    }

    /// A declared endpoint's success: asserts the status its declaration answers (200, or 204
    /// for `NoContent`), printing the body otherwise, and decodes the answer (`()` for none).
    pub async fn ok<E: Endpoint>(&mut self, args: &[&str], request: &E::Request) -> E::Response
    where
        E::Request: Serialize,
        E::Response: DeserializeOwned,
    {
        let (status, v) = self.send::<E>(args, request).await;
        let expected = match E::ANSWERS {
            Answers::NoContent => StatusCode::NO_CONTENT,
            Answers::Json | Answers::File(_) => StatusCode::OK,
        };
        assert_eq!(status, expected, "{} {}: {v}", E::METHOD.as_str(), E::path(args));
        decode(&v)
    }

    /// A declared endpoint's method and path with a request no request type can hold (an
    /// unknown field, a wrong type, a field left out): `body` as the JSON body, or, for an
    /// endpoint that reads a query, its fields as the query string.
    pub async fn send_json<E: Endpoint>(&mut self, args: &[&str], body: Value) -> (StatusCode, Value) {
        let mut path = E::path(args);
        let body = if E::CARRIES == Carries::Query {
            push_query(&mut path, &body);
            None
        } else {
            Some(body)
        };
        self.call(method_of::<E>(), &path, body).await
    }

    /// A declared endpoint's raw answer, for one that answers a file (a test reads its
    /// headers and bytes); sent as [`Browser::send`] sends it.
    pub async fn fetch<E: Endpoint>(&self, args: &[&str], request: &E::Request) -> reqwest::Response
    where
        E::Request: Serialize,
    {
        self.prepare::<E>(args, request).send().await.expect("request")
    }

    /// A declared endpoint's request as [`Browser::send`] would send it, not sent yet: for a
    /// test that adds a header (a language, an encoding) or reads the raw answer.
    pub fn prepare<E: Endpoint>(&self, args: &[&str], request: &E::Request) -> reqwest::RequestBuilder
    where
        E::Request: Serialize,
    {
        let (path, body) = path_and_body::<E>(args, request);
        let req = self.request(method_of::<E>(), &path);
        match body {
            Some(b) => req.json(&b),
            None => req,
        }
    }
}

/// A request as [`Browser::call`] takes it: its method, its path and its JSON body.
pub type Call = (Method, String, Option<Value>);

/// A call of a declared endpoint as [`Browser::send`] makes it: its method, its path (with
/// the query string, if it reads one) and its JSON body. For a test that goes over many
/// endpoints alike with [`Browser::call`].
pub fn request_for<E: Endpoint>(args: &[&str], request: &E::Request) -> Call
where
    E::Request: Serialize,
{
    let (path, body) = path_and_body::<E>(args, request);
    (method_of::<E>(), path, body)
}

/// A declared endpoint's path (with its query string, if it reads one) and JSON body, as
/// every client makes them (`endpoint::request`).
fn path_and_body<E: Endpoint>(args: &[&str], request: &E::Request) -> (String, Option<Value>)
where
    E::Request: Serialize,
{
    let (path, body) = certdesk_shared::endpoint::request::<E>(args, request).expect("a request encodes");
    (path, body.map(|b| serde_json::from_str(&b).expect("its body is JSON")))
}

/// `?` and the query string of `query`, after `path` (nothing when it has no field).
fn push_query(path: &mut String, query: &impl Serialize) {
    let query = query_string(query).expect("a query's fields are flat");
    if !query.is_empty() {
        path.push('?');
        path.push_str(&query);
    }
}

/// A declared endpoint's method, as `reqwest` names it.
pub fn method_of<E: Endpoint>() -> Method {
    match E::METHOD {
        EndpointMethod::Get => Method::GET,
        EndpointMethod::Post => Method::POST,
        EndpointMethod::Put => Method::PUT,
        EndpointMethod::Delete => Method::DELETE,
    }
}

/// A request body as JSON.
pub fn to_json(body: impl Serialize) -> Value {
    serde_json::to_value(body).expect("a request body serializes")
}

/// An answer decoded into its type of `certdesk_shared`; panics with the body if it does not fit.
pub fn decode<T: DeserializeOwned>(v: &Value) -> T {
    serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{}: {e}: {v}", std::any::type_name::<T>()))
}

/// An error answer's body.
pub fn api_error(v: &Value) -> ApiError {
    decode(v)
}

/// The first field an error answer names, and the rule it broke.
pub fn first_field(v: &Value) -> Option<(String, ValidationError)> {
    api_error(v).fields.into_iter().next().map(|f| (f.field, f.error))
}

/// A valid phone number.
pub fn mobile(s: &str) -> Mobile {
    Mobile::parse(s).expect("a valid phone number")
}

/// A phone number no other test uses.
pub fn new_mobile() -> String {
    format!("139{:08}", rand_u32() % 100_000_000)
}

fn rand_u32() -> u32 {
    u32::from_le_bytes(uuid::Uuid::new_v4().as_bytes()[..4].try_into().unwrap())
}

/// The last SMS sent to a phone (from the sandbox gateway's outbox).
pub async fn last_sms(app: &TestApp, mobile: &str) -> Option<outbox_message::Model> {
    outbox_message::Entity::find()
        .filter(outbox_message::Column::Recipient.eq(mobile))
        .order_by_desc(outbox_message::Column::CreatedAt)
        .one(&app.state.db)
        .await
        .unwrap()
}

pub fn code_in(body: &str) -> String {
    let start = body.find("验证码：").expect("a code in the message") + "验证码：".len();
    body[start..].chars().take(6).collect()
}

/// `POST /api/codes`'s body, with a fresh captcha answered through the test-only echo.
pub async fn code_request(app: &TestApp, mobile: &str, purpose: &str) -> Value {
    let (captcha_id, captcha_answer) = captcha(app).await;
    json!({ "mobile": mobile, "purpose": purpose, "captcha_id": captcha_id, "captcha_answer": captcha_answer })
}

/// `POST /api/codes`'s body for a valid phone, as [`code_request`].
pub async fn send_code_request(app: &TestApp, mobile: &str, purpose: CodePurpose) -> SendCodeRequest {
    let (captcha_id, captcha_answer) = captcha(app).await;
    SendCodeRequest { mobile: self::mobile(mobile), purpose, captcha_id, captcha_answer }
}

pub async fn send_code(b: &mut Browser<'_>, mobile: &str, purpose: &str) -> String {
    let purpose = CodePurpose::parse(purpose).expect("a code purpose");
    let body = send_code_request(b.app, mobile, purpose).await;
    let (status, v) = b.send::<endpoint::SendCode>(&[], &body).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(decode::<CodeSent>(&v).resend_after_secs, 60);
    code_in(&last_sms(b.app, mobile).await.expect("an SMS").body)
}

/// `POST /api/register`'s body: an enterprise account with `mobile` and its `code`.
pub fn registration(mobile: &str, code: &str) -> RegisterRequest {
    RegisterRequest {
        kind: AccountKind::Enterprise,
        org_name: Some(OrgName::parse("天津滨海测试有限公司").unwrap()),
        credit_code: Some(CreditCode::parse(CREDIT_CODE).unwrap()),
        name: PersonName::parse("张三").unwrap(),
        id_number: IdCardNumber::parse(ID_NUMBER).unwrap(),
        mobile: self::mobile(mobile),
        email: Some(Email::parse("zhangsan@example.com").unwrap()),
        password: Password::parse(PASSWORD).unwrap(),
        code: OtpCode::parse(code).expect("a 6-digit code"),
        agreement_version: AGREEMENT_VERSION.to_owned(),
    }
}

/// Registers a new enterprise account; the browser is signed in afterwards.
pub async fn registered(app: &TestApp) -> (Browser<'_>, String) {
    let mut b = Browser::new(app);
    let mobile = new_mobile();
    let code = send_code(&mut b, &mobile, "register").await;
    let (status, v) = b.send::<endpoint::Register>(&[], &registration(&mobile, &code)).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    (b, mobile)
}

/// A captcha and, through the test-only echo, its answer.
pub async fn captcha(app: &TestApp) -> (String, String) {
    let res = app.client.get(app.url(&endpoint::NewCaptcha::path(&[]))).send().await.unwrap();
    assert_eq!(res.headers()["cache-control"], "no-store");
    let answer = res.headers()["x-captcha-answer"].to_str().unwrap().to_owned();
    let v: Captcha = res.json().await.unwrap();
    assert!(v.svg.starts_with("<svg") && !v.svg.contains("<text"));
    (v.id, answer)
}

pub async fn sign_in(b: &mut Browser<'_>, mobile: &str, password: &str) -> (StatusCode, Value) {
    let (id, answer) = captcha(b.app).await;
    let body = SignInRequest {
        mobile: mobile.to_owned(),
        password: password.to_owned(),
        captcha_id: id,
        captcha_answer: answer.to_lowercase(),
        agreed: true,
    };
    b.send::<endpoint::SignIn>(&[], &body).await
}

/// Used by the admin tests: a staff session without the WebAuthn ceremony (the browser tests
/// do the ceremony with a virtual authenticator).
pub async fn staff_browser<'a>(app: &'a TestApp, role: certdesk_shared::admin::StaffRole) -> (Browser<'a>, String) {
    let name = format!("s{}", rand_u32());
    let meta = ClientMeta { ip: "127.0.0.1".into(), user_agent: "test".into() };
    let (staff, _) = certdesk::domain::staff::create(
        &app.state.db,
        &app.state.audit_key,
        certdesk::domain::audit::SYSTEM,
        &name,
        "测试员工",
        role,
        None,
        &meta,
        Utc::now(),
    )
    .await
    .unwrap();
    let (value, row) =
        session::start(&app.state.db, session::Kind::Staff, &staff.id, "test", &meta, Utc::now()).await.unwrap();
    let b = Browser { app, cookie: Some(format!("certdesk-staff={value}")), csrf: Some(row.csrf_token) };
    (b, staff.id)
}

/// A security key row for any owner, stored directly (its passkey is not a real one).
pub async fn stored_key_for(app: &TestApp, owner_kind: &str, owner_id: &str, name: &str) -> String {
    let key = certdesk::entity::webauthn_credential::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        owner_kind: Set(owner_kind.into()),
        owner_id: Set(owner_id.into()),
        credential_id: Set(format!("cred-{owner_id}-{name}")),
        passkey: Set("{}".into()),
        name: Set(name.into()),
        created_at: Set(Utc::now()),
        last_used_at: Set(None),
    }
    .insert(&app.state.db)
    .await
    .unwrap();
    key.id
}
