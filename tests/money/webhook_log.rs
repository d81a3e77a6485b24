//! The webhook log: every delivery is logged with its verification and outcome, refused ones
//! without their events; platform admins list, read and replay them, and a replay goes through
//! the same idempotent pipeline.

use lyceum::entities::webhook_deliveries;
use lyceum::services::webhooks;
use lyceum_e2e::{TestApp, db_tests};
use reqwest::Method;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbBackend, EntityTrait};
use serde_json::{Value, json};
use uuid::Uuid;

/// A pending order of `paid` for the shop's student, and its checkout session.
async fn pending_order(app: &TestApp, token: &str) -> (String, String) {
    let started = app.checkout(token, "paid").await;
    let order = started["order"]["id"].as_str().unwrap().to_owned();
    let session = app.order_row(&order).await.session_ref.unwrap();
    (order, session)
}

async fn log(app: &TestApp, admin: &str, query: &str) -> Vec<Value> {
    let page = app
        .get(&format!("/api/v1/admin/webhooks{query}"), Some(admin))
        .await
        .expect(200);
    page["items"].as_array().unwrap().clone()
}

async fn replay(app: &TestApp, token: &str, delivery: &str) -> lyceum_e2e::Reply {
    let path = format!("/api/v1/admin/webhooks/{delivery}/replay");
    app.call(Method::POST, &path, Some(token), None).await
}

