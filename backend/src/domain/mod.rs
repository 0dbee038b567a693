//! Business rules, free of HTTP. Each operation has one module named after it.

pub mod health;
