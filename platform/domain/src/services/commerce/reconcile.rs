//! The reconciler: asks gateways about orders still pending (missed webhooks), expires
//! abandoned ones, and reports any disagreement between orders and entitlements.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::Utc;
use lyceum_gateway_core::{
    Currency, EventKind, GatewayError, Money, PaymentLookup, RefundLookup, TenantAccount,
};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, Iterable, QueryFilter, QuerySelect,
    TransactionTrait,
};

use super::checkout::local_event_for;
use super::pipeline::{self, Source};
use super::refunds;
use super::state::{Access, OrderStatus};
use crate::entities::entitlements::EntitlementStatus;
use crate::entities::refunds::RefundStatus;
use crate::entities::{entitlements, order_lines, orders, refunds as refund_rows};
use crate::error::{AppError, AppResult};
use crate::gateways::Gateway;
use crate::ids::{EntitlementId, OrderId, OrderLineId, SeatPoolId};
use crate::metrics::Job;
use crate::services::gateway_accounts;
use crate::state::AppState;

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pass {
    pub asked: usize,
    pub events_applied: usize,
    pub expired: usize,
    /// Refund requests asked about again.
    pub refunds_asked: usize,
    /// Refunds the provider took, asked about again.
    pub refunds_checked: usize,
}

/// Settles pending orders older than `after`: asks their gateway, then expires those past
/// their expiry that the gateway says nothing about. The pass, and what it found, go to the
/// metrics.
#[tracing::instrument(skip_all)]
pub async fn run_once(state: &AppState, after: Duration) -> AppResult<Pass> {
    let result = pass(state, after).await;
    match &result {
        Ok(pass) => {
            state.metrics.reconciler.pass(pass);
            state.metrics.jobs.succeeded(Job::Reconciler);
        }
        Err(_) => state.metrics.reconciler.failed(),
    }
    result
}

async fn pass(state: &AppState, after: Duration) -> AppResult<Pass> {
    let cutoff = Utc::now() - after;
    // Open orders: pending ones, and declined ones whose session still takes another card;
    // both still hold their courses.
    let holding: BTreeSet<OrderId> = order_lines::Entity::find()
        .select_only()
        .column(order_lines::Column::OrderId)
        .filter(order_lines::Column::PendingKey.is_not_null())
        .into_tuple::<OrderId>()
        .all(&state.db)
        .await?
        .into_iter()
        .collect();
    let pending = orders::Entity::find()
        .filter(orders::Column::Status.is_in(OrderStatus::iter().filter(|s| s.awaits_payment())))
        .filter(orders::Column::Id.is_in(holding))
        .filter(orders::Column::CreatedAt.lte(cutoff))
        .all(&state.db)
        .await?;
    let mut pass = Pass::default();
    for order in pending {
        settle(state, order, &mut pass).await?;
    }
    pass.refunds_asked = retry_unanswered_refunds(state, cutoff).await?;
    pass.refunds_checked = check_taken_refunds(state, cutoff).await?;
    Ok(pass)
}

/// One open order of a pass: a free one is finished, a paid one is asked about at its gateway,
/// and one past its expiry that nobody paid is expired. One span per order.
#[tracing::instrument(skip_all, fields(tenant.id = %order.tenant_id, order.id = %order.id))]
async fn settle(state: &AppState, order: orders::Model, pass: &mut Pass) -> AppResult<()> {
    let currency = Currency::parse(&order.currency)
        .map_err(|e| AppError::corrupt_field("order", order.id, "currency", e))?;
    let Some(gateway_name) = order.gateway.clone() else {
        // A zero-total order whose fulfilment was interrupted: finish it.
        let event = local_event_for(
            order.id,
            order.tenant_id,
            currency,
            EventKind::PaymentSucceeded,
            "free",
        );
        pipeline::apply(state, Source::Platform, &event).await?;
        pass.events_applied += 1;
        return Ok(());
    };
    if let Some(gateway) = state.gateways.named(&gateway_name) {
        pass.asked += 1;
        // The gateway contract's bare uuids.
        let lookup = PaymentLookup {
            order_id: order.id.into_uuid(),
            tenant_id: order.tenant_id.into_uuid(),
            session_ref: order.session_ref.clone(),
            provider_payment_id: order.payment_id.clone(),
        };
        let account = gateway_accounts::account_for(state, gateway.id(), order.tenant_id).await?;
        match gateway.fetch_payment(&account, &lookup).await {
            Ok(events) => {
                let exact = gateway.capabilities().exact_amounts;
                for event in events {
                    if exact && !pipeline::pays_exact_total(state, &event).await? {
                        tracing::warn!(order.id = %order.id, event.id = %event.provider_event_id, "the provider reports a payment for another amount than the order's total; not applied");
                        continue;
                    }
                    pipeline::apply(state, Source::Provider(&gateway_name), &event).await?;
                    pass.events_applied += 1;
                }
            }
            Err(e) => {
                tracing::warn!(order.id = %order.id, error = %crate::error::report(&e), "reconciler could not ask the gateway")
            }
        }
    }
    let still_open = orders::Entity::find_by_id(order.id)
        .one(&state.db)
        .await?
        .is_some_and(|o| o.status.awaits_payment());
    if still_open && order.expires_at <= Utc::now() {
        if !close_session(state, &order).await? {
            // The provider's page may still take a payment: expire it on a later pass.
            return Ok(());
        }
        let event = local_event_for(
            order.id,
            order.tenant_id,
            currency,
            EventKind::PaymentExpired,
            "expired",
        );
        pipeline::apply(state, Source::Platform, &event).await?;
        pass.expired += 1;
    }
    Ok(())
}

