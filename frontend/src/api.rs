//! The one typed client of the server's JSON API (gloo-net). Every failure is an
//! `ApiError` whose code the pages match on; [`error_message`] gives its text.

use certdesk_shared::{ApiError, ErrorCode, Lang};
use leptos_i18n::td_string;
use serde::de::DeserializeOwned;

use crate::i18n::Locale;

fn lang(l: Locale) -> Lang {
    match l {
        Locale::zh_CN => Lang::ZhCn,
        Locale::zh_TW => Lang::ZhTw,
        Locale::en => Lang::En,
    }
}

/// `GET /api/...`: the decoded body, or the server's error (or `unavailable` when the
/// server cannot be reached or answers something that is not ours).
pub async fn get<T: DeserializeOwned>(path: &str, locale: Locale) -> Result<T, ApiError> {
    let l = lang(locale);
    let res = gloo_net::http::Request::get(path)
        .header("Accept-Language", l.tag())
        .send()
        .await
        .map_err(|_| ApiError::new(ErrorCode::Unavailable, l))?;
    if res.ok() {
        res.json::<T>().await.map_err(|_| ApiError::new(ErrorCode::Internal, l))
    } else {
        Err(res.json::<ApiError>().await.unwrap_or_else(|_| ApiError::new(ErrorCode::Unavailable, l)))
    }
}

/// The text of an error code in the app's language (keys checked at compile time).
pub fn error_message(code: ErrorCode, l: Locale) -> &'static str {
    match code {
        ErrorCode::MalformedJson => td_string!(l, error_malformed_json),
        ErrorCode::Validation => td_string!(l, error_validation),
        ErrorCode::PayloadTooLarge => td_string!(l, error_payload_too_large),
        ErrorCode::UnsupportedMediaType => td_string!(l, error_unsupported_media_type),
        ErrorCode::NotFound => td_string!(l, error_not_found),
        ErrorCode::MethodNotAllowed => td_string!(l, error_method_not_allowed),
        ErrorCode::CsrMalformed => td_string!(l, error_csr_malformed),
        ErrorCode::CsrSignatureInvalid => td_string!(l, error_csr_signature_invalid),
        ErrorCode::KeyNotAllowed => td_string!(l, error_key_not_allowed),
        ErrorCode::KeyTooSmall => td_string!(l, error_key_too_small),
        ErrorCode::BadValidity => td_string!(l, error_bad_validity),
        ErrorCode::BadRevocationReason => td_string!(l, error_bad_revocation_reason),
        ErrorCode::BadInvalidityDate => td_string!(l, error_bad_invalidity_date),
        ErrorCode::AlreadyRevoked => td_string!(l, error_already_revoked),
        ErrorCode::NotValid => td_string!(l, error_not_valid),
        ErrorCode::NotOnHold => td_string!(l, error_not_on_hold),
        ErrorCode::Unauthorized => td_string!(l, error_unauthorized),
        ErrorCode::Forbidden => td_string!(l, error_forbidden),
        ErrorCode::RateLimited => td_string!(l, error_rate_limited),
        ErrorCode::SignInFailed => td_string!(l, error_sign_in_failed),
        ErrorCode::CaptchaInvalid => td_string!(l, error_captcha_invalid),
        ErrorCode::CodeInvalid => td_string!(l, error_code_invalid),
        ErrorCode::IdentityMismatch => td_string!(l, error_identity_mismatch),
        ErrorCode::AccountLocked => td_string!(l, error_account_locked),
        ErrorCode::CsrfInvalid => td_string!(l, error_csrf_invalid),
        ErrorCode::SecurityKeyFailed => td_string!(l, error_security_key_failed),
        ErrorCode::LinkInvalid => td_string!(l, error_link_invalid),
        ErrorCode::AlreadyExists => td_string!(l, error_already_exists),
        ErrorCode::LastAdministrator => td_string!(l, error_last_administrator),
        ErrorCode::Internal => td_string!(l, error_internal),
        ErrorCode::Unavailable => td_string!(l, error_unavailable),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCALES: [(Locale, &str); 3] = [
        (Locale::zh_CN, include_str!("../locales/zh-CN.json")),
        (Locale::zh_TW, include_str!("../locales/zh-TW.json")),
        (Locale::en, include_str!("../locales/en.json")),
    ];

    #[test]
    fn every_error_code_has_its_message_key_and_a_distinct_text() {
        for (locale, file) in LOCALES {
            let mut texts = std::collections::HashSet::new();
            for code in ErrorCode::ALL {
                assert!(file.contains(&format!("\"{}\":", code.message_key())), "{code:?} in {locale:?}");
                assert!(texts.insert(error_message(code, locale)), "{code:?} in {locale:?}");
            }
        }
        assert_eq!(error_message(ErrorCode::NotFound, Locale::en), "Not found");
    }
}
