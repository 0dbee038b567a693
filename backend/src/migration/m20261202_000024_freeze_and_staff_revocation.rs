//! 冻结 by whom, and revocations started by staff.
//!
//! `certificate.frozen_by` says who froze a certificate on hold: `holder` (from 我的证书, or by
//! reporting its token lost) or `staff`; its holder may unfreeze only what a holder froze.
//! `staff_revocation` holds a revocation a staff member asked for: it takes effect only when a
//! second staff member approves it (dual control). At most one is pending per certificate.

use sea_orm::ConnectionTrait;
use sea_orm_migration::prelude::*;

use super::schema::{id, index, table, text, time, time_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Alias::new("certificate"))
                .add_column(ColumnDef::new(Alias::new("frozen_by")).string_len(16).null())
                .to_owned(),
        )
        .await?;
        m.create_table(table("staff_revocation", |t| {
            id(t, "id");
            t.col(ColumnDef::new(Alias::new("certificate_uid")).string_len(64).not_null());
            t.col(ColumnDef::new(Alias::new("reason")).small_integer().not_null());
            text(t, "comment");
            t.col(ColumnDef::new(Alias::new("requested_by")).string_len(64).not_null());
            time(t, "requested_at");
            t.col(
                ColumnDef::new(Alias::new("status"))
                    .string_len(16)
                    .not_null()
                    .check(Expr::col(Alias::new("status")).is_in(["pending", "approved", "rejected"])),
            );
            t.col(ColumnDef::new(Alias::new("decided_by")).string_len(64).null());
            time_null(t, "decided_at");
            t.col(ColumnDef::new(Alias::new("decision_comment")).text().null());
        }))
        .await?;
        m.create_index(index("staff_revocation", &["status", "requested_at"], false)).await?;
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ix_staff_revocation_pending ON staff_revocation (certificate_uid) \
                 WHERE status = 'pending'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Alias::new("staff_revocation")).to_owned()).await?;
        m.alter_table(Table::alter().table(Alias::new("certificate")).drop_column(Alias::new("frozen_by")).to_owned())
            .await
    }
}
