//! The Stripe objects the fake hands out, as JSON, shaped like the API reference at version
//! `2026-09-30.endive`: every field async-stripe's models require is present (they parse with
//! miniserde, which refuses a missing non-`Option` field), optional ones are present as `null`
//! where Stripe sends them. The recorded payloads in `tests/fixtures/stripe/events/` have
//! the same shapes (a test compares their keys).

use serde_json::{Map, Value, json};

/// A new id with Stripe's prefix for the object (`cs_test_`, `pi_`, `acct_` …).
pub fn new_id(prefix: &str) -> String {
    let random = uuid::Uuid::new_v4().simple().to_string();
    let len = if prefix == "acct" { 16 } else { 24 };
    format!("{prefix}_{}", &random[..len])
}

/// A list object as Stripe returns it.
pub fn list(url: &str, data: Vec<Value>, has_more: bool) -> Value {
    json!({"object": "list", "data": data, "has_more": has_more, "url": url})
}

fn requirements(due: &[String], past_due: &[String], disabled_reason: Option<&str>) -> Value {
    json!({
        "alternatives": [],
        "current_deadline": null,
        "currently_due": due,
        "disabled_reason": disabled_reason,
        "errors": [],
        "eventually_due": due,
        "past_due": past_due,
        "pending_verification": [],
    })
}

/// What a new Express account still has to provide.
pub fn onboarding_requirements() -> Vec<String> {
    [
        "business_profile.mcc",
        "business_profile.url",
        "business_type",
        "external_account",
        "representative.first_name",
        "representative.last_name",
        "tos_acceptance.date",
        "tos_acceptance.ip",
    ]
    .map(str::to_owned)
    .to_vec()
}

/// The state of a connected account that onboarding changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountStatus {
    pub charges_enabled: bool,
    pub payouts_enabled: bool,
    pub details_submitted: bool,
    pub currently_due: Vec<String>,
    pub past_due: Vec<String>,
    /// Stripe's `requirements.disabled_reason` (`requirements.past_due`, `rejected.fraud` …).
    pub disabled_reason: Option<String>,
}

impl AccountStatus {
    /// A new Express account: nothing enabled, everything due.
    pub fn new_express() -> Self {
        Self {
            charges_enabled: false,
            payouts_enabled: false,
            details_submitted: false,
            currently_due: onboarding_requirements(),
            past_due: Vec::new(),
            disabled_reason: None,
        }
    }

    /// A finished onboarding: charges and payouts enabled, nothing due.
    pub fn onboarded() -> Self {
        Self {
            charges_enabled: true,
            payouts_enabled: true,
            details_submitted: true,
            currently_due: Vec::new(),
            past_due: Vec::new(),
            disabled_reason: None,
        }
    }

    /// Writes this state into an account object.
    pub fn apply(&self, account: &mut Value) {
        let capability = if self.charges_enabled {
            "active"
        } else {
            "inactive"
        };
        let transfers = if self.payouts_enabled {
            "active"
        } else {
            "inactive"
        };
        account["charges_enabled"] = json!(self.charges_enabled);
        account["payouts_enabled"] = json!(self.payouts_enabled);
        account["details_submitted"] = json!(self.details_submitted);
        account["capabilities"] = json!({"card_payments": capability, "transfers": transfers});
        account["requirements"] = requirements(
            &self.currently_due,
            &self.past_due,
            self.disabled_reason.as_deref(),
        );
    }

