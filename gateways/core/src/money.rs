//! Money as integer minor units of an ISO 4217 currency; no floating point anywhere.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Why an amount or a currency was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("`{0}` is not an ISO 4217 currency code")]
    UnknownCurrency(String),
    #[error("{0} has no minor unit defined by ISO 4217 and cannot be used for payments")]
    NoMinorUnit(String),
    #[error("the amount must not be negative")]
    Negative,
    #[error("cannot combine {0} with {1}")]
    CurrencyMismatch(Currency, Currency),
    #[error("the amount is too large")]
    Overflow,
    #[error("`{0}` is not a decimal amount of this currency")]
    BadDecimal(String),
}

/// An ISO 4217 currency usable for payments: one that has a defined minor unit.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency(iso_currency::Currency);

impl Currency {
    /// Parses an upper-case three-letter code such as `USD`.
    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        let currency = iso_currency::Currency::from_code(code)
            .ok_or_else(|| MoneyError::UnknownCurrency(code.to_owned()))?;
        if currency.exponent().is_none() {
            return Err(MoneyError::NoMinorUnit(code.to_owned()));
        }
        Ok(Self(currency))
    }

    /// The three-letter code, e.g. `"USD"`.
    pub fn code(self) -> &'static str {
        self.0.code()
    }

    /// Digits after the decimal point: 0 for JPY, 2 for USD, 3 for KWD.
    pub fn exponent(self) -> u32 {
        // `parse` admits only currencies that have an exponent.
        u32::from(self.0.exponent().unwrap_or(0))
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Currency {
    type Error = MoneyError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Currency> for String {
    fn from(value: Currency) -> Self {
        value.code().to_owned()
    }
}

/// A count of a currency's minor units (cents for USD, yen for JPY); never negative in a price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MinorUnits(i64);

impl MinorUnits {
    pub const ZERO: Self = Self(0);

    /// A non-negative amount; negative amounts are refused.
    pub fn new(amount: i64) -> Result<Self, MoneyError> {
        if amount < 0 {
            return Err(MoneyError::Negative);
        }
        Ok(Self(amount))
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// An amount of one currency, in its minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub amount: MinorUnits,
    pub currency: Currency,
}

impl Money {
    pub fn new(amount: i64, currency: Currency) -> Result<Self, MoneyError> {
        Ok(Self {
            amount: MinorUnits::new(amount)?,
            currency,
        })
    }

    pub fn zero(currency: Currency) -> Self {
        Self {
            amount: MinorUnits::ZERO,
            currency,
        }
    }

    pub fn is_zero(&self) -> bool {
        self.amount == MinorUnits::ZERO
    }

    /// The sum of two amounts of the same currency.
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let amount = self
            .amount
            .0
            .checked_add(other.amount.0)
            .ok_or(MoneyError::Overflow)?;
        Money::new(amount, self.currency)
    }

    /// The difference of two amounts of the same currency; a negative result is an error.
    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let amount = self
            .amount
            .0
            .checked_sub(other.amount.0)
            .ok_or(MoneyError::Overflow)?;
        Money::new(amount, self.currency)
    }

    /// This amount times a count, e.g. a unit price times a quantity.
    pub fn checked_mul(self, count: u32) -> Result<Money, MoneyError> {
        let amount = self
            .amount
            .0
            .checked_mul(i64::from(count))
            .ok_or(MoneyError::Overflow)?;
        Money::new(amount, self.currency)
    }

    /// `percent` percent of this amount, rounded down (toward zero: amounts are never
    /// negative), so a percentage discount never takes off more than it says.
    pub fn checked_percent(self, percent: u8) -> Result<Money, MoneyError> {
        self.checked_fraction(u64::from(percent), 100)
    }

    /// `bps` basis points (hundredths of a percent) of this amount, rounded down. Platform
    /// fees round half-even instead ([`Self::checked_bps_half_even`]).
    pub fn checked_bps(self, bps: u16) -> Result<Money, MoneyError> {
        self.checked_fraction(u64::from(bps), 10_000)
    }

    /// `amount × numerator ÷ denominator`, rounded down (e.g. the part of a fee a partial
    /// refund returns). The product is computed in `i128`, where it cannot overflow
    /// (`i64::MAX × u64::MAX < i128::MAX`); a result that does not fit an `i64`, or a zero
    /// denominator, is an error.
    pub fn checked_fraction(self, numerator: u64, denominator: u64) -> Result<Money, MoneyError> {
        let product = i128::from(self.amount.0) * i128::from(numerator);
        let amount = product
            .checked_div(i128::from(denominator))
            .ok_or(MoneyError::Overflow)?;
        let amount = i64::try_from(amount).map_err(|_| MoneyError::Overflow)?;
        Money::new(amount, self.currency)
    }

    /// `bps` basis points of this amount, rounded half-even on the minor unit (an exact half
    /// goes to the even neighbour: 0.5 → 0, 1.5 → 2, 2.5 → 2), the rounding of platform fees:
    /// unbiased over many sales, and the same figure whoever computes it.
    pub fn checked_bps_half_even(self, bps: u16) -> Result<Money, MoneyError> {
        self.checked_fraction_half_even(u64::from(bps), 10_000)
    }

    /// `amount × numerator ÷ denominator`, rounded half-even. Exact: the product is an `i128`
    /// (it cannot overflow there, see [`Self::checked_fraction`]) and the rounding looks at
    /// the remainder, not at a float; a result that does not fit an `i64`, or a zero
    /// denominator, is an error.
    pub fn checked_fraction_half_even(
        self,
        numerator: u64,
        denominator: u64,
    ) -> Result<Money, MoneyError> {
        let denominator = i128::from(denominator);
        if denominator == 0 {
            return Err(MoneyError::Overflow);
        }
        let product = i128::from(self.amount.0) * i128::from(numerator);
        // Both are non-negative, so `/` and `%` are floor and the remainder is below the
        // denominator; doubling it fits (denominator ≤ u64::MAX).
        let (quotient, remainder) = (product / denominator, product % denominator);
        let up = match (2 * remainder).cmp(&denominator) {
            std::cmp::Ordering::Less => false,
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Equal => quotient % 2 == 1,
        };
        let amount = i64::try_from(quotient + i128::from(up)).map_err(|_| MoneyError::Overflow)?;
        Money::new(amount, self.currency)
    }

    /// The sum of `amounts`, all of `currency`; zero when there are none.
    pub fn checked_sum(
        currency: Currency,
        amounts: impl IntoIterator<Item = Money>,
    ) -> Result<Money, MoneyError> {
        amounts
            .into_iter()
            .try_fold(Money::zero(currency), Money::checked_add)
    }

    /// The smaller of two amounts of the same currency.
    pub fn checked_min(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        Ok(if other.amount < self.amount {
            other
        } else {
            self
        })
    }

    /// The amount as a decimal string with the currency's exponent: `1490.00`, `500`, `1.250`.
    pub fn to_decimal_string(&self) -> String {
        let exponent = self.currency.exponent();
        let amount = self.amount.0;
        if exponent == 0 {
            return amount.to_string();
        }
        let scale = 10_i64.pow(exponent);
        format!(
            "{}.{:0width$}",
            amount / scale,
            amount % scale,
            width = exponent as usize
        )
    }

    /// Reads a decimal amount as providers write it (`1490.00`, `100.000000`, `5`): digits,
    /// optionally a dot and more digits; no sign, exponent or separators. Digits past the
    /// currency's exponent must be zeros: an amount is never rounded.
    pub fn parse_decimal(text: &str, currency: Currency) -> Result<Money, MoneyError> {
        let bad = || MoneyError::BadDecimal(text.chars().take(40).collect());
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || whole.len() > 18 || !digits(whole) || !digits(fraction) {
            return Err(bad());
        }
        if text.contains('.') && fraction.is_empty() {
            return Err(bad());
        }
        let exponent = currency.exponent() as usize;
        let (kept, rest) = fraction.split_at(fraction.len().min(exponent));
        if rest.bytes().any(|b| b != b'0') {
            return Err(bad());
        }
        let scale = 10_i64.pow(currency.exponent());
        let whole: i64 = whole.parse().map_err(|_| bad())?;
        let kept: i64 = if kept.is_empty() {
            0
        } else {
            format!("{kept:0<exponent$}").parse().map_err(|_| bad())?
        };
        let amount = whole
            .checked_mul(scale)
            .and_then(|w| w.checked_add(kept))
            .ok_or(MoneyError::Overflow)?;
        Money::new(amount, currency)
    }

    fn same_currency(&self, other: Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch(self.currency, other.currency))
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_decimal_string(), self.currency)
    }
}

