//! Coupon uses follow their orders: reserved at checkout, final once paid, given back when the
//! order can no longer be paid; the last use goes to exactly one of many racing buyers; a coupon
//! that does not apply, or a buyer past their own limit, is refused without spending anything.

use std::time::Duration;

use futures_util::future::join_all;
use lyceum::services::commerce::checkout::local_event_for;
use lyceum::services::commerce::pipeline::{self, Applied, Source};
use lyceum::services::commerce::reconcile;
use lyceum_e2e::{Backend, TestApp, db_tests, spawn_app_with};
use lyceum_gateway_core::{Currency, EventKind, GatewayEvent, Money};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

const GOOD_CARD: &str = "4242424242424242";
const DECLINED_CARD: &str = "4000000000000002";

async fn coupon(app: &TestApp, owner: &str, body: Value) -> Value {
    app.post("/api/v1/tenants/shop/coupons", Some(owner), body)
        .await
        .expect(201)
}

fn refused_field(problem: &Value) -> &str {
    problem["errors"][0]["field"].as_str().unwrap_or_default()
}

/// The platform's own event about an order, applied through the payment pipeline.
async fn platform_event(app: &TestApp, order: &str, kind: EventKind, what: &str) -> Applied {
    let row = app.order_row(order).await;
    let usd = Currency::parse("USD").unwrap();
    let event = local_event_for(row.id, row.tenant_id, usd, kind, what);
    pipeline::apply(&app.state, Source::Platform, &event)
        .await
        .unwrap()
}

