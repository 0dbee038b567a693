//! 证书撤销 by its holder without signing in (seed 000): the challenge phrase (撤销密码)
//! chosen when applying and a reason from RFC 5280's list; the CA revokes at once, with a new
//! CRL in the same transaction. Wrong phrases are slowed per certificate and address, per
//! certificate, and per address, so nobody can lock the holder out.

use certdesk_shared::ErrorCode;
use certdesk_shared::directory::{CertificateDetail, HOLDER_REASONS, SelfRevocation};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait};

use super::ClientMeta;
use super::audit::{self, AuditKey, Event};
use super::directory::{detail_of, find};
use super::throttle::{Counters, Policy};
use crate::ca::CaService;
use crate::ca::revoke::REVOKED;
use crate::entity::request;
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
    let right = super::password::verify(stored, phrase).await.map_err(AppError::Internal)?;
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
    let txn = db.begin().await?;
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
