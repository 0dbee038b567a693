//! Each certificate downloaded into a token records the token's medium number (介质编号), so
//! that 证书解锁 can tell whose token it is: only the account holding a certificate on that
//! medium can have its PIN unlocked.

use sea_orm_migration::prelude::*;

use super::schema::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Alias::new("certificate"))
                .add_column(ColumnDef::new(Alias::new("medium_no")).text().null())
                .to_owned(),
        )
        .await?;
        m.create_index(index("certificate", &["medium_no"], false)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("ix_certificate_medium_no").table(Alias::new("certificate")).to_owned())
            .await?;
        m.alter_table(Table::alter().table(Alias::new("certificate")).drop_column(Alias::new("medium_no")).to_owned())
            .await
    }
}
