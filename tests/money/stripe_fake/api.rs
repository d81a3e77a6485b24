//! The API through async-stripe: accounts and links, sessions, payments, refunds,
//! idempotency, errors.

use serde_json::json;
use stripe::{IdempotencyKey, RequestStrategy, StripeRequest};
use stripe_checkout::checkout_session::{ExpireCheckoutSession, RetrieveCheckoutSession};
use stripe_connect::account::RetrieveAccount;
use stripe_connect::account_link::{CreateAccountLink, CreateAccountLinkType};
use stripe_core::charge::RetrieveCharge;
use stripe_core::payment_intent::RetrievePaymentIntent;
use stripe_core::refund::{CreateRefund, ListRefund};
use stripe_shared::{
    ApiErrorsCode, ApiErrorsType, CheckoutSessionPaymentStatus, CheckoutSessionStatus,
    PaymentIntentStatus,
};
use stripe_types::{Currency, Expandable};

use super::*;

fn code(error: &stripe_shared::ApiErrors) -> String {
    error
        .code
        .as_ref()
        .map(|c| c.as_str().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn an_express_account_onboards_through_its_single_use_link() {
    let fake = fake().await;
    let client = client(&fake);
    let account = create_account("teacher@example.com")
        .send(&client)
        .await
        .unwrap();
    assert!(account.id.as_str().starts_with("acct_"));
    assert_eq!(account.charges_enabled, Some(false));
    assert_eq!(account.payouts_enabled, Some(false));
    assert_eq!(account.details_submitted, Some(false));
    let due = account
        .requirements
        .as_ref()
        .unwrap()
        .currently_due
        .clone()
        .unwrap();
    assert!(due.contains(&"external_account".to_owned()), "{due:?}");
    assert_eq!(account.metadata.as_ref().unwrap()["tenant_id"], TENANT);
    let sent = &fake.requests()[0];
    assert_eq!(
        sent.params["capabilities"]["transfers"]["requested"],
        "true"
    );
    assert_eq!(sent.params["type"], "express");

    let link = CreateAccountLink::new(
        account.id.as_str(),
        CreateAccountLinkType::AccountOnboarding,
    )
    .refresh_url("https://shop.lyceum.test/onboarding/refresh")
    .return_url("https://shop.lyceum.test/onboarding/done")
    .send(&client)
    .await
    .unwrap();
    assert!(link.url.starts_with(fake.base_url()), "{}", link.url);
    assert_eq!(link.expires_at - link.created, 300);

    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    assert_eq!(browser.get(&link.url).send().await.unwrap().status(), 200);
    let done = browser.post(&link.url).send().await.unwrap();
    assert_eq!(done.status(), 303);
    assert_eq!(
        done.headers()["location"],
        "https://shop.lyceum.test/onboarding/done"
    );
    let again = browser.get(&link.url).send().await.unwrap();
    assert_eq!(
        again.headers()["location"],
        "https://shop.lyceum.test/onboarding/refresh",
        "a link is used once"
    );

    let account = RetrieveAccount::new(account.id.as_str())
        .send(&client)
        .await
        .unwrap();
    assert_eq!(
        (account.charges_enabled, account.payouts_enabled),
        (Some(true), Some(true))
    );
    fake.flush().await;
    let updated = fake
        .events()
        .into_iter()
        .find(|e| e.kind == "account.updated")
        .unwrap();
    assert_eq!(
        updated.account.as_deref(),
        Some(account.id.as_str()),
        "a Connect event names its account"
    );
    assert_eq!(
        updated.payload["data"]["previous_attributes"]["charges_enabled"],
        false
    );
    fake.stop().await;
}

#[tokio::test]
async fn a_destination_charge_session_is_created_retrieved_and_expired() {
    let fake = fake().await;
    let client = client(&fake);
    let account = onboarded(&fake, &client).await;
    // JPY has no decimals: the integers pass through as they are.
    let lines = vec![
        line(Currency::JPY, 1500, 2, "Rust 101"),
        line(Currency::JPY, 980, 1, "Workbook"),
    ];
    let session = session(lines, &account, 398).send(&client).await.unwrap();
    assert!(session.id.as_str().starts_with("cs_test_"));
    assert_eq!(session.amount_total, Some(3980));
    assert_eq!(session.currency, Some(Currency::JPY));
    assert_eq!(session.status, Some(CheckoutSessionStatus::Open));
    assert_eq!(session.payment_status, CheckoutSessionPaymentStatus::Unpaid);
    assert_eq!(session.client_reference_id.as_deref(), Some(ORDER));
    assert_eq!(session.metadata.as_ref().unwrap()["tenant_id"], TENANT);
    assert!(
        session.payment_intent.is_none(),
        "Checkout creates the PaymentIntent when the customer pays"
    );
    assert!(session.url.as_deref().unwrap().starts_with(fake.base_url()));

    let sent = fake.requests().last().unwrap().clone();
    assert_eq!(sent.path, "/v1/checkout/sessions");
    assert_eq!(sent.stripe_version.as_deref(), Some("2026-09-30.endive"));
    let p = &sent.params;
    assert_eq!(p["line_items"][0]["price_data"]["unit_amount"], "1500");
    assert_eq!(p["line_items"][1]["quantity"], "1");
    assert_eq!(p["payment_intent_data"]["application_fee_amount"], "398");
    assert_eq!(
        p["payment_intent_data"]["transfer_data"]["destination"],
        account.as_str()
    );
    assert_eq!(p["payment_intent_data"]["metadata"]["order_id"], ORDER);
    assert_eq!(
        p["success_url"],
        "https://shop.lyceum.test/orders/done?session={CHECKOUT_SESSION_ID}"
    );

    let again = RetrieveCheckoutSession::new(session.id.clone())
        .send(&client)
        .await
        .unwrap();
    assert_eq!(again.id, session.id);
    let expired = ExpireCheckoutSession::new(session.id.clone())
        .customize()
        .request_strategy(RequestStrategy::Idempotent(
            IdempotencyKey::new("expire-order-1").unwrap(),
        ))
        .send(&client)
        .await
        .unwrap();
    assert_eq!(expired.status, Some(CheckoutSessionStatus::Expired));
    let (status, error) = stripe_error(
        ExpireCheckoutSession::new(session.id.clone())
            .send(&client)
            .await,
    );
    assert_eq!(status, 400);
    assert_eq!(error.type_, ApiErrorsType::InvalidRequestError);
    assert!(
        error.message.as_deref().unwrap().contains("open"),
        "{error:?}"
    );

    fake.flush().await;
    let event = fake
        .events()
        .into_iter()
        .find(|e| e.kind == "checkout.session.expired")
        .unwrap();
    assert_eq!(event.object()["id"], session.id.as_str());
    assert_eq!(
        event.payload["request"]["idempotency_key"],
        "expire-order-1"
    );
    assert!(
        event.payload["request"]["id"]
            .as_str()
            .unwrap()
            .starts_with("req_")
    );
    assert!(
        event.account.is_none(),
        "a destination charge lives on the platform"
    );
    fake.stop().await;
}

#[tokio::test]
async fn three_decimal_amounts_pass_as_integers_ending_in_zero() {
    let fake = fake().await;
    let client = client(&fake);
    let account = onboarded(&fake, &client).await;
    let kwd: Currency = "kwd".parse().unwrap();
    let session = session(
        vec![line(kwd.clone(), 12_340, 1, "Rust 101")],
        &account,
        1_230,
    )
    .send(&client)
    .await
    .unwrap();
    assert_eq!(session.amount_total, Some(12_340));
    assert_eq!(
        session.currency.as_ref().map(|c| c.to_string()),
        Some("kwd".to_owned())
    );
    let (status, error) = stripe_error(session_request_kwd(&client, &account, 12_345).await);
    assert_eq!(
        (status, code(&error)),
        (400, "invalid_charge_amount".to_owned())
    );
    fake.stop().await;
}

async fn session_request_kwd(
    client: &stripe::Client,
    account: &str,
    amount: i64,
) -> Result<stripe_shared::CheckoutSession, stripe::StripeError> {
    session(
        vec![line("kwd".parse().unwrap(), amount, 1, "Rust 101")],
        account,
        0,
    )
    .send(client)
    .await
}

#[tokio::test]
async fn invalid_sessions_are_refused_in_stripes_shape() {
    let fake = fake().await;
    let client = client(&fake);
    let account = onboarded(&fake, &client).await;
    let usd = || vec![line(Currency::USD, 4900, 1, "Rust 101")];

    let bare = CreateCheckoutSession::new()
        .mode(CheckoutSessionMode::Payment)
        .line_items(usd());
    let (status, error) = stripe_error(bare.send(&client).await);
    assert_eq!(
        (status, error.code.clone()),
        (400, Some(ApiErrorsCode::ParameterMissing))
    );
    assert_eq!(error.param.as_deref(), Some("success_url"));
    let (_, error) = stripe_error(
        session(usd(), &account, 490)
            .success_url("not a url")
            .send(&client)
            .await,
    );
    assert_eq!(error.code, Some(ApiErrorsCode::UrlInvalid));

    let soon = session(usd(), &account, 490).expires_at(chrono::Utc::now().timestamp() + 600);
    let (status, error) = stripe_error(soon.send(&client).await);
    assert_eq!((status, error.param.as_deref()), (400, Some("expires_at")));
    let late = session(usd(), &account, 490).expires_at(chrono::Utc::now().timestamp() + 25 * 3600);
    assert_eq!(
        stripe_error(late.send(&client).await).1.param.as_deref(),
        Some("expires_at")
    );

    let (status, error) = stripe_error(
        session(usd(), "acct_nobody0000000", 490)
            .send(&client)
            .await,
    );
    assert_eq!(status, 400);
    assert_eq!(error.code, Some(ApiErrorsCode::ResourceMissing));
    assert_eq!(
        error.param.as_deref(),
        Some("payment_intent_data[transfer_data][destination]")
    );

    let fresh = create_account("new@example.com")
        .send(&client)
        .await
        .unwrap();
    let (_, error) = stripe_error(session(usd(), fresh.id.as_str(), 490).send(&client).await);
    assert_eq!(
        code(&error),
        "insufficient_capabilities_for_transfer",
        "an account that has not onboarded cannot receive transfers"
    );

    let (_, error) = stripe_error(session(usd(), &account, 4901).send(&client).await);
    assert_eq!(
        error.param.as_deref(),
        Some("payment_intent_data[application_fee_amount]")
    );

    let (_, error) = stripe_error(
        session(vec![line(Currency::USD, 49, 1, "Too cheap")], &account, 0)
            .send(&client)
            .await,
    );
    assert_eq!(error.code, Some(ApiErrorsCode::AmountTooSmall));
    let (_, error) = stripe_error(
        session(
            vec![
                line(Currency::USD, 100, 1, "A"),
                line(Currency::EUR, 100, 1, "B"),
            ],
            &account,
            0,
        )
        .send(&client)
        .await,
    );
    assert_eq!(
        error.param.as_deref(),
        Some("line_items[1][price_data][currency]")
    );
    fake.stop().await;
}

#[tokio::test]
async fn a_paid_session_has_a_payment_intent_that_refunds_in_part_then_in_full() {
    let fake = fake().await;
    let client = client(&fake);
    let account = onboarded(&fake, &client).await;
    let session = session(
        vec![line(Currency::USD, 4900, 1, "Rust 101")],
        &account,
        490,
    )
    .send(&client)
    .await
    .unwrap();
    let paid = fake.pay(session.id.as_str()).await;
    assert_eq!(paid.events[0].kind, "checkout.session.completed");
    assert_eq!(paid.events[0].object()["payment_status"], "paid");

    let intent = RetrievePaymentIntent::new(paid.payment_intent.as_str())
        .send(&client)
        .await
        .unwrap();
    assert_eq!(intent.status, PaymentIntentStatus::Succeeded);
    assert_eq!((intent.amount, intent.amount_received), (4900, 4900));
    assert_eq!(intent.application_fee_amount, Some(490));
    assert_eq!(intent.metadata["order_id"], ORDER);
    assert_eq!(
        intent
            .transfer_data
            .as_ref()
            .unwrap()
            .destination
            .id()
            .as_str(),
        account
    );
    assert_eq!(
        intent.latest_charge.as_ref().unwrap().id().as_str(),
        paid.charge
    );
    let expanded = RetrieveCheckoutSession::new(session.id.clone())
        .expand(vec!["payment_intent".to_owned()])
        .send(&client)
        .await
        .unwrap();
    assert_eq!(expanded.payment_status, CheckoutSessionPaymentStatus::Paid);
    assert!(
        matches!(expanded.payment_intent, Some(Expandable::Object(ref pi)) if pi.id.as_str() == paid.payment_intent)
    );

    let refund_ids = |id: &str| {
        metadata(&[
            ("order_id", ORDER),
            ("tenant_id", TENANT),
            ("refund_id", id),
        ])
    };
    let partial = CreateRefund::new()
        .payment_intent(paid.payment_intent.as_str())
        .amount(1000)
        .reverse_transfer(true)
        .refund_application_fee(true)
        .metadata(refund_ids("r1"))
        .customize()
        .request_strategy(RequestStrategy::Idempotent(
            IdempotencyKey::new("refund-r1").unwrap(),
        ))
        .send(&client)
        .await
        .unwrap();
    assert_eq!(
        (partial.amount, partial.status.as_deref()),
        (1000, Some("succeeded"))
    );
    assert!(partial.id.as_str().starts_with("re_"));
    let charge = RetrieveCharge::new(paid.charge.as_str())
        .send(&client)
        .await
        .unwrap();
    assert_eq!((charge.amount_refunded, charge.refunded), (1000, false));
    assert_eq!(
        charge.metadata["tenant_id"], TENANT,
        "the PaymentIntent's metadata is copied to its charge"
    );
    let transfer = fake
        .object(charge.transfer.as_ref().unwrap().id().as_str())
        .unwrap();
    assert_eq!(
        (
            transfer["amount"].clone(),
            transfer["amount_reversed"].clone()
        ),
        (json!(4900), json!(1000))
    );
    let fee_id = charge.application_fee.as_ref().unwrap().id().to_string();
    assert_eq!(
        fake.object(&fee_id).unwrap()["amount_refunded"],
        100,
        "the fee is refunded in proportion"
    );

    let (status, error) = stripe_error(
        CreateRefund::new()
            .payment_intent(paid.payment_intent.as_str())
            .amount(3901)
            .send(&client)
            .await,
    );
    assert_eq!(
        (status, error.code.clone(), error.param.as_deref()),
        (400, Some(ApiErrorsCode::AmountTooLarge), Some("amount"))
    );
    let rest = CreateRefund::new()
        .charge(paid.charge.as_str())
        .refund_application_fee(true)
        .reverse_transfer(true)
        .metadata(refund_ids("r2"))
        .send(&client)
        .await
        .unwrap();
    assert_eq!(rest.amount, 3900, "without an amount, what is left");
    let charge = RetrieveCharge::new(paid.charge.as_str())
        .send(&client)
        .await
        .unwrap();
    assert_eq!((charge.amount_refunded, charge.refunded), (4900, true));
    assert_eq!(
        fake.object(&fee_id).unwrap()["amount_refunded"],
        490,
        "a full refund returns all of the fee"
    );
    let (_, error) = stripe_error(
        CreateRefund::new()
            .payment_intent(paid.payment_intent.as_str())
            .send(&client)
            .await,
    );
    assert_eq!(error.code, Some(ApiErrorsCode::ChargeAlreadyRefunded));

    let listed = ListRefund::new()
        .payment_intent(paid.payment_intent.as_str())
        .send(&client)
        .await
        .unwrap();
    let ids: Vec<&str> = listed.data.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        vec![rest.id.as_str(), partial.id.as_str()],
        "newest first"
    );
    assert_eq!(listed.data[1].metadata.as_ref().unwrap()["refund_id"], "r1");
    assert!(!listed.has_more);
    let by_charge = ListRefund::new()
        .charge(paid.charge.as_str())
        .limit(1)
        .send(&client)
        .await
        .unwrap();
    assert_eq!((by_charge.data.len(), by_charge.has_more), (1, true));

    fake.flush().await;
    let kinds: Vec<String> = fake
        .events()
        .iter()
        .filter(|e| e.kind.contains("refund"))
        .map(|e| e.kind.clone())
        .collect();
    assert_eq!(
        kinds,
        [
            "refund.created",
            "charge.refunded",
            "refund.updated",
            "refund.created",
            "charge.refunded",
            "refund.updated"
        ]
    );
    let refunded = fake
        .events()
        .into_iter()
        .find(|e| e.kind == "charge.refunded")
        .unwrap();
    assert_eq!(refunded.payload["request"]["idempotency_key"], "refund-r1");
    assert_eq!(refunded.object()["amount_refunded"], 1000);
    assert_eq!(
        refunded.object()["payment_intent"],
        paid.payment_intent.as_str()
    );
    fake.stop().await;
}

#[tokio::test]
async fn an_idempotency_key_replays_its_answer_and_refuses_other_parameters() {
    let fake = fake().await;
    let client = client(&fake);
    let account = onboarded(&fake, &client).await;
    let key =
        || RequestStrategy::Idempotent(IdempotencyKey::new(format!("checkout-{ORDER}")).unwrap());
    let first = session(
        vec![line(Currency::USD, 4900, 1, "Rust 101")],
        &account,
        490,
    )
    .expires_at(1_900_000_000)
    .customize()
    .request_strategy(key());
    // expires_at beyond 24 h is a validation error: not saved, so a corrected retry works.
    let (status, _) = stripe_error(first.send(&client).await);
    assert_eq!(status, 400);
    let expires = chrono::Utc::now().timestamp() + 3600;
    let make = |amount: i64| {
        session(
            vec![line(Currency::USD, amount, 1, "Rust 101")],
            &account,
            490,
        )
        .expires_at(expires)
    };
    let created = make(4900)
        .customize()
        .request_strategy(key())
        .send(&client)
        .await
        .unwrap();
    let replayed = make(4900)
        .customize()
        .request_strategy(key())
        .send(&client)
        .await
        .unwrap();
    assert_eq!(
        replayed.id, created.id,
        "the same key and parameters get the saved answer"
    );
    assert!(fake.requests().last().unwrap().replayed);
    let (status, error) = stripe_error(
        make(5900)
            .customize()
            .request_strategy(key())
            .send(&client)
            .await,
    );
    assert_eq!(
        (status, error.type_),
        (400, ApiErrorsType::IdempotencyError)
    );
    let sessions = fake
        .requests()
        .iter()
        .filter(|r| r.path == "/v1/checkout/sessions" && r.status == 200 && !r.replayed)
        .count();
    assert_eq!(sessions, 1, "one session was made");
    fake.stop().await;
}

#[tokio::test]
async fn a_wrong_or_missing_key_is_refused() {
    let fake = fake().await;
    let wrong = ClientBuilder::new("sk_test_not_the_key")
        .url(fake.base_url())
        .build()
        .unwrap();
    let (status, error) = stripe_error(create_account("a@example.com").send(&wrong).await);
    assert_eq!(
        (status, error.type_.clone()),
        (401, ApiErrorsType::InvalidRequestError)
    );
    assert!(
        error
            .message
            .as_deref()
            .unwrap()
            .starts_with("Invalid API Key provided"),
        "{error:?}"
    );
    let bare = reqwest::Client::new()
        .get(format!("{}/v1/accounts/acct_x", fake.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 401);
    let body: serde_json::Value = bare.json().await.unwrap();
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert!(fake.requests().iter().all(|r| r.status == 401));
    let unknown = reqwest::Client::new()
        .post(format!("{}/v1/accounts", fake.base_url()))
        .bearer_auth(KEY)
        .form(&[("type", "express"), ("colour", "blue")])
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 400);
    let body: serde_json::Value = unknown.json().await.unwrap();
    assert_eq!(
        (
            body["error"]["code"].clone(),
            body["error"]["param"].clone()
        ),
        (json!("parameter_unknown"), json!("colour"))
    );
    fake.stop().await;
}
