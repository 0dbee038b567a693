//! Customer accounts over HTTP: captcha, SMS codes, registration, sign-in (password or
//! security key), sessions, the forgotten password and the user centre. Thin handlers over
//! `domain::account`, `domain::codes`, `domain::session` and `domain::security_key`.

use super::routes::RouteEndpoint;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use certdesk_shared::account::{
    CODE_RESEND_SECS, CODE_TTL_SECS, Captcha, CertificateChallenge, ChangePasswordRequest, CodeSent,
    FinishCertificateSignIn, FinishKeyRegistration, FinishKeySignIn, KeyRegistrationChallenge, KeySignInChallenge,
    Profile, RegisterRequest, RemoveKeyRequest, ResetPasswordRequest, SecurityKey, SendCodeRequest, SessionInfo,
    SessionsEnded, SignInMethod, SignInRecord, SignInRequest, StartKeyRegistration, StartKeySignIn,
    UpdateProfileRequest,
};
use certdesk_shared::endpoint;
use chrono::Utc;

use super::AppJson;
use super::auth::{Client, CurrentUser, clear_cookie, cookie, cookie_name, set_cookie};
use crate::domain::session::{self, Kind};
use crate::domain::{ClientMeta, account, captcha, codes, security_key, token_sign_in};
use crate::entity::account as account_entity;
use crate::error::AppError;
use crate::state::AppState;
use certdesk_shared::Named;

pub fn router() -> Router<AppState> {
    Router::new()
        .endpoint(endpoint::NewCaptcha, new_captcha)
        .endpoint(endpoint::SendCode, send_code)
        .endpoint(endpoint::Register, register)
        .endpoint(endpoint::SignIn, sign_in)
        .endpoint(endpoint::StartKeySignIn, start_key_sign_in)
        .endpoint(endpoint::FinishKeySignIn, finish_key_sign_in)
        .endpoint(endpoint::StartCertificateSignIn, start_certificate_sign_in)
        .endpoint(endpoint::FinishCertificateSignIn, finish_certificate_sign_in)
        .endpoint(endpoint::CurrentSession, current_session)
        .endpoint(endpoint::SignOut, sign_out)
        .endpoint(endpoint::SignOutOthers, sign_out_others)
        .endpoint(endpoint::ResetPassword, reset_password)
        .endpoint(endpoint::GetProfile, profile)
        .endpoint(endpoint::UpdateProfile, update_profile)
        .endpoint(endpoint::ChangePassword, change_password)
        .endpoint(endpoint::ListSignIns, sign_ins)
        .endpoint(endpoint::ListKeys, keys)
        .endpoint(endpoint::StartKeyRegistration, start_key_registration)
        .endpoint(endpoint::FinishKeyRegistration, finish_key_registration)
        .endpoint(endpoint::RemoveKey, remove_key)
}

/// Starts a session (ending the one the browser had, if any) and answers `body` with the cookie.
pub async fn start_session<T: serde::Serialize>(
    state: &AppState,
    headers: &HeaderMap,
    kind: Kind,
    subject_id: &str,
    method: &str,
    meta: &ClientMeta,
    body: impl FnOnce(String) -> T,
) -> Result<Response, AppError> {
    if let Some(old) = cookie(headers, cookie_name(kind, state.config.dev)) {
        session::end(&state.db, &session::hash(old)).await?;
    }
    let (value, row) = session::start(&state.db, kind, subject_id, method, meta, Utc::now()).await?;
    let mut res = Json(body(row.csrf_token)).into_response();
    res.headers_mut().insert(header::SET_COOKIE, set_cookie(kind, state.config.dev, &value));
    Ok(res)
}

fn session_info(a: &account_entity::Model) -> impl FnOnce(String) -> SessionInfo + '_ {
    move |csrf_token| SessionInfo { account: account::profile(a), csrf_token }
}

async fn new_captcha(State(state): State<AppState>, Client(meta): Client) -> Result<Response, AppError> {
    let (id, svg, answer) = captcha::new(&state.db, &meta, Utc::now()).await?;
    let mut res = Json(Captcha { id, svg }).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, "no-store".parse().map_err(anyhow::Error::from)?);
    if state.config.insecure_captcha_echo {
        res.headers_mut().insert("x-captcha-answer", answer.parse().map_err(anyhow::Error::from)?);
    }
    Ok(res)
}

