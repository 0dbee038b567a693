//! The CA hierarchy on the server: the issuing CA and the OCSP responder with their keys,
//! and the root's certificate and CRL only. The root's key is offline (`root`): the server
//! makes the issuing CA's key and request, imports what the root signed
//! (`certdesk ca issuing request`, `certdesk ca import`), and loads it all at every start,
//! checking each key against its certificate. In development the same ceremony runs by
//! itself on first start.

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use chrono::{Duration, DurationRound, Utc};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, DnValue, IsCa, Issuer, KeyUsagePurpose,
    SerialNumber,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, Set, TransactionTrait,
};

use super::asn1;
use super::signer::{KeyStore, OFFLINE, OfflineKey, RcgenKey, SharedKey, Signer};
use super::{Authority, new_serial, subject_key_id, to_offset};
use crate::config::Config;
use crate::entity::{ca_authority, ca_request, crl};

pub const ROOT: &str = "root";
pub const ISSUING: &str = "issuing";
/// The delegated OCSP responder (not a CA, but a signing identity kept the same way).
pub const OCSP: &str = "ocsp";
pub(crate) const ANY_POLICY: der::asn1::ObjectIdentifier = const_oid::db::rfc5280::ANY_POLICY;

/// The loaded hierarchy, shared by every request.
#[derive(Clone)]
pub struct CaService {
    pub root: Authority,
    pub issuing: Authority,
    /// The OCSP responder's certificate and key, issued by the issuing CA.
    pub ocsp: Authority,
    pub responder: Arc<super::ocsp::Responder>,
    /// The issuing CA as rcgen writes a certificate's draft with it (its algorithm, its
    /// public key, a signature of zeros: `signer::DraftKey`), read from its certificate once
    /// at load, not for every certificate. The draft's TBS, once linted, is signed with the
    /// issuing CA's key.
    pub(crate) draft_issuer: Arc<Issuer<'static, SharedKey>>,
    /// The issuing CA certificate's subject, DER: every certificate's issuer must be it.
    pub(crate) issuing_subject: Vec<u8>,
    /// Base of the URLs written into certificates (CRL, OCSP, CA issuers).
    pub public_url: String,
}

/// Names of the two CAs, e.g. `C=CN, O=CertDesk Demo, CN=CertDesk Demo Root CA`.
pub struct Names {
    pub organisation: String,
    pub common_name: String,
}

impl Names {
    pub fn from_config(config: &Config) -> Names {
        Names { organisation: config.ca_organisation.clone(), common_name: config.ca_name.clone() }
    }

    pub(crate) fn dn(&self, suffix: &str) -> Result<DistinguishedName> {
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CountryName, DnValue::PrintableString("CN".try_into()?));
        dn.push(DnType::OrganizationName, self.organisation.as_str());
        dn.push(DnType::CommonName, format!("{} {suffix}", self.common_name));
        Ok(dn)
    }
}

pub(crate) fn ca_params(dn: DistinguishedName, years: i64, path_len: Option<u8>) -> Result<CertificateParams> {
    let now = Utc::now().duration_trunc(Duration::seconds(1))?;
    let mut p = CertificateParams::default();
    p.distinguished_name = dn;
    p.serial_number = Some(SerialNumber::from_slice(&new_serial()?));
    p.not_before = to_offset(now)?;
    p.not_after = to_offset(now + Duration::days(365 * years))?;
    p.is_ca = IsCa::Ca(match path_len {
        Some(n) => BasicConstraints::Constrained(n),
        None => BasicConstraints::Unconstrained,
    });
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    Ok(p)
}

/// What a server without a CA prints: the ceremony, step by step.
pub const NO_CA: &str = "no CA yet. The root CA is kept offline (CA/B Forum BR §6.2); run the ceremony \
(README.md, \"Root CA ceremony\"):
  root machine:  certdesk ca root init --dir <root dir>
  this server:   certdesk ca issuing request --out issuing.csr
  root machine:  certdesk ca root sign-issuing --dir <root dir> --csr issuing.csr --out issuing.crt
  root machine:  certdesk ca root crl --dir <root dir> --out root.crl
  this server:   certdesk ca import --root <root dir>/root.crt --issuing issuing.crt --crl root.crl
