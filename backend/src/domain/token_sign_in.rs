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
pub async fn start(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<(String, String), AppError> {
    let challenge = B64.encode(random_bytes::<32>().map_err(AppError::Internal)?);
    let id = keep_ceremony(db, PURPOSE, "customer", "", "", challenge.clone(), now).await?;
    Ok((id, challenge))
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
    let ceremony = take_ceremony(db, challenge_id, PURPOSE, "customer", now).await.map_err(|_| refused("challenge used, expired or unknown"))?;
    let challenge = B64.decode(&ceremony.state).map_err(|_| refused("stored challenge"))?;
    let der = match crate::ca::der::pem_decode(certificate_pem.as_bytes()) {
        Some((label, der)) if label == "CERTIFICATE" => der,
        _ => return Err(refused("not a PEM certificate")),
    };
    let (_, cert) = x509_parser::parse_x509_certificate(&der).map_err(|_| refused("not a certificate"))?;
    // Issued by our issuing CA: its signature verifies with the CA's key.
    let (_, issuing) = x509_parser::parse_x509_certificate(&ca.issuing.cert_der).map_err(|e| AppError::Internal(anyhow::anyhow!("issuing CA: {e}")))?;
    cert.verify_signature(Some(issuing.public_key())).map_err(|_| refused("not signed by our issuing CA"))?;
    // And in our records, byte for byte, valid now.
    // Stored as 32 hex digits; DER drops leading zero bytes.
    let serial = format!("{:0>32}", hex::encode(cert.raw_serial()).trim_start_matches("00"));
    let row = certificate::Entity::find()
        .filter(certificate::Column::CaId.eq(ca.issuing.id))
        .filter(certificate::Column::Serial.eq(serial))
        .one(db)
        .await?
        .ok_or_else(|| refused("unknown certificate"))?;
    if row.der != der || row.status != crate::ca::revoke::VALID || now < row.not_before || now >= row.not_after {
        return Err(refused("revoked, frozen, expired or altered"));
    }
    let signature = B64.decode(signature_b64.trim()).map_err(|_| refused("signature encoding"))?;
    let spki = cert.public_key();
    let algorithm: &dyn ring::signature::VerificationAlgorithm = match spki.algorithm.algorithm.to_id_string().as_str() {
        "1.2.840.10045.2.1" => &ring::signature::ECDSA_P256_SHA256_ASN1,
        "1.2.840.113549.1.1.1" => &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        _ => return Err(refused("key type")),
    };
    ring::signature::UnparsedPublicKey::new(algorithm, spki.subject_public_key.data.as_ref())
        .verify(&challenge, &signature)
        .map_err(|_| refused("signature does not verify"))?;
    let owner = application::Entity::find()
        .filter(application::Column::CertificateUid.eq(row.uid.clone()))
        .one(db)
        .await?
        .ok_or_else(|| refused("no application for the certificate"))?;
    let a = account::Entity::find_by_id(owner.account_id).one(db).await?.ok_or_else(|| refused("no account"))?;
    super::account::signed_in(db, key, &a, SignInMethod::Certificate, meta).await?;
    Ok(a)
}
