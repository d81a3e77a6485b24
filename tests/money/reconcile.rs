//! Missed webhooks: the reconciler asks the gateway and settles the order the same way.

use std::time::Duration;

use lyceum::services::orders::reconcile;
use lyceum_e2e::{Backend, spawn_app_with};

async fn missed_webhooks_are_reconciled(backend: Backend) {
    // The sandbox's webhooks never arrive during this test.
    let Some(app) = spawn_app_with(backend, |s| {
        s.sandbox_delivery.delay = Duration::from_secs(3600)
    })
    .await
    else {
        return;
    };
    let shop = app.shop().await;
    let started = app.checkout(&shop.student, "paid").await;
    let order = started["order"]["id"].as_str().unwrap().to_owned();
    app.pay(
        started["redirect_url"].as_str().unwrap(),
        "4242424242424242",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        app.order_row(&order).await.status,
        "pending",
        "no webhook arrived"
    );

    let pass = reconcile::run_once(&app.state, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!((pass.asked, pass.expired), (1, 0));
    assert_eq!(app.order_row(&order).await.status, "paid");
    assert_eq!(
        app.access(Some(&shop.student), "paid").await["access"],
        true
    );
    // A second pass changes nothing; the report is clean.
    reconcile::run_once(&app.state, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(app.order_trail(&order).await.2.len(), 1);
    assert!(reconcile::report(&app.state.db).await.unwrap().is_clean());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missed_webhooks_are_reconciled_on_sqlite() {
    missed_webhooks_are_reconciled(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missed_webhooks_are_reconciled_on_postgres() {
    missed_webhooks_are_reconciled(Backend::Postgres).await;
}
