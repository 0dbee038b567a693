//! Issuance from a PKCS#10 CSR. The CSR proves possession of the key and gives nothing
//! else: the subject comes from the approved application. The certificate is first written
//! as a draft with a signature of zeros (`signer::DraftKey`), decoded and checked against its
//! profile (as Let's Encrypt lints before signing); only the to-be-signed part that passed,
//! byte for byte, is then signed with the CA key and stored.

use anyhow::Context;
use certdesk_shared::ErrorCode;
use certdesk_shared::certificate::CertificateProfile;
use chrono::{DateTime, Duration, DurationRound, Utc};
use rcgen::{CertificateParams, CertificateSigningRequestParams, CrlDistributionPoint, IsCa, SerialNumber};
use sea_orm::{ConnectionTrait, EntityTrait, Set, SqlErr};
use x509_parser::prelude::*;

use super::{CaService, asn1, new_serial, profile, to_offset};
use crate::entity::certificate;
use crate::error::AppError;
use certdesk_shared::Named;

/// The largest CSR accepted (a 16k-bit RSA CSR is about 3 KB).
pub const MAX_CSR_BYTES: usize = 64 * 1024;

const P256: &str = "1.2.840.10045.3.1.7";
const P384: &str = "1.3.132.0.34";

/// What to issue.
pub struct IssueRequest<'a> {
    pub profile: CertificateProfile,
    pub subject: &'a profile::Subject,
    /// DER, or PEM (`-----BEGIN CERTIFICATE REQUEST-----`).
    pub csr: &'a [u8],
    pub validity_days: u32,
}

/// What to issue for a renewal (证书延期): the same subject as the certificate renewed,
/// until a given end (never beyond the issuing CA's).
pub struct RenewRequest<'a> {
    pub profile: CertificateProfile,
    /// The certificate renewed (DER): its subject is kept as it is.
    pub renewed: &'a [u8],
    pub csr: &'a [u8],
    pub not_after: DateTime<Utc>,
}

/// What to issue for a change of details (证书变更): a new subject, until a given end (the
/// certificate changed keeps its end; never beyond the issuing CA's).
pub struct ChangeRequest<'a> {
    pub profile: CertificateProfile,
    pub subject: &'a profile::Subject,
    pub csr: &'a [u8],
    pub not_after: DateTime<Utc>,
}

/// What is signed, whichever way it was asked for.
struct Plan<'a> {
    profile: CertificateProfile,
    dn: rcgen::DistinguishedName,
    common_name: String,
    csr: &'a [u8],
    validity: Validity,
}

enum Validity {
    Days(u32),
    Until(DateTime<Utc>),
}

#[derive(Debug, Clone)]
pub struct Issued {
    pub uid: String,
    pub serial: String,
    pub der: Vec<u8>,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
}

/// A CSR that passed every check: its key is allowed and its signature verifies.
pub struct CheckedCsr {
    params: CertificateSigningRequestParams,
    spki: Vec<u8>,
    rsa: bool,
}

fn csr_der(input: &[u8]) -> Result<Vec<u8>, AppError> {
    if input.len() > MAX_CSR_BYTES {
        return Err(ErrorCode::PayloadTooLarge.into());
    }
    if input.starts_with(b"-----BEGIN") {
        let (label, der) = asn1::pem_decode(input).ok_or(AppError::Code(ErrorCode::CsrMalformed))?;
        if label != "CERTIFICATE REQUEST" && label != "NEW CERTIFICATE REQUEST" {
            return Err(ErrorCode::CsrMalformed.into());
        }
        return Ok(der);
    }
    Ok(input.to_vec())
}

