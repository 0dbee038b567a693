//! Every business request (业务): a new certificate's application (the wizard's draft and
//! its review), a renewal, and the kinds to come. The kind and the status are database
//! enums (CHECK-constrained, migration 017): a row with a value the code does not know is an
//! error when read, never a draft.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "request")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub account_id: String,
    pub kind: Kind,
    pub acceptance_no: Option<String>,
    pub status: Status,
    pub step: i32,
    pub billing_mode: String,
    pub type_id: Option<String>,
    pub medium: Option<String>,
    pub choose_type: Option<String>,
    pub certificate_info: Option<String>,
    pub operator: Option<String>,
    pub delivery: Option<String>,
    pub price_fen: Option<i64>,
    pub reasons: String,
    pub auth_code_hash: Option<String>,
    /// The certificate the request started from (none for 新办).
    pub from_certificate_uid: Option<String>,
    /// The certificate the request produced.
    pub certificate_uid: Option<String>,
    /// What is special to the kind, as JSON (a renewal's period).
    pub payload: Option<String>,
    pub review_round: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub submitted_at: Option<DateTimeUtc>,
    pub decided_at: Option<DateTimeUtc>,
    pub courier: Option<String>,
    pub tracking_no: Option<String>,
    /// The token goes by post (邮寄配送): set with the delivery step, read by 邮寄's list.
    pub ships_by_post: bool,
    pub shipped_at: Option<DateTimeUtc>,
    /// Set at submission, for the public lookups (unit name, e-mail lower-cased, operator).
    pub search_name: Option<String>,
    pub search_email: Option<String>,
    pub operator_mobile: Option<String>,
    pub operator_id_number: Option<String>,
    /// argon2id of the challenge phrase (撤销密码) for self-revocation.
    pub challenge_hash: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The kind of a request, stored as its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum Kind {
    #[sea_orm(string_value = "apply")]
    Apply,
    #[sea_orm(string_value = "renew")]
    Renew,
    #[sea_orm(string_value = "change")]
    Change,
    #[sea_orm(string_value = "operator_change")]
    OperatorChange,
    #[sea_orm(string_value = "reissue")]
    Reissue,
    #[sea_orm(string_value = "revoke")]
    Revoke,
}

/// The status of a request, stored as its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum Status {
    #[sea_orm(string_value = "draft")]
    Draft,
    #[sea_orm(string_value = "submitted")]
    Submitted,
    #[sea_orm(string_value = "rejected")]
    Rejected,
    #[sea_orm(string_value = "resubmitted")]
    Resubmitted,
    #[sea_orm(string_value = "approved")]
    Approved,
    #[sea_orm(string_value = "issued")]
    Issued,
    #[sea_orm(string_value = "done")]
    Done,
    #[sea_orm(string_value = "withdrawn")]
    Withdrawn,
}
