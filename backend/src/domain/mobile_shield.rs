//! The mobile shield (移动软盾, issue 15): 远程下载 into the phone app ([`enrol`]), the PIN the
//! server counts ([`challenge`], [`unseal`], [`change_pin`]), 证书解锁 by the SMS code of the
//! phone of record ([`unlock_code`], [`unlock`]), disabling a lost phone ([`disable`] from
//! 我的证书, [`disable_code`] and [`disable_by_code`] without signing in) and [`status`].
//!
//! The phone keeps its key sealed under a secret only this table holds; a right PIN releases
//! the secret for one use. Wrong PINs are counted by one conditional UPDATE, so every server
//! agrees on the count: the 10th in a row locks the shield. See ARCHITECTURE.md, "The mobile
//! shield (移动软盾) and APP扫码登录", for the threat model.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use certdesk_shared::account::CodePurpose;
use certdesk_shared::apply::Medium;
use certdesk_shared::my_certificates::MyCertificate;
use certdesk_shared::shield::{
    CODE_ALPHABET, PIN_TRIES, PinOutcome, ShieldChallenge, ShieldChangePin, ShieldCodeSent, ShieldDevice,
    ShieldDisableByCode, ShieldEnrol, ShieldEnrolled, ShieldRenew, ShieldRenewFinish, ShieldRenewal, ShieldRenewed,
    ShieldState, ShieldStatus, ShieldUnlock, ShieldUnseal, renewal_message,
};
use certdesk_shared::shield_keys::pin_proof_verifies;
use certdesk_shared::{ErrorCode, FieldError, ValidationError};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};

use super::audit::{self, AuditKey, Event};
use super::security_key::{CEREMONY_TTL, keep_ceremony, take_ceremony};
use super::{ClientMeta, codes, exec, query_one, random_bytes, sha256_hex, throttle};
use crate::ca::CaService;
use crate::entity::mobile_shield::{self, State};
use crate::entity::{certificate, request};
use crate::error::AppError;
use crate::notify::Notifier;
use certdesk_shared::Named;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The ceremony purpose and owner kind of a PIN challenge (bound to its shield).
const PIN_PURPOSE: &str = "shield_pin";
const OWNER_KIND: &str = "shield";

/// How long a PIN challenge answers (the ceremony row itself lives [`CEREMONY_TTL`]).
const CHALLENGE_LIFE: Duration = Duration::minutes(2);

/// 证书解锁 and disabling by SMS: tries per address and hour.
const CODE_USES_PER_ADDRESS_PER_HOUR: i32 = 20;

/// `len` random characters of Crockford's base32.
pub(crate) fn crockford(len: usize) -> Result<String, AppError> {
    let bytes = random_bytes::<16>().map_err(AppError::Internal)?;
    Ok(bytes.iter().take(len).map(|b| char::from(CODE_ALPHABET[usize::from(b & 31)])).collect())
}

/// A new shield's number: `MS` and 10 Crockford characters (also its certificate's medium
/// number).
fn new_shield_id() -> Result<String, AppError> {
    Ok(format!("MS{}", crockford(10)?))
}

fn invalid(field: &str) -> AppError {
    AppError::Validation(vec![FieldError { field: field.into(), error: ValidationError::OutOfRange }])
}

/// 32 bytes in base64, or the field's error.
fn key32(field: &str, text: &str) -> Result<Vec<u8>, AppError> {
    B64.decode(text.trim()).ok().filter(|k| k.len() == 32).ok_or_else(|| invalid(field))
}

/// The cipher the shield secrets are kept under: its key is derived from the master secret
/// (the audit key, outside the database), so a copy of the database alone holds no secret.
fn secret_cipher(key: &AuditKey) -> Aes256Gcm {
    Aes256Gcm::new(&key.derive("mobile shield secret v1").into())
}

