//! The order state machine, as a fold over verified payment facts.
//!
//! An order's status is a function of the *set* of facts its provider told us (payments by id,
//! refunds by id, disputes by id, failure, expiry), never of the order they arrived in. So a
//! duplicate changes nothing, a refund that overtakes its payment waits for it, and a `failed`
//! after `succeeded` does not take access away. Every event kind is matched explicitly.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use lyceum_gateway_core::EventKind;
use sea_orm::sea_query::StringLen;
use sea_orm::{DeriveActiveEnum, EnumIter};

/// Where an order stands. Stored as its `as_str` name (`orders.status`, `order_audit`), so a
/// row always reads back as one of these or fails to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
pub enum OrderStatus {
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "paid")]
    Paid,
    #[sea_orm(string_value = "partially_paid")]
    PartiallyPaid,
    #[sea_orm(string_value = "failed")]
    Failed,
    #[sea_orm(string_value = "expired")]
    Expired,
    #[sea_orm(string_value = "refunded")]
    Refunded,
    #[sea_orm(string_value = "partially_refunded")]
    PartiallyRefunded,
    #[sea_orm(string_value = "disputed")]
    Disputed,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Paid => "paid",
            Self::PartiallyPaid => "partially_paid",
            Self::Failed => "failed",
            Self::Expired => "expired",
            Self::Refunded => "refunded",
            Self::PartiallyRefunded => "partially_refunded",
            Self::Disputed => "disputed",
        }
    }

    /// Whether a payment may still arrive through the order's checkout session: it is
    /// pending, or declined while the provider's page still takes another card.
    pub fn awaits_payment(self) -> bool {
        match self {
            Self::Pending | Self::Failed => true,
            Self::Paid
            | Self::PartiallyPaid
            | Self::Expired
            | Self::Refunded
            | Self::PartiallyRefunded
            | Self::Disputed => false,
        }
    }

    /// What the order's lines grant.
    pub fn access(self) -> Access {
        match self {
            Self::Paid | Self::PartiallyRefunded => Access::Active,
            Self::Disputed => Access::Suspended,
            Self::Pending | Self::PartiallyPaid | Self::Failed | Self::Expired | Self::Refunded => {
                Access::None
            }
        }
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the entitlements of an order's lines should be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No entitlement, or a revoked one.
    None,
    Active,
    /// Kept but not usable while a dispute is open.
    Suspended,
}

/// One applied provider fact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    pub kind: EventKind,
    /// Minor units in the order's currency (facts in another currency are never applied).
    pub amount: i64,
    pub payment_id: String,
    pub refund_id: Option<String>,
    pub dispute_id: Option<String>,
    /// Identifies a fact that names no refund or dispute id.
    pub event_id: String,
    pub occurred_at: DateTime<Utc>,
}

