//! 证书解锁 (seed 004 §8): a token whose PIN is locked after 10 wrong tries is opened again
//! with the portal's authorisation after an SMS check, and the user sets a new PIN.
//!
//! Who holds what: every token's unlock secret (a UKey's SO PIN, a soft shield's unlock
//! key) is random and kept only **sealed to the portal's unlock key** (see
//! `certdesk_shared::seal`), next to the public half of the token's own *unlock key*, a
//! P-256 key made on the token at personalisation that never leaves it and signs without a
//! PIN. Nobody holds a list of SO PINs in clear: not the user, who could otherwise reset a
//! PIN past the lock without us; not the agent, which only sees one while it unlocks; not our
//! database, which holds them sealed. The unlock key is derived from the server's master
//! secret (the audit key), so every server sharing the database derives the same one.
//!
//! One unlock: [`start`] gives a one-time challenge (in the ceremony table, 5 minutes). The
//! agent makes a one-time key and the *next* unlock secret, seals the next one to us, and has
//! the token sign the medium, the challenge, its one-time key and the next sealed secret.
//! [`grant`] takes the SMS code and the challenge, opens the medium's current sealed secret
//! (ours from the medium's first unlock on; before it, the copy personalisation left on the
//! token), checks the signature with the unlock key sealed inside it, and only then, in one
//! transaction, records the opened secret as spent (its SHA-256: it never opens again) and
//! keeps the next one as the medium's current secret. The secret goes back sealed to the
//! agent's one-time key; the agent replaces it on the token by the next one before it sets
//! the new PIN. A grant is good for one request of one agent, and what it carries is spent
//! by the time it is used. See ARCHITECTURE.md, "Token unlock", for what this stops and
//! what it does not.

use base64::Engine;
use certdesk_shared::account::CodePurpose;
use certdesk_shared::agent::{
    UNLOCK_KEY_LEN, UnlockChallenge, UnlockGrant, UnlockKey, UnlockToken, unlock_signed_bytes,
};
use certdesk_shared::{ErrorCode, seal};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, TransactionTrait};

use super::audit::{self, AuditKey, Event};
use super::token_challenge::{new_challenge, take_challenge};
use super::{ClientMeta, codes, exec, query_one, sql, throttle};
use crate::error::AppError;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Unlock grants per address and hour (each also spends an SMS code).
pub const PER_ADDRESS_PER_HOUR: i32 = 20;

/// The portal's unlock key, derived from the master secret.
pub fn unlock_key(key: &AuditKey) -> anyhow::Result<p256::SecretKey> {
    p256::SecretKey::from_slice(&key.derive("token unlock key v1"))
        .map_err(|_| anyhow::anyhow!("the derived unlock key is not a P-256 scalar"))
}

pub fn public_key(key: &AuditKey) -> anyhow::Result<UnlockKey> {
    Ok(UnlockKey { public_key: B64.encode(seal::public_bytes(&unlock_key(key)?.public_key())) })
}

fn refused(why: &str) -> AppError {
    tracing::info!(why, "token unlock refused");
    ErrorCode::UnlockRefused.into()
}

/// The ceremony purpose of an unlock challenge.
const PURPOSE: &str = "token_unlock";

