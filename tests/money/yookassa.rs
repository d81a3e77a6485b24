//! YooKassa end to end against the fake YooKassa API: a storefront's own shop and split
//! payments through the platform's shop, 54-FZ receipts to the kopeck, notifications trusted
//! only by source address and re-fetch, refunds with their receipts and the fee returned in
//! proportion, reconciliation. Each scenario runs on SQLite and PostgreSQL.

use std::time::Duration;

use lyceum::services::commerce::reconcile;
use lyceum_e2e::yookassa::{FakeYookassa, YooRequest};
use lyceum_e2e::{Backend, TestApp, spawn_app_with};
use secrecy::SecretString;
use serde_json::{Value, json};

/// The storefront's own shop.
const SHOP: &str = "506751";
const KEY: &str = "test_storefront_secret_Zk3";
/// The platform's shop, which may split payments.
const PLATFORM_SHOP: &str = "100500";
const PLATFORM_KEY: &str = "test_platform_secret_Qw9";
/// 1490.00 RUB.
const PRICE: i64 = 149_000;

async fn yookassa_app(backend: Backend) -> Option<(TestApp, FakeYookassa)> {
    let fake = FakeYookassa::start(SHOP, KEY).await;
    fake.add_shop(PLATFORM_SHOP, PLATFORM_KEY, true);
    let api = url::Url::parse(&fake.api_base()).unwrap();
    let app = spawn_app_with(backend, |settings| {
        settings.gateways.yookassa_api_base = Some(api);
        settings.gateways.yookassa_trusted_sources = Some(vec!["127.0.0.1/32".parse().unwrap()]);
        settings.gateways.yookassa_shop_id = Some(PLATFORM_SHOP.to_owned());
        settings.gateways.yookassa_secret_key = Some(SecretString::from(PLATFORM_KEY));
    })
    .await?;
    fake.set_webhook_target(app.url("/webhooks/yookassa/shop"));
    Some((app, fake))
}

/// The same behind a reverse proxy on 127.0.0.2, with YooKassa at 203.0.113.0/24: the proxy
/// names the sender in `X-Forwarded-For`.
async fn yookassa_behind_proxy(backend: Backend) -> Option<(TestApp, FakeYookassa)> {
    let fake = FakeYookassa::start(SHOP, KEY).await;
    let api = url::Url::parse(&fake.api_base()).unwrap();
    let app = spawn_app_with(backend, |settings| {
        settings.gateways.yookassa_api_base = Some(api);
        settings.gateways.yookassa_trusted_sources = Some(vec!["203.0.113.0/24".parse().unwrap()]);
        settings.trusted_proxies = vec!["127.0.0.2/32".parse().unwrap()];
    })
    .await?;
    fake.set_webhook_target(app.url("/webhooks/yookassa/shop"));
    Some((app, fake))
}

/// Connects the storefront's own shop, receipts under the simplified tax system.
async fn own_shop(app: &TestApp, owner: &str) -> Value {
    app.put(
        "/api/v1/tenants/shop/gateways/yookassa",
        Some(owner),
        json!({"shop_id": SHOP, "secret_key": KEY, "receipt": {"tax_system": "usn_income", "vat": "none"}}),
    )
    .await
    .expect(200)
}

/// The storefront as a seller in the platform's shop, with the supplier its receipts print.
fn split_seller() -> Value {
    json!({"account_id": "777001", "receipt": {"supplier_name": "ИП Петров П. П.", "supplier_inn": "123456789012", "vat": "vat20"}})
}

/// Starts a YooKassa checkout of the course; returns (order id, payment id).
async fn checkout(app: &TestApp, fake: &FakeYookassa, token: &str) -> (String, String) {
    let started = app
        .post(
            "/api/v1/tenants/shop/checkout",
            Some(token),
            json!({"items": [{"course": "paid", "quantity": 1}], "gateway": "yookassa"}),
        )
        .await
        .expect(201);
    let order = started["order"]["id"].as_str().unwrap().to_owned();
    let payment = fake.payment_of(started["redirect_url"].as_str().unwrap());
    (order, payment)
}

fn last(fake: &FakeYookassa, method: &str, path: &str) -> YooRequest {
    fake.requests()
        .into_iter()
        .rev()
        .find(|r| r.method == method && r.path == path)
        .unwrap_or_else(|| panic!("no {method} {path} at the fake"))
}

