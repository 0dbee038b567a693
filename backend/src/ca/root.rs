//! The offline root CA (CA/B Forum BR §6.2): `certdesk ca root …`, run on a machine of its
//! own. Its directory holds the root key sealed (under `CERTDESK_ROOT_PASSPHRASE`; in
//! development under a secret file beside it), the root certificate and the root's ledger
//! (what it signed, what it revoked, the last CRL number). The server never reads this
//! directory: it imports the root certificate, the issuing CA's certificate and the root
//! CRL (`certdesk ca import`), and never signs with the root.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use certdesk_shared::certificate::RevocationReason;
use chrono::{DateTime, Duration, DurationRound, Utc};
use rcgen::{CertificateSigningRequestParams, Issuer};
use serde::{Deserialize, Serialize};
use x509_parser::prelude::FromDer;

use super::hierarchy::{ANY_POLICY, ISSUING, Names, ROOT, ca_params};
use super::signer::{CaSecret, KeyAlgorithm, RcgenKey, SoftwareSigner, write_private};
use super::{Authority, asn1, revoke, subject_key_id};

/// The root key, sealed (AES-256-GCM under an argon2id key, `root` bound in).
pub const KEY_FILE: &str = "root.key";
/// The root certificate, DER: what the server imports and clients trust.
pub const CERT_FILE: &str = "root.crt";
/// What the root signed and revoked, and its last CRL number.
pub const LEDGER_FILE: &str = "root.json";
/// Development only: the secret the root key is sealed under when no passphrase is given.
pub const SECRET_FILE: &str = "root.secret";
/// The environment variable with the root's passphrase.
pub const PASSPHRASE_ENV: &str = "CERTDESK_ROOT_PASSPHRASE";

pub const ROOT_YEARS: i64 = 20;
pub const ISSUING_YEARS: i64 = 10;
/// A root CRL is valid a year (BR §4.9.7: nextUpdate at most 12 months after thisUpdate);
/// the server reports it from 30 days before it runs out.
pub const ROOT_CRL_VALIDITY: Duration = Duration::days(365);

/// Reasons a CA certificate may be revoked for (BR §7.2.2: the reason is present and one of these).
pub const CA_REASONS: [RevocationReason; 5] = [
    RevocationReason::KeyCompromise,
    RevocationReason::CaCompromise,
    RevocationReason::AffiliationChanged,
    RevocationReason::Superseded,
    RevocationReason::CessationOfOperation,
];

#[derive(Serialize, Deserialize, Default)]
struct Ledger {
    /// The number of the last CRL signed (the next one takes this + 1).
    crl_number: i64,
    /// Every certificate the root signed, in order.
    issued: Vec<Entry>,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    /// Lower-case hex, as in the server's tables.
    serial: String,
    subject: String,
    not_after: String,
    revoked: Option<Revocation>,
}

#[derive(Serialize, Deserialize)]
struct Revocation {
    /// RFC 3339.
    at: String,
    reason: RevocationReason,
}

/// The secret the root key is sealed under: the passphrase (12+ characters) or, in
/// development only, `root.secret` in the directory (created when missing). A secret file
/// beside the key protects nothing on a stolen medium, so production refuses it.
pub fn secret(dir: &Path, passphrase: Option<&str>, dev: bool) -> Result<CaSecret> {
    match passphrase {
        Some(p) if !p.is_empty() => CaSecret::from_passphrase(p),
        _ if dev => CaSecret::load_or_create(&dir.join(SECRET_FILE)),
        _ => bail!("set {PASSPHRASE_ENV} (12 or more characters): the root key is sealed under it"),
    }
}

/// The root's directory in development: under the data directory, apart from the database.
pub fn dev_dir(config: &crate::config::Config) -> PathBuf {
    config.data_dir.join("offline-root")
}

/// Whether `dir` holds a root already.
pub fn exists(dir: &Path) -> bool {
    dir.join(KEY_FILE).exists()
}

