//! Several ways to pay: `payment_order.provider` names the way (`wechat`, `alipay`,
//! `bank_transfer`); the orders of the old in-process sandbox, which stood in for WeChat Pay,
//! become `wechat`. An order remembers when its provider was last asked about it
//! (`queried_at`: the status poll asks at most every few seconds). The WeChat Pay sandbox,
//! now a server, keeps each order's `notify_url`.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared("UPDATE payment_order SET provider = 'wechat' WHERE provider = 'sandbox'")
            .await?;
        m.alter_table(
            Table::alter()
                .table(Alias::new("payment_order"))
                .add_column(ColumnDef::new(Alias::new("queried_at")).timestamp_with_time_zone().null())
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Alias::new("sandbox_trade"))
                .add_column(ColumnDef::new(Alias::new("notify_url")).text().null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter().table(Alias::new("payment_order")).drop_column(Alias::new("queried_at")).to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter().table(Alias::new("sandbox_trade")).drop_column(Alias::new("notify_url")).to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared("UPDATE payment_order SET provider = 'sandbox' WHERE provider = 'wechat'")
            .await
            .map(drop)
    }
}
