//! 客服 备注 (issue 21): notes staff record on a request, kept beside it, never edited.

use sea_orm_migration::prelude::*;

use super::schema::{id, index, table, text, time};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(table("request_note", |t| {
            id(t, "id");
            t.col(ColumnDef::new(Alias::new("request_id")).string_len(64).not_null());
            t.col(ColumnDef::new(Alias::new("account_id")).string_len(64).not_null());
            t.col(ColumnDef::new(Alias::new("staff_id")).string_len(64).not_null());
            text(t, "text");
            time(t, "created_at");
        }))
        .await?;
        m.create_index(index("request_note", &["account_id", "created_at"], false)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Alias::new("request_note")).to_owned()).await
    }
}
