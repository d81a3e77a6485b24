//! Storefronts' accounts at payment providers — the only code that reads or writes them.
//!
//! An owner connects a provider (`configure`: the provider's crate checks the fields and asks
//! the provider about the account; secrets are sealed with the platform's key ring and never
//! shown again), or opens a seller account through the provider's onboarding (`onboarding`);
//! lists them (`list`, never a secret) and disables one (`disable`). What the provider later
//! says of an account (Stripe's `account.updated`) is recorded by `record_news`, which looks the
//! account up afresh (deliveries arrive in any order). A seller account inside the platform's
//! own account at a provider, which the provider cannot check (YooKassa's split payments),
//! waits as `pending_approval` until the platform's operator confirms it (`approve_seller`).
//!
//! For the money path this module answers two questions: which gateways a storefront's buyers
//! may pick ([`offered`]) and which seller account a gateway call for a tenant acts for
//! ([`account_for`], credentials opened here and nowhere else).

mod accounts;

pub use accounts::{
    GatewayAccount, PENDING_ACCOUNT, Resealed, account_for, approve_seller, checkout_account,
    configure, continue_onboarding, credentials_context, disable, list, offered, onboarding,
    record_news, record_status, refresh_status, reseal_all,
};
