//! Refunds of a charge, full or partial, never more than what is left; on a destination
//! charge `reverse_transfer` and `refund_application_fee` take back the transfer and the fee
//! in proportion. Each refund emits `refund.created`, `charge.refunded` and `refund.updated`
//! (the card network's reference arriving).

use serde_json::{Value, json};

use super::api::{Ctx, expanded};
use super::objects::{self, new_id};
use super::params::{
    ApiError, ApiResult, check_amount, expand, known, metadata, opt_bool, opt_int, opt_str,
};
use super::payments;
use super::state::Emit;

/// Every parameter of `POST /v1/refunds` (async-stripe rc.10's request).
#[rustfmt::skip]
const PARAMS: &[&str] = &[
    "amount", "charge", "currency", "customer", "expand", "instructions_email", "metadata",
    "origin", "payment_intent", "reason", "refund_application_fee", "reverse_transfer",
];
#[rustfmt::skip]
const LIST_PARAMS: &[&str] = &[
    "charge", "created", "ending_before", "expand", "limit", "payment_intent", "starting_after",
];

/// The charge a refund request names (directly or through its PaymentIntent).
fn charge_of(cx: &Ctx, p: &Value) -> ApiResult<Value> {
    let owner = cx.account.as_deref();
    let by_intent = opt_str(p, "payment_intent", "payment_intent")?;
    let by_charge = opt_str(p, "charge", "charge")?;
    let charge_id = match (by_intent, by_charge) {
        (None, None) => {
            return Err(ApiError::invalid(
                Some("parameter_missing"),
                "",
                "One of the following params should be provided for this request: payment_intent or charge.",
            ));
        }
        (Some(pi), charge) => {
            let intent = cx
                .state
                .get(pi, owner)
                .filter(|v| v["object"] == "payment_intent")
                .ok_or_else(|| ApiError::no_such("payment_intent", pi, "payment_intent"))?;
            let latest = intent["latest_charge"].as_str().unwrap_or_default();
            if intent["status"] != "succeeded" {
                return Err(ApiError::state(
                    None,
                    "payment_intent",
                    format!(
                        "This PaymentIntent ({pi}) does not have a successful charge to refund."
                    ),
                ));
            }
            if charge.is_some_and(|c| c != latest) {
                return Err(ApiError::invalid(
                    Some("parameters_exclusive"),
                    "charge",
                    format!("The charge does not belong to PaymentIntent {pi}."),
                ));
            }
            latest.to_owned()
        }
        (None, Some(charge)) => charge.to_owned(),
    };
    cx.state
        .get(&charge_id, owner)
        .filter(|v| v["object"] == "charge")
        .cloned()
        .ok_or_else(|| ApiError::no_such("charge", &charge_id, "charge"))
}

pub fn create(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    known(p, PARAMS, "")?;
    for key in ["currency", "customer", "instructions_email", "origin"] {
        if p.get(key).is_some() {
            return Err(ApiError::invalid(
                None,
                key,
                format!("The fake Stripe does not implement `{key}` on refunds."),
            ));
        }
    }
    let reason = opt_str(p, "reason", "reason")?;
    if let Some(r) = reason
        && !["duplicate", "fraudulent", "requested_by_customer"].contains(&r)
    {
        return Err(ApiError::invalid(
            None,
            "reason",
            format!(
                "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer (got {r})"
            ),
        ));
    }
    let refund_metadata = metadata(p, "metadata", "metadata")?;
    let reverse_transfer = opt_bool(p, "reverse_transfer", "reverse_transfer")?.unwrap_or(false);
    let refund_fee =
        opt_bool(p, "refund_application_fee", "refund_application_fee")?.unwrap_or(false);
    let requested = opt_int(p, "amount", "amount")?;
    if requested.is_some_and(|a| a < 1) {
        return Err(ApiError::invalid(
            Some("parameter_invalid_integer"),
            "amount",
            "This value must be greater than or equal to 1.",
        ));
    }
    let charge = charge_of(cx, p)?;
    let charge_id = charge["id"].as_str().unwrap_or_default().to_owned();
    let currency = charge["currency"].as_str().unwrap_or_default().to_owned();
    if charge["status"] != "succeeded" {
        return Err(ApiError::state(
            None,
            "charge",
            format!("Charge {charge_id} has not succeeded and cannot be refunded."),
        ));
    }
    if charge["disputed"] == true && !dispute_won(cx, &charge_id) {
        return Err(ApiError::state(
            Some("charge_disputed"),
            "",
            format!("Charge {charge_id} has been charged back; cannot issue a refund."),
        ));
    }
    let total = charge["amount"].as_i64().unwrap_or_default();
    let before = charge["amount_refunded"].as_i64().unwrap_or_default();
    let remaining = total - before;
    if remaining <= 0 {
        return Err(ApiError::state(
            Some("charge_already_refunded"),
            "",
            format!("Charge {charge_id} has already been refunded."),
        ));
    }
    let amount = requested.unwrap_or(remaining);
    if amount > remaining {
        return Err(ApiError::state(
            Some("amount_too_large"),
            "amount",
            format!(
                "Refund amount ({amount} {currency}) is greater than unrefunded amount on charge ({remaining} {currency})"
            ),
        ));
    }
    check_amount(amount, &currency, "amount")?;

    let refund_id = new_id("re");
    let reversal = if reverse_transfer {
        reverse(cx, &charge, amount, &refund_id)
    } else {
        None
    };
    if refund_fee {
        refund_fee_share(cx, &charge, amount, before + amount == total);
    }
    let mut charge = charge;
    charge["amount_refunded"] = json!(before + amount);
    charge["refunded"] = json!(before + amount == total);
    let owner = cx.account.clone();
    cx.state.put(owner.clone(), charge.clone());
    let refund = payments::refund(
        &refund_id,
        cx.now,
        amount,
        &charge,
        json!(refund_metadata),
        reason,
        reversal.as_deref(),
    );
    let mut settled = refund.clone();
    settled["destination_details"]["card"]["reference"] = json!(format!("{:0>23}", cx.now));
    settled["destination_details"]["card"]["reference_status"] = json!("available");
    cx.state.put(owner, settled.clone());

    cx.emit(Emit::new("refund.created", &refund));
    cx.emit(Emit::new("charge.refunded", &charge).previous(json!({
        "amount_refunded": before,
        "refunded": false,
    })));
    cx.emit(Emit::new("refund.updated", &settled).previous(json!({
        "destination_details": {"card": {"reference": null, "reference_status": "pending"}}
    })));
    Ok(expanded(cx, refund, &expand(p)))
}

