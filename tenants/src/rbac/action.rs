//! Actions, as zero-sized markers so an [`Authorized`](super::Authorized) proof names the
//! action in its type as well as the resource.
//!
//! A proof is only good for the action it was asked for: a service that changes a course takes
//! `&Authorized<resource::Course, action::Update>`, so the `Read` proof a listing handler holds
//! does not compile there:
//!
//! ```compile_fail
//! use lyceum_tenants::rbac::{Authorized, action, resource};
//!
//! fn update(_: &Authorized<resource::Course, action::Update>) {}
//!
//! fn list_then_edit(proof: &Authorized<resource::Course, action::Read>) {
//!     update(proof); // error: expected `Update`, found `Read`
//! }
//! ```

use super::Action;

/// A kind of thing one may do with a resource; `ACTION` is its runtime value (what casbin is
/// asked) and `NAME` its casbin action.
pub trait Verb {
    const ACTION: Action;
    const NAME: &'static str = Self::ACTION.as_str();
}

macro_rules! actions {
    ($($(#[$doc:meta])* $ty:ident,)*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy)]
            pub struct $ty;
            impl Verb for $ty {
                const ACTION: Action = Action::$ty;
            }
        )*
    };
}

actions! {
    /// Seeing a resource.
    Read,
    /// Making a new one.
    Create,
    /// Changing an existing one.
    Update,
    /// Removing one.
    Delete,
    /// Making a course visible in the catalog (or hiding it again).
    Publish,
    /// Deciding on another's request (approving a storefront).
    Approve,
}
