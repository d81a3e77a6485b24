//! Access: entitlements and the access decisions read from them.
//!
//! This area owns the `entitlements` table and is its only writer: the payment pipeline
//! changes who holds a course only through [`reconcile_lines`], and every "may this user read
//! this course" question goes through [`decide`] (cached per tenant, user and course).

mod entitlements;

pub use entitlements::{AccessKey, Changed, Decision, Reason, decide, load, reconcile_lines};
