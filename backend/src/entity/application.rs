//! Applications for a new certificate: the wizard's draft and its review.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "application")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub account_id: String,
    pub acceptance_no: Option<String>,
    pub status: String,
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
    pub certificate_uid: Option<String>,
    pub review_round: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub submitted_at: Option<DateTimeUtc>,
    pub decided_at: Option<DateTimeUtc>,
    pub courier: Option<String>,
    pub tracking_no: Option<String>,
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
