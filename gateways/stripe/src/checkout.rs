//! Checkout Sessions: one per order, a destination charge to the storefront's connected
//! account with the platform's fee, never open longer than the order.

use std::collections::HashMap;
use std::str::FromStr;

use chrono::{DateTime, TimeDelta, Utc};
use lyceum_gateway_core::{
    CheckoutRequest, CheckoutSession, Currency, GatewayError, Itemised, Money, TenantAccount,
    allocate,
};
use stripe::{IdempotencyKey, RequestStrategy, StripeRequest};
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionLineItemsPriceData,
    CreateCheckoutSessionPaymentIntentData, CreateCheckoutSessionPaymentIntentDataTransferData,
    ExpireCheckoutSession, ProductData,
};
use stripe_shared::CheckoutSessionMode;

use crate::Stripe;
use crate::error::{gateway_error, is_state_conflict};

/// Stripe keeps a session open at least this long…
const MIN_SESSION: TimeDelta = TimeDelta::minutes(30);
/// …and at most this long.
const MAX_SESSION: TimeDelta = TimeDelta::hours(24);

/// Stripe's currency for ours (lower-case ISO code).
pub(crate) fn stripe_currency(currency: Currency) -> Result<stripe_types::Currency, GatewayError> {
    // A code async-stripe has no variant for (KWD, say) travels as it is, lower-case:
    // Stripe, not the client library, decides whether it takes it.
    let Ok(parsed) = stripe_types::Currency::from_str(&currency.code().to_ascii_lowercase());
    Ok(parsed)
}

/// How many of Stripe's units make one of our minor units. Stripe follows ISO 4217's
/// exponents except for ISK, which ISO gives no decimals and Stripe two (an amount of 100 is
/// one króna), so ISK amounts are scaled by 100 on the way to Stripe and back.
pub(crate) fn stripe_scale(currency: Currency) -> i64 {
    match currency.code() {
        "ISK" => 100,
        _ => 1,
    }
}

/// An amount as Stripe takes it: integer minor units (scaled where Stripe's exponent differs,
/// see [`stripe_scale`]), which for three-decimal currencies (KWD, BHD, …) Stripe accepts
/// only in multiples of 10.
pub(crate) fn stripe_amount(money: Money) -> Result<i64, GatewayError> {
    let amount = money
        .amount
        .get()
        .checked_mul(stripe_scale(money.currency))
        .ok_or_else(|| GatewayError::Rejected(format!("{money} is too large for Stripe")))?;
    if amount % fee_step(money.currency) != 0 {
        return Err(GatewayError::Rejected(format!(
            "Stripe takes {} amounts in multiples of 10 minor units; {money} is not",
            money.currency
        )));
    }
    Ok(amount)
}

/// The lines as Stripe charges them — `(title, unit amount, quantity)` — adding up to exactly
/// the order's total: the catalog prices, or, when a discount applies, each line's share of
/// the discounted total (in proportion to its price, the remainder to the largest lines;
/// in ten-unit steps for three-decimal currencies), so the buyer pays what the order says.
fn charged_lines(request: &CheckoutRequest) -> Result<Vec<(String, i64, u32)>, GatewayError> {
    let total = stripe_amount(request.total)?;
    let full: Vec<i64> = request
        .lines
        .iter()
        .map(|l| {
            stripe_amount(l.unit_price)?
                .checked_mul(i64::from(l.quantity))
                .ok_or_else(|| GatewayError::Rejected("a line's amount overflows".into()))
        })
        .collect::<Result<_, _>>()?;
    if full.iter().sum::<i64>() == total {
        return request
            .lines
            .iter()
            .map(|l| Ok((l.title.clone(), stripe_amount(l.unit_price)?, l.quantity)))
            .collect();
    }
    let step = fee_step(request.total.currency);
    let shares = allocate(&full, total, step).ok_or_else(|| {
        GatewayError::Rejected("the order's total cannot be split over its lines".into())
    })?;
    Ok(request
        .lines
        .iter()
        .zip(shares)
        .map(|(l, share)| {
            let item = Itemised::new(share, l.quantity);
            (item.title(&l.title), item.unit, item.count)
        })
        .collect())
}

