//! The webhook log: every delivery a provider makes to `/webhooks/{gateway}[/{tenant}]` —
//! verified, refused, or not verifiable yet — with the events it carried and what became of
//! them, and replaying a stored verified delivery through the payment pipeline.
//!
//! The HTTP handler [`record`]s each delivery once it has answered it (a verified one after
//! its events went through [`pipeline::apply`]). A row holds no raw body and no header: the
//! sender's address, a fixed few words of why verification refused it, and for a verified
//! delivery its events as parsed ([`stored`]). Rows older than [`RETENTION`] are deleted by
//! [`prune`], which the server's periodic job calls.
//!
//! Platform admins read the log ([`list`], [`get`]: `webhook_log` `read`) and [`replay`] a
//! verified delivery (`webhook_log` `update`): its stored events go through the pipeline again,
//! which is idempotent — an event already applied is a duplicate and changes nothing, one that
//! failed is applied now — and the replay is itself logged, with `replay_of` naming the
//! delivery replayed.

mod stored;

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

use chrono::{DateTime, TimeDelta, Utc};
use lyceum_gateway_core::{GatewayEvent, GatewayId, WebhookError};
use lyceum_tenants::rbac::{Authorized, Domain, Resource, Verb, action, resource};
use sea_orm::sea_query::StringLen;
use sea_orm::{
    ColumnTrait, Condition, DeriveActiveEnum, EntityTrait, EnumIter, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::{Deserialize, Serialize};

use crate::entities::{tenants, webhook_deliveries};
use crate::error::{AppError, AppResult};
use crate::ids::{TenantId, WebhookDeliveryId};
use crate::services::commerce::pipeline::{self, Applied, Source};
use crate::services::now;
use crate::state::AppState;

/// How long a delivery stays in the log.
pub const RETENTION: TimeDelta = TimeDelta::days(30);

/// Page size of [`list`] when none is asked for.
const DEFAULT_LIMIT: u64 = 20;
/// The largest page of [`list`].
const MAX_LIMIT: u64 = 100;
/// The longest `detail` or `reason` kept, in characters.
const MAX_TEXT: usize = 200;

/// Why an event was not applied when its delivery was refused after verification.
pub const REFUSED_DELIVERY: &str = "the delivery paid another amount than an order's total";
/// Why an event was not applied when applying it failed.
pub const NOT_APPLIED: &str = "not applied: an internal error (see the log)";
/// Why an event was not applied when an earlier step of its delivery failed.
pub const NOT_ATTEMPTED: &str = "not attempted: an earlier step failed";
/// Why an event delivered to one storefront's shop was dropped: it names another storefront.
pub const OTHER_STOREFRONT: &str = "names another storefront than its path";

/// How verifying a delivery went.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(12))")]
#[serde(rename_all = "snake_case")]
pub enum Verification {
    /// Signed (or re-fetched) as the provider's: its events were read.
    #[sea_orm(string_value = "verified")]
    Verified,
    /// Not trusted: nothing of it was read or applied (400 to the sender).
    #[sea_orm(string_value = "refused")]
    Refused,
    /// Could not be checked now (the provider or our storage did not answer); the provider
    /// delivers again.
    #[sea_orm(string_value = "unavailable")]
    Unavailable,
}

impl Verification {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Verified => "verified",
            Self::Refused => "refused",
            Self::Unavailable => "unavailable",
        }
    }
}

/// What became of an event, or of a delivery as a whole.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(12))")]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Recorded among its order's facts.
    #[sea_orm(string_value = "applied")]
    Applied,
    /// Already recorded: nothing changed.
    #[sea_orm(string_value = "duplicate")]
    Duplicate,
    /// Not ours to apply (unknown order, another storefront's, another session's; or a
    /// delivery without events about orders): nothing stored.
    #[sea_orm(string_value = "ignored")]
    Ignored,
    /// Recorded in another currency than its order's: the order was flagged.
    #[sea_orm(string_value = "flagged")]
    Flagged,
    /// Not applied because of an error of ours (500 to the provider, which delivers again).
    #[sea_orm(string_value = "failed")]
    Failed,
    /// Not applied: verification refused the delivery, or it paid another amount than the
    /// order's total to a provider that takes only exact amounts.
    #[sea_orm(string_value = "refused")]
    Refused,
}

