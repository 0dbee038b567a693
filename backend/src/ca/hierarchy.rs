//! The CA hierarchy: created once (`certdesk ca init`, or by itself on first start), then
//! loaded at every start by unsealing the keys.

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use chrono::{Duration, DurationRound, Utc};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, DnValue, IsCa, Issuer,
    KeyUsagePurpose, SerialNumber,
};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, TransactionTrait};

use super::der;
use super::signer::{KeyStore, RcgenKey, Signer};
use super::{Authority, random_serial, subject_key_id, to_offset};
use crate::config::Config;
use crate::entity::ca_authority;

pub const ROOT: &str = "root";
pub const ISSUING: &str = "issuing";
/// The delegated OCSP responder (not a CA, but a signing identity kept the same way).
pub const OCSP: &str = "ocsp";
const ID_PKIX_OCSP_NOCHECK: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 48, 1, 5];
const ANY_POLICY: &[u128] = &[2, 5, 29, 32, 0];

/// The loaded hierarchy, shared by every request.
#[derive(Clone)]
pub struct CaService {
    pub root: Authority,
    pub issuing: Authority,
    /// The OCSP responder's certificate and key, issued by the issuing CA.
    pub ocsp: Authority,
    pub responder: Arc<super::ocsp::Responder>,
    /// A throw-away key of the issuing CA's algorithm, for the check before signing (the
    /// draft must carry the same signature algorithm so its TBS equals the real one).
    pub lint_key: Arc<dyn Signer>,
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

    fn dn(&self, suffix: &str) -> Result<DistinguishedName> {
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CountryName, DnValue::PrintableString("CN".try_into()?));
        dn.push(DnType::OrganizationName, self.organisation.as_str());
        dn.push(DnType::CommonName, format!("{} {suffix}", self.common_name));
        Ok(dn)
    }
}


fn ca_params(dn: DistinguishedName, years: i64, path_len: Option<u8>) -> Result<CertificateParams> {
    let now = Utc::now().duration_trunc(Duration::seconds(1))?;
    let mut p = CertificateParams::default();
    p.distinguished_name = dn;
    p.serial_number = Some(SerialNumber::from_slice(&random_serial()?));
    p.not_before = to_offset(now)?;
    p.not_after = to_offset(now + Duration::days(365 * years))?;
    p.is_ca = IsCa::Ca(match path_len {
        Some(n) => BasicConstraints::Constrained(n),
        None => BasicConstraints::Unconstrained,
    });
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    Ok(p)
}


