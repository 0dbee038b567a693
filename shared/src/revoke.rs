//! 证书注销 (seed 004 §7, seed 001 §2.4): the signed-in holder asks, in three steps — ① 资料上传
//! (the cancellation form and the holder's ID) ② 身份验证 (an SMS code to the masked phone of
//! record) ③ 提交审核 — and an operator reviews; on approval the certificate is revoked for
//! good with the holder's reason. And the revocation by the CA (CA/B BR §4.9.1.1): a staff
//! member asks with a reason and a comment, and it takes effect only when a second staff
//! member approves it.
//!
//! `GET/POST /api/revoke/{uid}`, `POST /api/revoke/requests/{id}/submit`;
//! `POST /api/admin/certificates/{uid}/revocations`, `GET /api/admin/revocations`,
//! `POST /api/admin/revocations/{id}/decision`.

use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray, VariantNames};

use crate::OtpCode;
use crate::apply::DocumentKind;
use crate::certificate::RevocationReason;
use crate::my_certificates::MyCertificate;
use crate::request::RequestView;

/// The documents a revocation request needs (注销申请表, 证书持有人身份证件).
pub const DOCUMENTS: [DocumentKind; 2] = [DocumentKind::RevocationForm, DocumentKind::HolderId];

/// Why a revocation request cannot start now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, IntoStaticStr, EnumString, VariantArray, VariantNames)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum RevocationNotOpen {
    /// Revoked already (or superseded, or past its end): nothing to revoke.
    NotLive,
    /// Another request (延期, 补办 …) is under way for this certificate.
    OtherRequest,
}

/// `GET /api/revoke/{uid}`: what revoking this certificate means now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct RevocationOffer {
    pub certificate: MyCertificate,
    /// The reasons the holder may give.
    pub reasons: Vec<RevocationReason>,
    /// The revocation request under way for it, if any.
    pub request: Option<RequestView>,
    pub not_open: Option<RevocationNotOpen>,
}

/// `POST /api/revoke/{uid}`: ① a revocation request with the holder's reason (a draft; the
/// documents go up with the request's document upload).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct StartRevocation {
    pub reason: RevocationReason,
}

/// `POST /api/revoke/requests/{id}/submit`: ② the code sent to the phone of record
/// (`POST /api/my-certificates/{uid}/code`, purpose `certificate_revoke`); ③ to review.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SubmitRevocation {
    pub code: OtpCode,
}

/// What a revocation request keeps beside the common fields (`request.payload`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct RevocationPayload {
    pub reason: RevocationReason,
}

/// The reasons staff may give for a revocation by the CA (RFC 5280 §5.3.1; the hold is
/// freezing, not a reason).
pub const STAFF_REASONS: [RevocationReason; 6] = [
    RevocationReason::Unspecified,
    RevocationReason::KeyCompromise,
    RevocationReason::AffiliationChanged,
    RevocationReason::Superseded,
    RevocationReason::CessationOfOperation,
    RevocationReason::PrivilegeWithdrawn,
];

/// Longest staff comment.
pub const MAX_COMMENT_CHARS: usize = 500;

/// `POST /api/admin/certificates/{uid}/revocations`: a staff member asks to revoke.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct StaffRevocationRequest {
    pub reason: RevocationReason,
    /// Why, for the second staff member and the audit trail (required).
    pub comment: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, IntoStaticStr, EnumString, VariantArray, VariantNames)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum StaffRevocationStatus {
    /// Waits for a second staff member.
    Pending,
    /// Approved: the certificate is revoked.
    Approved,
    Rejected,
}

/// A revocation asked for by staff, as the console lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct StaffRevocationView {
    pub id: String,
    pub certificate_uid: String,
    /// Upper-case hex.
    pub serial: String,
    pub subject: String,
    pub reason: RevocationReason,
    pub comment: String,
    pub requested_by: String,
    pub requested_at: String,
    pub status: StaffRevocationStatus,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub decision_comment: Option<String>,
    /// The staff member reading may decide it: pending, and not theirs.
    pub may_decide: bool,
}

/// `POST /api/admin/revocations/{id}/decision`: the second staff member's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct StaffRevocationDecision {
    pub approve: bool,
    #[serde(default)]
    pub comment: String,
}

/// A certificate as staff find it (`GET /api/admin/certificates?serial=`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct StaffCertificateView {
    pub uid: String,
    /// Upper-case hex.
    pub serial: String,
    pub subject: String,
    /// `valid`, `hold` or `revoked`, as the CA stores it.
    pub status: crate::my_certificates::MyCertificateStatus,
    pub not_after: String,
    pub frozen_by: Option<crate::freeze::FrozenBy>,
    /// The revocation by staff waiting for its second approval.
    pub pending: Option<StaffRevocationView>,
}

crate::deserialize_by_name!(StaffRevocationStatus, RevocationNotOpen);
