//! Tenancy: schools (tenants), their members and roles, custom domains, invitations and the
//! casbin policy that turns roles into permissions.

pub mod domains;
pub mod invitations;
pub mod policy;
pub mod tenants;

pub use policy::Policy;
pub use tenants::{Member, Tenant, ensure_covers};