async fn send_code(
    State(state): State<AppState>,
    Client(meta): Client,
    AppJson(req): AppJson<SendCodeRequest>,
) -> Result<Json<CodeSent>, AppError> {
    codes::send(&state.db, &state.notifier, &state.audit_key, &req, &meta, Utc::now()).await?;
    Ok(Json(CodeSent { resend_after_secs: CODE_RESEND_SECS, valid_for_secs: CODE_TTL_SECS }))
}

async fn register(
    State(state): State<AppState>,
    headers: HeaderMap,
    Client(meta): Client,
    AppJson(req): AppJson<RegisterRequest>,
) -> Result<Response, AppError> {
    let a = account::register(&state.db, &state.audit_key, req, &meta, Utc::now()).await?;
    account::signed_in(&state.db, &state.audit_key, &a, SignInMethod::Registration, &meta).await?;
    start_session(&state, &headers, Kind::Customer, &a.id, "registration", &meta, session_info(&a)).await
}

async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    Client(meta): Client,
    AppJson(req): AppJson<SignInRequest>,
) -> Result<Response, AppError> {
    let a = account::sign_in(&state.db, &state.audit_key, req, &meta, Utc::now()).await?;
    start_session(&state, &headers, Kind::Customer, &a.id, "password", &meta, session_info(&a)).await
}

async fn start_key_sign_in(
    State(state): State<AppState>,
    Client(meta): Client,
    AppJson(req): AppJson<StartKeySignIn>,
) -> Result<Json<KeySignInChallenge>, AppError> {
    let owner = account::for_key_sign_in(&state.db, &req.mobile).await?;
    let (challenge_id, options) = security_key::start_authentication(
        &state.db,
        &meta,
        &state.webauthn,
        &security_key::rp_id(&state.webauthn),
        Kind::Customer.as_str(),
        owner.as_ref().map(|a| a.id.as_str()),
        req.mobile.trim(),
        &state.audit_key.derive("webauthn decoy"),
        Utc::now(),
    )
    .await?;
    Ok(Json(KeySignInChallenge { challenge_id, options }))
}

async fn finish_key_sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    Client(meta): Client,
    AppJson(req): AppJson<FinishKeySignIn>,
) -> Result<Response, AppError> {
    let id = security_key::finish_authentication(
        &state.db,
        &state.webauthn,
        Kind::Customer.as_str(),
        &req.challenge_id,
        &req.credential,
        Utc::now(),
    )
    .await?;
    let a = account::find(&state.db, &id).await?;
    account::signed_in(&state.db, &state.audit_key, &a, SignInMethod::SecurityKey, &meta).await?;
    start_session(&state, &headers, Kind::Customer, &a.id, "security_key", &meta, session_info(&a)).await
}

async fn start_certificate_sign_in(
    State(state): State<AppState>,
    Client(meta): Client,
) -> Result<Json<CertificateChallenge>, AppError> {
    let (challenge_id, challenge) = token_sign_in::start(&state.db, &meta, Utc::now()).await?;
    Ok(Json(CertificateChallenge { challenge_id, challenge }))
}

async fn finish_certificate_sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    Client(meta): Client,
    AppJson(req): AppJson<FinishCertificateSignIn>,
) -> Result<Response, AppError> {
    let a = token_sign_in::finish(&state.db, &state.audit_key, &state.ca, &req, &meta, Utc::now()).await?;
    start_session(&state, &headers, Kind::Customer, &a.id, "certificate", &meta, session_info(&a)).await
}

async fn current_session(State(state): State<AppState>, user: CurrentUser) -> Result<Json<SessionInfo>, AppError> {
    let a = account::find(&state.db, &user.account_id).await?;
    Ok(Json(SessionInfo { account: account::profile(&a), csrf_token: user.session.csrf_token }))
}

async fn sign_out(State(state): State<AppState>, user: CurrentUser) -> Result<Response, AppError> {
    session::end(&state.db, &user.session.id_hash).await?;
    audit_customer(&state, &user, "signed_out", serde_json::json!({})).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(header::SET_COOKIE, clear_cookie(Kind::Customer, state.config.dev));
    Ok(res)
}

async fn sign_out_others(State(state): State<AppState>, user: CurrentUser) -> Result<Json<SessionsEnded>, AppError> {
    let ended = session::end_others(&state.db, &user.account_id, Some(&user.session.id_hash)).await?;
    audit_customer(&state, &user, "signed_out_elsewhere", serde_json::json!({ "ended": ended })).await?;
    Ok(Json(SessionsEnded { ended }))
}