/// The CSR reader of every issuance: DER or PEM, at most [`MAX_CSR_BYTES`], an allowed key,
/// a signature that verifies. The input is untrusted: the fuzzer (`cargo xtask fuzz`) runs it.
pub fn check_csr(input: &[u8]) -> Result<CheckedCsr, AppError> {
    let der = csr_der(input)?;
    let (rest, csr) = X509CertificationRequest::from_der(&der).map_err(|_| AppError::Code(ErrorCode::CsrMalformed))?;
    if !rest.is_empty() {
        return Err(ErrorCode::CsrMalformed.into());
    }
    let spki = &csr.certification_request_info.subject_pki;
    let rsa = match spki.parsed() {
        Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => {
            if rsa.key_size() < 2048 {
                return Err(ErrorCode::KeyTooSmall.into());
            }
            if rsa.key_size() > 8192 {
                return Err(ErrorCode::KeyNotAllowed.into());
            }
            true
        }
        Ok(x509_parser::public_key::PublicKey::EC(_)) => {
            let curve = spki.algorithm.parameters.as_ref().and_then(|p| p.as_oid().ok()).map(|o| o.to_id_string());
            match curve.as_deref() {
                Some(P256) | Some(P384) => false,
                _ => return Err(ErrorCode::KeyNotAllowed.into()),
            }
        }
        _ => return Err(ErrorCode::KeyNotAllowed.into()),
    };
    let params = CertificateSigningRequestParams::from_der(&der.as_slice().into()).map_err(|e| match e {
        rcgen::Error::InvalidCertificationRequestSignature => AppError::Code(ErrorCode::CsrSignatureInvalid),
        rcgen::Error::UnsupportedSignatureAlgorithm => AppError::Code(ErrorCode::KeyNotAllowed),
        _ => AppError::Code(ErrorCode::CsrMalformed),
    })?;
    // rcgen re-encodes the key from the signature algorithm; it must be the key the CSR holds
    // (a P-384 key signed with SHA-256 would otherwise come out as a P-256 key).
    let spki_der = spki.raw.to_vec();
    if rcgen::PublicKeyData::subject_public_key_info(&params.public_key) != spki_der {
        return Err(ErrorCode::KeyNotAllowed.into());
    }
    Ok(CheckedCsr { params, spki: spki_der, rsa })
}

fn params_for(
    ca: &CaService,
    req: &Plan<'_>,
    rsa: bool,
    serial: &[u8],
    not_before: DateTime<Utc>,
) -> anyhow::Result<(CertificateParams, DateTime<Utc>)> {
    let spec = profile::spec(req.profile);
    let base = &ca.public_url;
    let end = match req.validity {
        Validity::Days(days) => not_before + Duration::days(i64::from(days)) - Duration::seconds(1),
        Validity::Until(t) => t.duration_trunc(Duration::seconds(1))?,
    };
    let not_after = end.min(ca.issuing.not_after);
    let mut p = CertificateParams::default();
    p.serial_number = Some(SerialNumber::from_slice(serial));
    p.not_before = to_offset(not_before)?;
    p.not_after = to_offset(not_after)?;
    p.distinguished_name = req.dn.clone();
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = spec.key_usages(rsa);
    p.extended_key_usages = spec.extended_key_usages.to_vec();
    p.use_authority_key_identifier_extension = true;
    p.crl_distribution_points = vec![CrlDistributionPoint { uris: vec![crl_url(ca, serial)] }];
    p.custom_extensions = vec![
        asn1::authority_info_access(Some(&format!("{base}/ocsp")), &format!("{base}/ca/{}.crt", ca.issuing.name))?,
        asn1::certificate_policies(spec.policy)?,
    ];
    Ok((p, not_after))
}

/// The shard a new certificate with this serial belongs to, if the issuing CA's CRLs are
/// partitioned (they are on every server loaded by `hierarchy::load`).
fn crl_shard(ca: &CaService, serial: &[u8]) -> Option<u16> {
    ca.issuing.partitions.as_ref().map(|p| p.shard_of(serial))
}

/// The CRL a new certificate names in its CRL distribution point: its shard's.
fn crl_url(ca: &CaService, serial: &[u8]) -> String {
    match &ca.issuing.partitions {
        Some(p) => p.url(crl_shard(ca, serial)),
        None => format!("{}/ca/{}.crl", ca.public_url, ca.issuing.name),
    }
}