fn dispute_won(cx: &Ctx, charge: &str) -> bool {
    cx.state
        .all("dispute")
        .iter()
        .filter(|d| d.value["charge"] == charge)
        .all(|d| d.value["status"] == "won")
}

/// Reverses the destination transfer in proportion to the refund; the reversal's id.
fn reverse(cx: &mut Ctx, charge: &Value, amount: i64, refund: &str) -> Option<String> {
    let transfer_id = charge["transfer"].as_str()?;
    let now = cx.now;
    let stored = cx.state.find_mut(transfer_id, "transfer")?;
    let transfer = &mut stored.value;
    let total = transfer["amount"].as_i64().unwrap_or_default();
    let reversed = transfer["amount_reversed"].as_i64().unwrap_or_default();
    let charged = charge["amount"].as_i64().unwrap_or(1).max(1);
    let share = (total * amount / charged).min(total - reversed);
    let id = new_id("trr");
    let reversal = json!({
        "id": id,
        "object": "transfer_reversal",
        "amount": share,
        "balance_transaction": new_id("txn"),
        "created": now,
        "currency": transfer["currency"],
        "destination_payment_refund": new_id("pyr"),
        "metadata": {},
        "source_refund": refund,
        "transfer": transfer_id,
    });
    transfer["amount_reversed"] = json!(reversed + share);
    transfer["reversed"] = json!(reversed + share == total);
    if let Some(data) = transfer["reversals"]["data"].as_array_mut() {
        data.insert(0, reversal.clone());
    }
    cx.state.put(cx.account.clone(), reversal);
    Some(id)
}

/// Refunds the application fee: all of what is left on a full refund, else in proportion.
fn refund_fee_share(cx: &mut Ctx, charge: &Value, amount: i64, full: bool) {
    let Some(fee_id) = charge["application_fee"].as_str() else {
        return;
    };
    let now = cx.now;
    let Some(stored) = cx.state.find_mut(fee_id, "application_fee") else {
        return;
    };
    let fee = &mut stored.value;
    let total = fee["amount"].as_i64().unwrap_or_default();
    let refunded = fee["amount_refunded"].as_i64().unwrap_or_default();
    let charged = charge["amount"].as_i64().unwrap_or(1).max(1);
    let share = if full {
        total - refunded
    } else {
        (total * amount / charged).min(total - refunded)
    };
    fee["amount_refunded"] = json!(refunded + share);
    fee["refunded"] = json!(refunded + share == total);
    let fee_refund = json!({
        "id": new_id("fr"), "object": "fee_refund", "amount": share,
        "balance_transaction": new_id("txn"), "created": now,
        "currency": fee["currency"], "fee": fee_id, "metadata": {}
    });
    if let Some(data) = fee["refunds"]["data"].as_array_mut() {
        data.insert(0, fee_refund);
    }
}

/// `GET /v1/refunds?payment_intent=…` (or `charge=`): newest first, `limit` 1–100 (10).
pub fn list(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    known(p, LIST_PARAMS, "")?;
    for key in ["created", "ending_before", "starting_after"] {
        if p.get(key).is_some() {
            return Err(ApiError::invalid(
                None,
                key,
                format!("The fake Stripe does not implement `{key}` on the refund list."),
            ));
        }
    }
    let limit = opt_int(p, "limit", "limit")?.unwrap_or(10);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid(
            None,
            "limit",
            "This value must be between 1 and 100.",
        ));
    }
    let by_intent = opt_str(p, "payment_intent", "payment_intent")?;
    let by_charge = opt_str(p, "charge", "charge")?;
    let owner = cx.account.clone();
    let paths = expand(p);
    let all: Vec<Value> = cx
        .state
        .all("refund")
        .into_iter()
        .filter(|s| s.owner == owner)
        .map(|s| &s.value)
        .filter(|r| by_intent.is_none_or(|pi| r["payment_intent"] == pi))
        .filter(|r| by_charge.is_none_or(|ch| r["charge"] == ch))
        .cloned()
        .collect();
    let has_more = all.len() > limit as usize;
    let data = all
        .into_iter()
        .take(limit as usize)
        .map(|r| {
            let paths: Vec<String> = paths
                .iter()
                .filter_map(|p| p.strip_prefix("data.").map(str::to_owned))
                .collect();
            expanded(cx, r, &paths)
        })
        .collect();
    Ok(objects::list("/v1/refunds", data, has_more))
}
