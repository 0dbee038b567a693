//! Revocation (注销) with an RFC 5280 reason and invalidity date, freezing (冻结, certificate
//! hold) and unfreezing, and the CRLs. The issuing CA's are partitioned (`CrlPartitions`):
//! a change re-signs only the CRL its certificate names, its shard's, or for a certificate
//! from before the shards, the full-name CRL; every CRL is also refreshed on a timer. CRL
//! numbers only grow: the next one is taken from the database row (the CA's for the
//! full-name CRL, the shard's own row for a shard). Each CRL entry is encoded once, when the
//! certificate is revoked or frozen, and kept beside it; a CRL is then the stored entries
//! put together and signed.

use anyhow::Context;
use certdesk_shared::ErrorCode;
use certdesk_shared::certificate::RevocationReason;
use chrono::{DateTime, Duration, DurationRound, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, IntoActiveModel, QueryFilter, Set,
    Statement, TransactionTrait, sea_query::OnConflict,
};

use const_oid::AssociatedOid;
use const_oid::db::rfc5280::{ID_CE_CRL_REASONS, ID_CE_INVALIDITY_DATE, ID_CE_ISSUING_DISTRIBUTION_POINT};
use der::asn1::{AnyRef, BitStringRef, Ia5String, ObjectIdentifier, OctetString, Uint};
use der::{Decode, Encode, Sequence, Tag};
use x509_cert::certificate::Version;
use x509_cert::crl::RevokedCert;
use x509_cert::ext::pkix::crl::IssuingDistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, CrlNumber, CrlReason};
use x509_cert::ext::{Extension, Extensions};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_cert::time::Time;

use super::{Authority, asn1};
use crate::entity::{ca_authority, certificate, crl, crl_shard};
use crate::error::AppError;

/// How long a CRL is valid; a new one is made well before (see `CRL_REFRESH`).
pub const CRL_VALIDITY: Duration = Duration::days(7);
/// The timer regenerates CRLs older than this.
pub const CRL_REFRESH: Duration = Duration::hours(24);

pub const VALID: &str = "valid";
pub const REVOKED: &str = "revoked";
pub const HOLD: &str = "hold";

/// The DER `revokedCertificates` entry for a certificate (RFC 5280 §5.1.2.6, §5.3): the
/// reason is left out for `unspecified`, as RFC 5280 asks.
pub fn crl_entry(
    serial_hex: &str,
    revoked_at: DateTime<Utc>,
    reason: RevocationReason,
    invalidity: Option<DateTime<Utc>>,
) -> anyhow::Result<Vec<u8>> {
    let mut exts = Vec::new();
    if reason != RevocationReason::Unspecified {
        exts.push(extension(ID_CE_CRL_REASONS, &crl_reason(reason))?);
    }
    if let Some(d) = invalidity {
        exts.push(extension(ID_CE_INVALIDITY_DATE, &asn1::generalized_time(d)?)?);
    }
    let entry = RevokedCert {
        serial_number: SerialNumber::new(&hex::decode(serial_hex)?)?,
        revocation_date: asn1::time(revoked_at)?,
        crl_entry_extensions: (!exts.is_empty()).then_some(exts),
    };
    Ok(entry.to_der()?)
}

/// A non-critical extension holding `value`.
fn extension(oid: ObjectIdentifier, value: &impl Encode) -> anyhow::Result<Extension> {
    Ok(Extension { extn_id: oid, critical: false, extn_value: OctetString::new(value.to_der()?)? })
}

