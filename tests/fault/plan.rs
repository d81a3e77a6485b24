//! What the providers tell Lyceum about each order, and what Lyceum must end with.
//!
//! Each sandbox order gets a fate — paid; declined first and then paid; paid and reported again
//! under a new event id; refunded in part, in full, or in two parts; disputed and won or lost —
//! or none at all: a few orders only ever receive forged deliveries and must stay pending.
//! The events are the sandbox's wire format, signed later with its webhook secret. Stripe's
//! orders get theirs from the fake Stripe ([`crate::stripe_side`]).

use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{Rng, RngExt};
use serde_json::{Value, json};

use crate::setup::{Gw, Order};

/// What an order must look like once every genuine event was applied (exactly once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub status: &'static str,
    pub paid: i64,
    pub refunded: i64,
    /// Whether its buyer may open the course.
    pub access: bool,
    /// Sandbox orders: the ids of every genuine event about it, which are exactly the payment
    /// events Lyceum must record for it. Stripe orders: empty (the gateway splits a refund's
    /// events into one per refund it lists).
    pub event_ids: Vec<String>,
    /// How many refunds (and lost disputes) give money back.
    pub refunds: usize,
}

impl Expected {
    /// An order nobody paid: only forgeries (or nothing) reached it.
    pub fn untouched() -> Self {
        Self {
            status: "pending",
            paid: 0,
            refunded: 0,
            access: false,
            event_ids: Vec::new(),
            refunds: 0,
        }
    }

    /// Paid `total`, of which `refunded` went back by `refunds` refunds.
    pub fn settled(total: i64, refunded: i64, refunds: usize) -> Self {
        let (status, access) = if refunded == 0 {
            ("paid", true)
        } else if refunded >= total {
            ("refunded", false)
        } else {
            ("partially_refunded", true)
        };
        Self {
            status,
            paid: total,
            refunded,
            access,
            event_ids: Vec::new(),
            refunds,
        }
    }
}

/// One genuine provider event, as delivered (the same bytes every time).
#[derive(Debug, Clone)]
pub struct Event {
    pub gateway: Gw,
    pub id: String,
    pub body: Arc<[u8]>,
}

/// How a forged delivery is made.
#[derive(Debug, Clone)]
pub enum Forgery {
    /// Signed with a secret that is not the provider's.
    WrongSecret,
    /// Signed by the provider over `signed`, delivered with another body.
    Altered { signed: Arc<[u8]> },
    /// Signed by the provider an hour ago (a replay past the tolerance).
    Stale,
    /// No signature header.
    Unsigned,
}

impl Forgery {
    pub fn nth(n: usize, signed: Arc<[u8]>) -> Self {
        match n % 4 {
            0 => Self::WrongSecret,
            1 => Self::Altered { signed },
            2 => Self::Stale,
            _ => Self::Unsigned,
        }
    }
}

/// A delivery no provider made: it must be refused (400) and change nothing.
#[derive(Debug, Clone)]
pub struct Forged {
    pub gateway: Gw,
    pub body: Arc<[u8]>,
    pub how: Forgery,
}

/// The sandbox's side of the storm.
#[derive(Debug, Default)]
pub struct Sandbox {
    pub events: Vec<Event>,
    pub forged: Vec<Forged>,
    /// `(order index, expected)` for every sandbox order.
    pub expected: Vec<(usize, Expected)>,
}

/// The order kept for the database outage: its payment is delivered only then.
pub struct Held {
    pub order: usize,
    pub event: Event,
}

fn new_id(rng: &mut StdRng, prefix: &str) -> String {
    format!("{prefix}_{:032x}", rng.random::<u128>())
}

/// A sandbox event body, as the sandbox posts it.
fn body(
    id: &str,
    kind: &str,
    order: &Order,
    payment: &str,
    amount: i64,
    created: i64,
    extra: Value,
) -> Arc<[u8]> {
    let mut data = json!({
        "session": order.session,
        "order_id": order.id,
        "tenant_id": order.tenant_id,
        "amount": {"amount": amount, "currency": order.currency},
        "payment_id": payment,
    });
    if let (Some(data), Some(extra)) = (data.as_object_mut(), extra.as_object()) {
        data.extend(extra.clone());
    }
    let event = json!({"id": id, "type": kind, "created": created, "data": data});
    serde_json::to_vec(&event).unwrap_or_default().into()
}

