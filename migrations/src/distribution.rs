//! Where each table goes when PostgreSQL is distributed by tenant (Citus): the one list of the
//! tables that are *not* distributed by `tenant_id`, read by the schema test and named in
//! docs/SCALING.md.
//!
//! Every other table is tenant-owned: it has a `NOT NULL tenant_id`, is distributed by it, and
//! its primary key, every unique key and every foreign key to another tenant-owned table include
//! `tenant_id` (what Citus needs to keep a storefront's rows, and the checks between them, on one
//! node). The schema test reads the catalog, so a new table is held to this unless it is named
//! here, with the reason.

/// The column tenant-owned tables are distributed by.
pub const DISTRIBUTION_COLUMN: &str = "tenant_id";

/// Copied to every node (`create_reference_table`): tenant-owned tables may point at them with a
/// foreign key and join them on their own node. Small, read on every request, written rarely.
pub const REFERENCE_TABLES: &[&str] = &[
    // The storefronts themselves: every tenant-owned table's `tenant_id` points here.
    "tenants",
    // Accounts are the platform's: one person buys from many storefronts. Orders, entitlements,
    // progress, payees point at them.
    "users",
    // Teams buy seats from several storefronts; seat pools point at them.
    "teams",
    "team_members",
    // Has `tenant_id`, but a seller account at a provider must belong to one storefront on the
    // whole platform (a Connect event naming it is routed by it): `(gateway,
    // provider_account_id)` stays unique everywhere, which only a table on every node can hold.
    "gateway_accounts",
    // The permission lines (domains are storefronts, teams and `*`) and the counter every
    // instance re-checks; secrets the platform generated for itself.
    "casbin_rule",
    "policy_revision",
    "platform_secrets",
];

/// Kept on the coordinator alone (`citus_add_local_table_to_metadata`): nothing tenant-owned
/// points at them, they are written often, and looked up by their own keys only.
pub const COORDINATOR_TABLES: &[&str] = &[
    // Credentials, looked up by the hash of what the client holds; written at every sign-in.
    "api_tokens",
    "web_sessions",
    "session_handoffs",
    // Its `tenant_id` is optional (platform mail has none); workers claim rows of every
    // storefront with `FOR UPDATE SKIP LOCKED`, which Citus runs on one shard only.
    "outbox",
    // Its `tenant_id` is optional (the platform's own webhook path has none, and a storefront's
    // deletion sets it to null); the admin's log reads every storefront's deliveries.
    "webhook_deliveries",
    // Which instance runs each periodic job; a handful of rows, claimed by instances.
    "job_leases",
    // sea-orm's record of the applied migrations.
    "seaql_migrations",
];
