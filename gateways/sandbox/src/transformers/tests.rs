//! The recorded fixtures in `tests/fixtures/`, through the wire types into our events.

use super::*;

const ORDER: &str = "0190a6f2-7c1e-7b3a-9d2e-5f4a3b2c1d0e";
const TENANT: &str = "0190a6f2-0000-7000-8000-000000000001";

fn fixture(name: &str) -> WireEvent {
    let text = match name {
        "payment_succeeded" => include_str!("../../tests/fixtures/payment_succeeded.json"),
        "payment_failed" => include_str!("../../tests/fixtures/payment_failed.json"),
        "payment_expired" => include_str!("../../tests/fixtures/payment_expired.json"),
        "refund_succeeded" => include_str!("../../tests/fixtures/refund_succeeded.json"),
        "dispute_created" => include_str!("../../tests/fixtures/dispute_created.json"),
        "dispute_won" => include_str!("../../tests/fixtures/dispute_won.json"),
        "dispute_lost" => include_str!("../../tests/fixtures/dispute_lost.json"),
        "unknown_type" => include_str!("../../tests/fixtures/unknown_type.json"),
        other => panic!("no fixture {other}"),
    };
    serde_json::from_str(text).unwrap()
}

fn event(name: &str) -> GatewayEvent {
    GatewayEvent::try_from(fixture(name)).unwrap()
}

#[test]
fn every_fixture_maps_to_its_kind() {
    for (name, kind) in [
        ("payment_succeeded", EventKind::PaymentSucceeded),
        ("payment_failed", EventKind::PaymentFailed),
        ("payment_expired", EventKind::PaymentExpired),
        ("refund_succeeded", EventKind::RefundSucceeded),
        ("dispute_created", EventKind::DisputeOpened),
        ("dispute_won", EventKind::DisputeWon),
        ("dispute_lost", EventKind::DisputeLost),
    ] {
        let e = event(name);
        assert_eq!(e.kind, kind, "{name}");
        assert_eq!(e.order_id.to_string(), ORDER, "{name}");
        assert_eq!(e.tenant_id.map(|t| t.to_string()).as_deref(), Some(TENANT));
        assert!(e.provider_event_id.starts_with("evt_"), "{name}");
        assert_eq!(
            e.session_ref.as_deref(),
            Some("sbs_6b1f0c9e2d4a4f7e8c3b5a1d9e0f2c4b")
        );
        assert_eq!(e.occurred_at.timestamp(), 1_800_000_000, "{name}");
    }
}

#[test]
fn a_payment_carries_the_captured_amount_and_payment_id() {
    let e = event("payment_succeeded");
    assert_eq!(
        e.provider_payment_id,
        "sbp_0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    );
    assert_eq!(e.amount.amount.get(), 1999);
    assert_eq!(e.amount.currency.code(), "USD");
    assert_eq!((e.refund_id, e.dispute_id), (None, None));
    // No payment exists for a failed attempt: the session stands in for it.
    assert_eq!(
        event("payment_failed").provider_payment_id,
        "sbs_6b1f0c9e2d4a4f7e8c3b5a1d9e0f2c4b"
    );
}

#[test]
fn refunds_and_disputes_carry_their_ids_and_amounts() {
    let refund = event("refund_succeeded");
    assert_eq!(
        refund.refund_id.as_deref(),
        Some("sbr_9a8b7c6d5e4f30211203f4e5d6c7b8a9")
    );
    assert_eq!(refund.amount.amount.get(), 500);
    for name in ["dispute_created", "dispute_won", "dispute_lost"] {
        let dispute = event(name);
        assert_eq!(
            dispute.dispute_id.as_deref(),
            Some("sbd_11223344556677881122334455667788"),
            "{name}"
        );
        assert_eq!(dispute.amount.amount.get(), 1999, "{name}");
    }
}

#[test]
fn an_unknown_type_is_never_an_event() {
    assert_eq!(
        GatewayEvent::try_from(fixture("unknown_type")),
        Err(Unmapped::UnknownType)
    );
}

#[test]
fn bad_ids_amounts_and_currencies_are_malformed() {
    type Spoil = fn(&mut WireEvent);
    let cases: [(&str, Spoil); 5] = [
        ("order", |w| w.data.order_id = "not-a-uuid".into()),
        ("tenant", |w| w.data.tenant_id = Some("42".into())),
        ("negative", |w| w.data.amount.amount = -1),
        ("currency", |w| w.data.amount.currency = "usd".into()),
        ("empty payment", |w| w.data.payment_id.clear()),
    ];
    for (name, spoil) in cases {
        let mut wire = fixture("payment_succeeded");
        spoil(&mut wire);
        assert!(
            matches!(GatewayEvent::try_from(wire), Err(Unmapped::Malformed(_))),
            "{name}"
        );
    }
}

#[test]
fn serializes_exactly_as_recorded() {
    let wire = fixture("refund_succeeded");
    let json = serde_json::to_value(&wire).unwrap();
    let recorded: serde_json::Value =
        serde_json::from_str(include_str!("../../tests/fixtures/refund_succeeded.json")).unwrap();
    assert_eq!(json, recorded);
    // Absent ids are left out, not sent as null.
    let payment = serde_json::to_value(fixture("payment_succeeded")).unwrap();
    assert!(payment["data"].get("refund_id").is_none());
    assert!(payment["data"].get("dispute_id").is_none());
}
