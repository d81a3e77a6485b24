//! The money path's metrics move with what really happens: webhook deliveries and their
//! events by provider and outcome, the pipeline's apply time, access-cache hits, the outbox's
//! backlog, reconciler findings, payout runs and payouts.

use std::time::Duration;

use lyceum::entities::outbox;
use lyceum::ids::OutboxMessageId;
use lyceum::services::commerce::reconcile;
use lyceum_e2e::{TestApp, db_tests};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DbBackend};
use serde_json::json;

const EVENTS: &str = "lyceum_webhook_events_total";
const DELIVERIES: &str = "lyceum_webhook_deliveries_total";
const SANDBOX: (&str, &str) = ("provider", "sandbox");

/// A pending order of `paid` for `token`, and its checkout session.
async fn pending_order(app: &TestApp, token: &str) -> (String, String) {
    let started = app.checkout(token, "paid").await;
    let order = started["order"]["id"].as_str().unwrap().to_owned();
    let session = app.order_row(&order).await.session_ref.unwrap();
    (order, session)
}

/// A pending outbox row nobody may send for an hour, made an hour ago: the backlog's age.
async fn stuck_outbox_row(app: &TestApp) {
    let hour_ago = chrono::Utc::now() - chrono::Duration::hours(1);
    outbox::ActiveModel {
        id: Set(OutboxMessageId::new_v7()),
        tenant_id: Set(None),
        kind: Set(outbox::OutboxKind::PurchaseReceipt),
        dedupe_key: Set("metrics-test-stuck".to_owned()),
        payload: Set(json!({})),
        status: Set(outbox::OutboxStatus::Pending),
        attempts: Set(3),
        next_attempt_at: Set(chrono::Utc::now() + chrono::Duration::hours(1)),
        last_error: Set(Some("the mail server is down".to_owned())),
        created_at: Set(hour_ago),
        sent_at: Set(None),
    }
    .insert(&app.state.db)
    .await
    .unwrap();
}

