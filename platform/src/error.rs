//! The service layer's error. The HTTP layer maps it to problem+json once, in one place.

use lyceum_tenants::rbac::Denied;

use crate::domain::FieldError;

/// What went wrong while serving a request.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Input that parsed as JSON but does not make sense (422).
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    /// The thing asked for does not exist, or the caller may not know it exists (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request clashes with the current state (409).
    #[error("{0}")]
    Conflict(String),
    /// No or bad credentials (401).
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// Known caller, not allowed (403).
    #[error("{0}")]
    Forbidden(String),
    /// The thing is for sale and the caller has not bought it (402).
    #[error("{0}")]
    PaymentRequired(String),
    /// A payment provider failed or refused (502).
    #[error("the payment provider failed: {0}")]
    Gateway(String),
    /// The body is larger than allowed (413).
    #[error("the request body is larger than {limit} bytes")]
    TooLarge { limit: usize },
    /// Too many attempts from this client or at this account (429); nothing was done.
    #[error("too many attempts; try again in {retry_after} seconds")]
    RateLimited {
        /// Whole seconds until the next attempt can succeed (at least 1).
        retry_after: u64,
    },
    #[error("database error")]
    Db(#[from] sea_orm::DbErr),
    #[error("asset storage error")]
    Storage(#[from] object_store::Error),
    #[error("authorization engine error")]
    Authz(#[from] lyceum_tenants::rbac::EngineError),
    #[error("internal error: {0}")]
    Internal(String),
}

/// The result of a service call.
pub type AppResult<T> = Result<T, AppError>;

impl From<FieldError> for AppError {
    fn from(err: FieldError) -> Self {
        Self::Invalid(vec![err])
    }
}

impl From<Denied> for AppError {
    fn from(denied: Denied) -> Self {
        match denied {
            Denied::Unauthenticated => Self::Unauthenticated("sign in to do this"),
            Denied::Forbidden { .. } => Self::Forbidden(denied.to_string()),
            Denied::Engine(e) => Self::Authz(e),
        }
    }
}

impl AppError {
    pub fn invalid(field: &str, message: impl ToString) -> Self {
        Self::Invalid(vec![FieldError::new(field, message)])
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict(message.into())
    }
}

/// Whether a database error is a unique-key violation (to answer 409 at the call site).
pub fn is_unique_violation(err: &sea_orm::DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}
