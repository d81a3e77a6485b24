//! Prices are capped where they are set, and every sum and product of an order is checked:
//! an amount too large is a 422, never a wrapped number or a crash.

use lyceum::domain::MAX_PRICE_MINOR_UNITS;
use lyceum::entities::courses;
use lyceum_e2e::db_tests;
use reqwest::Method;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

db_tests! {
    async fn prices_over_the_cap_are_refused_on_create_and_update(app) {
        let shop = app.shop().await;
        for amount in [i64::MAX, MAX_PRICE_MINOR_UNITS + 1] {
            let price = json!({"amount": amount, "currency": "USD"});
            let created = app
                .post("/api/v1/tenants/shop/courses", Some(&shop.owner), json!({"slug": "huge", "title": "Huge", "price": price}))
                .await
                .expect_problem(422);
            assert_eq!(created["errors"][0]["field"], "price.amount", "{created}");
            let updated = app
                .call(Method::PATCH, "/api/v1/tenants/shop/courses/paid", Some(&shop.owner), Some(json!({"price": price})))
                .await
                .expect_problem(422);
            assert_eq!(updated["errors"][0]["field"], "price.amount", "{updated}");
            let coupon = app
                .post("/api/v1/tenants/shop/coupons", Some(&shop.owner), json!({"code": "HUGE", "amount_off": price}))
                .await
                .expect_problem(422);
            assert_eq!(coupon["errors"][0]["field"], "amount_off.amount", "{coupon}");
        }
        app.get("/api/v1/tenants/shop/courses/huge", Some(&shop.owner)).await.expect_problem(404);
        let paid = app.get("/api/v1/tenants/shop/courses/paid", Some(&shop.owner)).await.expect(200);
        assert_eq!(paid["price"]["amount"], 4900, "{paid}");

        // The cap itself is a price; an order at the cap is priced without overflow.
        app.course("shop", &shop.owner, "top", MAX_PRICE_MINOR_UNITS).await;
        app.post("/api/v1/tenants/shop/courses/top/publish", Some(&shop.owner), json!({})).await.expect(200);
        app.post("/api/v1/tenants/shop/coupons", Some(&shop.owner), json!({"code": "TOP", "amount_off": {"amount": MAX_PRICE_MINOR_UNITS, "currency": "USD"}}))
            .await
            .expect(201);
        let started = app.checkout(&shop.student, "top").await;
        assert_eq!(started["order"]["total"]["amount"], MAX_PRICE_MINOR_UNITS);
        let order = app.order_row(started["order"]["id"].as_str().unwrap()).await;
        assert_eq!(order.fee_amount, Some(MAX_PRICE_MINOR_UNITS / 10));
    }

    async fn an_order_whose_sum_overflows_is_refused(app) {
        let shop = app.shop().await;
        app.course("shop", &shop.owner, "second", 100).await;
        app.post("/api/v1/tenants/shop/courses/second/publish", Some(&shop.owner), json!({})).await.expect(200);
        // A price stored before the cap existed.
        courses::Entity::update_many()
            .col_expr(courses::Column::PriceAmount, Expr::value(i64::MAX))
            .filter(courses::Column::Slug.eq("paid"))
            .exec(&app.state.db)
            .await
            .unwrap();
        let refused = app
            .post("/api/v1/tenants/shop/checkout", Some(&shop.student), json!({"items": [{"course": "paid"}, {"course": "second"}]}))
            .await
            .expect_problem(422);
        assert_eq!(refused["errors"][0]["field"], "items", "{refused}");
        let mine = app.get("/api/v1/me/orders", Some(&shop.student)).await.expect(200);
        assert_eq!(mine.as_array().unwrap().len(), 0, "{mine}");
        // One such line alone fits: percent and fee are computed in i128.
        app.post("/api/v1/tenants/shop/coupons", Some(&shop.owner), json!({"code": "HALF", "percent_off": 50}))
            .await
            .expect(201);
        let started = app.checkout_with_coupon(&shop.student, "paid", "HALF").await.expect(201);
        assert_eq!(started["order"]["discount"]["amount"], i64::MAX / 2, "{started}");
    }
}
