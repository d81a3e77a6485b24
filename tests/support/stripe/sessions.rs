//! Checkout Sessions: create (payment mode, `price_data` lines, destination charges with an
//! application fee), retrieve (with `expand[]`), expire.

use serde_json::{Value, json};

use super::api::{Ctx, expanded};
use super::lines;
use super::objects::{self, SessionInput};
use super::params::{
    ApiError, ApiResult, expand, known, metadata, opt_int, opt_str, opt_url, req_str,
};
use super::payments::Split;
use super::state::Emit;

/// Every top-level parameter of `POST /v1/checkout/sessions` (async-stripe rc.10's request);
/// the fake implements those the platform uses and refuses the rest by name.
#[rustfmt::skip]
const PARAMS: &[&str] = &[
    "adaptive_pricing", "after_expiration", "allow_promotion_codes",
    "allowed_payment_method_types", "automatic_tax", "billing_address_collection",
    "branding_settings", "cancel_url", "client_reference_id", "consent_collection", "currency",
    "custom_fields", "custom_text", "customer", "customer_account", "customer_creation",
    "customer_email", "customer_update", "discounts", "excluded_payment_method_types", "expand",
    "expires_at", "integration_identifier", "invoice_creation", "line_items", "locale",
    "managed_payments", "metadata", "mode", "name_collection", "optional_items", "origin_context",
    "payment_intent_data", "payment_method_collection", "payment_method_configuration",
    "payment_method_data", "payment_method_options", "permissions", "phone_number_collection",
    "redirect_on_completion", "return_url", "saved_payment_method_options", "setup_intent_data",
    "shipping_address_collection", "shipping_options", "submit_type", "subscription_data",
    "success_url", "tax_id_collection", "ui_mode", "wallet_options",
];
/// What the fake implements of those.
#[rustfmt::skip]
const IMPLEMENTED: &[&str] = &[
    "allow_promotion_codes", "cancel_url", "client_reference_id", "customer_email", "expand",
    "expires_at", "line_items", "locale", "metadata", "mode", "payment_intent_data",
    "success_url", "ui_mode",
];
#[rustfmt::skip]
const PAYMENT_INTENT_DATA: &[&str] = &[
    "application_fee_amount", "capture_method", "description", "metadata", "on_behalf_of",
    "receipt_email", "setup_future_usage", "shipping", "statement_descriptor",
    "statement_descriptor_suffix", "transfer_data", "transfer_group",
];

pub fn create(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    known(p, PARAMS, "")?;
    if let Some(key) = p
        .as_object()
        .and_then(|m| m.keys().find(|k| !IMPLEMENTED.contains(&k.as_str())))
    {
        return Err(ApiError::invalid(
            None,
            key,
            format!("The fake Stripe does not implement `{key}` on Checkout Sessions."),
        ));
    }
    let mode = req_str(p, "mode", "mode")?;
    if mode != "payment" {
        return Err(ApiError::invalid(
            None,
            "mode",
            format!("The fake Stripe implements mode=payment only, not `{mode}`."),
        ));
    }
    if let Some(ui) = opt_str(p, "ui_mode", "ui_mode")?
        && ui != "hosted_page"
    {
        return Err(ApiError::invalid(
            None,
            "ui_mode",
            "The fake Stripe implements the hosted page only.",
        ));
    }
    opt_url(p, "success_url", "success_url")?.ok_or_else(|| ApiError::missing("success_url"))?;
    opt_url(p, "cancel_url", "cancel_url")?;
    let (amount_total, currency) = lines::total(p)?;
    if let Some(reference) = opt_str(p, "client_reference_id", "client_reference_id")?
        && reference.chars().count() > 200
    {
        return Err(ApiError::invalid(
            None,
            "client_reference_id",
            "client_reference_id can be at most 200 characters.",
        ));
    }
    if let Some(email) = opt_str(p, "customer_email", "customer_email")?
        && !email.contains('@')
    {
        return Err(ApiError::invalid(
            Some("email_invalid"),
            "customer_email",
            format!("Invalid email address: {email}"),
        ));
    }
    let session_metadata = metadata(p, "metadata", "metadata")?;
    let expires_at = expiry(p, cx.now)?;
    let split = split(cx, p, amount_total)?;

    let id = objects::new_id("cs_test");
    let input = SessionInput {
        amount_total,
        currency,
        expires_at,
        url: format!("{}/c/pay/{id}", cx.state.base),
    };
    let mut session = objects::checkout_session(&id, cx.now, p, &input);
    session["metadata"] = json!(session_metadata);
    cx.state.put(cx.account.clone(), session.clone());
    cx.state.splits.insert(id, split);
    Ok(expanded(cx, session, &expand(p)))
}

/// `expires_at`: 30 minutes to 24 hours after creation; 24 hours when absent.
fn expiry(p: &Value, now: i64) -> ApiResult<i64> {
    match opt_int(p, "expires_at", "expires_at")? {
        None => Ok(now + 24 * 3600),
        Some(t) if t < now + 30 * 60 => Err(ApiError::invalid(
            None,
            "expires_at",
            "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.",
        )),
        Some(t) if t > now + 24 * 3600 => Err(ApiError::invalid(
            None,
            "expires_at",
            "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.",
        )),
        Some(t) => Ok(t),
    }
}

