//! The API through async-stripe: accounts and links, sessions, and errors.

use serde_json::json;
use stripe::{IdempotencyKey, RequestStrategy, StripeRequest};
use stripe_checkout::checkout_session::{ExpireCheckoutSession, RetrieveCheckoutSession};
use stripe_connect::account::RetrieveAccount;
use stripe_connect::account_link::{CreateAccountLink, CreateAccountLinkType};
use stripe_shared::{
    ApiErrorsCode, ApiErrorsType, CheckoutSessionPaymentStatus, CheckoutSessionStatus,
};
use stripe_types::Currency;

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
    let mut profile = stripe_connect::account::CreateAccountBusinessProfile::new();
    profile.name = Some("Acme School".to_owned());
    let account = create_account("teacher@example.com")
        .business_profile(profile)
        .send(&client)
        .await
        .unwrap();
    assert!(account.id.as_str().starts_with("acct_"));
    assert_eq!(
        account.business_profile.as_ref().unwrap().name.as_deref(),
        Some("Acme School")
    );
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
    let update = CreateAccountLink::new(account.id.as_str(), CreateAccountLinkType::AccountUpdate)
        .refresh_url("https://shop.lyceum.test/onboarding/refresh")
        .return_url("https://shop.lyceum.test/onboarding/done")
        .send(&client)
        .await;
    assert_eq!(
        stripe_error(update).1.param.as_deref(),
        Some("type"),
        "Stripe collects an Express account's updates itself"
    );

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

#[tokio::test]
async fn a_direct_charge_lives_on_the_connected_account_and_its_events_say_so() {
    let fake = fake().await;
    let client = client(&fake);
    let account = onboarded(&fake, &client).await;
    let mut intent =
        stripe_checkout::checkout_session::CreateCheckoutSessionPaymentIntentData::new();
    intent.application_fee_amount = Some(490);
    let on_account = |request: stripe_checkout::checkout_session::CreateCheckoutSession| {
        request
            .customize()
            .account_id(stripe::AccountId::from(account.as_str()))
    };
    let direct = session(
        vec![line(Currency::USD, 4900, 1, "Rust 101")],
        &account,
        490,
    )
    .payment_intent_data(intent);
    let created = on_account(direct).send(&client).await.unwrap();
    assert_eq!(
        fake.requests().last().unwrap().stripe_account.as_deref(),
        Some(account.as_str())
    );

    let (status, error) = stripe_error(
        RetrieveCheckoutSession::new(created.id.clone())
            .send(&client)
            .await,
    );
    assert_eq!(
        (status, error.code),
        (404, Some(ApiErrorsCode::ResourceMissing)),
        "the platform does not see it without the header"
    );
    RetrieveCheckoutSession::new(created.id.clone())
        .customize()
        .account_id(stripe::AccountId::from(account.as_str()))
        .send(&client)
        .await
        .unwrap();
    let paid = fake.pay(created.id.as_str()).await;
    assert_eq!(
        paid.events[0].account.as_deref(),
        Some(account.as_str()),
        "a Connect event"
    );
    assert!(
        fake.object(&paid.charge).unwrap()["transfer"].is_null(),
        "no transfer on a direct charge"
    );
    let fee = fake.object(&paid.charge).unwrap()["application_fee"].clone();
    let fee = fake.object(fee.as_str().unwrap()).unwrap();
    assert_eq!(
        (fee["account"].as_str(), fee["amount"].as_i64()),
        (Some(account.as_str()), Some(490)),
        "the platform's fee, from the account"
    );

    let transfer_too = session(
        vec![line(Currency::USD, 4900, 1, "Rust 101")],
        &account,
        490,
    );
    let (_, error) = stripe_error(on_account(transfer_too).send(&client).await);
    assert_eq!(
        error.param.as_deref(),
        Some("payment_intent_data[transfer_data][destination]")
    );
    let stranger = RetrieveCheckoutSession::new(created.id.clone())
        .customize()
        .account_id(stripe::AccountId::from("acct_stranger000000"))
        .send(&client)
        .await;
    assert_eq!(
        stripe_error(stranger).0,
        403,
        "an account the platform does not have"
    );
    fake.stop().await;
}

#[tokio::test]
async fn the_hosted_page_pays_or_cancels_and_redirects() {
    let fake = fake().await;
    let client = client(&fake);
    let account = onboarded(&fake, &client).await;
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let new = || async {
        session(
            vec![line(Currency::USD, 4900, 1, "Rust 101")],
            &account,
            490,
        )
        .send(&client)
        .await
        .unwrap()
    };
    let paying = new().await;
    let url = paying.url.clone().unwrap();
    let page = browser.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("4900"));
    let done = browser
        .post(&url)
        .form(&[("outcome", "card")])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 303);
    let expected = format!(
        "https://shop.lyceum.test/orders/done?session={}",
        paying.id.as_str()
    );
    assert_eq!(
        done.headers()["location"],
        expected.as_str(),
        "{{CHECKOUT_SESSION_ID}} is filled in"
    );
    fake.flush().await;
    let completed = fake
        .events()
        .into_iter()
        .find(|e| e.kind == "checkout.session.completed")
        .unwrap();
    assert_eq!(completed.object()["id"], paying.id.as_str());
    let again = browser
        .post(&url)
        .form(&[("outcome", "card")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        again.status(),
        400,
        "a complete session cannot be paid twice"
    );

    let cancelling = new().await;
    let back = browser
        .post(cancelling.url.as_deref().unwrap())
        .form(&[("outcome", "cancel")])
        .send()
        .await
        .unwrap();
    assert_eq!(back.headers()["location"], "https://shop.lyceum.test/cart");
    assert_eq!(
        fake.object(cancelling.id.as_str()).unwrap()["status"],
        "open",
        "cancelling leaves the session open"
    );
    fake.stop().await;
}
