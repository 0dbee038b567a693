//! Errors as responses: the status for each code, our JSON extractor, and the body in the
//! request's language. Server-side failures are logged with their cause and answered with
//! the code only.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use certdesk_shared::{ApiError, ErrorCode, FieldError, Lang, ValidationError};
use serde::de::DeserializeOwned;

use crate::error::AppError;

pub fn status(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::MalformedJson => StatusCode::BAD_REQUEST,
        ErrorCode::Validation => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::CsrMalformed => StatusCode::BAD_REQUEST,
        ErrorCode::CsrSignatureInvalid => StatusCode::BAD_REQUEST,
        ErrorCode::KeyNotAllowed => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::KeyTooSmall => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::BadValidity => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::BadRevocationReason => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::BadInvalidityDate => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::AlreadyRevoked => StatusCode::CONFLICT,
        ErrorCode::NotValid => StatusCode::CONFLICT,
        ErrorCode::NotOnHold => StatusCode::CONFLICT,
        ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::SignInFailed => StatusCode::UNAUTHORIZED,
        ErrorCode::CaptchaInvalid => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::CodeInvalid => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::IdentityMismatch => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::AccountLocked => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::CsrfInvalid => StatusCode::FORBIDDEN,
        ErrorCode::SecurityKeyFailed => StatusCode::UNAUTHORIZED,
        ErrorCode::LinkInvalid => StatusCode::GONE,
        ErrorCode::AlreadyExists => StatusCode::CONFLICT,
        ErrorCode::LastAdministrator => StatusCode::CONFLICT,
        ErrorCode::OwnRequest => StatusCode::FORBIDDEN,
        ErrorCode::NotEditable => StatusCode::CONFLICT,
        ErrorCode::StepMissing => StatusCode::CONFLICT,
        ErrorCode::PaymentRequired => StatusCode::PAYMENT_REQUIRED,
        ErrorCode::AuthCodeInvalid => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ProgressNeedsTwo => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ChallengePhraseInvalid => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::UnlockRefused => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::MediumTaken
        | ErrorCode::RenewalNotOpen
        | ErrorCode::CertificateNotValid
        | ErrorCode::WrongMedium => StatusCode::CONFLICT,
        ErrorCode::MediumMismatch => StatusCode::CONFLICT,
        ErrorCode::RequestUnderWay | ErrorCode::PersonalNotChangeable => StatusCode::CONFLICT,
        ErrorCode::FrozenByStaff => StatusCode::CONFLICT,
        ErrorCode::OwnRevocation => StatusCode::FORBIDDEN,
        ErrorCode::ReissueUkeyOnly | ErrorCode::SameMedium => StatusCode::CONFLICT,
        ErrorCode::ShieldDisabled | ErrorCode::ShieldLocked => StatusCode::CONFLICT,
        ErrorCode::QrCodeExpired => StatusCode::GONE,
        ErrorCode::QrMatchWrong => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::PaymentRefused => StatusCode::BAD_GATEWAY,
        ErrorCode::PaymentTimeout => StatusCode::GATEWAY_TIMEOUT,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// Language of the request, from `Accept-Language` (default zh-CN).
pub fn request_lang(headers: &HeaderMap) -> Lang {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').find_map(|part| Lang::from_tag(part.split(';').next().unwrap_or(""))))
        .unwrap_or_default()
}

/// Attached to every error response so that `localize_errors` can write the body again in
/// the request's language.
#[derive(Debug, Clone)]
pub struct ErrorParts {
    pub code: ErrorCode,
    pub fields: Vec<FieldError>,
}

impl ErrorParts {
    pub fn into_response(self, lang: Lang) -> Response {
        let body = ApiError::new(self.code, lang).with_fields(self.fields.clone());
        let mut res = (status(self.code), axum::Json(body)).into_response();
        if self.code == ErrorCode::Unavailable {
            // The database or a provider is away for a moment: a client may try again soon.
            res.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
        }
        res.extensions_mut().insert(self);
        res
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let code = self.code();
        if status(code).is_server_error() {
            tracing::error!(error = ?self, "request failed");
        }
        let fields = match self {
            AppError::Validation(fields) => fields,
            _ => Vec::new(),
        };
        ErrorParts { code, fields }.into_response(Lang::default())
    }
}

/// `axum::Json`, but stricter and with our error body: the body must be sent as
/// `application/json` (so a cross-site form cannot post it without a CORS preflight), and
/// a value refused by a `shared` validation rule becomes a typed field error.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppJson<T>(pub T);

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

impl<T, S> FromRequest<S> for AppJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(ErrorCode::UnsupportedMediaType.into());
        }
        let bytes = match axum::body::Bytes::from_request(req, state).await {
            Ok(b) => b,
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(ErrorCode::PayloadTooLarge.into());
            }
            Err(_) => return Err(ErrorCode::MalformedJson.into()),
        };
        decode_json(&bytes).map(AppJson)
    }
}

/// `axum::extract::Query`, but with our error body: a query string that does not fit its
/// type answers 422 naming the parameter (`page=AAA`: `page` is out of range), in the user's
/// language, instead of axum's plain-text 400.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for AppQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        decode_query(parts.uri.query().unwrap_or_default()).map(AppQuery)
    }
}

/// Decodes a query string, naming the parameter that does not fit.
fn decode_query<T: DeserializeOwned>(query: &str) -> Result<T, AppError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize::<_, T>(de).map_err(|err| {
        let path = err.path().to_string();
        let msg = err.into_inner().to_string();
        let refused = refused_field(&path, &msg).unwrap_or_else(|| {
            let field =
                if path == "." || path.is_empty() { msg.split('`').nth(1).unwrap_or("").to_owned() } else { path };
            FieldError { field, error: ValidationError::OutOfRange }
        });
        AppError::Validation(vec![refused])
    })
}

/// Decodes a JSON body, naming the field whose validation failed.
pub fn decode_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize::<_, T>(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match refused_field(&path, &inner.to_string()) {
            Some(refused) if inner.is_data() => AppError::Validation(vec![refused]),
            _ => ErrorCode::MalformedJson.into(),
        }
    })
}

/// The field a decoding refusal names and the rule it broke, when the refusal is one of our
/// validation errors (they display as their code, possibly followed by serde's position) or
/// a missing field; `None` for anything else.
fn refused_field(path: &str, msg: &str) -> Option<FieldError> {
    if let Ok(error) = msg.split(' ').next().unwrap_or("").parse::<ValidationError>() {
        return Some(FieldError { field: path.to_owned(), error });
    }
    if msg.starts_with("missing field") {
        let name = msg.split('`').nth(1).unwrap_or("");
        let field = if path == "." || path.is_empty() { name.to_owned() } else { format!("{path}.{name}") };
        return Some(FieldError { field, error: ValidationError::Required });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_client_or_server_error_status() {
        for code in ErrorCode::ALL {
            let s = status(code);
            assert!(s.is_client_error() || s.is_server_error(), "{code:?}");
        }
        assert_eq!(status(ErrorCode::Validation), StatusCode::UNPROCESSABLE_ENTITY);
    }

    #[test]
    fn accept_language_picks_the_first_known_language() {
        let mut h = HeaderMap::new();
        assert_eq!(request_lang(&h), Lang::ZhCn);
        h.insert(header::ACCEPT_LANGUAGE, "fr-FR,en;q=0.8,zh;q=0.5".parse().unwrap());
        assert_eq!(request_lang(&h), Lang::En);
        h.insert(header::ACCEPT_LANGUAGE, "zh-HK".parse().unwrap());
        assert_eq!(request_lang(&h), Lang::ZhTw);
    }
}
