//! Input parsed into types that cannot hold invalid values ("parse, don't validate").
//!
//! Handlers turn request fields into these types first; a failure is a [`FieldError`] naming
//! the field, answered as 422 problem+json. Services only ever see parsed values.

mod email;
mod text;

pub use email::Email;
pub use lyceum_gateway_core::{Currency, Money};
pub use lyceum_tenants::Slug;
pub use text::{BoundedText, Password};

/// The largest price anyone may set (a course's price, a coupon's amount off), in minor
/// units: 10^11, a billion USD or a hundred billion JPY, far above any course.
///
/// The cap keeps every sum of an order far inside `i64`: [`crate::services::commerce::checkout`]
/// takes at most 20 lines, so a subtotal stays under 2 × 10^12, and the fee's product in
/// basis points under 2 × 10^16 (`i64::MAX` is about 9.2 × 10^18). The pricing arithmetic is
/// checked all the same, for rows stored before the cap existed.
pub const MAX_PRICE_MINOR_UNITS: i64 = 100_000_000_000;

/// One refused input field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl ToString) -> Self {
        Self {
            field: field.into(),
            message: message.to_string(),
        }
    }
}

/// Parses a slug, naming `field` on failure.
pub fn slug(field: &str, value: &str) -> Result<Slug, FieldError> {
    Slug::parse(value).map_err(|e| FieldError::new(field, e))
}

/// Parses a storefront's slug (a slug that is not reserved for the platform), naming `field`
/// on failure.
pub fn storefront_slug(field: &str, value: &str) -> Result<Slug, FieldError> {
    Slug::parse_storefront(value).map_err(|e| FieldError::new(field, e))
}

/// Parses an amount and currency code into [`Money`], naming `field` on failure.
pub fn money(field: &str, amount: i64, currency: &str) -> Result<Money, FieldError> {
    let currency =
        Currency::parse(currency).map_err(|e| FieldError::new(format!("{field}.currency"), e))?;
    Money::new(amount, currency).map_err(|e| FieldError::new(format!("{field}.amount"), e))
}

/// Parses a price: [`money`], at most [`MAX_PRICE_MINOR_UNITS`].
pub fn price(field: &str, amount: i64, currency: &str) -> Result<Money, FieldError> {
    let money = money(field, amount, currency)?;
    check_price_cap(field, money)?;
    Ok(money)
}

/// Refuses an amount over [`MAX_PRICE_MINOR_UNITS`], naming `field`.
pub fn check_price_cap(field: &str, price: Money) -> Result<(), FieldError> {
    if price.amount.get() > MAX_PRICE_MINOR_UNITS {
        return Err(FieldError::new(
            format!("{field}.amount"),
            format!("must be at most {MAX_PRICE_MINOR_UNITS} minor units"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_capped() {
        assert!(price("price", MAX_PRICE_MINOR_UNITS, "USD").is_ok());
        assert_eq!(
            price("price", MAX_PRICE_MINOR_UNITS + 1, "USD")
                .unwrap_err()
                .field,
            "price.amount"
        );
        assert!(price("price", i64::MAX, "JPY").is_err());
        assert!(price("price", -1, "USD").is_err());
        // Plain amounts (a refund of a large order) are not prices.
        assert!(money("amount", MAX_PRICE_MINOR_UNITS * 20, "USD").is_ok());
    }
}
