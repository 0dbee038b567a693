//! The certificate authority's tables: its CAs (`ca_authority`), the certificates it
//! issued (`certificate`, serial unique per CA) and the latest CRL of each CA (`crl`).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CaAuthority {
    Table,
    Id,
    Name,
    ParentId,
    Subject,
    CertDer,
    KeyStorage,
    KeyBlob,
    NotBefore,
    NotAfter,
    CrlNumber,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Certificate {
    Table,
    Id,
    Uid,
    CaId,
    Serial,
    Profile,
    Subject,
    NotBefore,
    NotAfter,
    Der,
    Status,
    RevokedAt,
    Reason,
    InvalidityDate,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Crl {
    Table,
    CaId,
    Number,
    ThisUpdate,
    NextUpdate,
    Der,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(CaAuthority::Table)
                .col(ColumnDef::new(CaAuthority::Id).integer().not_null().auto_increment().primary_key())
                .col(ColumnDef::new(CaAuthority::Name).string_len(32).not_null().unique_key())
                .col(ColumnDef::new(CaAuthority::ParentId).integer().null())
                .col(ColumnDef::new(CaAuthority::Subject).string().not_null())
                .col(ColumnDef::new(CaAuthority::CertDer).binary().not_null())
                .col(ColumnDef::new(CaAuthority::KeyStorage).string_len(32).not_null())
                .col(ColumnDef::new(CaAuthority::KeyBlob).binary().not_null())
                .col(ColumnDef::new(CaAuthority::NotBefore).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(CaAuthority::NotAfter).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(CaAuthority::CrlNumber).big_integer().not_null().default(0))
                .col(ColumnDef::new(CaAuthority::CreatedAt).timestamp_with_time_zone().not_null())
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Certificate::Table)
                .col(ColumnDef::new(Certificate::Id).big_integer().not_null().auto_increment().primary_key())
                .col(ColumnDef::new(Certificate::Uid).string_len(36).not_null().unique_key())
                .col(ColumnDef::new(Certificate::CaId).integer().not_null())
                .col(ColumnDef::new(Certificate::Serial).string_len(40).not_null())
                .col(ColumnDef::new(Certificate::Profile).string_len(32).not_null())
                .col(ColumnDef::new(Certificate::Subject).string().not_null())
                .col(ColumnDef::new(Certificate::NotBefore).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(Certificate::NotAfter).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(Certificate::Der).binary().not_null())
                .col(ColumnDef::new(Certificate::Status).string_len(16).not_null())
                .col(ColumnDef::new(Certificate::RevokedAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(Certificate::Reason).small_integer().null())
                .col(ColumnDef::new(Certificate::InvalidityDate).timestamp_with_time_zone().null())
                .col(ColumnDef::new(Certificate::CreatedAt).timestamp_with_time_zone().not_null())
                .foreign_key(
                    ForeignKey::create()
                        .from(Certificate::Table, Certificate::CaId)
                        .to(CaAuthority::Table, CaAuthority::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("certificate_ca_serial")
                .table(Certificate::Table)
                .col(Certificate::CaId)
                .col(Certificate::Serial)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("certificate_ca_status")
                .table(Certificate::Table)
                .col(Certificate::CaId)
                .col(Certificate::Status)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Crl::Table)
                .col(ColumnDef::new(Crl::CaId).integer().not_null().primary_key())
                .col(ColumnDef::new(Crl::Number).big_integer().not_null())
                .col(ColumnDef::new(Crl::ThisUpdate).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(Crl::NextUpdate).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(Crl::Der).binary().not_null())
                .foreign_key(ForeignKey::create().from(Crl::Table, Crl::CaId).to(CaAuthority::Table, CaAuthority::Id))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Crl::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Certificate::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(CaAuthority::Table).to_owned()).await
    }
}
