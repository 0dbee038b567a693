//! 证书信息 of a certificate kept on the phone, read from its PEM here (no server needed, so
//! it shows offline too): 通用名, 颁发者, 证书序列号, validity.

use x509_cert::Certificate;
use x509_cert::der::DecodePem;
use x509_cert::name::Name;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    pub common_name: String,
    pub issuer: String,
    /// Upper-case hex, as the portal shows serials.
    pub serial: String,
    /// `YYYY-MM-DD`.
    pub not_before: String,
    pub not_after: String,
}

/// The first CN of a name (else the whole name as RFC 4514 text).
fn common_name(name: &Name) -> String {
    let cn = x509_cert::der::oid::ObjectIdentifier::new_unwrap("2.5.4.3");
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|atv| atv.oid == cn)
        .map(|atv| String::from_utf8_lossy(atv.value.value()).into_owned())
        .unwrap_or_else(|| name.to_string())
}

fn date(t: &x509_cert::time::Time) -> String {
    t.to_date_time().to_string().chars().take(10).collect()
}

pub fn info(pem: &str) -> Option<CertInfo> {
    let cert = Certificate::from_pem(pem.as_bytes()).ok()?;
    let tbs = &cert.tbs_certificate;
    let serial = tbs.serial_number.as_bytes().iter().map(|b| format!("{b:02X}")).collect();
    Some(CertInfo {
        common_name: common_name(&tbs.subject),
        issuer: common_name(&tbs.issuer),
        serial,
        not_before: date(&tbs.validity.not_before),
        not_after: date(&tbs.validity.not_after),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A self-signed certificate of a phone-made key, as PEM.
    fn pem(subject: &str, serial: &[u8]) -> String {
        use std::str::FromStr;
        use x509_cert::builder::{Builder, CertificateBuilder, Profile};
        use x509_cert::der::EncodePem;
        let key = certdesk_shared::shield_keys::new_key();
        let spki = x509_cert::spki::SubjectPublicKeyInfoOwned::from_key(*key.verifying_key()).unwrap();
        let validity = x509_cert::time::Validity::from_now(std::time::Duration::from_secs(86_400 * 365)).unwrap();
        let serial = x509_cert::serial_number::SerialNumber::new(serial).unwrap();
        let name = Name::from_str(subject).unwrap();
        let builder = CertificateBuilder::new(Profile::Root, serial, validity, name, spki, &key).unwrap();
        let cert = builder.build::<p256::ecdsa::DerSignature>().unwrap();
        cert.to_pem(x509_cert::der::pem::LineEnding::LF).unwrap()
    }

    #[test]
    fn the_panel_reads_the_certificate() {
        let i = info(&pem("CN=Zhang San,O=CertDesk,C=CN", &[0x01, 0xAB])).unwrap();
        assert_eq!(i.common_name, "Zhang San");
        assert_eq!(i.issuer, "Zhang San");
        assert_eq!(i.serial, "01AB");
        assert_eq!(i.not_before.len(), 10);
        assert!(i.not_after > i.not_before, "{i:?}");
        let i = info(&pem("O=CertDesk", &[0x05])).unwrap();
        assert_eq!(i.common_name, "O=CertDesk", "no CN: the whole name");
    }

    #[test]
    fn junk_is_no_certificate() {
        assert_eq!(info("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), None);
        assert_eq!(info(""), None);
    }
}