impl Outcome {
    /// Every outcome, the one that says most about a delivery first: a delivery's outcome is
    /// the first of these that any of its events had.
    const BY_WEIGHT: [Outcome; 6] = [
        Self::Failed,
        Self::Refused,
        Self::Flagged,
        Self::Applied,
        Self::Ignored,
        Self::Duplicate,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Duplicate => "duplicate",
            Self::Ignored => "ignored",
            Self::Flagged => "flagged",
            Self::Failed => "failed",
            Self::Refused => "refused",
        }
    }

    /// The outcome named `name`, if any.
    pub fn parse(name: &str) -> Option<Self> {
        Self::BY_WEIGHT.into_iter().find(|o| o.as_str() == name)
    }
}

/// One event a delivery carried, as parsed, and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedEvent {
    pub event: GatewayEvent,
    pub outcome: Outcome,
    /// Why it was ignored, refused or not applied.
    pub reason: Option<String>,
}

impl LoggedEvent {
    /// An event the pipeline answered.
    pub fn applied(event: GatewayEvent, applied: &Applied) -> Self {
        let (outcome, reason) = match applied {
            Applied::Recorded { .. } => (Outcome::Applied, None),
            Applied::Flagged => (Outcome::Flagged, Some("paid in another currency")),
            Applied::Duplicate => (Outcome::Duplicate, None),
            Applied::Ignored(why) => (Outcome::Ignored, Some(*why)),
        };
        Self {
            event,
            outcome,
            reason: reason.map(str::to_owned),
        }
    }

    /// An event not applied because of an error of ours (`why`: a few fixed words; the error
    /// itself goes to the log).
    pub fn failed(event: GatewayEvent, why: &'static str) -> Self {
        Self {
            event,
            outcome: Outcome::Failed,
            reason: Some(why.to_owned()),
        }
    }

    /// An event dropped before the pipeline (`why`: a few fixed words).
    pub fn ignored(event: GatewayEvent, why: &'static str) -> Self {
        Self {
            event,
            outcome: Outcome::Ignored,
            reason: Some(why.to_owned()),
        }
    }

    /// An event of a delivery refused after verification (`why`: a few fixed words).
    pub fn refused(event: GatewayEvent, why: &'static str) -> Self {
        Self {
            event,
            outcome: Outcome::Refused,
            reason: Some(why.to_owned()),
        }
    }
}

/// Where a delivery came in: the gateway of its path, the storefront of its path (none on the
/// platform's own), the sender's address as the trusted proxies vouch for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    pub gateway: GatewayId,
    pub tenant: Option<TenantId>,
    pub peer: Option<IpAddr>,
}

/// What the log says of one delivery, made by one of the constructors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    verification: Verification,
    /// Why it was not verified, as one snake_case word (`bad_signature`): the metrics' label.
    code: &'static str,
    reason: Option<&'static str>,
    events: Vec<LoggedEvent>,
}

impl Entry {
    /// A delivery the gateway did not verify: refused (forged, stale, unsigned, unreadable,
    /// from an untrusted address) or not verifiable now (the provider did not answer). The
    /// reason is a fixed few words per kind of failure; the error's own text (which may quote
    /// the body or the provider's answer) is not kept.
    pub fn unverified(error: &WebhookError) -> Self {
        use Verification::{Refused, Unavailable};
        let (verification, code, reason) = match error {
            WebhookError::MissingSignature => (Refused, "missing_signature", "missing signature"),
            WebhookError::MalformedSignature => {
                (Refused, "malformed_signature", "malformed signature")
            }
            WebhookError::BadSignature => (Refused, "bad_signature", "bad signature"),
            WebhookError::StaleTimestamp => (Refused, "stale_timestamp", "stale timestamp"),
            WebhookError::MalformedBody(_) => (Refused, "malformed_body", "malformed body"),
            WebhookError::NotConfigured => (Refused, "not_configured", "no secret configured"),
            WebhookError::UntrustedSource => (Refused, "untrusted_source", "untrusted source"),
            WebhookError::Unavailable(_) => (
                Unavailable,
                "provider_unavailable",
                "the provider did not answer",
            ),
        };
        Self {
            verification,
            code,
            reason: Some(reason),
            events: Vec::new(),
        }
    }

