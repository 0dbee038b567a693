//! Public services without signing in (seed 000, seed 003 §1.4): certificate status search,
//! a certificate's detail with self-revocation by challenge phrase, the revocation bulletin
//! (注销公告) and the progress lookup (查询服务). Contact data leaves the server masked.

use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray, VariantNames};

use crate::certificate::{CertificateProfile, RevocationReason};
use crate::request::RequestStatus;
use crate::validate::ValidationError;

/// "Search for IDs that are": the status filter of a search.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, IntoStaticStr, EnumString, VariantArray, VariantNames,
)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum StatusFilter {
    #[default]
    Valid,
    Expired,
    Revoked,
    Pending,
    Approved,
    All,
}

impl StatusFilter {
    pub const ALL: [StatusFilter; 6] = [
        StatusFilter::Valid,
        StatusFilter::Expired,
        StatusFilter::All,
        StatusFilter::Revoked,
        StatusFilter::Pending,
        StatusFilter::Approved,
    ];
    /// Whether a result with `status` passes this filter.
    pub fn admits(self, status: PublicStatus) -> bool {
        match self {
            StatusFilter::All => true,
            StatusFilter::Valid => status == PublicStatus::Valid,
            StatusFilter::Expired => status == PublicStatus::Expired,
            StatusFilter::Revoked => matches!(status, PublicStatus::Revoked | PublicStatus::Suspended),
            StatusFilter::Pending => status == PublicStatus::Pending,
            StatusFilter::Approved => status == PublicStatus::Approved,
        }
    }
}

/// What a search looks for: an e-mail address (recommended) or the exact name as it
/// appears in the certificate. No wildcards: `*`, `%`, `_` and `?` are refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchKey {
    Email(String),
    Name(String),
}

impl SearchKey {
    /// The e-mail address, trimmed and lower-cased (how it is stored).
    pub fn email(s: &str) -> Result<SearchKey, ValidationError> {
        let e = crate::Email::parse(s)?;
        Ok(SearchKey::Email(e.to_string().to_lowercase()))
    }

    /// The exact name, trimmed.
    pub fn name(s: &str) -> Result<SearchKey, ValidationError> {
        let n = s.trim();
        if n.is_empty() {
            return Err(ValidationError::Required);
        }
        if n.chars().count() > 100 {
            return Err(ValidationError::TooLong);
        }
        if n.contains(['*', '%', '_', '?']) {
            return Err(ValidationError::Wildcard);
        }
        Ok(SearchKey::Name(n.to_owned()))
    }
}

/// A certificate's (or an application's) status as the public sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, IntoStaticStr, EnumString, VariantArray, VariantNames)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum PublicStatus {
    Valid,
    Expired,
    Revoked,
    /// Frozen (冻结): on hold, listed in the CRL until released.
    Suspended,
    /// Submitted, waiting for review.
    Pending,
    /// Approved, the certificate not made yet.
    Approved,
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SearchHit {
    /// The certificate's id for its detail page; `None` for an application not issued yet.
    pub uid: Option<String>,
    pub name: String,
    pub email: Option<String>,
    pub status: PublicStatus,
    /// The certificate class (its profile); `None` before issuance.
    pub profile: Option<CertificateProfile>,
    /// RFC 3339.
    pub not_before: Option<String>,
    pub not_after: Option<String>,
}

/// At most this many results; a search that finds more says so.
pub const SEARCH_LIMIT: usize = 50;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SearchResults {
    pub hits: Vec<SearchHit>,
    /// More matched than [`SEARCH_LIMIT`].
    pub truncated: bool,
}

/// `GET /api/public/certificates/{uid}` (seed 000 step 6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct CertificateDetail {
    pub uid: String,
    pub name: String,
    /// Masked.
    pub email: Option<String>,
    pub status: PublicStatus,
    pub profile: Option<CertificateProfile>,
    /// RFC 4514 subject DN.
    pub subject: String,
    /// Lower-case hex.
    pub serial: String,
    pub not_before: String,
    pub not_after: String,
    pub revoked_at: Option<String>,
    pub reason: Option<RevocationReason>,
}

/// `POST /api/public/certificates/{uid}/revoke` (seed 000 step 7).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SelfRevocation {
    pub challenge_phrase: String,
    pub reason: RevocationReason,
}

/// The reasons a holder may give (RFC 5280 §5.3.1, without the CA's own and the hold).
pub const HOLDER_REASONS: [RevocationReason; 5] = [
    RevocationReason::Unspecified,
    RevocationReason::KeyCompromise,
    RevocationReason::AffiliationChanged,
    RevocationReason::Superseded,
    RevocationReason::CessationOfOperation,
];

