//! The one schema of Lyceum, for SQLite and PostgreSQL alike.
//!
//! Each change is its own migration file with a real `down()`; constraints (unique keys,
//! foreign keys, checks) live in the database, not only in code. Every tenant-owned table
//! carries `tenant_id`, and its foreign keys include it, so rows of one tenant can never point
//! at rows of another; on PostgreSQL its primary and unique keys include it too, so the schema
//! can be distributed by tenant ([`distribution`] names the tables that are not tenant-owned).

pub use sea_orm_migration::prelude::*;

pub mod distribution;

mod m20261123_000001_accounts;
mod m20261123_000002_tenants_and_policy;
mod m20261123_000003_catalog;
mod m20261123_000004_commerce;
mod m20261129_000002_coupon_reservations;
mod m20261129_000003_staff_invitations;
mod m20261129_000004_host_bound_sessions;
mod m20261129_000005_gateway_accounts;
mod m20261129_000006_order_numbers;
mod m20261129_000007_fee_plans;
mod m20261129_000008_ledger;
mod m20261129_000009_teams;
mod m20261129_000010_seats;
mod m20261129_000011_learning;
mod m20261129_000012_webhook_log;
mod m20261129_000013_brand;
mod m20261129_000014_tenant_keys;
mod m20261130_000001_job_leases;

/// Runs the migrations in order.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_accounts::Migration),
            Box::new(m20261123_000002_tenants_and_policy::Migration),
            Box::new(m20261123_000003_catalog::Migration),
            Box::new(m20261123_000004_commerce::Migration),
            Box::new(m20261129_000002_coupon_reservations::Migration),
            Box::new(m20261129_000003_staff_invitations::Migration),
            Box::new(m20261129_000004_host_bound_sessions::Migration),
            Box::new(m20261129_000005_gateway_accounts::Migration),
            Box::new(m20261129_000006_order_numbers::Migration),
            Box::new(m20261129_000007_fee_plans::Migration),
            Box::new(m20261129_000008_ledger::Migration),
            Box::new(m20261129_000009_teams::Migration),
            Box::new(m20261129_000010_seats::Migration),
            Box::new(m20261129_000011_learning::Migration),
            Box::new(m20261129_000012_webhook_log::Migration),
            Box::new(m20261129_000013_brand::Migration),
            Box::new(m20261129_000014_tenant_keys::Migration),
            Box::new(m20261130_000001_job_leases::Migration),
        ]
    }
}
