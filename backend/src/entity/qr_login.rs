//! An APP扫码登录 transaction: the QR code one desktop browser shows, the shield that scanned
//! it and the account it signs in. The status is a database enum (migration 029).

use certdesk_shared::shield::QrLoginStatus;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "qr_login")]
pub struct Model {
    /// 10 Crockford characters: what the QR code carries.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// SHA-256 (hex) of the binding cookie the showing browser holds.
    pub browser_hash: String,
    pub status: Status,
    pub match_number: i16,
    pub nonce: String,
    /// The desktop browser, summarised from its User-Agent.
    pub user_agent: String,
    pub address: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub shield_id: Option<String>,
    pub account_id: Option<String>,
    pub certificate_uid: Option<String>,
    pub scanned_at: Option<DateTimeUtc>,
    pub approved_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Where a transaction stands, stored as its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Status {
    #[sea_orm(string_value = "waiting")]
    Waiting,
    #[sea_orm(string_value = "scanned")]
    Scanned,
    /// The phone approved; the desktop's next poll signs it in.
    #[sea_orm(string_value = "approved")]
    Approved,
    #[sea_orm(string_value = "signed_in")]
    SignedIn,
    #[sea_orm(string_value = "expired")]
    Expired,
}

impl From<Status> for QrLoginStatus {
    /// What the desktop is told: an approval it has not collected yet is still "scanned".
    fn from(s: Status) -> QrLoginStatus {
        match s {
            Status::Waiting => QrLoginStatus::Waiting,
            Status::Scanned | Status::Approved => QrLoginStatus::Scanned,
            Status::SignedIn => QrLoginStatus::SignedIn,
            Status::Expired => QrLoginStatus::Expired,
        }
    }
}
