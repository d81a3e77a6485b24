//! What the sandbox answers when the platform asks about an order's payment: its current state
//! as events with deterministic ids (`fetch:…`), so asking twice records nothing twice.

use chrono::{DateTime, Utc};
use lyceum_gateway_core::{EventKind, GatewayEvent, Money, PaymentLookup};

use crate::SandboxError;
use crate::store::{DisputeStatus, Payment, Session, SessionStatus, State};

/// The session a lookup is about: by payment id, by session id, or else the order's paid
/// session (or its newest one). Whatever the route, it must belong to the order and tenant.
fn find<'a>(state: &'a State, lookup: &PaymentLookup) -> Option<&'a Session> {
    let belongs = |s: &&Session| s.order_id == lookup.order_id && s.tenant_id == lookup.tenant_id;
    if let Some(payment_id) = &lookup.provider_payment_id {
        return state
            .payments
            .get(payment_id)
            .and_then(|p| state.sessions.get(&p.session))
            .filter(belongs);
    }
    if let Some(session_ref) = &lookup.session_ref {
        return state.sessions.get(session_ref).filter(belongs);
    }
    let mut sessions: Vec<&Session> = state.sessions.values().filter(belongs).collect();
    sessions.sort_by_key(|s| (s.status == SessionStatus::Paid, s.created_at));
    sessions.pop()
}

/// The events that describe the session's payment now; an open session has none.
pub(crate) fn payment_events(
    state: &State,
    lookup: &PaymentLookup,
    now: DateTime<Utc>,
) -> Result<Vec<GatewayEvent>, SandboxError> {
    let session = find(state, lookup).ok_or(SandboxError::UnknownPayment)?;
    let event = |id: String, kind, payment_id: &str, amount: Money, at| GatewayEvent {
        provider_event_id: id,
        kind,
        order_id: session.order_id,
        tenant_id: Some(session.tenant_id),
        session_ref: Some(session.id.clone()),
        provider_payment_id: payment_id.to_owned(),
        refund_id: None,
        dispute_id: None,
        amount,
        occurred_at: at,
    };
    let payment = session
        .payment_id
        .as_ref()
        .and_then(|id| state.payments.get(id));
    let Some(payment) = payment else {
        let expired = session.status == SessionStatus::Expired
            || (session.status == SessionStatus::Open && now >= session.expires_at);
        return Ok(if expired {
            vec![event(
                format!("fetch:{}:expired", session.id),
                EventKind::PaymentExpired,
                &session.id,
                session.total,
                session.expires_at,
            )]
        } else {
            Vec::new()
        });
    };
    let mut events = vec![event(
        format!("fetch:{}:succeeded", payment.id),
        EventKind::PaymentSucceeded,
        &payment.id,
        payment.captured,
        payment.created_at,
    )];
    events.extend(after_sale(payment, &event));
    Ok(events)
}

/// A payment's refunds and disputes, in the order they happened.
fn after_sale(
    payment: &Payment,
    event: &impl Fn(String, EventKind, &str, Money, DateTime<Utc>) -> GatewayEvent,
) -> Vec<GatewayEvent> {
    let mut events = Vec::new();
    for refund in &payment.refunds {
        let mut e = event(
            format!("fetch:{}", refund.id),
            EventKind::RefundSucceeded,
            &payment.id,
            refund.amount,
            refund.created_at,
        );
        e.refund_id = Some(refund.id.clone());
        events.push(e);
    }
    for dispute in &payment.disputes {
        let closed = match dispute.status {
            DisputeStatus::Open => None,
            DisputeStatus::Won => Some(("won", EventKind::DisputeWon)),
            DisputeStatus::Lost => Some(("lost", EventKind::DisputeLost)),
        };
        let opened = (
            format!("fetch:{}:opened", dispute.id),
            EventKind::DisputeOpened,
            dispute.opened_at,
        );
        let closed = closed.map(|(name, kind)| {
            let at = dispute.closed_at.unwrap_or(dispute.opened_at);
            (format!("fetch:{}:{name}", dispute.id), kind, at)
        });
        for (id, kind, at) in std::iter::once(opened).chain(closed) {
            let mut e = event(id, kind, &payment.id, dispute.amount, at);
            e.dispute_id = Some(dispute.id.clone());
            events.push(e);
        }
    }
    events.sort_by_key(|e| e.occurred_at);
    events
}
