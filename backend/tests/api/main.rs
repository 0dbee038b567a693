//! The backend's one integration-test binary. Runs on SQLite by default and on PostgreSQL
//! when `TEST_DATABASE_URL` points at a server (`cargo xtask test` does both).

mod helpers;

mod errors;
mod health;
mod static_files;