/// `certdesk ca root init`: a new root key and its self-signed certificate (20 years) in
/// `dir`. Refuses a directory that holds a root. Returns the certificate (DER).
pub fn init(dir: &Path, secret: &CaSecret, names: &Names, algorithm: KeyAlgorithm) -> Result<Vec<u8>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    if exists(dir) {
        bail!("{} holds a root CA already", dir.display());
    }
    let key = SoftwareSigner::generate_with(algorithm)?;
    let params = ca_params(names.dn("Root CA")?, ROOT_YEARS, None)?;
    let cert = params.self_signed(&RcgenKey(&key))?;
    // create_new: two ceremonies on one directory cannot both write a key.
    write_private(&dir.join(KEY_FILE), &key.seal(secret, ROOT)?)?;
    std::fs::write(dir.join(CERT_FILE), cert.der())?;
    save(dir, &Ledger::default())?;
    Ok(cert.der().to_vec())
}

/// What an old deployment's root signed: serial (hex), subject, end of validity.
pub struct Signed {
    pub serial: String,
    pub subject: String,
    pub not_after: DateTime<Utc>,
}

/// `certdesk ca root take-offline`: an old deployment's root (its key, certificate and what
/// it signed) becomes an offline root in `dir`, sealed under `secret`; its CRL numbers go on
/// from `crl_number`. Refuses a directory that holds a root.
pub fn adopt(
    dir: &Path,
    secret: &CaSecret,
    key: &SoftwareSigner,
    cert_der: &[u8],
    issued: &[Signed],
    crl_number: i64,
) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    if exists(dir) {
        bail!("{} holds a root CA already", dir.display());
    }
    let (_, cert) = x509_parser::parse_x509_certificate(cert_der)?;
    if cert.public_key().subject_public_key.data.as_ref() != super::signer::Signer::public_key_raw(key) {
        bail!("the root key does not match the root certificate");
    }
    write_private(&dir.join(KEY_FILE), &key.seal(secret, ROOT)?)?;
    std::fs::write(dir.join(CERT_FILE), cert_der)?;
    let issued = issued
        .iter()
        .map(|s| Entry {
            serial: normal_serial(&s.serial),
            subject: s.subject.clone(),
            not_after: s.not_after.to_rfc3339(),
            revoked: None,
        })
        .collect();
    save(dir, &Ledger { crl_number, issued })
}

/// The root, opened: its certificate and key (checked to match), and its ledger.
struct OfflineRoot {
    authority: Authority,
    ledger: Ledger,
}

fn open(dir: &Path, secret: &CaSecret) -> Result<OfflineRoot> {
    let blob = std::fs::read(dir.join(KEY_FILE)).with_context(|| format!("no root CA in {}", dir.display()))?;
    let key = SoftwareSigner::unseal(&blob, secret, ROOT)?;
    let cert_der = std::fs::read(dir.join(CERT_FILE)).with_context(|| format!("reading {CERT_FILE}"))?;
    let (_, cert) = x509_parser::parse_x509_certificate(&cert_der)?;
    if cert.public_key().subject_public_key.data.as_ref() != super::signer::Signer::public_key_raw(&key) {
        bail!("the root key in {} does not match its {CERT_FILE}", dir.display());
    }
    let time = |t: x509_parser::time::ASN1Time| DateTime::from_timestamp(t.timestamp(), 0).unwrap_or_default();
    let authority = Authority {
        id: 0,
        name: ROOT.to_owned(),
        not_before: time(cert.validity().not_before),
        not_after: time(cert.validity().not_after),
        ski: subject_key_id(&cert_der)?,
        cert_der,
        partitions: None,
        responder: None,
        signer: Arc::new(key),
    };
    let ledger = serde_json::from_slice(&std::fs::read(dir.join(LEDGER_FILE)).context("reading the root's ledger")?)
        .context("the root's ledger is damaged")?;
    Ok(OfflineRoot { authority, ledger })
}

/// Writes the ledger through a temporary file, so a crash leaves the old one or the new one.
fn save(dir: &Path, ledger: &Ledger) -> Result<()> {
    let tmp = dir.join(format!("{LEDGER_FILE}.new"));
    std::fs::write(&tmp, serde_json::to_vec_pretty(ledger)?)?;
    std::fs::rename(&tmp, dir.join(LEDGER_FILE))?;
    Ok(())
}

