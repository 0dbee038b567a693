//! Certificates on the wire: the profiles the CA issues and the RFC 5280 revocation reasons.

use serde::Serialize;
use strum::{EnumString, IntoStaticStr, VariantArray, VariantNames};

/// The most characters of a name in a certificate's subject: RFC 5280's upper bounds for
/// commonName (`ub-common-name`) and organizationName (`ub-organization-name`).
pub const SUBJECT_NAME_MAX: usize = 64;
/// RFC 5280's upper bound for localityName and stateOrProvinceName.
pub const SUBJECT_PLACE_MAX: usize = 128;

/// What kind of certificate, as users buy them. Chinese CAs issue each as a pair: a signing
/// certificate and an encryption certificate (双证书).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, IntoStaticStr, EnumString, VariantArray, VariantNames)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum CertificateProfile {
    /// 机构证书（签名）
    OrgSign,
    /// 机构证书（加密）
    OrgEnc,
    /// 法人证书（签名）
    LegalSign,
    /// 法人证书（加密）
    LegalEnc,
    /// 个人证书（签名）
    PersonalSign,
    /// 个人证书（加密）
    PersonalEnc,
}

impl CertificateProfile {
    pub const ALL: [CertificateProfile; 6] = [
        CertificateProfile::OrgSign,
        CertificateProfile::OrgEnc,
        CertificateProfile::LegalSign,
        CertificateProfile::LegalEnc,
        CertificateProfile::PersonalSign,
        CertificateProfile::PersonalEnc,
    ];

    /// The encryption half of a dual pair.
    pub fn is_encryption(self) -> bool {
        matches!(self, CertificateProfile::OrgEnc | CertificateProfile::LegalEnc | CertificateProfile::PersonalEnc)
    }

    /// The key a token makes for this profile: P-256 to sign; RSA-2048 to encrypt, so that
    /// the certificate carries keyEncipherment (key transport), which mail and office
    /// software expect of an encryption certificate (an EC key could only do keyAgreement).
    pub fn token_key(self) -> crate::agent::KeyAlgorithm {
        if self.is_encryption() { crate::agent::KeyAlgorithm::Rsa2048 } else { crate::agent::KeyAlgorithm::P256 }
    }
}

/// RFC 5280 §5.3.1 reason codes (7 does not exist; `remove_from_crl` is only for delta CRLs
/// and is never accepted here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, IntoStaticStr, EnumString, VariantArray, VariantNames)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum RevocationReason {
    Unspecified,
    KeyCompromise,
    CaCompromise,
    AffiliationChanged,
    Superseded,
    CessationOfOperation,
    CertificateHold,
    PrivilegeWithdrawn,
    AaCompromise,
}

impl RevocationReason {
    pub const ALL: [RevocationReason; 9] = [
        RevocationReason::Unspecified,
        RevocationReason::KeyCompromise,
        RevocationReason::CaCompromise,
        RevocationReason::AffiliationChanged,
        RevocationReason::Superseded,
        RevocationReason::CessationOfOperation,
        RevocationReason::CertificateHold,
        RevocationReason::PrivilegeWithdrawn,
        RevocationReason::AaCompromise,
    ];

    /// The CRLReason value.
    pub fn code(self) -> u8 {
        match self {
            RevocationReason::Unspecified => 0,
            RevocationReason::KeyCompromise => 1,
            RevocationReason::CaCompromise => 2,
            RevocationReason::AffiliationChanged => 3,
            RevocationReason::Superseded => 4,
            RevocationReason::CessationOfOperation => 5,
            RevocationReason::CertificateHold => 6,
            RevocationReason::PrivilegeWithdrawn => 9,
            RevocationReason::AaCompromise => 10,
        }
    }

    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Named;

    #[test]
    fn profile_codes_round_trip() {
        for p in CertificateProfile::ALL {
            assert_eq!(CertificateProfile::parse(p.as_str()), Some(p));
            assert_eq!(serde_json::to_string(&p).unwrap(), format!("\"{}\"", p.as_str()));
        }
        assert_eq!(CertificateProfile::ALL.iter().filter(|p| p.is_encryption()).count(), 3);
        for p in CertificateProfile::ALL {
            let want =
                if p.is_encryption() { crate::agent::KeyAlgorithm::Rsa2048 } else { crate::agent::KeyAlgorithm::P256 };
            assert_eq!(p.token_key(), want, "{p:?}");
        }
        assert_eq!(serde_json::to_string(&crate::agent::KeyAlgorithm::Rsa2048).unwrap(), "\"rsa2048\"");
    }

    #[test]
    fn reason_codes_are_rfc5280() {
        for r in RevocationReason::ALL {
            assert_eq!(RevocationReason::from_code(r.code()), Some(r));
        }
        assert_eq!(RevocationReason::from_code(7), None);
        assert_eq!(RevocationReason::from_code(8), None, "removeFromCRL is for delta CRLs only");
        assert_eq!(RevocationReason::KeyCompromise.code(), 1);
        assert_eq!(RevocationReason::AaCompromise.code(), 10);
    }
}

crate::deserialize_by_name!(CertificateProfile);

crate::deserialize_by_name!(RevocationReason);