    /// Reads the state back from an account object.
    pub fn of(account: &Value) -> Self {
        let strings = |v: &Value| -> Vec<String> {
            v.as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        Self {
            charges_enabled: account["charges_enabled"] == true,
            payouts_enabled: account["payouts_enabled"] == true,
            details_submitted: account["details_submitted"] == true,
            currently_due: strings(&account["requirements"]["currently_due"]),
            past_due: strings(&account["requirements"]["past_due"]),
            disabled_reason: account["requirements"]["disabled_reason"]
                .as_str()
                .map(str::to_owned),
        }
    }
}

/// A connected account as `POST /v1/accounts` creates it.
pub fn account(id: &str, created: i64, params: &Value) -> Value {
    let country = params["country"]
        .as_str()
        .unwrap_or("US")
        .to_ascii_uppercase();
    let currency = match country.as_str() {
        "JP" => "jpy",
        "KW" => "kwd",
        "GB" => "gbp",
        "US" => "usd",
        _ => "eur",
    };
    let kind = params["type"].as_str().unwrap_or("express");
    let mut account = json!({
        "id": id,
        "object": "account",
        "business_profile": {
            "mcc": null, "name": null, "product_description": null, "support_address": null,
            "support_email": null, "support_phone": null, "support_url": null, "url": null
        },
        "business_type": null,
        "controller": {
            "is_controller": true,
            "type": "application",
            "requirement_collection": "stripe",
            "stripe_dashboard": {"type": kind}
        },
        "country": country,
        "created": created,
        "default_currency": currency,
        "email": params["email"],
        "external_accounts": list(&format!("/v1/accounts/{id}/external_accounts"), vec![], false),
        "future_requirements": requirements(&[], &[], None),
        "metadata": params.get("metadata").cloned().unwrap_or_else(|| json!({})),
        "tos_acceptance": {"date": null, "ip": null, "user_agent": null},
        "type": kind,
    });
    AccountStatus::new_express().apply(&mut account);
    account
}

/// The amounts of one Checkout Session, parsed from its parameters.
#[derive(Debug, Clone)]
pub struct SessionInput {
    pub amount_total: i64,
    pub currency: String,
    pub expires_at: i64,
    pub url: String,
}

/// A Checkout Session as `POST /v1/checkout/sessions` creates it (open, unpaid, no
/// PaymentIntent yet: Checkout creates it when the customer pays).
pub fn checkout_session(id: &str, created: i64, params: &Value, input: &SessionInput) -> Value {
    let text = |key: &str| params.get(key).cloned().unwrap_or(Value::Null);
    let mut session = json!({
        "id": id,
        "object": "checkout.session",
        "adaptive_pricing": null,
        "after_expiration": null,
        "allow_promotion_codes": params.get("allow_promotion_codes").map(|v| v == "true"),
        "amount_subtotal": input.amount_total,
        "amount_total": input.amount_total,
        "automatic_tax": {"enabled": false, "liability": null, "provider": null, "status": null},
        "billing_address_collection": null,
        "cancel_url": text("cancel_url"),
        "client_reference_id": text("client_reference_id"),
        "client_secret": null,
        "collected_information": null,
        "consent": null,
        "consent_collection": null,
        "created": created,
        "currency": input.currency,
        "currency_conversion": null,
        "custom_fields": [],
        "custom_text": {
            "after_submit": null, "shipping_address": null, "submit": null,
            "terms_of_service_acceptance": null
        },
        "customer": null,
        "customer_creation": "if_required",
        "customer_details": null,
        "customer_email": text("customer_email"),
        "discounts": [],
        "expires_at": input.expires_at,
        "invoice": null,
        "invoice_creation": {
            "enabled": false,
            "invoice_data": {
                "account_tax_ids": null, "custom_fields": null, "description": null,
                "footer": null, "issuer": null, "metadata": {}, "rendering_options": null
            }
        },
    });
    let rest = json!({
        "livemode": false,
        "locale": text("locale"),
        "metadata": params.get("metadata").cloned().unwrap_or_else(|| json!({})),
        "mode": "payment",
        "payment_intent": null,
        "payment_link": null,
        "payment_method_collection": "if_required",
        "payment_method_configuration_details": null,
        "payment_method_options": {},
        "payment_method_types": ["card"],
        "payment_status": "unpaid",
        "phone_number_collection": {"enabled": false},
        "recovered_from": null,
        "saved_payment_method_options": null,
        "setup_intent": null,
        "shipping_address_collection": null,
        "shipping_cost": null,
        "shipping_options": [],
        "status": "open",
        "submit_type": null,
        "subscription": null,
        "success_url": text("success_url"),
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": "hosted_page",
        "url": input.url,
        "wallet_options": null,
    });
    if let (Some(head), Value::Object(rest)) = (session.as_object_mut(), rest) {
        head.extend(rest);
    }
    session
}

/// The customer who paid on the fake's page.
pub fn customer_details(email: Option<&str>) -> Value {
    json!({
        "address": {
            "city": null, "country": "US", "line1": null, "line2": null,
            "postal_code": "42424", "state": null
        },
        "business_name": null,
        "email": email.unwrap_or("buyer@example.com"),
        "individual_name": null,
        "name": "Jenny Rosen",
        "phone": null,
        "tax_exempt": "none",
        "tax_ids": [],
    })
}

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
            application_fee: split
                .application_fee_amount
                .filter(|_| split.destination.is_some())
                .map(|_| new_id("fee")),
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
#[expect(
    clippy::too_many_arguments,
    reason = "one argument per charge field that varies"
)]
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
#[expect(
    clippy::too_many_arguments,
    reason = "one argument per refund field that varies"
)]
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
