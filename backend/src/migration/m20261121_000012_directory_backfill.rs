//! Applications submitted before migration 010 have no lookup columns, so the status search
//! and the progress lookup could not find them or their certificates. This fills them from
//! the steps as stored (`domain::apply::backfill_lookups`); new submissions write them
//! themselves.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        crate::domain::apply::backfill_lookups(m.get_connection()).await.map(drop)
    }

    async fn down(&self, _: &SchemaManager) -> Result<(), DbErr> {
        // The columns stay as filled; migration 010's down removes them.
        Ok(())
    }
}
