//! Money going back after a payment: refunds (asked by the platform) and disputes (opened and
//! decided from the sandbox's dashboard). Pure functions of the state, like [`crate::flows`].

use chrono::{DateTime, Utc};
use lyceum_gateway_core::{Money, RefundRequest};

use crate::flows::Emission;
use crate::store::{Dispute, DisputeStatus, Payment, Refund, State};
use crate::transformers::WireType;
use crate::{DisputeOutcome, SandboxError, new_id};

/// Refunds part or all of a payment, once per idempotency key. Returns the refund id and the
/// events to post (none when the key was seen before).
pub(crate) fn refund(
    state: &mut State,
    req: &RefundRequest,
    now: DateTime<Utc>,
) -> Result<(String, Vec<Emission>), SandboxError> {
    let payment = state
        .payments
        .get_mut(&req.provider_payment_id)
        .filter(|p| p.order_id == req.order_id && p.tenant_id == req.tenant_id)
        .ok_or(SandboxError::UnknownPayment)?;
    if let Some((payment_id, refund_id)) = state.refund_keys.get(&req.idempotency_key) {
        let same = *payment_id == payment.id
            && payment
                .refunds
                .iter()
                .any(|r| r.id == *refund_id && r.amount == req.amount);
        if !same {
            return Err(SandboxError::Rejected(
                "the idempotency key was already used for a different refund".to_owned(),
            ));
        }
        return Ok((refund_id.clone(), Vec::new()));
    }
    if req.amount.currency != payment.captured.currency {
        return Err(SandboxError::Rejected(format!(
            "the refund is in {} but the payment was in {}",
            req.amount.currency, payment.captured.currency
        )));
    }
    if req.amount.is_zero() {
        return Err(SandboxError::Rejected(
            "a refund must be more than zero".to_owned(),
        ));
    }
    let left = refundable(payment)?;
    if req.amount.amount > left.amount {
        return Err(SandboxError::Rejected(format!(
            "a refund of {} is more than the {} left to refund",
            req.amount, left
        )));
    }
    let refund = Refund {
        id: new_id("sbr"),
        amount: req.amount,
        created_at: now,
    };
    let mut emission = Emission::for_payment(WireType::RefundSucceeded, payment, refund.amount);
    emission.data.refund_id = Some(refund.id.clone());
    let refund_id = refund.id.clone();
    payment.refunds.push(refund);
    state.refund_keys.insert(
        req.idempotency_key.clone(),
        (payment.id.clone(), refund_id.clone()),
    );
    Ok((refund_id, vec![emission]))
}

/// The captured amount less what was already refunded.
fn refundable(payment: &Payment) -> Result<Money, SandboxError> {
    let overflow = |e: lyceum_gateway_core::MoneyError| SandboxError::Rejected(e.to_string());
    let refunded = payment
        .refunds
        .iter()
        .try_fold(Money::zero(payment.captured.currency), |sum, r| {
            sum.checked_add(r.amount)
        })
        .map_err(overflow)?;
    payment.captured.checked_sub(refunded).map_err(overflow)
}

/// Opens a dispute on a payment, or decides the open one.
pub(crate) fn dispute(
    state: &mut State,
    payment_id: &str,
    outcome: DisputeOutcome,
    now: DateTime<Utc>,
) -> Result<Vec<Emission>, SandboxError> {
    let payment = state
        .payments
        .get_mut(payment_id)
        .ok_or(SandboxError::UnknownPayment)?;
    let (kind, status) = match outcome {
        DisputeOutcome::Open => return open_dispute(payment, now),
        DisputeOutcome::Won => (WireType::DisputeWon, DisputeStatus::Won),
        DisputeOutcome::Lost => (WireType::DisputeLost, DisputeStatus::Lost),
    };
    let dispute = payment
        .disputes
        .iter_mut()
        .find(|d| d.status == DisputeStatus::Open)
        .ok_or(SandboxError::NoOpenDispute)?;
    dispute.status = status;
    dispute.closed_at = Some(now);
    let dispute = dispute.clone();
    Ok(vec![dispute_emission(kind, payment, &dispute)])
}

/// Opens a dispute for the captured amount; one at a time per payment.
pub(crate) fn open_dispute(
    payment: &mut Payment,
    now: DateTime<Utc>,
) -> Result<Vec<Emission>, SandboxError> {
    if payment
        .disputes
        .iter()
        .any(|d| d.status == DisputeStatus::Open)
    {
        return Err(SandboxError::DisputeAlreadyOpen);
    }
    let dispute = Dispute {
        id: new_id("sbd"),
        amount: payment.captured,
        status: DisputeStatus::Open,
        opened_at: now,
        closed_at: None,
    };
    let emission = dispute_emission(WireType::DisputeCreated, payment, &dispute);
    payment.disputes.push(dispute);
    Ok(vec![emission])
}

