//! 冻结 / 解冻 (seed 002 §2.2): a certificate on hold (RFC 5280 certificateHold) is listed in
//! the CRL and answered revoked by OCSP until it is unfrozen. The holder freezes from 我的证书
//! at once; unfreezing needs the SMS code of the phone of record, and only what a holder
//! froze. Staff freeze and unfreeze too, with a comment.
//!
//! `POST /api/my-certificates/{uid}/freeze`, `POST /api/my-certificates/{uid}/unfreeze`;
//! `POST /api/admin/certificates/{uid}/freeze`, `POST /api/admin/certificates/{uid}/unfreeze`.

use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray, VariantNames};

use crate::OtpCode;

/// Who froze a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, IntoStaticStr, EnumString, VariantArray, VariantNames)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum FrozenBy {
    /// Its holder (冻结 in 我的证书, or a token reported lost).
    Holder,
    /// The CA's staff: only staff unfreeze it.
    Staff,
}

/// `POST /api/my-certificates/{uid}/unfreeze`: the code sent to the phone of record
/// (purpose `certificate_release`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Unfreeze {
    pub code: OtpCode,
}

/// `POST /api/admin/certificates/{uid}/freeze` and `/unfreeze`: why, for the audit trail.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct StaffFreeze {
    pub comment: String,
}

crate::deserialize_by_name!(FrozenBy);
