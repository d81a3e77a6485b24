//! Holds: a sale's sellers' part stays `pending` for the storefront's hold (its refund
//! window, fixed on the order when it was made), then becomes `available` to pay out. The
//! pipeline releases a sale whose hold has already ended when its payment arrives (a hold of
//! zero days, a late delivery); [`release_due`] releases the rest as their holds end.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};

use super::{TransactionKind, payouts, posting};
use lyceum_tenants::rbac::{Authorized, action, resource};

use crate::entities::{orders, tenants};
use crate::error::{AppError, AppResult};
use crate::ids::{OrderId, TenantId};
use crate::services::commerce::state::OrderFacts;
use crate::services::commerce::{orders as order_service, pipeline};
use crate::services::invalidation::Invalidations;
use crate::services::tenancy::tenants::Tenant;
use crate::state::AppState;

/// How many orders one pass releases per transaction batch.
const BATCH: u64 = 100;

/// `(hold_until, released_at)` for `order` saved at `at` with `facts`: the hold starts with
/// the first payment that took money and ends `hold_days` later; once ended, the order is
/// released at `at` (and stays so). An order that took no money (a free one) has no hold.
pub fn hold(
    order: &orders::Model,
    facts: &OrderFacts,
    at: DateTime<Utc>,
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let paid_at = facts.paid_at().filter(|_| facts.paid() > 0);
    let hold_until = order
        .hold_until
        .or_else(|| paid_at.map(|p| p + chrono::Duration::days(order.hold_days.into())));
    let released_at = order
        .released_at
        .or_else(|| hold_until.filter(|until| *until <= at).map(|_| at));
    (hold_until, released_at)
}

/// Makes available the sellers' part of every sale whose hold ended by `at`; returns how
/// many were released. Safe to run on any number of instances at once: each order is
/// released under its row lock, once.
pub async fn release_due(state: &AppState, at: DateTime<Utc>) -> AppResult<usize> {
    let mut released = 0;
    // An order that cannot be released is logged and passed over, so it holds up no other.
    let mut skipped: Vec<OrderId> = Vec::new();
    loop {
        let due = orders::Entity::find()
            .select_only()
            .column(orders::Column::TenantId)
            .column(orders::Column::Id)
            .filter(orders::Column::ReleasedAt.is_null())
            .filter(orders::Column::HoldUntil.lte(at))
            .filter(orders::Column::Id.is_not_in(skipped.iter().copied()))
            .order_by_asc(orders::Column::HoldUntil)
            .limit(BATCH)
            .into_tuple::<(TenantId, OrderId)>()
            .all(&state.db)
            .await?;
        // Past a thousand orders that would not release, leave the rest to the next pass.
        if due.is_empty() || skipped.len() > 1_000 {
            return Ok(released);
        }
        for (tenant_id, order_id) in due {
            match release(state, tenant_id, order_id, at).await {
                Ok(true) => released += 1,
                Ok(false) => skipped.push(order_id),
                Err(e) => {
                    tracing::error!(order.id = %order_id, error = %crate::error::report(&e), "a sale's hold could not be released");
                    skipped.push(order_id);
                }
            }
        }
    }
}

async fn release(
    state: &AppState,
    tenant_id: TenantId,
    order_id: OrderId,
    at: DateTime<Utc>,
) -> AppResult<bool> {
    let txn = state.db.begin().await?;
    let Some(order) = order_service::lock(&txn, Some(tenant_id), order_id).await? else {
        return Ok(false);
    };
    if order.released_at.is_some() || order.hold_until.is_none_or(|until| until > at) {
        return Ok(false);
    }
    let facts = pipeline::applied_facts(&txn, tenant_id, order_id).await?;
    let mut row: orders::ActiveModel = order.into();
    row.released_at = Set(Some(at));
    posting::save_and_post(&txn, row, &facts, TransactionKind::Release).await?;
    txn.commit().await?;
    Ok(true)
}

/// The background job: releases ended holds and runs the payout schedules, every few minutes.
pub async fn work(state: Arc<AppState>) {
    let mut turns = crate::services::jobs::HOLDS.turns();
    loop {
        let at = turns.next(&state).await;
        match release_due(&state, at).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(released = n, "sales released from their hold"),
            Err(e) => {
                tracing::warn!(error = %crate::error::report(&e), "releasing holds failed")
            }
        }
        match payouts::run(&state, at).await {
            Ok(made) if made.is_empty() => {}
            Ok(made) => tracing::info!(payouts = made.len(), "scheduled payouts created"),
            Err(e) => tracing::warn!(error = %crate::error::report(&e), "payout run failed"),
        }
    }
}

/// Sets a storefront's hold in days (`None`: the configured default). Orders keep the hold
/// they were made with; new ones take this.
pub async fn set_hold(
    state: &AppState,
    _proof: &Authorized<resource::Platform, action::Update>,
    tenant: &Tenant,
    days: Option<u16>,
) -> AppResult<Tenant> {
    if days.is_some_and(|d| d > super::MAX_HOLD_DAYS) {
        return Err(AppError::invalid(
            "days",
            format!("must be between 0 and {}", super::MAX_HOLD_DAYS),
        ));
    }
    let txn = state.db.begin().await?;
    let updated = tenants::ActiveModel {
        id: Set(tenant.id),
        payout_hold_days: Set(days.map(i32::from)),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    state.commit(txn, Invalidations::tenant(tenant)).await?;
    tracing::info!(tenant.id = %tenant.id, days, "payout hold set");
    Tenant::from_row(updated, tenant.fee_plan.clone())
}
