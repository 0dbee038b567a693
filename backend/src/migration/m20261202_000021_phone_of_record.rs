//! The phone of record (预留手机号) of a certificate: where the SMS codes for 证书注销, 证书补办,
//! 解冻 and 证书解锁 go. A certificate without a row has the operator's phone of the request
//! that produced it, or its account's (`domain::contact::phone_of_record`); a row is written by
//! an approved 经办人变更 and carried over to the certificate's successors (延期, 变更, 补办).

use sea_orm_migration::prelude::*;

use super::schema::{index, table, text_null, time};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(table("certificate_contact", |t| {
            t.col(ColumnDef::new(Alias::new("certificate_uid")).string_len(64).not_null().primary_key());
            t.col(ColumnDef::new(Alias::new("mobile")).string_len(32).not_null());
            // The operator (经办人) as the request that set the phone gave them, JSON.
            text_null(t, "operator");
            t.col(ColumnDef::new(Alias::new("request_id")).string_len(64).null());
            time(t, "updated_at");
        }))
        .await?;
        m.create_index(index("certificate_contact", &["mobile"], false)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Alias::new("certificate_contact")).to_owned()).await
    }
}
