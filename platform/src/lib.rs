//! Lyceum: a self-hosted, multi-tenant marketplace for online courses.
//!
//! This crate is the server: configuration ([`config`]), storage ([`db`], [`storage`]),
//! domain services ([`services`]), the HTTP API and pages ([`http`]), background work and
//! the `lyceum` command line ([`cli`]). Tenancy and RBAC live in `lyceum-tenants`, money and
//! the gateway contract in `lyceum-gateway-core`, the schema in `lyceum-migrations`.

pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod entities;
pub mod error;
pub mod gateways;
pub mod http;
pub mod server;
pub mod services;
pub mod state;
pub mod storage;
pub mod telemetry;

pub use config::Settings;
pub use server::{RunningServer, start};
pub use state::AppState;
