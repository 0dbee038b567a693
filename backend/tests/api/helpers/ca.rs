//! The CA seen from outside: CSRs, certificates issued directly, PEM (through the
//! production encoder and decoder), and OpenSSL's verify and OCSP, CRLs as a relying party
//! fetches them.

use std::process::Command;

use certdesk::ca::issue::{IssueRequest, issue};
use certdesk::ca::profile::Subject;
use certdesk::entity::certificate;
use certdesk_shared::ErrorCode;
use certdesk_shared::certificate::CertificateProfile;
use rcgen::{CertificateParams, KeyPair};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::helpers::TestApp;

pub fn subject(profile: CertificateProfile) -> Subject {
    // Each profile's holder as `Subject::of_holder` builds it: a person is CN alone (no ID
    // number), a legal person CN in O with the unit's credit code, a unit CN and O.
    let (common_name, unit) = match certdesk_shared::apply::HolderKind::of(profile) {
        certdesk_shared::apply::HolderKind::Person => ("张三", false),
        certdesk_shared::apply::HolderKind::LegalPerson => ("李四", true),
        certdesk_shared::apply::HolderKind::Organisation => ("天津市滨海测试有限公司", true),
    };
    Subject {
        common_name: common_name.into(),
        identifier: unit.then(|| "91350100M000100Y43".into()),
        business_number: Some("SL20261121000001".into()),
        province: "天津市".into(),
        city: "滨海新区".into(),
        organisation: unit.then(|| "天津市滨海测试有限公司".into()),
    }
}

pub fn csr_for(key: &KeyPair, cn: &str) -> Vec<u8> {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(rcgen::DnType::CommonName, cn);
    p.serialize_request(key).unwrap().der().to_vec()
}

pub fn p256_csr() -> Vec<u8> {
    csr_for(&KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap(), "ignored")
}

pub async fn issue_one(
    app: &TestApp,
    profile: CertificateProfile,
    csr: &[u8],
) -> Result<certdesk::ca::issue::Issued, ErrorCode> {
    let s = subject(profile);
    let req = IssueRequest { profile, subject: &s, csr, validity_days: 365 };
    issue(&app.state.db, &app.state.ca, &req).await.map_err(|e| e.code())
}

/// PEM text of a DER object, by the server's own encoder (RFC 7468, `\n` line ends).
pub fn pem(label: &str, der: &[u8]) -> String {
    certdesk::ca::asn1::pem(label, der).unwrap()
}

/// The DER of a PEM block, by the server's own decoder (its label not checked).
pub fn pem_to_der(pem: &str) -> Vec<u8> {
    certdesk::ca::asn1::pem_decode(pem.as_bytes()).expect("a PEM block").1
}

pub struct Files {
    pub dir: tempfile::TempDir,
}

impl Files {
    pub fn write(&self, name: &str, content: &str) -> std::path::PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, content).unwrap();
        p
    }
}

/// `openssl verify -x509_strict` with our chain; Ok(()) or the tool's output.
pub fn openssl_verify(f: &Files, app: &TestApp, leaf: &[u8], crl_der: Option<&[u8]>) -> Result<(), String> {
    let root = f.write("root.pem", &pem("CERTIFICATE", &app.state.ca.root.cert_der));
    let issuing = f.write("issuing.pem", &pem("CERTIFICATE", &app.state.ca.issuing.cert_der));
    let leaf = f.write("leaf.pem", &pem("CERTIFICATE", leaf));
    let mut cmd = Command::new("openssl");
    cmd.args(["verify", "-x509_strict", "-purpose", "any", "-CAfile"]).arg(&root).arg("-untrusted").arg(&issuing);
    if let Some(crl) = crl_der {
        let crl = f.write("crl.pem", &pem("X509 CRL", crl));
        cmd.arg("-crl_check").arg("-CRLfile").arg(crl);
    }
    let out = cmd.arg(&leaf).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    if out.status.success() { Ok(()) } else { Err(text) }
}

/// The URL in a certificate's CRL distribution point (one URI, as we issue them).
pub fn crl_url_of(cert_der: &[u8]) -> String {
    use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};
    let (_, cert) = x509_parser::parse_x509_certificate(cert_der).unwrap();
    let uris: Vec<String> = cert
        .extensions()
        .iter()
        .filter_map(|e| match e.parsed_extension() {
            ParsedExtension::CRLDistributionPoints(dps) => Some(dps),
            _ => None,
        })
        .flat_map(|dps| dps.points.iter())
        .filter_map(|dp| match &dp.distribution_point {
            Some(DistributionPointName::FullName(names)) => Some(names),
            _ => None,
        })
        .flatten()
        .filter_map(|n| match n {
            GeneralName::URI(u) => Some(u.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(uris.len(), 1, "{uris:?}");
    uris[0].clone()
}

/// The CRL a relying party fetches for the certificate with this serial: the one its CRL
/// distribution point names (its shard's), from this server.
pub async fn fetch_crl(app: &TestApp, serial: &str) -> Vec<u8> {
    let cert = certificate::Entity::find()
        .filter(certificate::Column::Serial.eq(serial.to_ascii_lowercase()))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let url = crl_url_of(&cert.der);
    let path = url.strip_prefix(&app.state.config.public_url).unwrap_or_else(|| panic!("{url}"));
    fetch_crl_at(app, path).await
}

/// A CRL at a path of this server, checked for its content type and caching.
pub async fn fetch_crl_at(app: &TestApp, path: &str) -> Vec<u8> {
    let res = app.get(path).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pkix-crl");
    assert!(res.headers()["cache-control"].to_str().unwrap().contains("max-age=300"));
    res.bytes().await.unwrap().to_vec()
}

pub fn crl_number(der: &[u8]) -> u64 {
    let (_, crl) = x509_parser::parse_x509_crl(der).unwrap();
    crl.crl_number().unwrap().to_u64_digits().first().copied().unwrap_or(0)
}

/// `openssl ocsp` against the running responder: stdout and stderr together.
pub fn openssl_ocsp(f: &Files, app: &TestApp, serial_hex: &str, extra: &[&str]) -> String {
    let root = f.write("root.pem", &pem("CERTIFICATE", &app.state.ca.root.cert_der));
    let issuing = f.write("issuing.pem", &pem("CERTIFICATE", &app.state.ca.issuing.cert_der));
    let out = Command::new("openssl")
        .args(["ocsp", "-issuer"])
        .arg(&issuing)
        .args(["-serial", &format!("0x{serial_hex}"), "-url", &app.url("/ocsp"), "-CAfile"])
        .arg(&root)
        .arg("-verify_other")
        .arg(&issuing)
        .args(extra)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr)
}
