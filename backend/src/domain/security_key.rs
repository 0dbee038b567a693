//! Security keys and passkeys (WebAuthn, webauthn-rs): registering one, signing in with one,
//! listing and removing them. Customers and staff use the same code; staff can sign in no
//! other way. Ceremony state lives in the database (single use, five minutes), so the
//! start and the finish of a ceremony may reach different servers.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use certdesk_shared::ErrorCode;
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use webauthn_rs::prelude::{
    CreationChallengeResponse, Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, RequestChallengeResponse, Url, Uuid, Webauthn, WebauthnBuilder,
};

use super::{exec, new_id};
use crate::entity::{webauthn_challenge, webauthn_credential};
use crate::error::AppError;

pub const CEREMONY_TTL: Duration = Duration::minutes(5);

/// The relying party: the portal's public URL (its host is the RP id).
pub fn relying_party(public_url: &str) -> anyhow::Result<Webauthn> {
    let origin = Url::parse(public_url)?;
    let rp_id = match origin.host() {
        Some(url::Host::Domain(d)) => d.to_owned(),
        _ => anyhow::bail!(
            "CERTDESK_PUBLIC_URL ({public_url}) must name the portal by a host name (e.g. http://localhost:8080 or \
             https://ca.example.com): browsers refuse security keys on an IP address"
        ),
    };
    Ok(WebauthnBuilder::new(&rp_id, &origin)?.rp_name("CertDesk").build()?)
}

/// The relying party's id (the public URL's host), as sign-in challenges name it.
pub fn rp_id(wa: &Webauthn) -> String {
    wa.get_allowed_origins().first().and_then(|o| o.host_str()).unwrap_or("localhost").to_owned()
}

fn failed<E: std::fmt::Debug>(e: E) -> AppError {
    tracing::info!(error = ?e, "WebAuthn ceremony refused");
    ErrorCode::SecurityKeyFailed.into()
}

fn user_uuid(id: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(id).map_err(|e| AppError::Internal(e.into()))
}

async fn passkeys(
    db: &impl ConnectionTrait,
    owner_id: &str,
) -> Result<Vec<(webauthn_credential::Model, Passkey)>, AppError> {
    let rows = webauthn_credential::Entity::find()
        .filter(webauthn_credential::Column::OwnerId.eq(owner_id))
        .order_by_asc(webauthn_credential::Column::CreatedAt)
        .all(db)
        .await?;
    rows.into_iter()
        .map(|r| {
            let p: Passkey = serde_json::from_str(&r.passkey).map_err(|e| AppError::Internal(e.into()))?;
            Ok((r, p))
        })
        .collect()
}

pub(crate) async fn keep_ceremony(
    db: &impl ConnectionTrait,
    purpose: &str,
    owner_kind: &str,
    owner_id: &str,
    name: &str,
    state: String,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    exec(db, "DELETE FROM webauthn_challenge WHERE expires_at < $1", vec![now.into()]).await?;
    let id = new_id();
    webauthn_challenge::Entity::insert(webauthn_challenge::ActiveModel {
        id: Set(id.clone()),
        purpose: Set(purpose.to_owned()),
        owner_kind: Set(owner_kind.to_owned()),
        owner_id: Set(owner_id.to_owned()),
        name: Set(name.chars().take(60).collect()),
        state: Set(state),
        expires_at: Set(now + CEREMONY_TTL),
    })
    .exec(db)
    .await?;
    Ok(id)
}

/// Takes a ceremony out of the table: it works once.
pub(crate) async fn take_ceremony(
    db: &impl ConnectionTrait,
    id: &str,
    purpose: &str,
    owner_kind: &str,
    now: DateTime<Utc>,
) -> Result<webauthn_challenge::Model, AppError> {
    let row = webauthn_challenge::Entity::find_by_id(id.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| failed("no such ceremony"))?;
    let taken = exec(db, "DELETE FROM webauthn_challenge WHERE id = $1", vec![id.into()]).await?.rows_affected() == 1;
    if !taken || row.purpose != purpose || row.owner_kind != owner_kind || row.expires_at <= now {
        return Err(failed("ceremony used, expired or of another kind"));
    }
    Ok(row)
}

