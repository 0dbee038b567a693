//! Payments: our orders (商户订单), and the sandbox provider's own records and keys (a real
//! provider keeps those on its side; the sandbox keeps them in our database so that every
//! server sees the same "provider").

use sea_orm_migration::prelude::*;

use super::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLES: &[&str] = &["payment_order", "sandbox_trade", "sandbox_secret"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(table("payment_order", |t| {
            id(t, "out_trade_no");
            text(t, "application_id");
            text(t, "provider");
            money(t, "amount_fen");
            text(t, "code_url");
            text(t, "status");
            text_null(t, "transaction_id");
            time(t, "created_at");
            time(t, "expires_at");
            time_null(t, "paid_at");
        }))
        .await?;
        m.create_index(index("payment_order", &["application_id"], false)).await?;
        m.create_table(table("sandbox_trade", |t| {
            // The token in the code_url: what the phone opens after scanning.
            id(t, "token");
            text(t, "out_trade_no");
            money(t, "amount_fen");
            text(t, "description");
            text(t, "state");
            text_null(t, "transaction_id");
            time(t, "created_at");
            time(t, "expires_at");
        }))
        .await?;
        m.create_index(index("sandbox_trade", &["out_trade_no"], true)).await?;
        m.create_table(table("sandbox_secret", |t| {
            id(t, "name");
            text(t, "value");
        }))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in TABLES {
            m.drop_table(Table::drop().table(Alias::new(*t)).if_exists().to_owned()).await?;
        }
        Ok(())
    }
}