/// Fewest characters of a challenge phrase chosen now (the same floor as a password: a
/// phrase guards a certificate as a password guards an account). Phrases chosen before
/// this floor was raised from 6 are still accepted by [`check_challenge_phrase_entered`].
pub const CHALLENGE_PHRASE_MIN: usize = 8;
pub const CHALLENGE_PHRASE_MAX: usize = 64;

/// The challenge phrase (撤销密码) chosen when applying: 8 to 64 characters. The server
/// also refuses phrases on its list of common passwords (`challenge_phrase_common`).
pub fn check_challenge_phrase(s: &str) -> Result<(), ValidationError> {
    match s.chars().count() {
        0 => Err(ValidationError::Required),
        n if !(CHALLENGE_PHRASE_MIN..=CHALLENGE_PHRASE_MAX).contains(&n) => Err(ValidationError::ChallengePhraseLength),
        _ => Ok(()),
    }
}

/// A challenge phrase typed to revoke: any phrase that could have been chosen, so a holder
/// whose phrase predates the 8-character floor can still use it.
pub fn check_challenge_phrase_entered(s: &str) -> Result<(), ValidationError> {
    match s.chars().count() {
        0 => Err(ValidationError::Required),
        n if n > CHALLENGE_PHRASE_MAX => Err(ValidationError::ChallengePhraseLength),
        _ => Ok(()),
    }
}

/// One line of the revocation bulletin (注销公告).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct BulletinEntry {
    pub uid: String,
    pub name: String,
    pub serial: String,
    pub reason: Option<RevocationReason>,
    pub revoked_at: String,
}

/// `GET /api/public/bulletin?q=&page=`: newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct BulletinPage {
    pub entries: Vec<BulletinEntry>,
    /// From 1.
    pub page: u32,
    pub per_page: u32,
    pub total: u64,
}

/// `POST /api/public/progress` (查询服务): any two of the four.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ProgressQuery {
    #[serde(default)]
    pub acceptance_no: String,
    #[serde(default)]
    pub org_name: String,
    #[serde(default)]
    pub mobile: String,
    #[serde(default)]
    pub id_number: String,
}

impl ProgressQuery {
    /// The fields given (non-empty after trimming).
    pub fn given(&self) -> usize {
        [&self.acceptance_no, &self.org_name, &self.mobile, &self.id_number]
            .iter()
            .filter(|s| !s.trim().is_empty())
            .count()
    }
}

/// The answer: the status and nothing more.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Progress {
    pub status: RequestStatus,
}

/// `GET /api/public/ca`: one CA of the hierarchy, its fingerprint and where to fetch its
/// certificate and CRL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct CaInfo {
    /// `root` or `issuing`.
    pub name: String,
    pub subject: String,
    /// SHA-256 of the DER, upper-case hex in pairs (`AB:CD:…`).
    pub sha256: String,
    pub not_before: String,
    pub not_after: String,
    pub certificate_url: String,
    pub crl_url: String,
}

/// A resident ID number as public pages show it: `110105********002X`; anything else as is.
pub fn mask_identifier(value: &str) -> String {
    match crate::IdCardNumber::parse(value) {
        Ok(id) => {
            let s = id.to_string();
            format!("{}********{}", &s[..6], &s[14..])
        }
        Err(_) => value.to_owned(),
    }
}

