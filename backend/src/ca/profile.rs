//! Certificate profiles as data: what each kind of certificate the CA sells contains.
//! Subjects follow the seed sites' layout, written most significant first:
//! `C=CN, O=, L=, ST=, OU=<business number>, OU=<credit code>, CN=<name>`
//! (shown by most tools the other way round, `CN=…, OU=…, OU=…, ST=, L=, O=, C=CN`).
//! By holder (step ②): a unit is CN and O, with its credit code; a legal person is CN (the
//! representative) in O (the unit), with the unit's credit code; a person is CN alone. A
//! person's identity document number is never written into the certificate, which anyone
//! it is shown to can read: the business number leads back to the application at the CA.

use certdesk_shared::apply::CertificateInfo;
use certdesk_shared::certificate::CertificateProfile;
use der::asn1::ObjectIdentifier;
use rcgen::{DistinguishedName, DnType, DnValue, ExtendedKeyUsagePurpose, KeyUsagePurpose};

/// The `id-at-organizationalUnitName` OID; rcgen keeps one value per attribute type, so the
/// second OU goes in under its OID as a custom type.
const OU: &[u64] = &[2, 5, 4, 11];

pub struct ProfileSpec {
    pub profile: CertificateProfile,
    /// 机构证书（签名）…
    pub name_zh: &'static str,
    /// Key usages for an EC key; encryption profiles use `keyAgreement` there and
    /// `keyEncipherment` + `dataEncipherment` for RSA keys.
    pub signing: bool,
    pub extended_key_usages: &'static [ExtendedKeyUsagePurpose],
    /// The certificate policy OID of this profile. The demo CA uses the documentation arc
    /// 1.3.6.1.4.1.32473 (RFC 5612); a production CA puts its own registered arc here.
    /// (UUID-based `2.25.<uuid>` OIDs were tried first: pkilint and other ASN.1 tools refuse
    /// arcs over 32 bits.)
    pub policy: ObjectIdentifier,
}

const SIGN_EKU: &[ExtendedKeyUsagePurpose] =
    &[ExtendedKeyUsagePurpose::ClientAuth, ExtendedKeyUsagePurpose::EmailProtection];
const ENC_EKU: &[ExtendedKeyUsagePurpose] = &[ExtendedKeyUsagePurpose::EmailProtection];

pub const PROFILES: [ProfileSpec; 6] = [
    ProfileSpec {
        profile: CertificateProfile::OrgSign,
        name_zh: "机构证书（签名）",
        signing: true,
        extended_key_usages: SIGN_EKU,
        policy: ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.1.1"),
    },
    ProfileSpec {
        profile: CertificateProfile::OrgEnc,
        name_zh: "机构证书（加密）",
        signing: false,
        extended_key_usages: ENC_EKU,
        policy: ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.1.2"),
    },
    ProfileSpec {
        profile: CertificateProfile::LegalSign,
        name_zh: "法人证书（签名）",
        signing: true,
        extended_key_usages: SIGN_EKU,
        policy: ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.1.3"),
    },
    ProfileSpec {
        profile: CertificateProfile::LegalEnc,
        name_zh: "法人证书（加密）",
        signing: false,
        extended_key_usages: ENC_EKU,
        policy: ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.1.4"),
    },
    ProfileSpec {
        profile: CertificateProfile::PersonalSign,
        name_zh: "个人证书（签名）",
        signing: true,
        extended_key_usages: SIGN_EKU,
        policy: ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.1.5"),
    },
    ProfileSpec {
        profile: CertificateProfile::PersonalEnc,
        name_zh: "个人证书（加密）",
        signing: false,
        extended_key_usages: ENC_EKU,
        policy: ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.1.6"),
    },
];

pub fn spec(profile: CertificateProfile) -> &'static ProfileSpec {
    // PROFILES has one entry per profile, in CertificateProfile::ALL order (tested).
    &PROFILES[CertificateProfile::ALL.iter().position(|p| *p == profile).unwrap_or(0)]
}

impl ProfileSpec {
    pub fn key_usages(&self, rsa_key: bool) -> Vec<KeyUsagePurpose> {
        match (self.signing, rsa_key) {
            (true, _) => vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::ContentCommitment],
            (false, true) => vec![KeyUsagePurpose::KeyEncipherment, KeyUsagePurpose::DataEncipherment],
            (false, false) => vec![KeyUsagePurpose::KeyAgreement],
        }
    }
}

