//! The recorded event payloads (`tests/fixtures/stripe/events/`): they deserialize in
//! async-stripe's models (but for the one of an older API version, which the models refuse,
//! as async-stripe issue #761 describes), their placeholders fill in, and the fake builds
//! its own events in the same shapes.

use std::collections::BTreeSet;

use lyceum_e2e::stripe::fixtures::{self, Values};
use lyceum_e2e::stripe::{DisputeOutcome, FakeStripe, SentEvent};
use serde_json::Value;
use stripe::{AccountId, StripeError, StripeRequest};
use stripe_checkout::checkout_session::{ExpireCheckoutSession, RetrieveCheckoutSession};
use stripe_connect::account::RetrieveAccount;
use stripe_core::charge::RetrieveCharge;
use stripe_core::dispute::RetrieveDispute;
use stripe_core::event::RetrieveEvent;
use stripe_core::refund::{CreateRefund, RetrieveRefund};
use stripe_types::Currency;

use super::*;

const OLDER: &str = "checkout.session.completed.2020-08-27";

/// Retrieves `object` through the client by its type; `Err` when the model refuses it.
async fn retrieve(client: &stripe::Client, object: &Value) -> Result<(), StripeError> {
    let id = object["id"].as_str().unwrap();
    match object["object"].as_str().unwrap() {
        "checkout.session" => RetrieveCheckoutSession::new(id)
            .send(client)
            .await
            .map(drop),
        "charge" => RetrieveCharge::new(id).send(client).await.map(drop),
        "refund" => RetrieveRefund::new(id).send(client).await.map(drop),
        "dispute" => RetrieveDispute::new(id).send(client).await.map(drop),
        "account" => RetrieveAccount::new(id).send(client).await.map(drop),
        other => panic!("no recorded {other}s expected"),
    }
}

#[tokio::test]
async fn every_recorded_event_fills_in_and_parses_in_async_stripes_models() {
    let fake = fake().await;
    let client = client(&fake);
    let values = Values {
        amount: 12_340,
        currency: "kwd".into(),
        ..Values::default()
    };
    let names = fixtures::event_names();
    assert_eq!(names.len(), 12, "{names:?}");
    for name in names {
        let event: Value = serde_json::from_str(&values.event(&name)).unwrap();
        let object = event["data"]["object"].clone();
        fake.put_object(None, object.clone());
        let sent = fake.send_event(event.clone()).await;
        let mut read = RetrieveEvent::new(sent.id.as_str()).customize();
        if let Some(account) = &sent.account {
            read = read.account_id(AccountId::from(account.as_str()));
        }
        let parsed = read
            .send(&client)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(parsed.type_.as_str(), event["type"], "{name}");
        assert_eq!(parsed.pending_webhooks, 1, "{name}");
        let typed = retrieve(&client, &object).await;
        if name == OLDER {
            // An endpoint on an older API version gets objects today's models refuse; the
            // gateway must still read the fields it needs.
            assert!(
                matches!(typed, Err(StripeError::JSONDeserialize(_))),
                "{typed:?}"
            );
            assert_eq!(event["api_version"], "2020-08-27");
            assert!(
                object.get("shipping").is_some(),
                "a field today's model does not know"
            );
        } else {
            typed.unwrap_or_else(|e| panic!("{name}: {e:?}"));
            assert_eq!(event["api_version"], "2026-09-30.endive", "{name}");
        }
        if object["object"] == "checkout.session" {
            assert_eq!(
                object["client_reference_id"],
                values.order_id.as_str(),
                "{name}"
            );
            assert_eq!(
                object["metadata"]["tenant_id"],
                values.tenant_id.as_str(),
                "{name}"
            );
            assert_eq!(object["amount_total"], values.amount, "{name}");
            assert_eq!(object["currency"], "kwd", "{name}");
        }
        if object["object"] == "account" {
            assert_eq!(
                event["account"],
                values.account.as_str(),
                "a Connect event names its account"
            );
        }
    }
    fake.stop().await;
}

/// The key paths of a JSON value (array elements merged), for comparing shapes.
fn shape(value: &Value, at: &str, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let path = format!("{at}.{k}");
                out.insert(path.clone());
                shape(v, &path, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                shape(item, &format!("{at}[]"), out);
            }
        }
        _ => {}
    }
}

fn shape_of(value: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    shape(value, "", &mut out);
    out
}

/// Every kind of event the gateway maps, as the fake makes them.
async fn fake_events(fake: &FakeStripe, client: &stripe::Client) -> Vec<SentEvent> {
    let account = onboarded(fake, client).await;
    let new = || async {
        session(
            vec![line(Currency::USD, 4900, 1, "Rust 101")],
            &account,
            490,
        )
        .send(client)
        .await
    };
    let refunded = fake.pay(new().await.unwrap().id.as_str()).await;
    let ids = metadata(&[
        ("order_id", ORDER),
        ("tenant_id", TENANT),
        ("refund_id", "r1"),
    ]);
    CreateRefund::new()
        .payment_intent(refunded.payment_intent.as_str())
        .metadata(ids)
        .send(client)
        .await
        .unwrap();
    let delayed = new().await.unwrap();
    fake.pay_async(delayed.id.as_str()).await;
    fake.settle_async(delayed.id.as_str(), true).await;
    let failed = new().await.unwrap();
    fake.pay_async(failed.id.as_str()).await;
    fake.settle_async(failed.id.as_str(), false).await;
    ExpireCheckoutSession::new(new().await.unwrap().id)
        .send(client)
        .await
        .unwrap();
    let won = fake.pay(new().await.unwrap().id.as_str()).await;
    fake.dispute(&won.payment_intent, DisputeOutcome::Won).await;
    let lost = fake.pay(new().await.unwrap().id.as_str()).await;
    fake.dispute(&lost.payment_intent, DisputeOutcome::Lost)
        .await;
    fake.flush().await;
    fake.events()
}

#[tokio::test]
async fn the_fake_builds_its_events_in_the_recorded_shapes() {
    let fake = fake().await;
    let client = client(&fake);
    let built = fake_events(&fake, &client).await;
    for name in fixtures::event_names().into_iter().filter(|n| n != OLDER) {
        let recorded: Value = serde_json::from_str(&Values::default().event(&name)).unwrap();
        let kind = recorded["type"].as_str().unwrap();
        let status = |e: &&SentEvent| match name.rsplit('.').next() {
            Some("unpaid") => e.object()["payment_status"] == "unpaid",
            Some("won") => e.object()["status"] == "won",
            Some("lost") => e.object()["status"] == "lost",
            _ => kind != "checkout.session.completed" || e.object()["payment_status"] == "paid",
        };
        let ours = built
            .iter()
            .filter(|e| e.kind == kind)
            .find(status)
            .unwrap_or_else(|| panic!("the fake built no event like {name}"));
        let (theirs, mine) = (shape_of(&recorded), shape_of(&ours.payload));
        assert_eq!(
            theirs.symmetric_difference(&mine).collect::<Vec<_>>(),
            Vec::<&String>::new(),
            "{name}: the recorded payload and the fake's event differ in shape"
        );
    }
    fake.stop().await;
}