    /// A delivery refused before it could be verified (`code`: one snake_case word for the
    /// metrics, `why`: a few fixed words, such as an unreadable body or an unknown storefront).
    pub fn refused(code: &'static str, why: &'static str) -> Self {
        Self {
            verification: Verification::Refused,
            code,
            reason: Some(why),
            events: Vec::new(),
        }
    }

    /// A delivery that could not be verified because of an error of ours (`code` and `why` as
    /// for [`Self::refused`]; the error goes to the log).
    pub fn unavailable(code: &'static str, why: &'static str) -> Self {
        Self {
            verification: Verification::Unavailable,
            code,
            reason: Some(why),
            events: Vec::new(),
        }
    }

    /// A verified delivery and what became of each of its events (in the order applied).
    pub fn verified(events: Vec<LoggedEvent>) -> Self {
        Self {
            verification: Verification::Verified,
            code: "none",
            reason: None,
            events,
        }
    }

    /// What became of the delivery as a whole, and more about it.
    fn outcome(&self) -> (Outcome, Option<String>) {
        match self.verification {
            Verification::Refused => return (Outcome::Refused, None),
            Verification::Unavailable => return (Outcome::Failed, None),
            Verification::Verified => {}
        }
        if self.events.is_empty() {
            return (Outcome::Ignored, Some("no events about orders".to_owned()));
        }
        let outcome = Outcome::BY_WEIGHT
            .into_iter()
            .find(|o| self.events.iter().any(|e| e.outcome == *o))
            .unwrap_or(Outcome::Duplicate);
        let reasons: BTreeSet<&str> = self
            .events
            .iter()
            .filter(|e| e.outcome == outcome)
            .filter_map(|e| e.reason.as_deref())
            .collect();
        let detail = (!reasons.is_empty())
            .then(|| bounded(&reasons.into_iter().collect::<Vec<_>>().join("; ")));
        (outcome, detail)
    }
}

/// A logged delivery, as platform admins see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    pub id: WebhookDeliveryId,
    pub gateway: GatewayId,
    /// The storefront of the path, if it named one (and still exists).
    pub tenant_id: Option<TenantId>,
    /// That storefront's slug.
    pub tenant_slug: Option<String>,
    pub received_at: DateTime<Utc>,
    /// The sender's address; none for a replay.
    pub peer: Option<IpAddr>,
    pub verification: Verification,
    /// Why verification refused it, or could not be done.
    pub reason: Option<String>,
    /// The events it carried and what became of each; empty unless verified.
    pub events: Vec<LoggedEvent>,
    pub outcome: Outcome,
    /// More about the outcome: the reasons of its events'.
    pub detail: Option<String>,
    /// For a replay: the delivery replayed.
    pub replay_of: Option<WebhookDeliveryId>,
}

/// Which deliveries [`list`] returns.
#[derive(Debug, Clone, Copy, Default)]
pub struct DeliveryFilter {
    pub gateway: Option<GatewayId>,
    pub outcome: Option<Outcome>,
    /// Only deliveries older than this one (the previous page's `next_before`).
    pub before: Option<WebhookDeliveryId>,
    /// Page size, 1–100 (default 20).
    pub limit: Option<u64>,
}

/// A page of the log, newest first.
#[derive(Debug, Clone)]
pub struct DeliveryPage {
    pub items: Vec<WebhookDelivery>,
    /// Pass as `before` for the next page; none on the last.
    pub next_before: Option<WebhookDeliveryId>,
}

/// Writes the log's row of one delivery, returning its id, and counts it and its events in
/// the metrics (even when the row cannot be written). The handler calls it once it has
/// answered the delivery: a verified one after its events went through the pipeline. Rows
/// older than [`RETENTION`] are deleted by [`prune`].
#[tracing::instrument(skip_all, fields(gateway = %received.gateway, tenant.id = received.tenant.map(tracing::field::display)))]
pub async fn record(
    state: &AppState,
    received: &Received,
    entry: Entry,
) -> AppResult<WebhookDeliveryId> {
    let metrics = &state.metrics.webhooks;
    metrics.delivery(received.gateway, entry.verification, entry.code);
    for event in &entry.events {
        metrics.event(received.gateway, event.outcome);
    }
    insert(state, received, &entry, None).await
}

