//! One module per route.

mod account;
mod admin;
mod admin_enrol;
mod admin_sign_in;
mod agreement;
#[cfg(feature = "apply")]
pub mod apply;
#[cfg(feature = "apply")]
mod applications;
mod env_check;
mod forgot_password;
mod home;
mod not_found;
mod register;
mod service;
mod sign_in;

pub use account::Account;
pub use admin::Admin;
pub use admin_enrol::AdminEnrol;
pub use admin_sign_in::AdminSignIn;
pub use agreement::Agreement;
#[cfg(feature = "apply")]
pub use applications::Applications;
#[cfg(feature = "apply")]
pub use apply::Apply;
pub use env_check::EnvCheck;
pub use forgot_password::ForgotPassword;
pub use home::Home;
pub use not_found::NotFound;
pub use register::Register;
pub use service::Service;
pub use sign_in::SignIn;
