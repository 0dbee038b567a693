//! The few DER structures rcgen does not write (Authority Information Access, Certificate
//! Policies, the pieces of CRLs and OCSP responses, a certs-only PKCS#7) and PEM text.

/// DER length octets.
fn len(n: usize) -> Vec<u8> {
    if n < 0x80 {
        vec![n as u8]
    } else {
        let bytes: Vec<u8> = n.to_be_bytes().iter().copied().skip_while(|b| *b == 0).collect();
        let mut out = vec![0x80 | bytes.len() as u8];
        out.extend(bytes);
        out
    }
}

pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend(len(content.len()));
    out.extend_from_slice(content);
    out
}

/// An OBJECT IDENTIFIER from its arcs (each arc up to 128 bits, for `2.25.<uuid>` OIDs).
pub fn oid(arcs: &[u128]) -> Vec<u8> {
    let mut body = Vec::new();
    let mut push = |mut v: u128| {
        let mut chunk = vec![(v & 0x7f) as u8];
        v >>= 7;
        while v > 0 {
            chunk.push(0x80 | (v & 0x7f) as u8);
            v >>= 7;
        }
        chunk.reverse();
        body.extend(chunk);
    };
    if let [a, b, rest @ ..] = arcs {
        push(a * 40 + b);
        for &arc in rest {
            push(arc);
        }
    }
    tlv(0x06, &body)
}

pub const ID_AD_OCSP: &[u128] = &[1, 3, 6, 1, 5, 5, 7, 48, 1];
pub const ID_AD_CA_ISSUERS: &[u128] = &[1, 3, 6, 1, 5, 5, 7, 48, 2];
pub const ID_PE_AUTHORITY_INFO_ACCESS: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 1, 1];
pub const ID_CE_CERTIFICATE_POLICIES: &[u64] = &[2, 5, 29, 32];

/// `AuthorityInfoAccessSyntax` with an OCSP responder (optional) and the issuer's certificate.
pub fn authority_info_access(ocsp: Option<&str>, ca_issuers: &str) -> Vec<u8> {
    let access = |method: &[u128], uri: &str| {
        let mut seq = oid(method);
        seq.extend(tlv(0x86, uri.as_bytes())); // [6] uniformResourceIdentifier IA5String
        tlv(0x30, &seq)
    };
    let mut body = Vec::new();
    if let Some(ocsp) = ocsp {
        body.extend(access(ID_AD_OCSP, ocsp));
    }
    body.extend(access(ID_AD_CA_ISSUERS, ca_issuers));
    tlv(0x30, &body)
}

/// RFC 5280 `Time`: UTCTime through 2049, GeneralizedTime from 2050.
pub fn time(t: chrono::DateTime<chrono::Utc>) -> Vec<u8> {
    use chrono::Datelike;
    if t.year() < 2050 { tlv(0x17, t.format("%y%m%d%H%M%SZ").to_string().as_bytes()) } else { generalized_time(t) }
}

pub fn generalized_time(t: chrono::DateTime<chrono::Utc>) -> Vec<u8> {
    tlv(0x18, t.format("%Y%m%d%H%M%SZ").to_string().as_bytes())
}

/// A non-negative INTEGER from big-endian bytes (minimal, with a leading zero if needed).
pub fn uint(bytes: &[u8]) -> Vec<u8> {
    let trimmed: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
    let mut v = if trimmed.is_empty() { vec![0] } else { trimmed };
    if v[0] & 0x80 != 0 {
        v.insert(0, 0);
    }
    tlv(0x02, &v)
}

