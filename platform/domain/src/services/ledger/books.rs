//! The rule: what an order's money implies for every account.
//!
//! An order was priced with a total, a platform fee on it, its lines' co-instructor shares and
//! a settlement (whom the provider pays). Its money stands at what was captured, what went
//! back (refunds and lost disputes) and what a provider holds in open disputes. From those:
//!
//! - **kept** = captured − given back; the provider's clearing account holds kept − held, the
//!   disputes account holds what is held;
//! - **the platform's fee** on what is kept = `fee × min(kept, total) ÷ total`, rounded
//!   half-even on the minor unit (the fee rule of pricing): a refund or lost dispute takes back
//!   the fee in proportion, and a full one takes it all;
//! - **the sellers' part** = kept − fee, split over the order's lines in proportion to their
//!   amounts, then over each line's co-instructors by basis points, each part rounded down;
//!   the storefront's owner takes the rest, so no minor unit is created or lost;
//! - each payee's part is owed to them (a credit) in `pending` until the sale's hold ends, in
//!   `available` after — and in `pending` again while a dispute is open;
//! - what the provider paid the owner directly (split settlement: the sellers' part; seller
//!   settlement: everything kept) is booked against the whole sellers' part as the owner's,
//!   paid out: under seller settlement the owner ends up owing the platform its fee; and each
//!   co-instructor's share of it is owed to them by the owner (`seller_due`), not by the
//!   platform, whose payouts never include it.
//!
//! [`difference`] between this and what is already posted is the next transaction; both sum to
//! zero, so it does too.

use std::collections::BTreeMap;

use lyceum_gateway_core::Settlement;

use super::Account;
use crate::ids::UserId;

/// An account of one order's books: a payee's, or a platform account (`payee: None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub account: Account,
    pub payee: Option<UserId>,
}

impl Key {
    pub fn platform(account: Account) -> Self {
        Self {
            account,
            payee: None,
        }
    }

    pub fn payee(account: Account, payee: UserId) -> Self {
        Self {
            account,
            payee: Some(payee),
        }
    }
}

/// Balances by account, in minor units, debit positive.
pub type Positions = BTreeMap<Key, i64>;

/// One line of an order: its amount and its co-instructors' basis points of the sellers' part
/// (the owner's own row excluded: the owner takes what they leave).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub amount: i64,
    pub shares: Vec<(UserId, u16)>,
}

/// What an order was priced with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    pub total: i64,
    /// The platform's fee on the whole total, as the order stored it.
    pub fee: i64,
    pub settlement: Settlement,
    pub owner: UserId,
    /// The order's lines with their co-instructors; none (or none with an amount) when the
    /// owner takes the sellers' part whole.
    pub lines: Vec<Line>,
}

/// Where an order's money stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Standing {
    pub captured: i64,
    /// Refunds and lost disputes.
    pub given_back: i64,
    /// Withdrawn by the provider for disputes still open.
    pub held: i64,
    /// Whether the sale's hold has ended.
    pub released: bool,
}

/// The platform's fee on `kept` of an order of `total` carrying `fee` in full: half-even on
/// the minor unit, never more than `kept`.
pub fn fee_on(fee: i64, total: i64, kept: i64) -> i64 {
    if total <= 0 || kept <= 0 || fee <= 0 {
        return 0;
    }
    let base = i128::from(kept.min(total));
    let (fee, total) = (i128::from(fee.min(total)), i128::from(total));
    let product = fee * base;
    let (quotient, remainder) = (product / total, product % total);
    let up = match (2 * remainder).cmp(&total) {
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Equal => quotient % 2 == 1,
    };
    // `fee ≤ total`, so the quotient is at most `base ≤ kept`, an i64.
    let part = i64::try_from(quotient + i128::from(up)).unwrap_or(kept);
    part.min(kept)
}

/// The sellers' part `sellers` split over the payees of `terms` (see the module doc): every
/// co-instructor's part rounded down, the owner's the rest. Payees with nothing are left out.
pub fn payee_parts(terms: &Terms, sellers: i64) -> BTreeMap<UserId, i64> {
    let mut parts = BTreeMap::new();
    let weight: i128 = terms
        .lines
        .iter()
        .map(|l| i128::from(l.amount.max(0)))
        .sum();
    let mut others = 0_i64;
    if sellers > 0 && weight > 0 {
        for line in &terms.lines {
            let line_part = i128::from(sellers) * i128::from(line.amount.max(0)) / weight;
            // Co-instructors never take more than their line's part, whatever their basis
            // points add up to.
            let mut left = line_part;
            for (payee, bps) in &line.shares {
                if *payee == terms.owner {
                    continue;
                }
                // Both factors fit: line_part ≤ sellers, bps ≤ 10 000.
                let part = (line_part * i128::from(*bps) / 10_000).clamp(0, left);
                left -= part;
                let part = i64::try_from(part).unwrap_or(0);
                if part > 0 {
                    *parts.entry(*payee).or_insert(0) += part;
                    others += part;
                }
            }
        }
    }
    let owner = sellers - others;
    if owner != 0 {
        *parts.entry(terms.owner).or_insert(0) += owner;
    }
    parts
}