/// The `CRLReason` of a revocation reason (the same RFC 5280 codes).
pub(crate) fn crl_reason(reason: RevocationReason) -> CrlReason {
    use RevocationReason as R;
    match reason {
        R::Unspecified => CrlReason::Unspecified,
        R::KeyCompromise => CrlReason::KeyCompromise,
        R::CaCompromise => CrlReason::CaCompromise,
        R::AffiliationChanged => CrlReason::AffiliationChanged,
        R::Superseded => CrlReason::Superseded,
        R::CessationOfOperation => CrlReason::CessationOfOperation,
        R::CertificateHold => CrlReason::CertificateHold,
        R::PrivilegeWithdrawn => CrlReason::PrivilegeWithdrawn,
        R::AaCompromise => CrlReason::AaCompromise,
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

/// One status change: from any of `from` to `to`, as a conditional UPDATE in the same
/// transaction as the new CRL. Two changes racing on one certificate (on one server or
/// several) cannot both apply: the second finds the status changed and is refused, and a
/// failure to sign the CRL rolls the change back.
async fn transition(
    db: &(impl ConnectionTrait + TransactionTrait),
    ca: &Authority,
    serial: &str,
    from: &[&str],
    change: impl Fn(&certificate::Model) -> anyhow::Result<certificate::ActiveModel>,
    refused: impl Fn(&certificate::Model) -> ErrorCode,
) -> Result<(), AppError> {
    // A change that lost a race is tried again from the new status, if still allowed.
    for _attempt in 0..5 {
        let cert = find(db, ca, serial).await?;
        if !from.contains(&cert.status.as_str()) {
            return Err(refused(&cert).into());
        }
        let update = change(&cert)?;
        let txn = crate::db::begin_write(db).await?;
        let done = certificate::Entity::update_many()
            .set(update)
            .filter(certificate::Column::Id.eq(cert.id))
            .filter(certificate::Column::Status.eq(cert.status.clone()))
            .exec(&txn)
            .await?;
        if done.rows_affected == 1 {
            // Its OCSP response for the new status, signed now and stored with it.
            if let Some(responder) = &ca.responder {
                let changed = find(&txn, ca, serial).await?;
                let row = responder.presign(
                    ca.id,
                    &changed.serial,
                    &changed.status,
                    changed.revoked_at,
                    changed.reason,
                    Utc::now(),
                )?;
                super::ocsp::store_presigned(&txn, row).await?;
            }
            // Only the CRL this certificate names is signed again.
            match cert.crl_shard.and_then(|s| u16::try_from(s).ok()) {
                Some(shard) if ca.partitions.is_some() => {
                    regenerate_shard(&txn, ca, shard).await?;
                }
                _ => {
                    regenerate_crl(&txn, ca).await?;
                }
            }
            txn.commit().await?;
            super::ocsp::status_changed();
            return Ok(());
        }
        txn.rollback().await?;
    }
    Err(AppError::Internal(anyhow::anyhow!("certificate {serial}: status keeps changing")))
}

fn now_s() -> anyhow::Result<DateTime<Utc>> {
    Ok(Utc::now().duration_trunc(Duration::seconds(1))?)
}

/// Revokes for good. A frozen certificate can be revoked; a revoked one cannot change.
/// Called inside a transaction of the caller's, the change is visible only when that
/// commits: the caller then calls [`super::ocsp::status_changed`] again, or this server's
/// OCSP may keep answering what it read before the commit for up to `FRESH_FOR`.
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
    let now = now_s()?;
    if invalidity_date.is_some_and(|d| d > now) {
        return Err(ErrorCode::BadInvalidityDate.into());
    }
    let invalidity_date =
        invalidity_date.map(|d| d.duration_trunc(Duration::seconds(1))).transpose().context("clock")?;
    transition(
        db,
        ca,
        serial,
        &[VALID, HOLD],
        |cert| {
            Ok(certificate::ActiveModel {
                status: Set(REVOKED.to_owned()),
                revoked_at: Set(Some(now)),
                reason: Set(Some(i16::from(reason.code()))),
                invalidity_date: Set(invalidity_date),
                crl_entry: Set(Some(crl_entry(&cert.serial, now, reason, invalidity_date)?)),
                ..Default::default()
            })
        },
        |_| ErrorCode::AlreadyRevoked,
    )
    .await
}

/// Freezes (冻结): the certificate is on hold and listed in the CRL until released.
pub async fn hold(
    db: &(impl ConnectionTrait + TransactionTrait),
    ca: &Authority,
    serial: &str,
) -> Result<(), AppError> {
    let now = now_s()?;
    transition(
        db,
        ca,
        serial,
        &[VALID],
        |cert| {
            Ok(certificate::ActiveModel {
                status: Set(HOLD.to_owned()),
                revoked_at: Set(Some(now)),
                reason: Set(Some(i16::from(RevocationReason::CertificateHold.code()))),
                crl_entry: Set(Some(crl_entry(&cert.serial, now, RevocationReason::CertificateHold, None)?)),
                ..Default::default()
            })
        },
        |_| ErrorCode::NotValid,
    )
    .await
}

/// Unfreezes (解冻): the certificate is valid again and leaves its CRL (signed again at once,
/// `removeFromCRL` by absence: these are full CRLs, not deltas).
pub async fn release(
    db: &(impl ConnectionTrait + TransactionTrait),
    ca: &Authority,
    serial: &str,
) -> Result<(), AppError> {
    transition(
        db,
        ca,
        serial,
        &[HOLD],
        |_| {
            Ok(certificate::ActiveModel {
                status: Set(VALID.to_owned()),
                revoked_at: Set(None),
                reason: Set(None),
                crl_entry: Set(None),
                ..Default::default()
            })
        },
        |_| ErrorCode::NotOnHold,
    )
    .await
}

/// Which certificates a CRL lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    /// Every certificate of the CA: a CA whose CRLs are not partitioned (the root).
    All,
    /// The certificates without a shard (issued before the shards), which name the
    /// full-name CRL (`/ca/issuing.crl`).
    Unsharded,
    /// One shard's certificates.
    Shard(u16),
}

