//! 证书解锁 (seed 004 §8): a token whose PIN is locked after 10 wrong tries is opened again
//! with the portal's authorisation after an SMS check, and the user sets a new PIN.
//!
//! Who holds what: every token's unlock secret (a UKey's SO PIN, a soft shield's unlock
//! key) is chosen at random when the token is personalised and kept **on the token, sealed
//! to the portal's unlock key** (see `certdesk_shared::seal`). Nobody holds a list of SO
//! PINs: not the user, who could otherwise reset a PIN past the lock without us; not the
//! agent, which only ever sees one while it unlocks; not our database, which a leak would
//! turn into a master key for every token. The unlock key is derived from the server's
//! master secret (the audit key), so every server sharing the database derives the same one.
//!
//! To unlock, the agent reads the sealed secret and makes a one-time key; the page brings
//! both here with the phone of record and its SMS code. We open the secret only when the
//! code is right and the token (its medium number, bound into the sealing) carries a
//! certificate whose application has that phone (the operator's, as the seed asks, or the
//! account's user name), then seal it to the agent's one-time key.

use base64::Engine;
use certdesk_shared::account::CodePurpose;
use certdesk_shared::agent::{UnlockGrant, UnlockKey, UnlockToken};
use certdesk_shared::{ErrorCode, seal};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, TransactionTrait};

use super::audit::{self, AuditKey, Event};
use super::{ClientMeta, codes, sql, throttle};
use crate::error::AppError;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Unlock grants per address and hour (each also spends an SMS code).
pub const PER_ADDRESS_PER_HOUR: i32 = 20;

/// The portal's unlock key, derived from the master secret.
pub fn unlock_key(key: &AuditKey) -> anyhow::Result<p256::SecretKey> {
    p256::SecretKey::from_slice(&key.derive("token unlock key v1")).map_err(|_| anyhow::anyhow!("the derived unlock key is not a P-256 scalar"))
}

pub fn public_key(key: &AuditKey) -> anyhow::Result<UnlockKey> {
    Ok(UnlockKey { public_key: B64.encode(seal::public_bytes(&unlock_key(key)?.public_key())) })
}

fn refused(why: &str) -> AppError {
    tracing::info!(why, "token unlock refused");
    ErrorCode::UnlockRefused.into()
}

/// Checks the SMS code and the token, and answers the unlock secret sealed to the agent.
pub async fn grant(db: &(impl ConnectionTrait + TransactionTrait), key: &AuditKey, req: &UnlockToken, meta: &ClientMeta, now: DateTime<Utc>) -> Result<UnlockGrant, AppError> {
    if !throttle::take(db, &meta.address_key("unlock"), PER_ADDRESS_PER_HOUR, chrono::Duration::hours(1), now).await? {
        return Err(ErrorCode::RateLimited.into());
    }
    codes::consume(db, &req.mobile, CodePurpose::TokenUnlock, &req.code, now).await?;
    let medium_no = req.request.medium_no.trim();
    let portal = unlock_key(key).map_err(AppError::Internal)?;
    let Some(secret) = B64.decode(req.request.sealed_secret.trim()).ok().and_then(|s| seal::open(&portal, medium_no.as_bytes(), &s)) else {
        return Err(refused("the sealed secret does not open for this medium"));
    };
    let Some(agent) = B64.decode(req.request.agent_key.trim()).ok().and_then(|k| seal::public_from_bytes(&k)) else {
        return Err(refused("not a P-256 public key"));
    };
    // Every valid certificate on the medium belongs to one account, and this phone is that
    // account's (its user name, or an operator phone on one of its applications).
    let rows = db
        .query_all(sql(
            db,
            "SELECT a.account_id AS account_id, u.mobile AS mobile, a.operator_mobile AS operator_mobile FROM certificate c \
             JOIN application a ON a.certificate_uid = c.uid \
             JOIN account u ON u.id = a.account_id \
             WHERE c.medium_no = $1 AND c.status <> 'revoked'",
            vec![medium_no.into()],
        ))
        .await?;
    let mut owners = std::collections::BTreeSet::new();
    let mut phone_matches = false;
    for r in &rows {
        owners.insert(r.try_get::<String>("", "account_id")?);
        let phones = [r.try_get::<String>("", "mobile")?, r.try_get::<Option<String>>("", "operator_mobile")?.unwrap_or_default()];
        phone_matches |= phones.iter().any(|p| p == req.mobile.as_str());
    }
    let account_id = match (owners.len(), phone_matches) {
        (1, true) => owners.into_iter().next().unwrap_or_default(),
        _ => return Err(refused("the medium's certificates are not all of the account with this phone")),
    };
    audit::append(
        db,
        key,
        Event {
            actor: &audit::customer(&account_id),
            action: "token_unlock_granted",
            subject: medium_no,
            ip: &meta.ip,
            detail: serde_json::json!({ "mobile": req.mobile.masked() }),
        },
    )
    .await?;
    let grant = seal::seal(&agent, medium_no.as_bytes(), &secret).ok_or_else(|| AppError::Internal(anyhow::anyhow!("sealing the grant")))?;
    Ok(UnlockGrant { grant: B64.encode(grant) })
}
