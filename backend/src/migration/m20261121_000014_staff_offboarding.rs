//! Staff offboarding: a staff member an administrator disabled keeps their row (the audit
//! trail names them) with the moment they were disabled; they cannot sign in again. And a
//! staff member's own phone, so that nobody reviews a request made with it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Alias::new("staff"))
                .add_column(ColumnDef::new(Alias::new("disabled_at")).timestamp_with_time_zone().null())
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Alias::new("staff"))
                .add_column(ColumnDef::new(Alias::new("mobile")).text().null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Alias::new("staff")).drop_column(Alias::new("mobile")).to_owned()).await?;
        m.alter_table(Table::alter().table(Alias::new("staff")).drop_column(Alias::new("disabled_at")).to_owned()).await
    }
}
