//! SeaORM entities, one module per table. Never serialized: handlers convert to `shared` types.

pub mod account;
pub mod audit_event;
pub mod ca_authority;
pub mod ca_request;
pub mod captcha;
pub mod catalogue_project;
pub mod catalogue_type;
pub mod catalogue_validity;
pub mod certificate;
pub mod crl;
pub mod expiry_notice;
pub mod invoice;
pub mod one_time_code;
pub mod outbox_message;
pub mod payment_order;
pub mod request;
pub mod request_document;
pub mod sandbox_secret;
pub mod sandbox_trade;
pub mod session;
pub mod staff;
pub mod throttle;
pub mod token_unlock_secret;
pub mod token_unlock_spent;
pub mod webauthn_challenge;
pub mod webauthn_credential;
