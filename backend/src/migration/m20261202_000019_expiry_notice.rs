//! 通知消息 (issue 13): one row per certificate and threshold (90, 30, 7 days before expiry).
//! The unique (certificate, threshold) pair is the claim: whichever server inserts the row
//! sends that notice's SMS and e-mail, in the same transaction. Also an index for finding
//! the certificates that expire soon.

use sea_orm_migration::prelude::*;

use super::schema::{id, index, table, text, time, time_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(table("expiry_notice", |t| {
            id(t, "id");
            t.col(ColumnDef::new(Alias::new("account_id")).string_len(64).not_null());
            t.col(ColumnDef::new(Alias::new("certificate_uid")).string_len(64).not_null());
            t.col(ColumnDef::new(Alias::new("threshold_days")).integer().not_null());
            text(t, "subject");
            time(t, "not_after");
            time(t, "created_at");
            time_null(t, "read_at");
        }))
        .await?;
        m.create_index(index("expiry_notice", &["certificate_uid", "threshold_days"], true)).await?;
        m.create_index(index("expiry_notice", &["account_id", "created_at"], false)).await?;
        m.create_index(index("certificate", &["not_after"], false)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("ix_certificate_not_after").table(Alias::new("certificate")).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Alias::new("expiry_notice")).to_owned()).await
    }
}
