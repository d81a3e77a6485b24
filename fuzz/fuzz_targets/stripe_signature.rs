//! A Stripe delivery nobody signed with our secrets: `Stripe-Signature` and body are the
//! fuzzer's, checked by the Stripe gateway as the platform's `POST /webhooks/stripe` does.
//!
//! Input: `header \n body`.
//!
//! Checked: no panic, and no such delivery is ever accepted (the seeds are signed with another
//! secret, or by ours at a stale or future instant, so nothing the fuzzer makes can verify).

#![no_main]

use libfuzzer_sys::fuzz_target;
use lyceum_fuzz::{gateways, now, run, split_line};
use lyceum_gateway_core::{PaymentGateway, TenantAccount, WebhookRequest};
use lyceum_gateway_stripe::Stripe;
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static STRIPE: OnceLock<Stripe> = OnceLock::new();
    let stripe = STRIPE.get_or_init(gateways::stripe_offline);
    let (header, body) = split_line(data);
    let headers: Vec<(String, String)> = std::str::from_utf8(header)
        .map(|h| vec![("stripe-signature".to_owned(), h.to_owned())])
        .unwrap_or_default();
    let request = WebhookRequest {
        headers: &headers,
        body,
        peer: None,
        now: now(),
    };
    let verdict = run(stripe.verify_webhook(&TenantAccount::default(), &request));
    assert!(
        verdict.is_err(),
        "a forged delivery was accepted: {verdict:?}"
    );
});
