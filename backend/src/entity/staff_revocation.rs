//! A revocation a staff member asked for; it takes effect when a second staff member approves
//! it (migration 024).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "staff_revocation")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub certificate_uid: String,
    /// The RFC 5280 reason code.
    pub reason: i16,
    pub comment: String,
    /// The staff member who asked.
    pub requested_by: String,
    pub requested_at: DateTimeUtc,
    pub status: Status,
    /// The second staff member, who approved or rejected it.
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTimeUtc>,
    pub decision_comment: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Where a staff revocation stands, stored as its code (CHECK-constrained).
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Status {
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "approved")]
    Approved,
    #[sea_orm(string_value = "rejected")]
    Rejected,
}
