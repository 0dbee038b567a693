//! Renewal (证书延期, seed 004 §4): a request of kind `renew` that starts from a valid
//! certificate in its last 90 days and produces its successor: the same subject and profile,
//! a new key pair made on the same token, valid until the old end plus the period bought
//! (never beyond the issuing CA's end).
//!
//! ① [`start`] picks the period (price from the catalogue); ② scan-to-pay customers pay the
//! request like any other (`domain::payment`), settlement customers skip it; [`submit`]
//! sends it to staff review when the certificate type says so, or the system approves it at
//! once (recorded as such); ③ [`issue`] signs the token's CSR (Approved → Issued, the new
//! certificate stored), and [`finish`], called once the new certificate is on the token,
//! revokes the old one as superseded (Issued → Done) in one transaction. Until `finish`,
//! the old certificate stays valid: a crash between the two leaves a request in Issued that
//! the holder's next visit completes — [`issue`] again hands back the same certificate for
//! the same key, and `finish` is idempotent — so the holder never ends with two valid
//! certificates or none.

use certdesk_shared::ErrorCode;
use certdesk_shared::apply::{Medium, ValidityOption};
use certdesk_shared::certificate::CertificateProfile;
use certdesk_shared::renew::{NotOpen, RenewalCsr, RenewalOffer, StartRenewal, WINDOW_DAYS};
use certdesk_shared::request::RenewalPeriod;
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, SqlErr, TransactionTrait};

use super::ClientMeta;
use super::audit::{self, AuditKey, Event};
use super::request::{Transition, advance, json, own, renewal_period};
use crate::ca::CaService;
use crate::entity::request::{self, Kind, Status};
use crate::entity::{account, catalogue_type, catalogue_validity, certificate};
use crate::error::AppError;
use crate::notify::Notifier;
use certdesk_shared::Named;

/// The account's own certificate; anyone else's is "not found". A certificate belongs to the
/// account whose request produced it (a 新办, or a renewal of one of its certificates).
pub async fn own_certificate(
    db: &impl ConnectionTrait,
    account_id: &str,
    uid: &str,
) -> Result<(certificate::Model, request::Model), AppError> {
    let produced_by = request::Entity::find()
        .filter(request::Column::CertificateUid.eq(uid))
        .filter(request::Column::AccountId.eq(account_id))
        .one(db)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    let cert = certificate::Entity::find()
        .filter(certificate::Column::Uid.eq(uid))
        .one(db)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    Ok((cert, produced_by))
}

/// The account's own renewal request; anything else is "not found".
async fn own_renewal(db: &impl ConnectionTrait, account_id: &str, id: &str) -> Result<request::Model, AppError> {
    let r = own(db, account_id, id).await?;
    if r.kind != Kind::Renew {
        return Err(ErrorCode::NotFound.into());
    }
    Ok(r)
}

/// Whether a renewal may start now, and if not, why.
pub fn not_open(cert: &certificate::Model, now: DateTime<Utc>) -> Option<NotOpen> {
    if cert.status != crate::ca::revoke::VALID || cert.not_after <= now {
        Some(NotOpen::NotValid)
    } else if now < opens_at(cert) {
        Some(NotOpen::TooEarly)
    } else {
        None
    }
}

pub fn opens_at(cert: &certificate::Model) -> DateTime<Utc> {
    cert.not_after - Duration::days(WINDOW_DAYS)
}

fn refusal(n: NotOpen) -> AppError {
    match n {
        NotOpen::TooEarly => ErrorCode::RenewalNotOpen.into(),
        NotOpen::NotValid => ErrorCode::CertificateNotValid.into(),
    }
}

/// The renewal under way for a certificate (at most one: a partial unique index).
async fn open_request(db: &impl ConnectionTrait, uid: &str) -> Result<Option<request::Model>, AppError> {
    Ok(request::Entity::find()
        .filter(request::Column::FromCertificateUid.eq(uid))
        .filter(request::Column::Kind.eq(Kind::Renew))
        .filter(request::Column::Status.is_in([
            Status::Draft,
            Status::Submitted,
            Status::Rejected,
            Status::Resubmitted,
            Status::Approved,
            Status::Issued,
        ]))
        .order_by_desc(request::Column::CreatedAt)
        .one(db)
        .await?)
}

async fn type_of(db: &impl ConnectionTrait, produced_by: &request::Model) -> Result<catalogue_type::Model, AppError> {
    catalogue_type::Entity::find_by_id(produced_by.type_id.clone().unwrap_or_default())
        .one(db)
        .await?
        .ok_or_else(|| ErrorCode::NotFound.into())
}