/// A shield secret as the database keeps it: base64 of a nonce and AES-256-GCM, bound to
/// the shield's id.
fn keep_secret(key: &AuditKey, id: &str, secret: &[u8]) -> Result<String, AppError> {
    let nonce = random_bytes::<12>().map_err(AppError::Internal)?;
    let sealed = secret_cipher(key)
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: secret, aad: id.as_bytes() })
        .map_err(|_| AppError::Internal(anyhow::anyhow!("sealing a shield secret")))?;
    Ok(B64.encode([nonce.as_slice(), &sealed].concat()))
}

/// The shield secret (base64) the database keeps sealed.
fn kept_secret(key: &AuditKey, s: &mobile_shield::Model) -> Result<String, AppError> {
    let unreadable = || AppError::Internal(anyhow::anyhow!("a stored shield secret does not open"));
    let bytes = B64.decode(&s.secret).map_err(|_| unreadable())?;
    if bytes.len() < 12 {
        return Err(unreadable());
    }
    let (nonce, sealed) = bytes.split_at(12);
    let secret = secret_cipher(key)
        .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: s.id.as_bytes() })
        .map_err(|_| unreadable())?;
    Ok(B64.encode(secret))
}

fn device_hash(device_key: &[u8]) -> String {
    sha256_hex(&[b"shield device key", device_key])
}

/// The shield's event in the audit trail, as its holder's, with its certificate.
async fn record(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    s: &mobile_shield::Model,
    action: &str,
    meta: &ClientMeta,
    detail: serde_json::Value,
) -> Result<(), AppError> {
    let mut d = serde_json::json!({ "certificate": s.certificate_uid });
    if let (Some(d), serde_json::Value::Object(more)) = (d.as_object_mut(), detail) {
        d.extend(more);
    }
    audit::append(
        db,
        key,
        Event { actor: &audit::customer(&s.account_id), action, subject: &s.id, ip: &meta.ip, detail: d },
    )
    .await?;
    Ok(())
}

