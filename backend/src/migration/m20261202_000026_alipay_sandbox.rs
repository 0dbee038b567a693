//! The Alipay sandbox's own record of each trade (`alipay_sandbox_trade`): what a real
//! Alipay keeps on its side, kept in our database so that every server sees one sandbox.
//! Its keys (the app's key pair, Alipay's key pair) are rows of `sandbox_secret`.

use sea_orm_migration::prelude::*;

use super::schema::{id, index, money, table, text, text_null, time, time_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "alipay_sandbox_trade";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(table(TABLE, |t| {
            // The token in the qr_code: what the phone opens after scanning.
            id(t, "token");
            text(t, "out_trade_no");
            // Alipay's trade number, given when the buyer scans (the trade exists from then on).
            text_null(t, "trade_no");
            money(t, "amount_fen");
            text(t, "subject");
            text(t, "notify_url");
            // WAIT_BUYER_PAY, TRADE_SUCCESS or TRADE_CLOSED.
            text(t, "trade_status");
            time(t, "created_at");
            time(t, "time_expire");
            time_null(t, "scanned_at");
            time_null(t, "paid_at");
            // When the merchant answered `success` to the notification.
            time_null(t, "notified_at");
        }))
        .await?;
        m.create_index(index(TABLE, &["out_trade_no"], true)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Alias::new(TABLE)).to_owned()).await
    }
}
