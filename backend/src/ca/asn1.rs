//! The certificate extensions rcgen does not write (Authority Information Access, Certificate
//! Policies, OCSP no-check), RFC 5280 times, signature algorithm identifiers, the certs-only
//! PKCS#7 of a chain, and PEM: all on RustCrypto's `der`, `x509-cert`, `cms` and
//! `pem-rfc7468`. Nothing here writes a tag or a length by hand.

use anyhow::Context;
use chrono::{DateTime, Datelike, Utc};
use const_oid::db::rfc5280::{ID_AD_CA_ISSUERS, ID_AD_OCSP, ID_CE_CERTIFICATE_POLICIES, ID_PE_AUTHORITY_INFO_ACCESS};
use const_oid::db::rfc5912::{ECDSA_WITH_SHA_256, ECDSA_WITH_SHA_384, SHA_256_WITH_RSA_ENCRYPTION};
use der::asn1::{GeneralizedTime, Ia5String, Null, ObjectIdentifier, UtcTime};
use der::{Decode, Encode};
use x509_cert::ext::pkix::certpolicy::PolicyInformation;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{AccessDescription, AuthorityInfoAccessSyntax, CertificatePolicies};
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_cert::time::Time;

/// id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1).
pub const ID_PKIX_OCSP_NOCHECK: ObjectIdentifier = const_oid::db::rfc6960::ID_PKIX_OCSP_NOCHECK;

/// A non-critical extension for rcgen: `value` DER-encoded under `oid`.
pub fn ext(oid: ObjectIdentifier, value: &impl Encode) -> anyhow::Result<rcgen::CustomExtension> {
    let arcs: Vec<u64> = oid.arcs().map(u64::from).collect();
    let mut e = rcgen::CustomExtension::from_oid_content(&arcs, value.to_der()?);
    e.set_criticality(false);
    Ok(e)
}

/// `authorityInfoAccess` with an OCSP responder (optional) and the issuer's certificate.
pub fn authority_info_access(ocsp: Option<&str>, ca_issuers: &str) -> anyhow::Result<rcgen::CustomExtension> {
    let access = |method: ObjectIdentifier, uri: &str| -> anyhow::Result<AccessDescription> {
        Ok(AccessDescription {
            access_method: method,
            access_location: GeneralName::UniformResourceIdentifier(Ia5String::new(uri)?),
        })
    };
    let mut descriptions = Vec::new();
    if let Some(ocsp) = ocsp {
        descriptions.push(access(ID_AD_OCSP, ocsp)?);
    }
    descriptions.push(access(ID_AD_CA_ISSUERS, ca_issuers)?);
    ext(ID_PE_AUTHORITY_INFO_ACCESS, &AuthorityInfoAccessSyntax(descriptions))
}

/// `certificatePolicies` with one policy and no qualifiers.
pub fn certificate_policies(policy: ObjectIdentifier) -> anyhow::Result<rcgen::CustomExtension> {
    let policies = CertificatePolicies(vec![PolicyInformation { policy_identifier: policy, policy_qualifiers: None }]);
    ext(ID_CE_CERTIFICATE_POLICIES, &policies)
}

/// `id-pkix-ocsp-nocheck` (its value is NULL).
pub fn ocsp_nocheck() -> anyhow::Result<rcgen::CustomExtension> {
    ext(ID_PKIX_OCSP_NOCHECK, &Null)
}

fn unix(t: DateTime<Utc>) -> anyhow::Result<std::time::Duration> {
    Ok(std::time::Duration::from_secs(u64::try_from(t.timestamp()).context("a time before 1970")?))
}

/// RFC 5280 `Time`: UTCTime through 2049, GeneralizedTime from 2050 (§4.1.2.5, §5.1.2.4).
pub fn time(t: DateTime<Utc>) -> anyhow::Result<Time> {
    Ok(if t.year() < 2050 {
        Time::UtcTime(UtcTime::from_unix_duration(unix(t)?)?)
    } else {
        Time::GeneralTime(GeneralizedTime::from_unix_duration(unix(t)?)?)
    })
}

/// A GeneralizedTime to the second (fractions dropped), as OCSP and invalidity dates use.
pub fn generalized_time(t: DateTime<Utc>) -> anyhow::Result<GeneralizedTime> {
    Ok(GeneralizedTime::from_unix_duration(unix(t)?)?)
}

