//! The sandbox: an offline payment provider that behaves like a real one, so Lyceum can be
//! used and tested end to end with no provider account.
//!
//! It opens hosted checkout sessions with a pay page a person can use (test cards succeed,
//! are declined, or get disputed), keeps its own records of payments, refunds and disputes
//! (optionally in a JSON file, so they survive restarts), and tells the platform what happened
//! the way real providers do: signed webhooks (`Sandbox-Signature`, the `t=…,v1=…` scheme of
//! [`lyceum_gateway_core::signature`]) delivered at least once, retried with backoff, and —
//! when [`DeliveryOptions`] say so — duplicated, delayed and out of order.
//!
//! The platform sees it only through [`PaymentGateway`](lyceum_gateway_core::PaymentGateway),
//! plus [`Sandbox::routes`] (mounted at `/sandbox`) and [`Sandbox::start`] (the expiry sweep).
//! Anyone who can reach those routes can pay or dispute a sandbox payment: that is the point of
//! a sandbox, and why no real money or card ever passes through it.

mod config;
mod error;
mod fetch;
mod flows;
mod gateway;
mod pages;
mod reversals;
mod sender;
mod store;
#[cfg(test)]
mod testing;
mod transformers;
mod webhook;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde::Deserialize;
use tokio::sync::Mutex;

pub use config::{DeliveryOptions, MAX_BACKOFF, SandboxConfig};
pub use error::SandboxError;

use flows::{Attempt, Card, Emission};
use sender::Sender;
use store::{Session, Store};
use transformers::WireEvent;

/// How often open sessions are checked for expiry.
const SWEEP_EVERY: Duration = Duration::from_secs(2);

/// The sandbox provider. Cheap to clone: clones share one state and one sender.
#[derive(Clone)]
pub struct Sandbox {
    inner: Arc<Inner>,
}

struct Inner {
    /// Without a trailing slash.
    public_url: String,
    secrets: Vec<String>,
    session_ttl: TimeDelta,
    store: Mutex<Store>,
    sender: Arc<Sender>,
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox")
            .field("public_url", &self.inner.public_url)
            .finish_non_exhaustive()
    }
}

/// What a pay attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayOutcome {
    /// Paid; the buyer goes to the checkout's success URL.
    Succeeded {
        payment_id: String,
        redirect_url: String,
    },
    /// Declined; the buyer goes back to the pay page and may try again.
    Declined { redirect_url: String },
}

/// A dashboard action on a payment's dispute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisputeOutcome {
    /// The buyer's bank opens a dispute (one at a time per payment).
    Open,
    /// The open dispute is decided for the seller.
    Won,
    /// The open dispute is decided for the buyer.
    Lost,
}

impl Sandbox {
    /// Builds the sandbox, loading `state_file` when it exists. Refuses to run without a
    /// webhook secret: an unsigned or default-signed sandbox would let anyone forge payments.
    pub fn new(config: SandboxConfig) -> Result<Self, SandboxError> {
        let signing = config
            .secrets
            .first()
            .filter(|s| !s.is_empty())
            .ok_or(SandboxError::NoSecret)?;
        let public_url = config.public_url.trim_end_matches('/').to_owned();
        match url::Url::parse(&public_url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => {}
            _ => return Err(SandboxError::BadPublicUrl(config.public_url)),
        }
        let session_ttl =
            TimeDelta::from_std(config.session_ttl).map_err(|_| SandboxError::BadSessionTtl)?;
        let sender = Sender::new(
            format!("{public_url}/webhooks/sandbox"),
            signing.as_bytes().to_vec(),
            config.delivery,
        )?;
        Ok(Self {
            inner: Arc::new(Inner {
                store: Mutex::new(Store::open(config.state_file)?),
                public_url,
                secrets: config.secrets,
                session_ttl,
                sender: Arc::new(sender),
            }),
        })
    }

