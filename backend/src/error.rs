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
    /// A refused field, as the forms show it under that field.
    pub fn field(name: &str, error: certdesk_shared::ValidationError) -> AppError {
        AppError::Validation(vec![certdesk_shared::FieldError { field: name.into(), error }])
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            AppError::Code(c) => *c,
            AppError::Validation(_) => ErrorCode::Validation,
            AppError::Db(e) if database_unreachable(e) => ErrorCode::Unavailable,
            AppError::Internal(e) if e.chain().any(|c| c.downcast_ref().is_some_and(database_unreachable)) => {
                ErrorCode::Unavailable
            }
            AppError::Db(_) | AppError::Internal(_) => ErrorCode::Internal,
        }
    }
}

/// Whether a database error says the database cannot be reached now (stopped, restarting,
/// the pool cannot connect), not that the request was wrong: the answer is 503 (try again),
/// not 500, and the pool reconnects by itself once the database is back.
pub fn database_unreachable(e: &sea_orm::DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    use sea_orm::{DbErr, RuntimeErr};
    let runtime = |r: &RuntimeErr| match r {
        RuntimeErr::SqlxError(Sqlx::Io(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed) => true,
        // PostgreSQL's classes 08 (connection exception) and 57P (shutting down, starting up).
        RuntimeErr::SqlxError(Sqlx::Database(d)) => {
            d.code().is_some_and(|c| c.starts_with("08") || c.starts_with("57P"))
        }
        _ => false,
    };
    match e {
        DbErr::ConnectionAcquire(_) => true,
        DbErr::Conn(r) | DbErr::Exec(r) | DbErr::Query(r) => runtime(r),
        _ => false,
    }
}

impl From<ErrorCode> for AppError {
    fn from(c: ErrorCode) -> Self {
        AppError::Code(c)
    }
}
