//! SeaORM entities, one module per table. Never serialized: handlers convert to `shared` types.

pub mod ca_authority;
pub mod certificate;
pub mod crl;
