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

    #[test]
    fn junk_is_no_certificate() {
        assert_eq!(info("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), None);
        assert_eq!(info(""), None);
    }
}
