//! Form logic the account and admin pages share, free of the view so it is tested as
//! plain Rust: field errors keyed by the request's JSON field names (the names the
//! server's `ApiError.fields` use), what went wrong as a whole, and loading states.

use crate::i18n::td_string;
use certdesk_shared::{ApiError, ErrorCode, FieldError, ValidationError};

use crate::i18n::Locale;
use crate::webauthn::KeyError;

/// Keeps `result`'s value, or records its error under `field`.
pub fn check<T>(errors: &mut Vec<FieldError>, field: &str, result: Result<T, ValidationError>) -> Option<T> {
    result.map_err(|error| errors.push(FieldError { field: field.into(), error })).ok()
}

/// An optional field: empty (after trimming) is `None`, anything else must parse.
pub fn optional<T>(s: &str, parse: fn(&str) -> Result<T, ValidationError>) -> Result<Option<T>, ValidationError> {
    if s.trim().is_empty() { Ok(None) } else { parse(s).map(Some) }
}

/// A required value the server checks itself (sign-in fields): only "not empty" here.
pub fn required(s: &str) -> Result<String, ValidationError> {
    if s.trim().is_empty() { Err(ValidationError::Required) } else { Ok(s.trim().to_owned()) }
}

/// The repeated password (never sent): required, and equal to the first.
pub fn confirmation(password: &str, again: &str) -> Result<(), ValidationError> {
    if again.is_empty() {
        Err(ValidationError::Required)
    } else if password != again {
        Err(ValidationError::PasswordMismatch)
    } else {
        Ok(())
    }
}

/// The error shown under `field`, if any.
pub fn error_for(errors: &[FieldError], field: &str) -> Option<ValidationError> {
    errors.iter().find(|e| e.field == field).map(|e| e.error)
}

/// Replaces what is shown under `field` (after it was checked again, or edited).
pub fn set_error(errors: &mut Vec<FieldError>, field: &str, error: Option<ValidationError>) {
    errors.retain(|e| e.field != field);
    if let Some(error) = error {
        errors.push(FieldError { field: field.into(), error });
    }
}

/// What went wrong with a whole form or action, shown in an alert above its button.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// Some fields are not valid (their errors are under them).
    Invalid,
    Api(ApiError),
    Key(KeyError),
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        Failure::Api(e)
    }
}

impl From<KeyError> for Failure {
    fn from(e: KeyError) -> Self {
        Failure::Key(e)
    }
}

impl Failure {
    pub fn message(&self, l: Locale) -> &'static str {
        match self {
            Failure::Invalid => crate::api::error_message(ErrorCode::Validation, l),
            Failure::Api(e) => crate::api::error_message(e.code, l),
            Failure::Key(KeyError::Cancelled) => td_string!(l, key_cancelled),
            Failure::Key(KeyError::AlreadyRegistered) => td_string!(l, key_already_registered),
            Failure::Key(KeyError::Unsupported) => td_string!(l, key_unsupported),
            Failure::Key(KeyError::Failed) => td_string!(l, key_failed),
        }
    }

    /// The field errors the server sent with it.
    pub fn fields(&self) -> Vec<FieldError> {
        match self {
            Failure::Api(e) => e.fields.clone(),
            _ => Vec::new(),
        }
    }
}

/// Data a section loads: hidden when the server says this user may not see it (403).
#[derive(Debug, Clone, PartialEq)]
pub enum Load<T> {
    Loading,
    Ready(T),
    Hidden,
    Failed(ErrorCode),
}

impl<T> Load<T> {
    pub fn from_result(r: Result<T, ApiError>) -> Self {
        match r {
            Ok(v) => Load::Ready(v),
            Err(e) if e.code == ErrorCode::Forbidden => Load::Hidden,
            Err(e) => Load::Failed(e.code),
        }
    }

    pub fn is_hidden(&self) -> bool {
        matches!(self, Load::Hidden)
    }
}

/// Where to go after signing in: the `?next=` path when it is one of ours (starts with a
/// single `/`), else `fallback`.
pub fn safe_next<'a>(next: Option<&'a str>, fallback: &'a str) -> &'a str {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => n,
        _ => fallback,
    }
}

/// Seconds left until `deadline_ms` (both from `Date.now()`), rounded up.
pub fn seconds_left(deadline_ms: f64, now_ms: f64) -> u32 {
    let left = ((deadline_ms - now_ms) / 1000.0).ceil();
    if left <= 0.0 { 0 } else { left as u32 }
}

/// Fills the `%s` of a translated template.
pub fn fill(template: &str, value: impl std::fmt::Display) -> String {
    template.replacen("%s", &value.to_string(), 1)
}