/// The step of Stripe's amounts, and so of the fees it takes: ten minor units in
/// three-decimal currencies (Stripe's amounts end in 0 there), one elsewhere. The platform
/// rounds an order's fee down to it before storing it, so the order's fee is the application
/// fee.
pub(crate) fn fee_step(currency: Currency) -> i64 {
    if currency.exponent() == 3 { 10 } else { 1 }
}

/// The platform's fee as Stripe takes it: the order's fee (half-even percentage plus the fixed
/// part, at most the total) as it is, except in three-decimal currencies, where Stripe's
/// amounts end in 0 and the fee is rounded down to ten minor units: the storefront gets the few
/// minor units more, the buyer pays exactly the price, and the fee stays within the total
/// (itself a multiple of ten there).
pub(crate) fn application_fee(fee: Money) -> i64 {
    let amount = fee.amount.get().saturating_mul(stripe_scale(fee.currency));
    amount - amount.rem_euclid(fee_step(fee.currency))
}

/// Where Stripe sends the buyer after paying: our status page, told the session.
fn success_url(url: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}session_id={{CHECKOUT_SESSION_ID}}")
}

/// When the session expires: with the order, within Stripe's bounds. An order shorter than
/// Stripe's minimum is closed by the platform when it expires (`cancel_checkout`).
fn session_expiry(order_expires: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
    order_expires.clamp(
        now + MIN_SESSION + TimeDelta::seconds(30),
        now + MAX_SESSION,
    )
}

pub(crate) async fn create(
    stripe: &Stripe,
    account: &TenantAccount,
    request: &CheckoutRequest,
) -> Result<CheckoutSession, GatewayError> {
    let destination = account.provider_account_id.as_deref().ok_or_else(|| {
        GatewayError::Rejected("the storefront has no connected Stripe account".into())
    })?;
    let currency = stripe_currency(request.total.currency)?;
    let mut line_items = Vec::with_capacity(request.lines.len());
    for (title, unit_amount, quantity) in charged_lines(request)? {
        let mut price = CreateCheckoutSessionLineItemsPriceData::new(currency.clone());
        price.unit_amount = Some(unit_amount);
        price.product_data = Some(ProductData::new(title));
        let mut item = CreateCheckoutSessionLineItems::new();
        item.price_data = Some(price);
        item.quantity = Some(u64::from(quantity));
        line_items.push(item);
    }
    let metadata = HashMap::from([
        ("order_id".to_owned(), request.order_id.to_string()),
        ("tenant_id".to_owned(), request.tenant_id.to_string()),
    ]);
    let mut payment = CreateCheckoutSessionPaymentIntentData::new();
    let fee = application_fee(request.split.platform_fee);
    if fee > 0 {
        payment.application_fee_amount = Some(fee);
    }
    payment.transfer_data = Some(CreateCheckoutSessionPaymentIntentDataTransferData::new(
        destination,
    ));
    payment.metadata = Some(metadata.clone());
    let now = Utc::now();
    let expires_at = session_expiry(request.expires_at, now);
    let key = IdempotencyKey::new(format!("checkout:{}", request.idempotency_key))
        .map_err(|e| GatewayError::Rejected(format!("idempotency key: {e}")))?;
    let session = CreateCheckoutSession::new()
        .mode(CheckoutSessionMode::Payment)
        .line_items(line_items)
        .client_reference_id(request.order_id.to_string())
        .metadata(metadata)
        .customer_email(request.buyer_email.as_str())
        .success_url(success_url(&request.success_url))
        .cancel_url(request.cancel_url.as_str())
        .expires_at(expires_at.timestamp())
        .payment_intent_data(payment)
        .customize()
        .request_strategy(RequestStrategy::Idempotent(key))
        .send(stripe.client())
        .await
        .map_err(gateway_error)?;
    let redirect_url = session
        .url
        .clone()
        .ok_or_else(|| GatewayError::Unavailable("Stripe gave the session no URL".into()))?;
    tracing::info!(order.id = %request.order_id, session = %session.id.as_str(), "Stripe checkout opened");
    Ok(CheckoutSession {
        redirect_url,
        provider_reference: session.id.as_str().to_owned(),
        expires_at: DateTime::<Utc>::from_timestamp(session.expires_at, 0).unwrap_or(expires_at),
    })
}

