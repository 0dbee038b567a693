//! The staff side over HTTP (`/api/admin`): sign-in and enrolment with a security key, the
//! staff list and roles, the SMS outbox and the audit trail. Every route past sign-in sits
//! behind `require_staff`, and each handler's extractor names the permission it needs.

use super::errors::AppQuery;
use super::routes::RouteEndpoint;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use certdesk_shared::ErrorCode;
use certdesk_shared::account::{KeyRegistrationChallenge, KeySignInChallenge};
use certdesk_shared::admin::{
    AuditEntry, AuditQuery, ChangeRoleRequest, CreateStaffRequest, FinishEnrolment, OutboxMessage, OutboxQuery, Page,
    SectionEntry, StaffCreated, StaffMember, StaffQuery, StaffSession, StartEnrolment, StartStaffSignIn,
};
use certdesk_shared::dashboard::Dashboard;
use certdesk_shared::endpoint;
use chrono::Utc;

use super::AppJson;
use super::account::start_session;
use super::auth::{Allowed, Client, ManageStaff, ReadAudit, ReadOutbox, StaffUser, clear_cookie, cookie, cookie_name};
use super::csv::short_utc;
use crate::domain::session::{self, Kind};
use crate::domain::{audit, console, dashboard, security_key, staff};
use crate::error::AppError;
use crate::state::AppState;
use certdesk_shared::Named;

pub fn router(state: AppState) -> Router<AppState> {
    let private = Router::new()
        .endpoint(endpoint::CurrentStaffSession, current_session)
        .endpoint(endpoint::ListSections, sections)
        .endpoint(endpoint::GetDashboard, dashboard)
        .endpoint(endpoint::StaffSignOut, sign_out)
        .endpoint(endpoint::ListStaff, list_staff)
        .endpoint(endpoint::CreateStaff, create_staff)
        .endpoint(endpoint::ChangeRole, change_role)
        .endpoint(endpoint::DisableStaff, disable_staff)
        .endpoint(endpoint::SmsOutbox, outbox)
        .endpoint(endpoint::AuditTrail, audit_trail)
        .endpoint(endpoint::AuditCsv, audit_csv)
        .merge(super::apply::admin_router())
        .merge(super::catalogue::admin_router())
        .merge(super::customer_service::admin_router())
        .merge(super::payment::admin_router())
        .merge(super::revoke::admin_router())
        .route_layer(middleware::from_fn_with_state(state, require_staff));
    Router::new()
        .endpoint(endpoint::StartStaffSignIn, start_sign_in)
        .endpoint(endpoint::FinishStaffSignIn, finish_sign_in)
        .endpoint(endpoint::StartEnrolment, start_enrolment)
        .endpoint(endpoint::FinishEnrolment, finish_enrolment)
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

/// 工作台: the charts of the member's role.
async fn dashboard(State(state): State<AppState>, user: StaffUser) -> Result<Json<Dashboard>, AppError> {
    Ok(Json(dashboard::dashboard(&state.db, &user.staff, Utc::now()).await?))
}

/// The side navigation: the member's sections and what waits in each.
async fn sections(State(state): State<AppState>, user: StaffUser) -> Result<Json<Vec<SectionEntry>>, AppError> {
    Ok(Json(console::sections(&state.db, &user.staff).await?))
}

async fn sign_out(State(state): State<AppState>, user: StaffUser) -> Result<Response, AppError> {
    session::end(&state.db, &user.session.id_hash).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(header::SET_COOKIE, clear_cookie(Kind::Staff, state.config.dev));
    Ok(res)
}

/// 员工: one page.
async fn list_staff(
    State(state): State<AppState>,
    _: Allowed<ManageStaff>,
    AppQuery(q): AppQuery<StaffQuery>,
) -> Result<Json<Page<StaffMember>>, AppError> {
    let page = staff::list(&state.db, &q).await?;
    let mut out = Vec::new();
    for s in &page.items {
        out.push(staff::member(&state.db, s).await?);
    }
    Ok(Json(page.with(out)))
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

/// 短信发件箱: one page, newest first, by recipient and template.
async fn outbox(
    State(state): State<AppState>,
    _: Allowed<ReadOutbox>,
    AppQuery(q): AppQuery<OutboxQuery>,
) -> Result<Json<Page<OutboxMessage>>, AppError> {
    Ok(Json(console::outbox(&state.db, &q).await?))
}

fn audit_entry(r: crate::entity::audit_event::Model) -> AuditEntry {
    AuditEntry {
        seq: r.seq,
        at: r.at.to_rfc3339(),
        actor: r.actor,
        action: r.action,
        subject: r.subject,
        address: r.ip,
        detail: serde_json::from_str(&r.detail).unwrap_or_default(),
    }
}

/// 审计日志: one page, newest first, with the filters of [`AuditQuery`].
async fn audit_trail(
    State(state): State<AppState>,
    _: Allowed<ReadAudit>,
    AppQuery(q): AppQuery<AuditQuery>,
) -> Result<Json<Page<AuditEntry>>, AppError> {
    let filter = audit::Filter::parse(&q)?;
    let found = audit::search(&state.db, &filter).await?;
    Ok(Json(filter.paging.page(found.items.into_iter().map(audit_entry).collect(), found.total)))
}

/// 导出 CSV: every row the filters match (all pages), UTF-8 with a byte order mark so that
/// Excel reads the Chinese text, streamed a batch at a time. The export itself is audited.
async fn audit_csv(
    State(state): State<AppState>,
    who: Allowed<ReadAudit>,
    AppQuery(q): AppQuery<AuditQuery>,
) -> Result<Response, AppError> {
    let filter = audit::Filter::parse(&q)?;
    let u = &who.user;
    audit::append(
        &state.db,
        &state.audit_key,
        audit::Event {
            actor: &u.actor(),
            action: "audit_exported",
            subject: "audit",
            ip: &u.meta.ip,
            detail: serde_json::to_value(&q).unwrap_or_default(),
        },
    )
    .await?;
    // A batch at a time by `seq`, newest first: a row appended meanwhile is never read twice.
    const BATCH: u64 = 1000;
    let head = ["序号", "时间 (UTC)", "操作人", "操作", "对象", "地址", "详情"];
    Ok(super::csv::download("audit.csv", "审计日志.csv", &head, i64::MAX, move |before| {
        let (db, filter) = (state.db.clone(), filter.clone());
        async move {
            let rows = audit::matches_before(&db, &filter, before, BATCH).await?;
            let next = rows.last().map(|r| r.seq).filter(|_| rows.len() as u64 == BATCH);
            let rows = rows
                .into_iter()
                .map(|r| vec![r.seq.to_string(), short_utc(&r.at), r.actor, r.action, r.subject, r.ip, r.detail])
                .collect();
            Ok((rows, next))
        }
    }))
}
