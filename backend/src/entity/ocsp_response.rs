//! Each certificate's OCSP response, signed when its status changed (issuance, freeze,
//! release, revocation) and signed again before it runs out: the responder serves these
//! bytes instead of signing per request. `status` is the certificate status it attests,
//! so that a refresh never overwrites a newer status's response.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ocsp_response")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub ca_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub serial: String,
    pub status: String,
    pub this_update: DateTimeUtc,
    pub next_update: DateTimeUtc,
    pub der: Vec<u8>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
