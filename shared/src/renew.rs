//! Renewal (证书延期, seed 004 §4): ① 延期申请 — the extension period with its price from
//! the catalogue; ② 扫码缴费 (skipped for 大客户统一结算); ③ 证书下载 — a new key pair on the
//! same token through the agent, the new certificate stored, then the old one superseded.
//! Open only for a valid certificate in its last [`WINDOW_DAYS`] days.

use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray, VariantNames};

use crate::apply::{BillingMode, Medium, ValidityOption};
use crate::certificate::CertificateProfile;
use crate::request::RequestView;

/// Renewal opens this many days before a certificate's end.
pub const WINDOW_DAYS: i64 = 90;

/// Why a certificate cannot be renewed now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, IntoStaticStr, EnumString, VariantArray, VariantNames)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum NotOpen {
    /// Before its last 90 days: opens at `opens_at`.
    TooEarly,
    /// Revoked, frozen or expired.
    NotValid,
}

/// `GET /api/renew/{uid}`: what renewing this certificate means now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct RenewalOffer {
    pub certificate_uid: String,
    pub common_name: String,
    pub profile: CertificateProfile,
    /// The certificate type's name in the catalogue (机构证书 …).
    pub type_name: String,
    pub medium: Option<Medium>,
    /// 介质编号: the token the new certificate must go onto.
    pub medium_no: Option<String>,
    pub serial: String,
    pub not_before: String,
    pub not_after: String,
    /// The first moment a renewal may start (`not_after` − 90 days).
    pub opens_at: String,
    /// `None` when a renewal may start (or goes on) now.
    pub not_open: Option<NotOpen>,
    /// The periods on sale for its certificate type, with their prices.
    pub periods: Vec<ValidityOption>,
    pub billing: BillingMode,
    /// Staff review renewals of this certificate type.
    pub review: bool,
    /// The renewal under way for this certificate, if any.
    pub request: Option<RequestView>,
}

/// `POST /api/renew/{uid}`: ① 延期申请.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct StartRenewal {
    pub validity_id: String,
}

/// `POST /api/renew/requests/{id}/issue`: ③ the token's CSR for the new key pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct RenewalCsr {
    pub csr_pem: String,
    /// The token's serial; it must be the token that holds the certificate renewed.
    pub medium_no: String,
}

crate::deserialize_by_name!(NotOpen);
