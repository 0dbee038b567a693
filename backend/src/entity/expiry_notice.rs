//! 通知消息: an expiry notice, one per certificate and threshold (the unique pair is the
//! claim that it was sent).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "expiry_notice")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub account_id: String,
    pub certificate_uid: String,
    /// 90, 30 or 7.
    pub threshold_days: i32,
    pub subject: String,
    pub not_after: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub read_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