/// Creates the root CA (20 years) and the issuing CA (10 years) it signs, and their first
/// CRLs. Refuses when a hierarchy exists.
pub async fn init(db: &(impl ConnectionTrait + TransactionTrait), config: &Config) -> Result<()> {
    // Checked (and, on PostgreSQL, locked) before any key is made: servers starting together
    // on one database create one hierarchy, and a refused init leaves no key behind.
    let txn = db.begin().await?;
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        txn.execute_unprepared("SELECT pg_advisory_xact_lock(4852542494155)").await?;
    }
    if ca_authority::Entity::find().one(&txn).await?.is_some() {
        bail!("a CA hierarchy exists already; `certdesk ca status` shows it");
    }
    let store = KeyStore::from_config(config)?;
    let names = Names::from_config(config);
    let base = config.public_url.trim_end_matches('/').to_owned();

    let (root_key, root_storage, root_blob) = store.generate(ROOT)?;
    let root_params = ca_params(names.dn("Root CA")?, 20, None)?;
    let root_cert = root_params.self_signed(&RcgenKey(&*root_key))?;

    let (issuing_key, issuing_storage, issuing_blob) = store.generate(ISSUING)?;
    let mut issuing_params = ca_params(names.dn("Issuing CA")?, 10, Some(0))?;
    issuing_params.use_authority_key_identifier_extension = true;
    issuing_params.crl_distribution_points =
        vec![rcgen::CrlDistributionPoint { uris: vec![format!("{base}/ca/{ROOT}.crl")] }];
    issuing_params.custom_extensions = vec![
        der::ext(der::ID_PE_AUTHORITY_INFO_ACCESS, der::authority_info_access(None, &format!("{base}/ca/{ROOT}.crt"))),
        der::ext(der::ID_CE_CERTIFICATE_POLICIES, der::certificate_policies(ANY_POLICY)),
    ];
    let root_issuer = Issuer::from_ca_cert_der(root_cert.der(), RcgenKey(&*root_key))?;
    let issuing_cert = issuing_params.signed_by(&RcgenKey(&*issuing_key), &root_issuer)?;

    let responder = issue_responder(&store, &names, &base, issuing_cert.der(), &*issuing_key)?;
    let now = Utc::now();
    let row = |name: &str, parent: Option<i32>, params: &CertificateParams, der: &[u8], storage: &str, blob: Vec<u8>| {
        ca_authority::ActiveModel {
            name: Set(name.to_owned()),
            parent_id: Set(parent),
            subject: Set(dn_string(&params.distinguished_name)),
            cert_der: Set(der.to_vec()),
            key_storage: Set(storage.to_owned()),
            key_blob: Set(blob),
            not_before: Set(from_offset(params.not_before)),
            not_after: Set(from_offset(params.not_after)),
            crl_number: Set(0),
            created_at: Set(now),
            ..Default::default()
        }
    };
    let root = row(ROOT, None, &root_params, root_cert.der(), root_storage, root_blob).insert(&txn).await?;
    let issuing = row(ISSUING, Some(root.id), &issuing_params, issuing_cert.der(), issuing_storage, issuing_blob)
        .insert(&txn)
        .await?;
    row(OCSP, Some(issuing.id), &responder.params, &responder.cert_der, responder.storage, responder.blob.clone())
        .insert(&txn)
        .await?;
    responder.record(&txn, issuing.id).await?;
    txn.commit().await?;

    let service = load(db, config).await?.context("the new hierarchy did not load")?;
    super::revoke::regenerate_crl(db, &service.root).await?;
    super::revoke::regenerate_crl(db, &service.issuing).await?;
    Ok(())
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
    let serial = random_serial()?;
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    params.not_before = to_offset(now)?;
    params.not_after = to_offset(now + Duration::days(365))?;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::OcspSigning];
    params.use_authority_key_identifier_extension = true;
    params.custom_extensions = vec![
        der::ext(ID_PKIX_OCSP_NOCHECK, vec![0x05, 0x00]),
        der::ext(der::ID_PE_AUTHORITY_INFO_ACCESS, der::authority_info_access(None, &format!("{base}/ca/{ISSUING}.crt"))),
    ];
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
    let txn = db.begin().await?;
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
    let rows = ca_authority::Entity::find()
        .filter(ca_authority::Column::Name.is_in([ROOT, ISSUING, OCSP]))
        .all(db)
        .await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let store = KeyStore::from_config(config)?;
    let find = |name: &str| -> Result<Authority> {
        let row = rows.iter().find(|r| r.name == name).with_context(|| format!("the {name} CA is missing"))?;
        let signer: Arc<dyn Signer> = store.open(&row.key_storage, &row.key_blob, name)?;
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
            signer,
        })
    };
    let issuing = find(ISSUING)?;
    let responder = Arc::new(super::ocsp::Responder::new(&issuing)?);
    let lint_key: Arc<dyn Signer> =
        Arc::new(super::signer::SoftwareSigner::generate_with(super::signer::KeyAlgorithm::of(issuing.signer()))?);
    Ok(Some(CaService {
        root: find(ROOT)?,
        issuing,
        ocsp: find(OCSP)?,
        responder,
        lint_key,
        public_url: config.public_url.trim_end_matches('/').to_owned(),
    }))
}

/// Loads the hierarchy, creating it first when the database has none (the embedded default).
pub async fn load_or_init(db: &(impl ConnectionTrait + TransactionTrait), config: &Config) -> Result<CaService> {
    if let Some(ca) = load(db, config).await? {
        return Ok(renew_responder_if_due(db, config, &ca, Utc::now()).await?.unwrap_or(ca));
    }
    tracing::info!("no CA yet: creating the root and issuing CA");
    if let Err(e) = init(db, config).await {
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
    }
    Ok(out)
}
