//! What can go wrong in the sandbox, and how it looks to the platform as a [`GatewayError`].

use std::path::PathBuf;

use lyceum_gateway_core::GatewayError;

/// A sandbox operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("no webhook secret is configured")]
    NoSecret,
    #[error("the public URL `{0}` is not an http(s) URL")]
    BadPublicUrl(String),
    #[error("the session lifetime is out of range")]
    BadSessionTtl,
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not a sandbox state file: {source}", path.display())]
    CorruptState {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("the HTTP client could not be built: {0}")]
    HttpClient(String),
    #[error("no such checkout session")]
    UnknownSession,
    #[error("no such payment")]
    UnknownPayment,
    #[error("the checkout session is already paid")]
    SessionPaid,
    #[error("the checkout session has expired")]
    SessionExpired,
    #[error("no card number was given")]
    MissingCard,
    #[error("the payment already has an open dispute")]
    DisputeAlreadyOpen,
    #[error("the payment has no open dispute")]
    NoOpenDispute,
    /// A request the provider refuses, with a reason for the caller.
    #[error("{0}")]
    Rejected(String),
}

impl From<SandboxError> for GatewayError {
    fn from(error: SandboxError) -> Self {
        match error {
            SandboxError::UnknownSession | SandboxError::UnknownPayment => Self::UnknownPayment,
            SandboxError::Rejected(reason) => Self::Rejected(reason),
            SandboxError::SessionPaid
            | SandboxError::SessionExpired
            | SandboxError::MissingCard
            | SandboxError::DisputeAlreadyOpen
            | SandboxError::NoOpenDispute => Self::Rejected(error.to_string()),
            // The provider's own machinery failed: like a provider outage, worth retrying.
            SandboxError::NoSecret
            | SandboxError::BadPublicUrl(_)
            | SandboxError::BadSessionTtl
            | SandboxError::Io { .. }
            | SandboxError::CorruptState { .. }
            | SandboxError::HttpClient(_) => Self::Unavailable(error.to_string()),
        }
    }
}
