//! One module per route.

mod account;
mod admin;
mod admin_enrol;
mod admin_review;
mod admin_sign_in;
mod agreement;
pub mod apply;
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
pub use admin_review::ReviewSection;
pub use admin_sign_in::AdminSignIn;
pub use agreement::Agreement;
pub use applications::Applications;
pub use apply::Apply;
pub use env_check::EnvCheck;
pub use forgot_password::ForgotPassword;
pub use home::Home;
pub use not_found::NotFound;
pub use register::Register;
pub use service::Service;
pub use sign_in::SignIn;
