//! 证书注销, two ways.
//!
//! By its holder without signing in (seed 000, [`by_challenge_phrase`]): the challenge phrase
//! (撤销密码) chosen when applying and a reason from RFC 5280's list; the CA revokes at once,
//! with a new CRL in the same transaction. Wrong phrases are slowed per certificate and
//! address, per certificate, and per address, so nobody can lock the holder out.
//!
//! By request of the signed-in holder (seed 004 §7, [`start`], [`submit`], [`approved`]): a
//! request of kind `revoke` with the holder's reason, ① the cancellation form and the
//! holder's ID, ② the SMS code of the phone of record, ③ staff review; on approval the
//! certificate is revoked for good, in the approval's transaction.

use certdesk_shared::Named;
use certdesk_shared::account::CodePurpose;
use certdesk_shared::directory::{CertificateDetail, HOLDER_REASONS, SelfRevocation};
use certdesk_shared::revoke::{
    DOCUMENTS, RevocationNotOpen, RevocationOffer, RevocationPayload, StartRevocation, SubmitRevocation,
};
use certdesk_shared::{ErrorCode, FieldError, ValidationError};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, SqlErr, TransactionTrait};

use super::ClientMeta;
use super::audit::{self, AuditKey, Event};
use super::directory::{detail_of, find};
use super::request::Transition;
use super::throttle::{Counters, Policy};
use crate::ca::CaService;
use crate::ca::revoke::REVOKED;
use crate::entity::request::{self, Kind, Status};
use crate::entity::{account, certificate, request_document};
use crate::error::AppError;

/// Wrong challenge phrases for one certificate from one address: waits from the 3rd,
/// locked at the 5th. Only that address is stopped, so nobody can lock the holder out.
pub const PHRASE_PER_CERTIFICATE_AND_ADDRESS: Policy =
    Policy { window: Duration::hours(1), delay_from: 3, lock_at: 5, lock_for: Duration::hours(1) };
/// Wrong challenge phrases for one certificate from anywhere: waits (doubling, at most
/// about 17 minutes) from the 20th, never a lock, so guessing from many addresses stays slow
/// and the holder can still revoke.
pub const PHRASE_PER_CERTIFICATE: Policy =
    Policy { window: Duration::hours(24), delay_from: 20, lock_at: i32::MAX, lock_for: Duration::hours(1) };
/// Wrong challenge phrases per address, over any certificates.
pub const PHRASE_PER_ADDRESS: Policy =
    Policy { window: Duration::hours(1), delay_from: 10, lock_at: 20, lock_for: Duration::hours(1) };

