//! The price of an order, as a pure function of catalog prices, a coupon and the storefront's
//! fee terms. Every sum and product goes through `Money`'s checked methods: an amount that does
//! not fit is a 422 naming `items`, never a wrapped number or a panic.
//!
//! **The platform fee rule** (one rule, everywhere the fee is computed): the percentage part is
//! `total × bps ÷ 10 000` rounded half-even on the minor unit (an exact half goes to the even
//! neighbour: 0.5 → 0, 1.5 → 2, 2.5 → 2), computed exactly in integers; the fixed part is added;
//! the sum never exceeds the total; and an order with nothing to pay pays no fee, not even the
//! fixed part. See [`platform_fee`].

use lyceum_gateway_core::{Currency, Money, MoneyError};

use super::coupons::{Coupon, Discount};
use crate::error::{AppError, AppResult};
use crate::ids::CourseId;

/// The terms of a platform fee: what an order is priced with, from the storefront's fee plan
/// or the configured default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeeTerms {
    /// Basis points of the order's total, 0..=10000.
    pub bps: u16,
    /// Added per paid order, in the storefront's currency.
    pub fixed: Money,
}

/// The platform's fee on an order of `total` under `terms` (the rule in the module doc):
/// `min(total, round_half_even(total × bps ÷ 10 000) + fixed)`, and zero when `total` is.
pub fn platform_fee(total: Money, terms: &FeeTerms) -> Result<Money, MoneyError> {
    if total.is_zero() {
        return Ok(total);
    }
    let percentage = total.checked_bps_half_even(terms.bps)?.checked_min(total)?;
    // The fixed part up to what is left of the total: the sum cannot overflow.
    let fixed = terms.fixed.checked_min(total.checked_sub(percentage)?)?;
    percentage.checked_add(fixed)
}

/// `fee` rounded down to a provider's fee `step` (see `PaymentGateway::fee_step`): the figure
/// the order stores and the provider collects; the seller keeps the difference.
pub fn collectable_fee(fee: Money, step: i64) -> Money {
    let amount = fee.amount.get();
    let step = step.max(1);
    Money::new(amount - amount.rem_euclid(step), fee.currency).unwrap_or(fee)
}

/// What an order costs, all in the storefront's currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pricing {
    /// The lines' prices together.
    pub subtotal: Money,
    /// Taken off by the coupon; never more than `subtotal`.
    pub discount: Money,
    /// What the buyer pays: `subtotal - discount`.
    pub total: Money,
    /// The platform's share of `total` under the fee terms, by [`platform_fee`].
    pub fee: Money,
}

/// Prices lines `(course, line total)`, with `coupon` if any, under the fee `terms`. A coupon
/// limited to courses of which none is ordered is refused (field `coupon`) rather than applied
/// as a zero discount, so a checkout never spends a use on nothing.
pub fn price(
    currency: Currency,
    lines: &[(CourseId, Money)],
    coupon: Option<&Coupon>,
    terms: &FeeTerms,
) -> AppResult<Pricing> {
    let subtotal = Money::checked_sum(currency, lines.iter().map(|(_, m)| *m)).map_err(refused)?;
    let discount = match coupon {
        None => Money::zero(currency),
        Some(coupon) => discount(currency, coupon, lines)?,
    };
    let total = subtotal.checked_sub(discount).map_err(refused)?;
    let fee = platform_fee(total, terms).map_err(refused)?;
    Ok(Pricing {
        subtotal,
        discount,
        total,
        fee,
    })
}

/// Whether `coupon` takes anything off `course`.
pub fn applies(coupon: &Coupon, course: &CourseId) -> bool {
    coupon.course_ids.is_empty() || coupon.course_ids.contains(course)
}

fn discount(currency: Currency, coupon: &Coupon, lines: &[(CourseId, Money)]) -> AppResult<Money> {
    let eligible: Vec<Money> = lines
        .iter()
        .filter(|(course, _)| applies(coupon, course))
        .map(|(_, m)| *m)
        .collect();
    if eligible.is_empty() {
        return Err(AppError::invalid(
            "coupon",
            "this code does not apply to the courses in this order",
        ));
    }
    let eligible_total = Money::checked_sum(currency, eligible.iter().copied()).map_err(refused)?;
    match coupon.discount {
        // Each line rounded down on its own, as a buyer checking one line's price would expect.
        Discount::Percent(p) => Money::checked_sum(
            currency,
            eligible
                .iter()
                .map(|m| m.checked_percent(p))
                .collect::<Result<Vec<_>, _>>()
                .map_err(refused)?,
        )
        .map_err(refused),
        Discount::Amount(off) => off.checked_min(eligible_total).map_err(refused),
    }
}

/// A pricing step that does not fit: the request asks for amounts beyond what we handle.
fn refused(e: MoneyError) -> AppError {
    match e {
        MoneyError::Overflow | MoneyError::Negative => {
            AppError::invalid("items", "the order's amounts are too large")
        }
        // Catalog prices and coupons are kept in the storefront's currency; this is a bug.
        other => AppError::Money(other),
    }
}

