//! APP扫码登录 (issue 15): one row per QR code a desktop shows, bound to that browser by the
//! SHA-256 of its cookie, moving waiting → scanned → approved → signed_in (or expired) by
//! conditional updates, so that any server may answer any step.

use sea_orm_migration::prelude::*;

use super::schema::{id, index, table, text, text_null, time, time_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(table("qr_login", |t| {
            id(t, "id");
            text(t, "browser_hash");
            t.col(ColumnDef::new(Alias::new("status")).string_len(16).not_null().check(
                Expr::col(Alias::new("status")).is_in(["waiting", "scanned", "approved", "signed_in", "expired"]),
            ));
            t.col(ColumnDef::new(Alias::new("match_number")).small_integer().not_null());
            text(t, "nonce");
            text(t, "user_agent");
            text(t, "address");
            time(t, "created_at");
            time(t, "expires_at");
            t.col(ColumnDef::new(Alias::new("shield_id")).string_len(64).null());
            t.col(ColumnDef::new(Alias::new("account_id")).string_len(64).null());
            text_null(t, "certificate_uid");
            time_null(t, "scanned_at");
            time_null(t, "approved_at");
        }))
        .await?;
        m.create_index(index("qr_login", &["expires_at"], false)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Alias::new("qr_login")).to_owned()).await
    }
}
