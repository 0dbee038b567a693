//! Revocation (注销) with an RFC 5280 reason and invalidity date, freezing (冻结, certificate
//! hold) and unfreezing, and the full CRL of each CA, regenerated after every change and on
//! a timer. CRL numbers only grow: the next one is taken from the database row.

use anyhow::Context;
use certdesk_shared::ErrorCode;
use certdesk_shared::certificate::RevocationReason;
use chrono::{DateTime, Duration, DurationRound, Utc};
use rcgen::{CertificateRevocationListParams, Issuer, KeyIdMethod, RevokedCertParams, SerialNumber};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QuerySelect, Set,
    TransactionTrait, sea_query::OnConflict,
};

use super::signer::RcgenKey;
use super::{Authority, to_offset};
use crate::entity::{ca_authority, certificate, crl};
use crate::error::AppError;

/// How long a CRL is valid; a new one is made well before (see `CRL_REFRESH`).
pub const CRL_VALIDITY: Duration = Duration::days(7);
/// The timer regenerates CRLs older than this.
pub const CRL_REFRESH: Duration = Duration::hours(24);

pub const VALID: &str = "valid";
pub const REVOKED: &str = "revoked";
pub const HOLD: &str = "hold";

fn rcgen_reason(r: RevocationReason) -> rcgen::RevocationReason {
    use rcgen::RevocationReason as R;
    match r {
        RevocationReason::Unspecified => R::Unspecified,
        RevocationReason::KeyCompromise => R::KeyCompromise,
        RevocationReason::CaCompromise => R::CaCompromise,
        RevocationReason::AffiliationChanged => R::AffiliationChanged,
        RevocationReason::Superseded => R::Superseded,
        RevocationReason::CessationOfOperation => R::CessationOfOperation,
        RevocationReason::CertificateHold => R::CertificateHold,
        RevocationReason::PrivilegeWithdrawn => R::PrivilegeWithdrawn,
        RevocationReason::AaCompromise => R::AaCompromise,
    }
}

async fn find(db: &impl ConnectionTrait, ca: &Authority, serial: &str) -> Result<certificate::Model, AppError> {
    certificate::Entity::find()
        .filter(certificate::Column::CaId.eq(ca.id))
        .filter(certificate::Column::Serial.eq(serial.to_ascii_lowercase()))
        .one(db)
        .await?
        .ok_or(AppError::Code(ErrorCode::NotFound))
}

/// Revokes for good. A frozen certificate can be revoked; a revoked one cannot change.
/// `certificate_hold` is not a revocation reason here: freezing is [`hold`].
pub async fn revoke(
    db: &(impl ConnectionTrait + TransactionTrait),
    ca: &Authority,
    serial: &str,
    reason: RevocationReason,
    invalidity_date: Option<DateTime<Utc>>,
) -> Result<(), AppError> {
    if reason == RevocationReason::CertificateHold {
        return Err(ErrorCode::BadRevocationReason.into());
    }
    let cert = find(db, ca, serial).await?;
    if cert.status == REVOKED {
        return Err(ErrorCode::AlreadyRevoked.into());
    }
    let now = Utc::now();
    if invalidity_date.is_some_and(|d| d > now) {
        return Err(ErrorCode::BadInvalidityDate.into());
    }
    let mut m = cert.into_active_model();
    m.status = Set(REVOKED.to_owned());
    m.revoked_at = Set(Some(now));
    m.reason = Set(Some(i16::from(reason.code())));
    m.invalidity_date = Set(invalidity_date);
    m.update(db).await?;
    regenerate_crl(db, ca).await?;
    Ok(())
}

/// Freezes (冻结): the certificate is on hold and listed in the CRL until released.
pub async fn hold(db: &(impl ConnectionTrait + TransactionTrait), ca: &Authority, serial: &str) -> Result<(), AppError> {
    let cert = find(db, ca, serial).await?;
    if cert.status != VALID {
        return Err(ErrorCode::NotValid.into());
    }
    let mut m = cert.into_active_model();
    m.status = Set(HOLD.to_owned());
    m.revoked_at = Set(Some(Utc::now()));
    m.reason = Set(Some(i16::from(RevocationReason::CertificateHold.code())));
    m.update(db).await?;
    regenerate_crl(db, ca).await?;
    Ok(())
}

