//! Robokassa's OpStateExt answer (XML), as reconciliation reads it when a ResultURL never came:
//! the answer is the fuzzer's, read by the gateway's `fetch_payment` through its HTTP client.
//!
//! Input: the XML answer.
//!
//! Checked: no panic; an answer makes at most one event, about the invoice asked for.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use lyceum_fuzz::provider::Provider;
use lyceum_fuzz::{gateways, run};
use lyceum_gateway_core::{PaymentGateway, PaymentLookup, TenantAccount};
use lyceum_gateway_robokassa::{HashAlgorithm, Robokassa};
use uuid::Uuid;

/// The invoice asked about.
const INVOICE: &str = "4217";

fuzz_target!(|answer: &[u8]| {
    static OP_STATE: OnceLock<(Provider, Robokassa, TenantAccount)> = OnceLock::new();
    let (api, robokassa, shop) = OP_STATE.get_or_init(|| {
        let api = Provider::start("text/xml; charset=utf-8");
        let robokassa = gateways::robokassa(api.url());
        let shop = gateways::robokassa_shop(&robokassa, HashAlgorithm::Md5);
        (api, robokassa, shop)
    });
    api.answer_with([answer]);
    let lookup = PaymentLookup {
        order_id: Uuid::from_u128(0x0190_a6f2_7c1e_7b3a_9d2e_5f4a_3b2c_1d0e),
        tenant_id: Uuid::from_u128(0x0190_a6f2_0000_7000_8000_0000_0000_0001),
        session_ref: Some(INVOICE.to_owned()),
        provider_payment_id: None,
    };
    if let Ok(events) = run(robokassa.fetch_payment(shop, &lookup)) {
        assert!(events.len() <= 1, "{events:?}");
        for event in &events {
            assert_eq!(event.order_id, lookup.order_id);
            assert_eq!(event.provider_payment_id, INVOICE);
        }
    }
});
