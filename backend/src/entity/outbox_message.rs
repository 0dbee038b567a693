//! Messages accepted by the sandbox SMS gateway (and e-mail when no SMTP server is set), and
//! those a transaction wrote for the SMTP server or the SMS gateway to carry.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox_message")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub channel: String,
    pub recipient: String,
    pub template: String,
    pub body: String,
    pub created_at: DateTimeUtc,
    /// For a message an SMTP server or the SMS gateway must still carry: `pending`,
    /// `sending`, `sent` (or `failed`, `refused`).
    pub relay: Option<String>,
    /// An SMS to relay: its template parameters (JSON).
    pub params: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
