//! Accounts: users, password hashing, API tokens, web sessions, the one-time codes that hand
//! a session from the platform's origin to a storefront host, and the rate limits on what an
//! attacker repeats against them.

pub mod handoffs;
pub mod limits;
pub mod passwords;
mod users;

pub(crate) use users::end_sessions_on_host;
pub use users::{
    CurrentUser, IssuedSession, IssuedToken, PersonName, Registration, SessionScope, TokenDigest,
    TokenEntry, authenticate_session, authenticate_token, end_session, ensure_admin, find_by_email,
    login, random_secret, register, register_with_session, revoke_token, roles_of, session_user,
    sha256_hex, start_session, tenant_slugs,
};
