//! Prometheus metrics, served as text at `/metrics` (who may read them is the HTTP layer's
//! business: `lyceum-http`'s `health`).
//!
//! One registry per [`AppState`](crate::state::AppState), never a global, every name prefixed
//! `lyceum_` and carrying its unit. Labels take only values from closed sets (operation ids,
//! gateway ids, outcomes, ISO currency codes): never a tenant, a user or anything a request
//! wrote. The areas count through the handles here: [`money`] (webhooks, the payment pipeline,
//! the reconciler, payouts) and [`work`] (the access cache, the outbox, background jobs, the
//! invalidation listener).

mod money;
mod work;

use std::time::Duration;

use prometheus::core::Collector;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

pub use money::{PayoutMetrics, ReconcilerMetrics, WebhookMetrics};
pub use work::{CacheCounters, Job, JobMetrics, ListenerGauge, OutboxMetrics};

use crate::error::AppResult;

/// Every metric of one instance.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    hashes: HashGauges,
    /// Deliveries and events by provider, and how long applying an event takes.
    pub webhooks: WebhookMetrics,
    /// Hits and misses of the access-decision cache.
    pub access_cache: CacheCounters,
    pub outbox: OutboxMetrics,
    pub reconciler: ReconcilerMetrics,
    pub payouts: PayoutMetrics,
    /// When each background job last finished a pass without error.
    pub jobs: JobMetrics,
    /// Whether the cross-instance invalidation listener is connected (PostgreSQL only).
    pub listener: ListenerGauge,
}

/// Password hashes running now, and the most that ever ran at once (the bound's proof).
#[derive(Debug, Clone)]
pub struct HashGauges {
    pub running: IntGauge,
    pub peak: IntGauge,
}

/// Registers `metric` (or passes its construction error on) and hands it back.
fn registered<M: Collector + Clone + 'static>(
    registry: &Registry,
    metric: prometheus::Result<M>,
) -> AppResult<M> {
    let metric = metric?;
    registry.register(Box::new(metric.clone()))?;
    Ok(metric)
}

impl Metrics {
    pub fn new() -> AppResult<Self> {
        let registry = Registry::new_custom(Some("lyceum".into()), None)?;
        let requests = registered(
            &registry,
            IntCounterVec::new(
                Opts::new(
                    "http_requests_total",
                    "HTTP requests served, by operation and status",
                ),
                &["operation", "method", "status"],
            ),
        )?;
        let latency = registered(
            &registry,
            HistogramVec::new(
                HistogramOpts::new(
                    "http_request_duration_seconds",
                    "Time to serve HTTP requests",
                )
                .buckets(vec![
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
                ]),
                &["operation"],
            ),
        )?;
        let hashes = HashGauges {
            running: registered(
                &registry,
                IntGauge::new("password_hashes_running", "argon2 hashes running now"),
            )?,
            peak: registered(
                &registry,
                IntGauge::new(
                    "password_hashes_peak",
                    "the most argon2 hashes that ran at once since start",
                ),
            )?,
        };
        let build = registered(
            &registry,
            IntGaugeVec::new(
                Opts::new("build_info", "always 1; the running version as a label"),
                &["version"],
            ),
        )?;
        build.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        Ok(Self {
            webhooks: WebhookMetrics::new(&registry)?,
            access_cache: CacheCounters::new(&registry, "access")?,
            outbox: OutboxMetrics::new(&registry)?,
            reconciler: ReconcilerMetrics::new(&registry)?,
            payouts: PayoutMetrics::new(&registry)?,
            jobs: JobMetrics::new(&registry)?,
            listener: ListenerGauge::new(&registry)?,
            registry,
            requests,
            latency,
            hashes,
        })
    }

    /// The gauges the password hasher keeps up to date.
    pub fn hash_gauges(&self) -> HashGauges {
        self.hashes.clone()
    }

    pub fn observe(&self, operation: &str, method: &str, status: u16, elapsed: Duration) {
        self.requests
            .with_label_values(&[operation, method, &status.to_string()])
            .inc();
        self.latency
            .with_label_values(&[operation])
            .observe(elapsed.as_secs_f64());
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(error = %crate::error::report(&e), "cannot encode metrics");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}
