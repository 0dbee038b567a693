//! 证书补办 / 密钥恢复 (seed 004 §6, seed 002 §2.2, seed 001 §2.5): a new UKey and a new key
//! pair for a lost or damaged UKey bought through the portal. Only a certificate on a UKey
//! is reissued (a PC soft shield is downloaded again, not reissued). The requirements to
//! download, then ① 资料上传 ② 短信验证 (the phone of record, masked) ③ 领取方式 (post or
//! the counter) ④ 扫码缴费 at the catalogue's reissue price (skipped under 大客户统一结算)
//! ⑤ 提交审核. A token reported lost freezes its certificate at submission; on approval the
//! old certificate is revoked, and the holder downloads the new one onto the new UKey.

use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray, VariantNames};

use crate::OtpCode;
use crate::agent::TokenKind;
use crate::apply::{BillingMode, DocumentKind, Medium};
use crate::certificate::CertificateProfile;
use crate::my_certificates::MyCertificateStatus;
use crate::request::RequestView;

/// Why the UKey is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, IntoStaticStr, EnumString, VariantArray, VariantNames)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ReissueReason {
    /// 遗失: the certificate is frozen at submission, revoked as keyCompromise on approval.
    Lost,
    /// 损坏: revoked as superseded on approval.
    Damaged,
}

/// Why a certificate cannot be reissued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, IntoStaticStr, EnumString, VariantArray, VariantNames)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ReissueNotOpen {
    /// On a PC soft shield or the mobile shield: downloaded again, not reissued.
    NotUkey,
    /// Revoked or expired.
    NotValid,
}

/// What a reissue request records besides the request's own columns (its `payload`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ReissueDetails {
    pub reason: ReissueReason,
    /// ② passed: the SMS code to the phone of record was right.
    #[serde(default)]
    pub phone_verified: bool,
}

/// `GET /api/reissue/{uid}`: what reissuing this certificate means now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ReissueOffer {
    pub certificate_uid: String,
    pub common_name: String,
    pub profile: CertificateProfile,
    pub type_name: String,
    pub status: MyCertificateStatus,
    pub medium: Option<Medium>,
    /// 介质编号 of the lost or damaged token; the new certificate goes onto another one.
    pub medium_no: Option<String>,
    pub serial: String,
    pub not_after: String,
    /// `None` when a reissue may start (or goes on) now.
    pub not_open: Option<ReissueNotOpen>,
    /// 补办价格 from the catalogue, in fen.
    pub price_fen: i64,
    pub billing: BillingMode,
    /// The documents ① asks for (the certificate type's).
    pub documents: Vec<DocumentKind>,
    /// The phone of record the SMS code goes to, masked (`151****9192`).
    pub phone_masked: String,
    /// The reissue under way for this certificate, if any, and what it records.
    pub request: Option<RequestView>,
    pub details: Option<ReissueDetails>,
    /// Paid (or nothing to pay: settlement).
    pub paid: bool,
}

/// `POST /api/reissue/{uid}`: a reissue request, with its reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct StartReissue {
    pub reason: ReissueReason,
}

/// `POST /api/reissue/requests/{id}/verify`: ② the SMS code sent to the phone of record
/// (`POST /api/my-certificates/{uid}/code {purpose: "certificate_reissue"}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct VerifyReissue {
    pub code: OtpCode,
}

/// `POST /api/reissue/requests/{id}/issue`: the new token's CSR for its new key pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ReissueCsr {
    pub csr_pem: String,
    /// The new token's serial: another token than the one lost or damaged.
    pub medium_no: String,
    pub medium_kind: TokenKind,
}

crate::deserialize_by_name!(ReissueReason, ReissueNotOpen);
