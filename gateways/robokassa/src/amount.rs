//! `OutSum`: rubles as a decimal with a dot, made from and read into integer kopecks exactly
//! (never through a float).

use lyceum_gateway_core::{Currency, GatewayError, Money};

/// The only currency the gateway charges in: `OutSum` is rubles.
pub(crate) const RUB: &str = "RUB";

/// Russian rubles.
pub(crate) fn rub() -> Option<Currency> {
    Currency::parse(RUB).ok()
}

/// `OutSum` for an amount: `1490.00`.
pub(crate) fn out_sum(amount: Money) -> Result<String, GatewayError> {
    if amount.currency.code() != RUB {
        return Err(GatewayError::Rejected(format!(
            "Robokassa charges in RUB, not {}",
            amount.currency
        )));
    }
    Ok(amount.to_decimal_string())
}

/// A received `OutSum` (`100.000000`, `1490.5`, `10`) in kopecks. More decimals than kopecks
/// are refused unless they are zeros; signs, exponents, spaces and empty parts are refused.
pub fn parse_out_sum(text: &str) -> Option<i64> {
    money(text).map(|m| m.amount.get())
}

/// A received `OutSum` as money, read exactly (`Money::parse_decimal`).
pub(crate) fn money(text: &str) -> Option<Money> {
    Money::parse_decimal(text, rub()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn received_sums_parse_exactly() {
        assert_eq!(parse_out_sum("100.000000"), Some(10_000));
        assert_eq!(parse_out_sum("100"), Some(10_000));
        assert_eq!(parse_out_sum("1490.5"), Some(149_050));
        assert_eq!(parse_out_sum("0.01"), Some(1));
        assert_eq!(parse_out_sum("12.340000"), Some(1_234));
        for bad in [
            "", ".", "1.", ".5", "1.005", "-1.00", "1e3", " 1.00", "1,00", "1.2.3",
        ] {
            assert_eq!(parse_out_sum(bad), None, "{bad:?}");
        }
        assert_eq!(parse_out_sum("99999999999999999999"), None);
    }

    #[test]
    fn sums_are_written_in_rubles() {
        assert_eq!(
            out_sum(Money::new(149_000, rub().unwrap()).unwrap()).unwrap(),
            "1490.00"
        );
        assert_eq!(
            out_sum(Money::new(5, rub().unwrap()).unwrap()).unwrap(),
            "0.05"
        );
        let usd = Money::new(100, Currency::parse("USD").unwrap()).unwrap();
        assert!(out_sum(usd).is_err());
    }
}
