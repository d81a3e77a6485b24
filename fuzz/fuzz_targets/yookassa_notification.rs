//! A YooKassa notification whose body is the fuzzer's, from one of YooKassa's published
//! addresses, to the platform's shop; and YooKassa's API answering the re-fetch of the object it
//! names (a payment, a capture, a refund and its payment) with the fuzzer's bytes.
//!
//! Input: `notification \n answer \n answer …`, an answer per API call in order.
//!
//! Checked: no panic; the same notification from any other address is refused unread.

#![no_main]

use std::net::IpAddr;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use lyceum_fuzz::provider::Provider;
use lyceum_fuzz::{gateways, lines, now, run};
use lyceum_gateway_core::{PaymentGateway, TenantAccount, WebhookError, WebhookRequest};
use lyceum_gateway_yookassa::Yookassa;

/// In YooKassa's published `185.71.76.0/27`.
const YOOKASSA: [u8; 4] = [185, 71, 76, 10];
/// A documentation address (RFC 5737), nobody's.
const ELSEWHERE: [u8; 4] = [203, 0, 113, 7];

fuzz_target!(|data: &[u8]| {
    static YOOKASSA_API: OnceLock<(Provider, Yookassa)> = OnceLock::new();
    let (api, yookassa) = YOOKASSA_API.get_or_init(|| {
        let api = Provider::start("application/json; charset=utf-8");
        let yookassa = gateways::yookassa(&api);
        (api, yookassa)
    });
    let mut lines = lines(data);
    let body = lines.next().unwrap_or_default();
    api.answer_with(lines);
    let request = WebhookRequest {
        headers: &[],
        body,
        peer: Some(IpAddr::from(YOOKASSA)),
        now: now(),
    };
    let account = TenantAccount::default();
    if let Ok(delivery) = run(yookassa.verify_webhook(&account, &request)) {
        assert!(delivery.accounts.is_empty(), "{delivery:?}");
    }
    let request = WebhookRequest {
        peer: Some(IpAddr::from(ELSEWHERE)),
        ..request
    };
    assert_eq!(
        run(yookassa.verify_webhook(&account, &request)),
        Err(WebhookError::UntrustedSource)
    );
});
