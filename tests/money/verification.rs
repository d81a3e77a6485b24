//! Deliveries that must change nothing: forged, stale, altered, unknown or foreign; and
//! payments that do not match the order.

use lyceum_e2e::{TestApp, db_tests};
use serde_json::json;
use uuid::Uuid;

db_tests! {
    async fn untrusted_or_foreign_deliveries_change_nothing(app) {
        let shop = app.shop().await;
        let started = app.checkout(&shop.student, "paid").await;
        let order = started["order"]["id"].as_str().unwrap().to_owned();
        let session = app.order_row(&order).await.session_ref.unwrap();
        let secret = app.sandbox_secret().await;
        let now = chrono::Utc::now().timestamp();
        let event = |id: &str, order: &str, tenant: Uuid, amount: i64, currency: &str| {
            TestApp::sandbox_event(id, "payment.succeeded", order, tenant, &session, amount, currency, json!({}))
        };
        let body = event("evt_1", &order, shop.tenant_id, 4900, "USD");

        // Forged signature, stale and future timestamps, a body altered after signing: 400.
        app.deliver(&body, "whsec_not_the_secret", now).await.expect_problem(400);
        app.deliver(&body, &secret, now - 301).await.expect_problem(400);
        app.deliver(&body, &secret, now + 301).await.expect_problem(400);
        let header = lyceum_gateway_core::signature::sign(&[secret.as_bytes()], now, &body).unwrap();
        let mut altered = body.clone();
        let at = altered.iter().position(|b| *b == b'4').unwrap();
        altered[at] = b'1';
        let resp = app.client.post(app.url("/webhooks/sandbox")).header("sandbox-signature", header).body(altered).send().await.unwrap();
        assert_eq!(resp.status(), 400);
        let resp = app.client.post(app.url("/webhooks/sandbox")).body(body.clone()).send().await.unwrap();
        assert_eq!(resp.status(), 400, "an unsigned delivery is refused");

        // Signed, but for an unknown order or naming another tenant: answered, ignored.
        app.deliver(&event("evt_2", &Uuid::now_v7().to_string(), shop.tenant_id, 4900, "USD"), &secret, now).await.expect(200);
        app.deliver(&event("evt_3", &order, Uuid::now_v7(), 4900, "USD"), &secret, now).await.expect(200);
        let trail = app.order_trail(&order).await;
        assert_eq!((trail.0, trail.1, trail.2.len()), (0, 0, 0));
        assert_eq!(app.order_row(&order).await.status.as_str(), "pending");

        // Another currency: recorded, the order flagged, nothing granted.
        app.deliver(&event("evt_4", &order, shop.tenant_id, 4900, "EUR"), &secret, now).await.expect(200);
        let row = app.order_row(&order).await;
        assert!(row.flagged);
        assert_eq!((row.status.as_str(), row.paid_amount), ("pending", 0));
        assert_eq!(app.access(Some(&shop.student), "paid").await["access"], false);

        // Less than the total: partially paid, no access.
        app.deliver(&event("evt_5", &order, shop.tenant_id, 1000, "USD"), &secret, now).await.expect(200);
        let row = app.order_row(&order).await;
        assert_eq!((row.status.as_str(), row.paid_amount), ("partially_paid", 1000));
        assert_eq!(app.access(Some(&shop.student), "paid").await["access"], false);
        assert!(app.order_trail(&order).await.2.is_empty(), "no entitlement for a partial payment");
    }

    async fn another_tenants_order_is_not_theirs_to_see(app) {
        let shop = app.shop().await;
        let started = app.checkout(&shop.student, "paid").await;
        let order = started["order"]["id"].as_str().unwrap().to_owned();
        let other_owner = app.active_tenant("other", "other@example.com", &shop.admin).await;
        let (stranger, _) = app.register("stranger@example.com").await;
        app.get(&format!("/api/v1/tenants/shop/orders/{order}"), Some(&stranger)).await.expect_problem(403);
        app.get(&format!("/api/v1/tenants/shop/orders/{order}"), Some(&other_owner)).await.expect_problem(403);
        app.get(&format!("/api/v1/tenants/other/orders/{order}"), Some(&other_owner)).await.expect_problem(404);
        app.get(&format!("/api/v1/tenants/shop/orders/{order}"), Some(&shop.owner)).await.expect(200);
        app.get(&format!("/api/v1/tenants/shop/orders/{order}"), Some(&shop.admin)).await.expect(200);
        app.post(&format!("/api/v1/tenants/other/orders/{order}/refunds"), Some(&other_owner), json!({})).await.expect_problem(404);
    }
}
