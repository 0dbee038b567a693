//! Messages written into the outbox by a transaction (an expiry notice's e-mail) that an
//! SMTP server must still carry: `relay` is `pending` until the relay claims one
//! (`sending`), then `sent`. Messages the outbox itself delivers have none.

use sea_orm_migration::prelude::*;

use super::schema::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Alias::new("outbox_message"))
                .add_column(ColumnDef::new(Alias::new("relay")).string_len(16).null())
                .to_owned(),
        )
        .await?;
        m.create_index(index("outbox_message", &["relay"], false)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("ix_outbox_message_relay").table(Alias::new("outbox_message")).to_owned())
            .await?;
        m.alter_table(Table::alter().table(Alias::new("outbox_message")).drop_column(Alias::new("relay")).to_owned())
            .await
    }
}
