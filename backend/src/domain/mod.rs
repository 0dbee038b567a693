//! Business rules, free of HTTP. Each operation has one module named after it.

pub mod account;
pub mod apply;
pub mod audit;
pub mod captcha;
pub mod catalogue;
pub mod change;
pub mod codes;
pub mod console;
pub mod contact;
pub mod customer_service;
pub mod dashboard;
pub mod directory;
pub mod download;
pub mod expiry_notice;
pub mod freeze;
pub mod health;
pub mod invoice;
pub mod mobile_shield;
pub mod my_certificates;
pub mod paging;
pub mod password;
pub mod payment;
pub mod qr_login;
pub mod reissue;
pub mod renew;
pub mod request;
pub mod review;
pub mod revoke;
pub mod sandbox_secret;
pub mod security_key;
pub mod session;
pub mod shipping;
pub mod staff;
pub mod staff_revocation;
pub mod throttle;
pub mod token_challenge;
pub mod token_sign_in;
pub mod unlock;
pub mod verify;

use sea_orm::{ConnectionTrait, DbBackend, DbErr, ExecResult, QueryResult, Statement, Value};
use sha2::{Digest, Sha256};

/// Who is asking, for throttles and the audit trail.
#[derive(Debug, Clone, Default)]
pub struct ClientMeta {
    pub ip: String,
    pub user_agent: String,
}

impl ClientMeta {
    /// The throttle key of a per-address limit: `<what>:ip:<bucket>`, where the bucket is
    /// the IPv4 address or the IPv6 /64 ([`throttle::address_bucket`]). Every per-address
    /// limit counts through here, so that no limit gives one subscriber's /64 its billions
    /// of addresses.
    pub fn address_key(&self, what: &str) -> String {
        format!("{what}:ip:{}", throttle::address_bucket(&self.ip))
    }
}

pub use crate::random::{random_below, random_bytes, random_token};

pub fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p);
    }
    hex::encode(h.finalize())
}

/// A row that a unique index already holds (a phone, a name, an invoice request) is
/// `already_exists`; any other database failure stays what it is.
pub fn already_exists(e: DbErr) -> crate::error::AppError {
    match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => certdesk_shared::ErrorCode::AlreadyExists.into(),
        _ => e.into(),
    }
}

/// The fields a `shared` rule refused, as the refusal; none, as success.
pub fn invalid(errors: Vec<certdesk_shared::FieldError>) -> Result<(), crate::error::AppError> {
    if errors.is_empty() { Ok(()) } else { Err(crate::error::AppError::Validation(errors)) }
}

pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Constant-time comparison of two strings' bytes (`subtle`; the length is not secret).
pub fn same(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// A statement written with PostgreSQL's `$1` placeholders, run on either database
/// (SQLite takes them as `?1`).
pub fn sql(db: &impl ConnectionTrait, text: &str, values: Vec<Value>) -> Statement {
    let backend = db.get_database_backend();
    let text = match backend {
        DbBackend::Postgres => text.to_owned(),
        _ => text.replace('$', "?"),
    };
    Statement::from_sql_and_values(backend, text, values)
}

pub async fn exec(db: &impl ConnectionTrait, text: &str, values: Vec<Value>) -> Result<ExecResult, DbErr> {
    db.execute(sql(db, text, values)).await
}

pub async fn query_one(
    db: &impl ConnectionTrait,
    text: &str,
    values: Vec<Value>,
) -> Result<Option<QueryResult>, DbErr> {
    db.query_one(sql(db, text, values)).await
}
