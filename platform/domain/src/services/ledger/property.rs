//! The ledger's rule over 100 000 random orders: currencies with 0, 2 and 3 decimals, random
//! fee plans, lines and co-instructors' shares, settlements, partial refunds and disputes,
//! delivered in a random order with duplicates, with the hold ending at a random point.
//! After every event the posted difference sums to zero; at the end the books equal those of
//! the in-order story, no minor unit is created or lost, and the platform's fee equals a
//! reference computed here from its definition, independently of the product's method.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use lyceum_gateway_core::{Currency, EventKind, Money, Settlement};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};

use super::Account;
use super::books::{self, Key, Line, Positions, Standing, Terms};
use crate::ids::UserId;
use crate::services::commerce::pricing::{FeeTerms, collectable_fee, platform_fee};
use crate::services::commerce::state::{Fact, OrderFacts};

const ORDERS: usize = 100_000;

/// The fee on `kept` of an order of `total` carrying `fee`: of the two whole minor units
/// around `fee × min(kept, total) ÷ total`, the nearer (the even one on a tie), found by
/// comparing distances in `u128`, never by dividing with a remainder as the product does.
fn reference_fee(fee: i64, total: i64, kept: i64) -> i64 {
    if total <= 0 || kept <= 0 || fee <= 0 {
        return 0;
    }
    let (fee, total) = (fee.min(total) as u128, total as u128);
    let exact = fee * (kept as u128).min(total); // in 1/total minor units
    let below = exact / total;
    let distance = |c: u128| (c * total).abs_diff(exact);
    let nearest = match distance(below).cmp(&distance(below + 1)) {
        std::cmp::Ordering::Less => below,
        std::cmp::Ordering::Greater => below + 1,
        std::cmp::Ordering::Equal if below % 2 == 0 => below,
        std::cmp::Ordering::Equal => below + 1,
    };
    (nearest as i64).min(kept)
}

fn user(n: u128) -> UserId {
    UserId::from(uuid::Uuid::from_u128(n))
}

fn at(second: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + second, 0).unwrap()
}

struct Order {
    terms: Terms,
    story: Vec<Fact>,
}

fn fact(kind: EventKind, amount: i64, id: String, dispute: Option<&str>, second: i64) -> Fact {
    Fact {
        kind,
        amount,
        payment_id: "pay".into(),
        refund_id: (kind == EventKind::RefundSucceeded).then(|| id.clone()),
        dispute_id: dispute.map(str::to_owned),
        event_id: id,
        occurred_at: at(second),
    }
}

fn random_order(rng: &mut StdRng) -> Order {
    let currency = Currency::parse(["JPY", "USD", "KWD"][rng.random_range(0..3)]).unwrap();
    let scale = 10_i64.pow(currency.exponent());
    let total = match rng.random_range(0..4) {
        0 => rng.random_range(1..100),
        1 => rng.random_range(1..10_000 * scale),
        2 => rng.random_range(1..1_000_000 * scale),
        _ => rng.random_range(1..10_i64.pow(15)),
    };
    let fee_terms = FeeTerms {
        bps: rng.random_range(0..=3_000),
        fixed: Money::new(
            if rng.random_bool(0.5) {
                0
            } else {
                rng.random_range(0..100 * scale)
            },
            currency,
        )
        .unwrap(),
    };
    let step = if rng.random_bool(0.2) { 10 } else { 1 };
    let fee = collectable_fee(
        platform_fee(Money::new(total, currency).unwrap(), &fee_terms).unwrap(),
        step,
    )
    .amount
    .get();
    // Up to three lines whose amounts sum to the total, each with up to three co-instructors.
    let count = rng.random_range(1..=3_usize).min(total as usize);
    let mut cuts: Vec<i64> = (1..count).map(|_| rng.random_range(1..total)).collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut bounds = vec![0];
    bounds.extend(cuts);
    bounds.push(total);
    let lines = bounds
        .windows(2)
        .map(|w| {
            let mut left = 10_000_u16;
            let shares = (0..rng.random_range(0..=3))
                .filter_map(|i| {
                    if left == 0 {
                        return None;
                    }
                    let bps = rng.random_range(1..=left);
                    left -= bps;
                    Some((user(10 + i), bps))
                })
                .collect();
            Line {
                amount: w[1] - w[0],
                shares,
            }
        })
        .collect();
    let settlement =
        [Settlement::Platform, Settlement::Split, Settlement::Seller][rng.random_range(0..3)];
    // The story: a payment (sometimes short), refunds up to what was paid, maybe a dispute.
    let paid = if rng.random_bool(0.1) {
        rng.random_range(1..=total)
    } else {
        total
    };
    let mut story = vec![fact(EventKind::PaymentSucceeded, paid, "p".into(), None, 1)];
    let mut refunded = 0;
    for r in 0..rng.random_range(0..=3) {
        if refunded >= paid {
            break;
        }
        let amount = rng.random_range(1..=paid - refunded);
        refunded += amount;
        story.push(fact(
            EventKind::RefundSucceeded,
            amount,
            format!("r{r}"),
            None,
            2 + r,
        ));
    }
    if rng.random_bool(0.3) {
        let amount = rng.random_range(1..=paid);
        story.push(fact(
            EventKind::DisputeOpened,
            amount,
            "do".into(),
            Some("d"),
            10,
        ));
        match rng.random_range(0..3) {
            0 => story.push(fact(
                EventKind::DisputeWon,
                amount,
                "dw".into(),
                Some("d"),
                11,
            )),
            1 => story.push(fact(
                EventKind::DisputeLost,
                amount,
                "dl".into(),
                Some("d"),
                11,
            )),
            _ => {}
        }
    }
    Order {
        terms: Terms {
            total,
            fee,
            settlement,
            owner: user(1),
            lines,
        },
        story,
    }
}

