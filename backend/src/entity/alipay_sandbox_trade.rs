//! The Alipay sandbox's record of a trade (`payment::alipay_sandbox`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "alipay_sandbox_trade")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub token: String,
    pub out_trade_no: String,
    pub trade_no: Option<String>,
    pub amount_fen: i64,
    pub subject: String,
    pub notify_url: String,
    pub trade_status: String,
    pub created_at: DateTimeUtc,
    pub time_expire: DateTimeUtc,
    pub scanned_at: Option<DateTimeUtc>,
    pub paid_at: Option<DateTimeUtc>,
    pub notified_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
