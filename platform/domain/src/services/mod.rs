//! Domain services: the only code that opens transactions and touches entities.
//!
//! Every call that reads or writes tenant data takes the tenant first and an
//! [`Authorized`](lyceum_tenants::rbac::Authorized) proof for the resource it touches and the
//! action it takes (`Read` for the reads handlers make, `Update`, `Publish`, … for writes).

pub mod accounts;
pub mod catalog;
pub mod content;
pub mod domains;
pub mod handoffs;
pub mod invalidation;
pub mod invitations;
pub mod limits;
pub mod mail;
pub mod orders;
pub mod outbox;
pub mod passwords;
pub mod policy;
pub mod secrets;
pub mod signing;
pub mod tenants;

/// The current time, truncated to microseconds so that it compares equal after a round trip
/// through either database.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::{SubsecRound, Utc};
    Utc::now().trunc_subsecs(6)
}