/// Σ amount × quantity of a receipt's items, in kopecks.
fn receipt_total(receipt: &Value) -> i64 {
    receipt["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let (whole, cents) = i["amount"]["value"]
                .as_str()
                .unwrap()
                .split_once('.')
                .unwrap();
            (whole.parse::<i64>().unwrap() * 100 + cents.parse::<i64>().unwrap())
                * i["quantity"].as_i64().unwrap()
        })
        .sum()
}

async fn order_status(app: &TestApp, token: &str, order: &str) -> String {
    app.get(&format!("/api/v1/tenants/shop/orders/{order}"), Some(token))
        .await
        .expect(200)["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

lyceum_e2e::provider_tests! {
    yookassa_app:

    async fn an_own_shop_takes_payment_with_a_receipt_and_refunds_it(app, fake) {
        let shop = app.shop_priced("RUB", PRICE).await;
        let connected = own_shop(&app, &shop.owner).await;
        assert_eq!(connected["account_id"], SHOP);
        assert_eq!(connected["credentials"], json!(["secret_key"]));
        assert_eq!(connected["settings"]["receipt.tax_system"], "usn_income");
        assert!(!connected.to_string().contains(KEY), "the key is never shown: {connected}");
        let listed = app.get("/api/v1/tenants/shop/gateways", Some(&shop.owner)).await.expect(200);
        assert!(!listed.to_string().contains(KEY));

        let (order, payment) = checkout(&app, &fake, &shop.student).await;
        let created = last(&fake, "POST", "/payments");
        assert_eq!(created.shop.as_deref(), Some(SHOP), "made with the storefront's own credentials");
        assert_eq!(created.idempotence_key.as_deref(), Some(order.as_str()));
        assert_eq!(created.body["amount"], json!({"value": "1490.00", "currency": "RUB"}));
        assert_eq!(created.body["capture"], true);
        assert_eq!(created.body["confirmation"]["type"], "redirect");
        assert!(created.body["confirmation"]["return_url"].as_str().unwrap().contains(&order));
        assert_eq!(created.body["metadata"]["order_id"], order.as_str());
        assert_eq!(created.body["metadata"]["tenant_id"], shop.tenant_id.to_string());
        let receipt = &created.body["receipt"];
        assert_eq!(receipt_total(receipt), PRICE, "{receipt}");
        assert_eq!(receipt["customer"]["email"], "student@example.com");
        assert_eq!(receipt["tax_system_code"], 2);
        assert_eq!(receipt["items"][0]["vat_code"], 1);
        assert_eq!(receipt["items"][0]["payment_subject"], "service");
        assert!(created.body.get("transfers").is_none());
        assert_eq!(app.access(Some(&shop.student), "paid").await["access"], false);

        // Paid: the notification is re-fetched and access follows.
        assert_eq!(fake.pay(&payment).await, 200);
        app.wait_for_status(&shop.student, &order, "paid").await;
        assert_eq!(app.access(Some(&shop.student), "paid").await["access"], true);
        let fetched = last(&fake, "GET", &format!("/payments/{payment}"));
        assert_eq!(fetched.shop.as_deref(), Some(SHOP));

        // Duplicates change nothing: one event, one entitlement.
        let before = app.order_trail(&order).await;
        for _ in 0..3 {
            assert_eq!(fake.notify("payment.succeeded", &payment).await, 200);
        }
        let after = app.order_trail(&order).await;
        assert_eq!((after.0, after.1, after.2.len()), (before.0, before.1, 1));

        // A partial refund, with its own receipt; access stays.
        app.post(
            &format!("/api/v1/tenants/shop/orders/{order}/refunds"),
            Some(&shop.owner),
            json!({"amount": {"amount": 50_000, "currency": "RUB"}}),
        )
        .await
        .expect(202);
        app.wait_for_status(&shop.student, &order, "partially_refunded").await;
        let refund = last(&fake, "POST", "/refunds");
        assert_eq!(refund.body["payment_id"], payment.as_str());
        assert_eq!(refund.body["amount"], json!({"value": "500.00", "currency": "RUB"}));
        assert_eq!(receipt_total(&refund.body["receipt"]), 50_000);
        assert!(refund.body.get("sources").is_none());
        assert_eq!(refund.shop.as_deref(), Some(SHOP));
        assert_eq!(app.access(Some(&shop.student), "paid").await["access"], true);

        // The rest: refunded, access gone; the refund's notification replayed changes nothing.
        app.post(&format!("/api/v1/tenants/shop/orders/{order}/refunds"), Some(&shop.owner), json!({}))
            .await
            .expect(202);
        app.wait_for_status(&shop.student, &order, "refunded").await;
        assert_eq!(app.access(Some(&shop.student), "paid").await["access"], false);
        let rest = last(&fake, "POST", "/refunds");
        assert_eq!(rest.body["amount"]["value"], "990.00");
        let rows = app.refund_rows(&order).await;
        assert_eq!(rows, vec![(50_000, "succeeded".to_owned()), (99_000, "succeeded".to_owned())]);
        // YooKassa notifies of the refunds it made at once: counted already, nothing changes.
        let events = app.order_trail(&order).await.0;
        for refund in fake.refunds_of(&payment) {
            assert_eq!(fake.notify("refund.succeeded", refund["id"].as_str().unwrap()).await, 200);
        }
        assert_eq!(app.order_trail(&order).await.0, events);
        assert_eq!(order_status(&app, &shop.student, &order).await, "refunded");
    }

    async fn a_notification_that_lies_grants_nothing(app, fake) {
        let shop = app.shop_priced("RUB", PRICE).await;
        own_shop(&app, &shop.owner).await;
        let (order, payment) = checkout(&app, &fake, &shop.student).await;
        // The body says succeeded; YooKassa says pending.
        let mut lie = fake.notification("payment.succeeded", &payment);
        lie["object"]["status"] = json!("succeeded");
        lie["object"]["paid"] = json!(true);
        assert_eq!(fake.send(&lie, "127.0.0.1".parse().unwrap(), &[]).await, 200);
        assert_eq!(order_status(&app, &shop.student, &order).await, "pending");
        assert_eq!(app.access(Some(&shop.student), "paid").await["access"], false);
        assert_eq!(app.order_trail(&order).await.0, 0, "nothing recorded");
        // An object YooKassa does not know is refused.
        let made_up = json!({"type": "notification", "event": "payment.succeeded", "object": {"id": "2d9b3f1a-0000-5000-9000-000000000000", "status": "succeeded", "paid": true}});
        assert_eq!(fake.send(&made_up, "127.0.0.1".parse().unwrap(), &[]).await, 400);
        // A payment of the platform's shop is not the storefront's: the storefront's
        // credentials cannot see it.
        assert_eq!(order_status(&app, &shop.student, &order).await, "pending");
    }

    async fn notifications_from_outside_yookassas_networks_change_nothing(app, fake) {
        let shop = app.shop_priced("RUB", PRICE).await;
        own_shop(&app, &shop.owner).await;
        let (order, payment) = checkout(&app, &fake, &shop.student).await;
        fake.set_status(&payment, "succeeded");
        let body = fake.notification("payment.succeeded", &payment);
        let outsider = "127.0.0.2".parse().unwrap();
        assert_eq!(fake.send(&body, outsider, &[]).await, 400);
        // Without trusted proxies configured, a forwarded-for header proves nothing.
        assert_eq!(fake.send(&body, outsider, &[("x-forwarded-for", "185.71.76.5")]).await, 400);
        assert_eq!(order_status(&app, &shop.student, &order).await, "pending");
        assert!(
            !fake.requests().iter().any(|r| r.method == "GET" && r.path.starts_with("/payments/")),
            "nothing is fetched for a refused notification"
        );
        // The same from YooKassa's address is taken.
        assert_eq!(fake.send(&body, "127.0.0.1".parse().unwrap(), &[]).await, 200);
        app.wait_for_status(&shop.student, &order, "paid").await;
    }

    async fn a_kopeck_round_trips(app, fake) {
        let shop = app.shop_priced("RUB", 1).await;
        own_shop(&app, &shop.owner).await;
        let (order, payment) = checkout(&app, &fake, &shop.student).await;
        let created = last(&fake, "POST", "/payments");
        assert_eq!(created.body["amount"]["value"], "0.01");
        assert_eq!(receipt_total(&created.body["receipt"]), 1);
        assert_eq!(fake.pay(&payment).await, 200);
        let paid = app.wait_for_status(&shop.student, &order, "paid").await;
        assert_eq!(paid["paid"], json!({"amount": 1, "currency": "RUB"}));
    }

    async fn split_payments_pay_the_seller_minus_the_fee(app, fake) {
        let shop = app.shop_priced("RUB", PRICE).await;
        // Split payments print the seller as supplier: without one the account is refused.
        app.put("/api/v1/tenants/shop/gateways/yookassa", Some(&shop.owner), json!({"account_id": "777001"}))
            .await
            .expect_problem(422);
        let connected = app
            .put("/api/v1/tenants/shop/gateways/yookassa", Some(&shop.owner), split_seller())
            .await
            .expect(200);
        assert_eq!(connected["settings"]["mode"], "split");
        assert_eq!(connected["credentials"], json!([]));
        // Nobody can check that the seller id is the storefront's: the operator confirms it
        // first, and nothing is sold through it until then.
        assert_eq!(connected["state"], "pending_approval", "{connected}");
        assert_eq!(connected["requirements"], json!(["platform_approval"]));
        app.post(
            "/api/v1/tenants/shop/checkout",
            Some(&shop.student),
            json!({"items": [{"course": "paid", "quantity": 1}], "gateway": "yookassa"}),
        )
        .await
        .expect_problem(422);
        // Another storefront naming the same seller blocks nobody.
        let (squatter, _) = app.register("squatter@example.com").await;
        app.post("/api/v1/tenants", Some(&squatter), json!({"slug": "squat", "name": "Squat", "currency": "RUB"}))
            .await
            .expect(201);
        app.post("/api/v1/admin/tenants/squat/approve", Some(&shop.admin), json!({})).await.expect(200);
        app.put(
            "/api/v1/tenants/squat/gateways/yookassa",
            Some(&squatter),
            json!({"account_id": "777001", "receipt": {"enabled": false}}),
        )
        .await
        .expect(200);
        app.post("/api/v1/admin/tenants/shop/gateways/yookassa/approve", Some(&shop.owner), json!({}))
            .await
            .expect_problem(403);
        let approved = app
            .post("/api/v1/admin/tenants/shop/gateways/yookassa/approve", Some(&shop.admin), json!({}))
            .await
            .expect(200);
        assert_eq!(approved["state"], "active", "{approved}");
        assert_eq!(approved["account_id"], "777001");
        // The squatter's claim can no longer be confirmed; the shop's settings can change
        // without losing the confirmation.
        app.post("/api/v1/admin/tenants/squat/gateways/yookassa/approve", Some(&shop.admin), json!({}))
            .await
            .expect_problem(409);
        let again = app
            .put("/api/v1/tenants/shop/gateways/yookassa", Some(&shop.owner), split_seller())
            .await
            .expect(200);
        assert_eq!(again["state"], "active", "{again}");

        let (order, payment) = checkout(&app, &fake, &shop.student).await;
        let created = last(&fake, "POST", "/payments");
        assert_eq!(created.shop.as_deref(), Some(PLATFORM_SHOP), "made as the platform's shop");
        let fee = app.order_row(&order).await.fee_amount.unwrap();
        assert!(fee > 0);
        let transfer = &created.body["transfers"][0];
        assert_eq!(transfer["account_id"], "777001");
        assert_eq!(transfer["amount"]["value"], "1490.00");
        let fee_value = format!("{}.{:02}", fee / 100, fee % 100);
        assert_eq!(transfer["platform_fee_amount"]["value"], fee_value.as_str());
        let item = &created.body["receipt"]["items"][0];
        assert_eq!(item["agent_type"], "agent");
        assert_eq!(item["supplier"]["inn"], "123456789012");
        assert_eq!(item["vat_code"], 4);

        assert_eq!(fake.pay(&payment).await, 200);
        app.wait_for_status(&shop.student, &order, "paid").await;
        assert_eq!(last(&fake, "GET", &format!("/payments/{payment}")).shop.as_deref(), Some(PLATFORM_SHOP));

        // Half back: the platform returns half its fee (rounded down).
        app.post(
            &format!("/api/v1/tenants/shop/orders/{order}/refunds"),
            Some(&shop.owner),
            json!({"amount": {"amount": PRICE / 2, "currency": "RUB"}}),
        )
        .await
        .expect(202);
        app.wait_for_status(&shop.student, &order, "partially_refunded").await;
        let refund = last(&fake, "POST", "/refunds");
        let source = &refund.body["sources"][0];
        assert_eq!(source["account_id"], "777001");
        assert_eq!(source["amount"]["value"], "745.00");
        let half = fee / 2;
        assert_eq!(source["platform_fee_amount"]["value"], format!("{}.{:02}", half / 100, half % 100).as_str());
        assert_eq!(receipt_total(&refund.body["receipt"]), PRICE / 2);
    }

    async fn a_lost_notification_is_reconciled_and_a_pending_refund_settles(app, fake) {
        let shop = app.shop_priced("RUB", PRICE).await;
        own_shop(&app, &shop.owner).await;
        let (order, payment) = checkout(&app, &fake, &shop.student).await;
        fake.set_status(&payment, "succeeded");
        // YooKassa is down for the first pass: the order stays pending.
        fake.fail_next(1);
        reconcile::run_once(&app.state, Duration::ZERO).await.unwrap();
        assert_eq!(order_status(&app, &shop.student, &order).await, "pending");
        reconcile::run_once(&app.state, Duration::ZERO).await.unwrap();
        app.wait_for_status(&shop.student, &order, "paid").await;

        // A refund YooKassa takes but has not made yet: requested until it is.
        fake.set_refund_status("pending");
        let asked = app
            .post(&format!("/api/v1/tenants/shop/orders/{order}/refunds"), Some(&shop.owner), json!({}))
            .await
            .expect(202);
        assert_eq!(asked["status"], "requested", "{asked}");
        assert_eq!(app.access(Some(&shop.student), "paid").await["access"], true);
        let refund = fake.refunds_of(&payment)[0]["id"].as_str().unwrap().to_owned();
        // Made at YooKassa, its notification lost: the reconciler asks and settles it.
        fake.complete_refund(&refund);
        let pass = reconcile::run_once(&app.state, Duration::ZERO).await.unwrap();
        assert_eq!(pass.refunds_checked, 1, "{pass:?}");
        app.wait_for_status(&shop.student, &order, "refunded").await;
        assert_eq!(app.access(Some(&shop.student), "paid").await["access"], false);
        assert_eq!(app.refund_rows(&order).await, vec![(PRICE, "succeeded".to_owned())]);
        // The notification arriving late changes nothing.
        let events = app.order_trail(&order).await.0;
        assert_eq!(fake.notify("refund.succeeded", &refund).await, 200);
        assert_eq!(app.order_trail(&order).await.0, events);
    }

    async fn a_pending_refund_settles_by_its_notification(app, fake) {
        let shop = app.shop_priced("RUB", PRICE).await;
        own_shop(&app, &shop.owner).await;
        let (order, payment) = checkout(&app, &fake, &shop.student).await;
        assert_eq!(fake.pay(&payment).await, 200);
        app.wait_for_status(&shop.student, &order, "paid").await;
        fake.set_refund_status("pending");
        app.post(&format!("/api/v1/tenants/shop/orders/{order}/refunds"), Some(&shop.owner), json!({}))
            .await
            .expect(202);
        let refund = fake.refunds_of(&payment)[0]["id"].as_str().unwrap().to_owned();
        assert_eq!(fake.settle_refund(&refund).await, 200);
        app.wait_for_status(&shop.student, &order, "refunded").await;
        assert_eq!(app.access(Some(&shop.student), "paid").await["access"], false);
    }

    async fn a_payment_waiting_for_capture_is_captured_when_exact(app, fake) {
        let shop = app.shop_priced("RUB", PRICE).await;
        own_shop(&app, &shop.owner).await;
        let (order, payment) = checkout(&app, &fake, &shop.student).await;
        fake.set_status(&payment, "waiting_for_capture");
        assert_eq!(fake.notify("payment.waiting_for_capture", &payment).await, 200);
        app.wait_for_status(&shop.student, &order, "paid").await;
        let capture = last(&fake, "POST", &format!("/payments/{payment}/capture"));
        assert_eq!(capture.body["amount"]["value"], "1490.00");
        assert_eq!(fake.payment(&payment).unwrap()["status"], "succeeded");
    }

    async fn a_refund_yookassa_gives_up_fails_and_can_be_asked_again(app, fake) {
        let shop = app.shop_priced("RUB", PRICE).await;
        own_shop(&app, &shop.owner).await;
        let (order, payment) = checkout(&app, &fake, &shop.student).await;
        assert_eq!(fake.pay(&payment).await, 200);
        app.wait_for_status(&shop.student, &order, "paid").await;
        fake.set_refund_status("pending");
        let refunds = format!("/api/v1/tenants/shop/orders/{order}/refunds");
        app.post(&refunds, Some(&shop.owner), json!({})).await.expect(202);
        let first = fake.refunds_of(&payment)[0]["id"].as_str().unwrap().to_owned();
        fake.cancel_refund(&first);
        reconcile::run_once(&app.state, Duration::ZERO).await.unwrap();
        assert_eq!(app.refund_rows(&order).await, vec![(PRICE, "failed".to_owned())]);
        assert_eq!(app.access(Some(&shop.student), "paid").await["access"], true);
        // The amount is free again: the owner asks once more, and this time it is made.
        fake.set_refund_status("succeeded");
        app.post(&refunds, Some(&shop.owner), json!({})).await.expect(202);
        app.wait_for_status(&shop.student, &order, "refunded").await;
        assert_eq!(fake.refunds_of(&payment).len(), 2);
    }

    async fn a_refund_retried_after_a_lost_answer_is_made_once(app, fake) {
        let shop = app.shop_priced("RUB", PRICE).await;
        own_shop(&app, &shop.owner).await;
        let (order, payment) = checkout(&app, &fake, &shop.student).await;
        assert_eq!(fake.pay(&payment).await, 200);
        app.wait_for_status(&shop.student, &order, "paid").await;
        // YooKassa makes the refund, but its answer is lost.
        fake.lose_next_answers(1);
        let asked = app
            .post(&format!("/api/v1/tenants/shop/orders/{order}/refunds"), Some(&shop.owner), json!({}))
            .await
            .expect(202);
        assert_eq!(asked["status"], "requested");
        // Meanwhile the receipt settings change, so the retried request's body differs.
        app.put(
            "/api/v1/tenants/shop/gateways/yookassa",
            Some(&shop.owner),
            json!({"shop_id": SHOP, "secret_key": KEY, "receipt": {"vat": "vat20"}}),
        )
        .await
        .expect(200);
        reconcile::run_once(&app.state, Duration::ZERO).await.unwrap();
        app.wait_for_status(&shop.student, &order, "refunded").await;
        assert_eq!(fake.refunds_of(&payment).len(), 1, "one refund at YooKassa");
        assert_eq!(app.refund_rows(&order).await, vec![(PRICE, "succeeded".to_owned())]);
    }

    async fn payments_lyceum_did_not_make_are_left_alone(app, fake) {
        let shop = app.shop_priced("RUB", PRICE).await;
        own_shop(&app, &shop.owner).await;
        let theirs = fake.foreign_payment(SHOP, "waiting_for_capture", json!({"booking": "42"}));
        assert_eq!(fake.notify("payment.waiting_for_capture", &theirs).await, 200);
        assert_eq!(fake.payment(&theirs).unwrap()["status"], "waiting_for_capture");
        assert!(!fake.requests().iter().any(|r| r.method == "POST" && r.path.contains(&theirs)));
    }
}

mod behind_a_proxy {
    use super::*;

    lyceum_e2e::provider_tests! {
        yookassa_behind_proxy:
        async fn only_the_trusted_proxys_word_counts(app, fake) {
            let shop = app.shop_priced("RUB", PRICE).await;
            own_shop(&app, &shop.owner).await;
            let (order, payment) = checkout(&app, &fake, &shop.student).await;
            fake.set_status(&payment, "succeeded");
            let body = fake.notification("payment.succeeded", &payment);
            let yookassa = [("x-forwarded-for", "203.0.113.5")];
            // The proxy itself is not YooKassa; a stranger's forwarded-for proves nothing.
            assert_eq!(fake.send(&body, "127.0.0.2".parse().unwrap(), &[]).await, 400);
            assert_eq!(fake.send(&body, "127.0.0.3".parse().unwrap(), &yookassa).await, 400);
            // A client cannot prepend YooKassa's address: the proxy appends the real sender.
            let spoofed = [("x-forwarded-for", "203.0.113.5, 198.51.100.7")];
            assert_eq!(fake.send(&body, "127.0.0.2".parse().unwrap(), &spoofed).await, 400);
            assert_eq!(order_status(&app, &shop.student, &order).await, "pending");
            // Through the proxy, from YooKassa: taken.
            assert_eq!(fake.send(&body, "127.0.0.2".parse().unwrap(), &yookassa).await, 200);
            app.wait_for_status(&shop.student, &order, "paid").await;
        }
    }
}
