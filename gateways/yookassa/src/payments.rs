//! Payments and refunds: creating a redirect payment for an order, reading what YooKassa says
//! of a payment or a refund as our events, capturing or cancelling a payment that waits for
//! capture, and refunding (with the platform's fee returned in proportion for split payments).
//!
//! Every event here comes from an object fetched from YooKassa with the shop's credentials,
//! never from a notification's body.

use chrono::{DateTime, Utc};
use lyceum_gateway_core::receipt::ReceiptSettings;
use lyceum_gateway_core::{
    CheckoutRequest, CheckoutSession, EventKind, GatewayError, GatewayEvent, Money, PaymentLookup,
    RefundAccepted, RefundLookup, RefundRequest, TenantAccount,
};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::Yookassa;
use crate::accounts::Shop;
use crate::api::{WireList, WirePayment, WireRefund, amount};
use crate::receipts::receipt;

/// The metadata key of the order's total as priced, checked before a two-stage payment is
/// captured.
const EXPECTED: &str = "lyceum_total";
/// The metadata key of our refund request's id on a refund.
const REFUND_KEY: &str = "lyceum_refund";

/// YooKassa caps a payment's description at 128 characters.
fn describe(request: &CheckoutRequest) -> String {
    let titles: Vec<&str> = request.lines.iter().map(|l| l.title.as_str()).collect();
    format!("Order {}: {}", request.invoice_number, titles.join(", "))
        .chars()
        .take(128)
        .collect()
}

/// Opens a redirect payment for the order.
pub(crate) async fn create(
    yookassa: &Yookassa,
    account: &TenantAccount,
    request: &CheckoutRequest,
) -> Result<CheckoutSession, GatewayError> {
    let shop = yookassa.shop(account)?;
    let settings = ReceiptSettings::from_settings(&account.settings);
    let mut body = json!({
        "amount": amount(request.total),
        "confirmation": {"type": "redirect", "return_url": request.success_url},
        "capture": true,
        "description": describe(request),
        "metadata": {
            "order_id": request.order_id.to_string(),
            "tenant_id": request.tenant_id.to_string(),
            EXPECTED: request.total.to_decimal_string(),
        },
    });
    if let Some(receipt) = receipt(
        &settings,
        &request.buyer_email,
        &request.lines,
        request.total,
        shop.seller().is_some(),
    )? {
        body["receipt"] = receipt;
    }
    if let Some(seller) = shop.seller() {
        // The seller is paid the total and the platform's fee is withheld from it.
        body["transfers"] = json!([{
            "account_id": seller,
            "amount": amount(request.total),
            "platform_fee_amount": amount(request.split.platform_fee),
            "metadata": {"order_id": request.order_id.to_string()},
        }]);
    }
    let payment: WirePayment = yookassa
        .call(
            shop.credentials(),
            Method::POST,
            "/payments",
            Some(&request.idempotency_key),
            Some(&body),
        )
        .await?;
    let redirect_url = payment
        .confirmation
        .and_then(|c| c.confirmation_url)
        .ok_or_else(|| GatewayError::Rejected("YooKassa gave no confirmation URL".into()))?;
    tracing::info!(order.id = %request.order_id, payment = %payment.id, split = shop.seller().is_some(), "YooKassa payment created");
    Ok(CheckoutSession {
        redirect_url,
        provider_reference: payment.id,
        expires_at: request.expires_at,
    })
}

fn time(at: Option<&str>) -> DateTime<Utc> {
    at.and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map_or_else(Utc::now, |t| t.with_timezone(&Utc))
}

fn metadata_uuid(payment: &WirePayment, key: &str) -> Option<Uuid> {
    payment.metadata.get(key)?.as_str()?.parse().ok()
}

/// What a fetched payment means for its order: success once captured and paid, failure once
/// cancelled, nothing while pending. A payment without our order in its metadata is not ours.
pub(crate) fn payment_events(payment: &WirePayment) -> Result<Vec<GatewayEvent>, GatewayError> {
    let Some(order_id) = metadata_uuid(payment, "order_id") else {
        return Ok(Vec::new());
    };
    let kind = match (payment.status.as_str(), payment.paid) {
        ("succeeded", true) => EventKind::PaymentSucceeded,
        ("canceled", _) => EventKind::PaymentFailed,
        _ => return Ok(Vec::new()),
    };
    let money = payment
        .amount
        .money()
        .map_err(|e| GatewayError::Rejected(format!("the payment's amount: {e}")))?;
    Ok(vec![GatewayEvent {
        provider_event_id: format!("payment:{}:{}", payment.id, payment.status),
        kind,
        order_id,
        tenant_id: metadata_uuid(payment, "tenant_id"),
        session_ref: Some(payment.id.clone()),
        provider_payment_id: payment.id.clone(),
        refund_id: None,
        dispute_id: None,
        amount: money,
        occurred_at: time(
            payment
                .captured_at
                .as_deref()
                .or(payment.created_at.as_deref()),
        ),
    }])
}

