//! Robokassa end to end: the real server against the fake Robokassa in
//! `tests/support/robokassa`. The owner configures the storefront's shop, a buyer checks out
//! (the link's signature checked by the fake with Password #1), pays (the fake calls the
//! ResultURL as Robokassa does, answered `OK{InvId}`), gets access, and loses it on a refund
//! through the Refund API or a manual one; a lost callback is reconciled through OpStateExt;
//! duplicate, forged and wrong-amount callbacks change nothing. SQLite and PostgreSQL.

use std::time::Duration;

use lyceum::services::commerce::reconcile;
use lyceum_e2e::robokassa::{FakeRobokassa, Hash, ShopKeys};
use lyceum_e2e::{Backend, TestApp, spawn_app_with};
use reqwest::Method;
use sea_orm::EntityTrait;
use serde_json::{Value, json};

/// 1490.00 RUB.
const PRICE: i64 = 149_000;
const LOGIN: &str = "lyceum-test-shop";
const P1: &str = "first-password-Пароль1";
const P2: &str = "second-password-Пароль2";
const P3: &str = "third-password-refunds";

fn keys(password3: bool) -> ShopKeys {
    ShopKeys {
        login: LOGIN.into(),
        password1: P1.into(),
        password2: P2.into(),
        password3: password3.then(|| P3.to_owned()),
        hash: Hash::Sha256,
    }
}

/// The server with Robokassa pointed at a fresh fake.
async fn robokassa_app(backend: Backend) -> Option<(TestApp, FakeRobokassa)> {
    let fake = FakeRobokassa::start(keys(true)).await;
    let (pay, api, refund) = (fake.pay_url(), fake.api_base(), fake.refund_base());
    let app = spawn_app_with(backend, |settings| {
        settings.gateways.robokassa_pay_url = Some(url::Url::parse(&pay).unwrap());
        settings.gateways.robokassa_api_base = Some(url::Url::parse(&api).unwrap());
        settings.gateways.robokassa_refund_api_base = Some(url::Url::parse(&refund).unwrap());
    })
    .await?;
    fake.set_result_url(app.url("/webhooks/robokassa/shop"));
    Some((app, fake))
}

/// A storefront `shop` in RUB with a published course `paid`; returns `(owner, student)`.
async fn storefront(app: &TestApp) -> (String, String) {
    let admin = app.admin("root@example.com").await;
    let (owner, _) = app.register("owner@shop.example").await;
    app.post(
        "/api/v1/tenants",
        Some(&owner),
        json!({"slug": "shop", "name": "Школа", "currency": "RUB"}),
    )
    .await
    .expect(201);
    app.post(
        "/api/v1/admin/tenants/shop/approve",
        Some(&admin),
        json!({}),
    )
    .await
    .expect(200);
    app.post(
        "/api/v1/tenants/shop/courses",
        Some(&owner),
        json!({"slug": "paid", "title": "Rust «с нуля»", "price": {"amount": PRICE, "currency": "RUB"}}),
    )
    .await
    .expect(201);
    app.post(
        "/api/v1/tenants/shop/courses/paid/publish",
        Some(&owner),
        json!({}),
    )
    .await
    .expect(200);
    let (student, _) = app.register("student@example.com").await;
    (owner, student)
}

/// The owner configures the storefront's Robokassa shop.
async fn configure(app: &TestApp, owner: &str, password3: bool) -> Value {
    let mut body = json!({
        "merchant_login": LOGIN,
        "password1": P1,
        "password2": P2,
        "hash": "sha256",
        "test": true,
        "receipt": {"tax_system": "usn_income", "vat": "none"},
    });
    if password3 {
        body["password3"] = json!(P3);
    }
    let reply = app
        .call(
            Method::PUT,
            "/api/v1/tenants/shop/gateways/robokassa",
            Some(owner),
            Some(body),
        )
        .await;
    for secret in [P1, P2, P3] {
        assert!(
            !reply.text.contains(secret),
            "a password was shown back: {}",
            reply.text
        );
    }
    reply.expect(200)
}

