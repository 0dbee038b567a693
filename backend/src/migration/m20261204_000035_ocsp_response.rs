//! Pre-signed OCSP (issue 18): `ocsp_response` holds each certificate's responses (one for
//! a SHA-1 CertID, one for SHA-256), signed when its status changes and refreshed before they
//! run out, keyed as the responder looks them up (CA, serial). The index on `this_update` finds the responses due for a refresh.

use sea_orm_migration::prelude::*;

use super::schema::{index, table, text, time};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(table("ocsp_response", |t| {
            t.col(ColumnDef::new(Alias::new("ca_id")).integer().not_null());
            text(t, "serial");
            text(t, "status");
            time(t, "this_update");
            time(t, "next_update");
            t.col(ColumnDef::new(Alias::new("der")).binary().not_null());
            t.col(ColumnDef::new(Alias::new("der_sha256")).binary().not_null());
            t.primary_key(Index::create().col(Alias::new("ca_id")).col(Alias::new("serial")));
        }))
        .await?;
        m.create_index(index("ocsp_response", &["this_update"], false)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Alias::new("ocsp_response")).to_owned()).await
    }
}