/// An event about a dispute, for the disputed amount.
pub(crate) fn dispute_emission(kind: WireType, payment: &Payment, dispute: &Dispute) -> Emission {
    let mut emission = Emission::for_payment(kind, payment, dispute.amount);
    emission.data.dispute_id = Some(dispute.id.clone());
    emission
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;
    use lyceum_gateway_core::Currency;

    use super::*;
    use crate::flows::{self, Attempt, Card};
    use crate::testing::{checkout_request, usd};

    /// A state with one paid 19.99 USD payment; returns the refund request template for it.
    fn paid() -> (State, RefundRequest) {
        let mut state = State::default();
        let request = checkout_request("key");
        let now = Utc::now();
        let session = flows::checkout(&mut state, &request, now, TimeDelta::minutes(30)).unwrap();
        let Attempt::Paid { payment_id } = flows::pay(&mut state, &session.id, Card::Succeeds, now)
            .unwrap()
            .attempt
        else {
            panic!("not paid")
        };
        let refund = RefundRequest {
            order_id: request.order_id,
            tenant_id: request.tenant_id,
            provider_payment_id: payment_id,
            amount: usd(500),
            idempotency_key: "refund-1".to_owned(),
            order: (&request).into(),
        };
        (state, refund)
    }

    fn with(request: &RefundRequest, key: &str, amount: i64) -> RefundRequest {
        RefundRequest {
            idempotency_key: key.to_owned(),
            amount: usd(amount),
            ..request.clone()
        }
    }

    #[test]
    fn refunds_add_up_to_the_captured_amount_and_no_further() {
        let (mut state, request) = paid();
        let (first, emitted) = refund(&mut state, &request, Utc::now()).unwrap();
        assert!(first.starts_with("sbr_"));
        assert_eq!(emitted.len(), 1);
        assert_eq!(emitted[0].kind, WireType::RefundSucceeded);
        assert_eq!(emitted[0].data.refund_id.as_deref(), Some(first.as_str()));
        assert_eq!(emitted[0].data.amount.amount, 500);

        let too_much = refund(&mut state, &with(&request, "refund-2", 1500), Utc::now());
        assert!(matches!(too_much, Err(SandboxError::Rejected(m)) if m.contains("14.99 USD")));
        let rest = refund(&mut state, &with(&request, "refund-3", 1499), Utc::now()).unwrap();
        assert_eq!(rest.1.len(), 1);
        let more = refund(&mut state, &with(&request, "refund-4", 1), Utc::now());
        assert!(matches!(more, Err(SandboxError::Rejected(_))));
        assert_eq!(
            state.payments[&request.provider_payment_id].refunds.len(),
            2
        );
    }

    #[test]
    fn a_repeated_refund_is_the_same_refund_with_no_new_event() {
        let (mut state, request) = paid();
        let (first, _) = refund(&mut state, &request, Utc::now()).unwrap();
        let (again, emitted) = refund(&mut state, &request, Utc::now()).unwrap();
        assert_eq!(first, again);
        assert!(emitted.is_empty());
        assert_eq!(
            state.payments[&request.provider_payment_id].refunds.len(),
            1
        );
        // The key for a different amount is refused rather than silently answered.
        assert!(matches!(
            refund(&mut state, &with(&request, "refund-1", 600), Utc::now()),
            Err(SandboxError::Rejected(_))
        ));
    }

    #[test]
    fn refunds_must_match_the_payment_currency_order_and_be_positive() {
        let (mut state, request) = paid();
        let euros = RefundRequest {
            amount: Money::new(500, Currency::parse("EUR").unwrap()).unwrap(),
            ..request.clone()
        };
        assert!(matches!(
            refund(&mut state, &euros, Utc::now()),
            Err(SandboxError::Rejected(_))
        ));
        assert!(matches!(
            refund(&mut state, &with(&request, "zero", 0), Utc::now()),
            Err(SandboxError::Rejected(_))
        ));
        let other_order = RefundRequest {
            order_id: uuid::Uuid::now_v7(),
            ..request.clone()
        };
        assert!(matches!(
            refund(&mut state, &other_order, Utc::now()),
            Err(SandboxError::UnknownPayment)
        ));
        let unknown = RefundRequest {
            provider_payment_id: "sbp_nope".to_owned(),
            ..request
        };
        assert!(matches!(
            refund(&mut state, &unknown, Utc::now()),
            Err(SandboxError::UnknownPayment)
        ));
    }

    #[test]
    fn disputes_open_one_at_a_time_and_close_once() {
        let (mut state, request) = paid();
        let payment = request.provider_payment_id.as_str();
        let now = Utc::now();
        assert!(matches!(
            dispute(&mut state, payment, DisputeOutcome::Won, now),
            Err(SandboxError::NoOpenDispute)
        ));
        let opened = dispute(&mut state, payment, DisputeOutcome::Open, now).unwrap();
        assert_eq!(opened[0].kind, WireType::DisputeCreated);
        assert_eq!(opened[0].data.amount.amount, 1999);
        assert!(matches!(
            dispute(&mut state, payment, DisputeOutcome::Open, now),
            Err(SandboxError::DisputeAlreadyOpen)
        ));
        let lost = dispute(&mut state, payment, DisputeOutcome::Lost, now).unwrap();
        assert_eq!(lost[0].kind, WireType::DisputeLost);
        assert_eq!(lost[0].data.dispute_id, opened[0].data.dispute_id);
        assert!(matches!(
            dispute(&mut state, payment, DisputeOutcome::Lost, now),
            Err(SandboxError::NoOpenDispute)
        ));
        assert!(matches!(
            dispute(&mut state, "sbp_nope", DisputeOutcome::Open, now),
            Err(SandboxError::UnknownPayment)
        ));
    }
}
