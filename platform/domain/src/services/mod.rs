//! Domain services: the only code that opens transactions and touches entities.
//!
//! Every call that reads or writes tenant data takes the tenant first and an
//! [`Authorized`](lyceum_tenants::rbac::Authorized) proof for the resource it touches and the
//! action it takes (`Read` for the reads handlers make, `Update`, `Publish`, … for writes).

pub mod access;
pub mod accounts;
pub mod catalog;
pub mod certificates;
pub mod commerce;
pub mod gateway_accounts;
pub mod invalidation;
pub mod jobs;
pub mod learning;
pub mod ledger;
pub mod media;
pub mod notify;
pub mod seats;
pub mod secrets;
pub mod signing;
pub mod teams;
pub mod tenancy;
pub mod webhooks;

/// A list's page size as asked (`limit`), `default` when not asked; anything outside
/// `1..=max` is refused with the field named.
pub fn page_limit(limit: Option<u64>, default: u64, max: u64) -> crate::error::AppResult<u64> {
    match limit {
        None => Ok(default),
        Some(l) if (1..=max).contains(&l) => Ok(l),
        Some(_) => Err(crate::error::AppError::invalid(
            "limit",
            format!("must be between 1 and {max}"),
        )),
    }
}

/// The current time, truncated to microseconds so that it compares equal after a round trip
/// through either database.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::{SubsecRound, Utc};
    Utc::now().trunc_subsecs(6)
}
