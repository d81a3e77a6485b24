//! One path for every provider's events: record, check, move the order, grant or revoke
//! (the buyer's entitlements, or a team's seats), book the money (the ledger), audit, enqueue
//! side effects — in one transaction, answered only after commit.

use chrono::{DateTime, Utc};
use lyceum_gateway_core::{EventKind, GatewayEvent, GatewayId};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction,
    DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use serde_json::json;

use super::redemptions;
use super::state::{Fact, OrderFacts, OrderStatus};
use crate::entities::payment_events::EventOutcome;
use crate::entities::refunds::RefundStatus;
use crate::entities::{order_audit, order_lines, orders, payment_events, refunds, users};
use crate::error::AppResult;
use crate::ids::{OrderAuditId, OrderId, PaymentEventId, TenantId};
use crate::services::invalidation::Invalidations;
use crate::services::notify::outbox;
use crate::services::now;
use crate::services::{access, ledger, seats};
use crate::state::AppState;

/// Who told us: a provider (by gateway name) or the platform itself (zero-total orders,
/// expiry, failed checkouts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source<'a> {
    Provider(&'a str),
    Platform,
}

impl Source<'_> {
    fn name(&self) -> &str {
        match self {
            Self::Provider(name) => name,
            Self::Platform => "lyceum",
        }
    }

    /// The gateway, for the metrics' closed set of labels; `None` for the platform.
    fn gateway(&self) -> Option<GatewayId> {
        match self {
            Self::Provider(name) => name.parse().ok(),
            Self::Platform => None,
        }
    }
}

/// What became of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// Recorded and applied (possibly changing nothing, as a late `failed` after `paid`).
    Recorded { from: OrderStatus, to: OrderStatus },
    /// Recorded, but its currency is not the order's: the order is flagged, nothing granted.
    Flagged,
    /// Already recorded: nothing changed.
    Duplicate,
    /// Not ours to apply (unknown order, another tenant's, another session's); nothing stored.
    Ignored(&'static str),
}

/// Applies one verified event; idempotent and independent of arrival order. The time it
/// takes, failed or not, goes to the metrics by provider.
pub async fn apply(
    state: &AppState,
    source: Source<'_>,
    event: &GatewayEvent,
) -> AppResult<Applied> {
    let started = std::time::Instant::now();
    let result = apply_logged(state, source, event).await;
    state
        .metrics
        .webhooks
        .applied(source.gateway(), started.elapsed());
    result
}

#[tracing::instrument(
    skip_all,
    fields(tenant.id = event.tenant_id.map(tracing::field::display), order.id = %event.order_id, gateway = source.name())
)]
async fn apply_logged(
    state: &AppState,
    source: Source<'_>,
    event: &GatewayEvent,
) -> AppResult<Applied> {
    let txn = state.db.begin().await?;
    let (applied, invalidations) = apply_in(&txn, source, event, now()).await?;
    state.commit(txn, invalidations).await?;
    match &applied {
        Applied::Ignored(why) => tracing::warn!(
            order.id = %event.order_id, event.id = %event.provider_event_id, gateway = source.name(), reason = why,
            "payment event ignored"
        ),
        Applied::Flagged => tracing::warn!(
            order.id = %event.order_id, event.id = %event.provider_event_id, gateway = source.name(),
            "payment in another currency; order flagged"
        ),
        Applied::Duplicate => {
            tracing::debug!(event.id = %event.provider_event_id, "duplicate payment event")
        }
        Applied::Recorded { from, to } => tracing::info!(
            order.id = %event.order_id, event.id = %event.provider_event_id, gateway = source.name(),
            kind = event.kind.as_str(), %from, %to, "payment event applied"
        ),
    }
    Ok(applied)
}

/// The key an event is recorded under once: the provider's event id at its gateway, and on
/// PostgreSQL the order's storefront too (each storefront's events on its own node under Citus;
/// the same provider event always reaches the same order). SQLite keeps the platform-wide key
/// (migration 000014).
fn event_key(backend: DbBackend) -> Vec<payment_events::Column> {
    let mut key = vec![
        payment_events::Column::Gateway,
        payment_events::Column::ProviderEventId,
    ];
    if backend == DbBackend::Postgres {
        key.push(payment_events::Column::TenantId);
    }
    key
}

