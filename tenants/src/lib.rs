//! Tenants: what a storefront is, how a request finds it, and who may do what inside it.
//!
//! - [`Slug`]: the URL-safe name of a tenant (and of a course), parsed, never validated later.
//! - [`reserved`]: the names the platform keeps for itself (`www`, `api`, `mail`, …).
//! - [`TenantStatus`]: the lifecycle `pending → active ⇄ suspended`; only an active tenant sells.
//! - [`host`]: resolving a storefront from the `Host` header (custom domain or subdomain).
//! - [`rbac`]: casbin RBAC with domains (a domain is a tenant); every handler asks
//!   [`rbac::Authorizer::authorize`] and gets an [`rbac::Authorized`] proof back.
//!
//! This crate knows nothing of the database: the platform loads the persisted grants and hands
//! them to the authorizer. Principals and domains name users and tenants by the typed ids of
//! `lyceum-kernel` (`UserId`, `TenantId`), the same the domain's rows carry; they become
//! casbin's `user:<uuid>` and `tenant:<uuid>` strings only inside [`rbac`].

pub mod host;
pub mod rbac;
pub mod reserved;
mod slug;
mod status;

pub use slug::{Slug, SlugError};
pub use status::{TenantStatus, UnknownStatus};