    /// The pay page and dashboard routes, for the platform to nest at `/sandbox`:
    /// `GET`/`POST /pay/:session` and `POST /payments/:payment/dispute`.
    pub fn routes(&self) -> poem::Route {
        pages::routes(self)
    }

    /// Starts the expiry sweep (every 2 s; each expired session emits `payment.expired` once).
    /// It stops by itself once every clone of the sandbox is dropped.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub fn start(&self) -> tokio::task::JoinHandle<()> {
        let sandbox = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(SWEEP_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(inner) = sandbox.upgrade() else {
                    return;
                };
                Sandbox { inner }.expire_due().await;
            }
        })
    }

    /// Resolves when no delivery is in flight, or after `timeout`; true when settled.
    pub async fn settle(&self, timeout: Duration) -> bool {
        self.inner.sender.settle(timeout).await
    }

    /// Pays a session as the pay page's form does, with a test card number (spaces ignored).
    pub async fn pay(&self, session: &str, card: &str) -> Result<PayOutcome, SandboxError> {
        let card = Card::parse(card).ok_or(SandboxError::MissingCard)?;
        let now = Utc::now();
        let result = self
            .update(|state| flows::pay(state, session, card, now))
            .await?;
        self.emit(result.emissions, now);
        let order = result.session.order_id;
        match result.attempt {
            Attempt::Paid { payment_id } => {
                tracing::info!(session, order.id = %order, payment = %payment_id, "sandbox payment succeeded");
                Ok(PayOutcome::Succeeded {
                    payment_id,
                    redirect_url: result.session.success_url,
                })
            }
            Attempt::Declined => {
                tracing::info!(session, order.id = %order, "sandbox payment declined");
                Ok(PayOutcome::Declined {
                    redirect_url: self.pay_url(session),
                })
            }
            Attempt::AlreadyPaid => Err(SandboxError::SessionPaid),
            Attempt::Expired => Err(SandboxError::SessionExpired),
        }
    }

    /// Opens a dispute on a payment, or decides the open one; emits `dispute.created`,
    /// `dispute.won` or `dispute.lost`.
    pub async fn dispute(
        &self,
        payment_id: &str,
        outcome: DisputeOutcome,
    ) -> Result<(), SandboxError> {
        let now = Utc::now();
        let emissions = self
            .update(|state| reversals::dispute(state, payment_id, outcome, now))
            .await?;
        tracing::info!(payment = payment_id, ?outcome, "sandbox dispute updated");
        self.emit(emissions, now);
        Ok(())
    }

    /// `{public_url}/sandbox/pay/{session}`.
    pub(crate) fn pay_url(&self, session: &str) -> String {
        format!("{}/sandbox/pay/{session}", self.inner.public_url)
    }

    /// A copy of a session, for the pay page.
    pub(crate) async fn session(&self, id: &str) -> Option<Session> {
        self.inner
            .store
            .lock()
            .await
            .state()
            .sessions
            .get(id)
            .cloned()
    }

    /// Applies a change under the store's lock; it is saved before the lock is released.
    async fn update<T>(
        &self,
        change: impl FnOnce(&mut store::State) -> Result<T, SandboxError>,
    ) -> Result<T, SandboxError> {
        self.inner.store.lock().await.update(change).await
    }

    /// Posts events for a stored change.
    fn emit(&self, emissions: Vec<Emission>, now: DateTime<Utc>) {
        for Emission { kind, data } in emissions {
            let event = WireEvent {
                id: new_id("evt"),
                kind,
                created: now.timestamp(),
                data,
            };
            self.inner.sender.send(&event);
        }
    }

    async fn expire_due(&self) {
        let now = Utc::now();
        match self.update(|state| Ok(flows::expire_due(state, now))).await {
            Ok(emissions) => self.emit(emissions, now),
            Err(e) => tracing::error!(error = %e, "sandbox expiry sweep failed"),
        }
    }
}

/// A provider id: `prefix_` and 32 random hex digits.
pub(crate) fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", hex::encode(rand::random::<[u8; 16]>()))
}