/// Closes an expiring order's checkout at its provider, so that nobody pays an order the
/// platform gave up on; false when the provider could not be told (try again next pass).
async fn close_session(state: &AppState, order: &orders::Model) -> AppResult<bool> {
    let (Some(name), Some(session)) = (&order.gateway, &order.session_ref) else {
        return Ok(true);
    };
    let Some(gateway) = state.gateways.named(name) else {
        return Ok(true);
    };
    let account = gateway_accounts::account_for(state, gateway.id(), order.tenant_id).await?;
    match gateway.cancel_checkout(&account, session).await {
        Ok(()) | Err(GatewayError::Unsupported(_)) => Ok(true),
        // The provider does not know the session (lost, or another mode's key): nothing is
        // open there to pay.
        Err(e @ (GatewayError::Rejected(_) | GatewayError::UnknownPayment)) => {
            tracing::warn!(order.id = %order.id, error = %crate::error::report(&e), "the provider refused to close the checkout; expiring the order anyway");
            Ok(true)
        }
        Err(e) => {
            tracing::warn!(order.id = %order.id, error = %crate::error::report(&e), "the provider could not close the checkout; the order expires on a later pass");
            Ok(false)
        }
    }
}

/// A refund request still `requested` after the cutoff, with what asking about it takes.
struct OpenRefund<'s> {
    request: refund_rows::Model,
    order: orders::Model,
    gateway: &'s Gateway,
    amount: Money,
    account: TenantAccount,
}

/// The refund requests still `requested` and untouched since `cutoff`: those the provider
/// `answered` (it gave a refund id) or those it never answered.
async fn open_refunds(
    state: &AppState,
    cutoff: chrono::DateTime<Utc>,
    answered: bool,
) -> AppResult<Vec<OpenRefund<'_>>> {
    let provider_id = refund_rows::Column::ProviderRefundId;
    let rows = refund_rows::Entity::find()
        .filter(refund_rows::Column::Status.eq(RefundStatus::Requested))
        .filter(if answered {
            provider_id.is_not_null()
        } else {
            provider_id.is_null()
        })
        .filter(refund_rows::Column::UpdatedAt.lte(cutoff))
        .all(&state.db)
        .await?;
    let mut open = Vec::with_capacity(rows.len());
    for request in rows {
        let Some(order) = orders::Entity::find_by_id(request.order_id)
            .filter(orders::Column::TenantId.eq(request.tenant_id))
            .one(&state.db)
            .await?
        else {
            continue;
        };
        let gateway = order
            .gateway
            .as_deref()
            .and_then(|g| state.gateways.named(g));
        let (Some(gateway), Ok(currency)) = (gateway, Currency::parse(&request.currency)) else {
            continue;
        };
        let amount = Money::new(request.amount, currency)
            .map_err(|e| AppError::corrupt_field("refund", request.id, "amount", e))?;
        let account = gateway_accounts::account_for(state, gateway.id(), order.tenant_id).await?;
        open.push(OpenRefund {
            request,
            order,
            gateway,
            amount,
            account,
        });
    }
    Ok(open)
}

/// Asks again about refund requests the provider never answered (it was unreachable), with
/// the same idempotency key: a refund it did take is not made twice, one it never saw is made
/// now, and either way the refund event settles the request.
async fn retry_unanswered_refunds(
    state: &AppState,
    cutoff: chrono::DateTime<Utc>,
) -> AppResult<usize> {
    let unanswered: Vec<OpenRefund<'_>> = open_refunds(state, cutoff, false)
        .await?
        .into_iter()
        // A provider that would make the refund twice is never asked again.
        .filter(|open| open.gateway.capabilities().idempotent_refunds)
        .collect();
    let asked = unanswered.len();
    for open in unanswered {
        let OpenRefund {
            request,
            order,
            gateway,
            amount,
            account,
        } = open;
        let answer = refunds::ask(state, gateway, &account, &order, request.id, amount).await?;
        if let Err(e) = refunds::record_answer(
            state,
            gateway,
            order.tenant_id,
            order.id,
            request.id,
            answer,
        )
        .await
        {
            tracing::warn!(refund.id = %request.id, error = %crate::error::report(&e), "refund asked again, still not taken");
        }
    }
    Ok(asked)
}

