//! SeaORM entities, one module per table. Never serialized: handlers convert to `shared` types.

pub mod ca_authority;
pub mod ca_request;
pub mod certificate;
pub mod crl;
pub mod account;
pub mod staff;
pub mod session;
pub mod one_time_code;
pub mod captcha;
pub mod throttle;
pub mod webauthn_credential;
pub mod webauthn_challenge;
pub mod outbox_message;
pub mod audit_event;
pub mod catalogue_project;
pub mod catalogue_type;
pub mod catalogue_validity;
pub mod application;
pub mod application_document;
pub mod payment_order;
pub mod sandbox_trade;
pub mod sandbox_secret;
pub mod invoice;
pub mod token_unlock_secret;
pub mod token_unlock_spent;
