//! Staff members (审核, 客服, 财务, 管理员); they sign in with a security key only.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "staff")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub enrol_token_hash: Option<String>,
    pub enrol_expires_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    /// Offboarded: no sign-in, no session, no security key from then on.
    pub disabled_at: Option<DateTimeUtc>,
    /// Their own phone: a request made with it (as the account or the operator) is not theirs
    /// to review.
    pub mobile: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
