//! Part 3: one provider delivery of a payment, end to end below HTTP — verify the signature
//! over the raw bytes, read the event, apply it through the pipeline — through the Stripe
//! crate versus the sandbox crate, on PostgreSQL, against real pending orders of each.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use lyceum::entities::orders;
use lyceum::services::commerce::pipeline::{self, Applied, Source};
use lyceum_e2e::TestApp;
use lyceum_e2e::stripe::FakeStripe;
use lyceum_gateway_core::{GatewayId, TenantAccount, WebhookRequest, signature};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use uuid::Uuid;

pub const KEY: &str = "sk_test_lyceum_bench";
pub const WHSEC: &str = "whsec_lyceum_bench_endpoint_secret_0123456789";

/// One signed delivery, as the provider would post it.
pub struct Delivery {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// `n` pending orders of the course `paid`, each through `gateway`, one new buyer each.
pub async fn pending_orders(
    app: &TestApp,
    prefix: &str,
    gateway: &str,
    n: usize,
) -> Vec<orders::Model> {
    let ids: Vec<Uuid> = futures_util::stream::iter(0..n)
        .map(|i| async move {
            let (token, _) = app.register(&format!("{prefix}{i}@bench.example")).await;
            let started = app
                .post(
                    "/api/v1/tenants/shop/checkout",
                    Some(&token),
                    json!({"items": [{"course": "paid", "quantity": 1}], "gateway": gateway}),
                )
                .await
                .expect(201);
            started["order"]["id"]
                .as_str()
                .unwrap()
                .parse::<Uuid>()
                .unwrap()
        })
        .buffer_unordered(4)
        .collect()
        .await;
    let rows = orders::Entity::find()
        .filter(orders::Column::Id.is_in(ids))
        .all(&app.state.db)
        .await
        .expect("orders");
    assert_eq!(rows.len(), n);
    assert!(
        rows.iter()
            .all(|o| o.gateway.as_deref() == Some(gateway) && o.session_ref.is_some())
    );
    rows
}

/// The sandbox's signed `payment.succeeded` for `order`.
pub fn sandbox_delivery(order: &orders::Model, secret: &str) -> Delivery {
    let body = TestApp::sandbox_event(
        &format!("evt_bench_sbx_{}", order.id.into_uuid().simple()),
        "payment.succeeded",
        &order.id.to_string(),
        order.tenant_id.into_uuid(),
        order.session_ref.as_deref().unwrap(),
        order.total_amount,
        &order.currency,
        json!({"payment_id": format!("sbp_bench_{}", order.id.into_uuid().simple())}),
    );
    let header =
        signature::sign(&[secret.as_bytes()], chrono::Utc::now().timestamp(), &body).unwrap();
    Delivery {
        headers: vec![("sandbox-signature".to_owned(), header)],
        body,
    }
}

/// Stripe's signed `checkout.session.completed` (paid) for `order`, shaped as the fake (and
/// Stripe) sends it.
pub fn stripe_delivery(fake: &FakeStripe, order: &orders::Model) -> Delivery {
    let session = order.session_ref.as_deref().unwrap();
    let mut object = fake.object(session).expect("the session at the fake");
    object["status"] = json!("complete");
    object["payment_status"] = json!("paid");
    object["payment_intent"] = json!(format!("pi_bench_{}", order.id.into_uuid().simple()));
    let event = fake.build_event("checkout.session.completed", object, None);
    let body = serde_json::to_vec(&event).unwrap();
    let header =
        signature::sign(&[WHSEC.as_bytes()], chrono::Utc::now().timestamp(), &body).unwrap();
    Delivery {
        headers: vec![("stripe-signature".to_owned(), header)],
        body,
    }
}

/// Receives `deliveries` one after another as `POST /webhooks/{gateway}` does below HTTP:
/// verify, read, apply each event; returns the time taken.
pub async fn receive(app: &TestApp, gateway: GatewayId, deliveries: &[Delivery]) -> Duration {
    let provider = app.state.gateways.get(gateway).expect("gateway enabled");
    let started = Instant::now();
    for delivery in deliveries {
        let request = WebhookRequest {
            headers: &delivery.headers,
            body: &delivery.body,
            peer: None,
            now: chrono::Utc::now(),
        };
        let read = provider
            .verify_webhook(&TenantAccount::default(), &request)
            .await
            .expect("the delivery verifies");
        assert_eq!(read.events.len(), 1);
        for event in &read.events {
            let applied = pipeline::apply(&app.state, Source::Provider(gateway.as_str()), event)
                .await
                .expect("applied");
            assert!(matches!(applied, Applied::Recorded { .. }), "{applied:?}");
        }
    }
    started.elapsed()
}
