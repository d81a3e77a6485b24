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