/// An RFC 3339 time as people read it: `2026-11-03 09:15:02` (UTC offset dropped).
pub fn short_time(rfc3339: &str) -> String {
    let s: String = rfc3339.chars().take(19).collect();
    s.replacen('T', " ", 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use certdesk_shared::{Lang, Mobile};

    #[test]
    fn field_errors() {
        let mut errors = Vec::new();
        assert!(check(&mut errors, "mobile", Mobile::parse("12")).is_none());
        assert!(check(&mut errors, "other", Mobile::parse("13800138000")).is_some());
        assert_eq!(error_for(&errors, "mobile"), Some(ValidationError::MobileFormat));
        assert_eq!(error_for(&errors, "other"), None);
        set_error(&mut errors, "mobile", None);
        assert!(errors.is_empty());
        set_error(&mut errors, "email", Some(ValidationError::EmailFormat));
        set_error(&mut errors, "email", Some(ValidationError::Required));
        assert_eq!(errors.len(), 1);
        assert_eq!(error_for(&errors, "email"), Some(ValidationError::Required));
    }

    #[test]
    fn optional_and_required_values() {
        assert_eq!(optional("  ", Mobile::parse), Ok(None));
        assert_eq!(optional("1", Mobile::parse).map(|_| ()), Err(ValidationError::MobileFormat));
        assert!(matches!(optional("13800138000", Mobile::parse), Ok(Some(_))));
        assert_eq!(required(" a "), Ok("a".to_owned()));
        assert_eq!(required(" "), Err(ValidationError::Required));
    }

    #[test]
    fn password_confirmation() {
        assert_eq!(confirmation("secret123", ""), Err(ValidationError::Required));
        assert_eq!(confirmation("secret123", "secret124"), Err(ValidationError::PasswordMismatch));
        assert_eq!(confirmation("secret123", "secret123"), Ok(()));
    }

    #[test]
    fn failures_carry_the_server_fields() {
        let api = ApiError::new(ErrorCode::Validation, Lang::En)
            .with_fields(vec![FieldError { field: "mobile".into(), error: ValidationError::MobileFormat }]);
        let f = Failure::from(api);
        assert_eq!(f.fields().len(), 1);
        assert!(matches!(f, Failure::Api(ref e) if e.code == ErrorCode::Validation));
        assert!(Failure::Key(KeyError::Cancelled).fields().is_empty());
        for l in [Locale::zh_CN, Locale::zh_TW, Locale::en] {
            let texts: std::collections::HashSet<_> =
                [KeyError::Cancelled, KeyError::AlreadyRegistered, KeyError::Unsupported, KeyError::Failed]
                    .into_iter()
                    .map(|k| Failure::Key(k).message(l))
                    .collect();
            assert_eq!(texts.len(), 4);
        }
    }

    #[test]
    fn forbidden_hides_a_section() {
        let forbidden: Result<(), _> = Err(ApiError::new(ErrorCode::Forbidden, Lang::En));
        assert!(Load::from_result(forbidden).is_hidden());
        let down: Result<(), _> = Err(ApiError::new(ErrorCode::Unavailable, Lang::En));
        assert_eq!(Load::from_result(down), Load::Failed(ErrorCode::Unavailable));
        assert_eq!(Load::from_result(Ok(3)), Load::Ready(3));
    }

    #[test]
    fn next_paths_stay_on_this_site() {
        assert_eq!(safe_next(Some("/account"), "/x"), "/account");
        assert_eq!(safe_next(Some("//evil.example"), "/x"), "/x");
        assert_eq!(safe_next(Some("/\\evil.example"), "/x"), "/x");
        assert_eq!(safe_next(Some("https://evil.example"), "/x"), "/x");
        assert_eq!(safe_next(None, "/x"), "/x");
    }

    #[test]
    fn countdown_and_templates() {
        assert_eq!(seconds_left(10_000.0, 0.0), 10);
        assert_eq!(seconds_left(10_000.0, 9_001.0), 1);
        assert_eq!(seconds_left(10_000.0, 10_000.0), 0);
        assert_eq!(seconds_left(10_000.0, 12_000.0), 0);
        assert_eq!(fill("%s秒后可再次发送", 37), "37秒后可再次发送");
        assert_eq!(fill("Resend in %s s", 37), "Resend in 37 s");
        assert_eq!(short_time("2026-11-03T09:15:02.123Z"), "2026-11-03 09:15:02");
        assert_eq!(short_time("2026-11-03T09:15:02+08:00"), "2026-11-03 09:15:02");
    }
}
