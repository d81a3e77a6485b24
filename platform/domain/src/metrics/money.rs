//! The money path's metrics: webhook deliveries and their events, the time the payment
//! pipeline takes to apply an event, reconciler passes and what they found, payout runs and
//! the payouts they made, paid or failed.

use std::time::Duration;

use lyceum_gateway_core::GatewayId;
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

use super::registered;
use crate::error::AppResult;
use crate::services::commerce::reconcile::Pass;
use crate::services::ledger::payouts::PayoutStatus;
use crate::services::webhooks::{Outcome, Verification};

/// The label of events the platform applies itself (free orders, expiries), beside the
/// gateways' names.
pub const PLATFORM_SOURCE: &str = "lyceum";

/// Webhook deliveries and events by provider.
#[derive(Debug, Clone)]
pub struct WebhookMetrics {
    deliveries: IntCounterVec,
    events: IntCounterVec,
    apply: HistogramVec,
}

impl WebhookMetrics {
    pub(super) fn new(registry: &Registry) -> AppResult<Self> {
        Ok(Self {
            deliveries: registered(
                registry,
                IntCounterVec::new(
                    Opts::new(
                        "webhook_deliveries_total",
                        "Webhook deliveries received, by provider, verification and why one \
                         was not verified (`none` when it was)",
                    ),
                    &["provider", "verification", "reason"],
                ),
            )?,
            events: registered(
                registry,
                IntCounterVec::new(
                    Opts::new(
                        "webhook_events_total",
                        "Events of verified webhook deliveries, by provider and what became of \
                         them",
                    ),
                    &["provider", "outcome"],
                ),
            )?,
            apply: registered(
                registry,
                HistogramVec::new(
                    HistogramOpts::new(
                        "payment_event_apply_duration_seconds",
                        "Time to apply one payment event (its transaction and the cache \
                         invalidations after it), by provider (`lyceum`: the platform's own)",
                    )
                    .buckets(vec![
                        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                    ]),
                    &["provider"],
                ),
            )?,
        })
    }

    /// One delivery to `/webhooks/{provider}…`; `reason` is a fixed snake_case word
    /// (`bad_signature`), `none` for a verified delivery.
    pub fn delivery(&self, provider: GatewayId, verification: Verification, reason: &'static str) {
        self.deliveries
            .with_label_values(&[provider.as_str(), verification.as_str(), reason])
            .inc();
    }

    /// One event of a verified delivery and what became of it.
    pub fn event(&self, provider: GatewayId, outcome: Outcome) {
        self.events
            .with_label_values(&[provider.as_str(), outcome.as_str()])
            .inc();
    }

    /// The time one event took through the pipeline; `provider` `None` is the platform.
    pub fn applied(&self, provider: Option<GatewayId>, elapsed: Duration) {
        let label = provider.map_or(PLATFORM_SOURCE, GatewayId::as_str);
        self.apply
            .with_label_values(&[label])
            .observe(elapsed.as_secs_f64());
    }
}

/// A counter of runs by `result`, `ok` and `failed` shown at zero from the start (so that
/// `increase()` sees the first failure).
fn runs(registry: &Registry, opts: Opts) -> AppResult<IntCounterVec> {
    let runs = registered(registry, IntCounterVec::new(opts, &["result"]))?;
    for result in ["ok", "failed"] {
        runs.with_label_values(&[result]);
    }
    Ok(runs)
}

/// Reconciler passes and their findings.
#[derive(Debug, Clone)]
pub struct ReconcilerMetrics {
    runs: IntCounterVec,
    findings: IntCounterVec,
}

impl ReconcilerMetrics {
    pub(super) fn new(registry: &Registry) -> AppResult<Self> {
        Ok(Self {
            runs: runs(
                registry,
                Opts::new("reconciler_runs_total", "Reconciler passes, by result"),
            )?,
            findings: registered(
                registry,
                IntCounterVec::new(
                    Opts::new(
                        "reconciler_findings_total",
                        "What reconciler passes found and settled, by kind: stale_order (an \
                         open order asked about at its gateway), missed_event (an event the \
                         webhooks had not brought, applied), expired_order, unanswered_refund \
                         (asked again), unconfirmed_refund (asked about)",
                    ),
                    &["kind"],
                ),
            )?,
        })
    }

    /// A pass that finished, and what it found.
    pub fn pass(&self, pass: &Pass) {
        self.runs.with_label_values(&["ok"]).inc();
        for (kind, n) in [
            ("stale_order", pass.asked),
            ("missed_event", pass.events_applied),
            ("expired_order", pass.expired),
            ("unanswered_refund", pass.refunds_asked),
            ("unconfirmed_refund", pass.refunds_checked),
        ] {
            // Every kind is shown from the first pass on, at zero until something is found.
            self.findings
                .with_label_values(&[kind])
                .inc_by(u64::try_from(n).unwrap_or(u64::MAX));
        }
    }

    /// A pass that stopped on an error.
    pub fn failed(&self) {
        self.runs.with_label_values(&["failed"]).inc();
    }
}

/// Payout runs, and payouts made, paid and failed with their amounts.
#[derive(Debug, Clone)]
pub struct PayoutMetrics {
    runs: IntCounterVec,
    payouts: IntCounterVec,
    amounts: IntCounterVec,
}

impl PayoutMetrics {
    pub(super) fn new(registry: &Registry) -> AppResult<Self> {
        Ok(Self {
            runs: runs(
                registry,
                Opts::new(
                    "payout_runs_total",
                    "Payout runs (the books job's and admins'), by result",
                ),
            )?,
            payouts: registered(
                registry,
                IntCounterVec::new(
                    Opts::new(
                        "payouts_total",
                        "Payouts by what happened to them: created (in transit), paid, failed",
                    ),
                    &["event"],
                ),
            )?,
            amounts: registered(
                registry,
                IntCounterVec::new(
                    Opts::new(
                        "payout_amount_minor_units_total",
                        "The money of those payouts, in minor units of their ISO 4217 currency",
                    ),
                    &["event", "currency"],
                ),
            )?,
        })
    }

    /// A run that finished; `made` payouts, each `(amount in minor units, currency)`.
    pub fn run(&self, made: &[(i64, &str)]) {
        self.runs.with_label_values(&["ok"]).inc();
        for (amount, currency) in made {
            self.count("created", *amount, currency);
        }
    }

    /// A run that stopped on an error.
    pub fn run_failed(&self) {
        self.runs.with_label_values(&["failed"]).inc();
    }

    /// A payout that became `to` (paid or failed).
    pub fn finished(&self, to: PayoutStatus, amount: i64, currency: &str) {
        self.count(to.as_str(), amount, currency);
    }

    fn count(&self, event: &str, amount: i64, currency: &str) {
        self.payouts.with_label_values(&[event]).inc();
        self.amounts
            .with_label_values(&[event, currency])
            .inc_by(amount.unsigned_abs());
    }
}
