//! 证书信息 of a certificate kept on the phone, read from its PEM here (no server needed, so
//! it shows offline too): 通用名, 颁发者, 证书序列号, validity.

use x509_cert::Certificate;
use x509_cert::der::oid::ObjectIdentifier;
use x509_cert::der::oid::db::rfc4519;
use x509_cert::der::{DecodePem, Tag, Tagged};
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
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|atv| atv.oid == rfc4519::CN)
        .map(|atv| String::from_utf8_lossy(atv.value.value()).into_owned())
        .unwrap_or_else(|| rfc4514(name))
}

/// A name as RFC 4514 text, as x509-cert's `Display` writes it, with the short names of RFC
/// 4514 §3 for the attributes; any other attribute as its OID and DER in hex, which the RFC
/// allows for all. `Display` would look names up in const-oid's database of every attribute
/// name known, tens of KB of the phone app.
fn rfc4514(name: &Name) -> String {
    use std::fmt::Write;
    use x509_cert::der::Encode;
    const SHORT: [(ObjectIdentifier, &str); 9] = [
        (rfc4519::CN, "CN"),
        (rfc4519::L, "L"),
        (rfc4519::ST, "ST"),
        (rfc4519::O, "O"),
        (rfc4519::OU, "OU"),
        (rfc4519::C, "C"),
        (rfc4519::STREET, "STREET"),
        (rfc4519::DC, "DC"),
        (rfc4519::UID, "UID"),
    ];
    let mut out = String::new();
    for (i, rdn) in name.0.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, atv) in rdn.0.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            let text = match atv.value.tag() {
                Tag::PrintableString | Tag::Utf8String | Tag::Ia5String | Tag::TeletexString => {
                    std::str::from_utf8(atv.value.value()).ok()
                }
                _ => None,
            };
            match (SHORT.iter().find(|(oid, _)| *oid == atv.oid), text) {
                (Some((_, short)), Some(text)) => {
                    out.push_str(short);
                    out.push('=');
                    let mut chars = text.char_indices().peekable();
                    while let Some((k, c)) = chars.next() {
                        match c {
                            '#' if k == 0 => out.push_str("\\#"),
                            ' ' if k == 0 || chars.peek().is_none() => out.push_str("\\ "),
                            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                                out.push('\\');
                                out.push(c);
                            }
                            '\x00'..='\x1f' | '\x7f' => {
                                let _ = write!(out, "\\{:02x}", c as u8);
                            }
                            _ => out.push(c),
                        }
                    }
                }
                _ => {
                    let _ = write!(out, "{}=#", atv.oid);
                    for b in atv.value.to_der().unwrap_or_default() {
                        let _ = write!(out, "{b:02x}");
                    }
                }
            }
        }
    }
    out
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

    /// Without const-oid's database, names of the attributes a certificate's name holds
    /// print as x509-cert's `Display` prints them.
    #[test]
    fn a_name_without_cn_reads_as_x509_cert_writes_it() {
        use std::str::FromStr;
        for text in [
            "O=CertDesk",
            "O=Cert\\,Desk+OU=IT,L=Fuzhou,ST=Fujian,C=CN",
            "STREET=1 Road,DC=example,UID=u1,O=\\#hash\\ ",
            "O=福建某某科技有限公司,2.5.4.97=#0c0b564154434e2d3132333435",
        ] {
            let name = Name::from_str(text).unwrap();
            assert_eq!(rfc4514(&name), name.to_string(), "{text}");
        }
    }

    #[test]
    fn junk_is_no_certificate() {
        assert_eq!(info("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), None);
        assert_eq!(info(""), None);
    }
}
