//! The provider's state transitions for checkouts: open a session, pay it with a test card,
//! expire it. Each is a pure function of the state and the clock that returns the events to
//! post, so the rules are tested without a network or a runtime.

use chrono::{DateTime, TimeDelta, Utc};
use lyceum_gateway_core::{CheckoutRequest, Money};

use crate::store::{Line, Payment, Session, SessionStatus, State};
use crate::transformers::{WireData, WireType};
use crate::{SandboxError, new_id};

/// An event to post once the change that caused it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Emission {
    pub kind: WireType,
    pub data: WireData,
}

impl Emission {
    /// An event about a session that has no payment (failed, expired): the session id stands
    /// in for the payment id, which is never empty.
    pub fn for_session(kind: WireType, session: &Session) -> Self {
        Self::new(kind, session, session.total, &session.id)
    }

    /// An event about a payment, for `amount` (captured, refunded or disputed).
    pub fn for_payment(kind: WireType, payment: &Payment, amount: Money) -> Self {
        Self {
            kind,
            data: WireData {
                session: payment.session.clone(),
                order_id: payment.order_id.to_string(),
                tenant_id: Some(payment.tenant_id.to_string()),
                amount: amount.into(),
                payment_id: payment.id.clone(),
                refund_id: None,
                dispute_id: None,
            },
        }
    }

    fn new(kind: WireType, session: &Session, amount: Money, payment_id: &str) -> Self {
        Self {
            kind,
            data: WireData {
                session: session.id.clone(),
                order_id: session.order_id.to_string(),
                tenant_id: Some(session.tenant_id.to_string()),
                amount: amount.into(),
                payment_id: payment_id.to_owned(),
                refund_id: None,
                dispute_id: None,
            },
        }
    }
}

/// The sandbox's test cards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Card {
    /// `4242 4242 4242 4242`: the payment succeeds.
    Succeeds,
    /// `4000 0000 0000 0002`: declined.
    Declined,
    /// `4000 0000 0000 0259`: succeeds, then the buyer's bank opens a dispute.
    Disputed,
    /// Any other number: declined, as no real card is ever charged.
    Unknown,
}

impl Card {
    pub const SUCCEEDS: &str = "4242424242424242";
    pub const DECLINED: &str = "4000000000000002";
    pub const DISPUTED: &str = "4000000000000259";

    /// The card for a number as typed (spaces ignored); `None` when nothing was typed.
    pub fn parse(input: &str) -> Option<Self> {
        let digits: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        match digits.as_str() {
            "" => None,
            Self::SUCCEEDS => Some(Self::Succeeds),
            Self::DECLINED => Some(Self::Declined),
            Self::DISPUTED => Some(Self::Disputed),
            _ => Some(Self::Unknown),
        }
    }
}

/// Opens a session, or returns the one already opened with the same idempotency key.
pub(crate) fn checkout(
    state: &mut State,
    req: &CheckoutRequest,
    now: DateTime<Utc>,
    ttl: TimeDelta,
) -> Result<Session, SandboxError> {
    if let Some(session) = state
        .checkout_keys
        .get(&req.idempotency_key)
        .and_then(|id| state.sessions.get(id))
    {
        if session.order_id != req.order_id || session.tenant_id != req.tenant_id {
            return Err(SandboxError::Rejected(
                "the idempotency key was already used for another order".to_owned(),
            ));
        }
        return Ok(session.clone());
    }
    let session = Session {
        id: new_id("sbs"),
        order_id: req.order_id,
        tenant_id: req.tenant_id,
        total: req.total,
        lines: req
            .lines
            .iter()
            .map(|l| Line {
                title: l.title.clone(),
                quantity: l.quantity,
                unit_price: l.unit_price,
            })
            .collect(),
        platform_fee: req.split.platform_fee,
        payee_account: req.split.payee_account.clone(),
        success_url: req.success_url.clone(),
        cancel_url: req.cancel_url.clone(),
        status: SessionStatus::Open,
        created_at: now,
        // Its own lifetime, like a provider's; the platform closes it when the order expires
        // first (`close`).
        expires_at: now + ttl,
        payment_id: None,
    };
    state
        .checkout_keys
        .insert(req.idempotency_key.clone(), session.id.clone());
    state.sessions.insert(session.id.clone(), session.clone());
    Ok(session)
}