/// Every account's balance that `terms` and `standing` imply; zero balances are left out.
pub fn positions(terms: &Terms, standing: Standing) -> Positions {
    let kept = standing.captured.saturating_sub(standing.given_back).max(0);
    let held = standing.held.clamp(0, kept);
    let fee = fee_on(terms.fee, terms.total, kept);
    let sellers = kept - fee;
    // An open dispute freezes the sale again: its sellers' part is not payable until it ends.
    let balance = if standing.released && held == 0 {
        Account::Available
    } else {
        Account::Pending
    };
    let direct = match terms.settlement {
        Settlement::Platform => 0,
        Settlement::Split => sellers,
        Settlement::Seller => kept,
    };

    let mut out = Positions::new();
    let mut add = |key: Key, amount: i64| {
        if amount != 0 {
            *out.entry(key).or_insert(0) += amount;
        }
    };
    add(Key::platform(Account::Clearing), kept - held);
    add(Key::platform(Account::Disputes), held);
    add(Key::platform(Account::PlatformFees), -fee);
    if terms.settlement == Settlement::Platform {
        // The platform holds the sellers' part and owes each payee theirs.
        for (payee, part) in payee_parts(terms, sellers) {
            add(Key::payee(balance, payee), -part);
        }
    } else {
        // The provider paid the owner: the sellers' part is the owner's, paid out, and each
        // co-instructor's share of it is owed to them by the owner, not by the platform.
        add(Key::payee(balance, terms.owner), direct - sellers);
        add(Key::payee(Account::PaidOut, terms.owner), -direct);
        for (payee, part) in payee_parts(terms, sellers) {
            if payee != terms.owner {
                add(Key::payee(Account::SellerDue, payee), -part);
                add(Key::payee(Account::SellerDue, terms.owner), part);
            }
        }
    }
    out.retain(|_, amount| *amount != 0);
    out
}

