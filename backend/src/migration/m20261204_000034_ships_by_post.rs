//! 邮寄's list pages on the server (issue 21): whether a request's token goes by post becomes
//! a column, set with its delivery step, so that the parcels waiting are one indexed query
//! instead of every delivered request's JSON read in the process.

use sea_orm_migration::prelude::*;

use super::schema::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Alias::new("request"))
                .add_column(ColumnDef::new(Alias::new("ships_by_post")).boolean().not_null().default(false))
                .to_owned(),
        )
        .await?;
        // The delivery steps saved so far, as serde_json wrote them (`DeliveryMethod::Post`).
        m.get_connection()
            .execute_unprepared(r#"UPDATE request SET ships_by_post = TRUE WHERE delivery LIKE '%"method":"post"%'"#)
            .await?;
        m.create_index(index("request", &["ships_by_post", "tracking_no", "decided_at"], false)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_request_ships_by_post_tracking_no_decided_at")
                .table(Alias::new("request"))
                .to_owned(),
        )
        .await?;
        m.alter_table(Table::alter().table(Alias::new("request")).drop_column(Alias::new("ships_by_post")).to_owned())
            .await
    }
}