/// The background job: keeps the log to its retention, at start and then hourly, on the
/// instance whose turn it is (see `services::jobs`).
pub async fn work(state: std::sync::Arc<AppState>) {
    let mut turns = crate::services::jobs::WEBHOOK_LOG.turns();
    loop {
        let at = turns.next(&state).await;
        match prune(&state, at - RETENTION).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "webhook log pruned"),
            Err(e) => {
                tracing::warn!(error = %crate::error::report(&e), "webhook log not pruned")
            }
        }
    }
}

/// Deletes the deliveries received before `older_than` (the periodic job passes
/// now − [`RETENTION`]), returning how many. A replay of a deleted delivery stays, its
/// `replay_of` cleared.
pub async fn prune(state: &AppState, older_than: DateTime<Utc>) -> AppResult<u64> {
    let deleted = webhook_deliveries::Entity::delete_many()
        .filter(webhook_deliveries::Column::ReceivedAt.lt(older_than))
        .exec(&state.db)
        .await?;
    Ok(deleted.rows_affected)
}

/// Logged deliveries, newest first, a page at a time (platform admins).
pub async fn list(
    state: &AppState,
    proof: &Authorized<resource::WebhookLog, action::Read>,
    filter: DeliveryFilter,
) -> AppResult<DeliveryPage> {
    platform_wide(proof)?;
    let limit = crate::services::page_limit(filter.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    let mut select = webhook_deliveries::Entity::find();
    if let Some(gateway) = filter.gateway {
        select = select.filter(webhook_deliveries::Column::Gateway.eq(gateway.as_str()));
    }
    if let Some(outcome) = filter.outcome {
        select = select.filter(webhook_deliveries::Column::Outcome.eq(outcome));
    }
    if let Some(before) = filter.before {
        // The page goes on after that delivery; once it is pruned, so is everything older.
        let Some(cursor) = webhook_deliveries::Entity::find_by_id(before)
            .one(&state.db)
            .await?
        else {
            return Ok(DeliveryPage {
                items: Vec::new(),
                next_before: None,
            });
        };
        select = select.filter(
            Condition::any()
                .add(webhook_deliveries::Column::ReceivedAt.lt(cursor.received_at))
                .add(
                    Condition::all()
                        .add(webhook_deliveries::Column::ReceivedAt.eq(cursor.received_at))
                        .add(webhook_deliveries::Column::Id.lt(cursor.id)),
                ),
        );
    }
    let mut rows = select
        .order_by_desc(webhook_deliveries::Column::ReceivedAt)
        .order_by_desc(webhook_deliveries::Column::Id)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let has_more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_before = rows.last().filter(|_| has_more).map(|r| r.id);
    Ok(DeliveryPage {
        items: views(state, rows).await?,
        next_before,
    })
}

/// One logged delivery (platform admins).
pub async fn get(
    state: &AppState,
    proof: &Authorized<resource::WebhookLog, action::Read>,
    id: WebhookDeliveryId,
) -> AppResult<WebhookDelivery> {
    platform_wide(proof)?;
    find(state, id).await
}

/// Replays a logged verified delivery (platform admins): its stored events go through
/// [`pipeline::apply`] again, each in its own transaction, as from the gateway it came from.
/// The pipeline is idempotent: an event already recorded is a duplicate and changes nothing;
/// one that failed is applied now. For a provider that takes only exact amounts, a payment of
/// another amount than its order's total is refused again, and then nothing is applied. The
/// replay is logged as a delivery of its own with `replay_of` set, which is returned with the
/// outcome of each event. A delivery that was not verified has nothing to replay (409), nor
/// has one of a gateway this instance does not run (409).
#[tracing::instrument(skip_all, fields(delivery.id = %id, user.id = proof.user_id().map(tracing::field::display)))]
pub async fn replay(
    state: &AppState,
    proof: &Authorized<resource::WebhookLog, action::Update>,
    id: WebhookDeliveryId,
) -> AppResult<WebhookDelivery> {
    platform_wide(proof)?;
    let original = find(state, id).await?;
    if original.verification != Verification::Verified {
        return Err(AppError::conflict(
            "only a verified delivery can be replayed; this one was not",
        ));
    }
    let Some(gateway) = state.gateways.get(original.gateway) else {
        return Err(AppError::conflict(format!(
            "the {} gateway is not enabled on this instance",
            original.gateway
        )));
    };
    // What the delivery's path let through, as the handler did: on a storefront's path, only
    // events about that storefront (the others were logged as dropped, and stay so).
    let (mut events, mut logged) = (Vec::new(), Vec::new());
    for e in original.events {
        let other = original
            .tenant_id
            .is_some_and(|t| e.event.tenant_id != Some(t.into_uuid()));
        if other {
            logged.push(LoggedEvent::ignored(e.event, OTHER_STOREFRONT));
        } else {
            events.push(e.event);
        }
    }
    let mut mismatch = false;
    if gateway.capabilities().exact_amounts {
        for event in &events {
            mismatch |= !pipeline::pays_exact_total(state, event).await?;
        }
    }
    let name = original.gateway.as_str();
    for event in events {
        if mismatch {
            logged.push(LoggedEvent::refused(event, REFUSED_DELIVERY));
            continue;
        }
        match pipeline::apply(state, Source::Provider(name), &event).await {
            Ok(applied) => logged.push(LoggedEvent::applied(event, &applied)),
            Err(e) => {
                tracing::error!(event.id = %event.provider_event_id, error = %crate::error::report(&e), "replayed webhook event not applied");
                logged.push(LoggedEvent::failed(event, NOT_APPLIED));
            }
        }
    }
    let received = Received {
        gateway: original.gateway,
        tenant: original.tenant_id,
        peer: None,
    };
    let replayed = insert(state, &received, &Entry::verified(logged), Some(id)).await?;
    tracing::info!(replay.id = %replayed, "webhook delivery replayed");
    find(state, replayed).await
}

fn platform_wide<R: Resource, A: Verb>(proof: &Authorized<R, A>) -> AppResult<()> {
    if proof.domain() == Domain::Platform {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "the webhook log is the platform's".to_owned(),
        ))
    }
}

