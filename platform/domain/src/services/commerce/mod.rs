//! Commerce: fee plans and pricing, checkout, coupons and their redemptions, orders and their state machine,
//! the payment pipeline, refunds and reconciliation with the gateways.
//!
//! Paid order lines become entitlements through [`pipeline`], which hands them to
//! [`access`](crate::services::access), the only writer of entitlements.

pub mod checkout;
pub mod coupons;
pub mod fee_plans;
pub mod lookup;
pub mod orders;
pub mod pipeline;
pub mod pricing;
pub mod reconcile;
pub mod redemptions;
pub mod refunds;
pub mod state;

pub use orders::{Order, OrderLine};
pub use state::OrderStatus;