/// Applies one event in `txn`, which the caller commits with what it made stale.
async fn apply_in(
    txn: &DatabaseTransaction,
    source: Source<'_>,
    event: &GatewayEvent,
    received_at: DateTime<Utc>,
) -> AppResult<(Applied, Invalidations)> {
    // Deliveries of one order's events take turns; different orders do not wait. The event
    // speaks the gateway contract's bare uuids; from here on the ids are typed.
    let Some(order) = super::orders::lock(txn, None, OrderId::from(event.order_id)).await? else {
        return Ok((Applied::Ignored("unknown order"), Invalidations::none()));
    };
    if let Some(reason) = mismatch(&order, source, event) {
        return Ok((Applied::Ignored(reason), Invalidations::none()));
    }
    let currency_ok = event.amount.currency.code() == order.currency;
    let event_row_id = PaymentEventId::new_v7();
    let inserted = payment_events::Entity::insert(payment_events::ActiveModel {
        id: Set(event_row_id),
        gateway: Set(source.name().to_owned()),
        provider_event_id: Set(event.provider_event_id.clone()),
        tenant_id: Set(order.tenant_id),
        order_id: Set(order.id),
        kind: Set(event.kind.into()),
        amount: Set(event.amount.amount.get()),
        currency: Set(event.amount.currency.code().to_owned()),
        provider_payment_id: Set(event.provider_payment_id.clone()),
        refund_id: Set(event.refund_id.clone()),
        dispute_id: Set(event.dispute_id.clone()),
        occurred_at: Set(event.occurred_at),
        received_at: Set(received_at),
        outcome: Set(if currency_ok {
            EventOutcome::Applied
        } else {
            EventOutcome::CurrencyMismatch
        }),
    })
    .on_conflict(
        OnConflict::columns(event_key(txn.get_database_backend()))
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    if inserted == 0 {
        return Ok((Applied::Duplicate, Invalidations::none()));
    }

    let facts = applied_facts(txn, order.tenant_id, order.id).await?;
    let from = order.status;
    let to = facts.status(order.total_amount);
    // A learner's order grants its buyer; a team's order grants seats (below, once saved).
    let mut changes = if order.team_id.is_none() {
        access::reconcile_lines(
            txn,
            order.tenant_id,
            order.buyer_id,
            order.id,
            to.access(),
            facts.paid_at(),
        )
        .await?
    } else {
        Vec::new()
    };

    let at = now();
    let (hold_until, released_at) = ledger::holds::hold(&order, &facts, at);
    let mut row: orders::ActiveModel = order.clone().into();
    row.status = Set(to);
    row.paid_amount = Set(facts.paid());
    row.refunded_amount = Set(facts.refunded());
    row.flagged = Set(order.flagged || !currency_ok);
    row.updated_at = Set(at);
    row.hold_until = Set(hold_until);
    row.released_at = Set(released_at);
    if event.kind == EventKind::PaymentSucceeded && currency_ok && order.payment_id.is_none() {
        row.payment_id = Set(Some(event.provider_payment_id.clone()));
    }
    let saved = row.update(txn).await?;
    changes.extend(seats::follow_order(txn, &saved).await?);
    // The books move with the order, in its transaction.
    let before = if order.paid_amount == 0 {
        ledger::posting::Posted::Nothing
    } else {
        ledger::posting::Posted::Unknown
    };
    ledger::posting::post_order(
        txn,
        &saved,
        &facts,
        before,
        ledger::posting::kind_of(event.kind),
        Some(event_row_id),
    )
    .await?;
    // A provider's decline leaves its hosted page open for another card, so the order keeps
    // its courses until that session succeeds or runs out: a new checkout returns to it
    // rather than opening a second payable session for the same courses.
    let still_payable =
        to == OrderStatus::Failed && matches!(source, Source::Provider(_)) && !facts.expired();
    let open = to == OrderStatus::Pending || still_payable;
    if !open {
        release_pending(txn, &order).await?;
    }
    // The coupon's use follows the same facts: final once paid, given back once not payable.
    redemptions::settle(txn, &order, facts.has_payment(), open).await?;
    if let (EventKind::RefundSucceeded, Some(refund_id), true) =
        (event.kind, &event.refund_id, currency_ok)
    {
        settle_refund_request(txn, &order, refund_id, event.amount.amount.get()).await?;
    }
    order_audit::ActiveModel {
        id: Set(OrderAuditId::new_v7()),
        tenant_id: Set(order.tenant_id),
        order_id: Set(order.id),
        event_id: Set(Some(event_row_id)),
        from_status: Set(from),
        to_status: Set(to),
        payment_id: Set(Some(event.provider_payment_id.clone()).filter(|p| !p.is_empty())),
        // The buyer's entitlement; a team's order grants its seats' holders, not its buyer.
        entitlement_id: Set(changes
            .first()
            .filter(|_| order.team_id.is_none())
            .map(|c| c.entitlement_id)),
        event_time: Set(event.occurred_at),
        received_at: Set(received_at),
    }
    .insert(txn)
    .await?;
    enqueue_notices(txn, &order, from, to, facts.refunded()).await?;
    let applied = if currency_ok {
        Applied::Recorded { from, to }
    } else {
        Applied::Flagged
    };
    Ok((
        applied,
        Invalidations::access(changes.iter().map(|c| c.key)),
    ))
}

/// Whether `event` may be applied for a provider that takes only exact amounts
/// (`Capabilities::exact_amounts`): a `PaymentSucceeded` must be for the order's total, in its
/// currency. The order is read within the event's tenant; an event about an order that is not
/// there is left to [`apply`], which ignores it. Other kinds are not about the total.
pub async fn pays_exact_total(state: &AppState, event: &GatewayEvent) -> AppResult<bool> {
    if event.kind != EventKind::PaymentSucceeded {
        return Ok(true);
    }
    let mut query = orders::Entity::find_by_id(OrderId::from(event.order_id));
    if let Some(tenant) = event.tenant_id {
        query = query.filter(orders::Column::TenantId.eq(TenantId::from(tenant)));
    }
    let Some(order) = query.one(&state.db).await? else {
        return Ok(true);
    };
    Ok(event.amount.currency.code() == order.currency
        && event.amount.amount.get() == order.total_amount)
}

/// Marks the refund request a refund event answers as succeeded. It is found by the provider's
/// refund id, saved when the provider accepted the request; when that answer never got saved
/// (it timed out, or the process stopped right after the call), the oldest unanswered request
/// of the same amount is the one, so it no longer counts as in flight.
async fn settle_refund_request(
    conn: &impl ConnectionTrait,
    order: &orders::Model,
    provider_refund_id: &str,
    amount: i64,
) -> AppResult<()> {
    let by_id = refunds::Entity::find()
        .filter(refunds::Column::TenantId.eq(order.tenant_id))
        .filter(refunds::Column::OrderId.eq(order.id))
        .filter(refunds::Column::ProviderRefundId.eq(provider_refund_id))
        .one(conn)
        .await?;
    let request = match by_id {
        Some(request) => Some(request),
        None => {
            refunds::Entity::find()
                .filter(refunds::Column::TenantId.eq(order.tenant_id))
                .filter(refunds::Column::OrderId.eq(order.id))
                .filter(refunds::Column::ProviderRefundId.is_null())
                .filter(refunds::Column::Status.eq(RefundStatus::Requested))
                .filter(refunds::Column::Amount.eq(amount))
                .order_by_asc(refunds::Column::CreatedAt)
                .one(conn)
                .await?
        }
    };
    let Some(request) = request else {
        // Refunded from the provider's dashboard: the order's facts have it; no request to settle.
        return Ok(());
    };
    if request.status == RefundStatus::Succeeded {
        return Ok(());
    }
    refunds::ActiveModel {
        id: Set(request.id),
        status: Set(RefundStatus::Succeeded),
        provider_refund_id: Set(Some(provider_refund_id.to_owned())),
        error: Set(None),
        updated_at: Set(now()),
        ..Default::default()
    }
    .update(conn)
    .await?;
    Ok(())
}

/// Why an event does not belong to this order, if it does not.
fn mismatch(
    order: &orders::Model,
    source: Source<'_>,
    event: &GatewayEvent,
) -> Option<&'static str> {
    if event
        .tenant_id
        .is_some_and(|t| TenantId::from(t) != order.tenant_id)
    {
        return Some("the event names another tenant than the order's");
    }
    match source {
        Source::Platform => None,
        Source::Provider(gateway) => {
            if order.gateway.as_deref() != Some(gateway) {
                return Some("the order is not paid through this gateway");
            }
            match (&event.session_ref, &order.session_ref) {
                (Some(theirs), Some(ours)) if theirs != ours => {
                    return Some("the event names another checkout session");
                }
                // The provider never opened a session for this order (it refused, or never
                // answered): nothing of its can have been paid there.
                (Some(_), None) => return Some("the order has no checkout session there"),
                _ => {}
            }
            // Money going back is about the payment the order was paid with, and no other.
            let reversal = matches!(
                event.kind,
                EventKind::RefundSucceeded
                    | EventKind::DisputeOpened
                    | EventKind::DisputeWon
                    | EventKind::DisputeLost
            );
            match &order.payment_id {
                Some(paid_with) if reversal && *paid_with != event.provider_payment_id => {
                    Some("the event is about another payment than the order's")
                }
                _ => None,
            }
        }
    }
}