async fn abandoned_checkouts_give_their_coupon_use_back(backend: Backend) {
    // Orders expire as soon as the reconciler looks at them.
    let Some(app) = spawn_app_with(backend, |s| s.order_ttl_minutes = 0).await else {
        return;
    };
    let shop = app.shop().await;
    coupon(
        &app,
        &shop.owner,
        json!({"code": "LAST", "percent_off": 10, "max_redemptions": 1}),
    )
    .await;
    let first = app
        .checkout_with_coupon(&shop.student, "paid", "LAST")
        .await
        .expect(201);
    assert_eq!(first["order"]["discount"]["amount"], 490);
    let first_id = first["order"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.coupon_counters("LAST").await,
        (0, 1),
        "reserved, not final"
    );
    let other = app.buyer("other@example.com").await;
    let taken = app
        .checkout_with_coupon(&other, "paid", "LAST")
        .await
        .expect_problem(422);
    assert_eq!(refused_field(&taken), "coupon", "{taken}");

    // The buyer walks away: expiry gives the use back.
    let pass = reconcile::run_once(&app.state, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(pass.expired, 1);
    assert_eq!(app.order_row(&first_id).await.status.as_str(), "expired");
    assert_eq!(app.coupon_counters("LAST").await, (0, 0));
    assert_eq!(app.coupon_uses("LAST").await, (0, 0, 1));
    // The same expiry again, and an expiry told by another event: given back once.
    assert_eq!(
        platform_event(&app, &first_id, EventKind::PaymentExpired, "expired").await,
        Applied::Duplicate
    );
    assert!(matches!(
        platform_event(&app, &first_id, EventKind::PaymentExpired, "expired-again").await,
        Applied::Recorded { .. }
    ));
    assert_eq!(app.coupon_counters("LAST").await, (0, 0));

    // Another buyer now gets the last use.
    let second = app
        .checkout_with_coupon(&other, "paid", "LAST")
        .await
        .expect(201);
    assert_eq!(second["order"]["discount"]["amount"], 490);
    assert_eq!(app.coupon_counters("LAST").await, (0, 1));

    // The reconciler closed the first order's session at the provider, so its page takes no
    // more cards...
    let closed = app
        .pay(first["redirect_url"].as_str().unwrap(), GOOD_CARD)
        .await;
    assert_eq!(closed.status, 410, "{}", closed.text);
    // ...but a provider may still report money it took in a race with the close: the money
    // is real, so the order is paid and its use is taken again and final, even past the limit.
    let session = app.order_row(&first_id).await.session_ref.unwrap();
    let late = TestApp::sandbox_event(
        "evt_raced_the_close",
        "payment.succeeded",
        &first_id,
        shop.tenant_id,
        &session,
        4410,
        "USD",
        json!({}),
    );
    let secret = app.sandbox_secret().await;
    app.deliver(&late, &secret, chrono::Utc::now().timestamp())
        .await
        .expect(200);
    app.wait_for_status(&shop.student, &first_id, "paid").await;
    assert_eq!(app.coupon_counters("LAST").await, (1, 1));
    assert_eq!(app.coupon_uses("LAST").await, (1, 1, 0));
    // The same payment told again, by a new event and by the same one: counted once.
    let row = app.order_row(&first_id).await;
    let payment = GatewayEvent {
        provider_event_id: "evt_late_payment_again".to_owned(),
        kind: EventKind::PaymentSucceeded,
        order_id: row.id.into(),
        tenant_id: Some(row.tenant_id.into()),
        session_ref: row.session_ref.clone(),
        provider_payment_id: row.payment_id.clone().unwrap(),
        refund_id: None,
        dispute_id: None,
        amount: Money::new(row.total_amount, Currency::parse("USD").unwrap()).unwrap(),
        occurred_at: chrono::Utc::now(),
    };
    for _ in 0..2 {
        pipeline::apply(&app.state, Source::Provider("sandbox"), &payment)
            .await
            .unwrap();
    }
    assert_eq!(app.order_row(&first_id).await.paid_amount, 4410);
    assert_eq!(app.coupon_counters("LAST").await, (1, 1));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoned_checkouts_give_their_coupon_use_back_on_sqlite() {
    abandoned_checkouts_give_their_coupon_use_back(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoned_checkouts_give_their_coupon_use_back_on_postgres() {
    abandoned_checkouts_give_their_coupon_use_back(Backend::Postgres).await;
}

db_tests! {
    async fn twenty_buyers_racing_for_the_last_use_leave_one_winner(app) {
        let shop = app.shop().await;
        coupon(&app, &shop.owner, json!({"code": "RACE", "percent_off": 10, "max_redemptions": 2})).await;
        // One use is already final.
        let first = app.checkout_with_coupon(&shop.student, "paid", "RACE").await.expect(201);
        app.pay(first["redirect_url"].as_str().unwrap(), GOOD_CARD).await;
        app.wait_for_status(&shop.student, first["order"]["id"].as_str().unwrap(), "paid").await;
        assert_eq!(app.coupon_counters("RACE").await, (1, 0));

        let buyers = join_all((0..20).map(|i| {
            let app = &app;
            async move { app.buyer(&format!("racer{i}@example.com")).await }
        }))
        .await;
        let replies = join_all(buyers.iter().map(|t| app.checkout_with_coupon(t, "paid", "RACE"))).await;
        let (won, lost): (Vec<_>, Vec<_>) = replies.into_iter().partition(|r| r.status == 201);
        assert_eq!(won.len(), 1, "exactly one buyer gets the last use");
        assert_eq!(won[0].body["order"]["discount"]["amount"], 490);
        for reply in lost {
            let problem = reply.expect_problem(422);
            assert_eq!(refused_field(&problem), "coupon", "{problem}");
        }
        assert_eq!(app.coupon_counters("RACE").await, (1, 1));
        assert_eq!(app.coupon_uses("RACE").await, (1, 1, 0));
        let with_coupon = lyceum::entities::orders::Entity::find()
            .filter(lyceum::entities::orders::Column::CouponId.is_not_null())
            .count(&app.state.db)
            .await
            .unwrap();
        assert_eq!(with_coupon, 2, "no order of a refused buyer was kept");
    }

    async fn a_coupon_for_another_course_is_refused_and_spends_nothing(app) {
        let shop = app.shop().await;
        app.course("shop", &shop.owner, "other", 1000).await;
        coupon(&app, &shop.owner, json!({"code": "OTHER", "percent_off": 50, "max_redemptions": 1, "courses": ["other"]})).await;
        let refused = app.checkout_with_coupon(&shop.student, "paid", "OTHER").await.expect_problem(422);
        assert_eq!(refused_field(&refused), "coupon", "{refused}");
        assert_eq!(app.coupon_counters("OTHER").await, (0, 0));
        assert_eq!(app.coupon_uses("OTHER").await, (0, 0, 0));
        let mine = app.get("/api/v1/me/orders", Some(&shop.student)).await.expect(200);
        assert_eq!(mine.as_array().unwrap().len(), 0, "no order was made: {mine}");
        // Without the code the purchase goes ahead at full price.
        let started = app.checkout(&shop.student, "paid").await;
        assert_eq!(started["order"]["total"]["amount"], 4900);
    }

    async fn a_paid_orders_use_is_final_and_a_decline_keeps_it(app) {
        let shop = app.shop().await;
        let body = coupon(&app, &shop.owner, json!({"code": "ONCE", "amount_off": {"amount": 1000, "currency": "USD"}, "max_redemptions": 1})).await;
        assert_eq!((body["redemptions"].clone(), body["reserved"].clone()), (json!(0), json!(0)));
        let started = app.checkout_with_coupon(&shop.student, "paid", "ONCE").await.expect(201);
        assert_eq!(started["order"]["total"]["amount"], 3900);
        let order = started["order"]["id"].as_str().unwrap().to_owned();
        // The fee computed at checkout is kept (10% by default, rounded down).
        assert_eq!(app.order_row(&order).await.fee_amount, Some(390));

        // A declined card leaves the hosted page open for another card: the use stays reserved.
        let url = started["redirect_url"].as_str().unwrap();
        assert_eq!(app.pay(url, DECLINED_CARD).await.status, 402);
        app.wait_for_status(&shop.student, &order, "failed").await;
        assert_eq!(app.coupon_counters("ONCE").await, (0, 1));
        assert_eq!(app.pay(url, GOOD_CARD).await.status, 200);
        app.wait_for_status(&shop.student, &order, "paid").await;
        assert_eq!(app.coupon_counters("ONCE").await, (1, 0));

        // A refund gives the money back, not the use.
        app.post(&format!("/api/v1/tenants/shop/orders/{order}/refunds"), Some(&shop.owner), json!({})).await.expect(202);
        app.wait_for_status(&shop.student, &order, "refunded").await;
        assert_eq!(app.coupon_counters("ONCE").await, (1, 0));
        assert_eq!(app.coupon_uses("ONCE").await, (0, 1, 0));
        let other = app.buyer("other@example.com").await;
        app.checkout_with_coupon(&other, "paid", "ONCE").await.expect_problem(422);
    }

    async fn a_buyer_holds_no_more_uses_than_the_coupon_allows_one_buyer(app) {
        let shop = app.shop().await;
        app.course("shop", &shop.owner, "other", 1000).await;
        app.post("/api/v1/tenants/shop/courses/other/publish", Some(&shop.owner), json!({})).await.expect(200);
        app.post("/api/v1/tenants/shop/coupons", Some(&shop.owner), json!({"code": "ZERO", "percent_off": 10, "max_redemptions_per_buyer": 0}))
            .await
            .expect_problem(422);
        let body = coupon(&app, &shop.owner, json!({"code": "PERBUYER", "percent_off": 10, "max_redemptions_per_buyer": 1})).await;
        assert_eq!(body["max_redemptions_per_buyer"], 1);

        let first = app.checkout_with_coupon(&shop.student, "paid", "PERBUYER").await.expect(201);
        let refused = app.checkout_with_coupon(&shop.student, "other", "PERBUYER").await.expect_problem(422);
        assert_eq!(refused_field(&refused), "coupon", "{refused}");
        assert_eq!(app.coupon_counters("PERBUYER").await, (0, 1));
        let other = app.buyer("other@example.com").await;
        app.checkout_with_coupon(&other, "other", "PERBUYER").await.expect(201);
        assert_eq!(app.coupon_counters("PERBUYER").await, (0, 2));

        // The platform fails the first order (the provider would not open a checkout): its
        // use comes back, once, and the buyer may use the code again.
        let first_id = first["order"]["id"].as_str().unwrap();
        for _ in 0..2 {
            platform_event(&app, first_id, EventKind::PaymentFailed, "checkout-failed").await;
        }
        assert_eq!(app.order_row(first_id).await.status.as_str(), "failed");
        assert_eq!(app.coupon_counters("PERBUYER").await, (0, 1));
        app.checkout_with_coupon(&shop.student, "other", "PERBUYER").await.expect(201);
        assert_eq!(app.coupon_counters("PERBUYER").await, (0, 2));
        assert_eq!(app.coupon_uses("PERBUYER").await, (2, 0, 1));
    }

    async fn migrating_down_and_up_keeps_every_coupon_use(app) {
        use lyceum_migrations::{Migrator, MigratorTrait};
        let shop = app.shop().await;
        coupon(&app, &shop.owner, json!({"code": "KEPT", "percent_off": 10})).await;
        // One paid use, one reserved, one given back.
        let paid = app.checkout_with_coupon(&shop.student, "paid", "KEPT").await.expect(201);
        app.pay(paid["redirect_url"].as_str().unwrap(), GOOD_CARD).await;
        app.wait_for_status(&shop.student, paid["order"]["id"].as_str().unwrap(), "paid").await;
        let open = app.buyer("open@example.com").await;
        app.checkout_with_coupon(&open, "paid", "KEPT").await.expect(201);
        let failed = app.buyer("failed@example.com").await;
        let failed = app.checkout_with_coupon(&failed, "paid", "KEPT").await.expect(201);
        platform_event(&app, failed["order"]["id"].as_str().unwrap(), EventKind::PaymentFailed, "checkout-failed").await;
        assert_eq!(app.coupon_counters("KEPT").await, (1, 1));
        assert_eq!(app.coupon_uses("KEPT").await, (1, 1, 1));

        let migrations = Migrator::migrations();
        let mine = migrations
            .iter()
            .position(|m| m.name() == "m20261129_000002_coupon_reservations")
            .unwrap();
        let db = &app.state.db;
        Migrator::down(db, Some(u32::try_from(migrations.len() - mine).unwrap())).await.unwrap();
        // Before reservations every checkout counted as a use; going down gains no coupon uses.
        let redemptions: i64 = {
            use sea_orm::{ConnectionTrait, Statement};
            let row = db
                .query_one_raw(Statement::from_string(db.get_database_backend(), "SELECT redemptions FROM coupons WHERE code = 'KEPT'"))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by_index::<i32>(0).map(i64::from).unwrap()
        };
        assert_eq!(redemptions, 3);
        Migrator::up(db, None).await.unwrap();
        assert_eq!(app.coupon_uses("KEPT").await, (1, 1, 1), "rebuilt from the orders");
        assert_eq!(app.coupon_counters("KEPT").await, (1, 1));
    }
}
