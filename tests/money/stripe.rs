//! Stripe Connect end to end: the real server and the real async-stripe client against the
//! fake Stripe in `tests/support/stripe`, which delivers signed events back. Onboarding,
//! destination-charge checkout, payment, partial and full refunds, a lost dispute, Connect
//! routing, forged and replayed and older-version events, zero- and three-decimal currencies,
//! a fee plan's fee as the application fee, and an order the platform expires taking its
//! session with it. SQLite and PostgreSQL.

use std::time::Duration;

use lyceum::services::commerce::reconcile;
use lyceum_e2e::stripe::fixtures::{self, Values};
use lyceum_e2e::stripe::{AccountStatus, DisputeOutcome, FakeStripe};
use lyceum_e2e::{Backend, TestApp, spawn_app_with};
use reqwest::Method;
use secrecy::SecretString;
use serde_json::{Value, json};

const KEY: &str = "sk_test_lyceum_platform";
const WHSEC: &str = "whsec_lyceum_test_endpoint_secret_0123456789";

/// The server with Stripe pointed at a fresh fake that delivers its events back to it.
async fn stripe_app(backend: Backend) -> Option<(TestApp, FakeStripe)> {
    let fake = FakeStripe::start(KEY, vec![WHSEC.to_owned()]).await;
    let base = url::Url::parse(fake.base_url()).unwrap();
    let app = spawn_app_with(backend, |settings| {
        settings.gateways.stripe_api_base = Some(base);
        settings.gateways.stripe_secret_key = Some(SecretString::from(KEY));
        settings.gateways.stripe_webhook_secret = Some(SecretString::from(WHSEC));
    })
    .await?;
    fake.set_webhook_target(app.url("/webhooks/stripe"));
    Some((app, fake))
}

/// The owner opens an Express account for `tenant` and finishes onboarding; returns it.
async fn onboarded(app: &TestApp, fake: &FakeStripe, tenant: &str, owner: &str) -> String {
    let started = app
        .post(
            &format!("/api/v1/tenants/{tenant}/gateways/stripe/onboarding"),
            Some(owner),
            json!({}),
        )
        .await
        .expect(201);
    let account = started["account_id"].as_str().unwrap().to_owned();
    assert!(account.starts_with("acct_"), "{started}");
    let answered = fake.complete_onboarding(&account).await;
    assert_eq!(answered.status(), Some(200), "{answered:?}");
    account
}

/// Starts a Stripe checkout of `course` at `tenant`; returns `(order id, session id)`.
async fn checkout(app: &TestApp, tenant: &str, token: &str, course: &str) -> (String, String) {
    let started = app
        .post(
            &format!("/api/v1/tenants/{tenant}/checkout"),
            Some(token),
            json!({"items": [{"course": course, "quantity": 1}], "gateway": "stripe"}),
        )
        .await
        .expect(201);
    let order = started["order"]["id"].as_str().unwrap().to_owned();
    let session = app.order_row(&order).await.session_ref.expect("a session");
    assert!(session.starts_with("cs_"), "{session}");
    (order, session)
}

/// The last `POST` the fake received at `path`.
fn last_post(fake: &FakeStripe, path: &str) -> lyceum_e2e::stripe::RecordedRequest {
    fake.requests()
        .into_iter()
        .rev()
        .find(|r| r.method == "POST" && r.path == path)
        .unwrap_or_else(|| panic!("no POST {path}"))
}

async fn gateway_state(app: &TestApp, tenant: &str, owner: &str) -> Value {
    let listed = app
        .get(&format!("/api/v1/tenants/{tenant}/gateways"), Some(owner))
        .await
        .expect(200);
    listed
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["gateway"] == "stripe")
        .cloned()
        .expect("stripe is listed")
}

