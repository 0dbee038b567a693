//! The phone of record of a certificate, once a 经办人变更 has set it (migration 021).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "certificate_contact")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub certificate_uid: String,
    pub mobile: String,
    /// The operator (经办人) as JSON (`shared::apply::OperatorInfo`).
    pub operator: Option<String>,
    /// The request that set it.
    pub request_id: Option<String>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
