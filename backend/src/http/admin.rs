//! The staff side over HTTP (`/api/admin`): sign-in and enrolment with a security key, the
//! staff list and roles, the SMS outbox and the audit trail. Every route past sign-in sits
//! behind `require_staff`, and each handler's extractor names the permission it needs.

use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use certdesk_shared::ErrorCode;
use certdesk_shared::account::{KeyRegistrationChallenge, KeySignInChallenge};
use certdesk_shared::admin::{
    AuditEntry, ChangeRoleRequest, CreateStaffRequest, FinishEnrolment, OutboxMessage, StaffCreated, StaffMember,
    StaffSession, StartEnrolment, StartStaffSignIn,
};
use chrono::Utc;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::AppJson;
use super::account::start_session;
use super::auth::{Allowed, Client, ManageStaff, ReadAudit, ReadOutbox, StaffUser, clear_cookie, cookie, cookie_name};
use crate::domain::session::{self, Kind};
use crate::domain::{audit, security_key, staff};
use crate::entity::outbox_message;
use crate::error::AppError;
use crate::state::AppState;

pub fn router(state: AppState) -> Router<AppState> {
    let private = Router::new()
        .route("/session", get(current_session))
        .route("/sign-out", post(sign_out))
        .route("/staff", get(list_staff).post(create_staff))
        .route("/staff/{id}/role", put(change_role))
        .route("/staff/{id}/disable", post(disable_staff))
        .route("/sms-outbox", get(outbox))
        .route("/audit", get(audit_trail))
        .merge(super::apply::admin_router())
        .merge(super::catalogue::admin_router())
        .merge(super::payment::admin_router())
        .merge(super::revoke::admin_router())
        .route_layer(middleware::from_fn_with_state(state, require_staff));
    Router::new()
        .route("/sign-in/start", post(start_sign_in))
        .route("/sign-in/finish", post(finish_sign_in))
        .route("/enrol/start", post(start_enrolment))
        .route("/enrol/finish", post(finish_enrolment))
        .merge(private)
}

/// Every private admin route: no staff session, no entry (before any extractor runs).
async fn require_staff(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let live = match cookie(req.headers(), cookie_name(Kind::Staff, state.config.dev)) {
        Some(v) => session::load(&state.db, Kind::Staff, v, Utc::now()).await.ok().flatten().is_some(),
        None => false,
    };
    if !live {
        return AppError::from(ErrorCode::Unauthorized).into_response();
    }
    next.run(req).await
}

fn staff_session(member: StaffMember) -> impl FnOnce(String) -> StaffSession {
    move |csrf_token| StaffSession { staff: member, csrf_token }
}

async fn start_sign_in(
    State(state): State<AppState>,
    Client(meta): Client,
    AppJson(req): AppJson<StartStaffSignIn>,
) -> Result<Json<KeySignInChallenge>, AppError> {
    // A disabled member gets the decoy an unknown name gets.
    let member = staff::by_username(&state.db, &req.username).await?.filter(|m| m.disabled_at.is_none());
    let (challenge_id, options) = security_key::start_authentication(
        &state.db,
        &meta,
        &state.webauthn,
        &security_key::rp_id(&state.webauthn),
        Kind::Staff.as_str(),
        member.as_ref().map(|s| s.id.as_str()),
        req.username.trim(),
        &state.audit_key.derive("webauthn decoy"),
        Utc::now(),
    )
    .await?;
    Ok(Json(KeySignInChallenge { challenge_id, options }))
}

async fn finish_sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    Client(meta): Client,
    AppJson(req): AppJson<certdesk_shared::account::FinishKeySignIn>,
) -> Result<Response, AppError> {
    let id = security_key::finish_authentication(
        &state.db,
        &state.webauthn,
        Kind::Staff.as_str(),
        &req.challenge_id,
        &req.credential,
        Utc::now(),
    )
    .await?;
    let member =
        staff::find(&state.db, &id).await?.filter(|m| m.disabled_at.is_none()).ok_or(ErrorCode::SecurityKeyFailed)?;
    audit::append(
        &state.db,
        &state.audit_key,
        audit::Event {
            actor: &audit::staff(&id),
            action: "signed_in",
            subject: &member.username,
            ip: &meta.ip,
            detail: serde_json::json!({ "method": "security_key" }),
        },
    )
    .await?;
    let view = staff::member(&state.db, &member).await?;
    start_session(&state, &headers, Kind::Staff, &id, "security_key", &meta, staff_session(view)).await
}

async fn start_enrolment(
    State(state): State<AppState>,
    AppJson(req): AppJson<StartEnrolment>,
) -> Result<Json<KeyRegistrationChallenge>, AppError> {
    let now = Utc::now();
    let member = staff::by_enrol_token(&state.db, &req.token, now).await?;
    let (challenge_id, options) = security_key::start_registration(
        &state.db,
        &state.webauthn,
        Kind::Staff.as_str(),
        &member.id,
        &member.username,
        &member.display_name,
        "安全密钥",
        now,
    )
    .await?;
    Ok(Json(KeyRegistrationChallenge { challenge_id, options }))
}

