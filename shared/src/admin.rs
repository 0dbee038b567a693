//! The staff side on the wire: roles, staff sign-in with a security key, the SMS outbox of
//! the sandbox gateway and the audit trail.

use serde::{Deserialize, Serialize};

/// Staff roles. A role grants a fixed set of permissions; see the server's `Permission`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    /// 审核
    Reviewer,
    /// 客服
    CustomerService,
    /// 财务
    Finance,
    /// 管理员
    Administrator,
}

impl StaffRole {
    pub const ALL: [StaffRole; 4] =
        [StaffRole::Reviewer, StaffRole::CustomerService, StaffRole::Finance, StaffRole::Administrator];

    pub fn as_str(self) -> &'static str {
        match self {
            StaffRole::Reviewer => "reviewer",
            StaffRole::CustomerService => "customer_service",
            StaffRole::Finance => "finance",
            StaffRole::Administrator => "administrator",
        }
    }

    pub fn parse(s: &str) -> Option<StaffRole> {
        StaffRole::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// A staff member as the admin area shows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaffMember {
    pub id: String,
    pub username: String,
    pub display_name: String,
    /// `None` for a role this version does not know (it grants nothing).
    pub role: Option<StaffRole>,
    /// Has a security key: can sign in.
    pub enrolled: bool,
    /// Offboarded (停用): cannot sign in; sessions and keys are gone.
    #[serde(default)]
    pub disabled: bool,
    /// Their own phone: requests made with it are not theirs to review.
    #[serde(default)]
    pub mobile: Option<String>,
    pub created_at: String,
}

/// The signed-in staff member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaffSession {
    pub staff: StaffMember,
    pub csrf_token: String,
}

/// `POST /api/admin/staff`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateStaffRequest {
    pub username: String,
    pub display_name: String,
    pub role: StaffRole,
    /// Their own phone (a reviewer never reviews a request made with it).
    #[serde(default)]
    pub mobile: Option<crate::Mobile>,
}

/// A new staff member and the link they enrol their security key with (valid 24 hours).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StaffCreated {
    pub staff: StaffMember,
    pub enrol_url: String,
}

/// `PUT /api/admin/staff/{id}/role`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChangeRoleRequest {
    pub role: StaffRole,
}

/// `POST /api/admin/sign-in/start`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StartStaffSignIn {
    pub username: String,
}

/// `POST /api/admin/enrol/start`: the token from the enrolment link.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StartEnrolment {
    pub token: String,
}

/// `POST /api/admin/enrol/finish`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FinishEnrolment {
    pub token: String,
    pub challenge_id: String,
    pub credential: webauthn_rs_proto::RegisterPublicKeyCredential,
}

/// One message the sandbox SMS gateway (or the e-mail fallback) accepted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxMessage {
    pub id: String,
    /// `sms` or `email`.
    pub channel: String,
    /// Phone number or e-mail address.
    pub recipient: String,
    pub template: String,
    pub body: String,
    pub created_at: String,
}

/// One entry of the audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub address: String,
    pub detail: serde_json::Value,
}
