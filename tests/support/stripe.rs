//! A fake Stripe API for the black-box tests, written from Stripe's documented behaviour:
//! an in-process HTTP server on 127.0.0.1 that the real async-stripe client talks to
//! (`ClientBuilder::new(key).url(fake.base_url())`), and that delivers correctly signed events
//! to the server under test.
//!
//! It owns: connected accounts and Account Links, Checkout Sessions (payment mode, destination
//! charges with an application fee), PaymentIntents, charges, transfers, application fees,
//! refunds, disputes and events; form-encoded parameters; `Authorization: Bearer`;
//! `Idempotency-Key`; `Stripe-Account`; errors in Stripe's shape. Objects are shaped for API
//! version `2026-09-30.endive` and deserialize in async-stripe rc.10's models.
//!
//! What Stripe does without an API call — a customer paying, a dispute, onboarding finished —
//! are test controls on [`FakeStripe`]; they deliver their events and wait for the answers.
//! Events caused by API calls (refunds, expiring a session) are delivered in the background,
//! as Stripe does; [`FakeStripe::flush`] waits for them.

use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::sync::{mpsc, oneshot, watch};

mod accounts;
mod api;
mod delivery;
pub mod fixtures;
mod flows;
pub mod form;
mod http;
mod lines;
mod objects;
mod pages;
mod params;
mod payments;
mod refunds;
mod sessions;
mod state;

pub use objects::AccountStatus;
pub use state::API_VERSION;

use crate::fake_server::FakeServer;
use delivery::{Job, Signing};
use state::{Emit, State};

/// One API request as the fake received it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// The `Request-Id` it was answered with (`req_…`).
    pub id: String,
    pub method: String,
    /// The path, `/v1/…`.
    pub path: String,
    /// The form body (POST) or query (GET), decoded into a tree of strings.
    pub params: Value,
    pub idempotency_key: Option<String>,
    pub stripe_account: Option<String>,
    pub stripe_version: Option<String>,
    /// The status answered.
    pub status: u16,
    /// Whether the answer was a saved one, replayed for the same idempotency key.
    pub replayed: bool,
}

/// An event the fake built (or was given), with every answer the webhook target gave.
#[derive(Debug, Clone)]
pub struct SentEvent {
    pub id: String,
    /// Its `type`.
    pub kind: String,
    /// The connected account of a Connect event.
    pub account: Option<String>,
    pub api_version: String,
    pub payload: Value,
    /// The exact bytes delivered (and signed).
    pub body: String,
    /// One entry per delivery: the HTTP status, or `None` when no answer came (connection
    /// refused, timeout). Empty when never delivered (no target, or not an enabled type).
    pub answers: Vec<Option<u16>>,
}

impl SentEvent {
    /// The status of the last delivery, if one was answered.
    pub fn status(&self) -> Option<u16> {
        self.answers.last().copied().flatten()
    }

    /// The event's `data.object`.
    pub fn object(&self) -> &Value {
        &self.payload["data"]["object"]
    }
}

/// How [`FakeStripe::dispute`] moves a dispute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisputeOutcome {
    /// `charge.dispute.created` (status `needs_response`).
    Open,
    /// `charge.dispute.closed` with status `won` (opening it first if none is open).
    Won,
    /// `charge.dispute.closed` with status `lost` (opening it first if none is open).
    Lost,
}

/// The objects one payment created, and its events as delivered.
#[derive(Debug, Clone)]
pub struct Payment {
    pub session: String,
    pub payment_intent: String,
    pub charge: String,
    pub events: Vec<SentEvent>,
}

/// What the server task and the delivery worker share.
#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    queue: mpsc::UnboundedSender<Job>,
    /// Deliveries queued and not finished.
    pending: watch::Sender<usize>,
}