/// Who a certificate is for, taken from the approved application (never from the CSR).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// Unit full name, legal representative's or person's name.
    pub common_name: String,
    /// The unit's unified social credit code (organisation and legal-person certificates).
    pub identifier: Option<String>,
    /// The CA's business number for this application (业务受理号), when there is one.
    pub business_number: Option<String>,
    pub province: String,
    pub city: String,
    /// The organisation, for organisation and legal-person certificates.
    pub organisation: Option<String>,
}

impl Subject {
    /// The subject for an application's holder, region and business number.
    pub fn of_holder(info: &CertificateInfo, business_number: Option<String>) -> Subject {
        let unit = info.holder.organisation();
        Subject {
            common_name: info.holder.common_name().to_owned(),
            identifier: unit.map(|(_, code)| code.to_string()),
            business_number,
            province: info.province.clone(),
            city: info.city.clone(),
            organisation: unit.map(|(name, _)| name.to_string()),
        }
    }

    pub fn distinguished_name(&self) -> Result<DistinguishedName, rcgen::Error> {
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CountryName, DnValue::PrintableString("CN".try_into()?));
        if let Some(o) = &self.organisation {
            dn.push(DnType::OrganizationName, o.as_str());
        }
        dn.push(DnType::LocalityName, self.city.as_str());
        dn.push(DnType::StateOrProvinceName, self.province.as_str());
        if let Some(b) = &self.business_number {
            dn.push(DnType::CustomDnType(OU.to_vec()), b.as_str());
        }
        if let Some(i) = &self.identifier {
            dn.push(DnType::OrganizationalUnitName, i.as_str());
        }
        dn.push(DnType::CommonName, self.common_name.as_str());
        Ok(dn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_spec_per_profile_in_order_with_distinct_policies() {
        let mut policies = std::collections::HashSet::new();
        for (spec, profile) in PROFILES.iter().zip(CertificateProfile::ALL) {
            assert_eq!(spec.profile, profile);
            assert_eq!(self::spec(profile).profile, profile);
            assert_eq!(spec.signing, !profile.is_encryption());
            assert!(policies.insert(spec.policy));
        }
    }

    #[test]
    fn subjects_by_holder() {
        use certdesk_shared::apply::Holder;
        use certdesk_shared::validate::{CreditCode, IdDocument, IdType, OrgName, PersonName};
        let org = || OrgName::parse("天津市滨海数字认证有限公司").unwrap();
        let code = || CreditCode::parse("91350100M000100Y43").unwrap();
        let id = || IdDocument::parse(IdType::ResidentId, "11010519491231002X").unwrap();
        let info = |holder| CertificateInfo {
            holder,
            validity_id: "1y".into(),
            email: None,
            province: "天津市".into(),
            city: "和平区".into(),
        };
        let person = Subject::of_holder(
            &info(Holder::Person { name: PersonName::parse("李四").unwrap(), id: id() }),
            Some("BH1".into()),
        );
        assert_eq!(
            (person.common_name.as_str(), person.organisation, person.identifier),
            ("李四", None, None),
            "no ID number in a certificate"
        );
        let legal = Subject::of_holder(
            &info(Holder::LegalPerson {
                name: PersonName::parse("王五").unwrap(),
                id: id(),
                org_name: org(),
                credit_code: code(),
            }),
            None,
        );
        assert_eq!(legal.common_name, "王五");
        assert_eq!(legal.organisation.as_deref(), Some("天津市滨海数字认证有限公司"));
        assert_eq!(legal.identifier.as_deref(), Some("91350100M000100Y43"));
        let unit = Subject::of_holder(&info(Holder::Organisation { org_name: org(), credit_code: code() }), None);
        assert_eq!(
            (unit.common_name.as_str(), unit.organisation.as_deref()),
            (legal.organisation.as_deref().unwrap(), Some("天津市滨海数字认证有限公司"))
        );
    }

    #[test]
    fn encryption_key_usage_follows_the_key_type() {
        let enc = spec(CertificateProfile::OrgEnc);
        assert_eq!(enc.key_usages(false), vec![KeyUsagePurpose::KeyAgreement]);
        assert!(enc.key_usages(true).contains(&KeyUsagePurpose::KeyEncipherment));
        assert!(spec(CertificateProfile::PersonalSign).key_usages(true).contains(&KeyUsagePurpose::ContentCommitment));
    }
}