async fn periods(db: &impl ConnectionTrait, type_id: &str) -> Result<Vec<catalogue_validity::Model>, AppError> {
    Ok(catalogue_validity::Entity::find()
        .filter(catalogue_validity::Column::TypeId.eq(type_id))
        .order_by_asc(catalogue_validity::Column::Position)
        .all(db)
        .await?)
}

/// `GET /api/renew/{uid}`: what renewing this certificate means now.
pub async fn offer(
    db: &impl ConnectionTrait,
    account_id: &str,
    uid: &str,
    now: DateTime<Utc>,
) -> Result<RenewalOffer, AppError> {
    let (cert, produced_by) = own_certificate(db, account_id, uid).await?;
    let t = type_of(db, &produced_by).await?;
    let a = account::Entity::find_by_id(account_id.to_owned()).one(db).await?.ok_or(ErrorCode::NotFound)?;
    let under_way = open_request(db, uid).await?;
    let request = match &under_way {
        Some(r) => Some(super::request::view(db, r).await?),
        None => None,
    };
    Ok(RenewalOffer {
        certificate_uid: cert.uid.clone(),
        common_name: cert.subject.clone(),
        profile: CertificateProfile::parse(&cert.profile).ok_or(ErrorCode::NotFound)?,
        type_name: t.name.clone(),
        medium: produced_by.medium.as_deref().and_then(Medium::parse),
        medium_no: cert.medium_no.clone(),
        serial: cert.serial.clone(),
        not_before: cert.not_before.to_rfc3339(),
        not_after: cert.not_after.to_rfc3339(),
        opens_at: opens_at(&cert).to_rfc3339(),
        // A renewal under way goes on even if the certificate has just left its window.
        not_open: if under_way.is_some() { None } else { not_open(&cert, now) },
        periods: periods(db, &t.id)
            .await?
            .into_iter()
            .map(|v| ValidityOption { id: v.id, years: v.years.max(0) as u32, price_fen: v.price_fen })
            .collect(),
        billing: super::request::billing_of(&a.billing_mode),
        review: t.renewal_review,
        request,
    })
}

/// ① 延期申请: a renewal request for the chosen period, at its catalogue price. A renewal
/// already under way for the certificate is returned as it is (a second click, a retry).
pub async fn start(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    account_id: &str,
    uid: &str,
    body: &StartRenewal,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<request::Model, AppError> {
    let (cert, produced_by) = own_certificate(db, account_id, uid).await?;
    if let Some(r) = open_request(db, uid).await? {
        return Ok(r);
    }
    if let Some(n) = not_open(&cert, now) {
        return Err(refusal(n));
    }
    let t = type_of(db, &produced_by).await?;
    let period = periods(db, &t.id).await?.into_iter().find(|v| v.id == body.validity_id).ok_or_else(|| {
        AppError::Validation(vec![certdesk_shared::FieldError {
            field: "validity_id".into(),
            error: certdesk_shared::ValidationError::OutOfRange,
        }])
    })?;
    let a = account::Entity::find_by_id(account_id.to_owned()).one(db).await?.ok_or(ErrorCode::NotFound)?;
    let model = request::Model {
        type_id: Some(t.id.clone()),
        price_fen: Some(period.price_fen),
        payload: Some(json(&RenewalPeriod { validity_id: period.id.clone(), years: period.years })?),
        // The holder's challenge phrase (撤销密码) goes on with the certificate it protects.
        challenge_hash: produced_by.challenge_hash.clone(),
        ..super::request::draft_on_certificate(Kind::Renew, &a, &produced_by, &cert, now)
    };
    let active: request::ActiveModel = model.clone().into();
    match request::Entity::insert(active).exec(db).await {
        Ok(_) => {}
        // Two starts at once: the partial unique index lets one through.
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            return open_request(db, uid).await?.ok_or_else(|| ErrorCode::NotEditable.into());
        }
        Err(e) => return Err(e.into()),
    }
    if model.billing_mode == certdesk_shared::apply::BillingMode::Settlement.as_str() {
        // 大客户统一结算: nothing to pay now, straight on.
        return submit(db, key, account_id, &model.id, meta, now).await;
    }
    Ok(model)
}

