//! Webhook delivery end to end: a real HTTP server on 127.0.0.1:0 plays the platform, mounting
//! the sandbox's pages at `/sandbox` and recording what arrives at `/webhooks/sandbox`. It
//! refuses the first delivery with a 500, so every test also sees a retry.

#![expect(
    clippy::unwrap_used,
    reason = "the fake platform's helpers are test code: a failed step is a failed test"
)]

mod support;

use std::time::Duration;

use chrono::Utc;
use lyceum_gateway_core::{
    EventKind, GatewayEvent, Money, PaymentGateway, RefundRequest, TenantAccount, WebhookError,
    signature,
};
use lyceum_gateway_sandbox::{DeliveryOptions, PayOutcome};

use support::{App, SECRET, SETTLE, checkout_request, options};

#[tokio::test]
async fn a_refused_event_is_retried_signed_afresh_until_accepted() {
    let app = App::spawn(options(false)).await;
    let request = checkout_request();
    let session = app
        .sandbox
        .create_checkout(&TenantAccount::default(), &request)
        .await
        .unwrap();
    assert_eq!(
        session.redirect_url,
        format!("{}/sandbox/pay/{}", app.base, session.provider_reference)
    );
    // Paid through the pay page's JSON API, over HTTP, as a script would.
    let paid: serde_json::Value = reqwest::Client::new()
        .post(&session.redirect_url)
        .json(&serde_json::json!({"card": "4242 4242 4242 4242"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(paid["status"], "succeeded");
    assert!(app.sandbox.settle(SETTLE).await);

    let received = app.received();
    let statuses: Vec<_> = received.iter().map(|d| d.status.as_u16()).collect();
    assert_eq!(statuses, [500, 200], "refused once, then retried");
    assert_eq!(
        received[0].body, received[1].body,
        "the same event both times"
    );
    for delivery in &received {
        let header = |name: &str| {
            delivery
                .headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(header("content-type"), Some("application/json"));
        // Signed with the configured secret, and with no other.
        let signed = header("sandbox-signature");
        let now = Utc::now().timestamp();
        assert!(signature::verify(signed, &delivery.body, &[SECRET.as_bytes()], now, 300).is_ok());
        assert_eq!(
            signature::verify(signed, &delivery.body, &[b"whsec_other"], now, 300),
            Err(WebhookError::BadSignature)
        );
    }

    let accepted = app.accepted().await;
    let (event, json) = &accepted[0];
    assert_eq!(event.kind, EventKind::PaymentSucceeded);
    assert_eq!(event.order_id, request.order_id);
    assert_eq!(event.tenant_id, Some(request.tenant_id));
    assert_eq!(
        event.session_ref.as_deref(),
        Some(session.provider_reference.as_str())
    );
    assert_eq!(
        event.provider_payment_id,
        paid["payment_id"].as_str().unwrap()
    );
    assert_eq!(event.amount, request.total);
    assert_eq!(json["type"], "payment.succeeded");
    assert_eq!(
        json["data"]["amount"],
        serde_json::json!({"amount": 1999, "currency": "USD"})
    );

    // A refund is told too, with its own id and amount.
    let refund = RefundRequest {
        order_id: request.order_id,
        tenant_id: request.tenant_id,
        provider_payment_id: event.provider_payment_id.clone(),
        amount: Money::new(500, request.total.currency).unwrap(),
        idempotency_key: "refund-1".to_owned(),
        order: (&request).into(),
    };
    let refund_id = app
        .sandbox
        .refund(&TenantAccount::default(), &refund)
        .await
        .unwrap()
        .provider_refund_id;
    assert!(app.sandbox.settle(SETTLE).await);
    let accepted = app.accepted().await;
    let (refunded, _) = accepted.last().unwrap();
    assert_eq!(refunded.kind, EventKind::RefundSucceeded);
    assert_eq!(refunded.refund_id.as_deref(), Some(refund_id.as_str()));
    assert_eq!(refunded.amount.amount.get(), 500);
}

#[tokio::test]
async fn duplicate_delivers_each_event_twice_with_one_id() {
    let app = App::spawn(options(true)).await;
    let session = app
        .sandbox
        .create_checkout(&TenantAccount::default(), &checkout_request())
        .await
        .unwrap();
    let outcome = app
        .sandbox
        .pay(&session.provider_reference, "4242424242424242")
        .await
        .unwrap();
    assert!(matches!(outcome, PayOutcome::Succeeded { .. }));
    assert!(app.sandbox.settle(SETTLE).await);

    assert_eq!(
        app.received().len(),
        3,
        "two deliveries, one of them retried once"
    );
    let accepted = app.accepted().await;
    assert_eq!(accepted.len(), 2);
    assert_eq!(
        accepted[0].0.provider_event_id,
        accepted[1].0.provider_event_id
    );
    assert!(accepted[0].0.provider_event_id.starts_with("evt_"));
}

#[tokio::test]
async fn the_dispute_card_is_followed_by_a_dispute() {
    let app = App::spawn(options(false)).await;
    let session = app
        .sandbox
        .create_checkout(&TenantAccount::default(), &checkout_request())
        .await
        .unwrap();
    // Paid through the form, as a person would; the answer is a redirect to the shop.
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(&session.redirect_url)
        .form(&[("card", "4000 0000 0000 0259")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(
        response.headers()["location"].to_str().unwrap(),
        "http://shop.test/orders/1"
    );
    assert!(app.sandbox.settle(SETTLE).await);

    let mut accepted: Vec<GatewayEvent> =
        app.accepted().await.into_iter().map(|(e, _)| e).collect();
    accepted.sort_by_key(|e| e.kind != EventKind::PaymentSucceeded);
    let kinds: Vec<_> = accepted.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [EventKind::PaymentSucceeded, EventKind::DisputeOpened]
    );
    assert_eq!(
        accepted[0].provider_payment_id,
        accepted[1].provider_payment_id
    );
    assert!(
        accepted[1]
            .dispute_id
            .as_deref()
            .is_some_and(|d| d.starts_with("sbd_"))
    );
    assert_eq!(accepted[1].amount, accepted[0].amount);
}

#[tokio::test]
async fn delayed_and_reordered_deliveries_still_all_arrive() {
    let app = App::spawn(DeliveryOptions {
        delay: Duration::from_millis(400),
        reorder: Duration::from_millis(100),
        ..options(false)
    })
    .await;
    let session = app
        .sandbox
        .create_checkout(&TenantAccount::default(), &checkout_request())
        .await
        .unwrap();
    app.sandbox
        .pay(&session.provider_reference, "4000000000000259")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(app.received().is_empty(), "nothing before the delay");
    assert!(
        !app.sandbox.settle(Duration::from_millis(1)).await,
        "still in flight"
    );
    assert!(app.sandbox.settle(SETTLE).await);
    let mut kinds: Vec<_> = app
        .accepted()
        .await
        .into_iter()
        .map(|(e, _)| e.kind)
        .collect();
    kinds.sort_by_key(|k| *k != EventKind::PaymentSucceeded);
    assert_eq!(
        kinds,
        [EventKind::PaymentSucceeded, EventKind::DisputeOpened]
    );
}