Development mode (CERTDESK_DEV=true) runs it by itself, the root under <data-dir>/offline-root.";

/// Takes the CA creation lock (PostgreSQL) and refuses when a hierarchy exists: checked
/// before any key is made, so servers starting together create one hierarchy and a refused
/// step leaves no key behind.
async fn lock_absent(txn: &impl ConnectionTrait) -> Result<()> {
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        txn.execute_unprepared("SELECT pg_advisory_xact_lock(4852542494155)").await?;
    }
    if ca_authority::Entity::find().one(txn).await?.is_some() {
        bail!("a CA hierarchy exists already; `certdesk ca status` shows it");
    }
    Ok(())
}

/// `certdesk ca issuing request`: the issuing CA's key, made here and kept as every CA key
/// is (sealed in the database, or on the PKCS#11 token), and its PKCS#10 request for the
/// offline root to sign (DER). A pending request is given again unless `replace`, which
/// makes a new key (a certificate signed for the old one is then refused at import).
pub async fn request_issuing(
    db: &(impl ConnectionTrait + TransactionTrait),
    config: &Config,
    replace: bool,
) -> Result<Vec<u8>> {
    let txn = crate::db::begin_write(db).await?;
    lock_absent(&txn).await?;
    let pending = ca_request::Entity::find_by_id(ISSUING).one(&txn).await?;
    if let Some(p) = &pending
        && !replace
    {
        return Ok(p.csr_der.clone());
    }
    let store = KeyStore::from_config(config)?;
    let names = Names::from_config(config);
    let (key, storage, blob) = store.generate(ISSUING)?;
    let mut params = CertificateParams::default();
    params.distinguished_name = names.dn("Issuing CA")?;
    let csr = params.serialize_request(&RcgenKey(&*key))?.der().to_vec();
    if pending.is_some() {
        ca_request::Entity::delete_by_id(ISSUING).exec(&txn).await?;
    }
    ca_request::ActiveModel {
        name: Set(ISSUING.to_owned()),
        subject: Set(dn_string(&params.distinguished_name)),
        csr_der: Set(csr.clone()),
        key_storage: Set(storage.to_owned()),
        key_blob: Set(blob),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(csr)
}

fn parse_cert<'a>(der: &'a [u8], what: &str) -> Result<x509_parser::certificate::X509Certificate<'a>> {
    let (rest, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| anyhow::anyhow!("the {what} certificate does not parse: {e}"))?;
    if !rest.is_empty() {
        bail!("the {what} certificate has trailing bytes");
    }
    Ok(cert)
}

fn is_ca(cert: &x509_parser::certificate::X509Certificate<'_>) -> bool {
    matches!(cert.basic_constraints(), Ok(Some(bc)) if bc.value.ca)
}

/// A root CRL checked against the root: signed by it, current, with a CRL number.
struct CheckedCrl {
    number: i64,
    this_update: chrono::DateTime<Utc>,
    next_update: chrono::DateTime<Utc>,
    serials: Vec<String>,
}