/// The `AlgorithmIdentifier` of a signature algorithm: ECDSA without parameters, RSA
/// PKCS#1 v1.5 with NULL (RFC 5758 §3.2, RFC 4055 §5).
pub fn signature_algorithm(alg: &rcgen::SignatureAlgorithm) -> Option<AlgorithmIdentifierOwned> {
    if alg == &rcgen::PKCS_ECDSA_P256_SHA256 {
        Some(AlgorithmIdentifierOwned { oid: ECDSA_WITH_SHA_256, parameters: None })
    } else if alg == &rcgen::PKCS_ECDSA_P384_SHA384 {
        Some(AlgorithmIdentifierOwned { oid: ECDSA_WITH_SHA_384, parameters: None })
    } else if alg == &rcgen::PKCS_RSA_SHA256 {
        Some(AlgorithmIdentifierOwned { oid: SHA_256_WITH_RSA_ENCRYPTION, parameters: Some(Null.into()) })
    } else {
        None
    }
}

/// The label and DER of a PEM block (RFC 7468; text before the block is ignored), or `None`.
pub fn pem_decode(input: &[u8]) -> Option<(String, Vec<u8>)> {
    let (label, der) = pem_rfc7468::decode_vec(input).ok()?;
    Some((label.to_owned(), der))
}

/// PEM text of a DER object (RFC 7468: 64-character lines, `\n`).
pub fn pem(label: &str, der: &[u8]) -> anyhow::Result<String> {
    pem_rfc7468::encode_string(label, pem_rfc7468::LineEnding::LF, der)
        .map_err(|e| anyhow::anyhow!("PEM encoding of a {label}: {e}"))
}

/// A degenerate CMS SignedData holding certificates only (RFC 5652 §5, "certs-only", as
/// `application/pkcs7-mime`). DER orders the certificate SET by encoding, not chain order.
pub fn pkcs7_certs_only(certs: &[&[u8]]) -> anyhow::Result<Vec<u8>> {
    use cms::cert::CertificateChoices;
    use cms::content_info::{CmsVersion, ContentInfo};
    use cms::signed_data::{CertificateSet, EncapsulatedContentInfo, SignedData, SignerInfos};
    use const_oid::db::rfc5911::{ID_DATA, ID_SIGNED_DATA};
    use der::asn1::SetOfVec;

    let mut set = SetOfVec::new();
    for der in certs {
        set.insert(CertificateChoices::Certificate(x509_cert::Certificate::from_der(der)?))?;
    }
    let signed = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::new(),
        encap_content_info: EncapsulatedContentInfo { econtent_type: ID_DATA, econtent: None },
        certificates: Some(CertificateSet(set)),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::new()),
    };
    let info = ContentInfo { content_type: ID_SIGNED_DATA, content: der::Any::encode_from(&signed)? };
    Ok(info.to_der()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aia_parses_with_x509_parser() {
        let e = authority_info_access(Some("http://ca.example/ocsp"), "http://ca.example/ca/issuing.crt").unwrap();
        let (rest, aia) = <x509_parser::extensions::AuthorityInfoAccess as x509_parser::prelude::FromDer<
            x509_parser::error::X509Error,
        >>::from_der(e.content())
        .unwrap();
        assert!(rest.is_empty());
        assert_eq!(aia.accessdescs.len(), 2);
        assert_eq!(e.oid_components().collect::<Vec<_>>(), [1, 3, 6, 1, 5, 5, 7, 1, 1]);
    }

    #[test]
    fn times_switch_to_generalized_in_2050_and_nocheck_is_null() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert_eq!(time(t("2049-12-31T23:59:59Z")).unwrap().to_der().unwrap(), b"\x17\x0d491231235959Z");
        assert_eq!(time(t("2050-01-01T00:00:00Z")).unwrap().to_der().unwrap(), b"\x18\x0f20500101000000Z");
        assert_eq!(ocsp_nocheck().unwrap().content(), [0x05, 0x00]);
    }

    #[test]
    fn pem_round_trips_with_64_character_lines() {
        let der: Vec<u8> = (0..=255).collect();
        let text = pem("CERTIFICATE", &der).unwrap();
        assert!(text.starts_with("-----BEGIN CERTIFICATE-----\n") && text.ends_with("-----END CERTIFICATE-----\n"));
        assert!(text.lines().all(|l| l.len() <= 64));
        assert_eq!(pem_decode(format!("a preamble\n{text}").as_bytes()), Some(("CERTIFICATE".into(), der)));
        assert_eq!(pem_decode(b"no pem here"), None);
    }
}
