//! The SMS sandbox's spent nonces (`SignatureNonce` of `SendSms`): a request whose nonce is
//! here is refused as the vendor does (`SignatureNonceUsed`), whichever server receives it.
//! Rows older than the timestamp check allows are deleted as new ones arrive.

use sea_orm_migration::prelude::*;

use super::schema::{index, table, time};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(table("sandbox_sms_nonce", |t| {
            t.col(ColumnDef::new(Alias::new("nonce")).string_len(128).not_null().primary_key());
            time(t, "seen_at");
        }))
        .await?;
        m.create_index(index("sandbox_sms_nonce", &["seen_at"], false)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Alias::new("sandbox_sms_nonce")).to_owned()).await
    }
}