async fn insert(
    state: &AppState,
    received: &Received,
    entry: &Entry,
    replay_of: Option<WebhookDeliveryId>,
) -> AppResult<WebhookDeliveryId> {
    use sea_orm::ActiveValue::Set;

    let id = WebhookDeliveryId::new_v7();
    let (outcome, detail) = entry.outcome();
    webhook_deliveries::Entity::insert(webhook_deliveries::ActiveModel {
        id: Set(id),
        gateway: Set(received.gateway.as_str().to_owned()),
        tenant_id: Set(received.tenant),
        received_at: Set(now()),
        peer: Set(received.peer.map(|p| p.to_string())),
        verification: Set(entry.verification),
        reason: Set(entry.reason.map(bounded)),
        events: Set(stored::encode(&entry.events)?),
        outcome: Set(outcome),
        detail: Set(detail),
        replay_of: Set(replay_of),
    })
    .exec_without_returning(&state.db)
    .await?;
    Ok(id)
}

async fn find(state: &AppState, id: WebhookDeliveryId) -> AppResult<WebhookDelivery> {
    let row = webhook_deliveries::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("webhook delivery"))?;
    views(state, vec![row])
        .await?
        .pop()
        .ok_or(AppError::Internal("a delivery row without its view"))
}

/// The rows as admins see them, with their storefronts' slugs.
async fn views(
    state: &AppState,
    rows: Vec<webhook_deliveries::Model>,
) -> AppResult<Vec<WebhookDelivery>> {
    let tenant_ids: BTreeSet<TenantId> = rows.iter().filter_map(|r| r.tenant_id).collect();
    let slugs: HashMap<TenantId, String> = if tenant_ids.is_empty() {
        HashMap::new()
    } else {
        tenants::Entity::find()
            .filter(tenants::Column::Id.is_in(tenant_ids))
            .all(&state.db)
            .await?
            .into_iter()
            .map(|t| (t.id, t.slug))
            .collect()
    };
    rows.into_iter()
        .map(|row| {
            let corrupt = |field, e: Box<dyn std::error::Error + Send + Sync>| {
                AppError::corrupt_field("webhook delivery", row.id, field, e)
            };
            let gateway = row
                .gateway
                .parse::<GatewayId>()
                .map_err(|e| corrupt("gateway", e.into()))?;
            let peer = row
                .peer
                .as_deref()
                .map(str::parse::<IpAddr>)
                .transpose()
                .map_err(|e| corrupt("peer", e.into()))?;
            let events = stored::decode(&row.events).map_err(|e| corrupt("events", e))?;
            Ok(WebhookDelivery {
                id: row.id,
                gateway,
                tenant_id: row.tenant_id,
                tenant_slug: row.tenant_id.and_then(|t| slugs.get(&t).cloned()),
                received_at: row.received_at,
                peer,
                verification: row.verification,
                reason: row.reason,
                events,
                outcome: row.outcome,
                detail: row.detail,
                replay_of: row.replay_of,
            })
        })
        .collect()
}

