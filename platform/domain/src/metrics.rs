//! Prometheus metrics of the HTTP server, served as text at `/metrics`.

use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

use crate::error::{AppError, AppResult};

/// Request counts and latencies by operation (OpenAPI operation id, or the route's name).
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    hashes: HashGauges,
}

/// Password hashes running now, and the most that ever ran at once (the bound's proof).
#[derive(Debug, Clone)]
pub struct HashGauges {
    pub running: IntGauge,
    pub peak: IntGauge,
}

impl Metrics {
    pub fn new() -> AppResult<Self> {
        let fail = AppError::Metrics;
        let registry = Registry::new_custom(Some("lyceum".into()), None).map_err(fail)?;
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests served, by operation and status",
            ),
            &["operation", "method", "status"],
        )
        .map_err(fail)?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time to serve HTTP requests",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
            ]),
            &["operation"],
        )
        .map_err(fail)?;
        registry
            .register(Box::new(requests.clone()))
            .map_err(fail)?;
        registry.register(Box::new(latency.clone())).map_err(fail)?;
        let hashes = HashGauges {
            running: IntGauge::new("password_hashes_running", "argon2 hashes running now")
                .map_err(fail)?,
            peak: IntGauge::new(
                "password_hashes_peak",
                "the most argon2 hashes that ran at once since start",
            )
            .map_err(fail)?,
        };
        registry
            .register(Box::new(hashes.running.clone()))
            .map_err(fail)?;
        registry
            .register(Box::new(hashes.peak.clone()))
            .map_err(fail)?;
        Ok(Self {
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