/// The fake Stripe: a server on `127.0.0.1`, its state and its delivery worker. Dropping it
/// stops both tasks.
#[derive(Debug)]
pub struct FakeStripe {
    shared: Arc<Shared>,
    server: FakeServer,
    worker: tokio::task::JoinHandle<()>,
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl FakeStripe {
    /// Starts the fake on a random port. Requests must carry `Authorization: Bearer
    /// {secret_key}`; events are signed with every one of `webhook_secrets` (at least one).
    pub async fn start(secret_key: &str, webhook_secrets: Vec<String>) -> Self {
        assert!(
            !webhook_secrets.is_empty() && webhook_secrets.iter().all(|s| !s.is_empty()),
            "the fake Stripe signs its events: give it at least one non-empty webhook secret"
        );
        let (queue, jobs) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            state: Mutex::new(State::new(
                secret_key.to_owned(),
                String::new(),
                webhook_secrets,
            )),
            queue,
            pending: watch::channel(0).0,
        });
        let worker = tokio::spawn(delivery::worker(Arc::clone(&shared), jobs));
        let server = {
            let shared = Arc::clone(&shared);
            FakeServer::start(move |req| {
                let shared = Arc::clone(&shared);
                async move { http::serve(&shared, req).await }
            })
            .await
        };
        shared.state.lock().unwrap().base = server.base.clone();
        Self {
            shared,
            server,
            worker,
        }
    }

    /// The base URL for async-stripe's `ClientBuilder::url`: `http://127.0.0.1:<port>`, no
    /// trailing slash and no `/v1` (the client appends `v1/…` to the URL it renders with a `/`).
    pub fn base_url(&self) -> &str {
        &self.server.base
    }

    /// Where events are POSTed (the server's `…/webhooks/stripe`); none until set.
    pub fn set_webhook_target(&self, url: impl Into<String>) {
        self.lock().target = Some(url.into());
    }

    /// The secrets events are signed with from now on (one `v1` each: a rotation).
    pub fn set_webhook_secrets(&self, secrets: Vec<String>) {
        assert!(!secrets.is_empty() && secrets.iter().all(|s| !s.is_empty()));
        self.lock().webhook_secrets = secrets;
    }

    /// The event types delivered (`"*"` for all), as an endpoint's `enabled_events`; `None`
    /// (the default) delivers every event. Events of other types are recorded, not sent.
    pub fn set_enabled_events(&self, kinds: Option<Vec<String>>) {
        self.lock().enabled_events = kinds;
    }

    /// Every API request so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }

    /// Every event built or sent so far, oldest first, with the answers they got.
    pub fn events(&self) -> Vec<SentEvent> {
        self.lock().events.clone()
    }

    /// Any object the fake holds (`cs_…`, `pi_…`, `ch_…`, `re_…`, `dp_…`, `acct_…`, `tr_…`,
    /// `fee_…`, `trr_…`), as the API would serve it.
    pub fn object(&self, id: &str) -> Option<Value> {
        self.lock().objects.get(id).map(|s| s.value.clone())
    }

    /// Stores an object as given (a recorded payload, or a state the API cannot reach), on
    /// the platform (`owner` `None`) or on a connected account; it is served by its `id`.
    pub fn put_object(&self, owner: Option<&str>, object: Value) {
        assert!(
            object["id"].is_string() && object["object"].is_string(),
            "an object has an id and an object type"
        );
        self.lock().put(owner.map(str::to_owned), object);
    }

    /// The `Stripe-Signature` header the fake would send for `body` at `timestamp`.
    pub fn signature(&self, body: &str, timestamp: i64) -> String {
        delivery::sign(&self.lock().webhook_secrets, timestamp, body)
    }

    /// The customer pays the open session by card: the PaymentIntent succeeds, the charge
    /// (with the transfer and the application fee of a destination charge) is made, and
    /// `checkout.session.completed` (`payment_status=paid`) is delivered.
    pub async fn pay(&self, session: &str) -> Payment {
        self.pay_with(session, flows::Method::Card).await
    }

    /// The customer pays by a delayed method: `checkout.session.completed` with
    /// `payment_status=unpaid`, the PaymentIntent `processing`; [`Self::settle_async`] ends it.
    pub async fn pay_async(&self, session: &str) -> Payment {
        self.pay_with(session, flows::Method::Delayed).await
    }

    async fn pay_with(&self, session: &str, method: flows::Method) -> Payment {
        let (paid, indexes) = {
            let mut state = self.lock();
            let (paid, emits) = flows::pay(&mut state, session, method, now())
                .unwrap_or_else(|e| panic!("FakeStripe::pay: {e}"));
            (paid, state.emit(emits, None, now()))
        };
        Payment {
            session: session.to_owned(),
            payment_intent: paid.payment_intent,
            charge: paid.charge,
            events: self.deliver(indexes, || Signing::Secrets).await,
        }
    }

    /// A delayed payment settles: `checkout.session.async_payment_succeeded` (the charge
    /// succeeds) or `…_failed`.
    pub async fn settle_async(&self, session: &str, succeeded: bool) -> Vec<SentEvent> {
        self.happen(
            |state| flows::settle(state, session, succeeded, now()),
            "settle_async",
        )
        .await
    }

    /// The open session passes its `expires_at`: `checkout.session.expired`, with no request.
    pub async fn lapse(&self, session: &str) -> SentEvent {
        let mut events = self
            .happen(|state| flows::lapse(state, session), "lapse")
            .await;
        events.remove(0)
    }

    /// Disputes the payment's charge (or closes its open dispute); returns the dispute id
    /// (`dp_…`) and the events delivered (`charge.dispute.created`, `charge.dispute.closed`).
    pub async fn dispute(
        &self,
        payment_intent: &str,
        outcome: DisputeOutcome,
    ) -> (String, Vec<SentEvent>) {
        let (id, indexes) = {
            let mut state = self.lock();
            let (id, emits) = flows::dispute(&mut state, payment_intent, outcome, now())
                .unwrap_or_else(|e| panic!("FakeStripe::dispute: {e}"));
            (id, state.emit(emits, None, now()))
        };
        (id, self.deliver(indexes, || Signing::Secrets).await)
    }

    /// The account finishes onboarding: charges and payouts enabled, nothing due;
    /// `account.updated` as a Connect event (top-level `account`).
    pub async fn complete_onboarding(&self, account: &str) -> SentEvent {
        self.update_account(account, AccountStatus::onboarded())
            .await
    }

    /// The account moves to `status` (restricted, disabled, past due …): `account.updated`.
    pub async fn update_account(&self, account: &str, status: AccountStatus) -> SentEvent {
        let mut events = self
            .happen(
                |state| flows::update_account(state, account, &status),
                "update_account",
            )
            .await;
        events.remove(0)
    }

    /// A succeeded refund fails at the bank: `refund.updated` (status `failed`), `refund.failed`.
    pub async fn fail_refund(&self, refund: &str) -> Vec<SentEvent> {
        self.happen(|state| flows::fail_refund(state, refund), "fail_refund")
            .await
    }

    async fn happen(
        &self,
        f: impl FnOnce(&mut State) -> Result<Vec<Emit>, String>,
        what: &str,
    ) -> Vec<SentEvent> {
        let indexes = {
            let mut state = self.lock();
            let emits = f(&mut state).unwrap_or_else(|e| panic!("FakeStripe::{what}: {e}"));
            state.emit(emits, None, now())
        };
        self.deliver(indexes, || Signing::Secrets).await
    }

    /// An event as Stripe would send it, at the fake's API version, for `object`; a Connect
    /// event when `account` is given. Send it with [`Self::send_event`].
    pub fn build_event(&self, kind: &str, object: Value, account: Option<&str>) -> Value {
        self.build_event_at(kind, object, account, API_VERSION)
    }

    /// [`Self::build_event`] labelled with another `api_version` (say `2024-06-20`), as an
    /// endpoint pinned to an older version receives; the object is sent as given.
    pub fn build_event_at(
        &self,
        kind: &str,
        object: Value,
        account: Option<&str>,
        api_version: &str,
    ) -> Value {
        let mut event = state::envelope(
            &Emit::new("", &object).account(account.map(str::to_owned)),
            api_version,
            now(),
            None,
            None,
        );
        event["type"] = Value::String(kind.to_owned());
        event
    }

    /// Records and delivers an event payload, signed with the configured secrets.
    pub async fn send_event(&self, event: Value) -> SentEvent {
        let index = self.lock().record_event(event);
        self.deliver(vec![index], || Signing::Secrets)
            .await
            .remove(0)
    }

    /// Delivers `body` exactly as given with this `Stripe-Signature` header (or none):
    /// forgeries, stale timestamps, bodies changed after signing.
    pub async fn send_raw(&self, body: &str, signature: Option<&str>) -> SentEvent {
        let payload = serde_json::from_str(body).unwrap_or(Value::Null);
        let index = self.lock().record_raw(payload, body.to_owned());
        let header = signature.map(str::to_owned);
        self.deliver(vec![index], move || Signing::Fixed(header.clone()))
            .await
            .remove(0)
    }

    /// Delivers an event again (the same bytes, signed afresh), as Stripe retries.
    pub async fn redeliver(&self, event_id: &str) -> SentEvent {
        let index = self
            .lock()
            .events
            .iter()
            .position(|e| e.id == event_id)
            .unwrap_or_else(|| panic!("FakeStripe::redeliver: no event {event_id}"));
        self.deliver(vec![index], || Signing::Secrets)
            .await
            .remove(0)
    }

    /// Waits until every queued delivery (those API calls caused, too) was answered.
    pub async fn flush(&self) {
        let mut pending = self.shared.pending.subscribe();
        let _ = pending.wait_for(|n| *n == 0).await;
    }

    /// Stops the server (gracefully) and the delivery worker.
    pub async fn stop(mut self) {
        self.server.stop().await;
        self.worker.abort();
    }

    async fn deliver(&self, indexes: Vec<usize>, signing: impl Fn() -> Signing) -> Vec<SentEvent> {
        let mut waits = Vec::new();
        for &index in &indexes {
            let (done, wait) = oneshot::channel();
            http::queue(&self.shared, index, signing(), Some(done));
            waits.push(wait);
        }
        for wait in waits {
            let _ = wait.await;
        }
        let state = self.lock();
        indexes.iter().map(|&i| state.events[i].clone()).collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.state.lock().unwrap()
    }
}

impl Drop for FakeStripe {
    fn drop(&mut self) {
        self.worker.abort();
    }
}
