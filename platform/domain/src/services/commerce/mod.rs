//! Commerce: pricing, checkout, coupons and their redemptions, orders and their state machine,
//! the payment pipeline, refunds and reconciliation with the gateways.
//!
//! Orders change only through [`pipeline`] (payment facts) and [`refunds`]; who gets a course
//! out of an order is decided by [`access`](crate::services::access), the only writer of
//! entitlements.

pub mod checkout;
pub mod coupons;
pub mod orders;
pub mod pipeline;
pub mod pricing;
pub mod reconcile;
pub mod redemptions;
pub mod refunds;
pub mod state;

pub use orders::{Order, OrderLine};
pub use state::OrderStatus;
