//! The backend's error type and our JSON extractor. Server-side failures are logged with
//! their cause and answered with the code only; client errors carry field details.

use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use certdesk_shared::{ApiError, ErrorCode, FieldError, Lang, ValidationError};
use serde::de::DeserializeOwned;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("request refused: {0:?}")]
    Code(ErrorCode),
    #[error("invalid fields: {0:?}")]
    Validation(Vec<FieldError>),
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn code(&self) -> ErrorCode {
        match self {
            AppError::Code(c) => *c,
            AppError::Validation(_) => ErrorCode::Validation,
            AppError::Db(_) | AppError::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl From<ErrorCode> for AppError {
    fn from(c: ErrorCode) -> Self {
        AppError::Code(c)
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

/// Attached to every error response so that `http::localize_errors` can write the body
/// again in the request's language.
#[derive(Debug, Clone)]
pub struct ErrorParts {
    pub code: ErrorCode,
    pub fields: Vec<FieldError>,
}

impl ErrorParts {
    pub fn into_response(self, lang: Lang) -> Response {
        let status = StatusCode::from_u16(self.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ApiError::new(self.code, lang).with_fields(self.fields.clone());
        let mut res = (status, axum::Json(body)).into_response();
        res.extensions_mut().insert(self);
        res
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let code = self.code();
        if code.http_status() >= 500 {
            tracing::error!(error = ?self, "request failed");
        }
        let fields = match self {
            AppError::Validation(fields) => fields,
            _ => Vec::new(),
        };
        ErrorParts { code, fields }.into_response(Lang::default())
    }
}

/// `axum::Json`, but a body that does not decode gets our error body: a typed field error
/// when a `shared` validation rule refused a value, `malformed_json` otherwise.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppJson<T>(pub T);

impl<T, S> FromRequest<S> for AppJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = match axum::body::Bytes::from_request(req, state).await {
            Ok(b) => b,
            Err(rejection) => {
                return Err(if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ErrorCode::PayloadTooLarge.into()
                } else {
                    ErrorCode::MalformedJson.into()
                });
            }
        };
        decode_json(&bytes).map(AppJson)
    }
}

/// Decodes a JSON body, naming the field whose validation failed.
pub fn decode_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(v) => Ok(v),
        Err(err) => {
            let field = err.path().to_string();
            let inner = err.into_inner();
            // Our validation errors display as their code, possibly followed by serde's position.
            let msg = inner.to_string();
            let code = msg.split(' ').next().unwrap_or("");
            match code.parse::<ValidationError>() {
                Ok(error) if inner.is_data() => Err(AppError::Validation(vec![FieldError { field, error }])),
                _ if inner.is_data() && msg.starts_with("missing field") => {
                    let name = msg.split('`').nth(1).unwrap_or("").to_owned();
                    let field = if field == "." || field.is_empty() { name } else { format!("{field}.{name}") };
                    Err(AppError::Validation(vec![FieldError { field, error: ValidationError::Required }]))
                }
                _ => Err(ErrorCode::MalformedJson.into()),
            }
        }
    }
}
