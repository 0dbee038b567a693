//! A project's name is unique, and so is a type's name within its project, even when two
//! administrators add the same one at the same moment.

use sea_orm_migration::prelude::*;

use super::schema::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(index("catalogue_project", &["name"], true)).await?;
        m.create_index(index("catalogue_type", &["project_id", "name"], true)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop().name("ix_catalogue_type_project_id_name").table(Alias::new("catalogue_type")).to_owned(),
        )
        .await?;
        m.drop_index(Index::drop().name("ix_catalogue_project_name").table(Alias::new("catalogue_project")).to_owned())
            .await
    }
}
