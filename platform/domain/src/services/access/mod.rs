//! Access: entitlements and the access decisions read from them.
//!
//! This area owns the `entitlements` table and is its only writer: the payment pipeline
//! changes who holds a course only through [`reconcile_lines`], team seats only through
//! [`reconcile_seat`], and every "may this user read
//! this course" question goes through [`decide`] (cached per tenant, user and course), asked
//! under the caller's read proof of access, content or the catalog, and answered for the user
//! that proof names.

mod entitlements;

pub use entitlements::{
    AccessKey, Changed, Decision, Reason, decide, load, load_own, reconcile_lines, reconcile_seat,
};
