//! At-least-once webhook delivery: every event is POSTed to the platform, signed afresh on each
//! attempt, and retried with exponential backoff until it is answered 2xx — optionally twice,
//! late, or out of order, as real providers do (see [`DeliveryOptions`]).
//!
//! Deliveries are tokio tasks; each holds an [`InFlight`] guard so [`Sender::settle`] can wait
//! for all of them (tests, graceful shutdown). Nothing is persisted: a delivery lost to a
//! restart is what `fetch_payment` reconciliation is for.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use lyceum_gateway_core::signature;
use reqwest::header::CONTENT_TYPE;
use tokio::sync::watch;

use crate::transformers::WireEvent;
use crate::{DeliveryOptions, SandboxError};

/// The header carrying the `t=…,v1=…` signature.
pub(crate) const SIGNATURE_HEADER: &str = "Sandbox-Signature";

/// How long one attempt may take before it counts as failed.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) struct Sender {
    client: reqwest::Client,
    url: String,
    /// The signing secret (the first configured one).
    secret: Vec<u8>,
    options: DeliveryOptions,
    in_flight: watch::Sender<usize>,
    /// Events handed over since start (each counted once, however often delivered).
    sent: AtomicU64,
}

// Hand-written so the signing secret never reaches a log line.
impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender")
            .field("url", &self.url)
            .field("options", &self.options)
            .field("in_flight", &*self.in_flight.borrow())
            .finish_non_exhaustive()
    }
}

/// One delivery in flight; dropping it (done, given up, or the task aborted) counts it out.
struct InFlight(Arc<Sender>);

impl InFlight {
    fn new(sender: &Arc<Sender>) -> Self {
        sender.in_flight.send_modify(|n| *n += 1);
        Self(Arc::clone(sender))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.send_modify(|n| *n = n.saturating_sub(1));
    }
}

impl Sender {
    pub fn new(
        url: String,
        secret: Vec<u8>,
        options: DeliveryOptions,
    ) -> Result<Self, SandboxError> {
        let client = reqwest::Client::builder()
            .timeout(ATTEMPT_TIMEOUT)
            // A redirect is not an acknowledgement, as with real providers.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| SandboxError::HttpClient(e.to_string()))?;
        Ok(Self {
            client,
            url,
            secret,
            options,
            in_flight: watch::Sender::new(0),
            sent: AtomicU64::new(0),
        })
    }

    /// Starts delivering `event` in the background and returns at once.
    pub fn send(self: &Arc<Self>, event: &WireEvent) {
        let body = match serde_json::to_vec(event) {
            Ok(body) => body,
            Err(e) => {
                tracing::error!(event.id = %event.id, error = %e, "sandbox event does not serialize");
                return;
            }
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::error!(event.id = %event.id, "no tokio runtime: sandbox event not delivered");
            return;
        };
        self.sent.fetch_add(1, Ordering::Relaxed);
        let copies = if self.options.duplicate { 2 } else { 1 };
        for copy in 1..=copies {
            // Counted before the task starts, so `settle` right after an emit waits for it.
            let guard = InFlight::new(self);
            let (id, kind, body) = (event.id.clone(), event.kind.as_str(), body.clone());
            runtime.spawn(async move { guard.0.deliver(&id, kind, copy, body).await });
        }
    }

    /// Events handed over since start.
    #[cfg(test)]
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Waits until no delivery is in flight, or `timeout`; true when settled.
    pub async fn settle(&self, timeout: Duration) -> bool {
        let mut idle = self.in_flight.subscribe();
        let settled =
            tokio::time::timeout(timeout, async { idle.wait_for(|n| *n == 0).await.is_ok() });
        settled.await.unwrap_or(false)
    }

    async fn deliver(&self, id: &str, kind: &str, copy: u8, body: Vec<u8>) {
        let jitter = random_below(self.options.reorder);
        tokio::time::sleep(self.options.delay + jitter).await;
        let attempts = self.options.max_attempts.max(1);
        for attempt in 1..=attempts {
            let timestamp = chrono::Utc::now().timestamp();
            let header = match signature::sign(&[&self.secret], timestamp, &body) {
                Ok(header) => header,
                Err(e) => {
                    // `Sandbox::new` refuses an empty secret, so this is a bug, not a retry.
                    tracing::error!(event.id = id, error = %e, "sandbox delivery not signed");
                    return;
                }
            };
            let result = self
                .client
                .post(&self.url)
                .header(CONTENT_TYPE, "application/json")
                .header(SIGNATURE_HEADER, header)
                .body(body.clone())
                .send()
                .await;
            match result {
                Ok(response) if response.status().is_success() => {
                    let status = response.status().as_u16();
                    tracing::info!(
                        event.id = id,
                        event.kind = kind,
                        copy,
                        attempt,
                        status,
                        "sandbox event delivered"
                    );
                    return;
                }
                Ok(response) => {
                    let status = response.status().as_u16();
                    tracing::warn!(
                        event.id = id,
                        event.kind = kind,
                        copy,
                        attempt,
                        status,
                        "sandbox event refused"
                    );
                }
                Err(e) => {
                    // Without the URL: it is ours, and errors would repeat it on every retry.
                    let error = e.without_url();
                    tracing::warn!(event.id = id, event.kind = kind, copy, attempt, error = %error, "sandbox event not delivered");
                }
            }
            if attempt < attempts {
                tokio::time::sleep(self.options.backoff(attempt)).await;
            }
        }
        tracing::error!(
            event.id = id,
            event.kind = kind,
            copy,
            attempts,
            "sandbox event dropped after the last attempt"
        );
    }
}

/// A random duration in `[0, bound)`; zero when `bound` is zero.
fn random_below(bound: Duration) -> Duration {
    let nanos = u64::try_from(bound.as_nanos()).unwrap_or(u64::MAX);
    if nanos == 0 {
        return Duration::ZERO;
    }
    Duration::from_nanos(rand::random_range(0..nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_below_its_bound() {
        assert_eq!(random_below(Duration::ZERO), Duration::ZERO);
        let bound = Duration::from_millis(5);
        assert!((0..1000).all(|_| random_below(bound) < bound));
    }

    #[tokio::test]
    async fn settle_is_immediate_when_nothing_is_in_flight_and_waits_otherwise() {
        let sender = Arc::new(
            Sender::new(
                "http://127.0.0.1:9/".into(),
                b"s".to_vec(),
                DeliveryOptions::default(),
            )
            .unwrap(),
        );
        assert!(sender.settle(Duration::from_millis(10)).await);
        let guard = InFlight::new(&sender);
        assert!(!sender.settle(Duration::from_millis(20)).await);
        drop(guard);
        assert!(sender.settle(Duration::from_millis(10)).await);
    }
}
