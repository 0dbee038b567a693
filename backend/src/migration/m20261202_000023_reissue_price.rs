//! 补办价格 (seed 002 §2.2: 单位证书恢复价格 ¥50): each certificate type's price of a reissue
//! (证书补办 / 密钥恢复: a new UKey and a new key pair), in fen, set by administrators in the
//! catalogue. Existing types start at the seed's ¥50.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Alias::new("catalogue_type"))
                .add_column(ColumnDef::new(Alias::new("reissue_price_fen")).big_integer().not_null().default(5000))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter().table(Alias::new("catalogue_type")).drop_column(Alias::new("reissue_price_fen")).to_owned(),
        )
        .await
    }
}