/// Signs a new CRL of `ca` at its full name (`/ca/{name}.crl`) with the next CRL number of the
/// CA row and stores it. For a partitioned CA it lists the certificates without a shard and
/// says so in its issuingDistributionPoint; otherwise every certificate.
pub async fn regenerate_crl(
    db: &(impl ConnectionTrait + TransactionTrait),
    ca: &Authority,
) -> anyhow::Result<crl::Model> {
    let txn = crate::db::begin_write(db).await?;
    // Taking the number and writing the CRL in one transaction keeps numbers increasing
    // even with several servers.
    ca_authority::Entity::update_many()
        .col_expr(ca_authority::Column::CrlNumber, Expr::col(ca_authority::Column::CrlNumber).add(1))
        .filter(ca_authority::Column::Id.eq(ca.id))
        .exec(&txn)
        .await?;
    let number = ca_authority::Entity::find_by_id(ca.id).one(&txn).await?.context("CA row")?.crl_number;
    backfill_entries(&txn, ca).await?;
    let scope = if ca.partitions.is_some() { Scope::Unsharded } else { Scope::All };
    let revoked = revoked_entries(&txn, ca, scope).await?;
    let this_update = Utc::now().duration_trunc(Duration::seconds(1))?;
    let next_update = this_update + CRL_VALIDITY;
    let idp = ca.partitions.as_ref().map(|p| p.url(None));
    let der = sign_crl(ca, number, this_update, next_update, &revoked, idp.as_deref())?;
    let model = crl::Model { ca_id: ca.id, number, this_update, next_update, der };
    crl::Entity::insert(model.clone().into_active_model())
        .on_conflict(
            OnConflict::column(crl::Column::CaId)
                .update_columns([
                    crl::Column::Number,
                    crl::Column::ThisUpdate,
                    crl::Column::NextUpdate,
                    crl::Column::Der,
                ])
                .to_owned(),
        )
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(model)
}

