//! The latest CRL of each shard of a CA's partitioned CRLs, with the shard's own CRL number.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "crl_shard")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub ca_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub shard: i32,
    pub number: i64,
    pub this_update: DateTimeUtc,
    pub next_update: DateTimeUtc,
    pub der: Vec<u8>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
