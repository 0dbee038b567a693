//! A covering index for CRL generation: the revoked and frozen certificates of a CA with
//! their stored CRL entries, so a CRL of a million entries is read from the index alone and
//! never touches the certificate rows (each holds its whole DER).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Certificate {
    Table,
    CaId,
    Status,
    CrlEntry,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("ix_certificate_crl")
                .table(Certificate::Table)
                .col(Certificate::CaId)
                .col(Certificate::Status)
                .col(Certificate::CrlEntry)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("ix_certificate_crl").table(Certificate::Table).to_owned()).await
    }
}
