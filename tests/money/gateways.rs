//! A storefront's gateways: what the owner sees (never a secret), disabling and enabling the
//! sandbox, fields a gateway refuses, and nobody but the owner touching them.

use lyceum::entities::orders;
use lyceum_e2e::db_tests;
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

db_tests! {
    async fn the_owner_sees_each_gateway_and_its_state(app) {
        let shop = app.shop().await;
        let listed = app
            .get("/api/v1/tenants/shop/gateways", Some(&shop.owner))
            .await
            .expect(200);
        let gateways = listed.as_array().unwrap();
        let names: Vec<&str> = gateways.iter().map(|g| g["gateway"].as_str().unwrap()).collect();
        // YooKassa and Robokassa are always on; a storefront has no shop there until its owner
        // connects one.
        assert_eq!(names, ["yookassa", "robokassa", "sandbox"], "{listed}");
        for provider in &gateways[..2] {
            assert_eq!(provider["state"], "not_connected", "{provider}");
            assert_eq!(provider["seller_account_required"], true, "{provider}");
        }
        let sandbox = &gateways[2];
        assert_eq!(sandbox["state"], "active");
        assert_eq!(sandbox["enabled"], true);
        assert_eq!(sandbox["seller_account_required"], false);
        assert_eq!(sandbox["credentials"], json!([]));
    }

    async fn a_disabled_gateway_takes_no_checkout_until_enabled_again(app) {
        let shop = app.shop().await;
        app.call(Method::DELETE, "/api/v1/tenants/shop/gateways/sandbox", Some(&shop.owner), None)
            .await
            .expect(204);
        // Twice is the same.
        app.call(Method::DELETE, "/api/v1/tenants/shop/gateways/sandbox", Some(&shop.owner), None)
            .await
            .expect(204);
        let listed = app
            .get("/api/v1/tenants/shop/gateways", Some(&shop.owner))
            .await
            .expect(200);
        let sandbox = listed.as_array().unwrap().iter().find(|g| g["gateway"] == "sandbox").unwrap();
        assert_eq!(sandbox["state"], "disabled");
        let refused = app
            .post(
                "/api/v1/tenants/shop/checkout",
                Some(&shop.student),
                json!({"items": [{"course": "paid", "quantity": 1}]}),
            )
            .await
            .expect_problem(422);
        assert!(refused.to_string().contains("takes no payments"), "{refused}");
        let orders = orders::Entity::find()
            .filter(orders::Column::TenantId.eq(shop.tenant_id))
            .count(&app.state.db)
            .await
            .unwrap();
        assert_eq!(orders, 0, "no order is made for a refused checkout");

        let enabled = app
            .call(Method::PUT, "/api/v1/tenants/shop/gateways/sandbox", Some(&shop.owner), Some(json!({})))
            .await
            .expect(200);
        assert_eq!(enabled["state"], "active");
        app.buy(&shop.student, "paid").await;
    }

    async fn a_gateway_refuses_fields_it_does_not_take(app) {
        let shop = app.shop().await;
        let refused = app
            .call(
                Method::PUT,
                "/api/v1/tenants/shop/gateways/sandbox",
                Some(&shop.owner),
                Some(json!({"secret_key": "sk_live_123"})),
            )
            .await
            .expect_problem(422);
        assert_eq!(refused["errors"][0]["field"], "secret_key", "{refused}");
        for unknown in ["nope", "stripe"] {
            // `stripe` is a gateway this build knows, but the test platform has no Stripe key.
            app.call(
                Method::PUT,
                &format!("/api/v1/tenants/shop/gateways/{unknown}"),
                Some(&shop.owner),
                Some(json!({"account_id": "acct_1"})),
            )
            .await
            .expect_problem(404);
        }
        app.post(
            "/api/v1/tenants/shop/gateways/sandbox/onboarding",
            Some(&shop.owner),
            json!({}),
        )
        .await
        .expect_problem(422);
    }

    async fn only_the_owner_touches_a_storefronts_gateways(app) {
        let shop = app.shop().await;
        let stranger = app.active_tenant("other", "other@example.com", &shop.admin).await;
        for token in [&shop.student, &stranger] {
            app.get("/api/v1/tenants/shop/gateways", Some(token))
                .await
                .expect_problem(403);
            app.call(Method::DELETE, "/api/v1/tenants/shop/gateways/sandbox", Some(token), None)
                .await
                .expect_problem(403);
        }
        app.get("/api/v1/tenants/shop/gateways", None)
            .await
            .expect_problem(401);
        // Still on.
        app.buy(&shop.student, "paid").await;
    }
}
