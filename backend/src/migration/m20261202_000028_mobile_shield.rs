//! The mobile shield (移动软盾, issue 15): one row per certificate downloaded into the phone
//! app, with what the server keeps of it (the device key's hash, the PIN key, the shield
//! secret) and the wrong-PIN count that two servers must agree on.

use sea_orm_migration::prelude::*;

use super::schema::{id, index, int, table, text, time};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(table("mobile_shield", |t| {
            id(t, "id");
            t.col(ColumnDef::new(Alias::new("certificate_uid")).string_len(64).not_null());
            t.col(ColumnDef::new(Alias::new("account_id")).string_len(64).not_null());
            text(t, "device_key_hash");
            text(t, "pin_key");
            text(t, "secret");
            int(t, "failures");
            t.col(
                ColumnDef::new(Alias::new("state"))
                    .string_len(16)
                    .not_null()
                    .check(Expr::col(Alias::new("state")).is_in(["active", "locked", "disabled"])),
            );
            time(t, "created_at");
            time(t, "updated_at");
        }))
        .await?;
        m.create_index(index("mobile_shield", &["certificate_uid"], false)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Alias::new("mobile_shield")).to_owned()).await
    }
}
