//! Accounts: users, password hashing, API tokens, web sessions, the one-time codes that hand
//! a session from the platform's origin to a storefront host, and the rate limits on what an
//! attacker repeats against them.

pub mod handoffs;
pub mod limits;
pub mod passwords;
pub mod users;

pub use users::*;
