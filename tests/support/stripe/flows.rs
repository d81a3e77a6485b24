//! What happens on Stripe's side, outside the API: a customer paying (by card, or by a
//! delayed method that settles later), a session lapsing, a dispute opened and closed, an
//! account finishing onboarding, a refund failing at the bank. Each returns the events it
//! causes; a misuse is an `Err` naming it (the test controls panic with it).

use serde_json::{Value, json};

use super::DisputeOutcome;
use super::objects::{self, AccountStatus};
use super::payments::{self, PaymentIds};
use super::state::{Emit, State};

/// How the customer pays on the hosted page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// A card: paid at once.
    Card,
    /// A delayed method (SEPA Debit …): the session completes unpaid and settles later.
    Delayed,
}

/// The ids a payment created.
#[derive(Debug, Clone)]
pub struct Paid {
    pub payment_intent: String,
    pub charge: String,
}

fn owned(state: &State, id: &str, object: &str) -> Result<(Option<String>, Value), String> {
    state
        .find(id, object)
        .map(|s| (s.owner.clone(), s.value.clone()))
        .ok_or_else(|| format!("the fake Stripe has no {object} {id}"))
}

/// The customer pays an open session.
pub fn pay(
    state: &mut State,
    session_id: &str,
    method: Method,
    now: i64,
) -> Result<(Paid, Vec<Emit>), String> {
    let (owner, mut session) = owned(state, session_id, "checkout.session")?;
    if session["status"] != "open" {
        return Err(format!(
            "session {session_id} is {}, not open",
            session["status"]
        ));
    }
    let split = state.splits.get(session_id).cloned().unwrap_or_default();
    let ids = PaymentIds::new(&split);
    let amount = session["amount_total"].as_i64().unwrap_or_default();
    let currency = session["currency"].as_str().unwrap_or_default().to_owned();
    let email = session["customer_email"].as_str().map(str::to_owned);
    let (intent_status, charge_status) = match method {
        Method::Card => ("succeeded", "succeeded"),
        Method::Delayed => ("processing", "pending"),
    };
    let intent = payments::payment_intent(&ids, now, amount, &currency, &split, intent_status);
    let charge = payments::charge(
        &ids,
        now,
        amount,
        &currency,
        &split,
        charge_status,
        email.as_deref(),
    );
    state.put(owner.clone(), intent);
    state.put(owner.clone(), charge);
    if method == Method::Card {
        settle_split(state, &ids.charge, now);
    }
    session["status"] = json!("complete");
    session["payment_status"] = json!(if method == Method::Card {
        "paid"
    } else {
        "unpaid"
    });
    session["payment_intent"] = json!(ids.payment_intent);
    session["customer_details"] = objects::customer_details(email.as_deref());
    state.put(owner.clone(), session.clone());
    let emit = Emit::new("checkout.session.completed", &session).account(owner.clone());
    Ok((
        Paid {
            payment_intent: ids.payment_intent,
            charge: ids.charge,
        },
        vec![emit],
    ))
}

/// Creates the transfer of a destination charge and the application fee once the charge
/// succeeded.
fn settle_split(state: &mut State, charge_id: &str, now: i64) {
    let Some(stored) = state.find(charge_id, "charge") else {
        return;
    };
    let charge = stored.value.clone();
    // A direct charge's fee comes from the account it was made on.
    let account = charge["transfer_data"]["destination"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| stored.owner.clone());
    let amount = charge["amount"].as_i64().unwrap_or_default();
    let currency = charge["currency"].as_str().unwrap_or_default();
    if let (Some(transfer), Some(destination)) = (
        charge["transfer"].as_str(),
        charge["transfer_data"]["destination"].as_str(),
    ) {
        let group = charge["transfer_group"].as_str().unwrap_or_default();
        let t = payments::transfer(
            transfer,
            now,
            amount,
            currency,
            charge_id,
            destination,
            group,
        );
        state.put(None, t);
    }
    if let (Some(fee), Some(fee_amount), Some(account)) = (
        charge["application_fee"].as_str(),
        charge["application_fee_amount"].as_i64(),
        account,
    ) {
        let f = payments::application_fee(fee, now, fee_amount, currency, charge_id, &account);
        // Application fees are the platform's, whoever made the charge.
        state.put(None, f);
    }
}