/// Signs a new CRL of one shard of a partitioned CA, with the shard's next CRL number, and
/// stores it. The shard's row is created the first time (number 0, then made 1 here), and the
/// number is taken by an UPDATE of that row in this transaction, which holds the row until
/// the commit: two servers signing one shard take turns, and its numbers only grow.
pub async fn regenerate_shard(
    db: &(impl ConnectionTrait + TransactionTrait),
    ca: &Authority,
    shard: u16,
) -> anyhow::Result<crl_shard::Model> {
    let partitions = ca.partitions.as_ref().context("this CA's CRLs are not partitioned")?;
    let txn = crate::db::begin_write(db).await?;
    let epoch = DateTime::<Utc>::UNIX_EPOCH;
    let first = crl_shard::Model {
        ca_id: ca.id,
        shard: i32::from(shard),
        number: 0,
        this_update: epoch,
        next_update: epoch,
        der: Vec::new(),
    };
    crl_shard::Entity::insert(first.into_active_model())
        .on_conflict(OnConflict::columns([crl_shard::Column::CaId, crl_shard::Column::Shard]).do_nothing().to_owned())
        .do_nothing()
        .exec(&txn)
        .await?;
    let row = crl_shard::Entity::update_many()
        .col_expr(crl_shard::Column::Number, Expr::col(crl_shard::Column::Number).add(1))
        .filter(crl_shard::Column::CaId.eq(ca.id))
        .filter(crl_shard::Column::Shard.eq(i32::from(shard)))
        .exec(&txn)
        .await?;
    anyhow::ensure!(row.rows_affected == 1, "CRL shard {shard}: no row");
    let number =
        crl_shard::Entity::find_by_id((ca.id, i32::from(shard))).one(&txn).await?.context("CRL shard row")?.number;
    backfill_entries(&txn, ca).await?;
    let revoked = revoked_entries(&txn, ca, Scope::Shard(shard)).await?;
    let this_update = Utc::now().duration_trunc(Duration::seconds(1))?;
    let next_update = this_update + CRL_VALIDITY;
    let der = sign_crl(ca, number, this_update, next_update, &revoked, Some(&partitions.url(Some(shard))))?;
    let model = crl_shard::Model { ca_id: ca.id, shard: i32::from(shard), number, this_update, next_update, der };
    crl_shard::Entity::update(model.clone().into_active_model().reset_all()).exec(&txn).await?;
    txn.commit().await?;
    Ok(model)
}

/// The stored entries of every revoked or frozen certificate of the CA in `scope`, already
/// put together by the database (one row, not a million): read from the covering index
/// `ix_certificate_ca_id_crl_shard_status_crl_entry` (migration 030), never from the
/// certificate rows.
async fn revoked_entries(txn: &impl ConnectionTrait, ca: &Authority, scope: Scope) -> anyhow::Result<Vec<u8>> {
    let backend = txn.get_database_backend();
    let (pg, lite) = match scope {
        Scope::All => ("", ""),
        Scope::Unsharded => ("AND crl_shard IS NULL", "AND crl_shard IS NULL"),
        Scope::Shard(_) => ("AND crl_shard = $4", "AND crl_shard = ?"),
    };
    let text = match backend {
        DbBackend::Postgres => format!(
            "SELECT string_agg(crl_entry, ''::bytea) AS entries FROM certificate \
             WHERE ca_id = $1 AND status IN ($2, $3) {pg}"
        ),
        _ => format!(
            "SELECT CAST(group_concat(crl_entry, x'') AS BLOB) AS entries FROM certificate \
             WHERE ca_id = ? AND status IN (?, ?) {lite}"
        ),
    };
    let mut values: Vec<sea_orm::Value> = vec![ca.id.into(), REVOKED.into(), HOLD.into()];
    if let Scope::Shard(s) = scope {
        values.push(i32::from(s).into());
    }
    let stmt = Statement::from_sql_and_values(backend, text, values);
    let row = txn.query_one(stmt).await?;
    Ok(match row {
        Some(r) => r.try_get::<Option<Vec<u8>>>("", "entries")?.unwrap_or_default(),
        None => Vec::new(),
    })
}

