//! 证书校验 (seed 004 §10): the certificate read from the user's token, checked as a relying
//! party would and each check reported: the chain (our issuing CA's signature under our
//! root, and our record of it), the validity period, revocation as our OCSP responder
//! signs it, and possession of the key by a signature over a fresh challenge.

use certdesk_shared::ValidationError;
use certdesk_shared::directory::{CheckOutcome, CheckResult, VerificationCheck, VerificationReport, VerifyCertificate};
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

use super::token_challenge::{certificate_der, new_challenge, recorded, signed_with, take_challenge};
use crate::ca::CaService;
use crate::ca::ocsp::{self, Asked};
use crate::error::AppError;

const PURPOSE: &str = "certificate_verification";

/// A challenge for the token to sign: its id and the bytes (base64).
pub async fn start(
    db: &impl ConnectionTrait,
    meta: &crate::domain::ClientMeta,
    now: DateTime<Utc>,
) -> Result<(String, String), AppError> {
    new_challenge(db, PURPOSE, meta, now).await
}

fn check(check: VerificationCheck, outcome: CheckOutcome) -> CheckResult {
    CheckResult { check, passed: matches!(outcome, CheckOutcome::Passed | CheckOutcome::Good), outcome }
}

/// Runs every check, whatever the earlier ones found. Only input that is not a certificate
/// at all is refused.
pub async fn verify(
    db: &impl ConnectionTrait,
    ca: &CaService,
    req: &VerifyCertificate,
    now: DateTime<Utc>,
) -> Result<VerificationReport, AppError> {
    // The challenge is used up first, so one signature answers one verification.
    let challenge = take_challenge(db, &req.challenge_id, PURPOSE, now).await;
    // What the agent read from the token is not a certificate: the field says so.
    let not_a_certificate = || AppError::field("certificate_pem", ValidationError::CertificateFormat);
    let der = certificate_der(&req.certificate_pem).ok_or_else(not_a_certificate)?;
    let (_, cert) = x509_parser::parse_x509_certificate(&der).map_err(|_| not_a_certificate())?;

    let chain = match recorded(db, ca, &der, &cert).await? {
        Some(_) => CheckOutcome::Passed,
        None => CheckOutcome::NotOurs,
    };
    let (not_before, not_after) = (cert.validity().not_before.timestamp(), cert.validity().not_after.timestamp());
    let validity = match now.timestamp() {
        t if t < not_before => CheckOutcome::NotYetValid,
        t if t > not_after => CheckOutcome::Expired,
        _ => CheckOutcome::Passed,
    };
    let revocation = match ocsp::ask(db, ca, &der).await.map_err(AppError::Internal)? {
        Some(Asked::Good) => CheckOutcome::Good,
        Some(Asked::Revoked) => CheckOutcome::Revoked,
        Some(Asked::Unknown) | None => CheckOutcome::Unknown,
    };
    let possession = match challenge {
        Some(c) if signed_with(&cert, &c, &req.signature) => CheckOutcome::Passed,
        _ => CheckOutcome::SignatureInvalid,
    };
    let checks = vec![
        check(VerificationCheck::Chain, chain),
        check(VerificationCheck::Validity, validity),
        check(VerificationCheck::Revocation, revocation),
        check(VerificationCheck::Possession, possession),
    ];
    let time = |t: i64| DateTime::from_timestamp(t, 0).map(|d| d.to_rfc3339()).unwrap_or_default();
    Ok(VerificationReport {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        serial: hex::encode(cert.raw_serial()),
        not_before: time(not_before),
        not_after: time(not_after),
        passed: checks.iter().all(|c| c.passed),
        checks,
    })
}
