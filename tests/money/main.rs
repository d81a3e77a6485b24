//! The money path over HTTP: checkout, the sandbox's hosted page and signed webhooks, access,
//! protected content, refunds, disputes, replays. Each test runs on SQLite and PostgreSQL.

mod access;
mod browser;
mod checkout;
mod coupons;
mod disputes;
mod drafts;
mod fees;
mod gateways;
mod instances;
mod learning;
mod ledger;
mod metrics;
mod noisy;
mod outbox;
mod pages;
mod path;
mod permutations;
mod pricing;
mod reconcile;
mod replay;
mod robokassa;
mod seats;
mod stripe;
mod stripe_fake;
mod verification;
mod webhook_log;
mod yookassa;
