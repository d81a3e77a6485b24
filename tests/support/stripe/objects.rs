//! The Stripe objects the fake hands out, as JSON, shaped like the API reference at version
//! `2026-09-30.endive`: every field async-stripe's models require is present (they parse with
//! miniserde, which refuses a missing non-`Option` field), optional ones are present as `null`
//! where Stripe sends them. The recorded payloads in `tests/fixtures/stripe/events/` have
//! the same shapes (a test compares their keys). Here: ids, lists, accounts and sessions;
//! the money objects are in `payments`.

use serde_json::{Value, json};

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
