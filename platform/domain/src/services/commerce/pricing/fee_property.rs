//! The fee rule against a reference written here from its definition, over many random orders
//! in currencies with 0, 2 and 3 decimals. The reference does not share the product's method:
//! it picks, of the two whole minor units around the exact percentage, the nearer one (the even
//! one on a tie), in `u128`.

use lyceum_gateway_core::{Currency, Money};
use proptest::prelude::*;

use super::{FeeTerms, platform_fee};
use crate::domain::MAX_PRICE_MINOR_UNITS;

/// `min(total, nearest_ties_even(total × bps / 10 000) + fixed)`, or 0 for a free order.
fn reference_fee(total: i64, bps: u16, fixed: i64) -> i64 {
    if total == 0 {
        return 0;
    }
    let exact = u128::try_from(total).unwrap() * u128::from(bps); // in 1/10 000 minor units
    let below = exact / 10_000;
    let above = below + 1;
    let distance = |candidate: u128| (candidate * 10_000).abs_diff(exact);
    let percentage = match distance(below).cmp(&distance(above)) {
        std::cmp::Ordering::Less => below,
        std::cmp::Ordering::Greater => above,
        std::cmp::Ordering::Equal if below % 2 == 0 => below,
        std::cmp::Ordering::Equal => above,
    };
    let fee = (percentage + u128::try_from(fixed).unwrap()).min(u128::try_from(total).unwrap());
    i64::try_from(fee).unwrap()
}

fn currency() -> impl Strategy<Value = Currency> {
    prop_oneof![Just("JPY"), Just("USD"), Just("KWD")].prop_map(|c| Currency::parse(c).unwrap())
}

/// Totals of every size: small ones (where the fixed part and rounding matter most), any order
/// within the price cap's reach (20 lines), and the whole `i64` range.
fn total() -> impl Strategy<Value = i64> {
    prop_oneof![
        3 => 0..1_000_i64,
        4 => 0..=MAX_PRICE_MINOR_UNITS * 20,
        1 => 0..=i64::MAX,
    ]
}

fn fixed() -> impl Strategy<Value = i64> {
    prop_oneof![
        2 => Just(0_i64),
        4 => 0..5_000_i64,
        1 => 0..=i64::MAX,
    ]
}

fn fee(total: i64, bps: u16, fixed: i64, currency: Currency) -> Money {
    let terms = FeeTerms {
        bps,
        fixed: Money::new(fixed, currency).unwrap(),
    };
    platform_fee(Money::new(total, currency).unwrap(), &terms).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100_000))]

    #[test]
    fn the_fee_is_the_reference_fee_and_never_more_than_the_total(
        currency in currency(),
        total in total(),
        bps in 0..=10_000_u16,
        fixed in fixed(),
    ) {
        let got = fee(total, bps, fixed, currency);
        prop_assert_eq!(got.currency, currency);
        prop_assert_eq!(got.amount.get(), reference_fee(total, bps, fixed));
        prop_assert!(got.amount.get() >= 0 && got.amount.get() <= total);
        if total == 0 {
            prop_assert_eq!(got.amount.get(), 0);
        }
        // Without a fixed part the fee is within half a minor unit of the exact percentage.
        let percentage = fee(total, bps, 0, currency).amount.get();
        let exact = i128::from(total) * i128::from(bps);
        prop_assert!((i128::from(percentage) * 10_000 - exact).abs() <= 5_000);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    #[test]
    fn exact_halves_go_to_the_even_neighbour(
        currency in currency(),
        half_units in 0..1_000_000_000_i64,
    ) {
        // Half of an odd total is an exact half: 0.5, 1.5, 2.5, …
        let total = 2 * half_units + 1;
        let got = fee(total, 5_000, 0, currency).amount.get();
        prop_assert_eq!(got % 2, 0, "{} / 2 gave {}", total, got);
        prop_assert!(got == half_units || got == half_units + 1);
    }
}

#[test]
fn the_examples_of_the_rule() {
    let usd = Currency::parse("USD").unwrap();
    // 0.5 → 0, 1.5 → 2, 2.5 → 2, 3.5 → 4.
    for (total, expected) in [(1, 0), (3, 2), (5, 2), (7, 4)] {
        assert_eq!(fee(total, 5_000, 0, usd).amount.get(), expected, "{total}");
        assert_eq!(reference_fee(total, 5_000, 0), expected, "{total}");
    }
    // A quarter of 10, 2.5 minor units, and of 14, 3.5.
    assert_eq!(fee(10, 2_500, 0, usd).amount.get(), 2);
    assert_eq!(fee(14, 2_500, 0, usd).amount.get(), 4);
}
