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
pub mod endpoint;
pub mod error;
pub mod freeze;
pub mod health;
pub mod lang;
pub mod my_certificates;
pub mod notice;
#[cfg(feature = "openapi")]
pub mod openapi;
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

/// `Deserialize` for enums of unit variants, by their strum name (`EnumString`, with
/// `VariantNames` for the error): one string reader serves them all, where serde's derive
/// gives each enum a visitor of its own that also reads indexes, bytes and maps (about 1 KB of
/// the browser's wasm an enum). Serialize stays derived; the `wire_names` test checks that
/// both ways use the same names.
#[macro_export]
macro_rules! deserialize_by_name {
    ($($t:ty),+ $(,)?) => {$(
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $crate::by_name(deserializer)
            }
        }
    )+};
}

/// The value of enum `T` whose name `deserializer` holds ([`deserialize_by_name`]).
#[doc(hidden)]
pub fn by_name<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr + strum::VariantNames,
{
    let name = <String as serde::Deserialize>::deserialize(deserializer)?;
    name.parse().map_err(|_| <D::Error as serde::de::Error>::unknown_variant(&name, T::VARIANTS))
}

/// Every enum that strum names (`as_str`/`code` and `parse`/`from_code`) goes by the same
/// name on the wire (serde) and in the database, and reads back as itself.
#[cfg(test)]
mod wire_names {
    use strum::VariantArray;

    fn same_names<T>()
    where
        T: VariantArray
            + Copy
            + PartialEq
            + std::fmt::Debug
            + serde::Serialize
            + serde::de::DeserializeOwned
            + std::str::FromStr
            + 'static,
        &'static str: From<T>,
    {
        for &v in <T as VariantArray>::VARIANTS {
            let name: &'static str = v.into();
            assert_eq!(serde_json::to_value(v).unwrap(), serde_json::Value::from(name), "{v:?}");
            assert_eq!(name.parse::<T>().ok(), Some(v), "{name}");
            assert_eq!(serde_json::from_value::<T>(name.into()).unwrap(), v, "{name}");
        }
        assert!("Not A Name".parse::<T>().is_err());
        let refused = serde_json::from_value::<T>("Not A Name".into()).unwrap_err().to_string();
        assert!(refused.starts_with("unknown variant `Not A Name`, expected"), "{refused}");
        assert!(serde_json::from_value::<T>(serde_json::json!(0)).is_err());
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
        same_names::<crate::account::SignInMethod>();
        same_names::<crate::admin::Section>();
        same_names::<crate::agent::TokenKind>();
        same_names::<crate::apply::FileType>();
        same_names::<crate::apply::HolderKind>();
        same_names::<crate::apply::DeliveryMethod>();
        same_names::<crate::apply::InvoiceStatus>();
        same_names::<crate::certificate::RevocationReason>();
        same_names::<crate::change::ChangeClosed>();
        same_names::<crate::dashboard::RevenueWay>();
        same_names::<crate::dashboard::Deadline>();
        same_names::<crate::directory::PublicStatus>();
        same_names::<crate::directory::VerificationCheck>();
        same_names::<crate::directory::CheckOutcome>();
        same_names::<crate::downloads::Platform>();
        same_names::<crate::error::ErrorCode>();
        same_names::<crate::health::HealthStatus>();
        same_names::<crate::my_certificates::MyCertificateStatus>();
        same_names::<crate::reissue::ReissueReason>();
        same_names::<crate::reissue::ReissueNotOpen>();
        same_names::<crate::renew::NotOpen>();
        same_names::<crate::revoke::StaffRevocationStatus>();
        same_names::<crate::revoke::RevocationNotOpen>();
        same_names::<crate::shield::QrLoginStatus>();
    }
}

/// The wire types' JSON Schemas (those of the OpenAPI document) say what serde reads: the
/// same names, the same required fields.
#[cfg(all(test, feature = "openapi"))]
mod schemas {
    use std::collections::BTreeSet;

    use serde_json::Value;

    fn schema<T: schemars::JsonSchema>() -> Value {
        schemars::schema_for!(T).to_value()
    }

