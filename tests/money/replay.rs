//! Replays: the same event many times at once, and a transaction that fails half-way.

use lyceum_e2e::TestApp;
use lyceum_e2e::db_tests;
use sea_orm::{ConnectionTrait, DbBackend};
use serde_json::json;

async fn pending_order(app: &TestApp, token: &str) -> (String, String) {
    let started = app.checkout(token, "paid").await;
    let order = started["order"]["id"].as_str().unwrap().to_owned();
    let session = app.order_row(&order).await.session_ref.unwrap();
    (order, session)
}

db_tests! {
    async fn the_same_event_twenty_times_at_once_applies_once(app) {
        let shop = app.shop().await;
        let (order, session) = pending_order(&app, &shop.student).await;
        let secret = app.sandbox_secret().await;
        let body = TestApp::sandbox_event("evt_twenty", "payment.succeeded", &order, shop.tenant_id, &session, 4900, "USD", json!({}));
        let now = chrono::Utc::now().timestamp();
        let deliveries = (0..20).map(|_| app.deliver(&body, &secret, now));
        for reply in futures_util::future::join_all(deliveries).await {
            assert!(reply.status.is_success(), "{} {}", reply.status, reply.text);
        }
        let (events, audit, ents) = app.order_trail(&order).await;
        assert_eq!((events, audit, ents.len()), (1, 1, 1));
        assert_eq!(ents[0].status.as_str(), "active");
        assert_eq!(app.order_row(&order).await.status.as_str(), "paid");
        // Booked once.
        assert_eq!(app.order_books(&order).await.iter().find(|(a, ..)| a == "clearing").map(|b| b.2), Some(4900));
        app.assert_ledger_balanced().await;
    }

    async fn a_transaction_failing_half_way_leaves_nothing_and_a_replay_completes(app) {
        let shop = app.shop().await;
        let (order, session) = pending_order(&app, &shop.student).await;
        let db = &app.state.db;
        // Make the entitlement write fail, after the event row was written in the same transaction.
        match db.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared("CREATE FUNCTION boom() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'boom'; END $$ LANGUAGE plpgsql").await.unwrap();
                db.execute_unprepared("CREATE TRIGGER boom BEFORE INSERT ON entitlements FOR EACH ROW EXECUTE FUNCTION boom()").await.unwrap();
            }
            _ => {
                db.execute_unprepared("CREATE TRIGGER boom BEFORE INSERT ON entitlements BEGIN SELECT RAISE(ABORT, 'boom'); END").await.unwrap();
            }
        }
        let secret = app.sandbox_secret().await;
        let body = TestApp::sandbox_event("evt_halfway", "payment.succeeded", &order, shop.tenant_id, &session, 4900, "USD", json!({}));
        let failed = app.deliver(&body, &secret, chrono::Utc::now().timestamp()).await;
        assert_eq!(failed.status, 500, "the provider must deliver again: {}", failed.text);
        assert_eq!(app.order_trail(&order).await.0, 0, "the event row was rolled back with the rest");
        assert_eq!(app.order_row(&order).await.status.as_str(), "pending");

        let drop = match db.get_database_backend() {
            DbBackend::Postgres => "DROP TRIGGER boom ON entitlements",
            _ => "DROP TRIGGER boom",
        };
        db.execute_unprepared(drop).await.unwrap();
        let replayed = app.deliver(&body, &secret, chrono::Utc::now().timestamp()).await;
        assert!(replayed.status.is_success(), "{}", replayed.text);
        let (events, audit, ents) = app.order_trail(&order).await;
        assert_eq!((events, audit, ents.len()), (1, 1, 1));
        assert_eq!(app.access(Some(&shop.student), "paid").await["access"], true);
        assert_eq!(app.order_books(&order).await.iter().find(|(a, ..)| a == "clearing").map(|b| b.2), Some(4900));
        app.assert_ledger_balanced().await;
    }
}
