//! 证书解锁 keeps its state in the database (issue 17): the current sealed unlock secret of
//! each medium, which replaces the token's own copy from its first unlock on and is replaced
//! at every unlock, and the SHA-256 of every sealed secret ever opened, so that none opens
//! twice, whichever server is asked.

use sea_orm_migration::prelude::*;

use super::schema::{table, text, time};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(table("token_unlock_secret", |t| {
            t.col(ColumnDef::new(Alias::new("medium_no")).string_len(64).not_null().primary_key());
            text(t, "sealed");
            text(t, "sealed_sha256");
            time(t, "updated_at");
        }))
        .await?;
        m.create_table(table("token_unlock_spent", |t| {
            t.col(ColumnDef::new(Alias::new("sealed_sha256")).string_len(64).not_null().primary_key());
            text(t, "medium_no");
            time(t, "spent_at");
        }))
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Alias::new("token_unlock_spent")).to_owned()).await?;
        m.drop_table(Table::drop().table(Alias::new("token_unlock_secret")).to_owned()).await
    }
}