fn standing(facts: &OrderFacts, released: bool) -> Standing {
    Standing {
        captured: facts.paid(),
        given_back: facts.refunded(),
        held: facts.held(),
        released,
    }
}

/// Delivers `deliveries` one by one as the pipeline does, posting each difference; the hold
/// ends after delivery `release_after` (as the release job would post it). Returns the books.
fn post_all(order: &Order, deliveries: &[Fact], release_after: usize) -> Positions {
    let mut posted = Positions::new();
    let mut seen = Vec::new();
    let mut released = false;
    let post = |facts: &OrderFacts, released: bool, posted: &mut Positions| {
        let target = books::positions(&order.terms, standing(facts, released));
        let delta = books::difference(&target, posted);
        assert_eq!(
            delta.iter().map(|(_, a)| i128::from(*a)).sum::<i128>(),
            0,
            "an unbalanced transaction: {delta:?}"
        );
        for (key, amount) in delta {
            *posted.entry(key).or_insert(0) += amount;
        }
        posted.retain(|_, a| *a != 0);
    };
    for (i, delivery) in deliveries.iter().enumerate() {
        if !seen.contains(delivery) {
            seen.push(delivery.clone());
        }
        let facts = OrderFacts::from_facts(&seen);
        post(&facts, released, &mut posted);
        if i == release_after && facts.paid() > 0 {
            released = true;
            post(&facts, released, &mut posted);
        }
    }
    if !released {
        post(&OrderFacts::from_facts(&seen), true, &mut posted);
    }
    posted
}

#[test]
fn a_hundred_thousand_random_orders_balance_and_lose_nothing() {
    let mut rng = StdRng::seed_from_u64(0x1ed9e5);
    for n in 0..ORDERS {
        let order = random_order(&mut rng);
        let in_order = post_all(&order, &order.story, 0);
        // The same story shuffled, with a duplicate, the hold ending anywhere.
        let mut shuffled = order.story.clone();
        shuffled.shuffle(&mut rng);
        let dup = shuffled[rng.random_range(0..shuffled.len())].clone();
        shuffled.insert(rng.random_range(0..=shuffled.len()), dup);
        let release_after = rng.random_range(0..shuffled.len());
        let books = post_all(&order, &shuffled, release_after);
        assert_eq!(
            books, in_order,
            "order {n}: arrival order changed the books"
        );

        let facts = OrderFacts::from_facts(&order.story);
        let kept = (facts.paid() - facts.refunded()).max(0);
        let at = |key: Key| books.get(&key).copied().unwrap_or(0);
        let platform = |account| at(Key::platform(account));
        // Money in equals money attributed: the provider's side and the payees' side.
        assert_eq!(
            platform(Account::Clearing) + platform(Account::Disputes),
            kept,
            "order {n}"
        );
        let fee = -platform(Account::PlatformFees);
        assert_eq!(
            fee,
            reference_fee(order.terms.fee, order.terms.total, kept),
            "order {n}: {:?}",
            order.terms
        );
        let mut payees: BTreeMap<UserId, i64> = BTreeMap::new();
        for (key, amount) in &books {
            if let Some(payee) = key.payee {
                if facts.held() == 0 {
                    assert_ne!(key.account, Account::Pending, "order {n}: released books");
                }
                *payees.entry(payee).or_insert(0) += amount;
            }
        }
        assert_eq!(
            fee + payees.values().map(|a| -a).sum::<i64>(),
            kept,
            "order {n}: a minor unit created or lost"
        );
        // Every co-instructor's part is their basis points of their lines' part, rounded down.
        let sellers = kept - fee;
        let weight: i128 = order.terms.lines.iter().map(|l| i128::from(l.amount)).sum();
        let mut expected: BTreeMap<UserId, i64> = BTreeMap::new();
        for line in &order.terms.lines {
            let line_part = i128::from(sellers) * i128::from(line.amount) / weight;
            for (payee, bps) in &line.shares {
                *expected.entry(*payee).or_insert(0) +=
                    i64::try_from(line_part * i128::from(*bps) / 10_000).unwrap();
            }
        }
        for (payee, part) in expected.iter().filter(|(_, p)| **p > 0) {
            assert_eq!(
                -payees.get(payee).copied().unwrap_or(0),
                *part,
                "order {n}: co-instructor {payee}"
            );
        }
        assert!(
            payees
                .iter()
                .filter(|(p, _)| **p != order.terms.owner)
                .all(|(_, a)| *a <= 0),
            "order {n}: a co-instructor owes money"
        );
    }
}