/// `text`, cut to [`MAX_TEXT`] characters.
fn bounded(text: &str) -> String {
    text.chars().take(MAX_TEXT).collect()
}

#[cfg(test)]
mod tests {
    use lyceum_gateway_core::{Currency, EventKind, Money};
    use uuid::Uuid;

    use super::*;

    fn logged(outcome: Outcome, reason: Option<&str>) -> LoggedEvent {
        LoggedEvent {
            event: GatewayEvent {
                provider_event_id: "evt".to_owned(),
                kind: EventKind::PaymentSucceeded,
                order_id: Uuid::now_v7(),
                tenant_id: None,
                session_ref: None,
                provider_payment_id: "pi".to_owned(),
                refund_id: None,
                dispute_id: None,
                amount: Money::new(100, Currency::parse("USD").unwrap()).unwrap(),
                occurred_at: Utc::now(),
            },
            outcome,
            reason: reason.map(str::to_owned),
        }
    }

    #[test]
    fn a_delivery_takes_the_weightiest_outcome_of_its_events() {
        let entry = Entry::verified(vec![
            logged(Outcome::Duplicate, None),
            logged(Outcome::Applied, None),
        ]);
        assert_eq!(entry.outcome(), (Outcome::Applied, None));
        let entry = Entry::verified(vec![
            logged(Outcome::Duplicate, None),
            logged(Outcome::Duplicate, None),
        ]);
        assert_eq!(entry.outcome(), (Outcome::Duplicate, None));
        let entry = Entry::verified(vec![
            logged(Outcome::Ignored, Some("unknown order")),
            logged(Outcome::Ignored, Some("unknown order")),
            logged(Outcome::Failed, Some(NOT_APPLIED)),
        ]);
        assert_eq!(
            entry.outcome(),
            (Outcome::Failed, Some(NOT_APPLIED.to_owned()))
        );
        let entry = Entry::verified(vec![
            logged(Outcome::Ignored, Some("unknown order")),
            logged(Outcome::Ignored, Some("another session")),
        ]);
        assert_eq!(
            entry.outcome(),
            (
                Outcome::Ignored,
                Some("another session; unknown order".to_owned())
            )
        );
        assert_eq!(Entry::verified(Vec::new()).outcome().0, Outcome::Ignored);
    }

    #[test]
    fn unverified_deliveries_keep_a_fixed_reason_and_no_events() {
        let entry = Entry::unverified(&WebhookError::MalformedBody(
            "expected `,` near {\"secret\": …".to_owned(),
        ));
        assert_eq!(entry.verification, Verification::Refused);
        assert_eq!(entry.reason, Some("malformed body"));
        assert!(entry.events.is_empty());
        assert_eq!(entry.outcome(), (Outcome::Refused, None));
        let entry = Entry::unverified(&WebhookError::Unavailable("timeout at …".to_owned()));
        assert_eq!(
            (entry.verification, entry.outcome().0),
            (Verification::Unavailable, Outcome::Failed)
        );
    }

    #[test]
    fn outcomes_parse_by_their_stored_names() {
        for outcome in Outcome::BY_WEIGHT {
            assert_eq!(Outcome::parse(outcome.as_str()), Some(outcome));
        }
        assert_eq!(Outcome::parse("teleported"), None);
    }
}