/// A storefront `tenant` in `currency` with one published course `course` at `price`.
async fn storefront(
    app: &TestApp,
    admin: &str,
    tenant: &str,
    currency: &str,
    price: i64,
) -> String {
    let (owner, _) = app.register(&format!("owner@{tenant}.example")).await;
    app.post(
        "/api/v1/tenants",
        Some(&owner),
        json!({"slug": tenant, "name": tenant, "currency": currency}),
    )
    .await
    .expect(201);
    app.post(
        &format!("/api/v1/admin/tenants/{tenant}/approve"),
        Some(admin),
        json!({}),
    )
    .await
    .expect(200);
    app.post(
        &format!("/api/v1/tenants/{tenant}/courses"),
        Some(&owner),
        json!({"slug": "course", "title": "A course", "price": {"amount": price, "currency": currency}}),
    )
    .await
    .expect(201);
    app.post(
        &format!("/api/v1/tenants/{tenant}/courses/course/publish"),
        Some(&owner),
        json!({}),
    )
    .await
    .expect(200);
    owner
}

async fn order_status(app: &TestApp, tenant: &str, token: &str, order: &str) -> Value {
    app.get(
        &format!("/api/v1/tenants/{tenant}/orders/{order}"),
        Some(token),
    )
    .await
    .expect(200)
}

