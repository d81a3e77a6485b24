//! Metrics of the machinery: a cache's hits and misses, the outbox's backlog and sends, when
//! each background job last finished a pass, and whether the invalidation listener is
//! connected.

use chrono::{DateTime, Utc};
use prometheus::{IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};

use super::registered;
use crate::error::AppResult;

/// Hits and misses of one cache, resolved once: counting is one atomic add on the hot path.
#[derive(Debug, Clone)]
pub struct CacheCounters {
    pub hits: IntCounter,
    pub misses: IntCounter,
}

impl CacheCounters {
    pub(super) fn new(registry: &Registry, cache: &str) -> AppResult<Self> {
        let lookups = registered(
            registry,
            IntCounterVec::new(
                Opts::new(
                    format!("{cache}_cache_lookups_total"),
                    format!("Look-ups of the {cache} cache, by result (hit or miss)"),
                ),
                &["result"],
            ),
        )?;
        Ok(Self {
            hits: lookups.with_label_values(&["hit"]),
            misses: lookups.with_label_values(&["miss"]),
        })
    }
}

/// The outbox: its backlog (measured when scraped, from the database, so it is true however
/// the workers fare) and this instance's delivery attempts.
#[derive(Debug, Clone)]
pub struct OutboxMetrics {
    pending: IntGauge,
    oldest_age: IntGauge,
    dead: IntGauge,
    attempts: IntCounterVec,
}

impl OutboxMetrics {
    pub(super) fn new(registry: &Registry) -> AppResult<Self> {
        let metrics = Self {
            pending: registered(
                registry,
                IntGauge::new(
                    "outbox_pending_messages",
                    "Outbox messages not sent yet (due or waiting to be retried), in the \
                     whole database",
                ),
            )?,
            oldest_age: registered(
                registry,
                IntGauge::new(
                    "outbox_oldest_pending_age_seconds",
                    "Age of the oldest pending outbox message (0 when none is pending)",
                ),
            )?,
            dead: registered(
                registry,
                IntGauge::new(
                    "outbox_dead_messages",
                    "Outbox messages given up after every attempt failed, in the whole database",
                ),
            )?,
            attempts: registered(
                registry,
                IntCounterVec::new(
                    Opts::new(
                        "outbox_deliveries_total",
                        "Delivery attempts by this instance's outbox worker, by result: sent, \
                         retry (failed, tried again later), dead (failed for the last time)",
                    ),
                    &["result"],
                ),
            )?,
        };
        for result in ["sent", "retry", "dead"] {
            metrics.attempts.with_label_values(&[result]);
        }
        Ok(metrics)
    }

    /// What the database holds now: `pending` messages, the oldest created at `oldest`, and
    /// `dead` ones.
    pub fn backlog(
        &self,
        pending: u64,
        oldest: Option<DateTime<Utc>>,
        dead: u64,
        now: DateTime<Utc>,
    ) {
        self.pending.set(i64::try_from(pending).unwrap_or(i64::MAX));
        self.dead.set(i64::try_from(dead).unwrap_or(i64::MAX));
        self.oldest_age
            .set(oldest.map_or(0, |at| (now - at).num_seconds().max(0)));
    }

    /// One delivery attempt: `sent`, `retry` or `dead`.
    pub fn attempt(&self, result: &'static str) {
        self.attempts.with_label_values(&[result]).inc();
    }
}

/// The background jobs whose passes are watched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    Outbox,
    Reconciler,
    Payouts,
}

impl Job {
    fn as_str(self) -> &'static str {
        match self {
            Self::Outbox => "outbox",
            Self::Reconciler => "reconciler",
            Self::Payouts => "payouts",
        }
    }
}

/// When each job last finished a pass without error.
#[derive(Debug, Clone)]
pub struct JobMetrics {
    last_success: IntGaugeVec,
}

impl JobMetrics {
    pub(super) fn new(registry: &Registry) -> AppResult<Self> {
        let last_success = registered(
            registry,
            IntGaugeVec::new(
                Opts::new(
                    "job_last_success_timestamp_seconds",
                    "When each background job of this instance last finished a pass without \
                     error (Unix time; 0: not yet)",
                ),
                &["job"],
            ),
        )?;
        // Shown from the start: a job that never succeeds is as old as can be, not absent.
        for job in [Job::Outbox, Job::Reconciler, Job::Payouts] {
            last_success.with_label_values(&[job.as_str()]).set(0);
        }
        Ok(Self { last_success })
    }

    /// `job` finished a pass without error just now.
    pub fn succeeded(&self, job: Job) {
        self.last_success
            .with_label_values(&[job.as_str()])
            .set(Utc::now().timestamp());
    }
}

/// 1 while the listener for other instances' invalidations is connected, 0 while it is not;
/// absent where there is none (SQLite), so that an alert on 0 fires only where it matters.
#[derive(Debug, Clone)]
pub struct ListenerGauge {
    connected: IntGaugeVec,
}

impl ListenerGauge {
    pub(super) fn new(registry: &Registry) -> AppResult<Self> {
        Ok(Self {
            connected: registered(
                registry,
                IntGaugeVec::new(
                    Opts::new(
                        "invalidation_listener_connected",
                        "1 while this instance listens for the other instances' cache \
                         invalidations (PostgreSQL), 0 while it reconnects",
                    ),
                    &[],
                ),
            )?,
        })
    }

    pub fn set(&self, connected: bool) {
        self.connected
            .with_label_values(&[] as &[&str])
            .set(i64::from(connected));
    }
}
