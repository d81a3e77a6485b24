//! RFC 9457 problem details: the one error shape of the API.

use poem::Response;
use poem::http::StatusCode;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};

use lyceum_domain::error::{AppError, report};

pub use lyceum_web::PROBLEM_CONTENT_TYPE as CONTENT_TYPE;

/// An error, as `application/problem+json`.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Problem")]
pub struct Problem {
    /// A URN naming the kind of problem, e.g. `urn:lyceum:problem:validation`.
    #[oai(rename = "type")]
    pub kind: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What happened here, for a person to read.
    pub detail: String,
    /// For validation problems: each refused field.
    #[oai(skip_serializing_if_is_none)]
    pub errors: Option<Vec<FieldProblem>>,
    /// For a lesson on a drip schedule (`urn:lyceum:problem:locked`): when it opens.
    #[oai(skip_serializing_if_is_none)]
    pub unlocks_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// One refused field of a request.
#[derive(Debug, Clone, Object)]
pub struct FieldProblem {
    /// The field's name, dotted for nested fields (`price.currency`).
    pub field: String,
    pub message: String,
}

/// The error responses every operation may give.
#[derive(Debug, ApiResponse)]
pub enum ProblemResponse {
    /// The request is malformed (bad JSON, missing or mistyped fields).
    #[oai(status = 400, content_type = "application/problem+json")]
    BadRequest(Json<Problem>),
    /// Missing, expired or wrong credentials.
    #[oai(status = 401, content_type = "application/problem+json")]
    Unauthorized(Json<Problem>),
    /// The course must be bought first.
    #[oai(status = 402, content_type = "application/problem+json")]
    PaymentRequired(Json<Problem>),
    /// The caller is known but may not do this.
    #[oai(status = 403, content_type = "application/problem+json")]
    Forbidden(Json<Problem>),
    /// No such thing, or none the caller may see.
    #[oai(status = 404, content_type = "application/problem+json")]
    NotFound(Json<Problem>),
    /// The request clashes with the current state (a taken slug, an existing account).
    #[oai(status = 409, content_type = "application/problem+json")]
    Conflict(Json<Problem>),
    /// The body is too large.
    #[oai(status = 413, content_type = "application/problem+json")]
    TooLarge(Json<Problem>),
    /// The request's `Content-Type` is not one the operation takes (answered before the handler).
    #[oai(status = 415, content_type = "application/problem+json")]
    UnsupportedMediaType(Json<Problem>),
    /// Well-formed input that does not make sense (unknown currency, negative price, bad slug).
    #[oai(status = 422, content_type = "application/problem+json")]
    Unprocessable(Json<Problem>),
    /// Too many attempts (sign-ins, sign-ups, coupon codes); nothing was done. See `Retry-After`.
    #[oai(status = 429, content_type = "application/problem+json")]
    TooManyRequests(Json<Problem>, #[oai(header = "Retry-After")] u64),
    /// Something failed on our side; the detail never says what.
    #[oai(status = 500, content_type = "application/problem+json")]
    Internal(Json<Problem>),
    /// The payment provider failed or refused.
    #[oai(status = 502, content_type = "application/problem+json")]
    BadGateway(Json<Problem>),
    /// The database is out of reach for now; nothing was done. Try again after `Retry-After`.
    #[oai(status = 503, content_type = "application/problem+json")]
    ServiceUnavailable(Json<Problem>, #[oai(header = "Retry-After")] u64),
}

/// The result type of every API operation.
pub type ApiResult<T> = Result<T, ProblemResponse>;

fn problem(status: StatusCode, kind: &str, detail: impl Into<String>) -> Problem {
    Problem {
        kind: lyceum_web::problem_type(kind),
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        status: status.as_u16(),
        detail: detail.into(),
        errors: None,
        unlocks_at: None,
    }
}

impl From<AppError> for ProblemResponse {
    fn from(err: AppError) -> Self {
        match err {
            // Before the 500 arm, which the same variants reach when the database answered.
            unavailable if unavailable.is_unavailable() => {
                tracing::warn!(error = %report(&unavailable), "the database is out of reach; answered 503");
                Self::ServiceUnavailable(
                    Json(problem(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "unavailable",
                        "the service is briefly unavailable; nothing was done, try again shortly",
                    )),
                    lyceum_web::UNAVAILABLE_RETRY_AFTER,
                )
            }
            AppError::Invalid(fields) => {
                let detail = fields
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ");
                let mut p = problem(StatusCode::UNPROCESSABLE_ENTITY, "validation", detail);
                p.errors = Some(
                    fields
                        .into_iter()
                        .map(|f| FieldProblem {
                            field: f.field,
                            message: f.message,
                        })
                        .collect(),
                );
                Self::Unprocessable(Json(p))
            }
            AppError::NotFound(what) => Self::NotFound(Json(problem(
                StatusCode::NOT_FOUND,
                "not-found",
                format!("{what} not found"),
            ))),
            AppError::Conflict(detail) => {
                Self::Conflict(Json(problem(StatusCode::CONFLICT, "conflict", detail)))
            }
            AppError::Unauthenticated(detail) => Self::Unauthorized(Json(problem(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                detail,
            ))),
            AppError::Forbidden(detail) => {
                Self::Forbidden(Json(problem(StatusCode::FORBIDDEN, "forbidden", detail)))
            }
            AppError::Locked { until } => {
                let mut p = problem(
                    StatusCode::FORBIDDEN,
                    "locked",
                    format!("this lesson opens at {}", until.to_rfc3339()),
                );
                p.unlocks_at = Some(until);
                Self::Forbidden(Json(p))
            }
            AppError::PaymentRequired(detail) => Self::PaymentRequired(Json(problem(
                StatusCode::PAYMENT_REQUIRED,
                "payment-required",
                detail,
            ))),
            gateway @ (AppError::Gateway(_) | AppError::GatewayDisabled(_)) => {
                tracing::error!(error = %report(&gateway), "payment provider failed");
                Self::BadGateway(Json(problem(
                    StatusCode::BAD_GATEWAY,
                    "gateway",
                    "the payment provider could not complete the request; try again later",
                )))
            }
            AppError::TooLarge { limit } => Self::TooLarge(Json(problem(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                format!("the request body is larger than {limit} bytes"),
            ))),
            AppError::RateLimited { retry_after } => Self::TooManyRequests(
                Json(problem(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate-limited",
                    format!("too many attempts; try again in {retry_after} seconds"),
                )),
                retry_after,
            ),
            internal @ (AppError::Db(_)
            | AppError::Storage(_)
            | AppError::Authz(_)
            | AppError::Money(_)
            | AppError::Corrupt { .. }
            | AppError::Hashing(_)
            | AppError::Mail(_)
            | AppError::Task(_)
            | AppError::Io { .. }
            | AppError::Render(_)
            | AppError::Metrics(_)
            | AppError::Json(_)
            | AppError::GatewayStartup { .. }
            | AppError::Sealing(_)
            | AppError::Misconfigured(_)
            | AppError::Shared(_)
            | AppError::Internal(_)) => {
                tracing::error!(error = %report(&internal), "request failed");
                Self::Internal(Json(problem(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "something went wrong on our side; it has been logged",
                )))
            }
        }
    }
}

/// Turns any error that escaped a handler (malformed JSON, a missing route, a failed
/// authentication) into problem+json; responses that already are problems pass through.
pub async fn render(err: poem::Error) -> Response {
    let status = err.status();
    let message = err.to_string();
    let response = err.into_response();
    let is_problem = response
        .headers()
        .get(poem::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(CONTENT_TYPE.as_bytes()));
    if is_problem {
        return response;
    }
    let (kind, detail) = match status {
        StatusCode::BAD_REQUEST => ("bad-request", message),
        StatusCode::UNAUTHORIZED => (
            "unauthenticated",
            "sign in to do this: send `Authorization: Bearer <token>`".to_owned(),
        ),
        StatusCode::NOT_FOUND => ("not-found", "no such resource".to_owned()),
        StatusCode::METHOD_NOT_ALLOWED => ("method-not-allowed", message),
        StatusCode::PAYLOAD_TOO_LARGE => ("too-large", message),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported-media-type", message),
        s if s.is_server_error() => {
            tracing::error!(%status, error = %message, "request failed");
            (
                "internal",
                "something went wrong on our side; it has been logged".to_owned(),
            )
        }
        _ => ("error", message),
    };
    problem_response(status, kind, detail)
}

/// A problem+json response outside the OpenAPI handlers (middleware, HTML routes).
pub use lyceum_web::problem_response;

impl From<lyceum_domain::domain::FieldError> for ProblemResponse {
    fn from(err: lyceum_domain::domain::FieldError) -> Self {
        AppError::from(err).into()
    }
}

/// The error mapping logs a 5xx cause once, with its chain, and never shows it.
#[cfg(test)]
mod error_chain_tests {
    use std::sync::{Arc, Mutex};

    use lyceum_domain::error::*;
    use lyceum_gateway_core::{GatewayError, MoneyError};
    use uuid::Uuid;

    use crate::problem::ProblemResponse;

    /// Everything the fmt subscriber writes, kept for the assertions.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Maps `err` to its problem the way a handler does, returning the problem and the log.
    fn map_and_log(err: AppError) -> (ProblemResponse, String) {
        let captured = Captured::default();
        let sink = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || sink.clone())
            .finish();
        let problem = tracing::subscriber::with_default(subscriber, || ProblemResponse::from(err));
        let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        (problem, log)
    }

    #[test]
    fn a_shared_loader_error_logs_its_whole_chain_and_shows_none_of_it() {
        let id = Uuid::now_v7();
        let loader = AppError::corrupt_field(
            "order",
            id,
            "currency",
            MoneyError::UnknownCurrency("XQQ".to_owned()),
        );
        let err = AppError::Shared(Arc::new(loader));

        let chain = report(&err).to_string();
        assert_eq!(
            chain,
            format!(
                "a shared cache load failed: stored order {id} is corrupt: bad currency: \
                 `XQQ` is not an ISO 4217 currency code"
            )
        );

        let (problem, log) = map_and_log(err);
        assert!(log.contains(&chain), "the log misses the chain: {log}");
        assert_eq!(log.matches("XQQ").count(), 1, "logged once: {log}");
        let ProblemResponse::Internal(body) = problem else {
            panic!("a shared loader failure is a 500, got {problem:?}");
        };
        assert_eq!(
            body.0.detail,
            "something went wrong on our side; it has been logged"
        );
        let shown = format!("{:?}", body.0);
        for secret in ["XQQ", "ISO 4217", &id.to_string(), "corrupt", "currency"] {
            assert!(!shown.contains(secret), "{secret} leaked: {shown}");
        }
    }

    #[test]
    fn a_gateway_failure_is_a_502_with_the_same_detail_and_its_cause_only_in_the_log() {
        let err = AppError::Gateway(GatewayError::Unavailable("connection reset by peer".into()));
        let (problem, log) = map_and_log(err);
        assert!(
            log.contains(
                "the payment provider failed: the provider could not be reached: \
                 connection reset by peer"
            ),
            "the log misses the chain: {log}"
        );
        let ProblemResponse::BadGateway(body) = problem else {
            panic!("a gateway failure is a 502, got {problem:?}");
        };
        assert_eq!(body.0.status, 502);
        assert_eq!(
            body.0.detail,
            "the payment provider could not complete the request; try again later"
        );
        assert!(!format!("{:?}", body.0).contains("connection reset"));
    }

    #[test]
    fn an_unreachable_database_is_a_503_to_retry_with_its_cause_only_in_the_log() {
        let timeout = sea_orm::DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout);
        let (problem, log) = map_and_log(AppError::Shared(Arc::new(AppError::Db(timeout))));
        assert!(
            log.contains("Connection pool timed out"),
            "the log misses the chain: {log}"
        );
        let ProblemResponse::ServiceUnavailable(body, retry_after) = problem else {
            panic!("an unreachable database is a 503, got {problem:?}");
        };
        assert_eq!(body.0.status, 503);
        assert_eq!(body.0.kind, "urn:lyceum:problem:unavailable");
        assert_eq!(retry_after, lyceum_web::UNAVAILABLE_RETRY_AFTER);
        assert!(!format!("{:?}", body.0).contains("pool"));

        // A database that answered and refused the query is still our bug: 500.
        let (problem, _) = map_and_log(AppError::Db(sea_orm::DbErr::Custom("x".to_owned())));
        assert!(
            matches!(problem, ProblemResponse::Internal(_)),
            "{problem:?}"
        );
    }
}
