//! The fake's hosted pages, for tests that follow URLs as a person would: the Checkout page
//! (`/c/pay/{session}`: pay, pay by a delayed method, or cancel) and the onboarding page
//! behind an Account Link (`/setup/e/{account}/{token}`: single use, expiring, else a redirect
//! to `refresh_url`).

use super::flows::{self, Method};
use super::form;
use super::objects::AccountStatus;
use super::state::State;

/// What a page answers, and the events it caused.
#[derive(Debug)]
pub enum Page {
    Html(String),
    Redirect(String),
    NotFound,
    BadRequest(String),
}

pub fn handle(
    state: &mut State,
    method: &str,
    path: &str,
    body: &str,
    now: i64,
) -> (Page, Vec<usize>) {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        ("GET", ["c", "pay", session]) => (checkout_page(state, session), Vec::new()),
        ("POST", ["c", "pay", session]) => checkout_submit(state, session, body, now),
        (_, ["setup", "e", account, token]) => {
            onboarding(state, method == "POST", account, token, now)
        }
        _ => (Page::NotFound, Vec::new()),
    }
}

fn checkout_page(state: &State, session: &str) -> Page {
    let Some(found) = state.find(session, "checkout.session") else {
        return Page::NotFound;
    };
    let s = &found.value;
    Page::Html(format!(
        "<!doctype html><title>Fake Stripe Checkout</title><h1>Pay {} {}</h1><p>Status: {}</p>\
         <form method=post><button name=outcome value=card>Pay by card</button>\
         <button name=outcome value=delayed>Pay by bank debit</button>\
         <button name=outcome value=cancel>Cancel</button></form>",
        s["amount_total"], s["currency"], s["status"]
    ))
}

fn checkout_submit(state: &mut State, session: &str, body: &str, now: i64) -> (Page, Vec<usize>) {
    let Some(found) = state.find(session, "checkout.session") else {
        return (Page::NotFound, Vec::new());
    };
    let success = found.value["success_url"]
        .as_str()
        .unwrap_or_default()
        .replace("{CHECKOUT_SESSION_ID}", session);
    let cancel = found.value["cancel_url"].as_str().map(str::to_owned);
    let outcome = form::decode(body)
        .ok()
        .and_then(|f| f["outcome"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "card".to_owned());
    let method = match outcome.as_str() {
        "cancel" => {
            let page = cancel.map_or_else(|| Page::Html("Cancelled.".into()), Page::Redirect);
            return (page, Vec::new());
        }
        "delayed" => Method::Delayed,
        _ => Method::Card,
    };
    match flows::pay(state, session, method, now) {
        Ok((_, emits)) => {
            let events = state.emit(emits, None, now);
            (Page::Redirect(success), events)
        }
        Err(e) => (Page::BadRequest(e), Vec::new()),
    }
}

fn onboarding(
    state: &mut State,
    submit: bool,
    account: &str,
    token: &str,
    now: i64,
) -> (Page, Vec<usize>) {
    let Some(link) = state.links.get_mut(token).filter(|l| l.account == account) else {
        return (Page::NotFound, Vec::new());
    };
    if link.used || link.expires_at < now {
        return (Page::Redirect(link.refresh_url.clone()), Vec::new());
    }
    if !submit {
        return (
            Page::Html(format!(
                "<!doctype html><title>Fake Stripe onboarding</title><h1>Onboard {account}</h1>\
                 <form method=post><button>Agree and submit</button></form>"
            )),
            Vec::new(),
        );
    }
    link.used = true;
    let return_url = link.return_url.clone();
    match flows::update_account(state, account, &AccountStatus::onboarded()) {
        Ok(emits) => {
            let events = state.emit(emits, None, now);
            (Page::Redirect(return_url), events)
        }
        Err(e) => (Page::BadRequest(e), Vec::new()),
    }
}