/// A delayed payment settles: `async_payment_succeeded` or `_failed`.
pub fn settle(
    state: &mut State,
    session_id: &str,
    succeeded: bool,
    now: i64,
) -> Result<Vec<Emit>, String> {
    let (owner, mut session) = owned(state, session_id, "checkout.session")?;
    if session["status"] != "complete" || session["payment_status"] != "unpaid" {
        return Err(format!(
            "session {session_id} has no delayed payment to settle"
        ));
    }
    let pi = session["payment_intent"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (_, mut intent) = owned(state, &pi, "payment_intent")?;
    let ch = intent["latest_charge"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (_, mut charge) = owned(state, &ch, "charge")?;
    let amount = intent["amount"].clone();
    if succeeded {
        intent["status"] = json!("succeeded");
        intent["amount_received"] = amount.clone();
        charge["status"] = json!("succeeded");
        charge["paid"] = json!(true);
        charge["captured"] = json!(true);
        charge["amount_captured"] = amount;
        charge["outcome"]["seller_message"] = json!("Payment complete.");
        session["payment_status"] = json!("paid");
    } else {
        intent["status"] = json!("requires_payment_method");
        intent["last_payment_error"] = json!({
            "type": "invalid_request_error",
            "code": "payment_method_provider_decline",
            "message": "The payment was declined by the customer's bank.",
        });
        charge["status"] = json!("failed");
        charge["failure_code"] = json!("insufficient_funds");
        charge["failure_message"] =
            json!("The customer's account has insufficient funds to cover this payment.");
        charge["outcome"]["type"] = json!("issuer_declined");
        charge["outcome"]["network_status"] = json!("declined_by_network");
    }
    state.put(owner.clone(), intent);
    state.put(owner.clone(), charge);
    if succeeded {
        settle_split(state, &ch, now);
    }
    state.put(owner.clone(), session.clone());
    let kind = if succeeded {
        "checkout.session.async_payment_succeeded"
    } else {
        "checkout.session.async_payment_failed"
    };
    Ok(vec![Emit::new(kind, &session).account(owner.clone())])
}

/// An open session passes its `expires_at`: Stripe expires it and says so.
pub fn lapse(state: &mut State, session_id: &str) -> Result<Vec<Emit>, String> {
    let (owner, mut session) = owned(state, session_id, "checkout.session")?;
    if session["status"] != "open" {
        return Err(format!(
            "session {session_id} is {}, not open",
            session["status"]
        ));
    }
    session["status"] = json!("expired");
    state.put(owner.clone(), session.clone());
    Ok(vec![
        Emit::new("checkout.session.expired", &session).account(owner.clone()),
    ])
}

/// Opens a dispute on the payment's charge, or closes its open one (creating it first when
/// there is none), as won or lost; returns the dispute's id.
pub fn dispute(
    state: &mut State,
    payment_intent: &str,
    outcome: DisputeOutcome,
    now: i64,
) -> Result<(String, Vec<Emit>), String> {
    let (owner, intent) = owned(state, payment_intent, "payment_intent")?;
    let ch = intent["latest_charge"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (_, mut charge) = owned(state, &ch, "charge")?;
    if charge["status"] != "succeeded" {
        return Err(format!(
            "charge {ch} has not succeeded; there is nothing to dispute"
        ));
    }
    let open = state
        .all("dispute")
        .into_iter()
        .find(|d| d.value["charge"] == ch.as_str() && d.value["status"] == "needs_response")
        .map(|d| d.value.clone());
    let mut emits = Vec::new();
    let mut dispute = match (open, outcome) {
        (Some(_), DisputeOutcome::Open) => {
            return Err(format!("charge {ch} already has an open dispute"));
        }
        (Some(d), _) => d,
        (None, _) => {
            let d = payments::dispute(&objects::new_id("dp"), now, &charge, "fraudulent");
            charge["disputed"] = json!(true);
            state.put(owner.clone(), charge.clone());
            state.put(owner.clone(), d.clone());
            emits.push(Emit::new("charge.dispute.created", &d).account(owner.clone()));
            d
        }
    };
    let status = match outcome {
        DisputeOutcome::Open => None,
        DisputeOutcome::Won => Some("won"),
        DisputeOutcome::Lost => Some("lost"),
    };
    if let Some(status) = status {
        dispute["status"] = json!(status);
        state.put(owner.clone(), dispute.clone());
        emits.push(
            Emit::new("charge.dispute.closed", &dispute)
                .previous(json!({"status": "needs_response"}))
                .account(owner.clone()),
        );
    }
    let id = dispute["id"].as_str().unwrap_or_default().to_owned();
    Ok((id, emits))
}

/// The account's onboarding state changes to `status`: `account.updated`, a Connect event.
pub fn update_account(
    state: &mut State,
    account_id: &str,
    status: &AccountStatus,
) -> Result<Vec<Emit>, String> {
    let (owner, mut account) = owned(state, account_id, "account")?;
    let before = account.clone();
    status.apply(&mut account);
    let previous: serde_json::Map<String, Value> = [
        "charges_enabled",
        "payouts_enabled",
        "details_submitted",
        "capabilities",
        "requirements",
    ]
    .into_iter()
    .filter(|k| before[*k] != account[*k])
    .map(|k| (k.to_owned(), before[k].clone()))
    .collect();
    state.put(owner, account.clone());
    Ok(vec![
        Emit::new("account.updated", &account)
            .previous(Value::Object(previous))
            .account(Some(account_id.to_owned())),
    ])
}

/// A refund that succeeded fails at the bank: the money comes back to the charge.
pub fn fail_refund(state: &mut State, refund_id: &str) -> Result<Vec<Emit>, String> {
    let (owner, mut refund) = owned(state, refund_id, "refund")?;
    if refund["status"] != "succeeded" {
        return Err(format!(
            "refund {refund_id} is {}, not succeeded",
            refund["status"]
        ));
    }
    let ch = refund["charge"].as_str().unwrap_or_default().to_owned();
    let (_, mut charge) = owned(state, &ch, "charge")?;
    let amount = refund["amount"].as_i64().unwrap_or_default();
    let refunded = charge["amount_refunded"].as_i64().unwrap_or_default();
    charge["amount_refunded"] = json!(refunded - amount);
    charge["refunded"] = json!(false);
    refund["status"] = json!("failed");
    refund["failure_reason"] = json!("expired_or_canceled_card");
    refund["failure_balance_transaction"] = json!(objects::new_id("txn"));
    state.put(owner.clone(), charge);
    state.put(owner.clone(), refund.clone());
    Ok(vec![
        Emit::new("refund.updated", &refund)
            .previous(json!({"status": "succeeded", "failure_reason": null, "failure_balance_transaction": null}))
            .account(owner.clone()),
        Emit::new("refund.failed", &refund).account(owner.clone()),
    ])
}