async fn finish_enrolment(
    State(state): State<AppState>,
    headers: HeaderMap,
    Client(meta): Client,
    AppJson(req): AppJson<FinishEnrolment>,
) -> Result<Response, AppError> {
    let now = Utc::now();
    let member = staff::by_enrol_token(&state.db, &req.token, now).await?;
    let key = security_key::finish_registration(
        &state.db,
        &state.webauthn,
        Kind::Staff.as_str(),
        &member.id,
        &req.challenge_id,
        &req.credential,
        now,
    )
    .await?;
    // The link works once: a parallel finish that lost keeps no key.
    if let Err(e) = staff::take_enrolment(&state.db, &member).await {
        security_key::remove(&state.db, &member.id, &key.id).await?;
        return Err(e);
    }
    staff::enrolled(&state.db, &state.audit_key, &member, &meta).await?;
    let view = staff::member(&state.db, &member).await?;
    start_session(&state, &headers, Kind::Staff, &member.id, "enrolment", &meta, staff_session(view)).await
}

async fn current_session(State(state): State<AppState>, user: StaffUser) -> Result<Json<StaffSession>, AppError> {
    let view = staff::member(&state.db, &user.staff).await?;
    Ok(Json(StaffSession { staff: view, csrf_token: user.session.csrf_token }))
}

async fn sign_out(State(state): State<AppState>, user: StaffUser) -> Result<Response, AppError> {
    session::end(&state.db, &user.session.id_hash).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(header::SET_COOKIE, clear_cookie(Kind::Staff, state.config.dev));
    Ok(res)
}

async fn list_staff(
    State(state): State<AppState>,
    _: Allowed<ManageStaff>,
) -> Result<Json<Vec<StaffMember>>, AppError> {
    let mut out = Vec::new();
    for s in staff::list(&state.db).await? {
        out.push(staff::member(&state.db, &s).await?);
    }
    Ok(Json(out))
}

pub fn enrol_url(public_url: &str, token: &str) -> String {
    format!("{}/admin/enrol#token={token}", public_url.trim_end_matches('/'))
}

async fn create_staff(
    State(state): State<AppState>,
    who: Allowed<ManageStaff>,
    AppJson(req): AppJson<CreateStaffRequest>,
) -> Result<Json<StaffCreated>, AppError> {
    let (s, token) = staff::create(
        &state.db,
        &state.audit_key,
        &who.user.actor(),
        &req.username,
        &req.display_name,
        req.role,
        req.mobile.as_ref(),
        &who.user.meta,
        Utc::now(),
    )
    .await?;
    Ok(Json(StaffCreated {
        staff: staff::member(&state.db, &s).await?,
        enrol_url: enrol_url(&state.config.public_url, &token),
    }))
}

async fn change_role(
    State(state): State<AppState>,
    who: Allowed<ManageStaff>,
    Path(id): Path<String>,
    AppJson(req): AppJson<ChangeRoleRequest>,
) -> Result<Json<StaffMember>, AppError> {
    let s = staff::change_role(&state.db, &state.audit_key, &who.user.actor(), &id, req.role, &who.user.meta).await?;
    Ok(Json(staff::member(&state.db, &s).await?))
}

async fn disable_staff(
    State(state): State<AppState>,
    who: Allowed<ManageStaff>,
    Path(id): Path<String>,
) -> Result<Json<StaffMember>, AppError> {
    let s = staff::disable(&state.db, &state.audit_key, &who.user.staff, &id, &who.user.meta, Utc::now()).await?;
    Ok(Json(staff::member(&state.db, &s).await?))
}

#[derive(serde::Deserialize)]
struct OutboxQuery {
    recipient: Option<String>,
}

async fn outbox(
    State(state): State<AppState>,
    _: Allowed<ReadOutbox>,
    Query(q): Query<OutboxQuery>,
) -> Result<Json<Vec<OutboxMessage>>, AppError> {
    let mut find = outbox_message::Entity::find().order_by_desc(outbox_message::Column::CreatedAt).limit(200);
    if let Some(r) = q.recipient.filter(|r| !r.is_empty()) {
        find = find.filter(outbox_message::Column::Recipient.eq(r));
    }
    let rows = find.all(&state.db).await?;
    Ok(Json(
        rows.into_iter()
            .map(|m| OutboxMessage {
                id: m.id,
                channel: m.channel,
                recipient: m.recipient,
                template: m.template,
                body: m.body,
                created_at: m.created_at.to_rfc3339(),
            })
            .collect(),
    ))
}

async fn audit_trail(State(state): State<AppState>, _: Allowed<ReadAudit>) -> Result<Json<Vec<AuditEntry>>, AppError> {
    let rows = audit::recent(&state.db, 200).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| AuditEntry {
                seq: r.seq,
                at: r.at.to_rfc3339(),
                actor: r.actor,
                action: r.action,
                subject: r.subject,
                address: r.ip,
                detail: serde_json::from_str(&r.detail).unwrap_or_default(),
            })
            .collect(),
    ))
}