/// Starts registering a key for an owner; their existing keys are excluded.
#[allow(clippy::too_many_arguments)]
pub async fn start_registration(
    db: &impl ConnectionTrait,
    wa: &Webauthn,
    owner_kind: &str,
    owner_id: &str,
    user_name: &str,
    display_name: &str,
    key_name: &str,
    now: DateTime<Utc>,
) -> Result<(String, CreationChallengeResponse), AppError> {
    let existing: Vec<_> = passkeys(db, owner_id).await?.into_iter().map(|(_, p)| p.cred_id().clone()).collect();
    let (options, state) =
        wa.start_passkey_registration(user_uuid(owner_id)?, user_name, display_name, Some(existing)).map_err(failed)?;
    let state = serde_json::to_string(&state).map_err(|e| AppError::Internal(e.into()))?;
    let id = keep_ceremony(db, "register", owner_kind, owner_id, key_name, state, now).await?;
    Ok((id, options))
}

/// Finishes a registration and stores the key under the name given at the start.
#[allow(clippy::too_many_arguments)]
pub async fn finish_registration(
    db: &impl ConnectionTrait,
    wa: &Webauthn,
    owner_kind: &str,
    owner_id: &str,
    challenge_id: &str,
    credential: &RegisterPublicKeyCredential,
    now: DateTime<Utc>,
) -> Result<webauthn_credential::Model, AppError> {
    let row = take_ceremony(db, challenge_id, "register", owner_kind, now).await?;
    if row.owner_id != owner_id {
        return Err(failed("ceremony of another owner"));
    }
    let state: PasskeyRegistration = serde_json::from_str(&row.state).map_err(|e| AppError::Internal(e.into()))?;
    let passkey = wa.finish_passkey_registration(credential, &state).map_err(failed)?;
    let model = webauthn_credential::Model {
        id: new_id(),
        owner_kind: owner_kind.to_owned(),
        owner_id: owner_id.to_owned(),
        credential_id: URL_SAFE_NO_PAD.encode(passkey.cred_id()),
        passkey: serde_json::to_string(&passkey).map_err(|e| AppError::Internal(e.into()))?,
        name: row.name.clone(),
        created_at: now,
        last_used_at: None,
    };
    let active: webauthn_credential::ActiveModel = model.clone().into();
    webauthn_credential::Entity::insert(active).exec(db).await.map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => failed("credential registered already"),
        _ => e.into(),
    })?;
    Ok(model)
}

/// Security-key sign-ins one address may start in a minute, customers' and staff's apart.
pub const STARTS_PER_ADDRESS_PER_MINUTE: i32 = 30;

