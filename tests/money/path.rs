//! The whole path: checkout → pay on the sandbox page → webhook → access → content bytes;
//! refund → access gone and the old content URL refused.

use std::time::Duration;

use lyceum::entities::outbox;
use lyceum_e2e::db_tests;
use lyceum_e2e::money::ASSET;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

db_tests! {
    async fn buy_learn_refund(app) {
        let shop = app.shop().await;
        let lesson_content = format!("/api/v1/tenants/shop/lessons/{}/content", shop.lesson);
        // Before buying: no access, 401 anonymous, 402 signed in.
        assert_eq!(app.access(Some(&shop.student), "paid").await["access"], false);
        app.get(&lesson_content, None).await.expect_problem(401);
        app.get(&lesson_content, Some(&shop.student)).await.expect_problem(402);

        let started = app.checkout(&shop.student, "paid").await;
        let order = started["order"]["id"].as_str().unwrap().to_owned();
        assert_eq!(started["order"]["status"], "pending");
        assert_eq!(started["order"]["total"], json!({"amount": 4900, "currency": "USD"}));
        let pay_url = started["redirect_url"].as_str().unwrap().to_owned();
        assert!(pay_url.contains("/sandbox/pay/"), "{pay_url}");

        // The hosted page is a real form.
        let page = app.client.get(&pay_url).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("<form") && page.contains("49.00"), "{page}");
        // The success page shows status only and grants nothing.
        let success_url = lyceum::services::commerce::checkout::status_url(&app.state, order.parse().unwrap(), true);
        let success = app.client.get(&success_url).send().await.unwrap();
        assert_eq!(success.status(), 200);
        // Without the link's token the page shows nobody's order.
        let guessed = app.client.get(app.url(&format!("/checkout/{order}/complete"))).send().await.unwrap();
        assert_eq!(guessed.status(), 404);
        assert_eq!(app.access(Some(&shop.student), "paid").await["access"], false);

        let paid = app.pay(&pay_url, "4242 4242 4242 4242").await;
        assert_eq!(paid.status, 200, "{}", paid.text);
        let settled = app.wait_for_status(&shop.student, &order, "paid").await;
        assert_eq!(settled["paid"]["amount"], 4900);
        let access = app.access(Some(&shop.student), "paid").await;
        assert_eq!((access["access"].as_bool(), access["reason"].as_str()), (Some(true), Some("purchase")));

        let link = app.get(&lesson_content, Some(&shop.student)).await.expect(200);
        let url = link["url"].as_str().unwrap().to_owned();
        let bytes = app.client.get(&url).send().await.unwrap();
        assert_eq!(bytes.status(), 200);
        assert_eq!(bytes.headers()["content-type"], "video/mp4");
        assert_eq!(bytes.bytes().await.unwrap().as_ref(), ASSET);
        // An altered link is refused.
        let mut altered = url.clone();
        altered.pop();
        altered.push(if url.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(app.client.get(&altered).send().await.unwrap().status(), 403);

        // Another student cannot refund; the owner can, in part and then the rest.
        app.post(&format!("/api/v1/tenants/shop/orders/{order}/refunds"), Some(&shop.student), json!({})).await.expect_problem(403);
        app.post(&format!("/api/v1/tenants/shop/orders/{order}/refunds"), Some(&shop.owner), json!({"amount": {"amount": 5000, "currency": "USD"}}))
            .await
            .expect_problem(422);
        let partial = app.post(&format!("/api/v1/tenants/shop/orders/{order}/refunds"), Some(&shop.owner), json!({"amount": {"amount": 900, "currency": "USD"}}))
            .await
            .expect(202);
        // The sandbox answers at once and may deliver the refund event before the answer is
        // recorded: the request is then already settled.
        assert!(partial["status"] == "requested" || partial["status"] == "succeeded", "{partial}");
        app.wait_for_status(&shop.student, &order, "partially_refunded").await;
        assert_eq!(app.access(Some(&shop.student), "paid").await["access"], true, "a partial refund keeps access");
        app.post(&format!("/api/v1/tenants/shop/orders/{order}/refunds"), Some(&shop.owner), json!({})).await.expect(202);
        let refunded = app.wait_for_status(&shop.student, &order, "refunded").await;
        assert_eq!(refunded["refunded"]["amount"], 4900);

        assert_eq!(app.access(Some(&shop.student), "paid").await["access"], false);
        assert_eq!(app.client.get(&url).send().await.unwrap().status(), 403, "the old link stops working at once");
        app.get(&lesson_content, Some(&shop.student)).await.expect_problem(402);

        // The trail: events, audit rows, one revoked entitlement; mail enqueued once each.
        let (events, audit, ents) = app.order_trail(&order).await;
        assert_eq!((events, audit), (3, 3));
        assert_eq!(ents.len(), 1);
        assert_eq!(ents[0].status.as_str(), "revoked");
        let done = |amount: i64| (amount, "succeeded".to_owned());
        assert_eq!(app.refund_rows(&order).await, vec![done(900), done(4000)]);
        let mail = outbox::Entity::find().filter(outbox::Column::TenantId.eq(shop.tenant_id)).all(&app.state.db).await.unwrap();
        let kinds: Vec<_> = mail.iter().map(|m| m.kind.as_str()).collect();
        assert!(kinds.contains(&"purchase_receipt") && kinds.contains(&"refund_notice"), "{kinds:?}");
        // The worker writes them as .eml files (no SMTP configured).
        let mail_dir = app.settings.data_dir.join("mail");
        for _ in 0..200 {
            if std::fs::read_dir(&mail_dir).map(|d| d.count()).unwrap_or(0) >= 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let files: Vec<_> = std::fs::read_dir(&mail_dir).unwrap().map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap()).collect();
        assert!(files.iter().any(|f| f.contains("Your purchase receipt") && f.contains("student@example.com")), "{files:?}");

        let orders = app.get("/api/v1/me/orders", Some(&shop.student)).await.expect(200);
        assert_eq!(orders.as_array().unwrap().len(), 1);
    }

    async fn back_to_back_partial_refunds_all_settle(app) {
        // Each refund's event races the gateway's answer to the refund request; whichever comes
        // first, the refund row must end `succeeded` and nothing may count twice.
        let shop = app.shop().await;
        let order = app.buy(&shop.student, "paid").await;
        let refunds = format!("/api/v1/tenants/shop/orders/{order}/refunds");
        for step in 1..=6_i64 {
            app.post(&refunds, Some(&shop.owner), json!({"amount": {"amount": 700, "currency": "USD"}})).await.expect(202);
            let mut refunded = 0;
            for _ in 0..400 {
                refunded = app.order_row(&order).await.refunded_amount;
                if refunded == step * 700 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            assert_eq!(refunded, step * 700, "refund {step} never arrived");
        }
        // The rest is exactly what is left, not less: no refund is still counted as in flight.
        let rest = app.post(&refunds, Some(&shop.owner), json!({})).await.expect(202);
        assert_eq!(rest["amount"]["amount"], 700);
        let refunded = app.wait_for_status(&shop.student, &order, "refunded").await;
        assert_eq!(refunded["refunded"]["amount"], 4900);
        let rows = app.refund_rows(&order).await;
        assert_eq!(rows, vec![(700, "succeeded".to_owned()); 7]);
        app.post(&refunds, Some(&shop.owner), json!({})).await.expect_problem(422);
    }

    async fn a_refund_whose_answer_was_lost_still_settles(app) {
        // The process stopped right after the provider took a refund: our request row never
        // learned the provider's refund id. The refund event must still settle it, or it would
        // count as in flight for ever and "refund the rest" would come out short.
        use lyceum_gateway_core::{Currency, GatewayId, Money, RefundRequest, RefundedOrder};

        let shop = app.shop().await;
        let order = app.buy(&shop.student, "paid").await;
        let row = app.order_row(&order).await;

        let owner_id = app.get("/api/v1/me", Some(&shop.owner)).await.expect(200)["id"].as_str().unwrap().parse().unwrap();
        let request_id = app.unanswered_refund_request(&order, 700, owner_id).await;
        let gateway = app.state.gateways.get(GatewayId::Sandbox).unwrap();
        let account = lyceum::services::gateway_accounts::account_for(&app.state, GatewayId::Sandbox, row.tenant_id).await.unwrap();
        gateway
            .refund(&account, &RefundRequest {
                order_id: row.id.into(),
                tenant_id: row.tenant_id.into(),
                provider_payment_id: row.payment_id.clone().unwrap(),
                amount: Money::new(700, Currency::parse("USD").unwrap()).unwrap(),
                idempotency_key: request_id.to_string(),
                order: RefundedOrder {
                    lines: Vec::new(),
                    total: Money::new(row.total_amount, Currency::parse("USD").unwrap()).unwrap(),
                    platform_fee: Money::new(0, Currency::parse("USD").unwrap()).unwrap(),
                    buyer_email: String::new(),
                    invoice_number: 0,
                    session_ref: row.session_ref.clone(),
                },
            })
            .await
            .unwrap();
        app.wait_for_status(&shop.student, &order, "partially_refunded").await;
        assert_eq!(app.refund_rows(&order).await, vec![(700, "succeeded".to_owned())]);

        let refunds = format!("/api/v1/tenants/shop/orders/{order}/refunds");
        let rest = app.post(&refunds, Some(&shop.owner), json!({})).await.expect(202);
        assert_eq!(rest["amount"]["amount"], 4200);
        app.wait_for_status(&shop.student, &order, "refunded").await;
        assert_eq!(app.refund_rows(&order).await, vec![(700, "succeeded".to_owned()), (4200, "succeeded".to_owned())]);
    }

    async fn free_previews_are_open_to_everyone(app) {
        let shop = app.shop().await;
        let section = app.get("/api/v1/tenants/shop/studio/courses/paid", Some(&shop.owner)).await.expect(200)["sections"][0]["id"].as_str().unwrap().to_owned();
        let preview = app
            .post(&format!("/api/v1/tenants/shop/courses/paid/sections/{section}/lessons"), Some(&shop.owner), json!({"title": "Trailer", "kind": "text", "free_preview": true, "body": "Welcome!"}))
            .await
            .expect(201)["id"].as_str().unwrap().to_owned();
        let link = app.get(&format!("/api/v1/tenants/shop/lessons/{preview}/content"), None).await.expect(200);
        let text = app.client.get(link["url"].as_str().unwrap()).send().await.unwrap().text().await.unwrap();
        assert_eq!(text, "Welcome!");
        // Unknown lessons and other tenants' lessons are not found.
        app.get(&format!("/api/v1/tenants/shop/lessons/{}/content", uuid::Uuid::now_v7()), None).await.expect_problem(404);
    }
    async fn buyers_keep_their_course_when_it_leaves_the_catalog(app) {
        let shop = app.shop().await;
        app.buy(&shop.student, "paid").await;
        app.post("/api/v1/tenants/shop/courses/paid/unpublish", Some(&shop.owner), json!({})).await.expect(200);

        assert_eq!(app.access(Some(&shop.student), "paid").await["access"], true);
        app.get(&format!("/api/v1/tenants/shop/lessons/{}/content", shop.lesson), Some(&shop.student)).await.expect(200);
        // Everybody else sees nothing of it.
        let (other, _) = app.register("other@example.com").await;
        app.get("/api/v1/tenants/shop/courses/paid/access", Some(&other)).await.expect_problem(404);
        app.get(&format!("/api/v1/tenants/shop/lessons/{}/content", shop.lesson), Some(&other)).await.expect_problem(404);
        app.get("/api/v1/tenants/shop/courses/paid", None).await.expect_problem(404);
    }
}
