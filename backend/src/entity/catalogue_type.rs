//! Certificate types of a project, with their media and required documents.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "catalogue_type")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub profile: String,
    pub media: String,
    pub documents: String,
    pub position: i32,
    /// Renewals of this type go to staff review (seed 002); otherwise the system approves them (seed 004).
    pub renewal_review: bool,
    /// 补办价格 in fen (migration 023).
    pub reissue_price_fen: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