impl From<&lyceum_gateway_core::GatewayEvent> for Fact {
    /// A provider's event as a fact (its amount in whatever currency it names: the caller
    /// keeps only events in the order's).
    fn from(e: &lyceum_gateway_core::GatewayEvent) -> Self {
        Self {
            kind: e.kind,
            amount: e.amount.amount.get(),
            payment_id: e.provider_payment_id.clone(),
            refund_id: e.refund_id.clone(),
            dispute_id: e.dispute_id.clone(),
            event_id: e.provider_event_id.clone(),
            occurred_at: e.occurred_at,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Dispute {
    amount: i64,
    opened: bool,
    won: bool,
    lost: bool,
}

/// Everything known about an order's money, whatever order it was learned in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderFacts {
    payments: BTreeMap<String, (i64, DateTime<Utc>)>,
    refunds: BTreeMap<String, i64>,
    disputes: BTreeMap<String, Dispute>,
    failed: bool,
    expired: bool,
}

impl OrderFacts {
    pub fn from_facts<'a>(facts: impl IntoIterator<Item = &'a Fact>) -> Self {
        let mut all = Self::default();
        for fact in facts {
            all.record(fact);
        }
        all
    }

    /// Adds a fact; recording the same fact again changes nothing.
    pub fn record(&mut self, fact: &Fact) {
        match fact.kind {
            EventKind::PaymentSucceeded => {
                let entry = self
                    .payments
                    .entry(fact.payment_id.clone())
                    .or_insert((fact.amount, fact.occurred_at));
                entry.0 = entry.0.max(fact.amount);
                entry.1 = entry.1.min(fact.occurred_at);
            }
            EventKind::PaymentFailed => self.failed = true,
            EventKind::PaymentExpired => self.expired = true,
            EventKind::RefundSucceeded => {
                let key = fact
                    .refund_id
                    .clone()
                    .unwrap_or_else(|| fact.event_id.clone());
                let entry = self.refunds.entry(key).or_insert(fact.amount);
                *entry = (*entry).max(fact.amount);
            }
            EventKind::DisputeOpened => self.dispute(fact).opened = true,
            EventKind::DisputeWon => self.dispute(fact).won = true,
            EventKind::DisputeLost => self.dispute(fact).lost = true,
        }
    }

    fn dispute(&mut self, fact: &Fact) -> &mut Dispute {
        let key = fact
            .dispute_id
            .clone()
            .unwrap_or_else(|| fact.payment_id.clone());
        let dispute = self.disputes.entry(key).or_default();
        dispute.amount = dispute.amount.max(fact.amount);
        dispute
    }

    /// Whether the order ran out (the provider's session, or our own deadline).
    pub fn expired(&self) -> bool {
        self.expired
    }

    /// Whether any payment was recorded (a zero-total order's fulfilment counts).
    pub fn has_payment(&self) -> bool {
        !self.payments.is_empty()
    }

    /// Captured, in minor units. Facts are sums a provider reports and cannot be refused, so
    /// they saturate at `i64::MAX` rather than wrap (or panic) on an absurd report.
    pub fn paid(&self) -> i64 {
        saturating_sum(self.payments.values().map(|(amount, _)| *amount))
    }

    /// Given back, by refund or lost dispute, never more than was captured.
    pub fn refunded(&self) -> i64 {
        let refunds = saturating_sum(self.refunds.values().copied());
        let chargebacks =
            saturating_sum(self.disputes.values().filter(|d| d.lost).map(|d| d.amount));
        refunds.saturating_add(chargebacks).min(self.paid())
    }

    /// Withdrawn by a provider for disputes still open (neither won nor lost).
    pub fn held(&self) -> i64 {
        saturating_sum(
            self.disputes
                .values()
                .filter(|d| d.opened && !d.won && !d.lost)
                .map(|d| d.amount),
        )
    }

    /// When money was first captured: access periods start here.
    pub fn paid_at(&self) -> Option<DateTime<Utc>> {
        self.payments.values().map(|(_, at)| *at).min()
    }

    /// The status of an order of `total` minor units with these facts.
    pub fn status(&self, total: i64) -> OrderStatus {
        if self.payments.is_empty() {
            return if self.failed {
                OrderStatus::Failed
            } else if self.expired {
                OrderStatus::Expired
            } else {
                OrderStatus::Pending
            };
        }
        let paid = self.paid();
        let refunded = self.refunded();
        // A lost dispute is a forced refund; an open one freezes access.
        if self.disputes.values().any(|d| d.lost) || (paid > 0 && refunded >= paid) {
            return OrderStatus::Refunded;
        }
        if self.disputes.values().any(|d| d.opened && !d.won) {
            return OrderStatus::Disputed;
        }
        if paid < total {
            OrderStatus::PartiallyPaid
        } else if refunded > 0 {
            OrderStatus::PartiallyRefunded
        } else {
            OrderStatus::Paid
        }
    }
}

fn saturating_sum(amounts: impl Iterator<Item = i64>) -> i64 {
    amounts.fold(0, i64::saturating_add)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The API shows `as_str`; the database stores the sea-orm value: they must be one name.
    #[test]
    fn shown_and_stored_names_agree() {
        use sea_orm::{ActiveEnum, Iterable};
        for status in OrderStatus::iter() {
            assert_eq!(status.to_value(), status.as_str());
            assert_eq!(
                OrderStatus::try_from_value(&status.to_value()).unwrap(),
                status
            );
        }
        assert!(OrderStatus::try_from_value(&"on_hold".to_owned()).is_err());
    }

    const TOTAL: i64 = 4900;

    fn at(second: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + second, 0).unwrap()
    }

    fn fact(kind: EventKind, amount: i64, id: &str, second: i64) -> Fact {
        Fact {
            kind,
            amount,
            payment_id: "pay_1".into(),
            refund_id: matches!(kind, EventKind::RefundSucceeded).then(|| format!("re_{id}")),
            dispute_id: matches!(
                kind,
                EventKind::DisputeOpened | EventKind::DisputeWon | EventKind::DisputeLost
            )
            .then(|| "dp_1".to_owned()),
            event_id: format!("evt_{id}"),
            occurred_at: at(second),
        }
    }

