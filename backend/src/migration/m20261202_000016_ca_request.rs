//! The issuing CA's key waiting for the offline root's signature (`certdesk ca issuing
//! request`): kept as every CA key is (sealed, or the label of a key on the token) until
//! `certdesk ca import` brings its certificate, then deleted.

use sea_orm_migration::prelude::*;

use super::schema::{table, text, time};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(table("ca_request", |t| {
            t.col(ColumnDef::new(Alias::new("name")).string_len(32).not_null().primary_key());
            text(t, "subject");
            t.col(ColumnDef::new(Alias::new("csr_der")).binary().not_null());
            t.col(ColumnDef::new(Alias::new("key_storage")).string_len(32).not_null());
            t.col(ColumnDef::new(Alias::new("key_blob")).binary().not_null());
            time(t, "created_at");
        }))
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Alias::new("ca_request")).to_owned()).await
    }
}