/// A one-time challenge for the token to sign, and the key the next secret is sealed to.
pub async fn start(
    db: &impl ConnectionTrait,
    key: &AuditKey,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<UnlockChallenge, AppError> {
    let portal_key = public_key(key).map_err(AppError::Internal)?.public_key;
    let (challenge_id, challenge) = new_challenge(db, PURPOSE, meta, now).await?;
    Ok(UnlockChallenge { challenge_id, challenge, portal_key })
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Checks the SMS code, the challenge, the token's signature and the owner, spends the
/// medium's current sealed secret and keeps the next one, and answers the secret sealed to
/// the agent's one-time key.
pub async fn grant(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    req: &UnlockToken,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<UnlockGrant, AppError> {
    if !throttle::take(db, &meta.address_key("unlock"), PER_ADDRESS_PER_HOUR, chrono::Duration::hours(1), now).await? {
        return Err(ErrorCode::RateLimited.into());
    }
    codes::consume(db, &req.mobile, CodePurpose::TokenUnlock, &req.code, now).await?;
    let Some(challenge) = take_challenge(db, &req.challenge_id, PURPOSE, now).await else {
        return Err(refused("the challenge is used, expired or unknown"));
    };
    let r = &req.request;
    let medium_no = r.medium_no.trim();
    let portal = unlock_key(key).map_err(AppError::Internal)?;
    let decode = |b64: &str| B64.decode(b64.trim()).ok();
    let (Some(agent_key), Some(next), Some(signature)) =
        (decode(&r.agent_key), decode(&r.next_sealed_secret), decode(&r.signature))
    else {
        return Err(refused("not base64"));
    };
    let Some(agent) = seal::public_from_bytes(&agent_key) else {
        return Err(refused("not a P-256 public key"));
    };
    // The medium's current sealed secret: ours once it has been unlocked, else the one the
    // token carries from personalisation.
    let row =
        query_one(db, "SELECT sealed FROM token_unlock_secret WHERE medium_no = $1", vec![medium_no.into()]).await?;
    let kept = row.is_some();
    let current = match row {
        Some(row) => decode(&row.try_get::<String>("", "sealed")?),
        None => r.sealed_secret.as_deref().and_then(decode),
    };
    let Some(current) = current else {
        return Err(refused("no sealed secret for this medium"));
    };
    let Some(opened) = seal::open(&portal, medium_no.as_bytes(), &current).filter(|o| o.len() > UNLOCK_KEY_LEN) else {
        return Err(refused("the sealed secret does not open for this medium"));
    };
    let opened = zeroize::Zeroizing::new(opened);
    let (token_key, secret) = opened.split_at(UNLOCK_KEY_LEN);
    // The token itself asked, for this challenge, this one-time key and this next secret:
    // a key swapped on the way, or a request replayed, does not verify.
    let message = unlock_signed_bytes(medium_no, &challenge, &agent_key, &next);
    if ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_ASN1, token_key)
        .verify(&message, &signature)
        .is_err()
    {
        return Err(refused("not signed by the token's unlock key"));
    }
    // The next secret is sealed to us, for this medium and the same unlock key.
    if !seal::open(&portal, medium_no.as_bytes(), &next)
        .is_some_and(|n| n.len() > UNLOCK_KEY_LEN && n[..UNLOCK_KEY_LEN] == *token_key)
    {
        return Err(refused("the next sealed secret is not the token's"));
    }
    // Every valid certificate on the medium belongs to one account, and this phone is the
    // phone of record of one of them (`domain::contact`: after a 经办人变更, the new
    // operator's phone only).
    let rows = db
        .query_all(sql(
            db,
            "SELECT a.account_id AS account_id, c.uid AS uid FROM certificate c \
             JOIN request a ON a.certificate_uid = c.uid \
             WHERE c.medium_no = $1 AND c.status <> 'revoked'",
            vec![medium_no.into()],
        ))
        .await?;
    let mut owners = std::collections::BTreeSet::new();
    let mut phone_matches = false;
    for r in &rows {
        owners.insert(r.try_get::<String>("", "account_id")?);
        let uid = r.try_get::<String>("", "uid")?;
        phone_matches |= super::contact::phone_of_record(db, &uid).await? == req.mobile;
    }
    let account_id = match (owners.len(), phone_matches) {
        (1, true) => owners.into_iter().next().unwrap_or_default(),
        _ => return Err(refused("the medium's certificates are not all of the account with this phone")),
    };
    let (spent, next_sha) = (sha256_hex(&current), sha256_hex(&next));
    let txn = crate::db::begin_write(db).await?;
    // Each sealed secret opens once, on any server: the insert fails for one already spent.
    let fresh = exec(
        &txn,
        "INSERT INTO token_unlock_spent (sealed_sha256, medium_no, spent_at) VALUES ($1, $2, $3) ON CONFLICT (sealed_sha256) DO NOTHING",
        vec![spent.clone().into(), medium_no.into(), now.into()],
    )
    .await?
    .rows_affected()
        == 1;
    // The next secret replaces the one just opened, only if that is still the current one
    // (two unlocks racing: one wins).
    let replaced = if !fresh {
        false
    } else if kept {
        exec(
            &txn,
            "UPDATE token_unlock_secret SET sealed = $2, sealed_sha256 = $3, updated_at = $4 WHERE medium_no = $1 AND sealed_sha256 = $5",
            vec![medium_no.into(), B64.encode(&next).into(), next_sha.clone().into(), now.into(), spent.clone().into()],
        )
        .await?
        .rows_affected()
            == 1
    } else {
        exec(
            &txn,
            "INSERT INTO token_unlock_secret (medium_no, sealed, sealed_sha256, updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (medium_no) DO NOTHING",
            vec![medium_no.into(), B64.encode(&next).into(), next_sha.into(), now.into()],
        )
        .await?
        .rows_affected()
            == 1
    };
    if !replaced {
        txn.rollback().await?;
        return Err(refused("the sealed secret was already spent"));
    }
    audit::append(
        &txn,
        key,
        Event {
            actor: &audit::customer(&account_id),
            action: "token_unlock_granted",
            subject: medium_no,
            ip: &meta.ip,
            detail: serde_json::json!({ "mobile": req.mobile.masked(), "spent": spent }),
        },
    )
    .await?;
    let grant = seal::seal(&agent, medium_no.as_bytes(), secret)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("sealing the grant")))?;
    txn.commit().await?;
    Ok(UnlockGrant { grant: B64.encode(grant) })
}