/// Fetches a payment as `shop`.
pub(crate) async fn get_payment(
    yookassa: &Yookassa,
    shop: &Shop<'_>,
    id: &str,
) -> Result<WirePayment, GatewayError> {
    if !valid_id(id) {
        return Err(GatewayError::UnknownPayment);
    }
    yookassa
        .call(
            shop.credentials(),
            Method::GET,
            &format!("/payments/{id}"),
            None,
            None,
        )
        .await
}

/// YooKassa's object ids are UUID-like: letters, digits and dashes. Anything else never
/// reaches a URL.
pub(crate) fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// A payment waiting for capture (a two-stage payment, which Lyceum never asks for but a shop
/// may be set up to make) is captured when it is for exactly the order's total as priced, and
/// cancelled otherwise; the payment as it then stands is returned.
pub(crate) async fn settle_capture(
    yookassa: &Yookassa,
    shop: &Shop<'_>,
    payment: WirePayment,
) -> Result<WirePayment, GatewayError> {
    // Only Lyceum's own payments: a shop may take other payments too, which are not ours to
    // capture or cancel.
    let ours = ["order_id", "tenant_id", EXPECTED]
        .iter()
        .all(|key| payment.metadata.get(*key).is_some_and(Value::is_string));
    if payment.status != "waiting_for_capture" || !ours || !valid_id(&payment.id) {
        return Ok(payment);
    }
    let expected = payment.metadata.get(EXPECTED).and_then(Value::as_str);
    let exact = expected.is_some_and(|e| e == payment.amount.value);
    let (action, body) = if exact {
        (
            "capture",
            json!({"amount": {"value": payment.amount.value, "currency": payment.amount.currency}}),
        )
    } else {
        ("cancel", json!({}))
    };
    tracing::info!(payment = %payment.id, action, "YooKassa payment waiting for capture");
    yookassa
        .call(
            shop.credentials(),
            Method::POST,
            &format!("/payments/{}/{action}", payment.id),
            Some(&format!("{action}-{}", payment.id)),
            Some(&body),
        )
        .await
}

/// What became of an order's payment (reconciliation).
pub(crate) async fn fetch(
    yookassa: &Yookassa,
    account: &TenantAccount,
    lookup: &PaymentLookup,
) -> Result<Vec<GatewayEvent>, GatewayError> {
    let Some(id) = lookup
        .provider_payment_id
        .as_deref()
        .or(lookup.session_ref.as_deref())
    else {
        return Ok(Vec::new());
    };
    let shop = yookassa.shop(account)?;
    let payment = get_payment(yookassa, &shop, id).await?;
    let payment = settle_capture(yookassa, &shop, payment).await?;
    let events = payment_events(&payment)?;
    // Only events about the order asked for.
    Ok(events
        .into_iter()
        .filter(|e| e.order_id == lookup.order_id)
        .collect())
}

/// The refund event for a fetched refund of a fetched payment, once it succeeded.
pub(crate) fn refund_events(
    refund: &WireRefund,
    payment: &WirePayment,
) -> Result<Vec<GatewayEvent>, GatewayError> {
    let Some(order_id) = metadata_uuid(payment, "order_id") else {
        return Ok(Vec::new());
    };
    if refund.status != "succeeded" || refund.payment_id != payment.id {
        return Ok(Vec::new());
    }
    let money = refund
        .amount
        .money()
        .map_err(|e| GatewayError::Rejected(format!("the refund's amount: {e}")))?;
    Ok(vec![GatewayEvent {
        provider_event_id: format!("refund:{}", refund.id),
        kind: EventKind::RefundSucceeded,
        order_id,
        tenant_id: metadata_uuid(payment, "tenant_id"),
        session_ref: Some(payment.id.clone()),
        provider_payment_id: payment.id.clone(),
        refund_id: Some(refund.id.clone()),
        dispute_id: None,
        amount: money,
        occurred_at: time(refund.created_at.as_deref()),
    }])
}