/// Unfreezes (解冻): the certificate is valid again and leaves the next full CRL.
pub async fn release(db: &(impl ConnectionTrait + TransactionTrait), ca: &Authority, serial: &str) -> Result<(), AppError> {
    let cert = find(db, ca, serial).await?;
    if cert.status != HOLD {
        return Err(ErrorCode::NotOnHold.into());
    }
    let mut m = cert.into_active_model();
    m.status = Set(VALID.to_owned());
    m.revoked_at = Set(None);
    m.reason = Set(None);
    m.update(db).await?;
    regenerate_crl(db, ca).await?;
    Ok(())
}

/// Serial, revocation time, reason code, invalidity date.
type RevokedRow = (String, Option<DateTime<Utc>>, Option<i16>, Option<DateTime<Utc>>);

/// Signs a new full CRL of `ca` with the next CRL number and stores it.
pub async fn regenerate_crl(db: &impl TransactionTrait, ca: &Authority) -> anyhow::Result<crl::Model> {
    let txn = db.begin().await?;
    // Taking the number and writing the CRL in one transaction keeps numbers increasing
    // even with several servers.
    ca_authority::Entity::update_many()
        .col_expr(ca_authority::Column::CrlNumber, Expr::col(ca_authority::Column::CrlNumber).add(1))
        .filter(ca_authority::Column::Id.eq(ca.id))
        .exec(&txn)
        .await?;
    let number = ca_authority::Entity::find_by_id(ca.id).one(&txn).await?.context("CA row")?.crl_number;
    // Only the columns a CRL entry needs (never the certificates themselves).
    let revoked: Vec<RevokedRow> = certificate::Entity::find()
        .select_only()
        .columns([
            certificate::Column::Serial,
            certificate::Column::RevokedAt,
            certificate::Column::Reason,
            certificate::Column::InvalidityDate,
        ])
        .filter(certificate::Column::CaId.eq(ca.id))
        .filter(certificate::Column::Status.is_in([REVOKED, HOLD]))
        .into_tuple()
        .all(&txn)
        .await?;
    let this_update = Utc::now().duration_trunc(Duration::seconds(1))?;
    let next_update = this_update + CRL_VALIDITY;
    let mut revoked_certs = Vec::with_capacity(revoked.len());
    for (serial, revoked_at, reason, invalidity_date) in &revoked {
        let reason = reason.and_then(|r| u8::try_from(r).ok()).and_then(RevocationReason::from_code);
        revoked_certs.push(RevokedCertParams {
            serial_number: SerialNumber::from_slice(&hex::decode(serial)?),
            revocation_time: to_offset(revoked_at.unwrap_or(this_update))?,
            reason_code: reason.map(rcgen_reason),
            invalidity_date: invalidity_date.map(to_offset).transpose()?,
        });
    }
    let params = CertificateRevocationListParams {
        this_update: to_offset(this_update)?,
        next_update: to_offset(next_update)?,
        crl_number: SerialNumber::from_slice(&minimal_be(number)),
        issuing_distribution_point: None,
        revoked_certs,
        key_identifier_method: KeyIdMethod::PreSpecified(ca.ski.clone()),
    };
    let issuer = Issuer::from_ca_cert_der(&ca.cert_der.as_slice().into(), RcgenKey(ca.signer()))?;
    let der = params.signed_by(&issuer)?.der().to_vec();
    let model = crl::Model { ca_id: ca.id, number, this_update, next_update, der };
    crl::Entity::insert(model.clone().into_active_model())
        .on_conflict(
            OnConflict::column(crl::Column::CaId)
                .update_columns([crl::Column::Number, crl::Column::ThisUpdate, crl::Column::NextUpdate, crl::Column::Der])
                .to_owned(),
        )
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(model)
}

/// Big-endian bytes without leading zeros (DER INTEGERs are minimal).
fn minimal_be(n: i64) -> Vec<u8> {
    let bytes: Vec<u8> = n.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
    if bytes.is_empty() { vec![0] } else { bytes }
}

/// The stored CRL of a CA.
pub async fn current_crl(db: &impl ConnectionTrait, ca: &Authority) -> anyhow::Result<Option<crl::Model>> {
    Ok(crl::Entity::find_by_id(ca.id).one(db).await?)
}

/// Regenerates every CRL older than [`CRL_REFRESH`]; run by a timer.
pub async fn refresh_crls(db: &(impl ConnectionTrait + TransactionTrait), cas: &[&Authority]) -> anyhow::Result<()> {
    for ca in cas {
        let stale = current_crl(db, ca).await?.is_none_or(|c| Utc::now() - c.this_update > CRL_REFRESH);
        if stale {
            regenerate_crl(db, ca).await?;
        }
    }
    Ok(())
}
