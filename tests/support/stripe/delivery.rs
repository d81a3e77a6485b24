//! Webhook delivery: one worker POSTs the queued events to the target in order, each signed
//! afresh (`Stripe-Signature: t=…,v1=…`, one `v1` per configured secret) over the exact bytes
//! recorded, and writes down what the server answered.

use std::sync::Arc;
use std::time::Duration;

use lyceum_gateway_core::signature;
use tokio::sync::{mpsc, oneshot};

use super::Shared;

/// How a queued event is signed.
#[derive(Debug)]
pub enum Signing {
    /// With every configured webhook secret, at the time of sending.
    Secrets,
    /// With this header as given (or none): forgeries and replays.
    Fixed(Option<String>),
}

#[derive(Debug)]
pub struct Job {
    pub index: usize,
    pub signing: Signing,
    pub done: Option<oneshot::Sender<()>>,
}

/// The `Stripe-Signature` header for `body` at `timestamp` with `secrets`.
pub fn sign(secrets: &[String], timestamp: i64, body: &str) -> String {
    let keys: Vec<&[u8]> = secrets.iter().map(|s| s.as_bytes()).collect();
    signature::sign(&keys, timestamp, body.as_bytes())
        .expect("the fake Stripe has at least one non-empty webhook secret")
}

pub async fn worker(shared: Arc<Shared>, mut jobs: mpsc::UnboundedReceiver<Job>) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        // A redirect is not an acknowledgement.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("HTTP client");
    while let Some(job) = jobs.recv().await {
        deliver(&shared, &client, &job).await;
        if let Some(done) = job.done {
            let _ = done.send(());
        }
        shared.pending.send_modify(|n| *n = n.saturating_sub(1));
    }
}

async fn deliver(shared: &Shared, client: &reqwest::Client, job: &Job) {
    let (target, body, header) = {
        let state = shared.state.lock().unwrap();
        let event = &state.events[job.index];
        let Some(target) = state.target.clone() else {
            return;
        };
        if !state.enabled(&event.kind) {
            return;
        }
        let header = match &job.signing {
            Signing::Secrets => Some(sign(
                &state.webhook_secrets,
                chrono::Utc::now().timestamp(),
                &event.body,
            )),
            Signing::Fixed(header) => header.clone(),
        };
        (target, event.body.clone(), header)
    };
    let mut request = client
        .post(&target)
        .header("content-type", "application/json; charset=utf-8")
        .header(
            "user-agent",
            "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        )
        .body(body);
    if let Some(header) = header {
        request = request.header("stripe-signature", header);
    }
    let answer = request.send().await.ok().map(|r| r.status().as_u16());
    shared.state.lock().unwrap().events[job.index]
        .answers
        .push(answer);
}