fn check_root_crl(crl_der: &[u8], root_der: &[u8]) -> Result<CheckedCrl> {
    let root = parse_cert(root_der, "root")?;
    let (rest, crl) =
        x509_parser::parse_x509_crl(crl_der).map_err(|e| anyhow::anyhow!("the root CRL does not parse: {e}"))?;
    if !rest.is_empty() {
        bail!("the root CRL has trailing bytes");
    }
    if crl.issuer().as_raw() != root.subject().as_raw() {
        bail!("the CRL is not the root's: its issuer is {}", crl.issuer());
    }
    crl.verify_signature(root.public_key())
        .map_err(|e| anyhow::anyhow!("the CRL's signature does not verify with the root's key: {e}"))?;
    let at = |t: x509_parser::time::ASN1Time| chrono::DateTime::from_timestamp(t.timestamp(), 0).unwrap_or_default();
    let next_update = crl.next_update().map(at).context("the root CRL has no nextUpdate")?;
    if next_update <= Utc::now() {
        bail!("the root CRL ran out at {}", next_update.to_rfc3339());
    }
    let number = crl.crl_number().context("the root CRL has no CRL number")?;
    let number = i64::try_from(number.clone()).map_err(|_| anyhow::anyhow!("the CRL number is too large"))?;
    let serials = crl.iter_revoked_certificates().map(|r| hex::encode(r.raw_serial())).collect();
    Ok(CheckedCrl { number, this_update: at(crl.last_update()), next_update, serials })
}

/// Stores the root's CRL as the one served at `/ca/root.crl` (replacing the previous one).
async fn save_root_crl(txn: &impl ConnectionTrait, ca_id: i32, crl: &CheckedCrl, der: &[u8]) -> Result<()> {
    crl::Entity::insert(
        crl::Model {
            ca_id,
            number: crl.number,
            this_update: crl.this_update,
            next_update: crl.next_update,
            der: der.to_vec(),
        }
        .into_active_model(),
    )
    .on_conflict(
        sea_orm::sea_query::OnConflict::column(crl::Column::CaId)
            .update_columns([crl::Column::Number, crl::Column::ThisUpdate, crl::Column::NextUpdate, crl::Column::Der])
            .to_owned(),
    )
    .exec(txn)
    .await?;
    Ok(())
}

