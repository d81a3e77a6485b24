//! The foundation over HTTP: accounts, tenants, RBAC, catalog, operations endpoints.
//! One test binary for the area; each test runs on SQLite and on PostgreSQL.

mod authz;
mod catalog;
mod console_pages;
mod content;
mod contract;
mod health;
mod input;
mod invitations;
mod journey;
mod limits;
mod members;
mod metrics;
mod migrations;
mod openapi;
mod reserved;
mod schema;
mod secrets;
mod sessions;
mod storefront;
mod studio_pages;
mod teams;
mod web;
