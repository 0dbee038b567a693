//! A one-time challenge a token signs, and the checks on what comes back: the certificate
//! is one our issuing CA signed and we recorded byte for byte, and the signature over the
//! challenge verifies with its key. UKey and PC-soft-shield sign-in and 证书校验 use them.

use base64::Engine;
use certdesk_shared::ErrorCode;
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::security_key::{keep_ceremony, take_ceremony};
use super::{ClientMeta, random_bytes};
use crate::ca::CaService;
use crate::entity::certificate;
use crate::error::AppError;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Token challenges one address may ask for in a minute (each is a row until it expires).
pub const CHALLENGES_PER_MINUTE: i32 = 30;

/// 256 random bits kept for `purpose` (single use, 5 minutes): the id and the bytes (base64).
pub async fn new_challenge(
    db: &impl ConnectionTrait,
    purpose: &str,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<(String, String), AppError> {
    if !super::throttle::take(
        db,
        &meta.address_key("challenge"),
        CHALLENGES_PER_MINUTE,
        chrono::Duration::minutes(1),
        now,
    )
    .await?
    {
        return Err(ErrorCode::RateLimited.into());
    }
    let challenge = B64.encode(random_bytes::<32>().map_err(AppError::Internal)?);
    let id = keep_ceremony(db, purpose, "customer", "", "", challenge.clone(), now).await?;
    Ok((id, challenge))
}

/// The challenge bytes kept for `purpose`, used up; `None` when used, expired or unknown.
pub async fn take_challenge(db: &impl ConnectionTrait, id: &str, purpose: &str, now: DateTime<Utc>) -> Option<Vec<u8>> {
    let ceremony = take_ceremony(db, id, purpose, "customer", now).await.ok()?;
    B64.decode(&ceremony.state).ok()
}

/// The DER of a PEM certificate.
pub fn certificate_der(pem: &str) -> Option<Vec<u8>> {
    match crate::ca::asn1::pem_decode(pem.as_bytes()) {
        Some((label, der)) if label == "CERTIFICATE" => Some(der),
        _ => None,
    }
}

/// Our record of a certificate our issuing CA signed (its signature verifies with the CA's
/// key), when the record holds the same bytes.
pub async fn recorded(
    db: &impl ConnectionTrait,
    ca: &CaService,
    der: &[u8],
    cert: &x509_parser::certificate::X509Certificate<'_>,
) -> Result<Option<certificate::Model>, AppError> {
    let (_, issuing) = x509_parser::parse_x509_certificate(&ca.issuing.cert_der)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("issuing CA: {e}")))?;
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
pub fn signed_with(cert: &x509_parser::certificate::X509Certificate<'_>, message: &[u8], signature_b64: &str) -> bool {
    let Ok(signature) = B64.decode(signature_b64.trim()) else { return false };
    let spki = cert.public_key();
    let algorithm: &dyn ring::signature::VerificationAlgorithm = match spki.algorithm.algorithm.to_id_string().as_str()
    {
        "1.2.840.10045.2.1" => &ring::signature::ECDSA_P256_SHA256_ASN1,
        "1.2.840.113549.1.1.1" => &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        _ => return false,
    };
    ring::signature::UnparsedPublicKey::new(algorithm, spki.subject_public_key.data.as_ref())
        .verify(message, &signature)
        .is_ok()
}