/// Checks out `paid` through Robokassa and opens the payment page; returns `(order, InvId)`.
async fn checkout(app: &TestApp, fake: &FakeRobokassa, student: &str) -> (String, String) {
    let started = app
        .post(
            "/api/v1/tenants/shop/checkout",
            Some(student),
            json!({"items": [{"course": "paid", "quantity": 1}], "gateway": "robokassa"}),
        )
        .await
        .expect(201);
    let order = started["order"]["id"].as_str().unwrap().to_owned();
    let link = started["redirect_url"].as_str().unwrap();
    assert!(link.starts_with(&fake.pay_url()), "{link}");
    let page = app.client.get(link).send().await.unwrap();
    assert_eq!(
        page.status(),
        200,
        "{}",
        page.text().await.unwrap_or_default()
    );
    let opened = fake.links().pop().unwrap();
    assert!(
        opened.signature_ok,
        "the link's signature (Password #1): {:?}",
        opened.params
    );
    let inv_id = app.order_row(&order).await.session_ref.expect("an InvId");
    assert_eq!(opened.params["InvId"], inv_id);
    assert_eq!(opened.params["OutSum"], "1490.00");
    assert_eq!(opened.params["Shp_order"], order);
    assert_eq!(opened.params["IsTest"], "1");
    assert_eq!(opened.params["Email"], "student@example.com");
    assert!(opened.params["Receipt"].starts_with("%7B%22sno%22%3A%22usn_income%22"));
    assert!(opened.receipt_adds_up, "{:?}", opened.receipt);
    let receipt = opened.receipt.unwrap();
    assert_eq!(receipt["items"][0]["name"], "Rust «с нуля»");
    assert_eq!(receipt["items"][0]["tax"], "none");
    assert_eq!(receipt["items"][0]["payment_object"], "service");
    (order, inv_id)
}

/// The owner refunds the rest of the order.
async fn refund(app: &TestApp, owner: &str, order: &str) -> Value {
    ask_refund(app, owner, order, json!({})).await
}

/// The owner refunds `kopecks` of the order.
async fn refund_part(app: &TestApp, owner: &str, order: &str, kopecks: i64) -> Value {
    let body = json!({"amount": {"amount": kopecks, "currency": "RUB"}});
    ask_refund(app, owner, order, body).await
}

async fn ask_refund(app: &TestApp, owner: &str, order: &str, body: Value) -> Value {
    app.post(
        &format!("/api/v1/tenants/shop/orders/{order}/refunds"),
        Some(owner),
        body,
    )
    .await
    .expect(202)
}

async fn has_access(app: &TestApp, student: &str) -> bool {
    app.access(Some(student), "paid").await["access"] == true
}