/// The profile's rules, checked on the decoded certificate before the real signature.
fn lint(der: &[u8], ca: &CaService, req: &Plan<'_>, csr: &CheckedCsr, crl_url: &str) -> Result<(), String> {
    let issuing = &ca.issuing;
    let (_, cert) = parse_x509_certificate(der).map_err(|e| format!("does not decode: {e}"))?;
    let tbs = &cert.tbs_certificate;
    if tbs.version != X509Version::V3 {
        return Err("not v3".into());
    }
    let serial = tbs.raw_serial();
    if serial.len() != 16 || serial[0] & 0x80 != 0 || serial[0] == 0 {
        return Err(format!("serial of {} bytes or not positive", serial.len()));
    }
    if tbs.issuer.as_raw() != ca.issuing_subject.as_slice() {
        return Err("issuer is not the issuing CA's subject".into());
    }
    let v = &tbs.validity;
    if v.not_before.timestamp() < issuing.not_before.timestamp()
        || v.not_after.timestamp() > issuing.not_after.timestamp()
        || v.not_after <= v.not_before
    {
        return Err("validity outside the issuing CA's".into());
    }
    subject_within_bounds(&tbs.subject)?;
    let cn: Vec<&str> = tbs.subject.iter_common_name().filter_map(|a| a.as_str().ok()).collect();
    let country: Vec<&str> = tbs.subject.iter_country().filter_map(|a| a.as_str().ok()).collect();
    if cn != [req.common_name.as_str()] || country != ["CN"] {
        return Err("subject is not the application's".into());
    }
    if tbs.subject_pki.raw != csr.spki.as_slice() {
        return Err("public key is not the CSR's".into());
    }
    let spec = profile::spec(req.profile);
    let mut seen = Vec::new();
    for e in tbs.extensions() {
        use x509_parser::extensions::ParsedExtension as P;
        match e.parsed_extension() {
            P::AuthorityKeyIdentifier(aki) => {
                if aki.key_identifier.as_ref().map(|k| k.0) != Some(issuing.ski.as_slice()) {
                    return Err("AKI does not match the issuing CA's SKI".into());
                }
                seen.push("aki");
            }
            P::SubjectKeyIdentifier(_) => seen.push("ski"),
            P::BasicConstraints(bc) => {
                if bc.ca {
                    return Err("an end-entity certificate says it is a CA".into());
                }
                seen.push("bc");
            }
            P::KeyUsage(ku) => {
                let want = spec.key_usages(csr.rsa);
                let ok = e.critical
                    && ku.digital_signature() == want.contains(&rcgen::KeyUsagePurpose::DigitalSignature)
                    && ku.non_repudiation() == want.contains(&rcgen::KeyUsagePurpose::ContentCommitment)
                    && ku.key_agreement() == want.contains(&rcgen::KeyUsagePurpose::KeyAgreement)
                    && ku.key_encipherment() == want.contains(&rcgen::KeyUsagePurpose::KeyEncipherment)
                    && !ku.key_cert_sign()
                    && !ku.crl_sign();
                if !ok {
                    return Err("key usage is not the profile's".into());
                }
                seen.push("ku");
            }
            P::ExtendedKeyUsage(eku) => {
                if eku.any || eku.server_auth || eku.code_signing || eku.ocsp_signing {
                    return Err("extended key usage beyond the profile".into());
                }
                seen.push("eku");
            }
            P::CRLDistributionPoints(dps) => {
                let uris: Vec<&str> = dps
                    .points
                    .iter()
                    .filter_map(|dp| match &dp.distribution_point {
                        Some(DistributionPointName::FullName(names)) => Some(names),
                        _ => None,
                    })
                    .flatten()
                    .filter_map(|n| match n {
                        GeneralName::URI(u) => Some(*u),
                        _ => None,
                    })
                    .collect();
                if uris != [crl_url] {
                    return Err(format!("CRL distribution point {uris:?} is not the certificate's shard {crl_url}"));
                }
                seen.push("crldp");
            }
            P::AuthorityInfoAccess(_) => seen.push("aia"),
            P::CertificatePolicies(_) => seen.push("policies"),
            P::SubjectAlternativeName(_) => return Err("unexpected subjectAltName".into()),
            other => return Err(format!("unexpected extension {other:?}")),
        }
    }
    for needed in ["aki", "ski", "bc", "ku", "eku", "crldp", "aia", "policies"] {
        if !seen.contains(&needed) {
            return Err(format!("missing extension {needed}"));
        }
    }
    Ok(())
}

