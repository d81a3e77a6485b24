//! Events: delivered signed (one `v1` per secret), recorded with the receiver's answers,
//! retrievable through the API; the payment, dispute and onboarding controls emit what
//! Stripe documents.

use std::sync::{Arc, Mutex};

use lyceum_e2e::stripe::{AccountStatus, DisputeOutcome, FakeStripe};
use lyceum_gateway_core::signature;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{Request, Response};
use stripe_core::dispute::RetrieveDispute;
use stripe_core::event::RetrieveEvent;
use stripe_core::payment_intent::RetrievePaymentIntent;
use stripe_core::refund::CreateRefund;
use stripe_shared::{DisputeStatus, EventType, PaymentIntentStatus};
use stripe_types::Currency;

use super::*;

/// One delivery as received: the `Stripe-Signature` header, and the body.
type Delivery = (Option<String>, String);

/// A webhook receiver: records each delivery and answers with the next status queued (200
/// when none is).
#[derive(Clone, Default)]
struct Receiver {
    received: Arc<Mutex<Vec<Delivery>>>,
    answers: Arc<Mutex<Vec<u16>>>,
}

impl Receiver {
    async fn start(self) -> String {
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .unwrap();
        let addr = *acceptor.local_addr()[0].as_socket_addr().unwrap();
        let me = self.clone();
        let app = poem::endpoint::make(move |mut req: Request| {
            let me = me.clone();
            async move {
                let sig = req
                    .headers()
                    .get("stripe-signature")
                    .map(|v| v.to_str().unwrap().to_owned());
                let body = req.take_body().into_string().await.unwrap();
                me.received.lock().unwrap().push((sig, body));
                let status = me.answers.lock().unwrap().pop().unwrap_or(200);
                Response::builder()
                    .status(poem::http::StatusCode::from_u16(status).unwrap())
                    .finish()
            }
        });
        tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(app));
        format!("http://{addr}/webhooks/stripe")
    }

    fn received(&self) -> Vec<Delivery> {
        self.received.lock().unwrap().clone()
    }
}

fn verify(
    header: &str,
    body: &str,
    secret: &str,
) -> Result<i64, lyceum_gateway_core::WebhookError> {
    let now = chrono::Utc::now().timestamp();
    signature::verify(
        Some(header),
        body.as_bytes(),
        &[secret.as_bytes()],
        now,
        signature::TOLERANCE_SECS,
    )
}

async fn paid_session(fake: &FakeStripe, client: &stripe::Client) -> lyceum_e2e::stripe::Payment {
    let account = onboarded(fake, client).await;
    let session = session(
        vec![line(Currency::USD, 4900, 1, "Rust 101")],
        &account,
        490,
    )
    .send(client)
    .await
    .unwrap();
    fake.pay(session.id.as_str()).await
}

#[tokio::test]
async fn events_are_delivered_signed_over_the_exact_bytes_and_answers_recorded() {
    let fake = fake().await;
    let client = client(&fake);
    let receiver = Receiver::default();
    fake.set_webhook_target(receiver.clone().start().await);
    let account = onboarded(&fake, &client).await;
    let session = session(
        vec![line(Currency::USD, 4900, 1, "Rust 101")],
        &account,
        490,
    )
    .send(&client)
    .await
    .unwrap();
    receiver.answers.lock().unwrap().push(500);
    let paid = fake.pay(session.id.as_str()).await;
    let completed = &paid.events[0];
    assert_eq!(
        completed.answers,
        vec![Some(500)],
        "the receiver's answer is recorded"
    );
    let again = fake.redeliver(&completed.id).await;
    assert_eq!(again.answers, vec![Some(500), Some(200)]);

    let received = receiver.received();
    let (header, body) = received.last().unwrap();
    assert_eq!(
        body, &completed.body,
        "the recorded bytes are the delivered bytes"
    );
    assert!(
        body.contains("\n  \"api_version\""),
        "Stripe sends pretty-printed JSON"
    );
    verify(header.as_deref().unwrap(), body, WHSEC).unwrap();
    assert!(
        verify(
            header.as_deref().unwrap(),
            &body.replace("4900", "4901"),
            WHSEC
        )
        .is_err()
    );

    let payload = &completed.payload;
    assert_eq!(payload["object"], "event");
    assert_eq!(payload["api_version"], "2026-09-30.endive");
    assert_eq!(payload["pending_webhooks"], 1);
    assert_eq!(payload["livemode"], false);
    assert!(
        payload["request"]["id"].is_null(),
        "a payment is not an API request"
    );
    assert_eq!(completed.object()["client_reference_id"], ORDER);
    assert_eq!(completed.object()["metadata"]["tenant_id"], TENANT);
    assert_eq!(
        completed.object()["payment_intent"],
        paid.payment_intent.as_str()
    );

    // The event is retrievable, and parses in async-stripe's event model.
    let event = RetrieveEvent::new(completed.id.as_str())
        .send(&client)
        .await
        .unwrap();
    assert_eq!(event.type_, EventType::CheckoutSessionCompleted);
    assert_eq!(event.pending_webhooks, 1);
    fake.stop().await;
}

