//! Order independence over HTTP: a sample of shuffled, duplicated deliveries of one order's
//! events ends where in-order delivery ends (the exhaustive check is the property test of
//! the state machine, `platform/domain/src/services/commerce/state.rs`).

use lyceum_e2e::{TestApp, db_tests};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Value, json};

/// `(type, amount, extra data)` of each event of a story, in the order they happened.
fn story() -> Vec<(&'static str, i64, Value)> {
    vec![
        ("payment.failed", 4900, json!({})),
        ("payment.succeeded", 4900, json!({})),
        ("refund.succeeded", 1000, json!({"refund_id": "sbr_1"})),
        ("dispute.created", 4900, json!({"dispute_id": "sbd_1"})),
        ("dispute.won", 4900, json!({"dispute_id": "sbd_1"})),
        ("refund.succeeded", 900, json!({"refund_id": "sbr_2"})),
    ]
}

/// The order's status, paid and refunded amounts, entitlements and ledger balances.
type Final = (
    String,
    i64,
    i64,
    Vec<String>,
    Vec<(String, Option<uuid::Uuid>, i64)>,
);

async fn final_state(app: &TestApp, order: &str) -> Final {
    let row = app.order_row(order).await;
    let (_, _, ents) = app.order_trail(order).await;
    (
        row.status.as_str().to_owned(),
        row.paid_amount,
        row.refunded_amount,
        ents.into_iter()
            .map(|e| e.status.as_str().to_owned())
            .collect(),
        app.order_books(order).await,
    )
}

async fn deliver_all(
    app: &TestApp,
    student: &str,
    tenant: uuid::Uuid,
    order_of: &str,
    sequence: &[usize],
) -> Final {
    let _ = student;
    let session = app.order_row(order_of).await.session_ref.unwrap();
    let secret = app.sandbox_secret().await;
    let events = story();
    for &i in sequence {
        let (kind, amount, extra) = &events[i];
        let body = TestApp::sandbox_event(
            &format!("evt_{order_of}_{i}"),
            kind,
            order_of,
            tenant,
            &session,
            *amount,
            "USD",
            extra.clone(),
        );
        let reply = app
            .deliver(&body, &secret, chrono::Utc::now().timestamp())
            .await;
        assert!(reply.status.is_success(), "{}", reply.text);
    }
    final_state(app, order_of).await
}

db_tests! {
    async fn shuffled_duplicated_deliveries_end_like_in_order_ones(app) {
        let shop = app.shop().await;
        let in_order: Vec<usize> = (0..story().len()).collect();
        let reference_order = app.checkout(&shop.student, "paid").await["order"]["id"].as_str().unwrap().to_owned();
        let expected = deliver_all(&app, &shop.student, shop.tenant_id, &reference_order, &in_order).await;
        assert_eq!(expected.0, "partially_refunded");
        assert_eq!((expected.1, expected.2), (4900, 1900));
        assert_eq!(expected.3, vec!["active".to_owned()]);
        // 30.00 kept: the sandbox holds it, the platform 3.00 of it, the owner 27.00, pending.
        let books: Vec<(&str, i64)> = expected.4.iter().map(|(a, _, n)| (a.as_str(), *n)).collect();
        assert_eq!(books, vec![("clearing", 3000), ("pending", -2700), ("platform_fees", -300)]);

        // A fixed-seed sample of permutations with duplicates, each on a fresh buyer's order.
        let mut runner = TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]));
        let strategy = Just(in_order.clone()).prop_shuffle();
        for n in 0..6 {
            let mut sequence = strategy.new_tree(&mut runner).unwrap().current();
            let dup = sequence[n % sequence.len()];
            sequence.insert((n * 2) % sequence.len(), dup);
            let (buyer, _) = app.register(&format!("buyer{n}@example.com")).await;
            let order = app.checkout(&buyer, "paid").await["order"]["id"].as_str().unwrap().to_owned();
            let got = deliver_all(&app, &buyer, shop.tenant_id, &order, &sequence).await;
            assert_eq!(got, expected, "sequence {sequence:?}");
        }
        app.assert_ledger_balanced().await;
    }
}
