//! The issuing CA's key waiting for the offline root to sign its request (one row per CA name).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ca_request")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    pub subject: String,
    /// The PKCS#10 request the root signs.
    pub csr_der: Vec<u8>,
    /// As in `ca_authority`: `sealed-pkcs8` or `pkcs11`.
    pub key_storage: String,
    pub key_blob: Vec<u8>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
