//! Customer accounts on the wire: registration (three account types, seed 003 §1.2.2),
//! sign-in by password + captcha or by a security key, one-time SMS codes, the forgotten
//! password (seed 004 §2.3) and the user centre (seed 003 §1.3.5).

use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray, VariantNames};

use crate::FieldError;
use crate::validate::{
    CreditCode, Email, IdCardNumber, Mobile, OrgName, OtpCode, Password, PersonName, ValidationError,
};

/// Version of the 电子认证服务协议 the app shows. Registration records the version the
/// user accepted; the server refuses any other.
pub const AGREEMENT_VERSION: &str = "2026-11";

/// Seconds before another code may be sent to the same phone.
pub const CODE_RESEND_SECS: u32 = 60;
/// Seconds a code stays valid.
pub const CODE_TTL_SECS: u32 = 300;

/// The three account types of seed 003 §1.2.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, IntoStaticStr, EnumString, VariantArray, VariantNames)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum AccountKind {
    /// 企业账户
    Enterprise,
    /// 个人账户
    Personal,
    /// 主管部门账户
    Department,
}

impl AccountKind {
    pub const ALL: [AccountKind; 3] = [AccountKind::Enterprise, AccountKind::Personal, AccountKind::Department];
    /// Enterprise and department accounts name their organisation.
    pub fn has_organisation(self) -> bool {
        !matches!(self, AccountKind::Personal)
    }

    /// Only enterprises have a unified social credit code.
    pub fn has_credit_code(self) -> bool {
        matches!(self, AccountKind::Enterprise)
    }
}

/// What a one-time code may be used for; a code sent for one purpose is refused for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, IntoStaticStr, EnumString, VariantArray, VariantNames)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum CodePurpose {
    Register,
    ResetPassword,
    /// 证书解锁: the phone of record proves the token's owner asks.
    TokenUnlock,
    /// 证书注销: a signed-in holder proves the phone of record (`POST /api/my-certificates/{uid}/code`).
    CertificateRevoke,
    /// 证书补办 / 密钥恢复, the same way.
    CertificateReissue,
    /// 解冻, the same way.
    CertificateRelease,
    /// 证书解锁 of a mobile shield: sent to its certificate's phone of record at the app's
    /// request (`POST /api/shield/unlock/code`).
    ShieldUnlock,
    /// Disabling a lost phone's mobile shield without signing in (`POST /api/shield/disable/code`).
    ShieldDisable,
}

impl CodePurpose {
    /// Sent to a certificate's phone of record for its signed-in holder, never to a phone
    /// typed into a public form.
    pub fn for_certificate(self) -> bool {
        matches!(
            self,
            CodePurpose::CertificateRevoke | CodePurpose::CertificateReissue | CodePurpose::CertificateRelease
        )
    }

    /// Sent to a mobile shield's certificate's phone of record by the shield's own routes,
    /// never through `POST /api/codes` or 我的证书.
    pub fn for_shield(self) -> bool {
        matches!(self, CodePurpose::ShieldUnlock | CodePurpose::ShieldDisable)
    }
}

/// `POST /api/codes`: send a 6-digit code by SMS.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SendCodeRequest {
    pub mobile: Mobile,
    pub purpose: CodePurpose,
    /// The image captcha shown beside 获取验证码, answered once (see `GET /api/captcha`).
    pub captcha_id: String,
    pub captcha_answer: String,
}

/// Answer to [`SendCodeRequest`]. Always the same whether or not the phone has an account.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct CodeSent {
    /// The page counts down from this ("37秒后可再次发送").
    pub resend_after_secs: u32,
    pub valid_for_secs: u32,
}