/// Starts a sign-in for an owner. With no owner or no keys it answers a decoy challenge that
/// looks the same (one credential id derived from the user name under a server secret, so
/// it is stable and unguessable), so the answer does not tell whether the account exists or
/// has keys; finishing it always fails.
#[allow(clippy::too_many_arguments)]
pub async fn start_authentication(
    db: &impl ConnectionTrait,
    meta: &super::ClientMeta,
    wa: &Webauthn,
    rp_id: &str,
    owner_kind: &str,
    owner: Option<&str>,
    user_name: &str,
    decoy_secret: &[u8; 32],
    now: DateTime<Utc>,
) -> Result<(String, RequestChallengeResponse), AppError> {
    // Each start is a row until it expires: counted per address (an IPv6 /64).
    if !super::throttle::take(
        db,
        &meta.address_key(&format!("key_sign_in:{owner_kind}")),
        STARTS_PER_ADDRESS_PER_MINUTE,
        chrono::Duration::minutes(1),
        now,
    )
    .await?
    {
        return Err(ErrorCode::RateLimited.into());
    }
    let keys = match owner {
        Some(id) => passkeys(db, id).await?.into_iter().map(|(_, p)| p).collect(),
        None => Vec::new(),
    };
    if keys.is_empty() {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(decoy_secret)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
        mac.update(owner_kind.as_bytes());
        mac.update(b"\0");
        mac.update(user_name.as_bytes());
        let decoy_id = mac.finalize().into_bytes();
        let options: RequestChallengeResponse = serde_json::from_value(serde_json::json!({
            "publicKey": {
                "challenge": URL_SAFE_NO_PAD.encode(super::random_bytes::<32>()?),
                "timeout": 300000,
                "rpId": rp_id,
                "allowCredentials": [{ "type": "public-key", "id": URL_SAFE_NO_PAD.encode(decoy_id) }],
                "userVerification": "required"
            }
        }))
        .map_err(|e| AppError::Internal(e.into()))?;
        let id = keep_ceremony(db, "decoy", owner_kind, "", "", String::new(), now).await?;
        return Ok((id, options));
    }
    let (options, state) = wa.start_passkey_authentication(&keys).map_err(failed)?;
    let state = serde_json::to_string(&state).map_err(|e| AppError::Internal(e.into()))?;
    let id = keep_ceremony(db, "authenticate", owner_kind, owner.unwrap_or_default(), "", state, now).await?;
    Ok((id, options))
}

/// Finishes a sign-in; returns the owner's id. The key's counter is kept.
pub async fn finish_authentication(
    db: &impl ConnectionTrait,
    wa: &Webauthn,
    owner_kind: &str,
    challenge_id: &str,
    credential: &PublicKeyCredential,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let row = take_ceremony(db, challenge_id, "authenticate", owner_kind, now).await?;
    let state: PasskeyAuthentication = serde_json::from_str(&row.state).map_err(|e| AppError::Internal(e.into()))?;
    let result = wa.finish_passkey_authentication(credential, &state).map_err(failed)?;
    let cred_id = URL_SAFE_NO_PAD.encode(result.cred_id());
    let stored = webauthn_credential::Entity::find()
        .filter(webauthn_credential::Column::CredentialId.eq(cred_id))
        .filter(webauthn_credential::Column::OwnerId.eq(row.owner_id.clone()))
        .one(db)
        .await?
        .ok_or_else(|| failed("credential not stored"))?;
    let mut passkey: Passkey = serde_json::from_str(&stored.passkey).map_err(|e| AppError::Internal(e.into()))?;
    passkey.update_credential(&result);
    let mut active: webauthn_credential::ActiveModel = stored.into();
    active.passkey = Set(serde_json::to_string(&passkey).map_err(|e| AppError::Internal(e.into()))?);
    active.last_used_at = Set(Some(now));
    webauthn_credential::Entity::update(active).exec(db).await?;
    Ok(row.owner_id)
}

pub async fn list(db: &impl ConnectionTrait, owner_id: &str) -> Result<Vec<webauthn_credential::Model>, AppError> {
    Ok(passkeys(db, owner_id).await?.into_iter().map(|(r, _)| r).collect())
}

/// Removes one of the owner's keys; another owner's key is "not found".
/// Removes one of the owner's keys; answers what was removed.
pub async fn remove(
    db: &impl ConnectionTrait,
    owner_id: &str,
    id: &str,
) -> Result<webauthn_credential::Model, AppError> {
    let row = webauthn_credential::Entity::find()
        .filter(webauthn_credential::Column::Id.eq(id))
        .filter(webauthn_credential::Column::OwnerId.eq(owner_id))
        .one(db)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    let n =
        exec(db, "DELETE FROM webauthn_credential WHERE id = $1 AND owner_id = $2", vec![id.into(), owner_id.into()])
            .await?
            .rows_affected();
    if n == 1 { Ok(row) } else { Err(ErrorCode::NotFound.into()) }
}
