//! The foundation over HTTP: accounts, tenants, RBAC, catalog, operations endpoints.
//! One test binary for the area; each test runs on SQLite and on PostgreSQL.

mod authz;
mod catalog;
mod contract;
mod health;
mod input;
mod journey;
mod members;
mod migrations;
mod openapi;
mod sessions;
mod storefront;