/// 远程下载 into the phone app: the application named by its acceptance number and
/// authorization code (the token download's checks) must have chosen the mobile shield; its
/// certificate is issued for the phone's CSR onto a new shield, in one transaction, and the
/// shield secret is answered this once.
pub async fn enrol(
    db: &(impl ConnectionTrait + TransactionTrait),
    ca: &CaService,
    key: &AuditKey,
    req: &ShieldEnrol,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<ShieldEnrolled, AppError> {
    let device_key = key32("device_key", &req.device_key)?;
    key32("pin_key", &req.pin_key)?;
    let authorized = super::download::authorized_download(db, &req.acceptance_no, &req.auth_code, meta, now).await?;
    if super::download::chosen_medium(&authorized.app)? != Medium::MobileShield {
        return Err(ErrorCode::MediumMismatch.into());
    }
    let id = new_shield_id()?;
    let secret = random_bytes::<32>().map_err(AppError::Internal)?;
    let kept = keep_secret(key, &id, &secret)?;
    let signed = super::download::sign_for(ca, &authorized, req.csr_pem.as_bytes())?;
    let txn = crate::db::begin_write(db).await?;
    let issued = super::download::issue_in(&txn, key, &authorized, signed, Some(&id), meta, now).await?;
    let row = mobile_shield::ActiveModel {
        id: Set(id.clone()),
        certificate_uid: Set(issued.uid.clone()),
        account_id: Set(authorized.app.account_id.clone()),
        device_key_hash: Set(device_hash(&device_key)),
        pin_key: Set(req.pin_key.trim().to_owned()),
        secret: Set(kept),
        failures: Set(0),
        state: Set(State::Active),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let row = mobile_shield::Entity::insert(row).exec_with_returning(&txn).await?;
    record(&txn, key, &row, "shield_enrolled", meta, serde_json::json!({ "serial": issued.serial })).await?;
    txn.commit().await?;
    Ok(ShieldEnrolled {
        shield_id: id,
        uid: issued.uid,
        certificate_pem: crate::ca::asn1::pem("CERTIFICATE", &issued.der)?,
        secret: B64.encode(secret),
    })
}

/// The shield named, when the device key is its own; anything else is "not found".
pub(crate) async fn device(
    db: &impl ConnectionTrait,
    shield_id: &str,
    device_key: &str,
) -> Result<mobile_shield::Model, AppError> {
    let given = B64.decode(device_key.trim()).map_err(|_| ErrorCode::NotFound)?;
    let s = mobile_shield::Entity::find_by_id(shield_id.trim().to_owned()).one(db).await?.ok_or(ErrorCode::NotFound)?;
    if !super::same(&s.device_key_hash, &device_hash(&given)) {
        return Err(ErrorCode::NotFound.into());
    }
    Ok(s)
}

/// The shield named by its phone, when its PIN can be used now (neither locked nor disabled).
pub(crate) async fn usable(
    db: &impl ConnectionTrait,
    shield_id: &str,
    device_key: &str,
) -> Result<mobile_shield::Model, AppError> {
    let s = device(db, shield_id, device_key).await?;
    match s.state {
        State::Active => Ok(s),
        State::Locked => Err(ErrorCode::ShieldLocked.into()),
        State::Disabled => Err(ErrorCode::ShieldDisabled.into()),
    }
}

/// The shield, unless it is disabled.
fn not_disabled(s: mobile_shield::Model) -> Result<mobile_shield::Model, AppError> {
    if s.state == State::Disabled { Err(ErrorCode::ShieldDisabled.into()) } else { Ok(s) }
}

/// A PIN challenge for the shield: 256 random bits, single use, 2 minutes.
pub async fn challenge(
    db: &impl ConnectionTrait,
    req: &ShieldDevice,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<ShieldChallenge, AppError> {
    let s = not_disabled(device(db, &req.shield_id, &req.device_key).await?)?;
    let limit = super::token_challenge::CHALLENGES_PER_MINUTE;
    if !throttle::take(db, &meta.address_key("challenge"), limit, Duration::minutes(1), now).await? {
        return Err(ErrorCode::RateLimited.into());
    }
    let challenge = B64.encode(random_bytes::<32>().map_err(AppError::Internal)?);
    let challenge_id = keep_ceremony(db, PIN_PURPOSE, OWNER_KIND, &s.id, "", challenge.clone(), now).await?;
    Ok(ShieldChallenge { challenge_id, challenge })
}

/// The challenge's bytes, used up: asked for this shield, less than 2 minutes ago.
async fn take_pin_challenge(
    db: &impl ConnectionTrait,
    s: &mobile_shield::Model,
    challenge_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<u8>, AppError> {
    let row = take_ceremony(db, challenge_id, PIN_PURPOSE, OWNER_KIND, now).await.map_err(|_| ErrorCode::NotFound)?;
    let fresh = row.expires_at - CEREMONY_TTL + CHALLENGE_LIFE > now;
    if row.owner_id != s.id || !fresh {
        return Err(ErrorCode::NotFound.into());
    }
    B64.decode(&row.state).map_err(|_| ErrorCode::NotFound.into())
}

/// The shield's state now, as a PIN answer: locked, or the refusal of a disabled shield.
async fn reread(db: &impl ConnectionTrait, id: &str) -> Result<PinOutcome, AppError> {
    let s = mobile_shield::Entity::find_by_id(id.to_owned()).one(db).await?.ok_or(ErrorCode::NotFound)?;
    match s.state {
        State::Disabled => Err(ErrorCode::ShieldDisabled.into()),
        // Active again meanwhile (证书解锁 on another server): this proof is spent, ask again.
        State::Locked | State::Active => Ok(PinOutcome::Locked),
    }
}

/// Checks a PIN proof over a challenge of this shield and counts it: a right PIN resets the
/// count and releases the secret, a wrong one counts (the 10th in a row locks), a locked
/// shield answers locked whatever the PIN.
async fn check_pin(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    s: &mobile_shield::Model,
    challenge_id: &str,
    proof: &str,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<PinOutcome, AppError> {
    let challenge = take_pin_challenge(db, s, challenge_id, now).await?;
    if s.state == State::Locked {
        return Ok(PinOutcome::Locked);
    }
    let pin_key = B64.decode(&s.pin_key).map_err(|_| AppError::Internal(anyhow::anyhow!("a stored PIN key")))?;
    if pin_proof_verifies(&pin_key, &challenge, proof) {
        let opened = exec(
            db,
            "UPDATE mobile_shield SET failures = 0, updated_at = $2 WHERE id = $1 AND state = 'active'",
            vec![s.id.clone().into(), now.into()],
        )
        .await?
        .rows_affected()
            == 1;
        if !opened {
            return reread(db, &s.id).await;
        }
        record(db, key, s, "shield_unsealed", meta, serde_json::json!({})).await?;
        return Ok(PinOutcome::Opened { secret: kept_secret(key, s)? });
    }
    // One statement counts and locks, so that two servers (or two requests) never both
    // read 9 and write 10.
    let counted = query_one(
        db,
        "UPDATE mobile_shield SET failures = failures + 1, \
         state = CASE WHEN failures + 1 >= $2 THEN 'locked' ELSE state END, updated_at = $3 \
         WHERE id = $1 AND state = 'active' RETURNING failures, state",
        vec![s.id.clone().into(), i32::try_from(PIN_TRIES).unwrap_or(10).into(), now.into()],
    )
    .await?;
    let Some(row) = counted else {
        return reread(db, &s.id).await;
    };
    let failures = u32::try_from(row.try_get::<i32>("", "failures")?).unwrap_or(PIN_TRIES);
    let locked = row.try_get::<String>("", "state")? == "locked";
    record(
        db,
        key,
        s,
        if locked { "shield_locked" } else { "shield_pin_wrong" },
        meta,
        serde_json::json!({ "failures": failures }),
    )
    .await?;
    Ok(if locked {
        PinOutcome::Locked
    } else {
        PinOutcome::WrongPin { tries_left: PIN_TRIES.saturating_sub(failures) }
    })
}

/// The PIN's proof: the shield secret for this use, or the tries left, or locked.
pub async fn unseal(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    req: &ShieldUnseal,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<PinOutcome, AppError> {
    let s = not_disabled(device(db, &req.shield_id, &req.device_key).await?)?;
    check_pin(db, key, &s, &req.challenge_id, &req.proof, meta, now).await
}

/// 修改PIN码: the old PIN's proof counts as an unseal does; when it is right the new PIN key
/// replaces the old one.
pub async fn change_pin(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    req: &ShieldChangePin,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<PinOutcome, AppError> {
    key32("new_pin_key", &req.new_pin_key)?;
    let s = not_disabled(device(db, &req.shield_id, &req.device_key).await?)?;
    let outcome = check_pin(db, key, &s, &req.challenge_id, &req.proof, meta, now).await?;
    if matches!(outcome, PinOutcome::Opened { .. }) {
        let changed = exec(
            db,
            "UPDATE mobile_shield SET pin_key = $2, updated_at = $3 WHERE id = $1 AND state = 'active'",
            vec![s.id.clone().into(), req.new_pin_key.trim().into(), now.into()],
        )
        .await?
        .rows_affected()
            == 1;
        if !changed {
            return reread(db, &s.id).await;
        }
        record(db, key, &s, "shield_pin_changed", meta, serde_json::json!({})).await?;
    }
    Ok(outcome)
}

/// 证书解锁, first step: an SMS code to the phone of record of the shield's certificate.
pub async fn unlock_code(
    db: &(impl ConnectionTrait + TransactionTrait),
    notifier: &Notifier,
    key: &AuditKey,
    req: &ShieldDevice,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<ShieldCodeSent, AppError> {
    let s = not_disabled(device(db, &req.shield_id, &req.device_key).await?)?;
    let mobile =
        codes::send_for_shield(db, notifier, key, &s.certificate_uid, CodePurpose::ShieldUnlock, meta, now).await?;
    Ok(ShieldCodeSent { masked_mobile: mobile.masked() })
}

/// 证书解锁: with the SMS code, the count starts again, the shield is active and the new PIN
/// key replaces the old one. A disabled shield stays disabled.
pub async fn unlock(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    req: &ShieldUnlock,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<ShieldStatus, AppError> {
    key32("new_pin_key", &req.new_pin_key)?;
    let s = not_disabled(device(db, &req.shield_id, &req.device_key).await?)?;
    let limit = CODE_USES_PER_ADDRESS_PER_HOUR;
    if !throttle::take(db, &meta.address_key("shield_unlock"), limit, Duration::hours(1), now).await? {
        return Err(ErrorCode::RateLimited.into());
    }
    codes::consume_for_certificate(db, &s.certificate_uid, CodePurpose::ShieldUnlock, &req.code, now).await?;
    let unlocked = exec(
        db,
        "UPDATE mobile_shield SET failures = 0, state = 'active', pin_key = $2, updated_at = $3 \
         WHERE id = $1 AND state <> 'disabled'",
        vec![s.id.clone().into(), req.new_pin_key.trim().into(), now.into()],
    )
    .await?
    .rows_affected()
        == 1;
    if !unlocked {
        return Err(ErrorCode::ShieldDisabled.into());
    }
    record(db, key, &s, "shield_unlocked", meta, serde_json::json!({ "was": ShieldState::from(s.state).as_str() }))
        .await?;
    status_of(db, &s.id).await
}

/// Disables every shield of a certificate (final): how many were not disabled yet.
async fn disable_all(db: &impl ConnectionTrait, uid: &str, now: DateTime<Utc>) -> Result<u64, AppError> {
    Ok(exec(
        db,
        "UPDATE mobile_shield SET state = 'disabled', updated_at = $2 WHERE certificate_uid = $1 AND state <> 'disabled'",
        vec![uid.into(), now.into()],
    )
    .await?
    .rows_affected())
}

/// The newest shield of a certificate.
async fn of_certificate(db: &impl ConnectionTrait, uid: &str) -> Result<Option<mobile_shield::Model>, AppError> {
    Ok(mobile_shield::Entity::find()
        .filter(mobile_shield::Column::CertificateUid.eq(uid))
        .order_by_desc(mobile_shield::Column::CreatedAt)
        .one(db)
        .await?)
}

/// The state of the certificate's mobile shield, for 我的证书; `None` when it has none.
pub async fn state_of(db: &impl ConnectionTrait, uid: &str) -> Result<Option<ShieldState>, AppError> {
    Ok(of_certificate(db, uid).await?.map(|s| s.state.into()))
}

/// The lost phone, from 我的证书: the signed-in holder disables the shield of their own
/// certificate (another account's is not found).
pub async fn disable(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    account_id: &str,
    uid: &str,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<MyCertificate, AppError> {
    // The holder's own certificate, by the same rule as 冻结 and 延期.
    super::renew::own_certificate(db, account_id, uid).await?;
    let s = of_certificate(db, uid).await?.ok_or(ErrorCode::NotFound)?;
    if disable_all(db, uid, now).await? > 0 {
        record(db, key, &s, "shield_disabled", meta, serde_json::json!({ "by": "holder" })).await?;
    }
    super::my_certificates::one(db, account_id, uid, now).await
}

/// The certificate named by the acceptance number of the request that produced it, and its
/// shield, when it has one that is not disabled yet.
async fn by_acceptance_no(
    db: &impl ConnectionTrait,
    acceptance_no: &str,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<mobile_shield::Model, AppError> {
    let limit = CODE_USES_PER_ADDRESS_PER_HOUR;
    if !throttle::take(db, &meta.address_key("shield_disable"), limit, Duration::hours(1), now).await? {
        return Err(ErrorCode::RateLimited.into());
    }
    let produced = request::Entity::find()
        .filter(request::Column::AcceptanceNo.eq(acceptance_no.trim()))
        .filter(request::Column::CertificateUid.is_not_null())
        .one(db)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    let uid = produced.certificate_uid.unwrap_or_default();
    of_certificate(db, &uid).await?.filter(|s| s.state != State::Disabled).ok_or_else(|| ErrorCode::NotFound.into())
}

/// The lost phone, without signing in, first step: an SMS code to the phone of record of the
/// certificate the acceptance number produced.
pub async fn disable_code(
    db: &(impl ConnectionTrait + TransactionTrait),
    notifier: &Notifier,
    key: &AuditKey,
    req: &ShieldDisableByCode,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<ShieldCodeSent, AppError> {
    let s = by_acceptance_no(db, &req.acceptance_no, meta, now).await?;
    let mobile =
        codes::send_for_shield(db, notifier, key, &s.certificate_uid, CodePurpose::ShieldDisable, meta, now).await?;
    Ok(ShieldCodeSent { masked_mobile: mobile.masked() })
}

/// The lost phone, without signing in: with the SMS code, the certificate's shield is
/// disabled for good.
pub async fn disable_by_code(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    req: &ShieldDisableByCode,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let code = req.code.as_ref().ok_or_else(|| {
        AppError::Validation(vec![FieldError { field: "code".into(), error: ValidationError::Required }])
    })?;
    let s = by_acceptance_no(db, &req.acceptance_no, meta, now).await?;
    codes::consume_for_certificate(db, &s.certificate_uid, CodePurpose::ShieldDisable, code, now).await?;
    if disable_all(db, &s.certificate_uid, now).await? > 0 {
        audit::append(
            db,
            key,
            Event {
                actor: audit::ANONYMOUS,
                action: "shield_disabled",
                subject: &s.id,
                ip: &meta.ip,
                detail: serde_json::json!({ "certificate": s.certificate_uid, "by": "sms_code" }),
            },
        )
        .await?;
    }
    Ok(())
}

/// The renewal (延期) of the shield's certificate that waits for the app: approved, or issued
/// and not finished (then the shield may already be on the renewed certificate).
async fn waiting_renewal(
    db: &impl ConnectionTrait,
    s: &mobile_shield::Model,
) -> Result<Option<request::Model>, AppError> {
    Ok(request::Entity::find()
        .filter(request::Column::Kind.eq(request::Kind::Renew))
        .filter(request::Column::AccountId.eq(s.account_id.clone()))
        .filter(
            Condition::any()
                .add(request::Column::FromCertificateUid.eq(s.certificate_uid.clone()))
                .add(request::Column::CertificateUid.eq(s.certificate_uid.clone())),
        )
        .filter(request::Column::Status.is_in([request::Status::Approved, request::Status::Issued]))
        .order_by_desc(request::Column::CreatedAt)
        .one(db)
        .await?)
}

/// 证书更新(延期) in the app: the renewal's certificate for a key made on the phone. The
/// current certificate's key signs the CSR over [`renewal_message`] (the app opened it with
/// the PIN, which the server counted), so a stolen device key alone renews nothing. The
/// issuance is the portal's (`renew::issue`): same subject, the same medium number (the
/// shield), at most one successor however often it is asked.
pub async fn renew(
    db: &(impl ConnectionTrait + TransactionTrait),
    ca: &CaService,
    key: &AuditKey,
    req: &ShieldRenew,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<ShieldRenewed, AppError> {
    let s = usable(db, &req.shield_id, &req.device_key).await?;
    let r = waiting_renewal(db, &s)
        .await?
        .filter(|r| {
            r.id == req.request_id.trim() && r.from_certificate_uid.as_deref() == Some(s.certificate_uid.as_str())
        })
        .ok_or(ErrorCode::NotFound)?;
    let current = certificate::Entity::find()
        .filter(certificate::Column::Uid.eq(s.certificate_uid.clone()))
        .one(db)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    let (_, cert) = x509_parser::parse_x509_certificate(&current.der)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("a stored certificate: {e}")))?;
    if !super::token_challenge::signed_with(&cert, &renewal_message(&s.id, &r.id, &req.csr_pem), &req.signature) {
        return Err(ErrorCode::Forbidden.into());
    }
    let body = certdesk_shared::renew::RenewalCsr { csr_pem: req.csr_pem.clone(), medium_no: s.id.clone() };
    let issued = super::renew::issue(db, ca, key, &s.account_id, &r.id, &body, meta, now).await?;
    let detail = serde_json::json!({ "request": r.id, "renewed": issued.uid, "serial": issued.serial });
    record(db, key, &s, "shield_renewal_issued", meta, detail).await?;
    Ok(ShieldRenewed { uid: issued.uid, certificate_pem: crate::ca::asn1::pem("CERTIFICATE", &issued.der)? })
}

/// The renewed certificate is stored on the phone: the shield moves to it, then the renewal is
/// finished (the old certificate superseded, the request Done). Asked again, it moves nothing
/// and finishes nothing twice.
#[allow(clippy::too_many_arguments)]
pub async fn finish_renewal(
    db: &(impl ConnectionTrait + TransactionTrait),
    ca: &CaService,
    key: &AuditKey,
    notifier: &Notifier,
    req: &ShieldRenewFinish,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<ShieldStatus, AppError> {
    let s = not_disabled(device(db, &req.shield_id, &req.device_key).await?)?;
    let r = request::Entity::find_by_id(req.request_id.trim().to_owned())
        .filter(request::Column::Kind.eq(request::Kind::Renew))
        .filter(request::Column::AccountId.eq(s.account_id.clone()))
        .one(db)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    let (old, new) = (r.from_certificate_uid.clone().unwrap_or_default(), r.certificate_uid.clone());
    let Some(new) = new else { return Err(ErrorCode::StepMissing.into()) };
    if s.certificate_uid != old && s.certificate_uid != new {
        return Err(ErrorCode::NotFound.into());
    }
    let moved = exec(
        db,
        "UPDATE mobile_shield SET certificate_uid = $2, updated_at = $4 WHERE id = $1 AND certificate_uid = $3",
        vec![s.id.clone().into(), new.clone().into(), old.clone().into(), now.into()],
    )
    .await?
    .rows_affected()
        == 1;
    super::renew::finish(db, ca, key, notifier, &s.account_id, &r.id, meta, now).await?;
    if moved {
        let detail = serde_json::json!({ "request": r.id, "renewed": old, "certificate": new });
        record(db, key, &s, "shield_renewed", meta, detail).await?;
    }
    status_of(db, &s.id).await
}

async fn status_of(db: &impl ConnectionTrait, id: &str) -> Result<ShieldStatus, AppError> {
    let s = mobile_shield::Entity::find_by_id(id.to_owned()).one(db).await?.ok_or(ErrorCode::NotFound)?;
    view(db, &s).await
}

async fn view(db: &impl ConnectionTrait, s: &mobile_shield::Model) -> Result<ShieldStatus, AppError> {
    let renewal = match s.state {
        State::Disabled => None,
        State::Active | State::Locked => waiting_renewal(db, s).await?.map(|r| ShieldRenewal {
            years: super::request::renewal_period(&r).map_or(1, |p| u32::try_from(p.years).unwrap_or(1)),
            request_id: r.id,
            acceptance_no: r.acceptance_no,
        }),
    };
    Ok(ShieldStatus {
        shield_id: s.id.clone(),
        uid: s.certificate_uid.clone(),
        state: s.state.into(),
        tries_left: PIN_TRIES.saturating_sub(u32::try_from(s.failures).unwrap_or(PIN_TRIES)),
        renewal,
    })
}

/// What the app shows next to the certificate (a disabled shield answers too).
pub async fn status(db: &impl ConnectionTrait, req: &ShieldDevice) -> Result<ShieldStatus, AppError> {
    view(db, &device(db, &req.shield_id, &req.device_key).await?).await
}
