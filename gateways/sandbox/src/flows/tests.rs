//! Checkout, pay and expiry rules on a bare state, with a fixed clock.

use super::*;
use crate::testing::checkout_request;

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
}

fn open(state: &mut State) -> Session {
    checkout(
        state,
        &checkout_request("key-1"),
        at(0),
        TimeDelta::minutes(30),
    )
    .unwrap()
}

fn kinds(emissions: &[Emission]) -> Vec<WireType> {
    emissions.iter().map(|e| e.kind).collect()
}

#[test]
fn checkout_is_idempotent_on_its_key() {
    let mut state = State::default();
    let request = checkout_request("key-1");
    let first = checkout(&mut state, &request, at(0), TimeDelta::minutes(30)).unwrap();
    let again = checkout(&mut state, &request, at(60), TimeDelta::minutes(30)).unwrap();
    assert_eq!(first, again);
    assert_eq!(state.sessions.len(), 1);
    assert!(first.id.starts_with("sbs_") && first.id.len() == 36);
    assert_eq!(first.expires_at, at(30 * 60));
    assert_eq!(first.platform_fee.amount.get(), 199);

    let other = checkout(
        &mut state,
        &checkout_request("key-2"),
        at(0),
        TimeDelta::minutes(30),
    );
    assert_ne!(other.unwrap().id, first.id);
    // The same key for another order is a caller bug, not a second session.
    let mut reused = checkout_request("key-1");
    reused.order_id = uuid::Uuid::now_v7();
    assert!(matches!(
        checkout(&mut state, &reused, at(0), TimeDelta::minutes(30)),
        Err(SandboxError::Rejected(_))
    ));
}

#[test]
fn cards_are_read_without_spaces() {
    assert_eq!(Card::parse("4242 4242 4242 4242"), Some(Card::Succeeds));
    assert_eq!(Card::parse(" 4000000000000002 "), Some(Card::Declined));
    assert_eq!(Card::parse("4000 0000 0000 0259"), Some(Card::Disputed));
    assert_eq!(Card::parse("5555 5555 5555 4444"), Some(Card::Unknown));
    assert_eq!(Card::parse("   "), None);
}

#[test]
fn a_decline_leaves_the_session_open_for_another_try() {
    let mut state = State::default();
    let session = open(&mut state);
    for card in [Card::Declined, Card::Unknown] {
        let declined = pay(&mut state, &session.id, card, at(1)).unwrap();
        assert_eq!(declined.attempt, Attempt::Declined);
        assert_eq!(kinds(&declined.emissions), [WireType::PaymentFailed]);
        assert_eq!(declined.emissions[0].data.payment_id, session.id);
        assert_eq!(declined.session.status, SessionStatus::Open);
    }
    let paid = pay(&mut state, &session.id, Card::Succeeds, at(2)).unwrap();
    let Attempt::Paid { payment_id } = &paid.attempt else {
        panic!("not paid: {:?}", paid.attempt)
    };
    assert!(payment_id.starts_with("sbp_"));
    assert_eq!(kinds(&paid.emissions), [WireType::PaymentSucceeded]);
    assert_eq!(paid.emissions[0].data.amount.amount, 1999);
    assert_eq!(state.payments[payment_id].captured.amount.get(), 1999);
    assert_eq!(state.sessions[&session.id].status, SessionStatus::Paid);

    let twice = pay(&mut state, &session.id, Card::Succeeds, at(3)).unwrap();
    assert_eq!(twice.attempt, Attempt::AlreadyPaid);
    assert!(twice.emissions.is_empty());
    assert_eq!(state.payments.len(), 1);
}

#[test]
fn the_dispute_card_pays_then_opens_a_dispute() {
    let mut state = State::default();
    let session = open(&mut state);
    let paid = pay(&mut state, &session.id, Card::Disputed, at(1)).unwrap();
    assert_eq!(
        kinds(&paid.emissions),
        [WireType::PaymentSucceeded, WireType::DisputeCreated]
    );
    let dispute = &paid.emissions[1].data;
    assert!(
        dispute
            .dispute_id
            .as_deref()
            .is_some_and(|d| d.starts_with("sbd_"))
    );
    assert_eq!(dispute.payment_id, paid.emissions[0].data.payment_id);
    assert_eq!(dispute.amount.amount, 1999);
}

#[test]
fn sessions_expire_once_by_sweep_or_by_a_late_payment() {
    let mut state = State::default();
    let swept = open(&mut state);
    assert!(expire_due(&mut state, at(30 * 60 - 1)).is_empty());
    let expired = expire_due(&mut state, at(30 * 60));
    assert_eq!(kinds(&expired), [WireType::PaymentExpired]);
    assert_eq!(expired[0].data.payment_id, swept.id);
    assert!(expire_due(&mut state, at(3600)).is_empty());
    let late = pay(&mut state, &swept.id, Card::Succeeds, at(3600)).unwrap();
    assert_eq!((late.attempt, late.emissions.len()), (Attempt::Expired, 0));

    // Paid for after expiry, before the sweep: expired now, and told once.
    let mut state = State::default();
    let unswept = open(&mut state);
    let late = pay(&mut state, &unswept.id, Card::Succeeds, at(30 * 60)).unwrap();
    assert_eq!(late.attempt, Attempt::Expired);
    assert_eq!(kinds(&late.emissions), [WireType::PaymentExpired]);
    assert!(expire_due(&mut state, at(3600)).is_empty());
    assert!(state.payments.is_empty());
}

#[test]
fn an_unknown_session_cannot_be_paid() {
    let mut state = State::default();
    assert!(matches!(
        pay(&mut state, "sbs_nope", Card::Succeeds, at(0)),
        Err(SandboxError::UnknownSession)
    ));
}
