//! `certificate.crl_entry`: the DER of the certificate's CRL entry, written when it is
//! revoked or frozen, so that a CRL with a million entries is assembled, not re-encoded.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Certificate {
    Table,
    CrlEntry,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Certificate::Table)
                .add_column(ColumnDef::new(Certificate::CrlEntry).binary().null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Certificate::Table).drop_column(Certificate::CrlEntry).to_owned()).await
    }
}