    /// The schema `v` stands for: itself, or the definition in `root` its `$ref` names.
    fn resolve<'a>(root: &'a Value, v: &'a Value) -> &'a Value {
        match v.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/$defs/")) {
            Some(name) => &root["$defs"][name],
            None => v,
        }
    }

    /// Every string an enum's schema allows, in its `enum` lists and `const`s, however
    /// schemars groups them (a documented variant gets a `oneOf` entry of its own).
    fn allowed(v: &Value, out: &mut BTreeSet<String>) {
        match v {
            Value::Object(o) => {
                for (key, v) in o {
                    match (key.as_str(), v) {
                        ("enum", Value::Array(a)) => out.extend(a.iter().filter_map(Value::as_str).map(str::to_owned)),
                        ("const", Value::String(s)) => {
                            out.insert(s.clone());
                        }
                        ("$defs", _) => {}
                        _ => allowed(v, out),
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|v| allowed(v, out)),
            _ => {}
        }
    }

    fn names_in_schema<T: schemars::JsonSchema>() -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        allowed(&schema::<T>(), &mut out);
        out
    }

    fn serde_names<T: serde::Serialize + std::fmt::Debug>(values: &[T]) -> BTreeSet<String> {
        values
            .iter()
            .map(|v| match serde_json::to_value(v) {
                Ok(Value::String(s)) => s,
                other => panic!("{v:?} is {other:?}, not a name"),
            })
            .collect()
    }

    fn required(schema: &Value) -> BTreeSet<&str> {
        schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect()
    }

    #[test]
    fn an_enum_allows_exactly_the_serde_names_of_its_variants() {
        use strum::VariantArray;

        let statuses = serde_names(crate::request::RequestStatus::VARIANTS);
        assert_eq!(statuses.len(), crate::request::RequestStatus::ALL.len());
        assert_eq!(names_in_schema::<crate::request::RequestStatus>(), statuses);

        let codes = serde_names(&crate::ErrorCode::ALL);
        assert!(codes.contains("payload_too_large"), "{codes:?}");
        assert_eq!(names_in_schema::<crate::ErrorCode>(), codes);

        assert_eq!(names_in_schema::<crate::ValidationError>(), serde_names(crate::ValidationError::ALL));
    }

    #[test]
    fn a_struct_requires_the_fields_serde_requires() {
        let sign_in = schema::<crate::account::SignInRequest>();
        assert_eq!(
            required(&sign_in),
            BTreeSet::from(["mobile", "password", "captcha_id", "captcha_answer", "agreed"])
        );
        assert_eq!(sign_in["properties"]["agreed"]["type"], "boolean");

        // `fields` is `#[serde(default)]`: an answer may leave it out.
        let error = schema::<crate::ApiError>();
        assert_eq!(required(&error), BTreeSet::from(["code", "message_key", "message"]));
        assert!(error["properties"]["fields"].is_object(), "{error}");
        let mut codes = BTreeSet::new();
        allowed(resolve(&error, &error["properties"]["code"]), &mut codes);
        assert_eq!(codes, serde_names(&crate::ErrorCode::ALL));
    }

    #[test]
    fn validated_values_are_strings_and_webauthn_options_any_json() {
        let reset = schema::<crate::account::ResetPasswordRequest>();
        let fields = ["id_number", "mobile", "code", "new_password"];
        assert_eq!(required(&reset), BTreeSet::from(fields));
        for field in fields {
            assert_eq!(resolve(&reset, &reset["properties"][field])["type"], "string", "{field}: {reset}");
        }

        let challenge = schema::<crate::account::KeySignInChallenge>();
        assert_eq!(required(&challenge), BTreeSet::from(["challenge_id", "options"]));
        assert_eq!(challenge["properties"]["options"], Value::Bool(true), "{challenge}");
    }

    #[test]
    fn an_internally_tagged_enum_requires_its_tag() {
        let outcome = schema::<crate::shield::PinOutcome>();
        let variants = outcome["oneOf"].as_array().map(Vec::as_slice).unwrap_or_default();
        let tags: BTreeSet<&str> = variants
            .iter()
            .map(|v| {
                assert!(required(v).contains("outcome"), "{v}");
                v["properties"]["outcome"]["const"].as_str().unwrap_or_default()
            })
            .collect();
        assert_eq!(tags, BTreeSet::from(["opened", "wrong_pin", "locked"]));
    }
}
