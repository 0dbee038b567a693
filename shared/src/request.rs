//! Every business request (业务) — 新办, 延期, 变更, 经办人变更, 补办, 注销 — is a request of a
//! kind with one status that only moves forward through named transitions:
//!
//! ```text
//! Draft ──submit──▶ Submitted ──approve──▶ Approved ──issue──▶ Issued ──finish──▶ Done
//!   │                   │    ╲──reject──▶ Rejected ──resubmit──▶ Resubmitted ──▶ (as Submitted)
//!   └───withdraw────────┴──────────────────────▶ Withdrawn
//! ```
//! A kind that needs no review goes Submitted → Approved by the system (recorded as such).
//! Payment is a separate fact that `submit` requires, not a status.

use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray, VariantNames};

use crate::apply::{BillingMode, CertificateInfo, ChooseType, DeliveryInfo, DocumentView, FieldReason, OperatorInfo};

/// The kind of business a request is (业务类型).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, IntoStaticStr, EnumString, VariantArray, VariantNames)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum RequestKind {
    /// 证书新办
    Apply,
    /// 证书延期
    Renew,
    /// 证书变更
    Change,
    /// 经办人变更
    OperatorChange,
    /// 证书补办
    Reissue,
    /// 证书注销
    Revoke,
}

impl RequestKind {
    pub const ALL: [RequestKind; 6] = [
        RequestKind::Apply,
        RequestKind::Renew,
        RequestKind::Change,
        RequestKind::OperatorChange,
        RequestKind::Reissue,
        RequestKind::Revoke,
    ];
    /// The name customers and staff know (业务类型), in Chinese as printed on forms.
    pub fn name_zh(self) -> &'static str {
        match self {
            RequestKind::Apply => "证书新办",
            RequestKind::Renew => "证书延期",
            RequestKind::Change => "证书变更",
            RequestKind::OperatorChange => "经办人变更",
            RequestKind::Reissue => "证书补办",
            RequestKind::Revoke => "证书注销",
        }
    }
}

/// The kind of requests made before there were other kinds.
pub fn apply_kind() -> RequestKind {
    RequestKind::Apply
}

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, IntoStaticStr, EnumString, VariantArray, VariantNames)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum RequestStatus {
    Draft,
    Submitted,
    Rejected,
    Resubmitted,
    Approved,
    /// Its certificate is issued (for a renewal: not yet stored on the token).
    Issued,
    /// Fulfilled to the end (a renewal: the new certificate is on the token and the old one
    /// superseded).
    Done,
    Withdrawn,
}

impl RequestStatus {
    pub const ALL: [RequestStatus; 8] = [
        RequestStatus::Draft,
        RequestStatus::Submitted,
        RequestStatus::Rejected,
        RequestStatus::Resubmitted,
        RequestStatus::Approved,
        RequestStatus::Issued,
        RequestStatus::Done,
        RequestStatus::Withdrawn,
    ];
    /// The customer may edit it (a draft, or a rejected request being fixed).
    pub fn editable(self) -> bool {
        matches!(self, RequestStatus::Draft | RequestStatus::Rejected)
    }
    /// Waiting in the review queue.
    pub fn awaiting_review(self) -> bool {
        matches!(self, RequestStatus::Submitted | RequestStatus::Resubmitted)
    }
}

/// What a renewal (证书延期) asks for: the extension period bought.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct RenewalPeriod {
    pub validity_id: String,
    pub years: i32,
}

/// A request as its owner (or a reviewer) sees it. The wizard's fields are those of a 新办;
/// a renewal carries its period and the certificate it extends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct RequestView {
    pub id: String,
    pub kind: RequestKind,
    /// 业务受理号, given at the first submission (one series for every kind).
    pub acceptance_no: Option<String>,
    pub status: RequestStatus,
    /// The wizard step to resume at (1–7).
    pub step: u8,
    pub choose_type: Option<ChooseType>,
    pub certificate_info: Option<CertificateInfo>,
    pub documents: Vec<DocumentView>,
    pub operator: Option<OperatorInfo>,
    pub delivery: Option<DeliveryInfo>,
    /// The price of the chosen validity, in fen.
    pub price_fen: Option<i64>,
    pub billing: BillingMode,
    /// The last rejection's reasons (empty unless rejected).
    pub reasons: Vec<FieldReason>,
    pub created_at: String,
    pub submitted_at: Option<String>,
    /// When staff approved or rejected it (审核时间).
    #[serde(default)]
    pub decided_at: Option<String>,
    /// The certificate the request started from (none for 新办).
    #[serde(default)]
    pub from_certificate_uid: Option<String>,
    /// Set once issued: the certificate's id for downloads.
    pub certificate_uid: Option<String>,
    /// A renewal's period.
    #[serde(default)]
    pub renewal: Option<RenewalPeriod>,
    /// The holder's name as submitted (the unit, or the person), for queues and lookups.
    #[serde(default)]
    pub holder_name: Option<String>,
    /// A challenge phrase (撤销密码) is set.
    #[serde(default)]
    pub challenge_set: bool,
    /// A revocation request's reason (证书注销).
    #[serde(default)]
    pub revocation_reason: Option<crate::certificate::RevocationReason>,
    /// A 证书变更 or 经办人变更: what it changes, old value → new value.
    #[serde(default)]
    pub changes: Vec<crate::change::FieldChange>,
    /// A reissue's (证书补办) reason and whether its SMS check passed.
    #[serde(default)]
    pub reissue: Option<crate::reissue::ReissueDetails>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Named;

    #[test]
    fn codes_round_trip_and_match_serde() {
        for k in RequestKind::ALL {
            assert_eq!(RequestKind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), serde_json::Value::String(k.as_str().into()));
        }
        for s in RequestStatus::ALL {
            assert_eq!(RequestStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), serde_json::Value::String(s.as_str().into()));
        }
        assert_eq!(RequestStatus::parse("unknown"), None);
    }
}

crate::deserialize_by_name!(RequestKind);

crate::deserialize_by_name!(RequestStatus);
