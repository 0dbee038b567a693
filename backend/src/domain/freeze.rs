//! 冻结 / 解冻 (seed 002 §2.2): a frozen certificate is on hold (RFC 5280 certificateHold),
//! listed in its CRL and answered revoked by OCSP until unfrozen.
//!
//! The holder freezes from 我的证书 at once ([`freeze`]), and unfreezes ([`unfreeze`]) with
//! the SMS code of the phone of record — only what a holder froze, and not while a request is
//! under way for it (a token reported lost stays frozen until its 补办 is done). Staff freeze
//! and unfreeze any certificate with a comment ([`staff_freeze`], [`staff_unfreeze`]); a
//! certificate staff froze only staff unfreeze. Who froze it is kept beside the status
//! (`certificate.frozen_by`), written in the transaction that changes the status, with its
//! audit row.

use certdesk_shared::account::CodePurpose;
use certdesk_shared::freeze::{FrozenBy, StaffFreeze, Unfreeze};
use certdesk_shared::my_certificates::MyCertificate;
use certdesk_shared::revoke::MAX_COMMENT_CHARS;
use certdesk_shared::{ErrorCode, FieldError, ValidationError};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, TransactionTrait};

use super::ClientMeta;
use super::audit::{self, AuditKey, Event};
use crate::ca::CaService;
use crate::ca::revoke::{HOLD, REVOKED};
use crate::entity::{certificate, staff};
use crate::error::AppError;
use certdesk_shared::Named;

/// The change of status and who made it, with its audit row, in one transaction.
#[allow(clippy::too_many_arguments)]
async fn change(
    db: &(impl ConnectionTrait + TransactionTrait),
    ca: &CaService,
    key: &AuditKey,
    cert: &certificate::Model,
    freeze: bool,
    by: FrozenBy,
    actor: &str,
    comment: Option<&str>,
    meta: &ClientMeta,
) -> Result<(), AppError> {
    let txn = crate::db::begin_write(db).await?;
    if freeze {
        crate::ca::revoke::hold(&txn, &ca.issuing, &cert.serial).await?;
    } else {
        crate::ca::revoke::release(&txn, &ca.issuing, &cert.serial).await?;
    }
    super::exec(
        &txn,
        "UPDATE certificate SET frozen_by = $2 WHERE id = $1",
        vec![cert.id.into(), freeze.then(|| by.as_str().to_owned()).into()],
    )
    .await?;
    let action = if freeze { "certificate_frozen" } else { "certificate_unfrozen" };
    let detail = serde_json::json!({ "certificate": cert.uid, "by": by.as_str(), "comment": comment });
    audit::append(&txn, key, Event { actor, action, subject: &cert.serial, ip: &meta.ip, detail }).await?;
    txn.commit().await?;
    crate::ca::ocsp::status_changed();
    Ok(())
}

/// 冻结 by the holder: at once, for a valid certificate of theirs. Frozen already: as it is.
pub async fn freeze(
    db: &(impl ConnectionTrait + TransactionTrait),
    ca: &CaService,
    key: &AuditKey,
    account_id: &str,
    uid: &str,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<MyCertificate, AppError> {
    let (cert, _) = super::renew::own_certificate(db, account_id, uid).await?;
    if cert.status != HOLD {
        if cert.status == REVOKED || cert.not_after <= now {
            return Err(ErrorCode::CertificateNotValid.into());
        }
        change(db, ca, key, &cert, true, FrozenBy::Holder, &audit::customer(account_id), None, meta).await?;
    }
    super::my_certificates::one(db, account_id, uid, now).await
}

/// 解冻 by the holder, with the code sent to the phone of record (purpose
/// `certificate_release`): only what a holder froze, and not while a request is under way.
#[allow(clippy::too_many_arguments)]
pub async fn unfreeze(
    db: &(impl ConnectionTrait + TransactionTrait),
    ca: &CaService,
    key: &AuditKey,
    account_id: &str,
    uid: &str,
    body: &Unfreeze,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<MyCertificate, AppError> {
    let (cert, _) = super::renew::own_certificate(db, account_id, uid).await?;
    if cert.status != HOLD {
        return Err(ErrorCode::NotOnHold.into());
    }
    if cert.frozen_by.as_deref() == Some(FrozenBy::Staff.as_str()) {
        return Err(ErrorCode::FrozenByStaff.into());
    }
    if super::request::open_for_certificate(db, uid).await?.is_some() {
        return Err(ErrorCode::RequestUnderWay.into());
    }
    super::codes::consume_for_certificate(db, uid, CodePurpose::CertificateRelease, &body.code, now).await?;
    change(db, ca, key, &cert, false, FrozenBy::Holder, &audit::customer(account_id), None, meta).await?;
    super::my_certificates::one(db, account_id, uid, now).await
}

/// A staff comment: required, at most [`MAX_COMMENT_CHARS`].
pub fn comment_of(s: &str) -> Result<String, AppError> {
    let c = s.trim();
    let error = if c.is_empty() {
        ValidationError::Required
    } else if c.chars().count() > MAX_COMMENT_CHARS {
        ValidationError::TooLong
    } else {
        return Ok(c.to_owned());
    };
    Err(AppError::Validation(vec![FieldError { field: "comment".into(), error }]))
}

/// 冻结 by staff, with a comment; only staff unfreeze it.
pub async fn staff_freeze(
    db: &(impl ConnectionTrait + TransactionTrait),
    ca: &CaService,
    key: &AuditKey,
    member: &staff::Model,
    uid: &str,
    body: &StaffFreeze,
    meta: &ClientMeta,
) -> Result<(), AppError> {
    let comment = comment_of(&body.comment)?;
    let cert = super::directory::find(db, uid).await?;
    if cert.status != crate::ca::revoke::VALID {
        return Err(ErrorCode::NotValid.into());
    }
    change(db, ca, key, &cert, true, FrozenBy::Staff, &audit::staff(&member.id), Some(&comment), meta).await
}

/// 解冻 by staff, with a comment: whoever froze it.
pub async fn staff_unfreeze(
    db: &(impl ConnectionTrait + TransactionTrait),
    ca: &CaService,
    key: &AuditKey,
    member: &staff::Model,
    uid: &str,
    body: &StaffFreeze,
    meta: &ClientMeta,
) -> Result<(), AppError> {
    let comment = comment_of(&body.comment)?;
    let cert = super::directory::find(db, uid).await?;
    if cert.status != HOLD {
        return Err(ErrorCode::NotOnHold.into());
    }
    change(db, ca, key, &cert, false, FrozenBy::Staff, &audit::staff(&member.id), Some(&comment), meta).await
}
