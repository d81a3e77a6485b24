//! Refunds: asked of the gateway; the order changes when the gateway's refund event arrives.

use lyceum_gateway_core::{
    CheckoutLine, EventKind, GatewayError, Money, RefundAccepted, RefundRequest, RefundedOrder,
    TenantAccount,
};
use lyceum_tenants::rbac::{Authorized, action, resource};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
    TransactionTrait,
};

use super::OrderStatus;
use super::pipeline::{self, Source};
use crate::entities::refunds::RefundStatus;
use crate::entities::{order_lines, orders, payment_events, refunds, users};
use crate::error::{AppError, AppResult};
use crate::gateways::Gateway;
use crate::ids::{OrderId, RefundId, TenantId};
use crate::services::tenancy::tenants::{Tenant, ensure_covers};
use crate::services::{now, seats};
use crate::state::AppState;

/// A refund as requested.
#[derive(Debug, Clone)]
pub struct Refund {
    pub id: RefundId,
    pub order_id: OrderId,
    pub amount: Money,
    /// `Requested` until the gateway confirms, then `Succeeded`.
    pub status: RefundStatus,
    /// The provider cannot return the money through its API (a Robokassa shop without
    /// Password #3): access ended, and the seller completes the refund in the provider's
    /// cabinet.
    pub manual: bool,
}

/// What to give back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asked {
    /// Everything still refundable.
    Rest,
    /// This much.
    Amount(Money),
    /// What this many seats of a team's one-course order cost: after the refund, exactly that
    /// many fewer are paid for (see [`seats::seats_to_refund`]).
    Seats(u32),
}