/// `POST /api/register`. The phone number is the user name.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct RegisterRequest {
    pub kind: AccountKind,
    /// Unit or department name (enterprise and department accounts).
    #[serde(default)]
    pub org_name: Option<OrgName>,
    /// Unified social credit code (enterprise accounts).
    #[serde(default)]
    pub credit_code: Option<CreditCode>,
    /// The person: the account holder, or the operator (经办人) of an organisation.
    pub name: PersonName,
    pub id_number: IdCardNumber,
    pub mobile: Mobile,
    #[serde(default)]
    pub email: Option<Email>,
    pub password: Password,
    pub code: OtpCode,
    /// Must equal [`AGREEMENT_VERSION`].
    pub agreement_version: String,
}

impl RegisterRequest {
    /// The rules between fields, which types alone cannot say. The app and the server both
    /// apply them.
    pub fn check(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let mut need = |field: &str, present: bool| {
            if !present {
                errors.push(FieldError { field: field.into(), error: ValidationError::Required });
            }
        };
        need("org_name", !self.kind.has_organisation() || self.org_name.is_some());
        need("credit_code", !self.kind.has_credit_code() || self.credit_code.is_some());
        if self.agreement_version != AGREEMENT_VERSION {
            errors.push(FieldError { field: "agreement_version".into(), error: ValidationError::AgreementRequired });
        }
        errors
    }
}

/// `GET /api/captcha`: a new image captcha. The image is an SVG made of paths only.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Captcha {
    pub id: String,
    pub svg: String,
}

/// `POST /api/sign-in` (seed 004 §2.2.2: user name, password, captcha, the agreement).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SignInRequest {
    /// The user name: the phone number. Not validated further, so that a mistyped one gets
    /// the same answer as a wrong password.
    pub mobile: String,
    pub password: String,
    pub captcha_id: String,
    pub captcha_answer: String,
    pub agreed: bool,
}

/// `POST /api/password-reset` (seed 004 §2.3.2): operator ID number, phone and SMS code,
/// then the new password the user chose. We never send a password by SMS.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ResetPasswordRequest {
    pub id_number: IdCardNumber,
    pub mobile: Mobile,
    pub code: OtpCode,
    pub new_password: Password,
    /// Also remove every security key of the account (one may be lost, or someone else's).
    #[serde(default)]
    pub remove_security_keys: bool,
}

/// The signed-in customer, as `GET /api/session` and every sign-in answer it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SessionInfo {
    pub account: Profile,
    /// Send it back as `X-CSRF-Token` on every state-changing request.
    pub csrf_token: String,
}

/// The user information page (用户信息).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Profile {
    pub id: String,
    pub kind: AccountKind,
    pub mobile: String,
    pub org_name: Option<String>,
    pub credit_code: Option<String>,
    pub name: String,
    /// Masked: `1101**********123X`.
    pub id_number: String,
    pub email: Option<String>,
    pub agreement_version: String,
    /// RFC 3339.
    pub agreed_at: String,
    pub created_at: String,
}

/// `PUT /api/account`: what a user may change. The phone (the user name), the ID number
/// and the account type stay as registered.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct UpdateProfileRequest {
    #[serde(default)]
    pub org_name: Option<OrgName>,
    pub name: PersonName,
    #[serde(default)]
    pub email: Option<Email>,
}

/// `POST /api/account/password`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: Password,
}

/// How someone signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, IntoStaticStr, EnumString, VariantArray, VariantNames)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum SignInMethod {
    Password,
    SecurityKey,
    Registration,
    /// A UKey or PC soft shield certificate, through the token agent.
    Certificate,
}

/// `POST /api/sign-in/certificate/start`: the bytes the token signs (base64), once.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct CertificateChallenge {
    pub challenge_id: String,
    pub challenge: String,
}

/// `POST /api/sign-in/certificate/finish`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct FinishCertificateSignIn {
    pub challenge_id: String,
    pub certificate_pem: String,
    /// base64 of the signature over the challenge bytes.
    pub signature: String,
}

/// One line of the sign-in history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SignInRecord {
    pub at: String,
    pub address: String,
    pub method: Option<SignInMethod>,
    pub succeeded: bool,
}