/// RFC 5280's upper bounds on the subject's attributes (Appendix A.1): a name longer than
/// its bound is refused before anything is signed.
fn subject_within_bounds(subject: &X509Name<'_>) -> Result<(), String> {
    use certdesk_shared::certificate::{SUBJECT_NAME_MAX, SUBJECT_PLACE_MAX};
    use x509_parser::oid_registry::{
        OID_X509_COMMON_NAME, OID_X509_COUNTRY_NAME, OID_X509_LOCALITY_NAME, OID_X509_ORGANIZATION_NAME,
        OID_X509_ORGANIZATIONAL_UNIT, OID_X509_STATE_OR_PROVINCE_NAME,
    };
    for attr in subject.iter_attributes() {
        let oid = attr.attr_type();
        let bound = if *oid == OID_X509_COMMON_NAME
            || *oid == OID_X509_ORGANIZATION_NAME
            || *oid == OID_X509_ORGANIZATIONAL_UNIT
        {
            SUBJECT_NAME_MAX
        } else if *oid == OID_X509_LOCALITY_NAME || *oid == OID_X509_STATE_OR_PROVINCE_NAME {
            SUBJECT_PLACE_MAX
        } else if *oid == OID_X509_COUNTRY_NAME {
            2
        } else {
            SUBJECT_NAME_MAX
        };
        let value = attr.as_str().map_err(|_| format!("subject attribute {oid} is not a string"))?;
        if value.chars().count() > bound {
            return Err(format!(
                "subject attribute {oid} has {} characters, more than RFC 5280's {bound}",
                value.chars().count()
            ));
        }
    }
    Ok(())
}

/// Issues and stores a certificate. Nothing is written unless the CSR passes its checks and
/// the certificate passes its profile's.
pub async fn issue(db: &impl ConnectionTrait, ca: &CaService, req: &IssueRequest<'_>) -> Result<Issued, AppError> {
    sign(db, ca, &plan_of(req)?).await
}

fn plan_of<'a>(req: &IssueRequest<'a>) -> Result<Plan<'a>, AppError> {
    if req.validity_days == 0 || req.validity_days > 5 * 366 {
        return Err(ErrorCode::BadValidity.into());
    }
    let dn = req.subject.distinguished_name().context("subject")?;
    Ok(Plan {
        profile: req.profile,
        dn,
        common_name: req.subject.common_name.clone(),
        csr: req.csr,
        validity: Validity::Days(req.validity_days),
    })
}

/// Issues the renewal of a certificate: its subject as it is, a new key, until
/// `not_after` (never beyond the issuing CA's own end, nor more than six years from now).
pub async fn issue_renewal(
    db: &impl ConnectionTrait,
    ca: &CaService,
    req: &RenewRequest<'_>,
) -> Result<Issued, AppError> {
    let now = Utc::now();
    if req.not_after <= now || req.not_after > now + Duration::days(6 * 366) {
        return Err(ErrorCode::BadValidity.into());
    }
    let (_, old) = parse_x509_certificate(req.renewed).context("renewed certificate")?;
    let dn = same_name(old.subject()).context("renewed certificate's subject")?;
    let common_name = old
        .subject()
        .iter_common_name()
        .next()
        .and_then(|a| a.as_str().ok())
        .context("renewed certificate without a common name")?
        .to_owned();
    let plan = Plan { profile: req.profile, dn, common_name, csr: req.csr, validity: Validity::Until(req.not_after) };
    sign(db, ca, &plan).await
}

