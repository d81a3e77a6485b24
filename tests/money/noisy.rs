//! The sandbox delivering every event twice, late and out of order: the end state is the same.

use std::time::Duration;

use lyceum_e2e::{Backend, spawn_app_with};
use serde_json::json;

async fn duplicated_reordered_deliveries(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| {
        s.sandbox_delivery.duplicate = true;
        s.sandbox_delivery.delay = Duration::from_millis(50);
        s.sandbox_delivery.reorder = Duration::from_millis(300);
    })
    .await
    else {
        return;
    };
    let shop = app.shop().await;
    let order = app.buy(&shop.student, "paid").await;
    app.post(
        &format!("/api/v1/tenants/shop/orders/{order}/refunds"),
        Some(&shop.owner),
        json!({"amount": {"amount": 900, "currency": "USD"}}),
    )
    .await
    .expect(202);
    app.post(
        &format!("/api/v1/tenants/shop/orders/{order}/refunds"),
        Some(&shop.owner),
        json!({"amount": {"amount": 4000, "currency": "USD"}}),
    )
    .await
    .expect(202);
    let refunded = app.wait_for_status(&shop.student, &order, "refunded").await;
    assert_eq!(refunded["refunded"]["amount"], 4900);
    assert!(
        app.state
            .gateways
            .sandbox()
            .unwrap()
            .settle(Duration::from_secs(10))
            .await
    );
    // Six deliveries (three events, twice each) recorded as three events, three audit rows.
    let (events, audit, ents) = app.order_trail(&order).await;
    assert_eq!((events, audit, ents.len()), (3, 3, 1));
    assert_eq!(ents[0].status.as_str(), "revoked");
    assert_eq!(
        app.access(Some(&shop.student), "paid").await["access"],
        false
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicated_reordered_deliveries_on_sqlite() {
    duplicated_reordered_deliveries(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicated_reordered_deliveries_on_postgres() {
    duplicated_reordered_deliveries(Backend::Postgres).await;
}
