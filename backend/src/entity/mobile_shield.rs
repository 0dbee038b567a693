//! A mobile shield (移动软盾): a certificate's key sealed in a phone app, opened only with the
//! secret this row releases after a right PIN. The state is a database enum (migration 028).

use certdesk_shared::shield::ShieldState;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mobile_shield")]
pub struct Model {
    /// `MS` and 10 Crockford characters; also the certificate's medium number.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub certificate_uid: String,
    pub account_id: String,
    /// SHA-256 (hex) of the phone's device key.
    pub device_key_hash: String,
    /// The PIN key (base64), PBKDF2 of the PIN on the phone.
    pub pin_key: String,
    /// The shield secret the phone's key is sealed under, itself sealed under a key derived
    /// from the master secret (base64 of nonce ‖ AES-256-GCM, the shield id as associated data).
    pub secret: String,
    /// Wrong PINs in a row.
    pub failures: i32,
    pub state: State,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// A shield's state, stored as its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum State {
    #[sea_orm(string_value = "active")]
    Active,
    #[sea_orm(string_value = "locked")]
    Locked,
    #[sea_orm(string_value = "disabled")]
    Disabled,
}

impl From<State> for ShieldState {
    fn from(s: State) -> ShieldState {
        match s {
            State::Active => ShieldState::Active,
            State::Locked => ShieldState::Locked,
            State::Disabled => ShieldState::Disabled,
        }
    }
}
