//! Download of a 新办's certificate into the token (证书下载): 查询证书 with the acceptance
//! number and the download authorization code, then issuance for the token's CSR. The
//! request becomes Issued in the same transaction as the certificate is stored.

use certdesk_shared::apply::{CertificateInfo, Medium};
use certdesk_shared::certificate::CertificateProfile;
use certdesk_shared::{ErrorCode, ValidationError};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter};

use super::audit::{self, AuditKey, Event};
use super::request::{Transition, advance, parse};
use super::{ClientMeta, query_one, sha256_hex};
use std::sync::Arc;

use crate::ca::CaService;
use crate::entity::request::{self, Kind, Status};
use crate::entity::{catalogue_type, catalogue_validity};
use crate::error::AppError;
use crate::group_commit::GroupCommit;
use certdesk_shared::Named;

/// An approved 新办 named by its acceptance number and download authorization code, with
/// what its certificate will be: the token download and the mobile shield's enrolment both
/// start here.
#[derive(Clone)]
pub(crate) struct Authorized {
    pub app: request::Model,
    pub profile: CertificateProfile,
    pub info: CertificateInfo,
    pub years: i32,
}

/// An approved application named by its acceptance number and download authorization code
/// (20 tries an hour per address, 5 per application), with its profile, certificate
/// information and validity in years.
pub(crate) async fn authorized_download(
    db: &impl ConnectionTrait,
    acceptance_no: &str,
    auth_code: &str,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<Authorized, AppError> {
    if !super::throttle::take(db, &meta.address_key("auth_code"), 20, chrono::Duration::hours(1), now).await? {
        return Err(ErrorCode::RateLimited.into());
    }
    let app = request::Entity::find()
        .filter(request::Column::AcceptanceNo.eq(acceptance_no.trim()))
        .one(db)
        .await?
        .ok_or(ErrorCode::AuthCodeInvalid)?;
    // Five tries an hour per application (counted only for numbers that exist).
    if !super::throttle::take(db, &format!("auth_code:{}", app.id), 5, chrono::Duration::hours(1), now).await? {
        return Err(ErrorCode::RateLimited.into());
    }
    let expected = app.auth_code_hash.clone().unwrap_or_default();
    let given = sha256_hex(&[b"auth code", app.id.as_bytes(), auth_code.trim().as_bytes()]);
    if app.kind != Kind::Apply || app.status != Status::Approved || !super::same(&expected, &given) {
        return Err(ErrorCode::AuthCodeInvalid.into());
    }
    let t = catalogue_type::Entity::find_by_id(app.type_id.clone().unwrap_or_default())
        .one(db)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    let profile = CertificateProfile::parse(&t.profile).ok_or(ErrorCode::NotFound)?;
    let info: CertificateInfo = parse(&app.certificate_info).ok_or(ErrorCode::StepMissing)?;
    let years = catalogue_validity::Entity::find_by_id(info.validity_id.clone()).one(db).await?.map_or(1, |v| v.years);
    Ok(Authorized { app, profile, info, years })
}

/// 查询证书 before a download: what will be issued and the key the token must make.
pub async fn download_info(
    db: &impl ConnectionTrait,
    query: &certdesk_shared::apply::DownloadQuery,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<certdesk_shared::apply::DownloadInfo, AppError> {
    let Authorized { app, profile, info, years } =
        authorized_download(db, &query.acceptance_no, &query.auth_code, meta, now).await?;
    Ok(certdesk_shared::apply::DownloadInfo {
        common_name: info.holder.common_name().to_owned(),
        profile,
        key_algorithm: profile.token_key(),
        validity_years: u32::try_from(years).unwrap_or(1),
        medium: chosen_medium(&app)?,
    })
}

/// The medium chosen in step ①.
pub(crate) fn chosen_medium(app: &request::Model) -> Result<Medium, AppError> {
    app.medium.as_deref().and_then(Medium::parse).ok_or_else(|| ErrorCode::StepMissing.into())
}

/// Issues the certificate of an approved 新办 for a CSR, given its acceptance number and
/// authorization code; the request becomes Issued in the same transaction. The certificate
/// is signed here, then written by the group commit (`commits`) with the other issuances of
/// the moment: the answer comes once its row is durable.
#[allow(clippy::too_many_arguments)]
pub async fn issue_for_csr(
    db: &impl ConnectionTrait,
    commits: &GroupCommit,
    ca: &Arc<CaService>,
    key: &Arc<AuditKey>,
    req: &certdesk_shared::apply::IssueForCsr,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<crate::ca::issue::Issued, AppError> {
    let (acceptance_no, auth_code, csr) = (req.acceptance_no.as_str(), req.auth_code.as_str(), req.csr_pem.as_bytes());
    // A medium number is the token's serial: short printable text.
    let medium_no = req.medium_no.as_deref().map(str::trim).filter(|m| !m.is_empty());
    if medium_no.is_some_and(|m| m.len() > 64 || !m.chars().all(|c| c.is_ascii_graphic())) {
        return Err(AppError::field("medium_no", ValidationError::TokenSerialFormat));
    }
    let authorized = authorized_download(db, acceptance_no, auth_code, meta, now).await?;
    let app = &authorized.app;
    // The medium chosen in step ① (and paid for, and posted): a UKey application is not
    // downloaded into a PC soft shield, nor the other way round.
    if Medium::of_token(req.medium_kind) != chosen_medium(app)? {
        return Err(ErrorCode::MediumMismatch.into());
    }
    // Signing takes a core for a quarter of a millisecond: off the threads that serve requests.
    let (ca, csr) = (ca.clone(), csr.to_vec());
    let (signed, authorized) =
        crate::ca::issue::off_thread(move || sign_for(&ca, &authorized, &csr).map(|s| (s, authorized))).await?;
    let medium_no = medium_no.map(str::to_owned);
    let signed = for_holder(&authorized, signed, medium_no.clone());
    let issued = signed.issued().clone();
    let (key, meta) = (key.clone(), meta.clone());
    commits
        .issue(signed, move |txn| {
            let (key, authorized, issued) = (key.clone(), authorized.clone(), issued.clone());
            let (medium_no, meta) = (medium_no.clone(), meta.clone());
            Box::pin(async move {
                record_issuance(txn, &key, &authorized, &issued, medium_no.as_deref(), &meta, now).await?;
                Ok(issued)
            })
        })
        .await
}

/// The authorized application's certificate for `csr`, signed and not yet stored.
pub(crate) fn sign_for(
    ca: &CaService,
    authorized: &Authorized,
    csr: &[u8],
) -> Result<crate::ca::issue::Signed, AppError> {
    let Authorized { app, profile, info, years } = authorized;
    let subject = crate::ca::profile::Subject::of_holder(info, app.acceptance_no.clone());
    let req = crate::ca::issue::IssueRequest {
        profile: *profile,
        subject: &subject,
        csr,
        validity_days: 365 * u32::try_from(*years).unwrap_or(1),
    };
    crate::ca::issue::prepare(ca, &req)
}

/// The certificate recorded with its holder's e-mail (for the status search) and the medium
/// it goes onto.
fn for_holder(
    authorized: &Authorized,
    signed: crate::ca::issue::Signed,
    medium_no: Option<String>,
) -> crate::ca::issue::Signed {
    signed.for_holder(authorized.app.search_email.clone(), medium_no)
}

/// Records the authorized application's certificate (signed by [`sign_for`]) onto
/// `medium_no` inside `txn`: the request becomes Issued, the certificate is recorded with its
/// e-mail and medium number, and the issuance is in the audit trail. The caller commits.
pub(crate) async fn issue_in(
    txn: &DatabaseTransaction,
    key: &AuditKey,
    authorized: &Authorized,
    signed: crate::ca::issue::Signed,
    medium_no: Option<&str>,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<crate::ca::issue::Issued, AppError> {
    let signed = for_holder(authorized, signed, medium_no.map(str::to_owned));
    let issued = crate::ca::issue::store(txn, signed).await?;
    record_issuance(txn, key, authorized, &issued, medium_no, meta, now).await?;
    Ok(issued)
}

/// What follows the certificate's row in an issuance's transaction: the medium must not hold
/// another account's certificate, the request becomes Issued, the audit trail records it.
async fn record_issuance(
    txn: &DatabaseTransaction,
    key: &AuditKey,
    authorized: &Authorized,
    issued: &crate::ca::issue::Issued,
    medium_no: Option<&str>,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let app = &authorized.app;
    let acceptance_no = app.acceptance_no.clone().unwrap_or_default();
    // A medium holding another account's valid certificate is not this customer's to claim:
    // 证书解锁 trusts the medium's owners. Asked in the write, which sees the issuances
    // before it (a certificate counts once its request names it: this one does not yet).
    if let Some(m) = medium_no {
        let taken = query_one(
            txn,
            "SELECT 1 AS one FROM certificate c JOIN request a ON a.certificate_uid = c.uid \
             WHERE c.medium_no = $1 AND c.status <> 'revoked' AND a.account_id <> $2 LIMIT 1",
            vec![m.into(), app.account_id.clone().into()],
        )
        .await?;
        if taken.is_some() {
            return Err(ErrorCode::MediumTaken.into());
        }
    }
    let sets = vec![("certificate_uid", issued.uid.clone().into())];
    if !advance(txn, &app.id, Status::Approved, Transition::Issue, now, sets).await? {
        return Err(ErrorCode::AuthCodeInvalid.into());
    }
    audit::append(
        txn,
        key,
        Event {
            actor: &audit::customer(&app.account_id),
            action: "certificate_issued",
            subject: &acceptance_no,
            ip: &meta.ip,
            detail: serde_json::json!({ "application": app.id, "certificate": issued.uid, "serial": issued.serial }),
        },
    )
    .await?;
    Ok(())
}