#[tokio::test]
async fn rotation_signs_with_every_secret_and_forgeries_go_out_as_given() {
    let fake = fake().await;
    let client = client(&fake);
    let receiver = Receiver::default();
    fake.set_webhook_target(receiver.clone().start().await);
    fake.set_webhook_secrets(vec![WHSEC.to_owned(), "whsec_the_next_one".to_owned()]);
    let paid = paid_session(&fake, &client).await;
    let (header, body) = receiver.received().last().unwrap().clone();
    let header = header.unwrap();
    assert_eq!(header.matches(",v1=").count(), 2, "{header}");
    verify(&header, &body, WHSEC).unwrap();
    verify(&header, &body, "whsec_the_next_one").unwrap();
    assert_eq!(
        header,
        fake.signature(&body, header[2..12].parse().unwrap())
    );

    let forged = fake.send_raw(&paid.events[0].body, Some("t=1,v1=00")).await;
    assert_eq!(forged.answers, vec![Some(200)]);
    let unsigned = fake.send_raw("{}", None).await;
    assert_eq!(unsigned.answers.len(), 1);
    let received = receiver.received();
    assert_eq!(received[received.len() - 2].0.as_deref(), Some("t=1,v1=00"));
    assert_eq!(received.last().unwrap().0, None);

    let older = fake.build_event_at(
        "checkout.session.completed",
        paid.events[0].object().clone(),
        None,
        "2024-06-20",
    );
    let sent = fake.send_event(older).await;
    assert_eq!(sent.api_version, "2024-06-20");
    let connect = fake.build_event(
        "account.updated",
        serde_json::json!({"id": "acct_x", "object": "account"}),
        Some("acct_x"),
    );
    assert_eq!(
        fake.send_event(connect).await.account.as_deref(),
        Some("acct_x")
    );
    fake.stop().await;
}

#[tokio::test]
async fn only_enabled_event_types_are_delivered_and_none_without_a_target() {
    let fake = fake().await;
    let client = client(&fake);
    let paid = paid_session(&fake, &client).await;
    assert!(
        paid.events[0].answers.is_empty(),
        "no target: recorded, not delivered"
    );
    let receiver = Receiver::default();
    fake.set_webhook_target(receiver.clone().start().await);
    fake.set_enabled_events(Some(vec!["charge.refunded".to_owned()]));
    CreateRefund::new()
        .payment_intent(paid.payment_intent.as_str())
        .send(&client)
        .await
        .unwrap();
    fake.flush().await;
    let delivered: Vec<String> = fake
        .events()
        .into_iter()
        .filter(|e| !e.answers.is_empty())
        .map(|e| e.kind)
        .collect();
    assert_eq!(delivered, ["charge.refunded"]);
    assert_eq!(receiver.received().len(), 1);
    fake.stop().await;
}

#[tokio::test]
async fn delayed_payments_settle_or_fail() {
    let fake = fake().await;
    let client = client(&fake);
    let account = onboarded(&fake, &client).await;
    let make = || {
        session(
            vec![line(Currency::EUR, 2500, 2, "SEPA course")],
            &account,
            500,
        )
    };
    let first = make().send(&client).await.unwrap();
    let pending = fake.pay_async(first.id.as_str()).await;
    assert_eq!(pending.events[0].object()["payment_status"], "unpaid");
    assert_eq!(pending.events[0].object()["status"], "complete");
    let intent = RetrievePaymentIntent::new(pending.payment_intent.as_str())
        .send(&client)
        .await
        .unwrap();
    assert_eq!(intent.status, PaymentIntentStatus::Processing);
    assert!(fake.object(&pending.charge).unwrap()["transfer"].is_string());
    let settled = fake.settle_async(first.id.as_str(), true).await;
    assert_eq!(settled[0].kind, "checkout.session.async_payment_succeeded");
    assert_eq!(settled[0].object()["payment_status"], "paid");
    let intent = RetrievePaymentIntent::new(pending.payment_intent.as_str())
        .send(&client)
        .await
        .unwrap();
    assert_eq!(
        (intent.status, intent.amount_received),
        (PaymentIntentStatus::Succeeded, 5000)
    );

    let second = make().send(&client).await.unwrap();
    let pending = fake.pay_async(second.id.as_str()).await;
    let failed = fake.settle_async(second.id.as_str(), false).await;
    assert_eq!(failed[0].kind, "checkout.session.async_payment_failed");
    let intent = RetrievePaymentIntent::new(pending.payment_intent.as_str())
        .send(&client)
        .await
        .unwrap();
    assert_eq!(intent.status, PaymentIntentStatus::RequiresPaymentMethod);
    let (_, error) = stripe_error(
        CreateRefund::new()
            .payment_intent(pending.payment_intent.as_str())
            .send(&client)
            .await,
    );
    assert!(
        error
            .message
            .unwrap()
            .contains("does not have a successful charge")
    );

    let third = make().send(&client).await.unwrap();
    let lapsed = fake.lapse(third.id.as_str()).await;
    assert_eq!(
        (lapsed.kind.as_str(), lapsed.object()["status"].as_str()),
        ("checkout.session.expired", Some("expired"))
    );
    fake.stop().await;
}

