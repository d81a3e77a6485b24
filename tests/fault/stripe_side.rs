//! Stripe's side of the storm, played on the fake Stripe before a single event is delivered:
//! customers pay their Checkout Sessions, some payments are refunded from the dashboard (in
//! part or in full, with no metadata of ours, so Lyceum traces them through their
//! PaymentIntent) and some are disputed, won or lost. The fake records every event it would
//! send; the storm delivers them. A few orders are never paid and receive only forged
//! `checkout.session.completed` events.

use std::sync::Arc;

use anyhow::{Result, bail};
use lyceum_e2e::stripe::{DisputeOutcome, FakeStripe};
use rand::RngExt;
use rand::rngs::StdRng;
use serde_json::json;

use crate::plan::{Event, Expected, Forged, Forgery};
use crate::setup::{Gw, Order};

pub const KEY: &str = "sk_test_lyceum_fault_check_platform";
pub const WEBHOOK_SECRET: &str = "whsec_lyceum_fault_check_endpoint_0123456789";

#[derive(Debug, Default)]
pub struct Stripe {
    pub events: Vec<Event>,
    pub forged: Vec<Forged>,
    pub expected: Vec<(usize, Expected)>,
}

/// Plays the Stripe orders (`indices` into `orders`) on `fake`.
pub async fn play(
    rng: &mut StdRng,
    fake: &FakeStripe,
    client: &reqwest::Client,
    orders: &[Order],
    indices: &[usize],
) -> Result<Stripe> {
    let mut plan = Stripe::default();
    let before = fake.events().len();
    for (n, &index) in indices.iter().enumerate() {
        let order = &orders[index];
        if n % 25 == 5 {
            plan.expected.push((index, Expected::untouched()));
            forge_completion(fake, &mut plan, order, n)?;
            continue;
        }
        let paid = fake.pay(&order.session).await;
        let intent = paid.payment_intent;
        let roll: f64 = rng.random();
        let third = order.total / 3;
        let expected = if roll < 0.15 {
            refund(fake, client, &intent, order.total).await?;
            Expected::settled(order.total, order.total, 1)
        } else if roll < 0.3 {
            refund(fake, client, &intent, third).await?;
            Expected::settled(order.total, third, 1)
        } else if roll < 0.4 {
            refund(fake, client, &intent, third).await?;
            refund(fake, client, &intent, third).await?;
            Expected::settled(order.total, 2 * third, 2)
        } else if roll < 0.45 {
            fake.dispute(&intent, DisputeOutcome::Lost).await;
            Expected::settled(order.total, order.total, 1)
        } else if roll < 0.5 {
            fake.dispute(&intent, DisputeOutcome::Won).await;
            Expected::settled(order.total, 0, 0)
        } else {
            Expected::settled(order.total, 0, 0)
        };
        plan.expected.push((index, expected));
    }
    plan.events = fake.events()[before..]
        .iter()
        .map(|e| Event {
            gateway: Gw::Stripe,
            id: e.id.clone(),
            body: e.body.as_bytes().into(),
        })
        .collect();
    Ok(plan)
}

/// A refund made in Stripe's dashboard: `POST /v1/refunds` with the platform's key and no
/// metadata.
async fn refund(
    fake: &FakeStripe,
    client: &reqwest::Client,
    intent: &str,
    amount: i64,
) -> Result<()> {
    let response = client
        .post(format!("{}/v1/refunds", fake.base_url()))
        .bearer_auth(KEY)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("payment_intent={intent}&amount={amount}"))
        .send()
        .await?;
    if !response.status().is_success() {
        bail!(
            "the fake Stripe refused a refund: {}",
            response.text().await?
        );
    }
    Ok(())
}

/// Forged `checkout.session.completed` events for an order nobody paid.
fn forge_completion(fake: &FakeStripe, plan: &mut Stripe, order: &Order, n: usize) -> Result<()> {
    let Some(mut session) = fake.object(&order.session) else {
        bail!("the fake Stripe has no session {}", order.session);
    };
    session["status"] = json!("complete");
    session["payment_intent"] = json!(format!("pi_forged_{n}"));
    let mut unpaid = session.clone();
    session["payment_status"] = json!("paid");
    unpaid["payment_status"] = json!("unpaid");
    let event = fake.build_event("checkout.session.completed", session, None);
    let mut signed = event.clone();
    signed["data"]["object"] = unpaid;
    let body: Arc<[u8]> = serde_json::to_vec(&event)?.into();
    let signed: Arc<[u8]> = serde_json::to_vec(&signed)?.into();
    for k in 0..2 {
        plan.forged.push(Forged {
            gateway: Gw::Stripe,
            body: Arc::clone(&body),
            how: Forgery::nth(n + k, Arc::clone(&signed)),
        });
    }
    Ok(())
}
