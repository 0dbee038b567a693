//! CertDesk's wire contract: what the browser app and the server say to each other,
//! and the validation rules both apply. Depends on serde and small crates only.

pub mod account;
pub mod admin;
pub mod agent;
pub mod apply;
pub mod bundles;
pub mod certificate;
pub mod change;
pub mod dashboard;
pub mod directory;
pub mod downloads;
pub mod error;
pub mod freeze;
pub mod health;
pub mod lang;
pub mod my_certificates;
pub mod notice;
pub mod payment;
pub mod regions;
pub mod reissue;
pub mod renew;
pub mod request;
pub mod revoke;
#[cfg(feature = "seal")]
pub mod seal;
pub mod shield;
#[cfg(feature = "shield-keys")]
pub mod shield_keys;
pub mod validate;

pub use error::{ApiError, ErrorCode, FieldError};
pub use lang::Lang;
pub use validate::{
    CreditCode, Email, IdCardNumber, Mobile, OrgName, OtpCode, Password, PersonName, Pin, ValidationError,
};

/// Default TCP port of the local token agent (证书助手) on 127.0.0.1.
pub const AGENT_DEFAULT_PORT: u16 = 17530;
