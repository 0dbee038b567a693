//! UKey and PC-soft-shield sign-in (seed 004 §4.1.2, §5.1.2, §4.2.2): the page asks for a
//! challenge (256 random bits, single use, valid 5 minutes), the token agent signs it with
//! a certificate's key after the PIN, and the server checks that the certificate is one our
//! issuing CA issued (its signature, and the same bytes in our records), valid now and
//! neither revoked nor frozen, and that the signature over the challenge verifies with its
//! key. The account is the one whose application the certificate was issued for. Every
//! refusal is the same `sign_in_failed`.

use base64::Engine;
use certdesk_shared::ErrorCode;
use certdesk_shared::account::{FinishCertificateSignIn, SignInMethod};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::audit::AuditKey;
use super::security_key::{keep_ceremony, take_ceremony};
use super::{ClientMeta, random_bytes};
use crate::ca::CaService;
use crate::entity::{account, application, certificate};
use crate::error::AppError;

const PURPOSE: &str = "certificate_sign_in";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn refused(why: &str) -> AppError {
    tracing::info!(why, "certificate sign-in refused");
    ErrorCode::SignInFailed.into()
}

/// A new challenge: its id and the bytes to sign (base64).
pub async fn start(db: &impl ConnectionTrait, meta: &ClientMeta, now: DateTime<Utc>) -> Result<(String, String), AppError> {
    new_challenge(db, PURPOSE, meta, now).await
}

/// Token challenges one address may ask for in a minute (each is a row until it expires).
pub const CHALLENGES_PER_MINUTE: i32 = 30;

/// 256 random bits kept for `purpose` (single use, 5 minutes): the id and the bytes (base64).
pub(crate) async fn new_challenge(db: &impl ConnectionTrait, purpose: &str, meta: &ClientMeta, now: DateTime<Utc>) -> Result<(String, String), AppError> {
    let bucket = super::throttle::address_bucket(&meta.ip);
    if !super::throttle::take(db, &format!("challenge:ip:{bucket}"), CHALLENGES_PER_MINUTE, chrono::Duration::minutes(1), now).await? {
        return Err(ErrorCode::RateLimited.into());
    }
    let challenge = B64.encode(random_bytes::<32>().map_err(AppError::Internal)?);
    let id = keep_ceremony(db, purpose, "customer", "", "", challenge.clone(), now).await?;
    Ok((id, challenge))
}

/// The challenge bytes kept for `purpose`, used up; `None` when used, expired or unknown.
pub(crate) async fn take_challenge(db: &impl ConnectionTrait, id: &str, purpose: &str, now: DateTime<Utc>) -> Option<Vec<u8>> {
    let ceremony = take_ceremony(db, id, purpose, "customer", now).await.ok()?;
    B64.decode(&ceremony.state).ok()
}

/// The DER of a PEM certificate.
pub(crate) fn certificate_der(pem: &str) -> Option<Vec<u8>> {
    match crate::ca::der::pem_decode(pem.as_bytes()) {
        Some((label, der)) if label == "CERTIFICATE" => Some(der),
        _ => None,
    }
}

/// Our record of a certificate our issuing CA signed (its signature verifies with the CA's
/// key), when the record holds the same bytes.
pub(crate) async fn recorded(
    db: &impl ConnectionTrait,
    ca: &CaService,
    der: &[u8],
    cert: &x509_parser::certificate::X509Certificate<'_>,
) -> Result<Option<certificate::Model>, AppError> {
    let (_, issuing) = x509_parser::parse_x509_certificate(&ca.issuing.cert_der).map_err(|e| AppError::Internal(anyhow::anyhow!("issuing CA: {e}")))?;
    if cert.verify_signature(Some(issuing.public_key())).is_err() {
        return Ok(None);
    }
    // Stored as 32 hex digits; DER drops leading zero bytes.
    let serial = format!("{:0>32}", hex::encode(cert.raw_serial()).trim_start_matches("00"));
    let row = certificate::Entity::find()
        .filter(certificate::Column::CaId.eq(ca.issuing.id))
        .filter(certificate::Column::Serial.eq(serial))
        .one(db)
        .await?;
    Ok(row.filter(|r| r.der == der))
}

/// Whether `signature_b64` is the certificate key's signature over `message` (ECDSA P-256
/// or RSA PKCS#1 v1.5, SHA-256).
pub(crate) fn signed_with(cert: &x509_parser::certificate::X509Certificate<'_>, message: &[u8], signature_b64: &str) -> bool {
    let Ok(signature) = B64.decode(signature_b64.trim()) else { return false };
    let spki = cert.public_key();
    let algorithm: &dyn ring::signature::VerificationAlgorithm = match spki.algorithm.algorithm.to_id_string().as_str() {
        "1.2.840.10045.2.1" => &ring::signature::ECDSA_P256_SHA256_ASN1,
        "1.2.840.113549.1.1.1" => &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        _ => return false,
    };
    ring::signature::UnparsedPublicKey::new(algorithm, spki.subject_public_key.data.as_ref()).verify(message, &signature).is_ok()
}

/// Checks the signed challenge and answers the account to sign in.
pub async fn finish(
    db: &impl ConnectionTrait,
    key: &AuditKey,
    ca: &CaService,
    signed: &FinishCertificateSignIn,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<account::Model, AppError> {
    let FinishCertificateSignIn { challenge_id, certificate_pem, signature: signature_b64 } = signed;
    let challenge = take_challenge(db, challenge_id, PURPOSE, now).await.ok_or_else(|| refused("challenge used, expired or unknown"))?;
    let der = certificate_der(certificate_pem).ok_or_else(|| refused("not a PEM certificate"))?;
    let (_, cert) = x509_parser::parse_x509_certificate(&der).map_err(|_| refused("not a certificate"))?;
    // Issued by our issuing CA, and in our records byte for byte, valid now.
    let row = recorded(db, ca, &der, &cert).await?.ok_or_else(|| refused("not ours"))?;
    if row.status != crate::ca::revoke::VALID || now < row.not_before || now >= row.not_after {
        return Err(refused("revoked, frozen or expired"));
    }
    if !signed_with(&cert, &challenge, signature_b64) {
        return Err(refused("signature does not verify"));
    }
    let owner = application::Entity::find()
        .filter(application::Column::CertificateUid.eq(row.uid.clone()))
        .one(db)
        .await?
        .ok_or_else(|| refused("no application for the certificate"))?;
    let a = account::Entity::find_by_id(owner.account_id).one(db).await?.ok_or_else(|| refused("no account"))?;
    super::account::signed_in(db, key, &a, SignInMethod::Certificate, meta).await?;
    Ok(a)
}
