//! Partitioned CRLs (issue 18): `certificate.crl_shard`, the shard a certificate was given
//! at issuance (null for the certificates issued before, which keep the full CRL they
//! name), the table `crl_shard` with each shard's latest CRL and its own CRL number, and a
//! covering index with the shard in it, so that one shard's CRL (and the unsharded one) is
//! read from the index alone. `ix_certificate_crl` (migration 005) stays: it finds the
//! entries still to encode (`crl_entry IS NULL`) without reading every revoked one.

use sea_orm_migration::prelude::*;

use super::schema::{index, table, time};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Alias::new("certificate"))
                .add_column(ColumnDef::new(Alias::new("crl_shard")).integer().null())
                .to_owned(),
        )
        .await?;
        m.create_table(table("crl_shard", |t| {
            t.col(ColumnDef::new(Alias::new("ca_id")).integer().not_null());
            t.col(ColumnDef::new(Alias::new("shard")).integer().not_null());
            t.col(ColumnDef::new(Alias::new("number")).big_integer().not_null());
            time(t, "this_update");
            time(t, "next_update");
            t.col(ColumnDef::new(Alias::new("der")).binary().not_null());
            t.primary_key(Index::create().col(Alias::new("ca_id")).col(Alias::new("shard")));
        }))
        .await?;
        m.create_index(index("certificate", &["ca_id", "crl_shard", "status", "crl_entry"], false)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_certificate_ca_id_crl_shard_status_crl_entry")
                .table(Alias::new("certificate"))
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table(Alias::new("crl_shard")).to_owned()).await?;
        m.alter_table(Table::alter().table(Alias::new("certificate")).drop_column(Alias::new("crl_shard")).to_owned())
            .await
    }
}
