//! The money objects of a payment, shaped as in `objects`: PaymentIntent, charge, the
//! transfer and application fee of a destination charge, refunds and disputes.

use serde_json::{Map, Value, json};

use super::objects::{list, new_id};

/// The marketplace part of a payment: `payment_intent_data` as the session was created with.
#[derive(Debug, Clone, Default)]
pub struct Split {
    pub application_fee_amount: Option<i64>,
    pub destination: Option<String>,
    pub metadata: Map<String, Value>,
    pub description: Option<String>,
}

/// Ids of the objects one payment creates.
#[derive(Debug, Clone)]
pub struct PaymentIds {
    pub payment_intent: String,
    pub charge: String,
    pub payment_method: String,
    pub transfer: Option<String>,
    pub application_fee: Option<String>,
}

impl PaymentIds {
    pub fn new(split: &Split) -> Self {
        Self {
            payment_intent: new_id("pi"),
            charge: new_id("ch"),
            payment_method: new_id("pm"),
            transfer: split.destination.as_ref().map(|_| new_id("tr")),
            application_fee: split.application_fee_amount.map(|_| new_id("fee")),
        }
    }
}

/// A PaymentIntent in `status`; its metadata is the session's `payment_intent_data[metadata]`.
pub fn payment_intent(
    ids: &PaymentIds,
    created: i64,
    amount: i64,
    currency: &str,
    split: &Split,
    status: &str,
) -> Value {
    let received = if status == "succeeded" { amount } else { 0 };
    json!({
        "id": ids.payment_intent,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": received,
        "application": null,
        "application_fee_amount": split.application_fee_amount,
        "automatic_payment_methods": null,
        "canceled_at": null,
        "cancellation_reason": null,
        "capture_method": "automatic_async",
        "client_secret": format!("{}_secret_{}", ids.payment_intent, &new_id("s")[2..]),
        "confirmation_method": "automatic",
        "created": created,
        "currency": currency,
        "customer": null,
        "description": split.description,
        "last_payment_error": null,
        "latest_charge": ids.charge,
        "livemode": false,
        "metadata": split.metadata,
        "next_action": null,
        "on_behalf_of": null,
        "payment_method": ids.payment_method,
        "payment_method_configuration_details": null,
        "payment_method_options": {},
        "payment_method_types": ["card"],
        "processing": null,
        "receipt_email": null,
        "review": null,
        "setup_future_usage": null,
        "shipping": null,
        "source": null,
        "statement_descriptor": null,
        "statement_descriptor_suffix": null,
        "status": status,
        "transfer_data": split.destination.as_ref().map(|d| json!({"destination": d})),
        "transfer_group": split.destination.as_ref().map(|_| format!("group_{}", ids.payment_intent)),
    })
}

/// The charge of a payment in `status` (`succeeded`, `pending`, `failed`); the
/// PaymentIntent's metadata is copied onto it when it is created, as Stripe does.
pub fn charge(
    ids: &PaymentIds,
    created: i64,
    amount: i64,
    currency: &str,
    split: &Split,
    status: &str,
    email: Option<&str>,
) -> Value {
    let paid = status == "succeeded";
    let failed = status == "failed";
    let billing_details = json!({
        "address": {
            "city": null, "country": "US", "line1": null, "line2": null,
            "postal_code": "42424", "state": null
        },
        "email": email.unwrap_or("buyer@example.com"),
        "name": "Jenny Rosen",
        "phone": null,
        "tax_id": null
    });
    let outcome = json!({
        "network_status": if failed { "declined_by_network" } else { "approved_by_network" },
        "reason": null,
        "risk_level": "normal",
        "risk_score": 32,
        "seller_message": if paid { "Payment complete." } else { "Payment pending." },
        "type": if failed { "issuer_declined" } else { "authorized" }
    });
    let card = json!({
        "amount_authorized": amount, "brand": "visa", "checks": null, "country": "US",
        "exp_month": 12, "exp_year": 2034, "fingerprint": "fakefingerprint0",
        "funding": "credit", "last4": "4242", "network": "visa",
        "network_transaction_id": "000000000000000", "three_d_secure": null, "wallet": null
    });
    let group = split
        .destination
        .as_ref()
        .map(|_| format!("group_{}", ids.payment_intent));
    let mut charge = json!({
        "id": ids.charge,
        "object": "charge",
        "amount": amount,
        "amount_captured": if paid { amount } else { 0 },
        "amount_refunded": 0,
        "application": null,
        "application_fee": ids.application_fee,
        "application_fee_amount": split.application_fee_amount,
        "balance_transaction": new_id("txn"),
        "billing_details": billing_details,
        "calculated_statement_descriptor": "LYCEUM",
        "captured": paid,
        "created": created,
        "currency": currency,
        "customer": null,
        "description": split.description,
        "disputed": false,
        "failure_balance_transaction": null,
        "failure_code": if failed { json!("card_declined") } else { Value::Null },
        "failure_message": if failed { json!("Your card was declined.") } else { Value::Null },
        "fraud_details": {},
        "livemode": false,
        "metadata": split.metadata,
    });
    let rest = json!({
        "on_behalf_of": null,
        "outcome": outcome,
        "paid": paid,
        "payment_intent": ids.payment_intent,
        "payment_method": ids.payment_method,
        "payment_method_details": {"card": card, "type": "card"},
        "receipt_email": null,
        "receipt_number": null,
        "receipt_url": null,
        "refunded": false,
        "review": null,
        "shipping": null,
        "source_transfer": null,
        "statement_descriptor": null,
        "statement_descriptor_suffix": null,
        "status": status,
        "transfer": ids.transfer,
        "transfer_data": split.destination.as_ref().map(|d| json!({"amount": null, "destination": d})),
        "transfer_group": group,
    });
    if let (Some(head), Value::Object(rest)) = (charge.as_object_mut(), rest) {
        head.extend(rest);
    }
    charge
}