#[tokio::test]
async fn disputes_open_and_close_and_a_lost_one_blocks_refunds() {
    let fake = fake().await;
    let client = client(&fake);
    let won = paid_session(&fake, &client).await;
    let (dispute, events) = fake
        .dispute(&won.payment_intent, DisputeOutcome::Open)
        .await;
    assert_eq!(events[0].kind, "charge.dispute.created");
    assert_eq!(
        events[0].object()["payment_intent"],
        won.payment_intent.as_str()
    );
    assert_eq!(events[0].object()["charge"], won.charge.as_str());
    let open = RetrieveDispute::new(dispute.as_str())
        .send(&client)
        .await
        .unwrap();
    assert_eq!(
        (open.status, open.amount),
        (DisputeStatus::NeedsResponse, 4900)
    );
    let (_, error) = stripe_error(
        CreateRefund::new()
            .payment_intent(won.payment_intent.as_str())
            .send(&client)
            .await,
    );
    assert_eq!(
        error.code,
        Some(stripe_shared::ApiErrorsCode::ChargeDisputed)
    );
    let (closed, events) = fake.dispute(&won.payment_intent, DisputeOutcome::Won).await;
    assert_eq!(closed, dispute, "closing closes the open one");
    assert_eq!(
        (events.len(), events[0].kind.as_str()),
        (1, "charge.dispute.closed")
    );
    assert_eq!(events[0].object()["status"], "won");
    CreateRefund::new()
        .payment_intent(won.payment_intent.as_str())
        .amount(100)
        .send(&client)
        .await
        .unwrap();

    let lost = paid_session(&fake, &client).await;
    let (dispute, events) = fake
        .dispute(&lost.payment_intent, DisputeOutcome::Lost)
        .await;
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["charge.dispute.created", "charge.dispute.closed"]);
    assert_eq!(
        RetrieveDispute::new(dispute.as_str())
            .send(&client)
            .await
            .unwrap()
            .status,
        DisputeStatus::Lost
    );
    let (_, error) = stripe_error(
        CreateRefund::new()
            .payment_intent(lost.payment_intent.as_str())
            .send(&client)
            .await,
    );
    assert_eq!(
        error.code,
        Some(stripe_shared::ApiErrorsCode::ChargeDisputed)
    );
    fake.stop().await;
}

#[tokio::test]
async fn account_states_and_failed_refunds_emit_their_events() {
    let fake = fake().await;
    let client = client(&fake);
    let paid = paid_session(&fake, &client).await;
    let account = fake.object(&paid.charge).unwrap()["transfer_data"]["destination"]
        .as_str()
        .unwrap()
        .to_owned();
    let restricted = AccountStatus {
        charges_enabled: false,
        past_due: vec!["individual.verification.document".to_owned()],
        currently_due: vec!["individual.verification.document".to_owned()],
        disabled_reason: Some("requirements.past_due".to_owned()),
        ..AccountStatus::onboarded()
    };
    let updated = fake.update_account(&account, restricted).await;
    assert_eq!(updated.account.as_deref(), Some(account.as_str()));
    assert_eq!(updated.object()["charges_enabled"], false);
    assert_eq!(
        updated.object()["requirements"]["disabled_reason"],
        "requirements.past_due"
    );
    assert_eq!(
        updated.payload["data"]["previous_attributes"]["charges_enabled"],
        true
    );
    assert!(
        updated.payload["data"]["previous_attributes"]
            .get("payouts_enabled")
            .is_none(),
        "only what changed"
    );

    let refund = CreateRefund::new()
        .payment_intent(paid.payment_intent.as_str())
        .send(&client)
        .await
        .unwrap();
    let events = fake.fail_refund(refund.id.as_str()).await;
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["refund.updated", "refund.failed"]);
    assert_eq!(events[0].object()["status"], "failed");
    assert_eq!(fake.object(&paid.charge).unwrap()["amount_refunded"], 0);
    fake.stop().await;
}