/// `POST /api/sign-out-others`: how many other sessions ended.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SessionsEnded {
    pub ended: u64,
}

/// A registered security key or passkey.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SecurityKey {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

/// `POST /api/account/keys/start`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct StartKeyRegistration {
    pub name: String,
    /// The account's password, asked again: an open session alone cannot add a way in.
    #[serde(default)]
    pub password: String,
}

/// `POST /api/account/keys/{id}/remove`: the account's password, asked again.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct RemoveKeyRequest {
    pub password: String,
}

/// Options for `navigator.credentials.create`, and the id to finish with.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct KeyRegistrationChallenge {
    pub challenge_id: String,
    #[cfg_attr(feature = "openapi", schemars(with = "serde_json::Value"))]
    pub options: webauthn_rs_proto::CreationChallengeResponse,
}

/// `POST /api/account/keys/finish`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct FinishKeyRegistration {
    pub challenge_id: String,
    #[cfg_attr(feature = "openapi", schemars(with = "serde_json::Value"))]
    pub credential: webauthn_rs_proto::RegisterPublicKeyCredential,
}

/// `POST /api/sign-in/key/start`: passwordless sign-in, user name first.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct StartKeySignIn {
    pub mobile: String,
}

/// Options for `navigator.credentials.get`, and the id to finish with.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct KeySignInChallenge {
    pub challenge_id: String,
    #[cfg_attr(feature = "openapi", schemars(with = "serde_json::Value"))]
    pub options: webauthn_rs_proto::RequestChallengeResponse,
}

/// `POST /api/sign-in/key/finish`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct FinishKeySignIn {
    pub challenge_id: String,
    #[cfg_attr(feature = "openapi", schemars(with = "serde_json::Value"))]
    pub credential: webauthn_rs_proto::PublicKeyCredential,
}

/// Masks all but the first 4 and last 4 characters (ID numbers, credit codes).
pub fn mask_middle(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let n = chars.len();
    chars.iter().enumerate().map(|(i, c)| if i < 4 || i >= n - 4 { *c } else { '*' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(kind: &str, org: bool, credit: bool) -> serde_json::Value {
        let mut v = serde_json::json!({
            "kind": kind,
            "name": "张三",
            "id_number": "11010519491231002X",
            "mobile": "13800138000",
            "password": "a long enough password",
            "code": "123456",
            "agreement_version": AGREEMENT_VERSION,
        });
        if org {
            v["org_name"] = "天津滨海测试有限公司".into();
        }
        if credit {
            v["credit_code"] = "91350100M000100Y43".into();
        }
        v
    }

    #[test]
    fn each_kind_names_what_it_needs() {
        let check = |v: serde_json::Value| -> Vec<String> {
            let r: RegisterRequest = serde_json::from_value(v).unwrap();
            r.check().into_iter().map(|e| format!("{}:{}", e.field, e.error)).collect()
        };
        assert!(check(request("personal", false, false)).is_empty());
        assert!(check(request("enterprise", true, true)).is_empty());
        assert!(check(request("department", true, false)).is_empty());
        assert_eq!(check(request("enterprise", false, false)), ["org_name:required", "credit_code:required"]);
        assert_eq!(check(request("department", false, false)), ["org_name:required"]);
        let mut old = request("personal", false, false);
        old["agreement_version"] = "2019-01".into();
        assert_eq!(check(old), ["agreement_version:agreement_required"]);
    }

    #[test]
    fn masking() {
        assert_eq!(mask_middle("11010519491231002X"), "1101**********002X");
        assert_eq!(mask_middle("12345678"), "********");
        assert_eq!(mask_middle(""), "");
    }
}

crate::deserialize_by_name!(AccountKind);

crate::deserialize_by_name!(CodePurpose);

crate::deserialize_by_name!(SignInMethod);