lyceum_e2e::provider_tests! {
    robokassa_app:
    async fn configure_checkout_pay_and_refund_through_the_api(app, fake) {
        let (owner, student) = storefront(&app).await;
        let shown = configure(&app, &owner, true).await;
        assert_eq!(shown["gateway"], "robokassa", "{shown}");
        assert_eq!(shown["state"], "active", "{shown}");
        assert_eq!(shown["settings"]["hash"], "sha256", "{shown}");
        assert_eq!(shown["settings"]["receipt.tax_system"], "usn_income", "{shown}");
        assert_eq!(shown["credentials"], json!(["password1", "password2", "password3"]), "{shown}");
        assert_eq!(shown["test_mode"], true, "{shown}");
        // A field Robokassa does not take is refused, naming it.
        let refused = app
            .call(
                Method::PUT,
                "/api/v1/tenants/shop/gateways/robokassa",
                Some(&owner),
                Some(json!({"merchant_login": LOGIN, "password1": P1, "password2": P2, "secret_key": "x"})),
            )
            .await
            .expect_problem(422);
        assert_eq!(refused["errors"][0]["field"], "secret_key", "{refused}");
        let (order, inv_id) = checkout(&app, &fake, &student).await;
        assert!(!has_access(&app, &student).await);

        let (status, body) = fake.pay(&inv_id).await;
        assert_eq!((status, body.as_str()), (200, format!("OK{inv_id}").as_str()));
        app.wait_for_status(&student, &order, "paid").await;
        assert!(has_access(&app, &student).await);

        // Robokassa repeats the callback, as a POST and as a GET: the same answer, one payment.
        let again = fake.result_form(&inv_id, None);
        assert_eq!(fake.notify(&again, false).await, (200, format!("OK{inv_id}")));
        assert_eq!(fake.notify(&again, true).await, (200, format!("OK{inv_id}")));
        let (events, _, entitlements) = app.order_trail(&order).await;
        assert_eq!((events, entitlements.len()), (1, 1));
        assert_eq!(app.order_row(&order).await.payment_id.as_deref(), Some(inv_id.as_str()));

        // Part of it through the Refund API: RefundSum names the part; access stays.
        let part = refund_part(&app, &owner, &order, 50_000).await;
        assert_eq!(part["status"], "requested", "{part}");
        assert_eq!(fake.refunds()[0].refund_sum.as_deref(), Some("500.0"), "500.00 RUB in the JWT");
        fake.finish_refunds();
        reconcile::run_once(&app.state, Duration::ZERO).await.unwrap();
        app.wait_for_status(&student, &order, "partially_refunded").await;
        assert!(has_access(&app, &student).await);

        // The rest: taken, then finished; access ends when it is.
        let asked = refund(&app, &owner, &order).await;
        assert_eq!((asked["status"].as_str(), asked["manual"].as_bool()), (Some("requested"), Some(false)), "{asked}");
        let taken = fake.refunds();
        assert_eq!(taken.len(), 2);
        assert_eq!(taken[1].refund_sum.as_deref(), Some("990.0"), "the rest, 990.00 RUB");
        assert_eq!(taken[1].op_key, fake.invoice(&inv_id).unwrap().op_key);
        assert!(has_access(&app, &student).await, "not finished yet");
        reconcile::run_once(&app.state, Duration::ZERO).await.unwrap();
        assert!(has_access(&app, &student).await, "still processing");
        fake.finish_refunds();
        reconcile::run_once(&app.state, Duration::ZERO).await.unwrap();
        app.wait_for_status(&student, &order, "refunded").await;
        assert!(!has_access(&app, &student).await);
        assert_eq!(
            app.refund_rows(&order).await,
            vec![(50_000, "succeeded".to_owned()), (99_000, "succeeded".to_owned())]
        );
    }

    async fn a_full_refund_through_the_api_names_no_sum(app, fake) {
        let (owner, student) = storefront(&app).await;
        configure(&app, &owner, true).await;
        let (order, inv_id) = checkout(&app, &fake, &student).await;
        assert_eq!(fake.pay(&inv_id).await, (200, format!("OK{inv_id}")));
        app.wait_for_status(&student, &order, "paid").await;
        // Robokassa refuses a token signed with another Password #3: the refund fails, access stays.
        fake.set_shop(ShopKeys { password3: Some("another-password-3".into()), ..keys(true) });
        app.post(&format!("/api/v1/tenants/shop/orders/{order}/refunds"), Some(&owner), json!({}))
            .await
            .expect_problem(502);
        assert!(fake.refunds().is_empty());
        assert_eq!(app.refund_rows(&order).await, vec![(PRICE, "failed".to_owned())]);
        assert!(has_access(&app, &student).await);
        fake.set_shop(keys(true));
        let asked = refund(&app, &owner, &order).await;
        assert_eq!(asked["status"], "requested", "{asked}");
        assert_eq!(fake.refunds()[0].refund_sum, None);
        fake.finish_refunds();
        reconcile::run_once(&app.state, Duration::ZERO).await.unwrap();
        app.wait_for_status(&student, &order, "refunded").await;
        assert!(!has_access(&app, &student).await);
        assert_eq!(
            app.refund_rows(&order).await,
            vec![(PRICE, "failed".to_owned()), (PRICE, "succeeded".to_owned())]
        );
    }

    async fn a_shop_without_password_3_records_a_manual_refund(app, fake) {
        fake.set_shop(keys(false));
        let (owner, student) = storefront(&app).await;
        configure(&app, &owner, false).await;
        let (order, inv_id) = checkout(&app, &fake, &student).await;
        assert_eq!(fake.pay(&inv_id).await, (200, format!("OK{inv_id}")));
        app.wait_for_status(&student, &order, "paid").await;

        let asked = refund(&app, &owner, &order).await;
        assert_eq!((asked["status"].as_str(), asked["manual"].as_bool()), (Some("succeeded"), Some(true)), "{asked}");
        assert!(fake.refunds().is_empty(), "nothing asked of Robokassa");
        app.wait_for_status(&student, &order, "refunded").await;
        assert!(!has_access(&app, &student).await);
        let row = lyceum::entities::refunds::Entity::find()
            .one(&app.state.db)
            .await
            .unwrap()
            .unwrap();
        assert!(row.manual);
    }

    async fn a_lost_callback_is_reconciled_through_op_state(app, fake) {
        let (owner, student) = storefront(&app).await;
        configure(&app, &owner, true).await;
        let (order, inv_id) = checkout(&app, &fake, &student).await;
        // Not paid yet: OpStateExt says "initiated", nothing changes.
        reconcile::run_once(&app.state, Duration::ZERO).await.unwrap();
        assert!(fake.op_state_calls() >= 1);
        assert_eq!(app.order_row(&order).await.status.as_str(), "pending");

        fake.pay_silently(&inv_id);
        reconcile::run_once(&app.state, Duration::ZERO).await.unwrap();
        app.wait_for_status(&student, &order, "paid").await;
        assert!(has_access(&app, &student).await);
        // The callback arrives after all: acknowledged, and the same one payment.
        let late = fake.result_form(&inv_id, None);
        assert_eq!(fake.notify(&late, false).await, (200, format!("OK{inv_id}")));
        let (events, _, entitlements) = app.order_trail(&order).await;
        assert_eq!((events, entitlements.len()), (1, 1));
    }

    async fn forged_and_wrong_amount_callbacks_change_nothing(app, fake) {
        let (owner, student) = storefront(&app).await;
        configure(&app, &owner, true).await;
        let (order, inv_id) = checkout(&app, &fake, &student).await;
        let set = |form: &mut Vec<(String, String)>, name: &str, value: &str| {
            form.iter_mut().find(|(k, _)| k == name).unwrap().1 = value.to_owned();
        };

        // Correctly signed, but not the order's total: 400 and nothing applied.
        let cheaper = fake.result_form(&inv_id, Some("1.000000"));
        assert_eq!(fake.notify(&cheaper, false).await.0, 400);
        let dearer = fake.result_form(&inv_id, Some("14900.000000"));
        assert_eq!(fake.notify(&dearer, false).await.0, 400);
        // The same total written otherwise is the same amount.
        let five_decimals = fake.result_form(&inv_id, Some("1490.00000"));
        // Tampered amount, wrong password, a dropped Shp_ parameter, a forged one.
        let mut tampered = fake.result_form(&inv_id, None);
        set(&mut tampered, "OutSum", "1.000000");
        let mut wrong_password = fake.result_form(&inv_id, None);
        let shp: Vec<(String, String)> = wrong_password.iter().filter(|(k, _)| k.starts_with("Shp_")).cloned().collect();
        let forged = lyceum_e2e::robokassa::sign::result(Hash::Sha256, "1490.000000", &inv_id, P1, &shp);
        set(&mut wrong_password, "SignatureValue", &forged);
        let mut dropped = fake.result_form(&inv_id, None);
        dropped.retain(|(k, _)| k != "Shp_tenant");
        let mut other_tenant = fake.result_form(&inv_id, None);
        set(&mut other_tenant, "Shp_tenant", "00000000-0000-7000-8000-000000000000");
        for form in [&tampered, &wrong_password, &dropped, &other_tenant] {
            assert_eq!(fake.notify(form, false).await.0, 400, "{form:?}");
        }
        assert_eq!(app.order_row(&order).await.status.as_str(), "pending");
        let (events, _, entitlements) = app.order_trail(&order).await;
        assert_eq!((events, entitlements.len()), (0, 0));
        assert!(!has_access(&app, &student).await);

        // Reordered Shp_ parameters and an upper-case signature verify.
        let mut reordered = five_decimals.clone();
        reordered.reverse();
        let sig = reordered.iter().find(|(k, _)| k == "SignatureValue").unwrap().1.to_uppercase();
        set(&mut reordered, "SignatureValue", &sig);
        assert_eq!(fake.notify(&reordered, false).await, (200, format!("OK{inv_id}")));
        app.wait_for_status(&student, &order, "paid").await;
        assert!(has_access(&app, &student).await);
    }

    async fn a_refund_whose_answer_was_lost_is_never_made_twice(app, fake) {
        let (owner, student) = storefront(&app).await;
        configure(&app, &owner, true).await;
        let (order, inv_id) = checkout(&app, &fake, &student).await;
        assert_eq!(fake.pay(&inv_id).await.0, 200);
        app.wait_for_status(&student, &order, "paid").await;
        // Robokassa takes the refund; its answer is lost. Its Refund API knows no idempotency
        // key, so asking again would return the money twice: the platform does not.
        fake.lose_next_create_answer();
        let asked = refund_part(&app, &owner, &order, 50_000).await;
        assert_eq!(asked["status"], "requested", "{asked}");
        for _ in 0..2 {
            reconcile::run_once(&app.state, Duration::ZERO).await.unwrap();
        }
        assert_eq!(fake.refunds().len(), 1, "asked of Robokassa once");
        let row = lyceum::entities::refunds::Entity::find()
            .one(&app.state.db)
            .await
            .unwrap()
            .unwrap();
        assert!(row.error.as_deref().unwrap_or_default().contains("cabinet"), "{row:?}");
    }

    async fn a_refund_robokassa_cancels_fails_and_frees_its_amount(app, fake) {
        let (owner, student) = storefront(&app).await;
        configure(&app, &owner, true).await;
        let (order, inv_id) = checkout(&app, &fake, &student).await;
        assert_eq!(fake.pay(&inv_id).await.0, 200);
        app.wait_for_status(&student, &order, "paid").await;
        refund(&app, &owner, &order).await;
        fake.cancel_refunds();
        reconcile::run_once(&app.state, Duration::ZERO).await.unwrap();
        assert_eq!(app.refund_rows(&order).await, vec![(PRICE, "failed".to_owned())]);
        assert!(has_access(&app, &student).await, "no money went back");
        // Asked again, made this time.
        refund(&app, &owner, &order).await;
        fake.finish_refunds();
        reconcile::run_once(&app.state, Duration::ZERO).await.unwrap();
        app.wait_for_status(&student, &order, "refunded").await;
        assert!(!has_access(&app, &student).await);
    }
}
