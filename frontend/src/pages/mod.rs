//! One module per route.

mod env_check;
mod home;
mod not_found;
mod service;

pub use env_check::EnvCheck;
pub use home::Home;
pub use not_found::NotFound;
pub use service::Service;