/// Issues the successor of a changed certificate: the new subject, a new key, until
/// `not_after` (the changed certificate's end).
pub async fn issue_change(
    db: &impl ConnectionTrait,
    ca: &CaService,
    req: &ChangeRequest<'_>,
) -> Result<Issued, AppError> {
    let now = Utc::now();
    if req.not_after <= now || req.not_after > now + Duration::days(6 * 366) {
        return Err(ErrorCode::BadValidity.into());
    }
    let dn = req.subject.distinguished_name().context("subject")?;
    let plan = Plan {
        profile: req.profile,
        dn,
        common_name: req.subject.common_name.clone(),
        csr: req.csr,
        validity: Validity::Until(req.not_after),
    };
    sign(db, ca, &plan).await
}

/// Whether a certificate is for the key of a CSR (a renewal retried with the same key).
pub fn same_key(cert_der: &[u8], csr: &[u8]) -> Result<bool, AppError> {
    let csr = check_csr(csr)?;
    let (_, cert) = parse_x509_certificate(cert_der).context("stored certificate")?;
    Ok(cert.tbs_certificate.subject_pki.raw == csr.spki.as_slice())
}

/// A subject as rcgen builds it, attribute for attribute and string type for string type.
fn same_name(name: &X509Name<'_>) -> anyhow::Result<rcgen::DistinguishedName> {
    use rcgen::{DnType, DnValue};
    use x509_parser::der_parser::asn1_rs::Tag;
    let mut dn = rcgen::DistinguishedName::new();
    for rdn in name.iter() {
        anyhow::ensure!(rdn.iter().count() == 1, "a multi-valued RDN");
        for attr in rdn.iter() {
            let arcs: Vec<u64> = attr.attr_type().iter().context("OID")?.collect();
            let ty = match arcs.as_slice() {
                [2, 5, 4, 3] => DnType::CommonName,
                [2, 5, 4, 6] => DnType::CountryName,
                [2, 5, 4, 7] => DnType::LocalityName,
                [2, 5, 4, 8] => DnType::StateOrProvinceName,
                [2, 5, 4, 10] => DnType::OrganizationName,
                [2, 5, 4, 11] => DnType::OrganizationalUnitName,
                other => DnType::CustomDnType(other.to_vec()),
            };
            // A second attribute of a type (the profile's two OUs) keeps its OID as a custom type.
            let ty = if dn.get(&ty).is_some() { DnType::CustomDnType(arcs.clone()) } else { ty };
            anyhow::ensure!(dn.get(&ty).is_none(), "an attribute three times");
            let text = attr.as_str().context("not a string")?;
            let value = match attr.attr_value().tag() {
                Tag::PrintableString => DnValue::PrintableString(text.try_into()?),
                Tag::Utf8String => DnValue::Utf8String(text.to_owned()),
                Tag::Ia5String => DnValue::Ia5String(text.try_into()?),
                other => anyhow::bail!("string type {other}"),
            };
            dn.push(ty, value);
        }
    }
    Ok(dn)
}

/// A certificate signed for a plan and not yet stored: nobody has seen it. [`store`] records
/// it; a certificate that is never stored is dropped in memory.
#[derive(Clone)]
pub struct Signed {
    issued: Issued,
    row: certificate::ActiveModel,
    /// Its OCSP response (good), signed with it.
    ocsp: Option<crate::entity::ocsp_response::ActiveModel>,
}

impl Signed {
    pub fn serial(&self) -> &str {
        &self.issued.serial
    }

    /// What its caller hears once it is stored.
    pub fn issued(&self) -> &Issued {
        &self.issued
    }

    /// The same certificate recorded with its holder's e-mail (for the status search) and
    /// the medium it goes onto, in the one insert.
    pub fn for_holder(mut self, email: Option<String>, medium_no: Option<String>) -> Signed {
        self.row.email = Set(email);
        self.row.medium_no = Set(medium_no);
        self
    }
}

