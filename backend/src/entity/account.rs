//! Customer accounts: the phone number is the user name.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "account")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub kind: String,
    pub mobile: String,
    pub password_hash: String,
    pub org_name: Option<String>,
    pub credit_code: Option<String>,
    pub name: String,
    pub id_number: String,
    pub email: Option<String>,
    pub agreement_version: String,
    pub agreed_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub billing_mode: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
