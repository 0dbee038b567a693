//! Each certificate's OCSP responses (by SHA-1 and by SHA-256 CertID), signed when its status changed (issuance, freeze,
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
    /// The response to a request by SHA-1 CertID (OpenSSL's, RFC 5019's).
    pub der: Vec<u8>,
    /// The response to a request by SHA-256 CertID.
    pub der_sha256: Vec<u8>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