/// Fetches a refund, and its payment (for the order it names), as `shop`.
pub(crate) async fn get_refund(
    yookassa: &Yookassa,
    shop: &Shop<'_>,
    id: &str,
) -> Result<(WireRefund, WirePayment), GatewayError> {
    if !valid_id(id) {
        return Err(GatewayError::UnknownPayment);
    }
    let refund: WireRefund = yookassa
        .call(
            shop.credentials(),
            Method::GET,
            &format!("/refunds/{id}"),
            None,
            None,
        )
        .await?;
    let payment = get_payment(yookassa, shop, &refund.payment_id).await?;
    Ok((refund, payment))
}

/// What became of a refund YooKassa took (reconciliation).
pub(crate) async fn fetch_refund(
    yookassa: &Yookassa,
    account: &TenantAccount,
    lookup: &RefundLookup,
) -> Result<Vec<GatewayEvent>, GatewayError> {
    let shop = yookassa.shop(account)?;
    let (refund, payment) = get_refund(yookassa, &shop, &lookup.provider_refund_id).await?;
    if refund.status == "canceled" {
        // Final: YooKassa will not make it (the shop's balance did not cover it, say).
        return Err(cancelled(&refund));
    }
    Ok(refund_events(&refund, &payment)?
        .into_iter()
        .filter(|e| e.order_id == lookup.order_id)
        .collect())
}

/// The part of the platform's fee a refund of `refund` out of `total` returns (rounded down:
/// the platform never returns more than it took).
fn fee_returned(fee: Money, refund: Money, total: Money) -> Result<Money, GatewayError> {
    let numerator = u64::try_from(refund.amount.get()).unwrap_or(0);
    let denominator = u64::try_from(total.amount.get()).unwrap_or(0);
    fee.checked_fraction(numerator, denominator)
        .map_err(|e| GatewayError::Rejected(format!("the fee to return: {e}")))
}

/// Asks for a refund with its receipt; with split payments the seller returns the money and
/// the platform its fee in proportion. A refund YooKassa makes at once is settled in the
/// answer; a pending one by its notification or the reconciler.
pub(crate) async fn refund(
    yookassa: &Yookassa,
    account: &TenantAccount,
    request: &RefundRequest,
) -> Result<RefundAccepted, GatewayError> {
    let shop = yookassa.shop(account)?;
    let order = &request.order;
    let settings = ReceiptSettings::from_settings(&account.settings);
    let mut body = json!({
        "payment_id": request.provider_payment_id,
        "amount": amount(request.amount),
        "description": format!("Refund of order {}", order.invoice_number),
        "metadata": {
            "order_id": request.order_id.to_string(),
            "tenant_id": request.tenant_id.to_string(),
            REFUND_KEY: request.idempotency_key,
        },
    });
    if let Some(receipt) = receipt(
        &settings,
        &order.buyer_email,
        &order.lines,
        request.amount,
        shop.seller().is_some(),
    )? {
        body["receipt"] = receipt;
    }
    if let Some(seller) = shop.seller() {
        let fee = fee_returned(order.platform_fee, request.amount, order.total)?;
        body["sources"] = json!([{
            "account_id": seller,
            "amount": amount(request.amount),
            "platform_fee_amount": amount(fee),
        }]);
    }
    let asked = yookassa
        .call(
            shop.credentials(),
            Method::POST,
            "/refunds",
            Some(&request.idempotency_key),
            Some(&body),
        )
        .await;
    let refund: WireRefund = match asked {
        Ok(refund) => refund,
        Err(refused @ GatewayError::Rejected(_)) => {
            match made_before(
                yookassa,
                &shop,
                &request.provider_payment_id,
                &request.idempotency_key,
            )
            .await?
            {
                Some(refund) => refund,
                None => return Err(refused),
            }
        }
        Err(other) => return Err(other),
    };
    tracing::info!(order.id = %request.order_id, refund = %refund.id, status = %refund.status, "YooKassa refund requested");
    match refund.status.as_str() {
        "canceled" => Err(cancelled(&refund)),
        "succeeded" => {
            let payment = get_payment(yookassa, &shop, &refund.payment_id).await?;
            Ok(RefundAccepted {
                settled: refund_events(&refund, &payment)?,
                ..RefundAccepted::pending(refund.id)
            })
        }
        _ => Ok(RefundAccepted::pending(refund.id)),
    }
}

fn cancelled(refund: &WireRefund) -> GatewayError {
    GatewayError::Rejected(format!(
        "YooKassa cancelled the refund ({})",
        refund
            .cancellation_details
            .as_ref()
            .and_then(|c| c.reason.clone())
            .unwrap_or_default()
    ))
}

