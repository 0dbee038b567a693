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

/// The one name of an enum's value on the wire and in the database: its serde name, derived by
/// strum (`IntoStaticStr`, `EnumString`, `VariantArray`, snake_case); the `wire_names` test
/// checks that both agree.
pub trait Named: Sized + Copy + Into<&'static str> + std::str::FromStr + strum::VariantArray {
    fn as_str(self) -> &'static str {
        self.into()
    }
    fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }
}

impl<T: Copy + Into<&'static str> + std::str::FromStr + strum::VariantArray> Named for T {}

/// Every enum that strum names (`as_str`/`code` and `parse`/`from_code`) goes by the same
/// name on the wire (serde) and in the database, and reads back as itself.
#[cfg(test)]
mod wire_names {
    use strum::VariantArray;

    fn same_names<T>()
    where
        T: VariantArray + Copy + PartialEq + std::fmt::Debug + serde::Serialize + std::str::FromStr + 'static,
        &'static str: From<T>,
    {
        for &v in T::VARIANTS {
            let name: &'static str = v.into();
            assert_eq!(serde_json::to_value(v).unwrap(), serde_json::Value::from(name), "{v:?}");
            assert_eq!(name.parse::<T>().ok(), Some(v), "{name}");
        }
        assert!("Not A Name".parse::<T>().is_err());
    }

    #[test]
    fn serde_and_strum_agree_on_every_name() {
        same_names::<crate::account::AccountKind>();
        same_names::<crate::account::CodePurpose>();
        same_names::<crate::dashboard::ChartKind>();
        same_names::<crate::directory::StatusFilter>();
        same_names::<crate::payment::PaymentStatus>();
        same_names::<crate::payment::PayWay>();
        same_names::<crate::certificate::CertificateProfile>();
        same_names::<crate::freeze::FrozenBy>();
        same_names::<crate::my_certificates::MyCertificatesTab>();
        same_names::<crate::request::RequestKind>();
        same_names::<crate::request::RequestStatus>();
        same_names::<crate::apply::Medium>();
        same_names::<crate::apply::BillingMode>();
        same_names::<crate::apply::DocumentKind>();
        same_names::<crate::shield::ShieldState>();
        same_names::<crate::admin::StaffRole>();
        same_names::<crate::validate::IdType>();
    }
}
