//! Builders shared by the unit tests.

use std::time::Duration;

use lyceum_gateway_core::{CheckoutLine, CheckoutRequest, Currency, Money, Split};
use uuid::Uuid;

use crate::{DeliveryOptions, Sandbox, SandboxConfig};

pub(crate) const SECRET: &str = "whsec_test";

pub(crate) fn usd(amount: i64) -> Money {
    Money::new(amount, Currency::parse("USD").unwrap()).unwrap()
}

/// A sandbox whose deliveries go nowhere (port 9, refused) and are given up at once.
pub(crate) fn sandbox(session_ttl: Duration) -> Sandbox {
    Sandbox::new(SandboxConfig {
        public_url: "http://127.0.0.1:9/".to_owned(),
        secrets: vec![SECRET.to_owned()],
        state_file: None,
        delivery: DeliveryOptions {
            max_attempts: 1,
            ..DeliveryOptions::default()
        },
        session_ttl,
    })
    .unwrap()
}

/// A checkout for one course at 19.99 USD.
pub(crate) fn checkout_request(key: &str) -> CheckoutRequest {
    let price = usd(1999);
    CheckoutRequest {
        order_id: Uuid::now_v7(),
        tenant_id: Uuid::now_v7(),
        lines: vec![CheckoutLine {
            course_id: Uuid::now_v7(),
            title: "Rust <b>for</b> \"everyone\"".to_owned(),
            quantity: 1,
            unit_price: price,
        }],
        total: price,
        buyer_id: Uuid::now_v7(),
        buyer_email: "buyer@example.com".to_owned(),
        success_url: "http://shop.test/orders/1?paid=1&x=2".to_owned(),
        cancel_url: "http://shop.test/cart".to_owned(),
        split: Split {
            platform_fee: usd(199),
            payee_account: None,
        },
        expires_at: chrono::Utc::now() + chrono::TimeDelta::hours(1),
        idempotency_key: key.to_owned(),
        invoice_number: 1,
    }
}