/// Encodes the entry of any revoked or frozen certificate that has none (rows revoked
/// before entries were stored), so that no revocation is ever left out of a CRL.
async fn backfill_entries(txn: &impl ConnectionTrait, ca: &Authority) -> anyhow::Result<()> {
    let missing = certificate::Entity::find()
        .filter(certificate::Column::CaId.eq(ca.id))
        .filter(certificate::Column::Status.is_in([REVOKED, HOLD]))
        .filter(certificate::Column::CrlEntry.is_null())
        .all(txn)
        .await?;
    for c in missing {
        let reason = c
            .reason
            .and_then(|r| u8::try_from(r).ok())
            .and_then(RevocationReason::from_code)
            .unwrap_or(RevocationReason::Unspecified);
        let at = c.revoked_at.unwrap_or(c.created_at).duration_trunc(Duration::seconds(1))?;
        let entry = crl_entry(&c.serial, at, reason, c.invalidity_date)?;
        certificate::Entity::update_many()
            .col_expr(certificate::Column::CrlEntry, Expr::value(entry))
            .filter(certificate::Column::Id.eq(c.id))
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// `TBSCertList` (RFC 5280 §5.1) as x509-cert has it, but with `revokedCertificates` as the
/// stored entries, already DER (each encoded once by [`crl_entry`]): a CRL of a million
/// entries is put together, not decoded and encoded again. A test decodes what this writes
/// with x509-cert's own `CertificateList`.
#[derive(Sequence)]
struct TbsCertList<'a> {
    version: Version,
    signature: AlgorithmIdentifierOwned,
    issuer: Name,
    this_update: Time,
    next_update: Option<Time>,
    /// `SEQUENCE OF RevokedCert`, absent when empty (RFC 5280 §5.1.2.6).
    revoked_certificates: Option<AnyRef<'a>>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    crl_extensions: Option<Extensions>,
}

/// `CertificateList` around TBS bytes that were signed as they are.
#[derive(Sequence)]
struct Signed<'a> {
    tbs: AnyRef<'a>,
    signature_algorithm: AlgorithmIdentifierOwned,
    signature: BitStringRef<'a>,
}

/// A v2 `CertificateList` (RFC 5280 §5.1) with AKI and CRL number, signed by `ca`.
/// `revoked`: the CRL entries, each a complete DER SEQUENCE, one after the other.
/// `partition`: the URL of a partition's CRL, written as its critical issuingDistributionPoint
/// (RFC 5280 §5.2.5: the distribution point the certificates of this partition name, and
/// onlyContainsUserCerts, as the issuing CA signs no CA certificate); `None` for a full CRL.
pub(crate) fn sign_crl(
    ca: &Authority,
    number: i64,
    this_update: DateTime<Utc>,
    next_update: DateTime<Utc>,
    revoked: &[u8],
    partition: Option<&str>,
) -> anyhow::Result<Vec<u8>> {
    let cert = x509_cert::Certificate::from_der(&ca.cert_der)?;
    let alg = asn1::signature_algorithm(ca.signer().algorithm()).context("unsupported CA key algorithm")?;
    let aki = AuthorityKeyIdentifier {
        key_identifier: Some(OctetString::new(ca.ski.clone())?),
        authority_cert_issuer: None,
        authority_cert_serial_number: None,
    };
    let number = CrlNumber(Uint::new(&number.to_be_bytes())?);
    let mut crl_extensions = vec![extension(AuthorityKeyIdentifier::OID, &aki)?, extension(CrlNumber::OID, &number)?];
    if let Some(url) = partition {
        let idp = IssuingDistributionPoint {
            distribution_point: Some(DistributionPointName::FullName(vec![GeneralName::UniformResourceIdentifier(
                Ia5String::new(url)?,
            )])),
            only_contains_user_certs: true,
            only_contains_ca_certs: false,
            only_some_reasons: None,
            indirect_crl: false,
            only_contains_attribute_certs: false,
        };
        // Not `IssuingDistributionPoint::OID`: x509-cert 0.2.5 gives it the OID of
        // subjectInfoAccess (1.3.6.1.5.5.7.1.11); a test checks the one written is 2.5.29.28.
        let mut ext = extension(ID_CE_ISSUING_DISTRIBUTION_POINT, &idp)?;
        ext.critical = true;
        crl_extensions.push(ext);
    }
    let tbs = TbsCertList {
        version: Version::V2,
        signature: alg.clone(),
        issuer: cert.tbs_certificate.subject,
        this_update: asn1::time(this_update)?,
        next_update: Some(asn1::time(next_update)?),
        revoked_certificates: if revoked.is_empty() { None } else { Some(AnyRef::new(Tag::Sequence, revoked)?) },
        crl_extensions: Some(crl_extensions),
    }
    .to_der()?;
    let signature = ca.signer().sign(&tbs).map_err(|e| anyhow::anyhow!("signing the CRL: {e}"))?;
    let crl = Signed {
        tbs: AnyRef::from_der(&tbs)?,
        signature_algorithm: alg,
        signature: BitStringRef::from_bytes(&signature)?,
    };
    Ok(crl.to_der()?)
}