/// `zhang.san@example.com` → `z***@example.com`; a name part of one character stays `*`.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            if local.chars().count() <= 1 { format!("*@{domain}") } else { format!("{first}***@{domain}") }
        }
        None => "***".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Named;

    #[test]
    fn filters_admit_their_statuses() {
        assert!(StatusFilter::Revoked.admits(PublicStatus::Suspended));
        assert!(!StatusFilter::Valid.admits(PublicStatus::Expired));
        assert!(StatusFilter::All.admits(PublicStatus::Pending));
        for f in StatusFilter::ALL {
            assert_eq!(StatusFilter::parse(f.as_str()), Some(f));
        }
    }

    #[test]
    fn no_wildcards_and_emails_are_lower_cased() {
        assert_eq!(
            SearchKey::name(" 天津市滨海数字认证有限公司 "),
            Ok(SearchKey::Name("天津市滨海数字认证有限公司".into()))
        );
        assert_eq!(SearchKey::name("天津*"), Err(ValidationError::Wildcard));
        assert_eq!(SearchKey::name("100%"), Err(ValidationError::Wildcard));
        assert_eq!(SearchKey::email("Zhang.San@Example.com"), Ok(SearchKey::Email("zhang.san@example.com".into())));
        assert!(SearchKey::email("not an address").is_err());
    }

    #[test]
    fn emails_are_masked() {
        assert_eq!(mask_email("zhang.san@example.com"), "z***@example.com");
        assert_eq!(mask_email("z@example.com"), "*@example.com");
        assert_eq!(mask_email("broken"), "***");
    }

    #[test]
    fn id_numbers_are_masked_and_nothing_else() {
        assert_eq!(mask_identifier("11010519491231002X"), "110105********002X");
        assert_eq!(mask_identifier("91350100M000100Y43"), "91350100M000100Y43");
        assert_eq!(mask_identifier("天津市"), "天津市");
    }

    #[test]
    fn two_of_four() {
        let q = ProgressQuery { acceptance_no: "BH1".into(), mobile: " ".into(), ..Default::default() };
        assert_eq!(q.given(), 1);
        assert_eq!(ProgressQuery { org_name: "x".into(), id_number: "y".into(), ..Default::default() }.given(), 2);
    }

    #[test]
    fn challenge_phrases() {
        assert_eq!(check_challenge_phrase(""), Err(ValidationError::Required));
        assert_eq!(check_challenge_phrase("short"), Err(ValidationError::ChallengePhraseLength));
        assert_eq!(
            check_challenge_phrase("1234567"),
            Err(ValidationError::ChallengePhraseLength),
            "7 characters are too few"
        );
        assert_eq!(check_challenge_phrase("12345678"), Ok(()));
        assert_eq!(check_challenge_phrase(&"长".repeat(65)), Err(ValidationError::ChallengePhraseLength));
        assert_eq!(
            check_challenge_phrase_entered("旧密码六位数"),
            Ok(()),
            "a phrase chosen under the old floor still revokes"
        );
        assert_eq!(check_challenge_phrase_entered(""), Err(ValidationError::Required));
        assert_eq!(
            check_challenge_phrase("我的撤销密码"),
            Err(ValidationError::ChallengePhraseLength),
            "six characters, the old floor"
        );
        assert_eq!(check_challenge_phrase("我的证书撤销密码"), Ok(()));
    }
}

/// 证书校验 (seed 004 §10): `POST /api/verification/start` gives a
/// [`crate::account::CertificateChallenge`]; the token signs it; `POST /api/verification`
/// sends the certificate read from the token and the signature.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct VerifyCertificate {
    pub challenge_id: String,
    pub certificate_pem: String,
    /// Over the challenge bytes, base64.
    pub signature: String,
}

/// One check of a verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, IntoStaticStr, EnumString, VariantArray, VariantNames)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum VerificationCheck {
    /// Issued by our issuing CA (its signature verifies) under our root, and in our records.
    Chain,
    /// Now within notBefore..notAfter.
    Validity,
    /// Our OCSP responder's signed answer.
    Revocation,
    /// The token holds the key: its signature over a fresh challenge verifies.
    Possession,
}

/// What a check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, IntoStaticStr, EnumString, VariantArray, VariantNames)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum CheckOutcome {
    Passed,
    /// Chain: not signed by our issuing CA, or not the certificate we recorded.
    NotOurs,
    NotYetValid,
    Expired,
    /// OCSP `good`.
    Good,
    /// OCSP `revoked` (a frozen certificate is revoked with reason certificateHold).
    Revoked,
    /// OCSP `unknown`: we never issued it.
    Unknown,
    /// The signature over the challenge does not verify, or the challenge was used or expired.
    SignatureInvalid,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct CheckResult {
    pub check: VerificationCheck,
    pub passed: bool,
    pub outcome: CheckOutcome,
}

/// The certificate read from the token and each check's result. `passed` when all passed:
/// 证书校验通过.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct VerificationReport {
    pub subject: String,
    pub issuer: String,
    /// Lower-case hex.
    pub serial: String,
    /// RFC 3339.
    pub not_before: String,
    pub not_after: String,
    pub checks: Vec<CheckResult>,
    pub passed: bool,
}

/// `GET /api/public/certificates?email=…&name=…&status=…`: the status search (by e-mail or
/// by name, optionally only certificates in one status).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SearchQuery {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// `GET /api/public/bulletin?q=…&page=…`: the revocation bulletin, filtered and paged.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct BulletinQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
}

crate::deserialize_by_name!(StatusFilter);

crate::deserialize_by_name!(PublicStatus, VerificationCheck, CheckOutcome);
