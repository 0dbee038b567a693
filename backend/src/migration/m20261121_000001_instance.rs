//! `instance`: one row naming this installation, written once when the schema is created.
//! Every server sharing the database reads the same row.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
#[allow(clippy::enum_variant_names)] // the names are the SQL table and columns
enum Instance {
    Table,
    Id,
    InstanceId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Instance::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(Instance::Id).integer().not_null().primary_key())
                    .col(ColumnDef::new(Instance::InstanceId).string_len(36).not_null())
                    .col(ColumnDef::new(Instance::CreatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        let insert = Query::insert()
            .into_table(Instance::Table)
            .columns([Instance::Id, Instance::InstanceId, Instance::CreatedAt])
            .values_panic([1.into(), uuid::Uuid::new_v4().to_string().into(), chrono::Utc::now().into()])
            .to_owned();
        manager.exec_stmt(insert).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Instance::Table).to_owned()).await
    }
}