/// Asks about refunds a provider took but never confirmed (its event was lost, or it sends
/// none): what it says settles them through the pipeline, like a delivered event; a refund it
/// gave up fails, and its amount may be refunded again.
async fn check_taken_refunds(state: &AppState, cutoff: chrono::DateTime<Utc>) -> AppResult<usize> {
    let taken = open_refunds(state, cutoff, true).await?;
    let checked = taken.len();
    for open in taken {
        let OpenRefund {
            request,
            order,
            gateway,
            amount,
            account,
        } = open;
        let lookup = RefundLookup {
            order_id: order.id.into_uuid(),
            tenant_id: order.tenant_id.into_uuid(),
            provider_payment_id: order.payment_id.clone().unwrap_or_default(),
            provider_refund_id: request.provider_refund_id.clone().unwrap_or_default(),
            amount,
        };
        let name = gateway.id().as_str();
        match gateway.fetch_refund(&account, &lookup).await {
            Ok(events) => {
                for event in events {
                    pipeline::apply(state, Source::Provider(name), &event).await?;
                }
            }
            Err(e @ GatewayError::Rejected(_)) => {
                tracing::warn!(refund.id = %request.id, error = %crate::error::report(&e), "the provider gave up a refund it had taken");
                if let Err(e) = refunds::record_answer(
                    state,
                    gateway,
                    order.tenant_id,
                    order.id,
                    request.id,
                    Err(e),
                )
                .await
                {
                    tracing::info!(refund.id = %request.id, error = %crate::error::report(&e), "refund marked failed");
                }
            }
            Err(e) => {
                tracing::warn!(refund.id = %request.id, error = %crate::error::report(&e), "reconciler could not ask about a refund")
            }
        }
    }
    Ok(checked)
}

/// The reconciler task: a pass every minute.
pub async fn work(state: std::sync::Arc<AppState>) {
    let mut turns = crate::services::jobs::RECONCILE.turns();
    loop {
        turns.next(&state).await;
        let after = Duration::from_secs(u64::from(state.settings.reconcile_after_minutes) * 60);
        match run_once(&state, after).await {
            Ok(pass) if pass != Pass::default() => tracing::info!(?pass, "reconciler pass"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %crate::error::report(&e), "reconciler pass failed"),
        }
    }
}

/// Disagreements between orders and entitlements; every list should be empty.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Paid learners' orders (`paid`, `partially_refunded`) with a line that has no active
    /// entitlement.
    pub paid_without_entitlement: Vec<OrderId>,
    /// Active purchase entitlements whose order is not paid, and active seat entitlements no
    /// seat holds.
    pub entitled_without_payment: Vec<EntitlementId>,
    /// Team seat pools giving more than their orders pay for.
    pub seats_over_paid: Vec<SeatPoolId>,
}

impl Report {
    pub fn is_clean(&self) -> bool {
        self.paid_without_entitlement.is_empty()
            && self.entitled_without_payment.is_empty()
            && self.seats_over_paid.is_empty()
    }
}

/// Compares every order with its entitlements.
pub async fn report(db: &DatabaseConnection) -> AppResult<Report> {
    // One snapshot for every read: an order paid between two of them is not a finding.
    // (SQLite's reading transaction is one already.)
    let txn = if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        db.begin_with_config(
            Some(sea_orm::IsolationLevel::RepeatableRead),
            Some(sea_orm::AccessMode::ReadOnly),
        )
        .await?
    } else {
        db.begin().await?
    };
    let db = &txn;
    let mut report = Report::default();
    let lines = order_lines::Entity::find()
        .find_also_related(orders::Entity)
        .all(db)
        .await?;
    let active: std::collections::HashMap<OrderLineId, entitlements::Model> =
        entitlements::Entity::find()
            .filter(entitlements::Column::OrderLineId.is_not_null())
            .all(db)
            .await?
            .into_iter()
            .filter_map(|e| e.order_line_id.map(|l| (l, e)))
            .collect();
    for (line, order) in lines {
        let Some(order) = order else { continue };
        if order.team_id.is_some() {
            // A team's order grants seats, checked below, not its buyer.
            continue;
        }
        // Paid, and not disputed: the statuses whose lines must be entitled.
        let paid = order.status.access() == Access::Active;
        let entitled = active
            .get(&line.id)
            .is_some_and(|e| e.status == EntitlementStatus::Active);
        if paid && !entitled && !report.paid_without_entitlement.contains(&order.id) {
            report.paid_without_entitlement.push(order.id);
        }
        if let Some(e) = active.get(&line.id).filter(|_| entitled && !paid) {
            report.entitled_without_payment.push(e.id);
        }
    }
    report.seats_over_paid = crate::services::seats::over_paid(db).await?;
    report
        .entitled_without_payment
        .extend(crate::services::seats::stray_access(db).await?);
    txn.commit().await?;
    Ok(report)
}