async fn reset_password(
    State(state): State<AppState>,
    Client(meta): Client,
    AppJson(req): AppJson<ResetPasswordRequest>,
) -> Result<StatusCode, AppError> {
    account::reset_password(&state.db, &state.audit_key, &state.notifier, req, &meta, Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn profile(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Profile>, AppError> {
    Ok(Json(account::profile(&account::find(&state.db, &user.account_id).await?)))
}

async fn update_profile(
    State(state): State<AppState>,
    user: CurrentUser,
    AppJson(req): AppJson<UpdateProfileRequest>,
) -> Result<Json<Profile>, AppError> {
    let a = account::update_profile(&state.db, &state.audit_key, &user.account_id, req, &user.meta, Utc::now()).await?;
    Ok(Json(account::profile(&a)))
}

async fn change_password(
    State(state): State<AppState>,
    user: CurrentUser,
    AppJson(req): AppJson<ChangePasswordRequest>,
) -> Result<StatusCode, AppError> {
    account::change_password(
        &state.db,
        &state.audit_key,
        &state.notifier,
        &user.account_id,
        &user.session.id_hash,
        req,
        &user.meta,
        Utc::now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn sign_ins(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Vec<SignInRecord>>, AppError> {
    Ok(Json(account::sign_in_history(&state.db, &user.account_id).await?))
}

pub fn security_key_view(k: &crate::entity::webauthn_credential::Model) -> SecurityKey {
    SecurityKey {
        id: k.id.clone(),
        name: k.name.clone(),
        created_at: k.created_at.to_rfc3339(),
        last_used_at: k.last_used_at.map(|t| t.to_rfc3339()),
    }
}

async fn keys(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Vec<SecurityKey>>, AppError> {
    Ok(Json(security_key::list(&state.db, &user.account_id).await?.iter().map(security_key_view).collect()))
}

async fn start_key_registration(
    State(state): State<AppState>,
    user: CurrentUser,
    AppJson(req): AppJson<StartKeyRegistration>,
) -> Result<Json<KeyRegistrationChallenge>, AppError> {
    let a = account::find(&state.db, &user.account_id).await?;
    account::confirm_password(&state.db, &a, &req.password, Utc::now()).await?;
    let name = if req.name.trim().is_empty() { "安全密钥" } else { req.name.trim() };
    let (challenge_id, options) = security_key::start_registration(
        &state.db,
        &state.webauthn,
        Kind::Customer.as_str(),
        &a.id,
        &a.mobile,
        &a.name,
        name,
        Utc::now(),
    )
    .await?;
    Ok(Json(KeyRegistrationChallenge { challenge_id, options }))
}

async fn finish_key_registration(
    State(state): State<AppState>,
    user: CurrentUser,
    AppJson(req): AppJson<FinishKeyRegistration>,
) -> Result<Json<SecurityKey>, AppError> {
    let key = security_key::finish_registration(
        &state.db,
        &state.webauthn,
        Kind::Customer.as_str(),
        &user.account_id,
        &req.challenge_id,
        &req.credential,
        Utc::now(),
    )
    .await?;
    audit_customer(&state, &user, "key_added", serde_json::json!({ "key": key.id, "name": key.name })).await?;
    account::tell_key_changed(&state.notifier, &account::find(&state.db, &user.account_id).await?, &key.name, true)
        .await;
    Ok(Json(security_key_view(&key)))
}

async fn remove_key(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    AppJson(req): AppJson<RemoveKeyRequest>,
) -> Result<StatusCode, AppError> {
    let a = account::find(&state.db, &user.account_id).await?;
    account::confirm_password(&state.db, &a, &req.password, Utc::now()).await?;
    let removed = security_key::remove(&state.db, &user.account_id, &id).await?;
    audit_customer(&state, &user, "key_removed", serde_json::json!({ "key": id })).await?;
    account::tell_key_changed(&state.notifier, &a, &removed.name, false).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Appends a customer's own security event to the audit trail.
async fn audit_customer(
    state: &AppState,
    user: &CurrentUser,
    action: &str,
    detail: serde_json::Value,
) -> Result<(), AppError> {
    let actor = crate::domain::audit::customer(&user.account_id);
    let event = crate::domain::audit::Event { actor: &actor, action, subject: &actor, ip: &user.meta.ip, detail };
    crate::domain::audit::append(&state.db, &state.audit_key, event).await?;
    Ok(())
}