/// Sends a paid (or settlement) renewal on: to staff review when its certificate type says
/// so, otherwise approved by the system at once.
pub async fn submit(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    account_id: &str,
    id: &str,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<request::Model, AppError> {
    let r = own_renewal(db, account_id, id).await?;
    if !r.status.editable() {
        return Err(ErrorCode::NotEditable.into());
    }
    let uid = r.from_certificate_uid.clone().unwrap_or_default();
    let (cert, produced_by) = own_certificate(db, account_id, &uid).await?;
    if let Some(NotOpen::NotValid) = not_open(&cert, now) {
        return Err(ErrorCode::CertificateNotValid.into());
    }
    if r.billing_mode != certdesk_shared::apply::BillingMode::Settlement.as_str()
        && !super::payment::is_paid(db, &r).await?
    {
        return Err(ErrorCode::PaymentRequired.into());
    }
    let actor = audit::customer(account_id);
    super::request::submit(db, key, &r, &actor, "request_submitted", meta, now, vec![("step", 2.into())]).await?;
    let t = type_of(db, &produced_by).await?;
    if !t.renewal_review {
        let r = own(db, account_id, id).await?;
        let txn = crate::db::begin_write(db).await?;
        if advance(&txn, &r.id, r.status, Transition::Approve, now, vec![("decided_at", now.into())]).await? {
            let number = r.acceptance_no.clone().unwrap_or_default();
            let detail = serde_json::json!({ "request": r.id, "kind": "renew", "review": "not required" });
            audit::append(
                &txn,
                key,
                Event { actor: audit::SYSTEM, action: "request_approved", subject: &number, ip: &meta.ip, detail },
            )
            .await?;
        }
        txn.commit().await?;
    }
    own(db, account_id, id).await
}

/// The token holding a certificate: its medium number must be the one the new key was
/// made on.
pub(crate) fn same_token(cert: &certificate::Model, medium_no: &str) -> Result<(), AppError> {
    match cert.medium_no.as_deref() {
        Some(m) if m == medium_no.trim() => Ok(()),
        _ => Err(ErrorCode::WrongMedium.into()),
    }
}

/// ③ 证书下载: signs the CSR of a new key pair made on the token that holds the certificate
/// renewed (Approved → Issued). Again for a request already Issued (the holder came back
/// after a crash), it hands back the certificate issued for that key, or, for a key made
/// anew, revokes the unfinished one and issues for the new key, so that at most one
/// successor exists.
#[allow(clippy::too_many_arguments)]
pub async fn issue(
    db: &(impl ConnectionTrait + TransactionTrait),
    ca: &CaService,
    key: &AuditKey,
    account_id: &str,
    id: &str,
    body: &RenewalCsr,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<certificate::Model, AppError> {
    let r = own_renewal(db, account_id, id).await?;
    let period = renewal_period(&r).ok_or(ErrorCode::StepMissing)?;
    let uid = r.from_certificate_uid.clone().unwrap_or_default();
    let (old, _) = own_certificate(db, account_id, &uid).await?;
    same_token(&old, &body.medium_no)?;
    if old.status != crate::ca::revoke::VALID {
        return Err(ErrorCode::CertificateNotValid.into());
    }
    let profile = CertificateProfile::parse(&old.profile).ok_or(ErrorCode::NotFound)?;
    let txn = crate::db::begin_write(db).await?;
    if let Some(same) = super::request::claim_issuance(&txn, ca, &r, &body.csr_pem, None, now).await? {
        return Ok(same);
    }
    let until = old.not_after + Duration::days(365 * i64::from(period.years.max(1)));
    let req =
        crate::ca::issue::RenewRequest { profile, renewed: &old.der, csr: body.csr_pem.as_bytes(), not_after: until };
    let issued = crate::ca::issue::issue_renewal(&txn, ca, &req).await?;
    super::contact::carry_over(&txn, &old.uid, &issued.uid, now).await?;
    let detail = serde_json::json!({
        "request": r.id, "kind": "renew", "certificate": issued.uid, "serial": issued.serial, "renews": old.serial
    });
    super::request::record_successor(
        db,
        txn,
        key,
        &r,
        &issued.uid,
        3,
        old.email.clone(),
        old.medium_no.clone(),
        detail,
        meta,
    )
    .await
}

/// Once the new certificate is on the token: the old one is revoked as superseded and the
/// request is Done, in one transaction. Done already: nothing to do.
#[allow(clippy::too_many_arguments)]
pub async fn finish(
    db: &(impl ConnectionTrait + TransactionTrait),
    ca: &CaService,
    key: &AuditKey,
    notifier: &Notifier,
    account_id: &str,
    id: &str,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<request::Model, AppError> {
    let r = own_renewal(db, account_id, id).await?;
    super::request::finish_successor(db, Some(ca), key, notifier, r, meta, now).await
}