/// Checks the CSR, lints the certificate's draft (signed with zeros), then signs the draft's
/// TBS with the CA key: the work of an issuance that needs no database, done before its
/// write (and on every core at once when several are under way).
fn sign_plan(ca: &CaService, req: &Plan<'_>) -> Result<Signed, AppError> {
    let csr = check_csr(req.csr)?;
    let not_before = Utc::now().duration_trunc(Duration::seconds(1)).context("clock")?;
    let serial = new_serial()?;
    let (params, not_after) = params_for(ca, req, csr.rsa, &serial, not_before)?;

    let draft = params.signed_by(&csr.params.public_key, &*ca.draft_issuer).context("draft certificate")?;
    if let Err(why) = lint(draft.der(), ca, req, &csr, &crl_url(ca, &serial)) {
        tracing::error!(profile = ?req.profile, %why, "refused to sign a certificate that breaks its profile");
        return Err(AppError::Internal(anyhow::anyhow!("certificate breaks its profile: {why}")));
    }
    let der = sign_draft(ca, draft.der())?;
    // Time-ordered (UUIDv7: the millisecond, then a counter and random bits): a batch of new
    // certificates lands at the end of the `uid` index instead of dirtying one random page of
    // it each, as the serial does (`new_serial`). A uid names, it does not authorize: every
    // access is checked on the server.
    let uid = uuid::Uuid::now_v7().to_string();
    let serial_hex = hex::encode(serial);
    let row = certificate::ActiveModel {
        uid: Set(uid.clone()),
        ca_id: Set(ca.issuing.id),
        serial: Set(serial_hex.clone()),
        profile: Set(req.profile.as_str().to_owned()),
        subject: Set(req.common_name.clone()),
        not_before: Set(not_before),
        not_after: Set(not_after),
        der: Set(der.clone()),
        status: Set(super::revoke::VALID.to_owned()),
        created_at: Set(Utc::now()),
        crl_shard: Set(crl_shard(ca, &serial).map(i32::from)),
        // Set, even empty: every row of a batch's insert states the same columns itself.
        email: Set(None),
        medium_no: Set(None),
        ..Default::default()
    };
    let ocsp = match &ca.issuing.responder {
        Some(r) => Some(r.presign(ca.issuing.id, &serial_hex, super::revoke::VALID, None, None, not_before)?),
        None => None,
    };
    Ok(Signed { issued: Issued { uid, serial: serial_hex, der, not_before, not_after }, row, ocsp })
}

/// A certificate as RFC 5280 §4.1 has it, its parts kept as they were encoded.
#[derive(der::Sequence)]
struct CertificateParts<'a> {
    tbs_certificate: der::asn1::AnyRef<'a>,
    signature_algorithm: der::asn1::AnyRef<'a>,
    signature: der::asn1::BitStringRef<'a>,
}

/// The certificate of a linted draft: the draft's TBS, exactly, signed with the issuing CA's
/// key (whose algorithm the draft names already).
fn sign_draft(ca: &CaService, draft: &[u8]) -> Result<Vec<u8>, AppError> {
    use der::{Decode, Encode};
    let parts = CertificateParts::from_der(draft).context("draft certificate")?;
    let tbs = parts.tbs_certificate.to_der().context("draft's TBS")?;
    let signature = ca.issuing.signer().sign(&tbs).context("signing")?;
    let cert =
        CertificateParts { signature: der::asn1::BitStringRef::from_bytes(&signature).context("signature")?, ..parts };
    Ok(cert.to_der().context("certificate")?)
}