/// `certdesk ca import` on a server without a CA: the root certificate, the issuing CA's
/// certificate the root signed for this server's pending request, and the root's CRL.
/// Checks that the root is a self-signed CA, that the issuing certificate is a CA signed by
/// it for the pending key and points its CRL at this server, and that the CRL is the
/// root's, current and does not list the issuing CA. Then makes the OCSP responder (signed
/// by the issuing CA) and the issuing CA's first CRL. The root's key never comes here.
pub async fn import(
    db: &(impl ConnectionTrait + TransactionTrait),
    config: &Config,
    root_der: &[u8],
    issuing_der: &[u8],
    root_crl_der: &[u8],
) -> Result<()> {
    let root = parse_cert(root_der, "root")?;
    if root.subject().as_raw() != root.issuer().as_raw() || !is_ca(&root) {
        bail!("the root certificate must be a self-signed CA certificate");
    }
    root.verify_signature(None)
        .map_err(|e| anyhow::anyhow!("the root certificate's signature does not verify: {e}"))?;
    let issuing = parse_cert(issuing_der, "issuing")?;
    if issuing.issuer().as_raw() != root.subject().as_raw() || !is_ca(&issuing) {
        bail!("the issuing certificate must be a CA certificate issued by the root");
    }
    issuing
        .verify_signature(Some(root.public_key()))
        .map_err(|e| anyhow::anyhow!("the issuing certificate does not chain to the root (signature: {e})"))?;
    let base = config.public_url.trim_end_matches('/').to_owned();
    let crl_url = format!("{base}/ca/{ROOT}.crl");
    if !issuing_der.windows(crl_url.len()).any(|w| w == crl_url.as_bytes()) {
        bail!(
            "the issuing certificate does not name this server's root CRL {crl_url}: sign it with CERTDESK_PUBLIC_URL={base}"
        );
    }
    let crl = check_root_crl(root_crl_der, root_der)?;
    let issuing_serial = hex::encode(issuing.raw_serial());
    if crl.serials.contains(&issuing_serial) {
        bail!("the root CRL lists this issuing certificate as revoked");
    }
    let now = Utc::now();
    for (what, c) in [("root", &root), ("issuing", &issuing)] {
        if !c.validity().is_valid() {
            bail!(
                "the {what} certificate is not valid now ({} to {})",
                c.validity().not_before,
                c.validity().not_after
            );
        }
    }

    let txn = crate::db::begin_write(db).await?;
    lock_absent(&txn).await?;
    let pending = ca_request::Entity::find_by_id(ISSUING)
        .one(&txn)
        .await?
        .context("this server has no pending issuing CA request: run `certdesk ca issuing request` first")?;
    let store = KeyStore::from_config(config)?;
    let issuing_key = store.open(&pending.key_storage, &pending.key_blob, ISSUING)?;
    // The key check: the certificate must be for the key this server holds.
    if issuing.public_key().subject_public_key.data.as_ref() != issuing_key.public_key_raw() {
        bail!(
            "the issuing certificate is not for this server's pending key (a request made again, or another server's): refused"
        );
    }
    let names = Names::from_config(config);
    let responder = issue_responder(&store, &names, &base, issuing_der, &*issuing_key)?;
    let at = |t: x509_parser::time::ASN1Time| chrono::DateTime::from_timestamp(t.timestamp(), 0).unwrap_or_default();
    let row = |name: &str,
               parent: Option<i32>,
               cert: &x509_parser::certificate::X509Certificate<'_>,
               der: &[u8],
               storage: &str,
               blob: Vec<u8>| {
        ca_authority::ActiveModel {
            name: Set(name.to_owned()),
            parent_id: Set(parent),
            subject: Set(cert.subject().to_string()),
            cert_der: Set(der.to_vec()),
            key_storage: Set(storage.to_owned()),
            key_blob: Set(blob),
            not_before: Set(at(cert.validity().not_before)),
            not_after: Set(at(cert.validity().not_after)),
            crl_number: Set(0),
            created_at: Set(now),
            ..Default::default()
        }
    };
    let mut root_row = row(ROOT, None, &root, root_der, OFFLINE, Vec::new());
    root_row.crl_number = Set(crl.number);
    let root_row = root_row.insert(&txn).await?;
    let issuing_row =
        row(ISSUING, Some(root_row.id), &issuing, issuing_der, &pending.key_storage, pending.key_blob.clone())
            .insert(&txn)
            .await?;
    ca_authority::ActiveModel {
        name: Set(OCSP.to_owned()),
        parent_id: Set(Some(issuing_row.id)),
        subject: Set(dn_string(&responder.params.distinguished_name)),
        cert_der: Set(responder.cert_der.clone()),
        key_storage: Set(responder.storage.to_owned()),
        key_blob: Set(responder.blob.clone()),
        not_before: Set(from_offset(responder.params.not_before)),
        not_after: Set(from_offset(responder.params.not_after)),
        crl_number: Set(0),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    responder.record(&txn, issuing_row.id).await?;
    save_root_crl(&txn, root_row.id, &crl, root_crl_der).await?;
    ca_request::Entity::delete_by_id(ISSUING).exec(&txn).await?;
    txn.commit().await?;

    let service = load(db, config).await?.context("the imported hierarchy did not load")?;
    super::revoke::regenerate_crl(db, &service.issuing).await?;
    tracing::info!("imported the root and issuing CA; the root's key stays offline");
    Ok(())
}

/// `certdesk ca import --crl` on a server with a CA: a new root CRL from the offline root
/// (each year, or after it revoked a CA). It must verify with the root's key and carry a
/// higher CRL number than the one it replaces. A CRL that revokes this server's issuing CA
/// is published all the same, and logged as an error.
pub async fn import_root_crl(
    db: &(impl ConnectionTrait + TransactionTrait),
    config: &Config,
    crl_der: &[u8],
) -> Result<()> {
    let ca = load(db, config).await?.context(NO_CA)?;
    if ca.root.signer().holds_key() {
        bail!(
            "this server holds the root key itself (an old deployment) and signs the root CRL; move the root offline first (`certdesk ca root take-offline`)"
        );
    }
    let crl = check_root_crl(crl_der, &ca.root.cert_der)?;
    let txn = crate::db::begin_write(db).await?;
    let current = ca_authority::Entity::find_by_id(ca.root.id).one(&txn).await?.context("root CA row")?.crl_number;
    if crl.number <= current {
        bail!(
            "the CRL's number {} is not above the current root CRL's {current}: an old CRL is never put back",
            crl.number
        );
    }
    let done = ca_authority::Entity::update_many()
        .col_expr(ca_authority::Column::CrlNumber, sea_orm::sea_query::Expr::value(crl.number))
        .filter(ca_authority::Column::Id.eq(ca.root.id))
        .filter(ca_authority::Column::CrlNumber.eq(current))
        .exec(&txn)
        .await?;
    if done.rows_affected != 1 {
        bail!("another server imported a root CRL meanwhile");
    }
    save_root_crl(&txn, ca.root.id, &crl, crl_der).await?;
    txn.commit().await?;
    let (_, issuing) = x509_parser::parse_x509_certificate(&ca.issuing.cert_der)?;
    if crl.serials.contains(&hex::encode(issuing.raw_serial())) {
        tracing::error!(
            "the imported root CRL revokes this server's issuing CA: every certificate it issued fails validation; a new issuing CA is needed"
        );
    }
    Ok(())
}

/// The whole ceremony on this machine, for development and tests (`CERTDESK_DEV=true`):
/// the same functions as the commands, the root in [`super::root::dev_dir`] (apart from the
/// database, sealed under a secret file there). Reuses a root already in that directory.
pub async fn dev_ceremony(db: &(impl ConnectionTrait + TransactionTrait), config: &Config) -> Result<()> {
    use super::root;
    if !config.dev {
        bail!("{NO_CA}");
    }
    let dir = root::dev_dir(config);
    let secret = root::secret(&dir, None, true)?;
    if !root::exists(&dir) {
        let algorithm = super::signer::KeyAlgorithm::from_config(&config.ca_key_algorithm)?;
        root::init(&dir, &secret, &Names::from_config(config), algorithm)?;
    }
    let csr = request_issuing(db, config, false).await?;
    let issuing = root::sign_issuing(&dir, &secret, &csr, &config.public_url)?;
    let crl = root::crl(&dir, &secret, &[])?;
    let root_der = std::fs::read(dir.join(root::CERT_FILE))?;
    import(db, config, &root_der, &issuing.cert_der, &crl).await
}

/// `certdesk ca root take-offline --dir`: the migration of an old deployment whose database
/// holds the root's key. The key (sealed) goes into the offline root directory with the
/// root certificate and what it signed, the root signs its first year-long CRL there, and
/// the database keeps the root's certificate and that CRL only. From then on the server
/// never signs with the root. The sealed key may remain in older database backups (and,
/// on SQLite, in free pages until `VACUUM`): destroy those backups.
pub async fn take_root_offline(
    db: &(impl ConnectionTrait + TransactionTrait),
    config: &Config,
    dir: &std::path::Path,
    secret: &super::signer::CaSecret,
) -> Result<()> {
    use super::root;
    let row = ca_authority::Entity::find().filter(ca_authority::Column::Name.eq(ROOT)).one(db).await?.context(NO_CA)?;
    if row.key_storage == OFFLINE {
        bail!("the root CA is offline already");
    }
    let store = KeyStore::from_config(config)?;
    let key = store.open_sealed(&row.key_storage, &row.key_blob, ROOT).map_err(|e| {
        anyhow::anyhow!("{e}; a root key on a PKCS#11 token is taken offline with its token (see README.md)")
    })?;
    let issued = ca_authority::Entity::find()
        .filter(ca_authority::Column::ParentId.eq(row.id))
        .all(db)
        .await?
        .into_iter()
        .map(|c| -> Result<root::Signed> {
            let (_, cert) = x509_parser::parse_x509_certificate(&c.cert_der)?;
            Ok(root::Signed {
                serial: hex::encode(cert.raw_serial()),
                subject: cert.subject().to_string(),
                not_after: c.not_after,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    root::adopt(dir, secret, &key, &row.cert_der, &issued, row.crl_number)?;
    drop(key);
    let crl_der = root::crl(dir, secret, &[])?;
    let crl = check_root_crl(&crl_der, &row.cert_der)?;
    let txn = crate::db::begin_write(db).await?;
    let done = ca_authority::Entity::update_many()
        .col_expr(ca_authority::Column::KeyStorage, sea_orm::sea_query::Expr::value(OFFLINE))
        .col_expr(ca_authority::Column::KeyBlob, sea_orm::sea_query::Expr::value(Vec::<u8>::new()))
        .col_expr(ca_authority::Column::CrlNumber, sea_orm::sea_query::Expr::value(crl.number))
        .filter(ca_authority::Column::Id.eq(row.id))
        .filter(ca_authority::Column::KeyStorage.eq(row.key_storage.clone()))
        .exec(&txn)
        .await?;
    if done.rows_affected != 1 {
        bail!("the root row changed meanwhile; {} holds a copy of the key: delete it and try again", dir.display());
    }
    save_root_crl(&txn, row.id, &crl, &crl_der).await?;
    txn.commit().await?;
    Ok(())
}

/// `certdesk ca init`: in development, the whole ceremony at once ([`dev_ceremony`]);
/// refused otherwise, with the ceremony's steps.
pub async fn init(db: &(impl ConnectionTrait + TransactionTrait), config: &Config) -> Result<()> {
    if !config.dev {
        bail!("{NO_CA}");
    }
    if ca_authority::Entity::find().one(db).await?.is_some() {
        bail!("a CA hierarchy exists already; `certdesk ca status` shows it");
    }
    dev_ceremony(db, config).await
}

/// A new delegated OCSP responder: key, and a 1-year certificate from the issuing CA with
/// OCSPSigning only and ocsp-nocheck (clients do not ask about the responder itself).
struct NewResponder {
    params: CertificateParams,
    cert_der: Vec<u8>,
    serial: [u8; 16],
    storage: &'static str,
    blob: Vec<u8>,
}

/// A responder certificate is renewed when less than this is left.
pub const RESPONDER_RENEW_BEFORE: Duration = Duration::days(30);

fn issue_responder(
    store: &KeyStore,
    names: &Names,
    base: &str,
    issuing_cert: &[u8],
    issuing_key: &dyn Signer,
) -> Result<NewResponder> {
    let (key, storage, blob) = store.generate(OCSP)?;
    let now = Utc::now().duration_trunc(Duration::seconds(1))?;
    let mut params = CertificateParams::default();
    params.distinguished_name = names.dn("OCSP Responder")?;
    let serial = new_serial()?;
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    params.not_before = to_offset(now)?;
    params.not_after = to_offset(now + Duration::days(365))?;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::OcspSigning];
    params.use_authority_key_identifier_extension = true;
    params.custom_extensions =
        vec![asn1::ocsp_nocheck()?, asn1::authority_info_access(None, &format!("{base}/ca/{ISSUING}.crt"))?];
    let issuer = Issuer::from_ca_cert_der(&issuing_cert.into(), RcgenKey(issuing_key))?;
    let cert = params.signed_by(&RcgenKey(&*key), &issuer)?;
    Ok(NewResponder { cert_der: cert.der().to_vec(), params, serial, storage, blob })
}

impl NewResponder {
    /// The responder's certificate is one the issuing CA issued: its serial is taken too.
    async fn record(&self, db: &impl ConnectionTrait, issuing_id: i32) -> Result<()> {
        crate::entity::certificate::ActiveModel {
            uid: Set(uuid::Uuid::new_v4().to_string()),
            ca_id: Set(issuing_id),
            serial: Set(hex::encode(self.serial)),
            profile: Set("ocsp_responder".to_owned()),
            subject: Set(dn_string(&self.params.distinguished_name)),
            not_before: Set(from_offset(self.params.not_before)),
            not_after: Set(from_offset(self.params.not_after)),
            der: Set(self.cert_der.clone()),
            status: Set(super::revoke::VALID.to_owned()),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(db)
        .await?;
        Ok(())
    }
}

/// Renews the OCSP responder when its certificate ends within [`RESPONDER_RENEW_BEFORE`] of
/// `now`; returns the reloaded hierarchy when it did. Several servers may try at once: the
/// row is replaced only if it is still the one they saw.
pub async fn renew_responder_if_due(
    db: &(impl ConnectionTrait + TransactionTrait),
    config: &Config,
    ca: &CaService,
    now: chrono::DateTime<Utc>,
) -> Result<Option<CaService>> {
    if ca.ocsp.not_after - now > RESPONDER_RENEW_BEFORE {
        return Ok(None);
    }
    let store = KeyStore::from_config(config)?;
    let names = Names::from_config(config);
    let r = issue_responder(&store, &names, &ca.public_url, &ca.issuing.cert_der, ca.issuing.signer())?;
    let txn = crate::db::begin_write(db).await?;
    let done = ca_authority::Entity::update_many()
        .set(ca_authority::ActiveModel {
            subject: Set(dn_string(&r.params.distinguished_name)),
            cert_der: Set(r.cert_der.clone()),
            key_storage: Set(r.storage.to_owned()),
            key_blob: Set(r.blob.clone()),
            not_before: Set(from_offset(r.params.not_before)),
            not_after: Set(from_offset(r.params.not_after)),
            ..Default::default()
        })
        .filter(ca_authority::Column::Id.eq(ca.ocsp.id))
        .filter(ca_authority::Column::CertDer.eq(ca.ocsp.cert_der.clone()))
        .exec(&txn)
        .await?;
    if done.rows_affected == 1 {
        r.record(&txn, ca.issuing.id).await?;
        txn.commit().await?;
        tracing::info!("renewed the OCSP responder certificate");
    } else {
        txn.rollback().await?; // another server renewed it
    }
    load(db, config).await
}

fn from_offset(t: time::OffsetDateTime) -> chrono::DateTime<Utc> {
    chrono::DateTime::from_timestamp(t.unix_timestamp(), 0).unwrap_or_default()
}

fn dn_string(dn: &DistinguishedName) -> String {
    dn.iter()
        .map(|(ty, v)| {
            let name = match ty {
                DnType::CountryName => "C",
                DnType::OrganizationName => "O",
                DnType::CommonName => "CN",
                _ => "?",
            };
            let value = match v {
                DnValue::PrintableString(s) => s.as_str().to_owned(),
                DnValue::Utf8String(s) => s.clone(),
                _ => String::new(),
            };
            format!("{name}={value}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Loads the hierarchy, or `None` when none was created.
pub async fn load(db: &impl ConnectionTrait, config: &Config) -> Result<Option<CaService>> {
    let rows =
        ca_authority::Entity::find().filter(ca_authority::Column::Name.is_in([ROOT, ISSUING, OCSP])).all(db).await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let store = KeyStore::from_config(config)?;
    let find = |name: &str| -> Result<Authority> {
        let row = rows.iter().find(|r| r.name == name).with_context(|| format!("the {name} CA is missing"))?;
        let signer: Arc<dyn Signer> = if row.key_storage == OFFLINE {
            Arc::new(OfflineKey::from_cert(&row.cert_der)?)
        } else {
            store.open(&row.key_storage, &row.key_blob, name)?
        };
        // The key must be the certificate's: a wrong key would make every signature invalid.
        let (_, cert) = x509_parser::parse_x509_certificate(&row.cert_der)?;
        if cert.public_key().subject_public_key.data.as_ref() != signer.public_key_raw() {
            bail!("the {name} CA key does not match its certificate");
        }
        Ok(Authority {
            id: row.id,
            name: row.name.clone(),
            cert_der: row.cert_der.clone(),
            not_before: row.not_before,
            not_after: row.not_after,
            ski: subject_key_id(&row.cert_der)?,
            // The issuing CA's CRLs are partitioned; the root's one CRL is signed offline.
            partitions: (name == ISSUING).then(|| super::CrlPartitions {
                base: format!("{}/ca/{name}", config.public_url.trim_end_matches('/')),
                shards: config.crl_shards,
            }),
            responder: None,
            signer,
        })
    };
    let mut issuing = find(ISSUING)?;
    let root = find(ROOT)?;
    if root.signer().holds_key() {
        // An old deployment: it keeps working, but the root belongs offline.
        tracing::warn!(
            "the database holds the root CA's private key (a deployment from before the offline root): \
             move it offline with `certdesk ca root take-offline --dir <root dir>` (README.md, \"Root CA ceremony\")"
        );
    }
    // The chain holds: the issuing CA's certificate is the root's.
    let (_, root_cert) = x509_parser::parse_x509_certificate(&root.cert_der)?;
    let (_, issuing_cert) = x509_parser::parse_x509_certificate(&issuing.cert_der)?;
    issuing_cert
        .verify_signature(Some(root_cert.public_key()))
        .map_err(|e| anyhow::anyhow!("the issuing CA certificate does not verify with the root's key: {e}"))?;
    let issuing_subject = issuing_cert.tbs_certificate.subject.as_raw().to_vec();
    let ocsp = find(OCSP)?;
    let responder = Arc::new(super::ocsp::Responder::new(&issuing, &ocsp)?);
    issuing.responder = Some(responder.clone());
    let draft_key: Arc<dyn Signer> = Arc::new(super::signer::DraftKey::of(issuing.signer()));
    let draft_issuer = Arc::new(Issuer::from_ca_cert_der(&issuing.cert_der.as_slice().into(), SharedKey(draft_key))?);
    Ok(Some(CaService {
        root,
        issuing,
        ocsp,
        responder,
        draft_issuer,
        issuing_subject,
        public_url: config.public_url.trim_end_matches('/').to_owned(),
    }))
}

/// Loads the hierarchy. A database without one gets it from the ceremony run here in
/// development mode; otherwise the server refuses to start and prints the ceremony.
pub async fn load_or_init(db: &(impl ConnectionTrait + TransactionTrait), config: &Config) -> Result<CaService> {
    if let Some(ca) = load(db, config).await? {
        return Ok(renew_responder_if_due(db, config, &ca, Utc::now()).await?.unwrap_or(ca));
    }
    if !config.dev {
        bail!("{NO_CA}");
    }
    tracing::info!(root = %super::root::dev_dir(config).display(), "no CA yet (development mode): running the root ceremony on this machine");
    if let Err(e) = dev_ceremony(db, config).await {
        // Another server may have created it meanwhile.
        return load(db, config).await?.ok_or(e);
    }
    load(db, config).await?.context("the new hierarchy did not load")
}

/// `certdesk ca status`: one block per CA.
pub fn describe(ca: &CaService) -> Result<String> {
    use sha2::{Digest, Sha256};
    let mut out = String::new();
    for a in [&ca.root, &ca.issuing, &ca.ocsp] {
        let (_, cert) = x509_parser::parse_x509_certificate(&a.cert_der)?;
        out.push_str(&format!(
            "{}\n  subject     {}\n  issuer      {}\n  serial      {}\n  valid       {} to {}\n  sha256      {}\n  key         {:?}\n",
            match a.name.as_str() {
                ROOT => "Root CA",
                ISSUING => "Issuing CA",
                _ => "OCSP responder",
            },
            cert.subject(),
            cert.issuer(),
            cert.raw_serial_as_string(),
            a.not_before.to_rfc3339(),
            a.not_after.to_rfc3339(),
            hex::encode_upper(Sha256::digest(&a.cert_der)),
            a.signer().algorithm(),
        ));
        if !a.signer().holds_key() {
            out.push_str("  key held    offline (not on this server)\n");
        }
    }
    Ok(out)
}
