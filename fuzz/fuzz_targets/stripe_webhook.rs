//! A Stripe event, signed with our webhook secret, whose body is the fuzzer's; and Stripe's API
//! answering the gateway's questions about it (the PaymentIntent behind a refund or a dispute,
//! a charge's refunds) with the fuzzer's bytes too.
//!
//! Input: `event \n answer \n answer …`, an answer per API call in order.
//!
//! Checked: no panic; an event from a connected account is never an order's (only
//! `account.updated` is read from one); a live-mode event changes nothing under a test key.

#![no_main]

use libfuzzer_sys::fuzz_target;
use lyceum_fuzz::gateways::{self, STRIPE_SECRETS};
use lyceum_fuzz::provider::Provider;
use lyceum_fuzz::{NOW, lines, now, run};
use lyceum_gateway_core::signature::sign;
use lyceum_gateway_core::{Delivery, PaymentGateway, TenantAccount, WebhookRequest};
use lyceum_gateway_stripe::Stripe;
use serde_json::Value;
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static STRIPE: OnceLock<(Provider, Stripe)> = OnceLock::new();
    let (api, stripe) = STRIPE.get_or_init(|| {
        let api = Provider::start("application/json");
        let stripe = gateways::stripe(api.url());
        (api, stripe)
    });
    let mut lines = lines(data);
    let body = lines.next().unwrap_or_default();
    api.answer_with(lines);
    let Ok(signature) = sign(&[STRIPE_SECRETS[0].as_bytes()], NOW, body) else {
        panic!("Stripe's webhook secret does not sign");
    };
    let headers = [("stripe-signature".to_owned(), signature)];
    let request = WebhookRequest {
        headers: &headers,
        body,
        peer: None,
        now: now(),
    };
    let Ok(delivery) = run(stripe.verify_webhook(&TenantAccount::default(), &request)) else {
        return;
    };
    // The gateway reads only the fields it uses and skips the rest unchecked (a string with
    // bytes that are not UTF-8 in a field it ignores, say): such a body is not judged here.
    let Ok(event) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    if event["livemode"] == Value::Bool(true) {
        assert_eq!(
            delivery,
            Delivery::default(),
            "a live event under a test key"
        );
    }
    if event["account"].is_string() {
        assert!(
            delivery.events.is_empty(),
            "a connected account's event became an order's: {delivery:?}"
        );
    }
});
