//! Invoices requested for applications, and the e-invoice PDF once finance issues it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invoice")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub request_id: String,
    pub account_id: String,
    pub title: String,
    pub tax_number: String,
    pub address: String,
    pub bank: String,
    pub phone: String,
    pub bank_account: String,
    pub email: String,
    pub amount_fen: i64,
    pub status: String,
    pub invoice_no: Option<String>,
    pub pdf: Option<Vec<u8>>,
    pub requested_at: DateTimeUtc,
    pub issued_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