/// What to post to go from `posted` to `target`: every account whose balance differs, by the
/// difference. When both sum to zero, so does this.
pub fn difference(target: &Positions, posted: &Positions) -> Vec<(Key, i64)> {
    let mut keys: Vec<&Key> = target.keys().chain(posted.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter_map(|key| {
            let want = target.get(key).copied().unwrap_or(0);
            let have = posted.get(key).copied().unwrap_or(0);
            let delta = want - have;
            (delta != 0).then_some((*key, delta))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(n: u128) -> UserId {
        UserId::from(uuid::Uuid::from_u128(n))
    }

    fn terms(total: i64, fee: i64, settlement: Settlement, shares: Vec<(UserId, u16)>) -> Terms {
        Terms {
            total,
            fee,
            settlement,
            owner: user(1),
            lines: vec![Line {
                amount: total,
                shares,
            }],
        }
    }

    fn sum(p: &Positions) -> i64 {
        p.values().sum()
    }

    #[test]
    fn a_sale_credits_fee_and_payees_and_debits_clearing() {
        let t = terms(10_000, 1_000, Settlement::Platform, vec![(user(2), 3_000)]);
        let p = positions(
            &t,
            Standing {
                captured: 10_000,
                ..Default::default()
            },
        );
        assert_eq!(p[&Key::platform(Account::Clearing)], 10_000);
        assert_eq!(p[&Key::platform(Account::PlatformFees)], -1_000);
        assert_eq!(p[&Key::payee(Account::Pending, user(2))], -2_700);
        assert_eq!(p[&Key::payee(Account::Pending, user(1))], -6_300);
        assert_eq!(sum(&p), 0);
    }

    #[test]
    fn a_half_refund_takes_back_half_of_fee_and_shares() {
        let t = terms(10_000, 1_000, Settlement::Platform, vec![(user(2), 3_000)]);
        let p = positions(
            &t,
            Standing {
                captured: 10_000,
                given_back: 5_000,
                released: true,
                ..Default::default()
            },
        );
        assert_eq!(p[&Key::platform(Account::PlatformFees)], -500);
        assert_eq!(p[&Key::payee(Account::Available, user(2))], -1_350);
        assert_eq!(p[&Key::payee(Account::Available, user(1))], -3_150);
        assert_eq!(sum(&p), 0);
    }

    #[test]
    fn rounding_remainders_go_to_the_owner() {
        // 101 kept, fee 10 % of 101 = 10.1 → 10; sellers 91 over three co-instructors of a third
        // each: 30 each rounded down from 30.33, the owner gets 1.
        let t = terms(
            101,
            10,
            Settlement::Platform,
            vec![(user(2), 3_333), (user(3), 3_333), (user(4), 3_334)],
        );
        let parts = payee_parts(&t, 91);
        assert_eq!(parts[&user(2)], 30);
        assert_eq!(parts[&user(3)], 30);
        assert_eq!(parts[&user(4)], 30);
        assert_eq!(parts[&user(1)], 1);
    }

    #[test]
    fn seller_settlement_leaves_the_owner_owing_the_fee() {
        let t = terms(10_000, 1_000, Settlement::Seller, vec![]);
        let p = positions(
            &t,
            Standing {
                captured: 10_000,
                ..Default::default()
            },
        );
        assert_eq!(p[&Key::payee(Account::Pending, user(1))], 1_000);
        assert_eq!(p[&Key::payee(Account::PaidOut, user(1))], -10_000);
        assert_eq!(sum(&p), 0);
        let split = positions(
            &terms(10_000, 1_000, Settlement::Split, vec![]),
            Standing {
                captured: 10_000,
                ..Default::default()
            },
        );
        assert!(!split.contains_key(&Key::payee(Account::Pending, user(1))));
        assert_eq!(split[&Key::payee(Account::PaidOut, user(1))], -9_000);
    }

    #[test]
    fn a_co_instructor_of_a_directly_paid_sale_is_owed_by_the_owner() {
        let t = terms(10_000, 1_000, Settlement::Split, vec![(user(2), 3_000)]);
        let p = positions(
            &t,
            Standing {
                captured: 10_000,
                released: true,
                ..Default::default()
            },
        );
        assert_eq!(p[&Key::payee(Account::SellerDue, user(2))], -2_700);
        assert_eq!(p[&Key::payee(Account::SellerDue, user(1))], 2_700);
        assert_eq!(p[&Key::payee(Account::PaidOut, user(1))], -9_000);
        // Nothing the platform would pay out.
        assert!(!p.keys().any(|k| k.account == Account::Available));
        assert_eq!(sum(&p), 0);
    }

    #[test]
    fn an_open_dispute_moves_money_from_clearing_to_disputes() {
        let t = terms(10_000, 1_000, Settlement::Platform, vec![]);
        let p = positions(
            &t,
            Standing {
                captured: 10_000,
                held: 10_000,
                ..Default::default()
            },
        );
        assert!(!p.contains_key(&Key::platform(Account::Clearing)));
        assert_eq!(p[&Key::platform(Account::Disputes)], 10_000);
        assert_eq!(sum(&p), 0);
    }

    #[test]
    fn co_instructors_never_take_more_than_the_sellers_part() {
        // Shares that somehow add up to more than 10 000 (rows written around the API).
        let t = terms(
            10_000,
            0,
            Settlement::Platform,
            vec![(user(2), 10_000), (user(3), 10_000)],
        );
        let parts = payee_parts(&t, 10_000);
        assert_eq!(parts[&user(2)], 10_000);
        assert!(!parts.contains_key(&user(3)));
        assert!(!parts.contains_key(&user(1)));
    }

    #[test]
    fn an_open_dispute_freezes_a_released_sale() {
        let t = terms(10_000, 1_000, Settlement::Platform, vec![]);
        let p = positions(
            &t,
            Standing {
                captured: 10_000,
                held: 10_000,
                released: true,
                ..Default::default()
            },
        );
        assert_eq!(p[&Key::payee(Account::Pending, user(1))], -9_000);
        assert!(!p.contains_key(&Key::payee(Account::Available, user(1))));
    }

    #[test]
    fn fee_rounds_half_even() {
        assert_eq!(fee_on(1, 2, 1), 0, "0.5 → 0");
        assert_eq!(fee_on(3, 4, 2), 2, "1.5 → 2");
        assert_eq!(fee_on(5, 10, 5), 2, "2.5 → 2");
        assert_eq!(fee_on(7, 10, 5), 4, "3.5 → 4");
        assert_eq!(fee_on(0, 10, 5), 0);
        assert_eq!(fee_on(10, 0, 5), 0);
    }

    #[test]
    fn difference_posts_what_changed_and_nothing_twice() {
        let t = terms(10_000, 1_000, Settlement::Platform, vec![]);
        let sold = positions(
            &t,
            Standing {
                captured: 10_000,
                ..Default::default()
            },
        );
        let first = difference(&sold, &Positions::new());
        assert_eq!(first.iter().map(|(_, a)| a).sum::<i64>(), 0);
        assert!(difference(&sold, &sold).is_empty());
        let refunded = positions(
            &t,
            Standing {
                captured: 10_000,
                given_back: 10_000,
                ..Default::default()
            },
        );
        assert!(refunded.is_empty());
        let back = difference(&refunded, &sold);
        assert_eq!(back.len(), sold.len());
        assert_eq!(back.iter().map(|(_, a)| a).sum::<i64>(), 0);
    }
}
