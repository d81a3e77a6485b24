//! The service layer's error. The HTTP layer maps it to problem+json once, in one place.
//!
//! Internal failures keep what caused them (`#[source]`), so the one place that turns them
//! into a response logs the whole chain with [`report`]; the client never sees a cause.

use std::error::Error;
use std::sync::Arc;

use lyceum_gateway_core::{GatewayError, MoneyError};
use lyceum_tenants::rbac::Denied;
use uuid::Uuid;

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
    /// A lesson that opens later on its drip schedule (403, saying when).
    #[error("this lesson opens at {}", until.to_rfc3339())]
    Locked {
        until: chrono::DateTime<chrono::Utc>,
    },
    /// The thing is for sale and the caller has not bought it (402).
    #[error("{0}")]
    PaymentRequired(String),
    /// A payment provider failed or refused (502).
    #[error("the payment provider failed")]
    Gateway(#[source] GatewayError),
    /// The order names a gateway this instance has not enabled (502, like a failing provider).
    #[error("the {0} gateway is not enabled")]
    GatewayDisabled(String),
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
    /// Money that does not add up: a stored amount out of range, a currency mismatch (500).
    #[error("money arithmetic failed")]
    Money(#[from] MoneyError),
    /// A stored row that does not parse back into its domain value (500).
    #[error("stored {what} {id} is corrupt")]
    Corrupt {
        what: &'static str,
        id: Uuid,
        #[source]
        source: Box<dyn Error + Send + Sync>,
    },
    /// Hashing or reading a password hash failed, or the hashing pool is gone (500).
    #[error("password hashing failed")]
    Hashing(#[source] Box<dyn Error + Send + Sync>),
    /// The mailer could not be set up (500).
    #[error("mail setup failed")]
    Mail(#[from] crate::services::notify::mail::MailError),
    /// A blocking task panicked or was cancelled (500).
    #[error("a background task failed")]
    Task(#[from] tokio::task::JoinError),
    /// A file, socket or stream operation failed; `context` says which (500).
    #[error("{context}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// A page template failed to render (500).
    #[error("rendering a page failed")]
    Render(#[from] minijinja::Error),
    /// The metrics registry refused a metric (500).
    #[error("metrics setup failed")]
    Metrics(#[from] prometheus::Error),
    /// A response body could not be serialized (500).
    #[error("serializing a response failed")]
    Json(#[from] serde_json::Error),
    /// A configured gateway could not be built (500, at start-up).
    #[error("the {gateway} gateway failed to start")]
    GatewayStartup {
        gateway: &'static str,
        #[source]
        source: Box<dyn Error + Send + Sync>,
    },
    /// Gateway credentials could not be sealed or opened: a bad or missing key (500).
    #[error("sealed credentials")]
    Sealing(#[from] crate::sealing::SealError),
    /// A stored or configured setting is refused; the message says what to change (500).
    #[error("{0}")]
    Misconfigured(String),
    /// A single-flight cache load failed; every caller that waited for it gets this (500).
    #[error("a shared cache load failed")]
    Shared(#[source] Arc<AppError>),
    /// An invariant that broke with no underlying error to show (500).
    #[error("internal error: {0}")]
    Internal(&'static str),
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

impl AppError {
    /// A stored `what` with id `id` (any entity's typed id) that does not parse back, because
    /// of `source`.
    pub fn corrupt(
        what: &'static str,
        id: impl Into<Uuid>,
        source: impl Into<Box<dyn Error + Send + Sync>>,
    ) -> Self {
        Self::Corrupt {
            what,
            id: id.into(),
            source: source.into(),
        }
    }

    /// A stored `what` with id `id` whose column `field` does not parse, because of `source`.
    pub fn corrupt_field(
        what: &'static str,
        id: impl Into<Uuid>,
        field: &'static str,
        source: impl Into<Box<dyn Error + Send + Sync>>,
    ) -> Self {
        Self::corrupt(
            what,
            id,
            BadField {
                field,
                source: source.into(),
            },
        )
    }

    /// An I/O failure while doing `context`.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}

/// Which column of a corrupt row failed to parse (the link between a row and its cause).
#[derive(Debug, thiserror::Error)]
#[error("bad {field}")]
pub struct BadField {
    field: &'static str,
    #[source]
    source: Box<dyn Error + Send + Sync>,
}

/// An error with all its causes, `outer: inner: innermost`, for the log. Use it wherever an
/// error ends (becomes a response, a page, or a logged retry): `error = %report(&err)`.
pub fn report<'a>(err: &'a (dyn Error + 'static)) -> ErrorChain<'a> {
    ErrorChain(err)
}

/// Formats an error with all its sources; see [`report`].
#[derive(Debug, Clone, Copy)]
pub struct ErrorChain<'a>(&'a (dyn Error + 'static));

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

/// Whether a database error is a unique-key violation (to answer 409 at the call site).
pub fn is_unique_violation(err: &sea_orm::DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// Whether a database error means the database cannot be reached now — no connection could be
/// had in time, the connection broke, or the server is shutting down or starting up — rather
/// than that this request was wrong: the same request is worth trying again shortly (503).
pub fn is_unavailable(err: &sea_orm::DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    use sea_orm::{DbErr, RuntimeErr};
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            match &**e {
                Sqlx::Io(_)
                | Sqlx::Tls(_)
                | Sqlx::PoolTimedOut
                | Sqlx::PoolClosed
                | Sqlx::WorkerCrashed => true,
                Sqlx::Database(db) => db.code().is_some_and(|code| unavailable_state(&code)),
                _ => false,
            }
        }
        _ => false,
    }
}

/// PostgreSQL's SQLSTATEs for a server that cannot serve now: a connection exception (class
/// 08), too many connections, and a shutdown or a start-up in progress (57P01–57P03).
fn unavailable_state(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "53300" | "57P01" | "57P02" | "57P03")
}

impl AppError {
    /// Whether this is the database being out of reach ([`is_unavailable`]), however it was
    /// wrapped: the request may succeed if tried again (503, never 500).
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Db(e) => is_unavailable(e),
            Self::Shared(inner) => inner.is_unavailable(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod unavailable_tests {
    use std::sync::Arc;

    use sea_orm::sqlx::Error as Sqlx;
    use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr};

    use super::*;

    fn query(e: Sqlx) -> DbErr {
        DbErr::Query(RuntimeErr::SqlxError(Arc::new(e)))
    }

    #[test]
    fn an_unreachable_database_is_unavailable() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        for err in [
            DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
            DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
            query(Sqlx::Io(refused)),
            query(Sqlx::PoolTimedOut),
            DbErr::Exec(RuntimeErr::SqlxError(Arc::new(Sqlx::WorkerCrashed))),
        ] {
            assert!(is_unavailable(&err), "{err}");
            assert!(AppError::Db(err.clone()).is_unavailable(), "{err}");
            assert!(AppError::Shared(Arc::new(AppError::Db(err))).is_unavailable());
        }
        for code in ["08006", "08001", "57P01", "57P03", "53300"] {
            assert!(unavailable_state(code), "{code}");
        }
    }

    #[test]
    fn a_wrong_request_or_row_is_not() {
        for err in [
            query(Sqlx::RowNotFound),
            query(Sqlx::Protocol("bad".to_owned())),
            DbErr::RecordNotFound("order".to_owned()),
            DbErr::Custom("no".to_owned()),
        ] {
            assert!(!is_unavailable(&err), "{err}");
        }
        // Unique and foreign-key violations, a serialization failure, a syntax error.
        for code in ["23505", "23503", "40001", "42601"] {
            assert!(!unavailable_state(code), "{code}");
        }
        assert!(!AppError::Internal("x").is_unavailable());
    }
}