db_tests! {
    async fn deliveries_are_logged_and_replaying_an_applied_one_changes_nothing(app) {
        let shop = app.shop().await;
        let (order, session) = pending_order(&app, &shop.student).await;
        let secret = app.sandbox_secret().await;
        let now = chrono::Utc::now().timestamp();
        let body = TestApp::sandbox_event("evt_logged", "payment.succeeded", &order, shop.tenant_id, &session, 4900, "USD", json!({}));

        // A verified delivery: applied, with its event.
        app.deliver(&body, &secret, now).await.expect(200);
        let items = log(&app, &shop.admin, "").await;
        assert_eq!(items.len(), 1, "{items:?}");
        let applied = &items[0];
        assert_eq!((applied["gateway"].as_str(), applied["verification"].as_str(), applied["outcome"].as_str()), (Some("sandbox"), Some("verified"), Some("applied")), "{applied}");
        assert!(applied["peer"].is_string() && applied.get("tenant").is_none() && applied.get("replay_of").is_none(), "{applied}");
        let events = applied["events"].as_array().unwrap();
        assert_eq!(events.len(), 1, "{applied}");
        assert_eq!((events[0]["id"].as_str(), events[0]["kind"].as_str(), events[0]["order_id"].as_str(), events[0]["outcome"].as_str()), (Some("evt_logged"), Some("payment_succeeded"), Some(order.as_str()), Some("applied")));
        assert_eq!(events[0]["amount"], json!({"amount": 4900, "currency": "USD"}));
        let applied_id = applied["id"].as_str().unwrap().to_owned();

        // The same delivery again: a duplicate, newest first.
        app.deliver(&body, &secret, now).await.expect(200);
        let items = log(&app, &shop.admin, "").await;
        assert_eq!(items.len(), 2);
        assert_eq!((items[0]["outcome"].as_str(), items[1]["id"].as_str()), (Some("duplicate"), Some(applied_id.as_str())));
        assert_eq!(items[0]["events"][0]["outcome"], "duplicate");

        // A forged delivery: refused, with a fixed reason and nothing of its body.
        app.deliver(&body, "whsec_not_the_secret_not_the_secret_0000", now).await.expect_problem(400);
        let refused = log(&app, &shop.admin, "?outcome=refused").await;
        assert_eq!(refused.len(), 1, "{refused:?}");
        assert_eq!((refused[0]["verification"].as_str(), refused[0]["reason"].as_str()), (Some("refused"), Some("bad signature")));
        assert_eq!(refused[0]["events"], json!([]));
        assert!(!refused[0].to_string().contains("evt_logged"), "{}", refused[0]);
        let row = webhook_deliveries::Entity::find_by_id(Uuid::parse_str(refused[0]["id"].as_str().unwrap()).unwrap()).one(&app.state.db).await.unwrap().unwrap();
        assert_eq!(row.events, "[]");
        assert_eq!(log(&app, &shop.admin, "?gateway=sandbox&outcome=applied").await.len(), 1);
        assert_eq!(log(&app, &shop.admin, "?gateway=stripe").await.len(), 0);
        app.get("/api/v1/admin/webhooks?outcome=teleported", Some(&shop.admin)).await.expect_problem(422);
        app.get("/api/v1/admin/webhooks?gateway=paypal", Some(&shop.admin)).await.expect_problem(422);
        app.get("/api/v1/admin/webhooks?limit=101", Some(&shop.admin)).await.expect_problem(422);
        // A refused delivery has nothing to replay.
        replay(&app, &shop.admin, refused[0]["id"].as_str().unwrap()).await.expect_problem(409);

        // Pages follow `next_before`, newest first.
        let first = app.get("/api/v1/admin/webhooks?limit=2", Some(&shop.admin)).await.expect(200);
        assert_eq!(first["items"].as_array().unwrap().len(), 2);
        let before = first["next_before"].as_str().unwrap();
        let rest = app.get(&format!("/api/v1/admin/webhooks?limit=2&before={before}"), Some(&shop.admin)).await.expect(200);
        assert_eq!(rest["items"].as_array().unwrap().len(), 1);
        assert_eq!(rest["items"][0]["id"].as_str(), Some(applied_id.as_str()));
        assert!(rest.get("next_before").is_none(), "{rest}");

        // Replaying the applied delivery: every event a duplicate, nothing changes.
        let (events_before, audit_before, ents_before) = app.order_trail(&order).await;
        let books_before = app.order_books(&order).await;
        let replayed = replay(&app, &shop.admin, &applied_id).await.expect(200);
        assert_eq!((replayed["outcome"].as_str(), replayed["replay_of"].as_str(), replayed["verification"].as_str()), (Some("duplicate"), Some(applied_id.as_str()), Some("verified")), "{replayed}");
        assert!(replayed.get("peer").is_none(), "{replayed}");
        assert_eq!(replayed["events"][0]["outcome"], "duplicate");
        let (events_after, audit_after, ents_after) = app.order_trail(&order).await;
        assert_eq!((events_after, audit_after, ents_after.len()), (events_before, audit_before, ents_before.len()));
        assert_eq!(ents_after.len(), 1);
        assert_eq!(app.order_books(&order).await, books_before);
        app.assert_ledger_balanced().await;
        let fetched = app.get(&format!("/api/v1/admin/webhooks/{}", replayed["id"].as_str().unwrap()), Some(&shop.admin)).await.expect(200);
        assert_eq!(fetched, replayed);
        assert_eq!(log(&app, &shop.admin, "").await.len(), 4, "the replay is logged");

        // Not for a storefront's owner; an unknown delivery is not found.
        app.get("/api/v1/admin/webhooks", Some(&shop.owner)).await.expect_problem(403);
        app.get(&format!("/api/v1/admin/webhooks/{applied_id}"), Some(&shop.owner)).await.expect_problem(403);
        replay(&app, &shop.owner, &applied_id).await.expect_problem(403);
        app.get("/api/v1/admin/webhooks", None).await.expect_problem(401);
        let unknown = Uuid::now_v7();
        app.get(&format!("/api/v1/admin/webhooks/{unknown}"), Some(&shop.admin)).await.expect_problem(404);
        replay(&app, &shop.admin, &unknown.to_string()).await.expect_problem(404);
        assert_eq!(log(&app, &shop.admin, "").await.len(), 4, "refused replays are not logged");

        // Pruning: a delivery past the retention goes; its replay stays, no longer pointing at it.
        let old: webhook_deliveries::Model = webhook_deliveries::Entity::find_by_id(Uuid::parse_str(&applied_id).unwrap()).one(&app.state.db).await.unwrap().unwrap();
        let mut old: webhook_deliveries::ActiveModel = old.into();
        old.received_at = Set(chrono::Utc::now() - webhooks::RETENTION - chrono::Duration::hours(1));
        old.update(&app.state.db).await.unwrap();
        let pruned = webhooks::prune(&app.state, lyceum::services::now() - webhooks::RETENTION).await.unwrap();
        assert_eq!(pruned, 1);
        let items = log(&app, &shop.admin, "").await;
        assert_eq!(items.len(), 3);
        assert!(items.iter().all(|d| d["id"].as_str() != Some(applied_id.as_str()) && d.get("replay_of").is_none()), "{items:?}");
    }

    async fn replaying_a_delivery_that_failed_applies_it(app) {
        let shop = app.shop().await;
        let (order, session) = pending_order(&app, &shop.student).await;
        let db = &app.state.db;
        // The entitlement write fails, so the delivery answers 500.
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
        let body = TestApp::sandbox_event("evt_failed", "payment.succeeded", &order, shop.tenant_id, &session, 4900, "USD", json!({}));
        app.deliver(&body, &secret, chrono::Utc::now().timestamp()).await.expect_problem(500);
        let failed = log(&app, &shop.admin, "?outcome=failed").await;
        assert_eq!(failed.len(), 1, "{failed:?}");
        assert_eq!((failed[0]["verification"].as_str(), failed[0]["events"][0]["outcome"].as_str()), (Some("verified"), Some("failed")));
        assert!(!failed[0]["detail"].as_str().unwrap().contains("boom"), "no error text: {}", failed[0]);
        let failed_id = failed[0]["id"].as_str().unwrap();

        // Replayed while it still fails: logged as failed again, nothing applied.
        let again = replay(&app, &shop.admin, failed_id).await.expect(200);
        assert_eq!(again["outcome"], "failed", "{again}");
        assert_eq!(app.order_row(&order).await.status.as_str(), "pending");

        let drop = match db.get_database_backend() {
            DbBackend::Postgres => "DROP TRIGGER boom ON entitlements",
            _ => "DROP TRIGGER boom",
        };
        db.execute_unprepared(drop).await.unwrap();
        let replayed = replay(&app, &shop.admin, failed_id).await.expect(200);
        assert_eq!((replayed["outcome"].as_str(), replayed["replay_of"].as_str()), (Some("applied"), Some(failed_id)), "{replayed}");
        let (events, audit, ents) = app.order_trail(&order).await;
        assert_eq!((events, audit, ents.len()), (1, 1, 1));
        assert_eq!(app.order_row(&order).await.status.as_str(), "paid");
        assert_eq!(app.access(Some(&shop.student), "paid").await["access"], true);
        app.assert_ledger_balanced().await;
    }
}