/// `payment_intent_data`: the application fee and the destination of a destination charge,
/// and the metadata the PaymentIntent (and its charge) will carry.
fn split(cx: &Ctx, p: &Value, amount_total: i64) -> ApiResult<Split> {
    let Some(pid) = p.get("payment_intent_data") else {
        return Ok(Split::default());
    };
    let at = "payment_intent_data";
    known(pid, PAYMENT_INTENT_DATA, at)?;
    for key in [
        "capture_method",
        "setup_future_usage",
        "shipping",
        "transfer_group",
    ] {
        if pid.get(key).is_some() {
            return Err(ApiError::invalid(
                None,
                &format!("{at}[{key}]"),
                format!("The fake Stripe does not implement `{at}[{key}]`."),
            ));
        }
    }
    let fee_param = format!("{at}[application_fee_amount]");
    let fee = opt_int(pid, "application_fee_amount", &fee_param)?;
    let destination = pid
        .get("transfer_data")
        .map(|td| destination(cx, td))
        .transpose()?;
    if let Some(on_behalf_of) = opt_str(pid, "on_behalf_of", &format!("{at}[on_behalf_of]"))?
        && destination.as_deref() != Some(on_behalf_of)
    {
        return Err(ApiError::invalid(
            None,
            &format!("{at}[on_behalf_of]"),
            "The fake Stripe takes `on_behalf_of` only equal to `transfer_data[destination]`.",
        ));
    }
    if let Some(fee) = fee {
        if destination.is_none() && cx.account.is_none() {
            return Err(ApiError::invalid(
                None,
                &fee_param,
                "Can only apply an application_fee_amount when the PaymentIntent is attempting a direct payment (using an OAuth key or Stripe-Account header) or destination payment (using `transfer_data[destination]`).",
            ));
        }
        if fee < 0 {
            return Err(ApiError::invalid(
                Some("parameter_invalid_integer"),
                &fee_param,
                "This value must be greater than or equal to 0.",
            ));
        }
        if fee > amount_total {
            return Err(ApiError::invalid(
                None,
                &fee_param,
                format!(
                    "The application fee ({fee}) cannot be greater than the amount of the payment ({amount_total})."
                ),
            ));
        }
    }
    Ok(Split {
        application_fee_amount: fee,
        destination,
        metadata: metadata(pid, "metadata", &format!("{at}[metadata]"))?,
        description: opt_str(pid, "description", &format!("{at}[description]"))?.map(str::to_owned),
    })
}

/// `payment_intent_data[transfer_data]`: an account that can receive transfers.
fn destination(cx: &Ctx, td: &Value) -> ApiResult<String> {
    let at = "payment_intent_data[transfer_data]";
    known(td, &["amount", "destination"], at)?;
    if td.get("amount").is_some() {
        return Err(ApiError::invalid(
            None,
            &format!("{at}[amount]"),
            "The fake Stripe does not implement `transfer_data[amount]`.",
        ));
    }
    let param = format!("{at}[destination]");
    let account = req_str(td, "destination", &param)?;
    let found = cx.state.find(account, "account").ok_or_else(|| {
        ApiError::invalid(
            Some("resource_missing"),
            &param,
            format!("No such destination: '{account}'"),
        )
    })?;
    if found.value["capabilities"]["transfers"] != "active" {
        return Err(ApiError::invalid(
            Some("insufficient_capabilities_for_transfer"),
            &param,
            "Your destination account needs to have at least one of the following capabilities enabled: transfers, crypto_transfers, legacy_payments",
        ));
    }
    if cx.account.is_some() {
        return Err(ApiError::invalid(
            None,
            &param,
            "A destination charge (`transfer_data`) cannot be made on a connected account (`Stripe-Account`).",
        ));
    }
    Ok(account.to_owned())
}

pub fn retrieve(cx: &mut Ctx, id: &str, p: &Value) -> ApiResult<Value> {
    known(p, &["expand"], "")?;
    let session = cx
        .state
        .get(id, cx.account.as_deref())
        .filter(|v| v["object"] == "checkout.session")
        .cloned()
        .ok_or_else(|| ApiError::no_such("checkout.session", id, "session"))?;
    Ok(expanded(cx, session, &expand(p)))
}

/// Expires an open session; Stripe answers 400 for one that is complete or expired.
pub fn expire(cx: &mut Ctx, id: &str, p: &Value) -> ApiResult<Value> {
    known(p, &["expand"], "")?;
    let owner = cx.account.clone();
    let stored = cx
        .state
        .objects
        .get_mut(id)
        .filter(|s| s.value["object"] == "checkout.session" && s.owner == owner)
        .ok_or_else(|| ApiError::no_such("checkout.session", id, "session"))?;
    let status = stored.value["status"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if status != "open" {
        return Err(ApiError::state(
            None,
            "",
            format!(
                "Only Checkout Sessions with a status in [\"open\"] can be expired. This session ({id}) has status `{status}`."
            ),
        ));
    }
    stored.value["status"] = json!("expired");
    let session = stored.value.clone();
    cx.emit(Emit::new("checkout.session.expired", &session));
    Ok(expanded(cx, session, &expand(p)))
}
