//! A certificate the CA issued. `serial` (lower-case hex) is unique per CA.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "certificate")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub uid: String,
    pub ca_id: i32,
    pub serial: String,
    pub profile: String,
    pub subject: String,
    pub not_before: DateTimeUtc,
    pub not_after: DateTimeUtc,
    pub der: Vec<u8>,
    /// `valid`, `revoked` or `hold` (frozen, 冻结).
    pub status: String,
    pub revoked_at: Option<DateTimeUtc>,
    pub reason: Option<i16>,
    pub invalidity_date: Option<DateTimeUtc>,
    /// DER of this certificate's CRL entry while it is revoked or frozen.
    pub crl_entry: Option<Vec<u8>>,
    pub created_at: DateTimeUtc,
    /// The holder's e-mail, lower-cased (status search).
    pub email: Option<String>,
    /// 介质编号 of the token it was downloaded into (证书解锁 checks it).
    pub medium_no: Option<String>,
    /// Who froze it while it is on hold: `holder` or `staff` (migration 024).
    pub frozen_by: Option<String>,
    /// The CRL shard fixed at issuance and named in its CRL distribution point; none for a
    /// certificate issued before CRLs were partitioned, which names the full CRL (migration 030).
    pub crl_shard: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