/// Self-revocation (seed 000 steps 7–8): the challenge phrase chosen when applying and a
/// holder's reason; the CA revokes at once and a new CRL is signed. Wrong phrases are
/// counted per certificate and per address before the phrase is checked, and audited.
#[allow(clippy::too_many_arguments)]
pub async fn by_challenge_phrase(
    db: &(impl ConnectionTrait + TransactionTrait),
    counters: &Counters,
    ca: &CaService,
    key: &AuditKey,
    uid: &str,
    request: SelfRevocation,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<CertificateDetail, AppError> {
    let SelfRevocation { challenge_phrase: phrase, reason } = request;
    if !HOLDER_REASONS.contains(&reason) {
        return Err(ErrorCode::BadRevocationReason.into());
    }
    let cert = find(db, uid).await?;
    if cert.ca_id != ca.issuing.id {
        return Err(ErrorCode::NotFound.into());
    }
    if cert.status == REVOKED {
        return Err(ErrorCode::AlreadyRevoked.into());
    }
    let keys = [
        (meta.address_key(&format!("revoke:cert:{}", cert.uid)), PHRASE_PER_CERTIFICATE_AND_ADDRESS),
        (format!("revoke:cert:{}", cert.uid), PHRASE_PER_CERTIFICATE),
        (meta.address_key("revoke"), PHRASE_PER_ADDRESS),
    ];
    for (i, (key, policy)) in keys.iter().enumerate() {
        if !counters.attempt(key, *policy, now).await? {
            for (charged, _) in &keys[..i] {
                counters.forgive(charged).await?;
            }
            return Err(ErrorCode::RateLimited.into());
        }
    }
    let stored = request::Entity::find()
        .filter(request::Column::CertificateUid.eq(cert.uid.clone()))
        .one(db)
        .await?
        .and_then(|a| a.challenge_hash);
    // No application (a certificate made another way) costs the same check and fails.
    let right = super::password::verify(stored, phrase).await?;
    if !right {
        let detail = serde_json::json!({ "certificate": cert.uid });
        audit::append(
            db,
            key,
            Event {
                actor: audit::ANONYMOUS,
                action: "revocation_phrase_invalid",
                subject: &cert.serial,
                ip: &meta.ip,
                detail,
            },
        )
        .await?;
        return Err(ErrorCode::ChallengePhraseInvalid.into());
    }
    for (charged, _) in &keys {
        counters.forgive(charged).await?;
    }
    // Revoking re-signs the CRL in the same transaction, and the audit row goes with them.
    let txn = crate::db::begin_write(db).await?;
    crate::ca::revoke::revoke(&txn, &ca.issuing, &cert.serial, reason, None).await?;
    let detail = serde_json::json!({ "certificate": cert.uid, "reason": reason.code(), "by": "challenge_phrase" });
    audit::append(
        &txn,
        key,
        Event { actor: audit::ANONYMOUS, action: "certificate_revoked", subject: &cert.serial, ip: &meta.ip, detail },
    )
    .await?;
    txn.commit().await?;
    // Only now is the revocation visible to other connections: this server's OCSP answers
    // read before this moment are stale from here on.
    crate::ca::ocsp::status_changed();
    Ok(detail_of(&find(db, uid).await?, now))
}

// 证书注销 by request (seed 004 §7): the signed-in holder asks, an operator reviews.

/// The account's own revocation request; anything else is "not found".
async fn own_revocation(db: &impl ConnectionTrait, account_id: &str, id: &str) -> Result<request::Model, AppError> {
    let r = super::request::own(db, account_id, id).await?;
    if r.kind != Kind::Revoke {
        return Err(ErrorCode::NotFound.into());
    }
    Ok(r)
}

/// A certificate a revocation can start from: not revoked, not past its end.
fn not_open(cert: &certificate::Model, now: DateTime<Utc>) -> Option<RevocationNotOpen> {
    (cert.status == REVOKED || cert.not_after <= now).then_some(RevocationNotOpen::NotLive)
}

/// `GET /api/revoke/{uid}`: what revoking this certificate means now.
pub async fn offer(
    db: &impl ConnectionTrait,
    account_id: &str,
    uid: &str,
    now: DateTime<Utc>,
) -> Result<RevocationOffer, AppError> {
    let certificate = super::my_certificates::one(db, account_id, uid, now).await?;
    let (cert, _) = super::renew::own_certificate(db, account_id, uid).await?;
    let under_way = super::request::open_for_certificate(db, uid).await?;
    let (request, not_open) = match under_way {
        Some(r) if r.kind == Kind::Revoke => (Some(super::request::view(db, &r).await?), None),
        Some(_) => (None, Some(RevocationNotOpen::OtherRequest)),
        None => (None, not_open(&cert, now)),
    };
    Ok(RevocationOffer { certificate, reasons: HOLDER_REASONS.to_vec(), request, not_open })
}

/// ① 注销申请: a draft revocation request with the holder's reason. One under way for the
/// certificate is returned as it is (its reason updated while it is a draft); another kind
/// under way is refused.
#[allow(clippy::too_many_arguments)]
pub async fn start(
    db: &(impl ConnectionTrait + TransactionTrait),
    account_id: &str,
    uid: &str,
    body: &StartRevocation,
    now: DateTime<Utc>,
) -> Result<request::Model, AppError> {
    if !HOLDER_REASONS.contains(&body.reason) {
        return Err(ErrorCode::BadRevocationReason.into());
    }
    let (cert, produced_by) = super::renew::own_certificate(db, account_id, uid).await?;
    let payload = super::request::json(&RevocationPayload { reason: body.reason })?;
    if let Some(r) = super::request::open_for_certificate(db, uid).await? {
        if r.kind != Kind::Revoke {
            return Err(ErrorCode::RequestUnderWay.into());
        }
        if r.status.editable() {
            super::exec(
                db,
                "UPDATE request SET payload = $2, updated_at = $3 WHERE id = $1 AND status IN ('draft', 'rejected')",
                vec![r.id.clone().into(), payload.into(), now.into()],
            )
            .await?;
        }
        return super::request::own(db, account_id, &r.id).await;
    }
    if cert.status == REVOKED {
        return Err(ErrorCode::AlreadyRevoked.into());
    }
    if cert.not_after <= now {
        return Err(ErrorCode::CertificateNotValid.into());
    }
    let a = account::Entity::find_by_id(account_id.to_owned()).one(db).await?.ok_or(ErrorCode::NotFound)?;
    let model = request::Model {
        payload: Some(payload),
        ..super::request::draft_on_certificate(Kind::Revoke, &a, &produced_by, &cert, now)
    };
    let active: request::ActiveModel = model.clone().into();
    match request::Entity::insert(active).exec(db).await {
        Ok(_) => Ok(model),
        // Two starts at once, or another kind started meanwhile: the partial unique index
        // lets one through.
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            match super::request::open_for_certificate(db, uid).await? {
                Some(r) if r.kind == Kind::Revoke => Ok(r),
                _ => Err(ErrorCode::RequestUnderWay.into()),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// ② 身份验证 and ③ 提交审核: with both documents up and the SMS code of the phone of
/// record, the request goes to review.
pub async fn submit(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    account_id: &str,
    id: &str,
    body: &SubmitRevocation,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<request::Model, AppError> {
    let r = own_revocation(db, account_id, id).await?;
    if !r.status.editable() {
        return Err(ErrorCode::NotEditable.into());
    }
    let uid = r.from_certificate_uid.clone().unwrap_or_default();
    let (cert, _) = super::renew::own_certificate(db, account_id, &uid).await?;
    if cert.status == REVOKED {
        return Err(ErrorCode::AlreadyRevoked.into());
    }
    let uploaded: Vec<String> = request_document::Entity::find()
        .filter(request_document::Column::RequestId.eq(r.id.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|d| d.kind)
        .collect();
    let missing: Vec<FieldError> = DOCUMENTS
        .iter()
        .filter(|k| !uploaded.iter().any(|u| u == k.as_str()))
        .map(|k| FieldError { field: k.as_str().into(), error: ValidationError::Required })
        .collect();
    if !missing.is_empty() {
        return Err(AppError::Validation(missing));
    }
    super::codes::consume_for_certificate(db, &uid, CodePurpose::CertificateRevoke, &body.code, now).await?;
    let actor = audit::customer(account_id);
    super::request::submit(db, key, &r, &actor, "request_submitted", meta, now, vec![("step", 3.into())]).await?;
    super::request::own(db, account_id, id).await
}

/// On approval (in the approval's transaction): the certificate is revoked for good with
/// the holder's reason — a new CRL in the same transaction — and the request is Done. A
/// certificate revoked meanwhile (by its challenge phrase) leaves nothing to do but finish.
pub async fn approved(
    txn: &(impl ConnectionTrait + TransactionTrait),
    ca: &CaService,
    key: &AuditKey,
    actor: &str,
    r: &request::Model,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let payload: RevocationPayload = super::request::parse(&r.payload).ok_or(ErrorCode::StepMissing)?;
    let uid = r.from_certificate_uid.clone().unwrap_or_default();
    let cert = find(txn, &uid).await?;
    if cert.status != REVOKED {
        crate::ca::revoke::revoke(txn, &ca.issuing, &cert.serial, payload.reason, None).await?;
        let detail = serde_json::json!({
            "certificate": cert.uid, "reason": payload.reason.code(), "by": "request", "request": r.id
        });
        audit::append(
            txn,
            key,
            Event { actor, action: "certificate_revoked", subject: &cert.serial, ip: &meta.ip, detail },
        )
        .await?;
    }
    if !super::request::advance(txn, &r.id, Status::Approved, Transition::Fulfil, now, vec![]).await? {
        return Err(ErrorCode::NotEditable.into());
    }
    Ok(())
}
