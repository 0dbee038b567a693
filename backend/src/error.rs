//! The backend's error type. Domain functions return it; `http::errors` turns it into a
//! response (and is the only place that knows status codes).

use certdesk_shared::{ErrorCode, FieldError};

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