/// What became of a pay attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Attempt {
    Paid {
        payment_id: String,
    },
    Declined,
    /// Paid before: nothing happens again.
    AlreadyPaid,
    Expired,
}

#[derive(Debug)]
pub(crate) struct PayResult {
    pub attempt: Attempt,
    /// The session after the attempt.
    pub session: Session,
    pub emissions: Vec<Emission>,
}

/// Pays a session with a test card.
pub(crate) fn pay(
    state: &mut State,
    session_id: &str,
    card: Card,
    now: DateTime<Utc>,
) -> Result<PayResult, SandboxError> {
    let session = state
        .sessions
        .get_mut(session_id)
        .ok_or(SandboxError::UnknownSession)?;
    let mut emissions = Vec::new();
    let attempt = match session.status {
        SessionStatus::Paid => Attempt::AlreadyPaid,
        SessionStatus::Expired => Attempt::Expired,
        // The sweep has not reached it yet; expire it now so it is told once.
        SessionStatus::Open if now >= session.expires_at => {
            session.status = SessionStatus::Expired;
            emissions.push(Emission::for_session(WireType::PaymentExpired, session));
            Attempt::Expired
        }
        SessionStatus::Open => match card {
            Card::Declined | Card::Unknown => {
                emissions.push(Emission::for_session(WireType::PaymentFailed, session));
                Attempt::Declined
            }
            Card::Succeeds | Card::Disputed => {
                let mut payment = Payment {
                    id: new_id("sbp"),
                    session: session.id.clone(),
                    order_id: session.order_id,
                    tenant_id: session.tenant_id,
                    captured: session.total,
                    created_at: now,
                    refunds: Vec::new(),
                    disputes: Vec::new(),
                };
                session.status = SessionStatus::Paid;
                session.payment_id = Some(payment.id.clone());
                emissions.push(Emission::for_payment(
                    WireType::PaymentSucceeded,
                    &payment,
                    payment.captured,
                ));
                if card == Card::Disputed {
                    // A fresh payment has no dispute, so opening one cannot be refused.
                    emissions.extend(crate::reversals::open_dispute(&mut payment, now)?);
                }
                let payment_id = payment.id.clone();
                state.payments.insert(payment_id.clone(), payment);
                Attempt::Paid { payment_id }
            }
        },
    };
    Ok(PayResult {
        attempt,
        session: session.clone(),
        emissions,
    })
}

/// Closes an open session at the platform's request (its order expired); a paid or expired
/// session stays as it is.
pub(crate) fn close(state: &mut State, session_id: &str) -> Result<Vec<Emission>, SandboxError> {
    let session = state
        .sessions
        .get_mut(session_id)
        .ok_or(SandboxError::UnknownSession)?;
    if session.status != SessionStatus::Open {
        return Ok(Vec::new());
    }
    session.status = SessionStatus::Expired;
    Ok(vec![Emission::for_session(
        WireType::PaymentExpired,
        session,
    )])
}

/// Expires every open session past its expiry, each told once.
pub(crate) fn expire_due(state: &mut State, now: DateTime<Utc>) -> Vec<Emission> {
    state
        .sessions
        .values_mut()
        .filter(|s| s.status == SessionStatus::Open && now >= s.expires_at)
        .map(|session| {
            session.status = SessionStatus::Expired;
            Emission::for_session(WireType::PaymentExpired, session)
        })
        .collect()
}

#[cfg(test)]
mod tests;