/// The stored CRL of a CA at its full name.
pub async fn current_crl(db: &impl ConnectionTrait, ca: &Authority) -> anyhow::Result<Option<crl::Model>> {
    Ok(crl::Entity::find_by_id(ca.id).one(db).await?)
}

/// The shards a partitioned CA serves: those new certificates are given (`0..shards`) and
/// every shard that has a CRL, so that lowering `--crl-shards` never stops serving a shard an
/// issued certificate names. Empty for a CA whose CRLs are not partitioned.
pub async fn shards(db: &impl ConnectionTrait, ca: &Authority) -> anyhow::Result<Vec<u16>> {
    let Some(p) = &ca.partitions else { return Ok(Vec::new()) };
    let mut all: std::collections::BTreeSet<u16> = (0..p.shards).collect();
    let stored = crl_shard::Entity::find().filter(crl_shard::Column::CaId.eq(ca.id)).all(db).await?;
    all.extend(stored.iter().filter_map(|r| u16::try_from(r.shard).ok()));
    Ok(all.into_iter().collect())
}

/// The stored CRL of a shard, signed first if the shard is served but has none yet (a
/// server that has just started, before its timer's first round).
pub async fn current_shard_crl(
    db: &(impl ConnectionTrait + TransactionTrait),
    ca: &Authority,
    shard: u16,
) -> anyhow::Result<Option<crl_shard::Model>> {
    if let Some(row) = crl_shard::Entity::find_by_id((ca.id, i32::from(shard))).one(db).await?
        && !row.der.is_empty()
    {
        return Ok(Some(row));
    }
    if !shards(db, ca).await?.contains(&shard) || !ca.signer().holds_key() {
        return Ok(None);
    }
    Ok(Some(regenerate_shard(db, ca, shard).await?))
}

/// The URLs of every CRL of a partitioned CA (the JSON array of partitioned CRLs CCADB asks
/// for): the full-name CRL, the partition of the certificates from before the shards, then
/// each shard's.
pub async fn crl_urls(db: &impl ConnectionTrait, ca: &Authority) -> anyhow::Result<Vec<String>> {
    let Some(p) = &ca.partitions else { return Ok(Vec::new()) };
    let mut urls = vec![p.url(None)];
    urls.extend(shards(db, ca).await?.into_iter().map(|s| p.url(Some(s))));
    Ok(urls)
}

/// An imported CRL (the offline root's) is reported this long before its nextUpdate.
pub const IMPORTED_CRL_WARN: Duration = Duration::days(30);

/// Regenerates every CRL older than [`CRL_REFRESH`]; run by a timer. A CA whose key is not
/// here (the offline root) is never signed for: its imported CRL is only checked, and an
/// error is logged from [`IMPORTED_CRL_WARN`] before it runs out.
pub async fn refresh_crls(db: &(impl ConnectionTrait + TransactionTrait), cas: &[&Authority]) -> anyhow::Result<()> {
    for ca in cas {
        if !ca.signer().holds_key() {
            match current_crl(db, ca).await? {
                Some(c) if c.next_update - Utc::now() > IMPORTED_CRL_WARN => {}
                Some(c) => tracing::error!(
                    ca = %ca.name,
                    next_update = %c.next_update.to_rfc3339(),
                    "the {} CA's CRL runs out soon: sign a new one offline (`certdesk ca root crl`) and `certdesk ca import --crl` it",
                    ca.name
                ),
                None => {
                    tracing::error!(ca = %ca.name, "the {} CA has no CRL: import one (`certdesk ca import --crl`)", ca.name)
                }
            }
            continue;
        }
        let stale = current_crl(db, ca).await?.is_none_or(|c| Utc::now() - c.this_update > CRL_REFRESH);
        if stale {
            regenerate_crl(db, ca).await?;
        }
        for shard in shards(db, ca).await? {
            let row = crl_shard::Entity::find_by_id((ca.id, i32::from(shard))).one(db).await?;
            if row.is_none_or(|c| c.der.is_empty() || Utc::now() - c.this_update > CRL_REFRESH) {
                regenerate_shard(db, ca, shard).await?;
            }
        }
    }
    Ok(())
}
