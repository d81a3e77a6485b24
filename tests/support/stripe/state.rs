//! What the fake Stripe holds: its objects (as the JSON it serves), saved idempotent
//! responses, the request log and every event it built. One mutex guards it all; nothing
//! awaits while holding it.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};

use super::objects;
use super::payments::Split;
use super::{RecordedRequest, SentEvent};

/// The API version the fake's objects and events are shaped for (async-stripe rc.10's pin).
pub const API_VERSION: &str = "2026-09-30.endive";

/// One stored object; `owner` is the connected account it lives on (`Stripe-Account`), or
/// `None` for the platform.
#[derive(Debug, Clone)]
pub struct Stored {
    pub owner: Option<String>,
    pub seq: u64,
    pub value: Value,
}

/// A response saved under an idempotency key, with what it answered.
#[derive(Debug, Clone)]
pub struct Saved {
    pub method: String,
    pub path: String,
    pub params: Value,
    pub status: u16,
    pub body: Value,
}

/// An onboarding page behind an Account Link: single use, expiring.
#[derive(Debug, Clone)]
pub struct Link {
    pub account: String,
    pub refresh_url: String,
    pub return_url: String,
    pub expires_at: i64,
    pub used: bool,
}

/// An event to build: its type, object, the attributes an update changed, and the connected
/// account it comes from (Connect events carry it top-level).
#[derive(Debug, Clone)]
pub struct Emit {
    pub kind: &'static str,
    pub object: Value,
    pub previous: Option<Value>,
    pub account: Option<String>,
}

impl Emit {
    pub fn new(kind: &'static str, object: &Value) -> Self {
        Self {
            kind,
            object: object.clone(),
            previous: None,
            account: None,
        }
    }

    pub fn previous(mut self, previous: Value) -> Self {
        self.previous = Some(previous);
        self
    }

    pub fn account(mut self, account: Option<String>) -> Self {
        self.account = account;
        self
    }
}

#[derive(Debug)]
pub struct State {
    pub secret_key: String,
    /// The fake's own base URL (for its pages).
    pub base: String,
    pub webhook_secrets: Vec<String>,
    pub target: Option<String>,
    /// Event types delivered; `None` delivers all (an endpoint enabled for `*`).
    pub enabled_events: Option<Vec<String>>,
    pub objects: BTreeMap<String, Stored>,
    /// `payment_intent_data` of each session, by session id.
    pub splits: HashMap<String, Split>,
    /// Onboarding pages by their token.
    pub links: HashMap<String, Link>,
    /// Saved responses by (`Stripe-Account`, key): Stripe scopes keys per account.
    pub idempotency: HashMap<(Option<String>, String), Saved>,
    pub requests: Vec<RecordedRequest>,
    pub events: Vec<SentEvent>,
    seq: u64,
}

impl State {
    pub fn new(secret_key: String, base: String, webhook_secrets: Vec<String>) -> Self {
        Self {
            secret_key,
            base,
            webhook_secrets,
            target: None,
            enabled_events: None,
            objects: BTreeMap::new(),
            splits: HashMap::new(),
            links: HashMap::new(),
            idempotency: HashMap::new(),
            requests: Vec::new(),
            events: Vec::new(),
            seq: 0,
        }
    }

    /// Stores (or replaces) an object under its `id`.
    pub fn put(&mut self, owner: Option<String>, value: Value) {
        let id = value["id"].as_str().unwrap_or_default().to_owned();
        self.seq += 1;
        let seq = self.objects.get(&id).map(|s| s.seq).unwrap_or(self.seq);
        self.objects.insert(id, Stored { owner, seq, value });
    }

    /// The object `id` as `owner` may see it (a platform key sees the platform's objects and
    /// the connected accounts themselves; a `Stripe-Account` request sees that account's).
    pub fn get(&self, id: &str, owner: Option<&str>) -> Option<&Value> {
        let stored = self.objects.get(id)?;
        let visible = stored.owner.as_deref() == owner
            || (owner.is_none() && stored.value["object"] == "account");
        visible.then_some(&stored.value)
    }

    /// The object `id` of type `object`, whoever owns it (test controls act as Stripe).
    pub fn find(&self, id: &str, object: &str) -> Option<&Stored> {
        self.objects.get(id).filter(|s| s.value["object"] == object)
    }

    pub fn find_mut(&mut self, id: &str, object: &str) -> Option<&mut Stored> {
        self.objects
            .get_mut(id)
            .filter(|s| s.value["object"] == object)
    }

    /// Objects of a type, newest first.
    pub fn all(&self, object: &str) -> Vec<&Stored> {
        let mut out: Vec<&Stored> = self
            .objects
            .values()
            .filter(|s| s.value["object"] == object)
            .collect();
        out.sort_by_key(|s| std::cmp::Reverse(s.seq));
        out
    }

    /// Builds the events of one operation, serializes each once, and records them; returns
    /// their indexes for delivery. `request` is the API request that caused them (id and
    /// idempotency key), `None` for what happened on Stripe's side (a payment, a dispute).
    pub fn emit(
        &mut self,
        emits: Vec<Emit>,
        request: Option<(&str, Option<&str>)>,
        now: i64,
    ) -> Vec<usize> {
        emits
            .into_iter()
            .map(|e| {
                let (id, key) = request.map_or((None, None), |(id, key)| (Some(id), key));
                let payload = envelope(&e, API_VERSION, now, id, key);
                self.record_event(payload)
            })
            .collect()
    }

    /// Records an event payload as built (serialized once, pretty-printed as Stripe sends).
    pub fn record_event(&mut self, payload: Value) -> usize {
        let body = serde_json::to_string_pretty(&payload).unwrap_or_default();
        self.record_raw(payload, body)
    }

    pub fn record_raw(&mut self, payload: Value, body: String) -> usize {
        self.events.push(SentEvent {
            id: payload["id"].as_str().unwrap_or_default().to_owned(),
            kind: payload["type"].as_str().unwrap_or_default().to_owned(),
            account: payload["account"].as_str().map(str::to_owned),
            api_version: payload["api_version"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            payload,
            body,
            answers: Vec::new(),
        });
        self.events.len() - 1
    }

    pub fn enabled(&self, kind: &str) -> bool {
        self.enabled_events
            .as_ref()
            .is_none_or(|kinds| kinds.iter().any(|k| k == "*" || k == kind))
    }
}

/// An event as Stripe delivers it; `account` only on Connect events.
pub fn envelope(
    e: &Emit,
    api_version: &str,
    created: i64,
    request_id: Option<&str>,
    idempotency_key: Option<&str>,
) -> Value {
    let mut data = json!({"object": e.object});
    if let Some(previous) = &e.previous {
        data["previous_attributes"] = previous.clone();
    }
    let mut event = json!({
        "id": objects::new_id("evt"),
        "object": "event",
        "api_version": api_version,
        "created": created,
        "data": data,
        "livemode": false,
        "pending_webhooks": 1,
        "request": {"id": request_id, "idempotency_key": idempotency_key},
        "type": e.kind,
    });
    if let Some(account) = &e.account {
        event["account"] = json!(account);
    }
    event
}