/// The `AlgorithmIdentifier` of a signature algorithm: ECDSA without parameters, RSA
/// PKCS#1 v1.5 with NULL.
pub fn signature_algorithm(alg: &rcgen::SignatureAlgorithm) -> Option<Vec<u8>> {
    if alg == &rcgen::PKCS_ECDSA_P256_SHA256 {
        Some(tlv(0x30, &oid(&[1, 2, 840, 10045, 4, 3, 2])))
    } else if alg == &rcgen::PKCS_ECDSA_P384_SHA384 {
        Some(tlv(0x30, &oid(&[1, 2, 840, 10045, 4, 3, 3])))
    } else if alg == &rcgen::PKCS_RSA_SHA256 {
        Some(tlv(0x30, &[oid(&[1, 2, 840, 113549, 1, 1, 11]), vec![0x05, 0x00]].concat()))
    } else {
        None
    }
}

/// A non-critical extension for rcgen from its DER content.
pub fn ext(oid: &[u64], content: Vec<u8>) -> rcgen::CustomExtension {
    let mut e = rcgen::CustomExtension::from_oid_content(oid, content);
    e.set_criticality(false);
    e
}

/// `certificatePolicies` with one policy and no qualifiers.
pub fn certificate_policies(policy: &[u128]) -> Vec<u8> {
    tlv(0x30, &tlv(0x30, &oid(policy)))
}

/// The label and DER of the first PEM block (RFC 7468), or `None`.
pub fn pem_decode(input: &[u8]) -> Option<(String, Vec<u8>)> {
    use base64::Engine;
    let text = std::str::from_utf8(input).ok()?;
    let begin = text.lines().find(|l| l.starts_with("-----BEGIN "))?;
    let label = begin.strip_prefix("-----BEGIN ")?.strip_suffix("-----")?.to_owned();
    let body: String = text
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN "))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END "))
        .collect();
    let der = base64::engine::general_purpose::STANDARD.decode(body.trim()).ok()?;
    Some((label, der))
}

/// PEM text of a DER object (64-character lines).
pub fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// A degenerate PKCS#7 SignedData holding certificates only (RFC 2315 / RFC 5652 "certs-only").
pub fn pkcs7_certs_only(certs: &[&[u8]]) -> Vec<u8> {
    const SIGNED_DATA: &[u128] = &[1, 2, 840, 113549, 1, 7, 2];
    const DATA: &[u128] = &[1, 2, 840, 113549, 1, 7, 1];
    let mut signed = tlv(0x02, &[1]); // version 1
    signed.extend(tlv(0x31, &[])); // digestAlgorithms
    signed.extend(tlv(0x30, &oid(DATA))); // encapContentInfo without content
    signed.extend(tlv(0xa0, &certs.concat())); // [0] IMPLICIT certificates
    signed.extend(tlv(0x31, &[])); // signerInfos
    let mut info = oid(SIGNED_DATA);
    info.extend(tlv(0xa0, &tlv(0x30, &signed)));
    tlv(0x30, &info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_openssl() {
        // openssl asn1parse -genstr 'OID:1.3.6.1.5.5.7.48.1' -out - | xxd
        assert_eq!(oid(&[1, 3, 6, 1, 5, 5, 7, 48, 1]), hex::decode("06082b06010505073001").unwrap());
        // 2.25.<128-bit> uses base-128 continuation bytes
        assert_eq!(oid(&[2, 25, 128]), vec![0x06, 0x03, 0x69, 0x81, 0x00]);
        assert_eq!(len(0x7f), vec![0x7f]);
        assert_eq!(len(0x80), vec![0x81, 0x80]);
        assert_eq!(len(0x1234), vec![0x82, 0x12, 0x34]);
    }

    #[test]
    fn aia_parses_with_x509_parser() {
        let der = authority_info_access(Some("http://ca.example/ocsp"), "http://ca.example/ca/issuing.crt");
        let (rest, aia) = <x509_parser::extensions::AuthorityInfoAccess as x509_parser::prelude::FromDer<
            x509_parser::error::X509Error,
        >>::from_der(&der)
        .unwrap();
        assert!(rest.is_empty());
        assert_eq!(aia.accessdescs.len(), 2);
    }
}
