//! The domain layer of Lyceum: configuration, storage, the services that own every transaction,
//! and the application state they share.
//!
//! It never names a web framework: the HTTP API and pages (`lyceum-http`) call into it, and the
//! `lyceum` binary wires both together. Each area lives in its own folder under [`services`]
//! with a short module doc saying what it owns; entities are sea-orm models used here only.

pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
// The sea-orm models stay inside the layer that owns the transactions; black-box tests that
// count rows turn them on with the `test-entities` feature.
#[cfg(feature = "test-entities")]
pub mod entities;
#[cfg(not(feature = "test-entities"))]
pub(crate) mod entities;
pub mod error;
pub mod gateways;
pub mod io;
pub mod metrics;
pub mod sealing;
pub mod services;
pub mod state;
pub mod storage;
pub mod telemetry;

/// The typed ids of every entity; they live in `lyceum-kernel`, below the casbin wrapper too.
pub use lyceum_kernel::ids;

pub use config::Settings;
pub use state::AppState;
