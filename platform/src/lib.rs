//! Lyceum: a self-hosted, multi-tenant marketplace for online courses.
//!
//! This crate is the top of the house: the `lyceum` command line ([`cli`]), starting and
//! stopping the server with its background work ([`server`]), and the wiring of the two layers
//! below it, whose manifests enforce the direction:
//!
//! - `lyceum-domain`: configuration, storage, services, application state (never names poem);
//! - `lyceum-http`: the JSON API and webhooks (poem), on top of the domain;
//! - `lyceum-admin-ui` (`admin-ui/`): the server-rendered pages, on top of the domain;
//! - `lyceum-web`: what both share about the web (sites, client address, session cookie).
//!
//! The API and the pages never depend on each other; [`app`] mounts both.
//!
//! Their modules are re-exported here under their old paths for tests and embedders.

pub mod app;
pub mod cli;
pub mod server;

pub use lyceum_admin_ui as pages;
/// The sea-orm models, for black-box tests that read rows (the `test-entities` feature).
#[cfg(feature = "test-entities")]
pub use lyceum_domain::entities;
pub use lyceum_domain::{
    config, db, demo, domain, error, gateways, ids, io, metrics, sealing, services, state, storage,
    telemetry,
};
pub use lyceum_http as http;

pub use config::Settings;
pub use server::{RunningServer, start};
pub use state::AppState;