/// DER, from DER or PEM input.
pub fn der_of(input: &[u8]) -> Vec<u8> {
    if input.starts_with(b"-----BEGIN")
        && let Some((_, der)) = asn1::pem_decode(input)
    {
        return der;
    }
    input.to_vec()
}

/// SHA-256 of a certificate's or request's public key (SubjectPublicKeyInfo), for both
/// sides of the ceremony to read aloud and compare.
pub fn key_fingerprint(spki_der: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode_upper(Sha256::digest(spki_der))
}

/// SHA-256 of the key in a request (PEM or DER).
pub fn request_key_fingerprint(csr: &[u8]) -> Result<String> {
    let der = der_of(csr);
    let (_, parsed) = x509_parser::certification_request::X509CertificationRequest::from_der(&der)
        .map_err(|e| anyhow::anyhow!("the request is not a PKCS#10 CSR: {e}"))?;
    Ok(key_fingerprint(parsed.certification_request_info.subject_pki.raw))
}

/// What the root signed for the issuing CA.
pub struct SignedIssuing {
    pub cert_der: Vec<u8>,
    pub subject: String,
    pub serial: String,
    pub key_sha256: String,
}

/// `certdesk ca root sign-issuing`: the issuing CA's certificate for the server's request,
/// with the profile the server always used: 10 years (never past the root), path length 0,
/// keyCertSign + cRLSign + digitalSignature, AKI, anyPolicy, the CRL distribution point and
/// CA issuers at the server's public URL (`/ca/root.crl`, `/ca/root.crt`). Only the subject
/// and the key come from the request, whose signature must verify.
pub fn sign_issuing(dir: &Path, secret: &CaSecret, csr: &[u8], public_url: &str) -> Result<SignedIssuing> {
    let mut root = open(dir, secret)?;
    let csr_der = der_of(csr);
    let (_, parsed) = x509_parser::certification_request::X509CertificationRequest::from_der(&csr_der)
        .map_err(|e| anyhow::anyhow!("the request is not a PKCS#10 CSR: {e}"))?;
    let spki = parsed.certification_request_info.subject_pki.raw.to_vec();
    let request = CertificateSigningRequestParams::from_der(&csr_der.as_slice().into())
        .map_err(|e| anyhow::anyhow!("the request is refused (its signature must verify): {e}"))?;
    // rcgen re-encodes the key from the signature algorithm: it must be the key requested.
    if rcgen::PublicKeyData::subject_public_key_info(&request.public_key) != spki {
        bail!("the request's key does not match its signature algorithm");
    }
    let base = public_url.trim_end_matches('/');
    let mut params = ca_params(request.params.distinguished_name.clone(), ISSUING_YEARS, Some(0))?;
    let root_end = super::to_offset(root.authority.not_after)?;
    if params.not_after > root_end {
        params.not_after = root_end;
    }
    params.use_authority_key_identifier_extension = true;
    params.crl_distribution_points = vec![rcgen::CrlDistributionPoint { uris: vec![format!("{base}/ca/{ROOT}.crl")] }];
    params.custom_extensions = vec![
        asn1::authority_info_access(None, &format!("{base}/ca/{ROOT}.crt"))?,
        asn1::certificate_policies(ANY_POLICY)?,
    ];
    let issuer =
        Issuer::from_ca_cert_der(&root.authority.cert_der.as_slice().into(), RcgenKey(root.authority.signer()))?;
    let cert = params.signed_by(&request.public_key, &issuer)?;
    let (_, parsed_cert) = x509_parser::parse_x509_certificate(cert.der())?;
    let serial = hex::encode(parsed_cert.raw_serial());
    let subject = parsed_cert.subject().to_string();
    root.ledger.issued.push(Entry {
        serial: serial.clone(),
        subject: subject.clone(),
        not_after: DateTime::from_timestamp(parsed_cert.validity().not_after.timestamp(), 0)
            .unwrap_or_default()
            .to_rfc3339(),
        revoked: None,
    });
    save(dir, &root.ledger)?;
    tracing::info!(%serial, %subject, name = ISSUING, "the root signed an issuing CA certificate");
    Ok(SignedIssuing { cert_der: cert.der().to_vec(), subject, serial, key_sha256: key_fingerprint(&spki) })
}

