//! Checkout rules: catalog prices, one open order per course, idempotency, ownership,
//! coupons and zero-total orders, and two paid orders for one course.

use lyceum_e2e::db_tests;
use sea_orm::{EntityTrait, QueryFilter};
use serde_json::json;

db_tests! {
    async fn open_orders_are_reused_and_keys_are_idempotent(app) {
        let shop = app.shop().await;
        let first = app.checkout(&shop.student, "paid").await;
        let again = app.checkout(&shop.student, "paid").await;
        assert_eq!(first["order"]["id"], again["order"]["id"], "the open order comes back");
        assert_eq!(first["redirect_url"], again["redirect_url"]);

        let (other, _) = app.register("other@example.com").await;
        let keyed = |key: &'static str| {
            app.client.post(app.url("/api/v1/tenants/shop/checkout")).bearer_auth(&other).header("Idempotency-Key", key)
                .json(&json!({"items": [{"course": "paid"}]})).send()
        };
        let a = lyceum_e2e::read(keyed("key-1").await.unwrap()).await.expect(201);
        let b = lyceum_e2e::read(keyed("key-1").await.unwrap()).await.expect(201);
        assert_eq!(a["order"]["id"], b["order"]["id"]);

        // Prices come from the catalog; bad requests are refused.
        assert_eq!(a["order"]["total"]["amount"], 4900);
        app.post("/api/v1/tenants/shop/checkout", Some(&other), json!({"items": []})).await.expect_problem(422);
        app.post("/api/v1/tenants/shop/checkout", Some(&other), json!({"items": [{"course": "paid", "quantity": 2}]})).await.expect_problem(422);
        app.post("/api/v1/tenants/shop/checkout", Some(&other), json!({"items": [{"course": "nope"}]})).await.expect_problem(404);
        app.post("/api/v1/tenants/shop/checkout", Some(&other), json!({"items": [{"course": "paid"}], "gateway": "paypal"})).await.expect_problem(422);
        app.post("/api/v1/tenants/shop/checkout", None, json!({"items": [{"course": "paid"}]})).await.expect_problem(401);

        // Once paid, buying again is a conflict.
        app.pay(first["redirect_url"].as_str().unwrap(), "4242424242424242").await;
        app.wait_for_status(&shop.student, first["order"]["id"].as_str().unwrap(), "paid").await;
        app.post("/api/v1/tenants/shop/checkout", Some(&shop.student), json!({"items": [{"course": "paid"}]})).await.expect_problem(409);
        // A declined card leaves the order open for another try.
        let declined = app.pay(a["redirect_url"].as_str().unwrap(), "4000000000000002").await;
        assert_eq!(declined.status, 402, "{}", declined.text);
        let order_a = a["order"]["id"].as_str().unwrap();
        app.wait_for_status(&other, order_a, "failed").await;
        // Its hosted page still takes a card, so checking out again returns to it instead of
        // opening a second payable session for the same course (which could be paid twice).
        let again = lyceum_e2e::read(keyed("key-2").await.unwrap()).await.expect(201);
        assert_eq!(again["order"]["id"], a["order"]["id"]);
        assert_eq!(again["redirect_url"], a["redirect_url"]);
        let paid = app.pay(a["redirect_url"].as_str().unwrap(), "4242424242424242").await;
        assert_eq!(paid.status, 200, "{}", paid.text);
        app.wait_for_status(&other, order_a, "paid").await;
        let mine = app.get("/api/v1/me/orders", Some(&other)).await.expect(200);
        assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
    }

    async fn an_idempotency_key_names_an_order_of_one_storefront(app) {
        let shop = app.shop().await;
        let other = app.active_tenant("other", "other@example.com", &shop.admin).await;
        app.course("other", &other, "intro", 1500).await;
        app.post("/api/v1/tenants/other/courses/intro/publish", Some(&other), json!({})).await.expect(200);
        let keyed = |tenant: &str, course: &str| {
            app.client.post(app.url(&format!("/api/v1/tenants/{tenant}/checkout"))).bearer_auth(&shop.student)
                .header("Idempotency-Key", "key-1").json(&json!({"items": [{"course": course}]})).send()
        };
        let first = lyceum_e2e::read(keyed("shop", "paid").await.unwrap()).await.expect(201);
        // The database keeps the key per storefront (so that it can be distributed by tenant);
        // the checkout still refuses it at another storefront, and makes no order there.
        lyceum_e2e::read(keyed("other", "intro").await.unwrap()).await.expect_problem(409);
        let again = lyceum_e2e::read(keyed("shop", "paid").await.unwrap()).await.expect(201);
        assert_eq!(again["order"]["id"], first["order"]["id"]);
        let mine = app.get("/api/v1/me/orders", Some(&shop.student)).await.expect(200);
        assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
    }

    async fn a_free_order_is_fulfilled_without_a_gateway_and_success_pages_grant_nothing(app) {
        let shop = app.shop().await;
        app.post("/api/v1/tenants/shop/coupons", Some(&shop.owner), json!({"code": "ALLFREE", "percent_off": 100, "max_redemptions": 1}))
            .await
            .expect(201);
        app.post("/api/v1/tenants/shop/coupons", Some(&shop.student), json!({"code": "MINE", "percent_off": 100})).await.expect_problem(403);
        let started = app
            .post("/api/v1/tenants/shop/checkout", Some(&shop.student), json!({"items": [{"course": "paid"}], "coupon": "allfree"}))
            .await
            .expect(201);
        assert_eq!(started["order"]["status"], "paid");
        assert_eq!(started["order"]["total"]["amount"], 0);
        assert_eq!(started["order"]["discount"]["amount"], 4900);
        assert!(started["order"]["gateway"].is_null());
        let order = started["order"]["id"].as_str().unwrap();
        let row = app.order_row(order).await;
        assert!(row.session_ref.is_none(), "no gateway was asked");
        let trail = app.order_trail(order).await;
        assert_eq!((trail.0, trail.2.len()), (1, 1));
        assert_eq!(app.access(Some(&shop.student), "paid").await["reason"], "purchase");

        // The coupon is used up.
        let (late, _) = app.register("late@example.com").await;
        app.post("/api/v1/tenants/shop/checkout", Some(&late), json!({"items": [{"course": "paid"}], "coupon": "ALLFREE"})).await.expect_problem(422);

        // A success URL opened before any webhook shows a pending order and grants nothing.
        let pending = app.checkout(&late, "paid").await;
        let id = pending["order"]["id"].as_str().unwrap();
        let status_url = lyceum::services::commerce::checkout::status_url(&app.state, id.parse().unwrap(), true);
        let page = app.client.get(&status_url).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("pending"), "{page}");
        assert_eq!(app.access(Some(&late), "paid").await["access"], false);
        assert_eq!(app.order_row(id).await.status.as_str(), "pending");
    }

    async fn refunding_one_of_two_paid_orders_keeps_access(app) {
        let shop = app.shop().await;
        // The first order is abandoned and expires; the buyer buys again and pays...
        let first = app.checkout(&shop.student, "paid").await;
        let first_id = first["order"]["id"].as_str().unwrap().to_owned();
        let db = &app.state.db;
        lyceum::entities::orders::Entity::update_many()
            .col_expr(lyceum::entities::orders::Column::ExpiresAt, sea_orm::sea_query::Expr::value(chrono::Utc::now() - chrono::Duration::minutes(1)))
            .filter(sea_orm::ColumnTrait::eq(&lyceum::entities::orders::Column::Id, first_id.parse::<uuid::Uuid>().unwrap()))
            .exec(db)
            .await
            .unwrap();
        // Expired as the reconciler does, but as if the provider could not be told to close
        // the session (it was unreachable, or cannot close sessions): the page still takes a
        // card, so a late payment can still arrive.
        let expiry = lyceum::services::commerce::checkout::local_event_for(
            first_id.parse().unwrap(),
            shop.tenant_id.into(),
            lyceum_gateway_core::Currency::parse("USD").unwrap(),
            lyceum_gateway_core::EventKind::PaymentExpired,
            "expired",
        );
        lyceum::services::commerce::pipeline::apply(&app.state, lyceum::services::commerce::pipeline::Source::Platform, &expiry).await.unwrap();
        assert_eq!(app.order_row(&first_id).await.status.as_str(), "expired");
        let second = app.checkout(&shop.student, "paid").await;
        assert_ne!(second["order"]["id"], first["order"]["id"]);
        app.pay(second["redirect_url"].as_str().unwrap(), "4242424242424242").await;
        let second_id = second["order"]["id"].as_str().unwrap().to_owned();
        app.wait_for_status(&shop.student, &second_id, "paid").await;
        // ...and then pays the first one too, late: money taken means the order is paid.
        app.pay(first["redirect_url"].as_str().unwrap(), "4242424242424242").await;
        app.wait_for_status(&shop.student, &first_id, "paid").await;

        app.post(&format!("/api/v1/tenants/shop/orders/{first_id}/refunds"), Some(&shop.owner), json!({})).await.expect(202);
        app.wait_for_status(&shop.student, &first_id, "refunded").await;
        let access = app.access(Some(&shop.student), "paid").await;
        assert_eq!(access["access"], true, "the other paid order still grants access");
        assert_eq!(app.order_trail(&first_id).await.2[0].status.as_str(), "revoked");
        assert_eq!(app.order_trail(&second_id).await.2[0].status.as_str(), "active");
        let report = lyceum::services::commerce::reconcile::report(db).await.unwrap();
        assert!(report.is_clean(), "{report:?}");
        // Refunding more than is left is refused.
        app.post(&format!("/api/v1/tenants/shop/orders/{first_id}/refunds"), Some(&shop.owner), json!({})).await.expect_problem(422);
    }
}