/// Asks the order's gateway to refund what `asked` says.
#[tracing::instrument(
    skip_all,
    fields(tenant.id = %tenant.id, user.id = auth.user_id().map(tracing::field::display), order.id = %order_id)
)]
pub async fn request(
    state: &AppState,
    auth: &Authorized<resource::Refund, action::Create>,
    tenant: &Tenant,
    order_id: OrderId,
    asked: Asked,
) -> AppResult<Refund> {
    ensure_covers(auth, tenant)?;
    let requested_by = auth
        .user_id()
        .ok_or(AppError::Unauthenticated("sign in to refund"))?;
    let txn = state.db.begin().await?;
    let order = super::orders::lock(&txn, Some(tenant.id), order_id)
        .await?
        .ok_or(AppError::NotFound("order"))?;
    let status = order.status;
    let refundable_status = match status {
        OrderStatus::Paid | OrderStatus::PartiallyRefunded | OrderStatus::PartiallyPaid => true,
        OrderStatus::Pending
        | OrderStatus::Failed
        | OrderStatus::Expired
        | OrderStatus::Refunded
        | OrderStatus::Disputed => false,
    };
    let Some(gateway_name) = order
        .gateway
        .clone()
        .filter(|_| refundable_status && order.paid_amount > 0)
    else {
        return Err(AppError::invalid(
            "order",
            format!("a {status} order has nothing to refund"),
        ));
    };
    let in_flight: i64 = refunds::Entity::find()
        .filter(refunds::Column::TenantId.eq(tenant.id))
        .filter(refunds::Column::OrderId.eq(order.id))
        .filter(refunds::Column::Status.eq(RefundStatus::Requested))
        .all(&txn)
        .await?
        .iter()
        .map(|r| r.amount)
        .fold(0, i64::saturating_add);
    // Each term is at most what was paid; saturating keeps a corrupt row from wrapping.
    let refundable = order
        .paid_amount
        .saturating_sub(order.refunded_amount)
        .saturating_sub(in_flight);
    let amount = match asked {
        Asked::Rest => refundable,
        Asked::Amount(m) if m.currency.code() != order.currency => {
            return Err(AppError::invalid(
                "amount.currency",
                format!("the order was paid in {}", order.currency),
            ));
        }
        Asked::Amount(m) => m.amount.get(),
        Asked::Seats(count) => seats_amount(&txn, &order, in_flight, count).await?,
    };
    if amount <= 0 || amount > refundable {
        return Err(AppError::invalid(
            "amount",
            format!("at most {refundable} minor units of this order can be refunded"),
        ));
    }
    let id = RefundId::new_v7();
    refunds::ActiveModel {
        id: Set(id),
        tenant_id: Set(tenant.id),
        order_id: Set(order.id),
        amount: Set(amount),
        currency: Set(order.currency.clone()),
        status: Set(RefundStatus::Requested),
        provider_refund_id: Set(None),
        requested_by: Set(requested_by),
        error: Set(None),
        manual: Set(false),
        created_at: Set(now()),
        updated_at: Set(now()),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;

    // The gateway call happens outside any transaction.
    let money = Money::new(amount, tenant.currency)?;
    let gateway = state
        .gateways
        .named(&gateway_name)
        .ok_or_else(|| AppError::GatewayDisabled(gateway_name.clone()))?;
    let account =
        crate::services::gateway_accounts::account_for(state, gateway.id(), tenant.id).await?;
    let result = ask(state, gateway, &account, &order, id, money).await?;
    let (status, manual) = record_answer(state, gateway, tenant.id, order.id, id, result).await?;
    tracing::info!(order.id = %order.id, refund.id = %id, amount, status = status.as_str(), "refund requested");
    Ok(Refund {
        id,
        order_id: order.id,
        amount: money,
        status,
        manual,
    })
}

/// The amount that gives back `count` seats of a team's order (one course each), refused
/// while another refund of the order is in flight.
async fn seats_amount(
    conn: &impl sea_orm::ConnectionTrait,
    order: &orders::Model,
    in_flight: i64,
    count: u32,
) -> AppResult<i64> {
    let lines = order_lines::Entity::find()
        .filter(order_lines::Column::TenantId.eq(order.tenant_id))
        .filter(order_lines::Column::OrderId.eq(order.id))
        .all(conn)
        .await?;
    let [line] = lines.as_slice() else {
        return Err(AppError::invalid(
            "quantity",
            "seats are refunded by number only from a team's order of one course; refund this one by amount",
        ));
    };
    if order.team_id.is_none() {
        return Err(AppError::invalid(
            "quantity",
            "this order bought no seats; refund it by amount",
        ));
    }
    if in_flight > 0 {
        // Whether it goes through decides what a number of seats costs.
        return Err(AppError::conflict(
            "a refund of this order is still being made; refund seats once it is settled",
        ));
    }
    let refunded = order.refunded_amount;
    let kept = seats::kept_seats(
        line.quantity,
        order.total_amount,
        order.paid_amount,
        refunded,
    );
    seats::seats_to_refund(
        line.quantity,
        order.total_amount,
        order.paid_amount,
        refunded,
        i32::try_from(count).unwrap_or(i32::MAX),
    )
    .ok_or_else(|| {
        AppError::invalid(
            "quantity",
            format!("between 1 and {kept} seats of this order can be refunded"),
        )
    })
}

/// Asks `gateway` (as the tenant's `account`) to refund `amount` of `order` for our request
/// `id`, its idempotency key: the same request asked again is one refund. The outer error is
/// ours (the order could not be read); the inner one the provider's.
pub(super) async fn ask(
    state: &AppState,
    gateway: &Gateway,
    account: &TenantAccount,
    order: &orders::Model,
    id: RefundId,
    amount: Money,
) -> AppResult<Result<RefundAccepted, GatewayError>> {
    let paid = refunded_order(state, order).await?;
    Ok(gateway
        .refund(
            account,
            // The gateway contract's bare uuids.
            &RefundRequest {
                order_id: order.id.into_uuid(),
                tenant_id: order.tenant_id.into_uuid(),
                provider_payment_id: order.payment_id.clone().unwrap_or_default(),
                amount,
                idempotency_key: id.to_string(),
                order: paid,
            },
        )
        .await)
}

/// What a refund's provider knows of the order: its lines as charged, its total and fee, the
/// buyer's address and its number.
async fn refunded_order(state: &AppState, row: &orders::Model) -> AppResult<RefundedOrder> {
    let order = super::orders::assemble(&state.db, row.clone()).await?;
    let buyer = users::Entity::find_by_id(row.buyer_id)
        .one(&state.db)
        .await?
        .ok_or(AppError::Internal("an order's buyer is gone"))?;
    let currency = order.total.currency;
    Ok(RefundedOrder {
        lines: order
            .lines
            .iter()
            .map(|l| CheckoutLine {
                course_id: l.course_id.into_uuid(),
                title: l.course_title.clone(),
                quantity: l.quantity,
                unit_price: l.unit_price,
            })
            .collect(),
        total: order.total,
        platform_fee: Money::new(row.fee_amount.unwrap_or(0), currency)?,
        buyer_email: buyer.email,
        invoice_number: super::orders::number(&state.db, row.tenant_id, row.id)
            .await?
            .unwrap_or_default(),
        session_ref: row.session_ref.clone(),
    })
}

/// Records the gateway's answer to refund request `id` and returns the request's status and
/// whether the seller must complete it by hand.
///
/// - Taken: the provider's refund id is saved, under the order's lock. The refund event may
///   have overtaken the answer; holding the lock, either the pipeline already recorded it (seen
///   here: `succeeded`) or it will find the id saved here. Without the lock both could miss
///   each other and the refund would count as in flight for ever.
/// - Refused: `failed`, and the error is the caller's.
/// - Unreachable: it stays `requested` — the provider may have taken it — so it still counts
///   as in flight and cannot be asked twice; the reconciler asks again with the same
///   idempotency key, and the refund event settles it either way. The caller sees `requested`.
#[tracing::instrument(
    skip_all,
    fields(tenant.id = %tenant_id, order.id = %order_id, refund.id = %id)
)]
pub(super) async fn record_answer(
    state: &AppState,
    gateway: &Gateway,
    tenant_id: TenantId,
    order_id: OrderId,
    id: RefundId,
    answer: Result<RefundAccepted, GatewayError>,
) -> AppResult<(RefundStatus, bool)> {
    let txn = state.db.begin().await?;
    super::orders::lock(&txn, Some(tenant_id), order_id).await?;
    let current = refunds::Entity::find_by_id(id)
        .filter(refunds::Column::TenantId.eq(tenant_id))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("refund"))?;
    let mut row = refunds::ActiveModel {
        id: Set(id),
        updated_at: Set(now()),
        ..Default::default()
    };
    let mut settled = Vec::new();
    let outcome = match answer {
        Ok(accepted) => {
            settled = accepted.settled;
            if accepted.manual {
                row.manual = Set(true);
            }
            let confirmed = payment_events::Entity::find()
                .filter(payment_events::Column::TenantId.eq(tenant_id))
                .filter(payment_events::Column::RefundId.eq(accepted.provider_refund_id.as_str()))
                .count(&txn)
                .await?
                > 0;
            if confirmed {
                row.status = Set(RefundStatus::Succeeded);
            }
            row.provider_refund_id = Set(Some(accepted.provider_refund_id));
            Ok(())
        }
        // Settled meanwhile by its event: nothing to record.
        Err(_) if current.status == RefundStatus::Succeeded => Ok(()),
        Err(e @ GatewayError::Unavailable(_)) if !gateway.capabilities().idempotent_refunds => {
            // Asking again could return the money twice: the seller finds out in the
            // provider's cabinet whether it was made.
            tracing::warn!(refund.id = %id, error = %crate::error::report(&e), "refund request unanswered; not asked again");
            row.error = Set(Some(format!(
                "{e}; {} cannot be asked again safely: check the refund in its cabinet",
                gateway.id()
            )));
            Ok(())
        }
        Err(e @ GatewayError::Unavailable(_)) => {
            tracing::warn!(refund.id = %id, error = %crate::error::report(&e), "refund request unanswered; will ask again");
            row.error = Set(Some(e.to_string()));
            Ok(())
        }
        Err(e) => {
            row.status = Set(RefundStatus::Failed);
            row.error = Set(Some(e.to_string()));
            Err(AppError::Gateway(e))
        }
    };
    let saved = row.update(&txn).await?;
    txn.commit().await?;
    outcome?;
    // What the answer settled is applied as if the provider had delivered it: the refund
    // request is marked by the pipeline when it records the refund.
    let name = gateway.id().as_str();
    let mut status = saved.status;
    for event in &settled {
        let applied = pipeline::apply(state, Source::Provider(name), event).await?;
        let counted = matches!(
            applied,
            pipeline::Applied::Recorded { .. } | pipeline::Applied::Duplicate
        );
        if counted && event.kind == EventKind::RefundSucceeded {
            status = RefundStatus::Succeeded;
        }
    }
    Ok((status, saved.manual))
}
