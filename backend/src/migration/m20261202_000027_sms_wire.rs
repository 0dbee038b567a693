//! SMS over the wire. The SMS sandbox's spent nonces (`SignatureNonce` of `SendSms`): a
//! request whose nonce is here is refused as the vendor does (`SignatureNonceUsed`),
//! whichever server receives it; rows older than the timestamp check allows are deleted as
//! new ones arrive. And `outbox_message.params`: the template parameters (JSON) of an SMS
//! written by a transaction (an expiry notice's) that the real gateway must still carry.

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
        m.create_index(index("sandbox_sms_nonce", &["seen_at"], false)).await?;
        m.alter_table(
            Table::alter()
                .table(Alias::new("outbox_message"))
                .add_column(ColumnDef::new(Alias::new("params")).text().null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Alias::new("outbox_message")).drop_column(Alias::new("params")).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Alias::new("sandbox_sms_nonce")).to_owned()).await
    }
}
