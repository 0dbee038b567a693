//! A CA of the hierarchy (`root`, `issuing`, `ocsp`) with its certificate and its sealed key
//! (none for the offline root).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ca_authority")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub name: String,
    pub parent_id: Option<i32>,
    pub subject: String,
    pub cert_der: Vec<u8>,
    /// How the key is kept: `sealed-pkcs8` (AES-256-GCM under an argon2id-derived key, the
    /// blob is the sealed key), `pkcs11` (the blob is the key's label on the token) or, for
    /// the root, `offline` (no key here at all: the blob is empty).
    pub key_storage: String,
    pub key_blob: Vec<u8>,
    pub not_before: DateTimeUtc,
    pub not_after: DateTimeUtc,
    pub crl_number: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