/// Records a signed certificate; `None` if its serial is taken (draw another).
async fn insert(db: &impl ConnectionTrait, signed: Signed) -> Result<Option<Issued>, AppError> {
    match certificate::Entity::insert(signed.row).exec_without_returning(db).await {
        Ok(_) => {
            if let Some(ocsp) = signed.ocsp {
                super::ocsp::store_presigned(db, ocsp).await?;
            }
            Ok(Some(signed.issued))
        }
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            tracing::warn!(serial = %signed.issued.serial, "serial collision");
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// Rows per multi-row insert: far under SQLite's 32,766 bound parameters and PostgreSQL's
/// 65,535 at under 20 columns a row.
const ROWS_PER_INSERT: usize = 128;

/// Records certificates signed by [`prepare`] in the caller's transaction, one insert per
/// table for many: the group commit's batch (`GroupCommit::issue`). Any failure (a serial
/// taken among them) fails it all; the caller then stores them one by one with [`store`].
pub async fn store_all(db: &impl ConnectionTrait, signed: &[&Signed]) -> Result<(), sea_orm::DbErr> {
    for chunk in signed.chunks(ROWS_PER_INSERT) {
        certificate::Entity::insert_many(chunk.iter().map(|s| s.row.clone())).exec_without_returning(db).await?;
        let ocsp: Vec<_> = chunk.iter().filter_map(|s| s.ocsp.clone()).collect();
        super::ocsp::store_all_presigned(db, ocsp).await?;
    }
    Ok(())
}

/// Records a certificate signed by [`prepare`] (or its renewal and change forms), in the
/// caller's transaction: one of a group commit's writes. A serial already taken (one chance
/// in 2^80 for two certificates of the same millisecond) is an internal error; the caller
/// may sign again.
pub async fn store(db: &impl ConnectionTrait, signed: Signed) -> Result<Issued, AppError> {
    insert(db, signed).await?.ok_or_else(|| AppError::Internal(anyhow::anyhow!("serial collision")))
}

/// Signing work waiting for a signer thread.
type SigningJob = Box<dyn FnOnce() + Send>;

/// The signer threads, one per core, started at the first signature: each takes the next
/// job from one queue as soon as it is done with the last, so a core never waits for a
/// handoff between two certificates (with a blocking task per signature behind a semaphore,
/// the cores were a fifth idle under load).
fn signers() -> &'static std::sync::mpsc::Sender<SigningJob> {
    static SIGNERS: std::sync::OnceLock<std::sync::mpsc::Sender<SigningJob>> = std::sync::OnceLock::new();
    SIGNERS.get_or_init(|| {
        let (jobs, queue) = std::sync::mpsc::channel::<SigningJob>();
        let queue = std::sync::Arc::new(std::sync::Mutex::new(queue));
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        for i in 0..cores {
            let queue = queue.clone();
            let started = std::thread::Builder::new().name(format!("certdesk-signer-{i}")).spawn(move || {
                loop {
                    // The lock is held only while one thread waits for the next job.
                    let next = queue.lock().unwrap_or_else(|e| e.into_inner()).recv();
                    match next {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            });
            if let Err(e) = started {
                tracing::error!(error = %e, "a signer thread did not start");
            }
        }
        jobs
    })
}

/// Runs signing work ([`prepare`] and its kin) on a signer thread: it is CPU work, and more
/// signers than cores would only take turns with the threads that serve requests and write
/// the database (the group commit's writer among them). Work whose caller stopped waiting
/// before its turn is not done; a panic in it is the caller's error, not the thread's end.
pub async fn off_thread<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    let (answer, answered) = tokio::sync::oneshot::channel();
    let job: SigningJob = Box::new(move || {
        if answer.is_closed() {
            return;
        }
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
            .unwrap_or_else(|_| Err(AppError::Internal(anyhow::anyhow!("signing panicked"))));
        let _ = answer.send(result);
    });
    signers().send(job).map_err(|_| AppError::Internal(anyhow::anyhow!("the signer threads have stopped")))?;
    answered.await.map_err(|_| AppError::Internal(anyhow::anyhow!("signing stopped")))?
}

/// The signing half of [`issue`]: a certificate for `req`, checked and signed, not stored.
pub fn prepare(ca: &CaService, req: &IssueRequest<'_>) -> Result<Signed, AppError> {
    sign_plan(ca, &plan_of(req)?)
}

async fn sign(db: &impl ConnectionTrait, ca: &CaService, req: &Plan<'_>) -> Result<Issued, AppError> {
    for _attempt in 0..3 {
        if let Some(issued) = insert(db, sign_plan(ca, req)?).await? {
            return Ok(issued);
        }
    }
    Err(AppError::Internal(anyhow::anyhow!("three serial collisions in a row")))
}
