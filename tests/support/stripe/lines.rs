//! The `line_items` of a Checkout Session: `price_data` lines (the fake has no Price
//! objects) in one currency, integer `unit_amount` × `quantity`, within Stripe's limits.

use serde_json::Value;

use super::params::{ApiError, ApiResult, check_amount, known, opt_int, opt_str, req_str};

#[rustfmt::skip]
const LINE: &[&str] = &[
    "adjustable_quantity", "metadata", "price", "price_data", "quantity", "tax_rates",
];
#[rustfmt::skip]
const PRICE_DATA: &[&str] = &[
    "currency", "product", "product_data", "recurring", "tax_behavior", "unit_amount",
    "unit_amount_decimal",
];
#[rustfmt::skip]
const PRODUCT_DATA: &[&str] = &[
    "description", "images", "metadata", "name", "tax_code", "tax_details", "unit_label",
];

/// The largest amount Stripe takes (eight digits of minor units).
const MAXIMUM: i64 = 99_999_999;

/// Stripe's minimum charge amounts, in minor units, for the currencies tests use.
fn minimum(currency: &str) -> Option<i64> {
    match currency {
        "usd" | "eur" | "jpy" => Some(50),
        "gbp" => Some(30),
        _ => None,
    }
}

fn bad(param: &str, message: impl Into<String>) -> ApiError {
    ApiError::invalid(None, param, message)
}

/// Σ `unit_amount` × `quantity` over the lines, and their one currency.
pub fn total(p: &Value) -> ApiResult<(i64, String)> {
    let items = p["line_items"]
        .as_array()
        .filter(|a| !a.is_empty())
        .ok_or_else(|| ApiError::missing("line_items"))?;
    if items.len() > 100 {
        return Err(bad(
            "line_items",
            "A Checkout Session in payment mode takes at most 100 line items.",
        ));
    }
    let mut total: i64 = 0;
    let mut currency: Option<String> = None;
    for (i, item) in items.iter().enumerate() {
        let (amount, line_currency) = line(i, item)?;
        if currency.as_ref().is_some_and(|c| *c != line_currency) {
            let param = format!("line_items[{i}][price_data][currency]");
            return Err(bad(
                &param,
                "All line items of a Checkout Session must have the same currency.",
            ));
        }
        currency = Some(line_currency);
        total = total.checked_add(amount).ok_or_else(|| {
            ApiError::invalid(Some("amount_too_large"), "line_items", "Amount too large.")
        })?;
    }
    let currency = currency.unwrap_or_default();
    if let Some(min) = minimum(&currency)
        && total < min
    {
        return Err(ApiError::invalid(
            Some("amount_too_small"),
            "line_items",
            format!(
                "The Checkout Session's total amount due must add up to at least {min} {currency} (in minor units)."
            ),
        ));
    }
    if total > MAXIMUM {
        return Err(ApiError::invalid(
            Some("amount_too_large"),
            "line_items",
            format!(
                "The Checkout Session's total amount due must be no more than {MAXIMUM} {currency} (in minor units)."
            ),
        ));
    }
    check_amount(total, &currency, "line_items")?;
    Ok((total, currency))
}

/// One line: its amount (`unit_amount` × `quantity`) and currency.
fn line(i: usize, item: &Value) -> ApiResult<(i64, String)> {
    let at = format!("line_items[{i}]");
    known(item, LINE, &at)?;
    if let Some(price) = opt_str(item, "price", &format!("{at}[price]"))? {
        return Err(ApiError::no_such("price", price, &format!("{at}[price]")));
    }
    let at_pd = format!("{at}[price_data]");
    let pd = item
        .get("price_data")
        .ok_or_else(|| ApiError::missing(&at_pd))?;
    known(pd, PRICE_DATA, &at_pd)?;
    if let Some(product) = opt_str(pd, "product", &format!("{at_pd}[product]"))? {
        return Err(ApiError::no_such(
            "product",
            product,
            &format!("{at_pd}[product]"),
        ));
    }
    if pd.get("recurring").is_some() {
        return Err(bad(
            &format!("{at_pd}[recurring]"),
            "You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices.",
        ));
    }
    let at_currency = format!("{at_pd}[currency]");
    let currency = req_str(pd, "currency", &at_currency)?.to_ascii_lowercase();
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_lowercase()) {
        return Err(bad(&at_currency, format!("Invalid currency: {currency}")));
    }
    if pd.get("unit_amount_decimal").is_some() {
        return Err(bad(
            &format!("{at_pd}[unit_amount_decimal]"),
            "The fake Stripe implements integer `unit_amount` only.",
        ));
    }
    let at_unit = format!("{at_pd}[unit_amount]");
    let unit = opt_int(pd, "unit_amount", &at_unit)?.ok_or_else(|| ApiError::missing(&at_unit))?;
    if unit < 0 {
        return Err(ApiError::invalid(
            Some("parameter_invalid_integer"),
            &at_unit,
            "This value must be greater than or equal to 0.",
        ));
    }
    let at_product = format!("{at_pd}[product_data]");
    let product = pd
        .get("product_data")
        .ok_or_else(|| ApiError::missing(&at_product))?;
    known(product, PRODUCT_DATA, &at_product)?;
    req_str(product, "name", &format!("{at_product}[name]"))?;
    let at_quantity = format!("{at}[quantity]");
    let quantity =
        opt_int(item, "quantity", &at_quantity)?.ok_or_else(|| ApiError::missing(&at_quantity))?;
    if quantity < 1 {
        return Err(ApiError::invalid(
            Some("parameter_invalid_integer"),
            &at_quantity,
            "This value must be greater than or equal to 1.",
        ));
    }
    let amount = unit.checked_mul(quantity).ok_or_else(|| {
        ApiError::invalid(Some("amount_too_large"), &at_unit, "Amount too large.")
    })?;
    Ok((amount, currency))
}
