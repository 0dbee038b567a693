//! Our payment orders (商户订单), one per QR code shown.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payment_order")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub out_trade_no: String,
    pub request_id: String,
    pub provider: String,
    pub amount_fen: i64,
    pub code_url: String,
    pub status: String,
    pub transaction_id: Option<String>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub paid_at: Option<DateTimeUtc>,
    /// When the provider was last asked about the order (the status poll asks at most every
    /// [`crate::domain::payment::QUERY_EVERY`], whichever server polls).
    pub queried_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