/// The facts of every applied event of an order.
pub(crate) async fn applied_facts(
    conn: &impl ConnectionTrait,
    tenant_id: TenantId,
    order_id: OrderId,
) -> AppResult<OrderFacts> {
    let rows = payment_events::Entity::find()
        .filter(payment_events::Column::TenantId.eq(tenant_id))
        .filter(payment_events::Column::OrderId.eq(order_id))
        .filter(payment_events::Column::Outcome.eq(EventOutcome::Applied))
        .all(conn)
        .await?;
    let facts = rows
        .into_iter()
        .map(|r| Fact {
            kind: r.kind.into(),
            amount: r.amount,
            payment_id: r.provider_payment_id,
            refund_id: r.refund_id,
            dispute_id: r.dispute_id,
            event_id: r.provider_event_id,
            occurred_at: r.occurred_at,
        })
        .collect::<Vec<_>>();
    Ok(OrderFacts::from_facts(&facts))
}

/// Once an order is no longer pending, its buyer may open a new one for the same courses.
pub(super) async fn release_pending(
    conn: &impl ConnectionTrait,
    order: &orders::Model,
) -> AppResult<()> {
    order_lines::Entity::update_many()
        .col_expr(
            order_lines::Column::PendingKey,
            sea_orm::sea_query::Expr::value(Option::<String>::None),
        )
        .filter(order_lines::Column::TenantId.eq(order.tenant_id))
        .filter(order_lines::Column::OrderId.eq(order.id))
        .exec(conn)
        .await?;
    Ok(())
}

