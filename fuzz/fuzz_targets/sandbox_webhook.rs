//! A sandbox delivery, signed with the sandbox's secret, whose body is the fuzzer's: the
//! signature passes and the parser behind it (`type` first, then the event) reads anything.
//!
//! Input: the body.
//!
//! Checked: no panic; a verified delivery is at most one event and no account news; and the
//! same body under the signature of a different one is refused.

#![no_main]

use libfuzzer_sys::fuzz_target;
use lyceum_fuzz::gateways::{self, SANDBOX_SECRET};
use lyceum_fuzz::{NOW, now, run};
use lyceum_gateway_core::signature::sign;
use lyceum_gateway_core::{PaymentGateway, TenantAccount, WebhookError, WebhookRequest};
use lyceum_gateway_sandbox::Sandbox;
use std::sync::OnceLock;

fuzz_target!(|body: &[u8]| {
    static SANDBOX: OnceLock<Sandbox> = OnceLock::new();
    let sandbox = SANDBOX.get_or_init(gateways::sandbox);
    let Ok(signature) = sign(&[SANDBOX_SECRET.as_bytes()], NOW, body) else {
        panic!("the sandbox's secret does not sign");
    };
    let headers = [("sandbox-signature".to_owned(), signature)];
    let request = WebhookRequest {
        headers: &headers,
        body,
        peer: None,
        now: now(),
    };
    if let Ok(delivery) = run(sandbox.verify_webhook(&TenantAccount::default(), &request)) {
        assert!(delivery.events.len() <= 1, "{delivery:?}");
        assert!(delivery.accounts.is_empty(), "{delivery:?}");
    }
    let other = [body, b" "].concat();
    let request = WebhookRequest {
        body: &other,
        ..request
    };
    assert_eq!(
        run(sandbox.verify_webhook(&TenantAccount::default(), &request)),
        Err(WebhookError::BadSignature)
    );
});