#[cfg(test)]
mod fee_property;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::CouponId;

    fn usd(amount: i64) -> Money {
        Money::new(amount, Currency::parse("USD").unwrap()).unwrap()
    }

    fn terms(bps: u16, fixed: i64) -> FeeTerms {
        FeeTerms {
            bps,
            fixed: usd(fixed),
        }
    }

    fn coupon(discount: Discount, course_ids: Vec<CourseId>) -> Coupon {
        Coupon {
            id: CouponId::new_v7(),
            code: "TEST".into(),
            discount,
            max_redemptions: None,
            max_redemptions_per_buyer: None,
            redemptions: 0,
            reserved: 0,
            expires_at: None,
            course_ids,
        }
    }

    fn field(err: AppError) -> String {
        match err {
            AppError::Invalid(fields) => fields[0].field.clone(),
            other => panic!("not a 422: {other:?}"),
        }
    }

    #[test]
    fn percentages_round_down_per_line() {
        let (a, b) = (CourseId::new_v7(), CourseId::new_v7());
        let lines = [(a, usd(999)), (b, usd(999))];
        let p = price(
            usd(0).currency,
            &lines,
            Some(&coupon(Discount::Percent(50), vec![])),
            &terms(250, 0),
        )
        .unwrap();
        assert_eq!(p.subtotal, usd(1998));
        assert_eq!(p.discount, usd(998), "499 + 499");
        assert_eq!(p.total, usd(1000));
        assert_eq!(p.fee, usd(25));
    }

    #[test]
    fn amounts_off_never_exceed_the_eligible_lines() {
        let (a, b) = (CourseId::new_v7(), CourseId::new_v7());
        let lines = [(a, usd(1000)), (b, usd(3000))];
        let only_a = coupon(Discount::Amount(usd(5000)), vec![a]);
        let p = price(usd(0).currency, &lines, Some(&only_a), &terms(0, 0)).unwrap();
        assert_eq!((p.discount, p.total), (usd(1000), usd(3000)));
    }

    #[test]
    fn a_coupon_for_other_courses_is_refused() {
        let lines = [(CourseId::new_v7(), usd(1000))];
        let elsewhere = coupon(Discount::Percent(10), vec![CourseId::new_v7()]);
        let err = price(usd(0).currency, &lines, Some(&elsewhere), &terms(0, 0)).unwrap_err();
        assert_eq!(field(err), "coupon");
    }

    #[test]
    fn overflowing_sums_are_a_422_not_a_wrapped_number() {
        let lines = [
            (CourseId::new_v7(), usd(i64::MAX)),
            (CourseId::new_v7(), usd(1)),
        ];
        let err = price(usd(0).currency, &lines, None, &terms(0, 0)).unwrap_err();
        assert_eq!(field(err), "items");
        // A single huge line: the percentage and the fee are computed without wrapping.
        let lines = [(CourseId::new_v7(), usd(i64::MAX))];
        let p = price(
            usd(0).currency,
            &lines,
            Some(&coupon(Discount::Percent(100), vec![])),
            &terms(10_000, 30),
        )
        .unwrap();
        assert_eq!((p.total, p.fee), (usd(0), usd(0)));
        let p = price(usd(0).currency, &lines, None, &terms(10_000, 30)).unwrap();
        assert_eq!(p.fee, usd(i64::MAX), "capped at the total, not overflowed");
        let p = price(usd(0).currency, &lines, None, &terms(9_999, i64::MAX)).unwrap();
        assert_eq!(p.fee, usd(i64::MAX));
    }

    #[test]
    fn fees_round_half_even_then_add_the_fixed_part_up_to_the_total() {
        let fee = |total, bps, fixed| platform_fee(usd(total), &terms(bps, fixed)).unwrap();
        assert_eq!(fee(1000, 250, 0), usd(25));
        assert_eq!(fee(12_345, 250, 0), usd(309), "308.625");
        assert_eq!(fee(12_340, 250, 0), usd(308), "308.5 to the even 308");
        assert_eq!(fee(12_380, 250, 0), usd(310), "309.5 to the even 310");
        assert_eq!(fee(4900, 1000, 30), usd(520), "490 + 30");
        assert_eq!(fee(50, 1000, 100), usd(50), "5 + 100, capped at the total");
        assert_eq!(fee(0, 1000, 100), usd(0), "a free order pays no fixed fee");
        assert_eq!(fee(1, 0, 0), usd(0));
    }

    #[test]
    fn the_fee_of_an_order_follows_the_rule() {
        let lines = [(CourseId::new_v7(), usd(4900))];
        let p = price(usd(0).currency, &lines, None, &terms(750, 25)).unwrap();
        assert_eq!(p.fee, usd(368 + 25), "367.5 to the even 368, plus 25");
        let free = [(CourseId::new_v7(), usd(0))];
        let p = price(usd(0).currency, &free, None, &terms(750, 25)).unwrap();
        assert_eq!(p.fee, usd(0));
    }
}