/// Expires an open session; one already complete or expired stays as it is.
pub(crate) async fn expire(stripe: &Stripe, session_ref: &str) -> Result<(), GatewayError> {
    match ExpireCheckoutSession::new(session_ref)
        .send(stripe.client())
        .await
    {
        Ok(_) => {
            tracing::info!(session = %session_ref, "Stripe checkout expired");
            Ok(())
        }
        Err(e) if is_state_conflict(&e) => {
            tracing::info!(session = %session_ref, "Stripe checkout was no longer open");
            Ok(())
        }
        Err(e) => Err(gateway_error(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(amount: i64, code: &str) -> Money {
        Money::new(amount, Currency::parse(code).unwrap()).unwrap()
    }

    #[test]
    fn amounts_are_minor_units_and_three_decimals_come_in_tens() {
        assert_eq!(stripe_amount(money(1999, "USD")), Ok(1999));
        assert_eq!(stripe_amount(money(1500, "JPY")), Ok(1500));
        assert_eq!(stripe_amount(money(5120, "KWD")), Ok(5120));
        assert!(matches!(
            stripe_amount(money(5124, "KWD")),
            Err(GatewayError::Rejected(_))
        ));
    }

    #[test]
    fn isk_is_two_decimal_at_stripe() {
        assert_eq!(stripe_amount(money(5000, "ISK")), Ok(500_000));
        assert_eq!(application_fee(money(500, "ISK")), 50_000);
        assert_eq!(stripe_amount(money(5000, "HUF")), Ok(5000));
    }

    #[test]
    fn three_decimal_fees_are_rounded_down_to_tens() {
        assert_eq!(application_fee(money(512, "KWD")), 510);
        assert_eq!(application_fee(money(510, "KWD")), 510);
        assert_eq!(application_fee(money(513, "USD")), 513);
        assert_eq!(application_fee(money(7, "JPY")), 7);
        // A plan's fee: 7.5 % of 5.120 KWD is 0.384, plus a fixed 0.025.
        assert_eq!(application_fee(money(409, "KWD")), 400);
        assert_eq!(application_fee(money(5120, "KWD")), 5120, "the whole total");
    }

    #[test]
    fn currencies_are_lower_case_iso_codes() {
        for code in ["JPY", "KWD", "USD"] {
            assert_eq!(
                stripe_currency(Currency::parse(code).unwrap())
                    .unwrap()
                    .to_string(),
                code.to_ascii_lowercase()
            );
        }
    }

    #[test]
    fn the_success_url_carries_the_session_template() {
        assert_eq!(
            success_url("https://x.test/orders/1"),
            "https://x.test/orders/1?session_id={CHECKOUT_SESSION_ID}"
        );
        assert_eq!(
            success_url("https://x.test/o?paid=1"),
            "https://x.test/o?paid=1&session_id={CHECKOUT_SESSION_ID}"
        );
    }

    #[test]
    fn sessions_live_with_the_order_within_stripes_bounds() {
        let now = Utc::now();
        let hour = now + TimeDelta::hours(1);
        assert_eq!(session_expiry(hour, now), hour);
        assert!(session_expiry(now + TimeDelta::minutes(5), now) > now + MIN_SESSION);
        assert_eq!(
            session_expiry(now + TimeDelta::days(3), now),
            now + MAX_SESSION
        );
    }
}