/// The transfer of a destination charge: the whole amount goes to the connected account,
/// which then pays the application fee back (Stripe's destination-charge flow).
pub fn transfer(
    id: &str,
    created: i64,
    amount: i64,
    currency: &str,
    charge: &str,
    destination: &str,
    group: &str,
) -> Value {
    json!({
        "id": id,
        "object": "transfer",
        "amount": amount,
        "amount_reversed": 0,
        "balance_transaction": new_id("txn"),
        "created": created,
        "currency": currency,
        "description": null,
        "destination": destination,
        "destination_payment": new_id("py"),
        "livemode": false,
        "metadata": {},
        "reversals": list(&format!("/v1/transfers/{id}/reversals"), vec![], false),
        "reversed": false,
        "source_transaction": charge,
        "source_type": "card",
        "transfer_group": group,
    })
}

/// The application fee a destination charge collects from the connected account.
pub fn application_fee(
    id: &str,
    created: i64,
    amount: i64,
    currency: &str,
    charge: &str,
    account: &str,
) -> Value {
    json!({
        "id": id,
        "object": "application_fee",
        "account": account,
        "amount": amount,
        "amount_refunded": 0,
        "application": "ca_fakeplatform",
        "balance_transaction": new_id("txn"),
        "charge": charge,
        "created": created,
        "currency": currency,
        "fee_source": {"charge": charge, "type": "charge"},
        "livemode": false,
        "originating_transaction": null,
        "refunded": false,
        "refunds": list(&format!("/v1/application_fees/{id}/refunds"), vec![], false),
    })
}

/// A refund, succeeded; `transfer_reversal` names the reversal when the transfer was reversed.
pub fn refund(
    id: &str,
    created: i64,
    amount: i64,
    charge: &Value,
    metadata: Value,
    reason: Option<&str>,
    transfer_reversal: Option<&str>,
) -> Value {
    json!({
        "id": id,
        "object": "refund",
        "amount": amount,
        "balance_transaction": new_id("txn"),
        "charge": charge["id"],
        "created": created,
        "currency": charge["currency"],
        "destination_details": {
            "card": {
                "reference": null,
                "reference_status": "pending",
                "reference_type": "acquirer_reference_number",
                "type": "refund"
            },
            "type": "card"
        },
        "metadata": metadata,
        "payment_intent": charge["payment_intent"],
        "reason": reason,
        "receipt_number": null,
        "source_transfer_reversal": null,
        "status": "succeeded",
        "transfer_reversal": transfer_reversal,
    })
}

/// A dispute on a charge, `needs_response` until it is closed.
pub fn dispute(id: &str, created: i64, charge: &Value, reason: &str) -> Value {
    json!({
        "id": id,
        "object": "dispute",
        "amount": charge["amount"],
        "balance_transactions": [],
        "charge": charge["id"],
        "created": created,
        "currency": charge["currency"],
        "enhanced_eligibility_types": [],
        "evidence": {
            "access_activity_log": null, "billing_address": null, "cancellation_policy": null,
            "customer_email_address": null, "customer_name": null, "enhanced_evidence": {},
            "product_description": null, "receipt": null, "uncategorized_text": null
        },
        "evidence_details": {
            "due_by": created + 7 * 24 * 3600,
            "enhanced_eligibility": {},
            "has_evidence": false,
            "past_due": false,
            "submission_count": 0
        },
        "is_charge_refundable": false,
        "livemode": false,
        "metadata": {},
        "network_reason_code": "10.4",
        "payment_intent": charge["payment_intent"],
        "payment_method_details": {
            "card": {
                "brand": "visa", "case_type": "chargeback", "network": "visa",
                "network_reason_code": "10.4"
            },
            "type": "card"
        },
        "reason": reason,
        "status": "needs_response",
    })
}
