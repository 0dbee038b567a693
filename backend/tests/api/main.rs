//! The backend's one integration-test binary. Runs on SQLite by default and on PostgreSQL
//! when `TEST_DATABASE_URL` points at a server (`cargo xtask test` does both).

// Test code: a failed expectation should panic with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod accounts;
mod admin;
mod alipay;
mod apply;
mod backup;
mod ca;
mod ca_ceremony;
mod catalogue;
mod change;
mod checkpoint;
mod console;
mod crl;
mod dashboard;
mod database_outage;
mod directory;
mod downloads;
mod endpoints;
mod errors;
mod expiry_notice;
mod faults;
mod graceful_stop;
mod health;
mod holder;
mod lists;
mod mobile_shield;
mod my_certificates;
mod payment;
mod phone_of_record;
mod pkcs11;
mod production_mode;
mod qr_login;
mod reissue;
mod renew;
mod request;
mod revoke;
mod sms;
mod soak;
mod static_files;
mod token_sign_in;
mod token_unlock;
mod verification;
