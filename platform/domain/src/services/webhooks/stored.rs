//! The stored form of a delivery's events (`webhook_deliveries.events`): a JSON list of the
//! parsed [`GatewayEvent`]s with what became of each. The gateway contract's event stays free
//! of serde; [`EventRecord`] is its wire twin here, converted both ways.

use chrono::{DateTime, Utc};
use lyceum_gateway_core::{EventKind, GatewayEvent, Money};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{LoggedEvent, Outcome};

/// A [`GatewayEvent`] as stored: the same fields, its kind by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct EventRecord {
    provider_event_id: String,
    kind: String,
    order_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tenant_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    session_ref: Option<String>,
    provider_payment_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refund_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dispute_id: Option<String>,
    amount: Money,
    occurred_at: DateTime<Utc>,
}

impl From<&GatewayEvent> for EventRecord {
    fn from(event: &GatewayEvent) -> Self {
        Self {
            provider_event_id: event.provider_event_id.clone(),
            kind: event.kind.as_str().to_owned(),
            order_id: event.order_id,
            tenant_id: event.tenant_id,
            session_ref: event.session_ref.clone(),
            provider_payment_id: event.provider_payment_id.clone(),
            refund_id: event.refund_id.clone(),
            dispute_id: event.dispute_id.clone(),
            amount: event.amount,
            occurred_at: event.occurred_at,
        }
    }
}

/// A stored event whose kind this build does not know.
#[derive(Debug, thiserror::Error)]
#[error("unknown event kind `{0}`")]
pub(super) struct UnknownKind(String);

impl TryFrom<EventRecord> for GatewayEvent {
    type Error = UnknownKind;

    fn try_from(record: EventRecord) -> Result<Self, Self::Error> {
        let kind = EventKind::parse(&record.kind).ok_or(UnknownKind(record.kind))?;
        Ok(Self {
            provider_event_id: record.provider_event_id,
            kind,
            order_id: record.order_id,
            tenant_id: record.tenant_id,
            session_ref: record.session_ref,
            provider_payment_id: record.provider_payment_id,
            refund_id: record.refund_id,
            dispute_id: record.dispute_id,
            amount: record.amount,
            occurred_at: record.occurred_at,
        })
    }
}

/// One element of the stored list.
#[derive(Debug, Serialize, Deserialize)]
struct StoredEvent {
    #[serde(flatten)]
    event: EventRecord,
    outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

/// The column's text for `events`.
pub(super) fn encode(events: &[LoggedEvent]) -> Result<String, serde_json::Error> {
    let stored: Vec<StoredEvent> = events
        .iter()
        .map(|e| StoredEvent {
            event: EventRecord::from(&e.event),
            outcome: e.outcome,
            reason: e.reason.clone(),
        })
        .collect();
    serde_json::to_string(&stored)
}

/// The events of a stored column's text.
pub(super) fn decode(
    text: &str,
) -> Result<Vec<LoggedEvent>, Box<dyn std::error::Error + Send + Sync>> {
    let stored: Vec<StoredEvent> = serde_json::from_str(text)?;
    stored
        .into_iter()
        .map(|s| {
            Ok(LoggedEvent {
                event: GatewayEvent::try_from(s.event)?,
                outcome: s.outcome,
                reason: s.reason,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use lyceum_gateway_core::Currency;

    use super::*;

    fn event(kind: EventKind) -> GatewayEvent {
        GatewayEvent {
            provider_event_id: "evt_1".to_owned(),
            kind,
            order_id: Uuid::now_v7(),
            tenant_id: Some(Uuid::now_v7()),
            session_ref: Some("cs_1".to_owned()),
            provider_payment_id: "pi_1".to_owned(),
            refund_id: None,
            dispute_id: Some("dp_1".to_owned()),
            amount: Money::new(4900, Currency::parse("USD").unwrap()).unwrap(),
            occurred_at: chrono::DateTime::from_timestamp(1_800_000_000, 123_000).unwrap(),
        }
    }

    #[test]
    fn every_kind_round_trips_with_its_outcome() {
        let events: Vec<LoggedEvent> = EventKind::ALL
            .into_iter()
            .map(|kind| LoggedEvent {
                event: event(kind),
                outcome: Outcome::Ignored,
                reason: Some("unknown order".to_owned()),
            })
            .collect();
        let text = encode(&events).unwrap();
        assert_eq!(decode(&text).unwrap(), events);
        assert_eq!(decode("[]").unwrap(), Vec::new());
    }

    #[test]
    fn an_unknown_kind_does_not_decode() {
        let text = encode(&[LoggedEvent {
            event: event(EventKind::PaymentSucceeded),
            outcome: Outcome::Applied,
            reason: None,
        }])
        .unwrap()
        .replace("payment_succeeded", "payment_teleported");
        assert!(decode(&text).is_err());
    }
}