/// Splits `total` over parts in proportion to `weights`, in multiples of `step`, remainders
/// one step at a time to the largest weights first (the first of equal ones); `None` when it
/// cannot be done exactly (no weight, or a total that is not a multiple of `step`). The parts
/// always sum to `total`: nothing is created or lost by rounding.
pub fn allocate(weights: &[i64], total: i64, step: i64) -> Option<Vec<i64>> {
    let sum: i128 = weights.iter().map(|w| i128::from(*w)).sum();
    if sum <= 0 || total < 0 || step <= 0 || total % step != 0 || weights.iter().any(|w| *w < 0) {
        return None;
    }
    let units = i128::from(total / step);
    let mut shares: Vec<i128> = weights
        .iter()
        .map(|w| i128::from(*w) * units / sum)
        .collect();
    let mut left = units - shares.iter().sum::<i128>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(weights[i]));
    // Each share was rounded down by less than one unit, so fewer than `len` units are left.
    for &i in &order {
        if left == 0 {
            break;
        }
        shares[i] += 1;
        left -= 1;
    }
    if left != 0 {
        return None;
    }
    shares
        .into_iter()
        .map(|units| i64::try_from(units * i128::from(step)).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn currency(code: &str) -> Currency {
        Currency::parse(code).unwrap()
    }

    #[test]
    fn currencies_know_their_exponents() {
        assert_eq!(currency("JPY").exponent(), 0);
        assert_eq!(currency("USD").exponent(), 2);
        assert_eq!(currency("RUB").exponent(), 2);
        assert_eq!(currency("KWD").exponent(), 3);
    }

    #[test]
    fn unknown_and_unit_less_currencies_are_refused() {
        assert_eq!(
            Currency::parse("XYZ"),
            Err(MoneyError::UnknownCurrency("XYZ".into()))
        );
        assert_eq!(
            Currency::parse("usd").map(|_| ()),
            Err(MoneyError::UnknownCurrency("usd".into()))
        );
        assert!(matches!(
            Currency::parse("XAU"),
            Err(MoneyError::NoMinorUnit(_))
        ));
    }

    #[test]
    fn negative_amounts_are_refused() {
        assert_eq!(Money::new(-1, currency("USD")), Err(MoneyError::Negative));
    }

    #[test]
    fn arithmetic_is_checked_and_single_currency() {
        let usd = |a| Money::new(a, currency("USD")).unwrap();
        assert_eq!(usd(150).checked_add(usd(50)), Ok(usd(200)));
        assert_eq!(usd(150).checked_sub(usd(200)), Err(MoneyError::Negative));
        assert_eq!(
            usd(1).checked_add(Money::zero(currency("EUR"))),
            Err(MoneyError::CurrencyMismatch(
                currency("USD"),
                currency("EUR")
            ))
        );
        assert_eq!(usd(i64::MAX).checked_add(usd(1)), Err(MoneyError::Overflow));
        assert_eq!(usd(250).checked_mul(3), Ok(usd(750)));
    }

    #[test]
    fn fractions_round_down_and_never_wrap() {
        let usd = |a| Money::new(a, currency("USD")).unwrap();
        assert_eq!(usd(4900).checked_percent(15), Ok(usd(735)));
        assert_eq!(usd(999).checked_percent(50), Ok(usd(499)), "rounded down");
        assert_eq!(usd(999).checked_percent(100), Ok(usd(999)));
        assert_eq!(usd(999).checked_percent(0), Ok(usd(0)));
        assert_eq!(
            usd(12_345).checked_bps(250),
            Ok(usd(308)),
            "308.625 rounds down"
        );
        assert_eq!(usd(1).checked_bps(9_999), Ok(usd(0)));
        // `i64::MAX × 100` overflows an i64; computed in i128 it does not.
        assert_eq!(usd(i64::MAX).checked_percent(100), Ok(usd(i64::MAX)));
        assert_eq!(usd(i64::MAX).checked_bps(10_000), Ok(usd(i64::MAX)));
        assert_eq!(
            usd(i64::MAX).checked_bps(5_000),
            Ok(usd(i64::MAX / 2)),
            "no wrapped product"
        );
        // More than the whole of the largest amount does not fit.
        assert_eq!(
            usd(i64::MAX).checked_percent(101),
            Err(MoneyError::Overflow)
        );
        assert_eq!(
            usd(i64::MAX).checked_bps(u16::MAX),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn half_even_rounds_exact_halves_to_the_even_neighbour() {
        let usd = |a| Money::new(a, currency("USD")).unwrap();
        // 5000 bps = one half: x.5 exactly.
        for (amount, half) in [(1, 0), (3, 2), (5, 2), (7, 4), (2, 1), (0, 0)] {
            assert_eq!(
                usd(amount).checked_bps_half_even(5_000),
                Ok(usd(half)),
                "{amount}/2"
            );
        }
        assert_eq!(
            usd(12_345).checked_bps_half_even(250),
            Ok(usd(309)),
            "308.625 → 309"
        );
        assert_eq!(
            usd(12_340).checked_bps_half_even(250),
            Ok(usd(308)),
            "308.5 → 308"
        );
        assert_eq!(
            usd(12_380).checked_bps_half_even(250),
            Ok(usd(310)),
            "309.5 → 310"
        );
        assert_eq!(usd(1).checked_bps_half_even(4_999), Ok(usd(0)));
        assert_eq!(usd(1).checked_bps_half_even(5_001), Ok(usd(1)));
        assert_eq!(
            usd(i64::MAX).checked_bps_half_even(10_000),
            Ok(usd(i64::MAX))
        );
        // i64::MAX is odd: its half is …x.5 with an odd floor, so it goes up.
        assert_eq!(
            usd(i64::MAX).checked_bps_half_even(5_000),
            Ok(usd(i64::MAX / 2 + 1))
        );
        assert_eq!(
            usd(i64::MAX).checked_bps_half_even(u16::MAX),
            Err(MoneyError::Overflow)
        );
        assert_eq!(
            usd(1).checked_fraction_half_even(1, 0),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn sums_and_minimums_are_checked() {
        let usd = |a| Money::new(a, currency("USD")).unwrap();
        let sum = |xs: Vec<Money>| Money::checked_sum(currency("USD"), xs);
        assert_eq!(sum(vec![]), Ok(usd(0)));
        assert_eq!(sum(vec![usd(1), usd(2), usd(3)]), Ok(usd(6)));
        assert_eq!(sum(vec![usd(i64::MAX), usd(1)]), Err(MoneyError::Overflow));
        assert!(matches!(
            sum(vec![Money::zero(currency("EUR"))]),
            Err(MoneyError::CurrencyMismatch(..))
        ));
        assert_eq!(usd(5).checked_min(usd(3)), Ok(usd(3)));
        assert_eq!(usd(3).checked_min(usd(5)), Ok(usd(3)));
        assert!(usd(3).checked_min(Money::zero(currency("EUR"))).is_err());
    }

    #[test]
    fn decimal_strings_follow_the_exponent() {
        let m = |a, c| Money::new(a, currency(c)).unwrap();
        assert_eq!(m(149_000, "RUB").to_decimal_string(), "1490.00");
        assert_eq!(m(5, "USD").to_decimal_string(), "0.05");
        assert_eq!(m(500, "JPY").to_decimal_string(), "500");
        assert_eq!(m(1_250, "KWD").to_decimal_string(), "1.250");
    }

    #[test]
    fn serializes_as_the_contract_says() {
        let json = serde_json::to_value(Money::new(1999, currency("EUR")).unwrap()).unwrap();
        assert_eq!(json, serde_json::json!({"amount": 1999, "currency": "EUR"}));
    }
    #[test]
    fn a_discounted_total_is_spread_over_the_lines_exactly() {
        assert_eq!(allocate(&[4900], 4410, 1), Some(vec![4410]));
        assert_eq!(allocate(&[1000, 3000], 3000, 1), Some(vec![750, 2250]));
        assert_eq!(
            allocate(&[999, 999, 999], 1000, 1),
            Some(vec![334, 333, 333])
        );
        assert_eq!(allocate(&[5120, 1000], 5000, 10), Some(vec![4190, 810]));
        assert_eq!(
            allocate(&[5120], 5005, 10),
            None,
            "not a multiple of ten fils"
        );
        assert_eq!(allocate(&[0], 100, 1), None);
        for (weights, total) in [
            (vec![1, 1, 1], 2),
            (vec![7, 3, 90], 99),
            (vec![4900, 100], 0),
        ] {
            let shares = allocate(&weights, total, 1).unwrap();
            assert_eq!(shares.iter().sum::<i64>(), total, "{weights:?}");
        }
    }

    #[test]
    fn decimals_are_read_exactly_or_refused() {
        let rub = currency("RUB");
        let read = |s: &str| Money::parse_decimal(s, rub).map(|m| m.amount.get());
        assert_eq!(read("1490.00"), Ok(149_000));
        assert_eq!(read("0.01"), Ok(1));
        assert_eq!(read("100.000000"), Ok(10_000));
        assert_eq!(read("5"), Ok(500));
        assert_eq!(read("5.5"), Ok(550));
        for bad in [
            "",
            ".5",
            "5.",
            "-1.00",
            "1,00",
            "1e3",
            "0.001",
            "１.00",
            " 1.00",
            "99999999999999999999",
        ] {
            assert!(read(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Money::parse_decimal("1500", currency("JPY")).map(|m| m.amount.get()),
            Ok(1500)
        );
        assert!(Money::parse_decimal("1500.5", currency("JPY")).is_err());
        for amount in [0, 1, 99, 149_000, 123_456_789] {
            let money = Money::new(amount, rub).unwrap();
            assert_eq!(
                Money::parse_decimal(&money.to_decimal_string(), rub),
                Ok(money)
            );
        }
    }
}
