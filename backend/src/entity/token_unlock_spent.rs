//! A sealed unlock secret the portal has opened: it never opens again.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "token_unlock_spent")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub sealed_sha256: String,
    pub medium_no: String,
    pub spent_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
