//! Payments and refunds through async-stripe, and idempotent retries.

use serde_json::json;
use stripe::{IdempotencyKey, RequestStrategy, StripeRequest};
use stripe_checkout::checkout_session::RetrieveCheckoutSession;
use stripe_core::charge::RetrieveCharge;
use stripe_core::payment_intent::RetrievePaymentIntent;
use stripe_core::refund::{CreateRefund, ListRefund};
use stripe_shared::{
    ApiErrorsCode, ApiErrorsType, CheckoutSessionPaymentStatus, PaymentIntentStatus,
};
use stripe_types::{Currency, Expandable};

use super::*;

#[tokio::test]
async fn a_paid_session_has_a_succeeded_payment_intent_carrying_the_split() {
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
    fake.stop().await;
}

#[tokio::test]
async fn refunds_go_in_part_then_in_full_and_never_beyond() {
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
