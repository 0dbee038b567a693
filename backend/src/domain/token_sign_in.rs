//! UKey and PC-soft-shield sign-in (seed 004 §4.1.2, §5.1.2, §4.2.2): the page asks for a
//! challenge (256 random bits, single use, valid 5 minutes), the token agent signs it with
//! a certificate's key after the PIN, and the server checks that the certificate is one our
//! issuing CA issued (its signature, and the same bytes in our records), valid now and
//! neither revoked nor frozen, and that the signature over the challenge verifies with its
//! key. The account is the one whose application the certificate was issued for. Every
//! refusal is the same `sign_in_failed`.

use certdesk_shared::ErrorCode;
use certdesk_shared::account::{FinishCertificateSignIn, SignInMethod};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait};

use super::ClientMeta;
use super::audit::AuditKey;
use super::token_challenge::{certificate_der, new_challenge, recorded, signed_with, take_challenge};
use crate::ca::CaService;
use crate::entity::{account, request};
use crate::error::AppError;

const PURPOSE: &str = "certificate_sign_in";

fn refused(why: &str) -> AppError {
    tracing::info!(why, "certificate sign-in refused");
    ErrorCode::SignInFailed.into()
}

/// A new challenge: its id and the bytes to sign (base64).
pub async fn start(
    db: &impl ConnectionTrait,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<(String, String), AppError> {
    new_challenge(db, PURPOSE, meta, now).await
}

/// Checks the signed challenge and answers the account to sign in.
pub async fn finish(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    ca: &CaService,
    signed: &FinishCertificateSignIn,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<account::Model, AppError> {
    let FinishCertificateSignIn { challenge_id, certificate_pem, signature: signature_b64 } = signed;
    let challenge = take_challenge(db, challenge_id, PURPOSE, now)
        .await
        .ok_or_else(|| refused("challenge used, expired or unknown"))?;
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
    let owner = request::Entity::find()
        .filter(request::Column::CertificateUid.eq(row.uid.clone()))
        .one(db)
        .await?
        .ok_or_else(|| refused("no application for the certificate"))?;
    let a = account::Entity::find_by_id(owner.account_id).one(db).await?.ok_or_else(|| refused("no account"))?;
    super::account::signed_in(db, key, &a, SignInMethod::Certificate, meta).await?;
    Ok(a)
}