async fn enqueue_notices(
    conn: &impl ConnectionTrait,
    order: &orders::Model,
    from: OrderStatus,
    to: OrderStatus,
    refunded: i64,
) -> AppResult<()> {
    use crate::entities::outbox::OutboxKind;
    let became = |s: OrderStatus| from != s && to == s;
    let kind = if became(OrderStatus::Paid) && order.total_amount > 0 {
        (OutboxKind::PurchaseReceipt, format!("receipt:{}", order.id))
    } else if became(OrderStatus::Refunded)
        || (to == OrderStatus::PartiallyRefunded && refunded > order.refunded_amount)
    {
        (
            OutboxKind::RefundNotice,
            format!("refund:{}:{refunded}", order.id),
        )
    } else {
        return Ok(());
    };
    let buyer = users::Entity::find_by_id(order.buyer_id)
        .select_only()
        .column(users::Column::Email)
        .into_tuple::<String>()
        .one(conn)
        .await?
        .unwrap_or_default();
    let payload = json!({
        "to": buyer,
        "order_id": order.id,
        "tenant_id": order.tenant_id,
        "currency": order.currency,
        "total": order.total_amount,
        "refunded": refunded,
        "status": to.as_str(),
    });
    outbox::enqueue(conn, Some(order.tenant_id), kind.0, &kind.1, payload).await
}
