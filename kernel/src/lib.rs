//! The kernel of Lyceum: small values every layer names and no layer owns.
//!
//! Today that is [`ids`], one typed id per entity. It sits below `lyceum-tenants` (whose
//! casbin principals and domains are users and tenants) and `lyceum-domain` (whose rows and
//! services carry them), so both speak of the same `UserId` and `TenantId` without either
//! depending on the other's internals. It knows no database, HTTP or business rule; it needs
//! sea-orm only so that an id is a column value as it is, and serde so that it is a JSON one.

pub mod ids;
