//! Missed webhooks: the reconciler asks the gateway and settles the order the same way.

use std::time::Duration;

use lyceum::services::commerce::reconcile;
use lyceum::services::ledger::reconcile as ledger_reconcile;
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
        app.order_row(&order).await.status.as_str(),
        "pending",
        "no webhook arrived"
    );

    // The ledger against the provider: the payment the provider took is not in the books.
    let (from, to) = (
        chrono::Utc::now() - chrono::Duration::hours(1),
        chrono::Utc::now() + chrono::Duration::hours(1),
    );
    let books = ledger_reconcile::run(&app.state, from, to).await.unwrap();
    assert_eq!(books.differences.len(), 1, "{books:?}");
    let difference = &books.differences[0];
    assert_eq!(difference.order_id.to_string(), order);
    assert_eq!(
        (difference.ledger.kept, difference.provider.map(|p| p.kept)),
        (0, Some(4900))
    );
    assert_eq!(difference.provider.map(|p| p.fee), Some(490));

    let pass = reconcile::run_once(&app.state, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!((pass.asked, pass.expired), (1, 0));
    assert_eq!(app.order_row(&order).await.status.as_str(), "paid");
    // Settled the same way: now the books and the provider agree.
    let books = ledger_reconcile::run(&app.state, from, to).await.unwrap();
    assert!(books.is_clean(), "{books:?}");
    assert_eq!(
        books.totals[&("sandbox".to_owned(), "USD".to_owned())].ledger_kept,
        4900
    );
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

async fn unanswered_refund_requests_are_asked_again(backend: Backend) {
    // The provider was unreachable when the refund was asked: the request stays `requested`
    // (so it cannot be asked twice by hand) until the reconciler asks again with the same key.
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let shop = app.shop().await;
    let order = app.buy(&shop.student, "paid").await;
    let owner_id = app.get("/api/v1/me", Some(&shop.owner)).await.expect(200)["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    app.unanswered_refund_request(&order, 900, owner_id).await;
    // In flight: only the rest can be asked for.
    let refunds = format!("/api/v1/tenants/shop/orders/{order}/refunds");
    app.post(
        &refunds,
        Some(&shop.owner),
        serde_json::json!({"amount": {"amount": 4100, "currency": "USD"}}),
    )
    .await
    .expect_problem(422);

    let pass = reconcile::run_once(&app.state, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(pass.refunds_asked, 1);
    app.wait_for_status(&shop.student, &order, "partially_refunded")
        .await;
    assert_eq!(
        app.refund_rows(&order).await,
        vec![(900, "succeeded".to_owned())]
    );
    assert_eq!(app.order_row(&order).await.refunded_amount, 900);
    // Settled: the next pass asks nothing and refunds nothing more.
    let pass = reconcile::run_once(&app.state, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(pass.refunds_asked, 0);
    assert_eq!(app.order_row(&order).await.refunded_amount, 900);
}

#[tokio::test]
async fn unanswered_refund_requests_are_asked_again_on_sqlite() {
    unanswered_refund_requests_are_asked_again(Backend::Sqlite).await;
}

#[tokio::test]
async fn unanswered_refund_requests_are_asked_again_on_postgres() {
    unanswered_refund_requests_are_asked_again(Backend::Postgres).await;
}