db_tests! {
    async fn webhooks_access_checks_and_the_outbox_are_counted(app) {
        let shop = app.shop().await;
        let applied = [SANDBOX, ("outcome", "applied")];
        assert_eq!(app.scrape().await.count(EVENTS, &applied), 0.0);

        // A real purchase: the sandbox's signed webhook, applied.
        app.buy(&shop.student, "paid").await;
        let after_buy = app.scrape_until(EVENTS, &applied, 1.0).await;
        let verified = [SANDBOX, ("verification", "verified"), ("reason", "none")];
        assert!(after_buy.count(DELIVERIES, &verified) >= 1.0, "{}", after_buy.0);
        let applies = [SANDBOX];
        let apply_count = "lyceum_payment_event_apply_duration_seconds_count";
        assert!(after_buy.count(apply_count, &applies) >= 1.0, "{}", after_buy.0);

        // Another buyer's event delivered twice, as a provider retries: applied, then a duplicate.
        let second = app.buyer("second@example.com").await;
        let (order, session) = pending_order(&app, &second).await;
        let secret = app.sandbox_secret().await;
        let body = TestApp::sandbox_event("evt_counted", "payment.succeeded", &order, shop.tenant_id, &session, 4900, "USD", json!({}));
        let now = chrono::Utc::now().timestamp();
        let (applied_before, duplicates) = (after_buy.count(EVENTS, &applied), [SANDBOX, ("outcome", "duplicate")]);
        app.deliver(&body, &secret, now).await.expect(200);
        app.scrape_until(EVENTS, &applied, applied_before + 1.0).await;
        let duplicates_before = app.scrape().await.count(EVENTS, &duplicates);
        app.deliver(&body, &secret, now).await.expect(200);
        let after = app.scrape_until(EVENTS, &duplicates, duplicates_before + 1.0).await;
        assert_eq!(after.count(EVENTS, &applied), applied_before + 1.0, "the duplicate applied nothing");
        assert!(after.count(apply_count, &applies) >= after_buy.count(apply_count, &applies) + 2.0, "{}", after.0);

        // A forged signature: refused, counted by its reason, no event.
        let forged = [SANDBOX, ("verification", "refused"), ("reason", "bad_signature")];
        app.deliver(&body, "whsec_forged_by_someone_else_entirely", now).await.expect_problem(400);
        let after_forgery = app.scrape_until(DELIVERIES, &forged, 1.0).await;
        assert_eq!(after_forgery.count(EVENTS, &duplicates), after.count(EVENTS, &duplicates));

        // The access check: loaded once, then answered from the cache.
        let lookups = "lyceum_access_cache_lookups_total";
        let (hit, miss) = ([("result", "hit")], [("result", "miss")]);
        let before = app.scrape().await;
        assert_eq!(app.access(Some(&shop.student), "paid").await["access"], true);
        let loaded = app.scrape().await;
        assert_eq!(app.access(Some(&shop.student), "paid").await["access"], true);
        let cached = app.scrape().await;
        assert_eq!(loaded.count(lookups, &miss), before.count(lookups, &miss) + 1.0, "{}", loaded.0);
        assert_eq!(cached.count(lookups, &hit), loaded.count(lookups, &hit) + 1.0, "{}", cached.0);
        assert_eq!(cached.count(lookups, &miss), loaded.count(lookups, &miss));

        // The outbox: receipts are sent by the worker; a message stuck for an hour shows as lag.
        app.scrape_until("lyceum_outbox_deliveries_total", &[("result", "sent")], 1.0).await;
        stuck_outbox_row(&app).await;
        let backlog = app.scrape().await;
        assert!(backlog.count("lyceum_outbox_pending_messages", &[]) >= 1.0, "{}", backlog.0);
        let age = backlog.count("lyceum_outbox_oldest_pending_age_seconds", &[]);
        assert!((3590.0..3700.0).contains(&age), "{age}\n{}", backlog.0);
        assert_eq!(backlog.value("lyceum_outbox_dead_messages", &[]), Some(0.0), "{}", backlog.0);
        let outbox_ran = backlog.count("lyceum_job_last_success_timestamp_seconds", &[("job", "outbox")]);
        assert!(outbox_ran > (chrono::Utc::now().timestamp() - 60) as f64, "{}", backlog.0);

        // The instances' invalidation listener: connected on PostgreSQL, absent on SQLite.
        let listener = "lyceum_invalidation_listener_connected";
        match app.state.db.get_database_backend() {
            DbBackend::Postgres => { app.scrape_until(listener, &[], 1.0).await; }
            _ => assert_eq!(backlog.value(listener, &[]), None, "{}", backlog.0),
        }
    }

    async fn reconciler_findings_and_payouts_are_counted(app) {
        let shop = app.shop().await;
        // The payout: no hold, so the sale is available at once.
        app.put("/api/v1/admin/tenants/shop/payout-hold", Some(&shop.admin), json!({"days": 0})).await.expect(200);
        app.buy(&shop.student, "paid").await;
        let runs = "lyceum_payout_runs_total";
        let before = app.scrape().await;
        let made = app.post("/api/v1/admin/payouts/run", Some(&shop.admin), json!({})).await.expect(200);
        let id = made[0]["id"].as_str().unwrap().to_owned();
        let after_run = app.scrape().await;
        // (The books job runs too, every five minutes: at least this run.)
        assert!(after_run.count(runs, &[("result", "ok")]) >= before.count(runs, &[("result", "ok")]) + 1.0, "{}", after_run.0);
        assert_eq!(after_run.value(runs, &[("result", "failed")]), Some(0.0), "{}", after_run.0);
        assert_eq!(after_run.count("lyceum_payouts_total", &[("event", "created")]), 1.0, "{}", after_run.0);
        let amounts = "lyceum_payout_amount_minor_units_total";
        assert_eq!(after_run.count(amounts, &[("event", "created"), ("currency", "USD")]), 4410.0);
        app.post(&format!("/api/v1/admin/payouts/{id}/paid"), Some(&shop.admin), json!({"reference": "SEPA-7"})).await.expect(200);
        // Marking it paid again changes nothing, and counts nothing.
        app.post(&format!("/api/v1/admin/payouts/{id}/paid"), Some(&shop.admin), json!({})).await.expect(200);
        let paid = app.scrape().await;
        assert_eq!(paid.count("lyceum_payouts_total", &[("event", "paid")]), 1.0, "{}", paid.0);
        assert_eq!(paid.count(amounts, &[("event", "paid"), ("currency", "USD")]), 4410.0);

        // The reconciler: an open order is asked about, and expired once its time ran out.
        let findings = "lyceum_reconciler_findings_total";
        let second = app.buyer("second@example.com").await;
        let (order, _) = pending_order(&app, &second).await;
        let before = app.scrape().await;
        let pass = reconcile::run_once(&app.state, Duration::ZERO).await.unwrap();
        assert_eq!((pass.asked, pass.expired), (1, 0));
        let asked = app.scrape().await;
        assert_eq!(asked.count(findings, &[("kind", "stale_order")]), before.count(findings, &[("kind", "stale_order")]) + 1.0, "{}", asked.0);
        let reconciler_runs = "lyceum_reconciler_runs_total";
        assert!(asked.count(reconciler_runs, &[("result", "ok")]) >= before.count(reconciler_runs, &[("result", "ok")]) + 1.0, "{}", asked.0);
        let missed = [("kind", "missed_event")];
        assert_eq!(asked.count(findings, &missed), before.count(findings, &missed) + pass.events_applied as f64, "{}", asked.0);
        app.expire_order_now(&order).await;
        reconcile::run_once(&app.state, Duration::ZERO).await.unwrap();
        let expired = app.scrape().await;
        assert_eq!(expired.count(findings, &[("kind", "expired_order")]), asked.count(findings, &[("kind", "expired_order")]) + 1.0, "{}", expired.0);
        let reconciled = expired.count("lyceum_job_last_success_timestamp_seconds", &[("job", "reconciler")]);
        assert!(reconciled > (chrono::Utc::now().timestamp() - 60) as f64, "{}", expired.0);
    }
}