/// A serial as the ledger writes it: lower-case hex without `0x` or colons.
fn normal_serial(s: &str) -> String {
    s.trim().trim_start_matches("0x").replace(':', "").to_ascii_lowercase()
}

/// `certdesk ca root crl`: the root's CRL, valid [`ROOT_CRL_VALIDITY`], with the next CRL
/// number, listing every certificate the root revoked; `revoke` first revokes these
/// (serials the root signed, each with a reason from [`CA_REASONS`]; revoking again keeps
/// the first date and reason).
pub fn crl(dir: &Path, secret: &CaSecret, revoke: &[(String, RevocationReason)]) -> Result<Vec<u8>> {
    let mut root = open(dir, secret)?;
    let now = Utc::now().duration_trunc(Duration::seconds(1))?;
    for (serial, reason) in revoke {
        if !CA_REASONS.contains(reason) {
            bail!("a CA certificate is revoked for one of {CA_REASONS:?}, not {reason:?}");
        }
        let serial = normal_serial(serial);
        let entry = root
            .ledger
            .issued
            .iter_mut()
            .find(|e| e.serial == serial)
            .with_context(|| format!("this root never signed a certificate with serial {serial}"))?;
        if entry.revoked.is_none() {
            entry.revoked = Some(Revocation { at: now.to_rfc3339(), reason: *reason });
        }
    }
    let mut entries = Vec::new();
    for e in &root.ledger.issued {
        if let Some(r) = &e.revoked {
            let at =
                DateTime::parse_from_rfc3339(&r.at).context("a revocation date in the ledger")?.with_timezone(&Utc);
            entries.extend(revoke::crl_entry(&e.serial, at, r.reason, None)?);
        }
    }
    let number = root.ledger.crl_number + 1;
    let der = revoke::sign_crl(&root.authority, number, now, now + ROOT_CRL_VALIDITY, &entries, None)?;
    root.ledger.crl_number = number;
    save(dir, &root.ledger)?;
    Ok(der)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_are_read_as_the_ledger_writes_them() {
        assert_eq!(normal_serial("0x7F00AB"), "7f00ab");
        assert_eq!(normal_serial(" 08:d0:44:AB "), "08d044ab");
    }

    #[test]
    fn production_needs_a_passphrase_and_development_a_secret_file_beside_the_key() {
        let dir = tempfile::tempdir().unwrap();
        assert!(secret(dir.path(), None, false).is_err());
        assert!(secret(dir.path(), Some("short"), false).is_err());
        assert!(secret(dir.path(), Some("a long enough passphrase"), false).is_ok());
        assert!(!dir.path().join(SECRET_FILE).exists());
        assert!(secret(dir.path(), None, true).is_ok());
        assert!(dir.path().join(SECRET_FILE).exists());
    }

    #[test]
    fn a_root_signs_crls_with_growing_numbers_and_revokes_only_its_own_certificates() {
        let dir = tempfile::tempdir().unwrap();
        let s = secret(dir.path(), Some("a long enough passphrase"), false).unwrap();
        let names = Names { organisation: "Test".into(), common_name: "Test".into() };
        init(dir.path(), &s, &names, KeyAlgorithm::P256).unwrap();
        let number = |der: &[u8]| x509_parser::parse_x509_crl(der).unwrap().1.crl_number().unwrap().clone();
        let first = crl(dir.path(), &s, &[]).unwrap();
        let second = crl(dir.path(), &s, &[]).unwrap();
        assert!(number(&second) > number(&first));
        assert!(crl(dir.path(), &s, &[("01".into(), RevocationReason::KeyCompromise)]).is_err());
        // A tampered key is refused before anything is signed.
        let mut blob = std::fs::read(dir.path().join(KEY_FILE)).unwrap();
        let last = blob.len() - 1;
        blob[last] ^= 1;
        std::fs::write(dir.path().join(KEY_FILE), blob).unwrap();
        assert!(crl(dir.path(), &s, &[]).is_err());
    }
}
