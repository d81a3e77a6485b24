//! The Robokassa gateway from outside the crate: our signatures against independently computed
//! vectors, and the gateway through its trait (links, ResultURL notifications). One test
//! binary for the crate.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers: a failed step is a failed test"
)]

mod gateway;
mod signatures;