/// Plans the sandbox orders (`indices` into `orders`); the first is held for the outage.
pub fn sandbox(rng: &mut StdRng, orders: &[Order], indices: &[usize]) -> (Sandbox, Held) {
    let mut plan = Sandbox::default();
    let now = chrono::Utc::now().timestamp();
    let mut held = None;
    for (n, &index) in indices.iter().enumerate() {
        let order = &orders[index];
        let payment = new_id(rng, "sbp");
        let mut events = Vec::new();
        let mut event = |rng: &mut StdRng, kind: &str, pay: &str, amount: i64, at: i64, extra| {
            let id = new_id(rng, "evt");
            let body = body(&id, kind, order, pay, amount, now + at, extra);
            events.push(Event {
                gateway: Gw::Sandbox,
                id,
                body,
            });
        };
        if n == 0 {
            event(
                rng,
                "payment.succeeded",
                &payment,
                order.total,
                0,
                json!({}),
            );
            held = events.pop().map(|event| Held {
                order: index,
                event,
            });
            plan.expected.push((index, Expected::untouched()));
            forge_payment(rng, &mut plan, order, n, now);
            continue;
        }
        if n % 20 == 10 {
            // Only forgeries ever reach it.
            plan.expected.push((index, Expected::untouched()));
            forge_payment(rng, &mut plan, order, n, now);
            continue;
        }
        if rng.random_bool(0.15) {
            // A declined card first: the hosted page stays open, and the next card succeeds.
            event(
                rng,
                "payment.failed",
                &order.session,
                order.total,
                -60,
                json!({}),
            );
        }
        event(
            rng,
            "payment.succeeded",
            &payment,
            order.total,
            0,
            json!({}),
        );
        if rng.random_bool(0.1) {
            // The same payment reported again under another event id (a provider's
            // reconciliation does this): recorded, but it is the same money.
            event(
                rng,
                "payment.succeeded",
                &payment,
                order.total,
                5,
                json!({}),
            );
        }
        let roll: f64 = rng.random();
        let third = order.total / 3;
        let mut refund = |rng: &mut StdRng, amount: i64, at: i64| {
            let extra = json!({"refund_id": new_id(rng, "sbr")});
            event(rng, "refund.succeeded", &payment, amount, at, extra);
        };
        let (refunded, refunds) = if roll < 0.15 {
            refund(rng, order.total, 60);
            (order.total, 1)
        } else if roll < 0.27 {
            refund(rng, third, 60);
            (third, 1)
        } else if roll < 0.35 {
            refund(rng, third, 60);
            refund(rng, order.total - third, 120);
            (order.total, 2)
        } else if roll < 0.43 {
            refund(rng, third, 60);
            refund(rng, third, 120);
            (2 * third, 2)
        } else if roll < 0.53 {
            let lost = roll < 0.48;
            let dispute = json!({"dispute_id": new_id(rng, "sbd")});
            event(
                rng,
                "dispute.created",
                &payment,
                order.total,
                60,
                dispute.clone(),
            );
            let end = if lost { "dispute.lost" } else { "dispute.won" };
            event(rng, end, &payment, order.total, 120, dispute);
            if lost { (order.total, 1) } else { (0, 0) }
        } else {
            (0, 0)
        };
        let mut expected = Expected::settled(order.total, refunded, refunds);
        expected.event_ids = events.iter().map(|e| e.id.clone()).collect();
        plan.events.extend(events);
        plan.expected.push((index, expected));
        if rng.random_bool(0.04) {
            forge_refund(rng, &mut plan, order, &payment, n, now);
        }
    }
    let held = held.unwrap_or_else(|| unreachable!("there is at least one sandbox order"));
    (plan, held)
}

/// A forged payment of `order` (which no genuine event ever pays before the outage).
fn forge_payment(rng: &mut StdRng, plan: &mut Sandbox, order: &Order, n: usize, now: i64) {
    let payment = new_id(rng, "sbp");
    let id = new_id(rng, "evt");
    let paid = body(
        &id,
        "payment.succeeded",
        order,
        &payment,
        order.total,
        now,
        json!({}),
    );
    // What the provider really signed: a declined payment.
    let declined = body(
        &id,
        "payment.failed",
        order,
        &order.session,
        order.total,
        now,
        json!({}),
    );
    for k in 0..2 {
        plan.forged.push(Forged {
            gateway: Gw::Sandbox,
            body: Arc::clone(&paid),
            how: Forgery::nth(n + k, Arc::clone(&declined)),
        });
    }
}

/// A forged full refund of a paid `order`.
fn forge_refund(
    rng: &mut StdRng,
    plan: &mut Sandbox,
    order: &Order,
    payment: &str,
    n: usize,
    now: i64,
) {
    let id = new_id(rng, "evt");
    let extra = json!({"refund_id": new_id(rng, "sbr")});
    let full = body(
        &id,
        "refund.succeeded",
        order,
        payment,
        order.total,
        now,
        extra.clone(),
    );
    let cent = body(&id, "refund.succeeded", order, payment, 1, now, extra);
    plan.forged.push(Forged {
        gateway: Gw::Sandbox,
        body: full,
        how: Forgery::nth(n, cent),
    });
}

/// A random `u64`, to seed a run that was not given one.
pub fn fresh_seed() -> u64 {
    rand::rng().next_u64()
}