    /// The provider events of one order's life, in the order they happened.
    fn stories() -> Vec<Vec<Fact>> {
        use EventKind::*;
        vec![
            vec![fact(PaymentSucceeded, TOTAL, "p", 1)],
            vec![
                fact(PaymentFailed, TOTAL, "f", 1),
                fact(PaymentSucceeded, TOTAL, "p", 2),
            ],
            vec![
                fact(PaymentSucceeded, TOTAL, "p", 1),
                fact(RefundSucceeded, 1000, "r1", 2),
            ],
            vec![
                fact(PaymentSucceeded, TOTAL, "p", 1),
                fact(RefundSucceeded, 1000, "r1", 2),
                fact(RefundSucceeded, 3900, "r2", 3),
            ],
            vec![
                fact(PaymentSucceeded, TOTAL, "p", 1),
                fact(RefundSucceeded, TOTAL, "r1", 2),
            ],
            vec![
                fact(PaymentSucceeded, TOTAL, "p", 1),
                fact(DisputeOpened, TOTAL, "d", 2),
            ],
            vec![
                fact(PaymentSucceeded, TOTAL, "p", 1),
                fact(DisputeOpened, TOTAL, "d", 2),
                fact(DisputeWon, TOTAL, "w", 3),
            ],
            vec![
                fact(PaymentSucceeded, TOTAL, "p", 1),
                fact(DisputeOpened, TOTAL, "d", 2),
                fact(DisputeLost, TOTAL, "l", 3),
            ],
            vec![
                fact(PaymentFailed, TOTAL, "f", 1),
                fact(PaymentSucceeded, TOTAL, "p", 2),
                fact(RefundSucceeded, 1000, "r1", 3),
                fact(DisputeOpened, TOTAL, "d", 4),
                fact(DisputeWon, TOTAL, "w", 5),
                fact(RefundSucceeded, 3900, "r2", 6),
            ],
            vec![fact(PaymentSucceeded, 1000, "p", 1)],
            vec![fact(PaymentFailed, TOTAL, "f", 1)],
            vec![fact(PaymentExpired, TOTAL, "x", 1)],
        ]
    }

    type Outcome = (OrderStatus, Access, i64, i64, Option<DateTime<Utc>>);

    fn outcome(facts: &[Fact]) -> Outcome {
        let all = OrderFacts::from_facts(facts);
        let status = all.status(TOTAL);
        (
            status,
            status.access(),
            all.paid(),
            all.refunded(),
            all.paid_at(),
        )
    }

    fn permutations(items: &[Fact]) -> Vec<Vec<Fact>> {
        if items.len() <= 1 {
            return vec![items.to_vec()];
        }
        let mut out = Vec::new();
        for i in 0..items.len() {
            let mut rest = items.to_vec();
            let first = rest.remove(i);
            for mut tail in permutations(&rest) {
                tail.insert(0, first.clone());
                out.push(tail);
            }
        }
        out
    }

    #[test]
    fn in_order_stories_end_where_a_person_expects() {
        let expected = [
            OrderStatus::Paid,
            OrderStatus::Paid,
            OrderStatus::PartiallyRefunded,
            OrderStatus::Refunded,
            OrderStatus::Refunded,
            OrderStatus::Disputed,
            OrderStatus::Paid,
            OrderStatus::Refunded,
            OrderStatus::Refunded,
            OrderStatus::PartiallyPaid,
            OrderStatus::Failed,
            OrderStatus::Expired,
        ];
        for (story, want) in stories().iter().zip(expected) {
            assert_eq!(outcome(story).0, want, "{story:?}");
        }
        assert_eq!(
            outcome(&stories()[7]).1,
            Access::None,
            "a lost dispute revokes"
        );
        assert_eq!(
            outcome(&stories()[5]).1,
            Access::Suspended,
            "an open dispute suspends"
        );
    }

    #[test]
    fn every_permutation_with_duplicates_ends_the_same() {
        for story in stories() {
            let in_order = outcome(&story);
            // Every event delivered twice, in every order: up to 12 deliveries.
            for perm in permutations(&story) {
                let mut doubled = perm.clone();
                doubled.extend(perm.iter().rev().cloned());
                assert_eq!(outcome(&perm), in_order, "{perm:?}");
                assert_eq!(outcome(&doubled), in_order, "{doubled:?}");
            }
        }
    }

    proptest! {
        #[test]
        fn random_interleavings_with_duplicates_end_the_same(
            story in 0..12_usize,
            order in proptest::collection::vec(any::<prop::sample::Index>(), 1..14),
        ) {
            let story = &stories()[story];
            let deliveries: Vec<Fact> = order.iter().map(|i| story[i.index(story.len())].clone()).collect();
            // Only a delivery sequence that contains every event once at least is a full story.
            let complete = story.iter().all(|f| deliveries.contains(f));
            prop_assume!(complete);
            prop_assert_eq!(outcome(&deliveries), outcome(story));
        }
    }

    #[test]
    fn absurd_reported_amounts_saturate_instead_of_wrapping() {
        let mut second = fact(EventKind::PaymentSucceeded, i64::MAX, "p2", 2);
        second.payment_id = "pay_2".into();
        let facts = OrderFacts::from_facts(&[
            fact(EventKind::PaymentSucceeded, i64::MAX, "p", 1),
            second,
            fact(EventKind::RefundSucceeded, i64::MAX, "r1", 3),
        ]);
        assert_eq!(facts.paid(), i64::MAX);
        assert_eq!(facts.refunded(), i64::MAX);
        assert_eq!(facts.status(TOTAL), OrderStatus::Refunded);
    }
}