/// Waits (up to 10 s) until the order at `tenant` has `status`; returns it.
async fn wait_in(app: &TestApp, tenant: &str, token: &str, order: &str, status: &str) -> Value {
    for _ in 0..200 {
        let found = order_status(app, tenant, token, order).await;
        if found["status"] == status {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("order {order} at {tenant} never became {status}");
}

lyceum_e2e::provider_tests! {
    stripe_app:
    async fn onboarding_checkout_payment_and_refunds(app, fake) {
        let shop = app.shop().await;
        let started = app
            .post("/api/v1/tenants/shop/gateways/stripe/onboarding", Some(&shop.owner), json!({}))
            .await
            .expect(201);
        let account = started["account_id"].as_str().unwrap().to_owned();
        assert!(started["url"].as_str().unwrap().starts_with(fake.base_url()), "{started}");
        let link = last_post(&fake, "/v1/account_links");
        assert_eq!(link.params["account"], account.as_str());
        assert!(link.params["return_url"].as_str().unwrap().contains("/gateways/stripe/onboarding/return?tenant=shop"));
        assert!(link.params["refresh_url"].as_str().unwrap().contains("/gateways/stripe/onboarding/refresh?tenant=shop"));

        // Not yet able to take payments: a clear 409, and no order.
        assert_eq!(gateway_state(&app, "shop", &shop.owner).await["state"], "restricted");
        let refused = app
            .post("/api/v1/tenants/shop/checkout", Some(&shop.student), json!({"items": [{"course": "paid", "quantity": 1}]}))
            .await
            .expect_problem(409);
        assert!(refused["detail"].as_str().unwrap().contains("cannot take payments yet"), "{refused}");

        // Stripe says onboarding is done.
        let news = fake.complete_onboarding(&account).await;
        assert_eq!(news.status(), Some(200));
        let stripe = gateway_state(&app, "shop", &shop.owner).await;
        assert_eq!(stripe["state"], "active", "{stripe}");
        assert_eq!(stripe["payouts_enabled"], true);
        assert_eq!(stripe["account_id"], account.as_str());

        // Checkout: a destination charge with the fee the order was priced with (10%).
        let (order, session) = checkout(&app, "shop", &shop.student, "paid").await;
        let created = last_post(&fake, "/v1/checkout/sessions");
        let p = &created.params;
        assert_eq!(p["mode"], "payment");
        assert_eq!(p["client_reference_id"], order.as_str());
        assert_eq!(p["metadata"]["order_id"], order.as_str());
        assert_eq!(p["metadata"]["tenant_id"], shop.tenant_id.to_string());
        assert_eq!(p["line_items"][0]["price_data"]["currency"], "usd");
        assert_eq!(p["line_items"][0]["price_data"]["unit_amount"], "4900");
        assert_eq!(p["line_items"][0]["quantity"], "1");
        assert_eq!(p["payment_intent_data"]["transfer_data"]["destination"], account.as_str());
        assert_eq!(p["payment_intent_data"]["application_fee_amount"], "490");
        assert!(p["success_url"].as_str().unwrap().contains("session_id={CHECKOUT_SESSION_ID}"), "{p}");
        assert_eq!(created.idempotency_key.as_deref(), Some(format!("checkout:{order}").as_str()));
        assert_eq!(app.order_row(&order).await.fee_amount, Some(490));

        // The buyer pays; only the event grants access.
        assert_eq!(app.access(Some(&shop.student), "paid").await["access"], false);
        let paid = fake.pay(&session).await;
        assert!(paid.events.iter().all(|e| e.status() == Some(200)), "{:?}", paid.events);
        app.wait_for_status(&shop.student, &order, "paid").await;
        assert_eq!(app.access(Some(&shop.student), "paid").await["access"], true);
        assert_eq!(app.order_row(&order).await.payment_id.as_deref(), Some(paid.payment_intent.as_str()));

        // A partial refund reverses the transfer and the fee in proportion; access stays.
        app.post(
            &format!("/api/v1/tenants/shop/orders/{order}/refunds"),
            Some(&shop.owner),
            json!({"amount": {"amount": 1000, "currency": "USD"}}),
        )
        .await
        .expect(202);
        fake.flush().await;
        app.wait_for_status(&shop.student, &order, "partially_refunded").await;
        let refund = last_post(&fake, "/v1/refunds");
        assert_eq!(refund.params["payment_intent"], paid.payment_intent.as_str());
        assert_eq!(refund.params["amount"], "1000");
        assert_eq!(refund.params["reverse_transfer"], "true");
        assert_eq!(refund.params["refund_application_fee"], "true");
        assert_eq!(refund.params["metadata"]["order_id"], order.as_str());
        assert!(refund.idempotency_key.as_deref().unwrap().starts_with("refund:"));
        assert_eq!(app.access(Some(&shop.student), "paid").await["access"], true);

        // The rest: refunded, access gone.
        app.post(&format!("/api/v1/tenants/shop/orders/{order}/refunds"), Some(&shop.owner), json!({}))
            .await
            .expect(202);
        fake.flush().await;
        let refunded = app.wait_for_status(&shop.student, &order, "refunded").await;
        assert_eq!(refunded["refunded"]["amount"], 4900);
        assert_eq!(app.access(Some(&shop.student), "paid").await["access"], false);
        // Every event Stripe sent was answered 2xx: nothing for it to retry.
        for event in fake.events() {
            assert!(event.status().is_some_and(|s| (200..300).contains(&s)), "{} answered {:?}", event.kind, event.answers);
        }
    }

    async fn a_lost_dispute_takes_access_away(app, fake) {
        let shop = app.shop().await;
        onboarded(&app, &fake, "shop", &shop.owner).await;
        let (order, session) = checkout(&app, "shop", &shop.student, "paid").await;
        let paid = fake.pay(&session).await;
        app.wait_for_status(&shop.student, &order, "paid").await;
        let (_, opened) = fake.dispute(&paid.payment_intent, DisputeOutcome::Open).await;
        assert_eq!(opened[0].status(), Some(200));
        app.wait_for_status(&shop.student, &order, "disputed").await;
        assert_eq!(app.access(Some(&shop.student), "paid").await["access"], false);
        fake.dispute(&paid.payment_intent, DisputeOutcome::Lost).await;
        app.wait_for_status(&shop.student, &order, "refunded").await;
        assert_eq!(app.access(Some(&shop.student), "paid").await["access"], false);
    }

    async fn a_won_dispute_gives_access_back(app, fake) {
        let shop = app.shop().await;
        onboarded(&app, &fake, "shop", &shop.owner).await;
        let (order, session) = checkout(&app, "shop", &shop.student, "paid").await;
        let paid = fake.pay(&session).await;
        app.wait_for_status(&shop.student, &order, "paid").await;
        fake.dispute(&paid.payment_intent, DisputeOutcome::Won).await;
        app.wait_for_status(&shop.student, &order, "paid").await;
        assert_eq!(app.access(Some(&shop.student), "paid").await["access"], true);
    }

    async fn forged_replayed_and_older_events(app, fake) {
        let shop = app.shop().await;
        onboarded(&app, &fake, "shop", &shop.owner).await;
        let (order, session) = checkout(&app, "shop", &shop.student, "paid").await;

        // An event of an older API version with fields this build does not know is read from
        // the fields it needs.
        let mut object = fake.object(&session).expect("the session");
        object["status"] = json!("complete");
        object["payment_status"] = json!("paid");
        object["payment_intent"] = json!("pi_from_an_older_version");
        object["a_field_from_2020"] = json!({"nested": [1, 2, 3]});
        let old = fake.build_event_at("checkout.session.completed", object, None, "2020-08-27");
        let body = serde_json::to_string(&old).unwrap();

        // Forged: signed with another secret, stale, or altered after signing — 400, nothing.
        let now = chrono::Utc::now().timestamp();
        let forged = fake.send_raw(&body, Some(&format!("t={now},v1={}", "ab".repeat(32)))).await;
        assert_eq!(forged.status(), Some(400));
        let stale = fake.signature(&body, now - 301);
        assert_eq!(fake.send_raw(&body, Some(&stale)).await.status(), Some(400));
        let altered = body.replace("pi_from_an_older_version", "pi_altered_after_signing");
        assert_eq!(fake.send_raw(&altered, Some(&fake.signature(&body, now))).await.status(), Some(400));
        assert_eq!(fake.send_raw(&body, None).await.status(), Some(400));
        assert_eq!(order_status(&app, "shop", &shop.student, &order).await["status"], "pending");

        let sent = fake.send_event(old).await;
        assert_eq!(sent.status(), Some(200));
        app.wait_for_status(&shop.student, &order, "paid").await;
        let before = app.order_trail(&order).await;
        // Delivered again, it changes nothing.
        assert_eq!(fake.redeliver(&sent.id).await.status(), Some(200));
        assert_eq!(fake.redeliver(&sent.id).await.status(), Some(200));
        let after = app.order_trail(&order).await;
        assert_eq!((before.0, before.1), (after.0, after.1));
    }

    async fn a_connect_event_for_another_storefronts_account_changes_nothing(app, fake) {
        let shop = app.shop().await;
        let account_a = onboarded(&app, &fake, "shop", &shop.owner).await;
        let owner_b = storefront(&app, &shop.admin, "bschool", "USD", 3000).await;
        onboarded(&app, &fake, "bschool", &owner_b).await;
        let (order_b, session_b) = checkout(&app, "bschool", &shop.student, "course").await;

        // Shop A's account names shop B's order: verified, answered, not applied.
        let mut object = fake.object(&session_b).expect("the session");
        object["status"] = json!("complete");
        object["payment_status"] = json!("paid");
        object["payment_intent"] = json!("pi_crossed");
        let crossed = fake.build_event("checkout.session.completed", object, Some(&account_a));
        assert_eq!(fake.send_event(crossed).await.status(), Some(200));
        assert_eq!(order_status(&app, "bschool", &shop.student, &order_b).await["status"], "pending");
        assert_eq!(app.order_trail(&order_b).await.0, 0, "nothing recorded");
    }

    async fn connecting_an_existing_account(app, fake) {
        let shop = app.shop().await;
        // An account made elsewhere (say, in Stripe's dashboard) and one made by onboarding.
        let theirs = onboarded(&app, &fake, "shop", &shop.owner).await;
        app.call(Method::DELETE, "/api/v1/tenants/shop/gateways/stripe", Some(&shop.owner), None)
            .await
            .expect(204);
        assert_eq!(gateway_state(&app, "shop", &shop.owner).await["state"], "disabled");
        let connected = app
            .call(Method::PUT, "/api/v1/tenants/shop/gateways/stripe", Some(&shop.owner), Some(json!({"account_id": theirs})))
            .await
            .expect(200);
        assert_eq!(connected["state"], "active", "{connected}");
        assert_eq!(connected["credentials"], json!([]));

        let unknown = app
            .call(Method::PUT, "/api/v1/tenants/shop/gateways/stripe", Some(&shop.owner), Some(json!({"account_id": "acct_NoSuchAccount"})))
            .await
            .expect_problem(422);
        assert!(unknown.to_string().contains("stripe"), "{unknown}");
        app.call(Method::PUT, "/api/v1/tenants/shop/gateways/stripe", Some(&shop.owner), Some(json!({"account_id": "cus_123"})))
            .await
            .expect_problem(422);

        // Another storefront cannot take the same account.
        let owner_b = storefront(&app, &shop.admin, "bschool", "USD", 3000).await;
        app.call(Method::PUT, "/api/v1/tenants/bschool/gateways/stripe", Some(&owner_b), Some(json!({"account_id": theirs})))
            .await
            .expect_problem(409);
    }

    async fn zero_and_three_decimal_currencies_round_trip(app, fake) {
        let admin = app.admin("root@example.com").await;
        let (buyer, _) = app.register("buyer@example.com").await;
        for (tenant, currency, price) in [("yen", "JPY", 1500), ("dinar", "KWD", 5120)] {
            let owner = storefront(&app, &admin, tenant, currency, price).await;
            onboarded(&app, &fake, tenant, &owner).await;
            let (order, session) = checkout(&app, tenant, &buyer, "course").await;
            let created = last_post(&fake, "/v1/checkout/sessions");
            assert_eq!(created.params["line_items"][0]["price_data"]["currency"], currency.to_lowercase());
            assert_eq!(created.params["line_items"][0]["price_data"]["unit_amount"], price.to_string());
            // 10% of the price; in KWD rounded down to the ten fils Stripe's amounts come in.
            let fee = if currency == "KWD" { price / 10 / 10 * 10 } else { price / 10 };
            assert_eq!(created.params["payment_intent_data"]["application_fee_amount"], fee.to_string());
            fake.pay(&session).await;
            let paid = wait_in(&app, tenant, &buyer, &order, "paid").await;
            assert_eq!(paid["paid"], json!({"amount": price, "currency": currency}), "{paid}");
        }
    }

    async fn a_fee_plans_fee_is_the_application_fee(app, fake) {
        let admin = app.admin("root@example.com").await;
        let (buyer, _) = app.register("buyer@example.com").await;
        // 7.5 % plus 25 minor units: 367.5 cents round to the even 368, so 393; 384 fils plus
        // 25 is 409, which Stripe takes in tens: the order stores the 400 Stripe collects.
        for (tenant, currency, price, fee, at_stripe) in [("school", "USD", 4900, 393, 393), ("dinar", "KWD", 5120, 400, 400)] {
            let owner = storefront(&app, &admin, tenant, currency, price).await;
            onboarded(&app, &fake, tenant, &owner).await;
            app.call(
                Method::PUT,
                &format!("/api/v1/admin/tenants/{tenant}/fee-plan"),
                Some(&admin),
                Some(json!({"fee_bps": 750, "fixed_fee": {"amount": 25, "currency": currency}})),
            )
            .await
            .expect(200);
            let (order, _) = checkout(&app, tenant, &buyer, "course").await;
            let created = last_post(&fake, "/v1/checkout/sessions");
            assert_eq!(created.params["payment_intent_data"]["application_fee_amount"], at_stripe.to_string());
            let row = app.order_row(&order).await;
            assert_eq!((row.fee_amount, row.fee_plan_id.is_some()), (Some(fee), true));
        }
    }

    async fn an_order_the_platform_expires_closes_its_session(app, fake) {
        let shop = app.shop().await;
        onboarded(&app, &fake, "shop", &shop.owner).await;
        let (order, session) = checkout(&app, "shop", &shop.student, "paid").await;
        assert_eq!(fake.object(&session).unwrap()["status"], "open");
        app.expire_order_now(&order).await;
        reconcile::run_once(&app.state, Duration::ZERO).await.unwrap();
        assert_eq!(fake.object(&session).unwrap()["status"], "expired");
        fake.flush().await;
        app.wait_for_status(&shop.student, &order, "expired").await;
        assert!(fake.requests().iter().any(|r| r.path == format!("/v1/checkout/sessions/{session}/expire")));
    }

    async fn delayed_payments_settle_or_fail(app, fake) {
        let shop = app.shop().await;
        onboarded(&app, &fake, "shop", &shop.owner).await;
        let (order, session) = checkout(&app, "shop", &shop.student, "paid").await;
        // Completed but unpaid (a bank debit on its way): nothing granted yet.
        let started = fake.pay_async(&session).await;
        assert!(started.events.iter().all(|e| e.status() == Some(200)));
        assert_eq!(order_status(&app, "shop", &shop.student, &order).await["status"], "pending");
        fake.settle_async(&session, true).await;
        app.wait_for_status(&shop.student, &order, "paid").await;
        assert_eq!(app.access(Some(&shop.student), "paid").await["access"], true);

        let other = app.buyer("other@example.com").await;
        let (order, session) = checkout(&app, "shop", &other, "paid").await;
        fake.pay_async(&session).await;
        fake.settle_async(&session, false).await;
        app.wait_for_status(&other, &order, "failed").await;
        assert_eq!(app.access(Some(&other), "paid").await["access"], false);
    }

    async fn a_missed_payment_event_is_found_by_the_reconciler(app, fake) {
        let shop = app.shop().await;
        onboarded(&app, &fake, "shop", &shop.owner).await;
        let (order, session) = checkout(&app, "shop", &shop.student, "paid").await;
        // Stripe cannot reach the platform while the buyer pays.
        fake.set_webhook_target("http://127.0.0.1:9/unreachable");
        let paid = fake.pay(&session).await;
        assert!(paid.events.iter().all(|e| e.status().is_none()), "nothing was delivered");
        assert_eq!(order_status(&app, "shop", &shop.student, &order).await["status"], "pending");
        let pass = reconcile::run_once(&app.state, Duration::ZERO).await.unwrap();
        assert_eq!((pass.asked, pass.events_applied), (1, 1), "{pass:?}");
        app.wait_for_status(&shop.student, &order, "paid").await;
        assert_eq!(app.order_row(&order).await.payment_id.as_deref(), Some(paid.payment_intent.as_str()));
        // Asking again records nothing twice.
        reconcile::run_once(&app.state, Duration::ZERO).await.unwrap();
        assert_eq!(app.order_trail(&order).await.0, 1);
    }

    async fn account_news_keeps_the_storefronts_state(app, fake) {
        let shop = app.shop().await;
        let account = onboarded(&app, &fake, "shop", &shop.owner).await;
        let restricted = AccountStatus {
            charges_enabled: false,
            payouts_enabled: false,
            details_submitted: true,
            currently_due: vec!["individual.verification.document".to_owned()],
            past_due: vec!["external_account".to_owned()],
            disabled_reason: Some("requirements.past_due".to_owned()),
        };
        assert_eq!(fake.update_account(&account, restricted).await.status(), Some(200));
        let stripe = gateway_state(&app, "shop", &shop.owner).await;
        assert_eq!(stripe["state"], "restricted", "{stripe}");
        assert_eq!(stripe["requirements"], json!(["external_account", "individual.verification.document"]));
        let refused = app
            .post("/api/v1/tenants/shop/checkout", Some(&shop.student), json!({"items": [{"course": "paid", "quantity": 1}]}))
            .await
            .expect_problem(409);
        assert!(refused["detail"].as_str().unwrap().contains("individual.verification.document"), "{refused}");
        // News of an account no storefront has is answered and changes nothing.
        let stranger = fake.build_event("account.updated", json!({"id": "acct_Nobody", "object": "account", "charges_enabled": true}), Some("acct_Nobody"));
        assert_eq!(fake.send_event(stranger).await.status(), Some(200));
        assert_eq!(gateway_state(&app, "shop", &shop.owner).await["state"], "restricted");
    }

    async fn every_recorded_event_is_answered_and_read(app, fake) {
        let shop = app.shop().await;
        let account = onboarded(&app, &fake, "shop", &shop.owner).await;
        let (order, session) = checkout(&app, "shop", &shop.student, "paid").await;
        let paid = fake.pay(&session).await;
        app.wait_for_status(&shop.student, &order, "paid").await;
        let values = Values {
            order_id: order.clone(),
            tenant_id: shop.tenant_id.to_string(),
            session_id: session.clone(),
            payment_intent: paid.payment_intent.clone(),
            account,
            ..Values::default()
        };
        for name in fixtures::event_names() {
            let event: Value = serde_json::from_str(&values.fill(&fixtures::raw_event(&name))).unwrap();
            let sent = fake.send_event(event).await;
            assert_eq!(sent.status(), Some(200), "{name} answered {:?}", sent.answers);
        }
        // The older version's completion is the same payment: recorded, not paid twice.
        let row = app.order_row(&order).await;
        assert_eq!(row.paid_amount, 4900, "{row:?}");
    }

    async fn a_coupon_order_is_charged_its_discounted_total(app, fake) {
        let shop = app.shop().await;
        onboarded(&app, &fake, "shop", &shop.owner).await;
        app.post("/api/v1/tenants/shop/coupons", Some(&shop.owner), json!({"code": "TENOFF", "percent_off": 10}))
            .await
            .expect(201);
        let started = app
            .post(
                "/api/v1/tenants/shop/checkout",
                Some(&shop.student),
                json!({"items": [{"course": "paid", "quantity": 1}], "coupon": "TENOFF", "gateway": "stripe"}),
            )
            .await
            .expect(201);
        assert_eq!(started["order"]["total"]["amount"], 4410);
        let order = started["order"]["id"].as_str().unwrap().to_owned();
        let created = last_post(&fake, "/v1/checkout/sessions");
        assert_eq!(created.params["line_items"][0]["price_data"]["unit_amount"], "4410");
        let session = app.order_row(&order).await.session_ref.unwrap();
        assert_eq!(fake.object(&session).unwrap()["amount_total"], 4410);
        fake.pay(&session).await;
        let paid = app.wait_for_status(&shop.student, &order, "paid").await;
        assert_eq!(paid["paid"]["amount"], 4410, "{paid}");
    }

    async fn a_connected_accounts_own_refund_naming_an_order_changes_nothing(app, fake) {
        let shop = app.shop().await;
        let account = onboarded(&app, &fake, "shop", &shop.owner).await;
        let (order, session) = checkout(&app, "shop", &shop.student, "paid").await;
        let paid = fake.pay(&session).await;
        app.wait_for_status(&shop.student, &order, "paid").await;
        // The seller's own account refunds something of its own, with our order in metadata.
        let forged = fake.build_event(
            "refund.created",
            json!({
                "id": "re_sellers_own", "object": "refund", "amount": 4900, "currency": "usd",
                "status": "succeeded", "payment_intent": paid.payment_intent,
                "metadata": {"order_id": order, "tenant_id": shop.tenant_id.to_string()}
            }),
            Some(&account),
        );
        assert_eq!(fake.send_event(forged).await.status(), Some(200));
        assert_eq!(order_status(&app, "shop", &shop.student, &order).await["status"], "paid");
        assert_eq!(app.access(Some(&shop.student), "paid").await["access"], true);
        // A platform refund of another payment naming this order does not count either.
        let other = fake.build_event(
            "refund.updated",
            json!({
                "id": "re_other_payment", "object": "refund", "amount": 4900, "currency": "usd",
                "status": "succeeded", "payment_intent": "pi_not_this_orders",
                "metadata": {"order_id": order, "tenant_id": shop.tenant_id.to_string()}
            }),
            None,
        );
        assert_eq!(fake.send_event(other).await.status(), Some(200));
        assert_eq!(order_status(&app, "shop", &shop.student, &order).await["status"], "paid");
    }

    async fn the_owner_comes_back_from_onboarding_to_its_state(app, fake) {
        let shop = app.shop().await;
        let account = onboarded(&app, &fake, "shop", &shop.owner).await;
        let resp = app.web_sign_in("owner@example.com", "correct horse battery", "/").await;
        assert_eq!(resp.status(), 303);
        let cookie = lyceum_e2e::web::set_cookie(&resp, "lyceum_session").expect("a session");
        let back = app
            .client
            .get(app.url("/gateways/stripe/onboarding/return?tenant=shop"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(back.status(), 200);
        let page = back.text().await.unwrap();
        assert!(page.contains(&account) && page.contains("can take payments through stripe"), "{page}");
        // An expired link: a fresh one for the same account, straight to Stripe.
        let again = app
            .client
            .get(app.url("/gateways/stripe/onboarding/refresh?tenant=shop"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 303);
        let to = again.headers()["location"].to_str().unwrap().to_owned();
        assert!(to.starts_with(fake.base_url()), "{to}");
        assert_eq!(last_post(&fake, "/v1/account_links").params["account"], account.as_str());
        // No account was opened by following it.
        assert_eq!(fake.requests().iter().filter(|r| r.method == "POST" && r.path == "/v1/accounts").count(), 1);
    }
}