/// The refund YooKassa already made for our refund request `key`, if any: a retried request
/// whose body changed since (the buyer's address, the receipt settings) is refused for its
/// reused key, and the refund it made the first time is found by the key in its metadata.
async fn made_before(
    yookassa: &Yookassa,
    shop: &Shop<'_>,
    payment_id: &str,
    key: &str,
) -> Result<Option<WireRefund>, GatewayError> {
    if !valid_id(payment_id) {
        return Ok(None);
    }
    let list: WireList<WireRefund> = yookassa
        .call(
            shop.credentials(),
            Method::GET,
            &format!("/refunds?payment_id={payment_id}"),
            None,
            None,
        )
        .await?;
    Ok(list.items.into_iter().find(|r| {
        r.payment_id == payment_id
            && r.metadata.get(REFUND_KEY).and_then(Value::as_str) == Some(key)
    }))
}

/// Cancels a payment that waits for capture. A pending payment cannot be cancelled through
/// the API (YooKassa lets it lapse), so that is `Unsupported`.
pub(crate) async fn cancel(
    yookassa: &Yookassa,
    account: &TenantAccount,
    id: &str,
) -> Result<(), GatewayError> {
    let shop = yookassa.shop(account)?;
    let payment = get_payment(yookassa, &shop, id).await?;
    match payment.status.as_str() {
        "canceled" => Ok(()),
        "waiting_for_capture" => {
            let _: WirePayment = yookassa
                .call(
                    shop.credentials(),
                    Method::POST,
                    &format!("/payments/{id}/cancel"),
                    Some(&format!("cancel-{id}")),
                    Some(&json!({})),
                )
                .await?;
            Ok(())
        }
        "succeeded" => Err(GatewayError::Rejected(
            "the payment already succeeded".into(),
        )),
        _ => Err(GatewayError::Unsupported(
            "cancelling a pending YooKassa payment",
        )),
    }
}

#[cfg(test)]
mod tests {
    use lyceum_gateway_core::Currency;

    use super::*;
    use crate::api::WireAmount;

    fn rub(amount: i64) -> Money {
        Money::new(amount, Currency::parse("RUB").unwrap()).unwrap()
    }

    fn payment(status: &str, paid: bool) -> WirePayment {
        WirePayment {
            id: "2d9b3f1a-000f-5000-9000-1b2c3d4e5f60".into(),
            status: status.into(),
            paid,
            amount: WireAmount {
                value: "1490.00".into(),
                currency: "RUB".into(),
            },
            confirmation: None,
            metadata:
                json!({"order_id": Uuid::nil().to_string(), "tenant_id": Uuid::max().to_string()})
                    .as_object()
                    .unwrap()
                    .clone(),
            created_at: Some("2026-11-29T10:00:00.000Z".into()),
            captured_at: None,
        }
    }

    #[test]
    fn only_a_paid_success_grants_and_only_a_cancellation_fails() {
        let events = payment_events(&payment("succeeded", true)).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, EventKind::PaymentSucceeded);
        assert_eq!(events[0].amount, rub(149_000));
        assert_eq!(events[0].tenant_id, Some(Uuid::max()));
        assert_eq!(
            events[0].session_ref.as_deref(),
            Some(events[0].provider_payment_id.as_str())
        );
        assert!(
            payment_events(&payment("pending", false))
                .unwrap()
                .is_empty()
        );
        assert!(
            payment_events(&payment("waiting_for_capture", true))
                .unwrap()
                .is_empty()
        );
        assert!(
            payment_events(&payment("succeeded", false))
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            payment_events(&payment("canceled", false)).unwrap()[0].kind,
            EventKind::PaymentFailed
        );
        let mut stranger = payment("succeeded", true);
        stranger.metadata.clear();
        assert!(payment_events(&stranger).unwrap().is_empty());
    }

    #[test]
    fn a_partial_refund_returns_the_fee_in_proportion_rounded_down() {
        assert_eq!(
            fee_returned(rub(14_900), rub(74_500), rub(149_000)),
            Ok(rub(7_450))
        );
        assert_eq!(fee_returned(rub(3), rub(1), rub(2)), Ok(rub(1)));
        assert_eq!(fee_returned(rub(0), rub(1), rub(2)), Ok(rub(0)));
    }

    #[test]
    fn ids_that_are_not_yookassas_never_reach_a_url() {
        assert!(valid_id("2d9b3f1a-000f-5000-9000-1b2c3d4e5f60"));
        for bad in ["", "../me", "a/b", "a?b", "a%2Fb", &"a".repeat(65)] {
            assert!(!valid_id(bad), "{bad}");
        }
    }
}
