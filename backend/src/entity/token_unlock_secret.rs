//! The current sealed unlock secret of a medium (证书解锁), replaced at every unlock.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "token_unlock_secret")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub medium_no: String,
    /// Base64, sealed to the portal's unlock key.
    pub sealed: String,
    pub sealed_sha256: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
