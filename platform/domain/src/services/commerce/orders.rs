//! Orders and their lines: the types buyers and staff see, and how rows become them.

use chrono::{DateTime, Utc};
use lyceum_gateway_core::{Currency, Money};
use lyceum_tenants::rbac::{Authorized, action, resource};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use super::OrderStatus;
use super::fee_plans::{self, FeePlan};
use super::pricing::FeeTerms;

use crate::entities::{courses, order_lines, order_numbers, orders, users};
use crate::error::{AppError, AppResult};
use crate::ids::{CourseId, FeePlanId, OrderId, OrderLineId, TeamId, TenantId, UserId};
use crate::services::ledger::reports::{SaleSplit, sale_split};
use crate::services::tenancy::tenants::{Tenant, ensure_covers};
use crate::state::AppState;

/// An order as buyers and staff see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: OrderId,
    pub tenant_id: TenantId,
    pub buyer_id: UserId,
    pub status: OrderStatus,
    pub subtotal: Money,
    pub discount: Money,
    pub total: Money,
    pub paid: Money,
    pub refunded: Money,
    pub gateway: Option<String>,
    pub flagged: bool,
    /// The team the order buys seats for; `None` for a learner's own purchase.
    pub team_id: Option<TeamId>,
    pub lines: Vec<OrderLine>,
    /// The platform's fee; staff see it, buyers do not.
    pub fee: OrderFee,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// The platform's fee on an order: the terms it was priced with and what they came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderFee {
    pub terms: FeeTerms,
    /// The fee by [`super::pricing::platform_fee`]; `None` for orders older than recorded fees.
    pub amount: Option<Money>,
    /// The storefront's fee plan version the order was priced with; `None` when the configured
    /// default applied (and for orders older than fee plans).
    pub plan_id: Option<FeePlanId>,
}

/// An order as its storefront's staff see it: with the fee plan version it was priced with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffOrder {
    pub order: Order,
    pub fee_plan: Option<FeePlan>,
    /// How the sale's money divides, by the ledger's rule.
    pub split: SaleSplit,
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    pub id: OrderLineId,
    pub course_id: CourseId,
    pub course_slug: String,
    pub course_title: String,
    pub quantity: u32,
    pub unit_price: Money,
    pub total: Money,
}

/// Reads an order inside a transaction and, on PostgreSQL, locks its row until commit: the
/// payment pipeline and refund bookkeeping of one order take turns (SQLite's single writer
/// connection already serializes them).
pub(crate) async fn lock(
    txn: &impl ConnectionTrait,
    tenant_id: Option<TenantId>,
    order_id: OrderId,
) -> AppResult<Option<orders::Model>> {
    let mut query = orders::Entity::find_by_id(order_id);
    if let Some(tenant_id) = tenant_id {
        query = query.filter(orders::Column::TenantId.eq(tenant_id));
    }
    if txn.get_database_backend() == DbBackend::Postgres {
        query = query.lock_exclusive();
    }
    Ok(query.one(txn).await?)
}

/// Gives a new order its number (see [`order_numbers`]), inside the transaction that creates
/// the order: the number is the table's auto-increment key, so no checkout waits for another.
pub(super) async fn take_number(
    txn: &impl ConnectionTrait,
    tenant_id: TenantId,
    order_id: OrderId,
) -> AppResult<i64> {
    let row = order_numbers::ActiveModel {
        number: NotSet,
        tenant_id: Set(tenant_id),
        order_id: Set(order_id),
    }
    .insert(txn)
    .await?;
    Ok(row.number)
}

/// The order's number, when it was given one (orders paid through a provider are).
pub(crate) async fn number(
    conn: &impl ConnectionTrait,
    tenant_id: TenantId,
    order_id: OrderId,
) -> AppResult<Option<i64>> {
    Ok(order_numbers::Entity::find()
        .filter(order_numbers::Column::TenantId.eq(tenant_id))
        .filter(order_numbers::Column::OrderId.eq(order_id))
        .one(conn)
        .await?
        .map(|row| row.number))
}

pub(super) fn money(amount: i64, currency: Currency) -> AppResult<Money> {
    Ok(Money::new(amount, currency)?)
}

/// An order of the storefront with its lines and its fee plan version, as its staff see it.
pub async fn load(
    conn: &impl ConnectionTrait,
    auth: &Authorized<resource::Order, action::Read>,
    tenant: &Tenant,
    order_id: OrderId,
) -> AppResult<StaffOrder> {
    ensure_covers(auth, tenant)?;
    let order = load_in_tenant(conn, tenant.id, order_id).await?;
    let fee_plan = match order.fee.plan_id {
        Some(plan_id) => Some(
            fee_plans::find(conn, tenant.id, plan_id)
                .await?
                .ok_or(AppError::Internal("an order's fee plan is missing"))?,
        ),
        None => None,
    };
    let split = sale_split(conn, tenant.id, order_id).await?;
    Ok(StaffOrder {
        order,
        fee_plan,
        split,
    })
}

/// The signed-in buyer's own order, in whichever storefront; `None` when there is no such
/// order or it is someone else's (the caller cannot tell which).
pub async fn load_own(
    conn: &impl ConnectionTrait,
    auth: &Authorized<resource::Account, action::Read>,
    order_id: OrderId,
) -> AppResult<Option<Order>> {
    let Some(buyer) = auth.user_id() else {
        return Ok(None);
    };
    let row = orders::Entity::find_by_id(order_id)
        .filter(orders::Column::BuyerId.eq(buyer))
        .one(conn)
        .await?;
    match row {
        Some(row) => Ok(Some(assemble(conn, row).await?)),
        None => Ok(None),
    }
}

/// Loads an order of a tenant with its lines, for services already holding a proof for it.
pub(super) async fn load_in_tenant(
    conn: &impl ConnectionTrait,
    tenant_id: TenantId,
    order_id: OrderId,
) -> AppResult<Order> {
    let row = orders::Entity::find_by_id(order_id)
        .filter(orders::Column::TenantId.eq(tenant_id))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("order"))?;
    assemble(conn, row).await
}

/// Turns a stored order into the domain value, with its lines.
pub async fn assemble(conn: &impl ConnectionTrait, row: orders::Model) -> AppResult<Order> {
    let currency = Currency::parse(&row.currency)
        .map_err(|e| AppError::corrupt_field("order", row.id, "currency", e))?;
    let lines = order_lines::Entity::find()
        .filter(order_lines::Column::TenantId.eq(row.tenant_id))
        .filter(order_lines::Column::OrderId.eq(row.id))
        .order_by_asc(order_lines::Column::Id)
        .find_also_related(courses::Entity)
        .all(conn)
        .await?;
    let lines = lines
        .into_iter()
        .map(|(line, course)| {
            let course = course.ok_or(AppError::Internal("order line without course"))?;
            Ok(OrderLine {
                id: line.id,
                course_id: line.course_id,
                course_slug: course.slug,
                course_title: course.title,
                quantity: u32::try_from(line.quantity).unwrap_or(1),
                unit_price: money(line.unit_amount, currency)?,
                total: money(line.total_amount, currency)?,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    Ok(Order {
        id: row.id,
        tenant_id: row.tenant_id,
        buyer_id: row.buyer_id,
        status: row.status,
        subtotal: money(row.subtotal_amount, currency)?,
        discount: money(row.discount_amount, currency)?,
        total: money(row.total_amount, currency)?,
        paid: money(row.paid_amount, currency)?,
        refunded: money(row.refunded_amount, currency)?,
        gateway: row.gateway,
        flagged: row.flagged,
        team_id: row.team_id,
        lines,
        fee: OrderFee {
            terms: FeeTerms {
                bps: u16::try_from(row.fee_bps)
                    .map_err(|e| AppError::corrupt_field("order", row.id, "fee_bps", e))?,
                fixed: money(row.fee_fixed_amount, currency)?,
            },
            amount: row.fee_amount.map(|a| money(a, currency)).transpose()?,
            plan_id: row.fee_plan_id,
        },
        created_at: row.created_at,
        expires_at: row.expires_at,
    })
}

/// The signed-in buyer's orders across storefronts, newest first.
pub async fn list_for_buyer(
    conn: &impl ConnectionTrait,
    auth: &Authorized<resource::Account, action::Read>,
) -> AppResult<Vec<Order>> {
    let Some(buyer) = auth.user_id() else {
        return Ok(Vec::new());
    };
    let rows = orders::Entity::find()
        .filter(orders::Column::BuyerId.eq(buyer))
        .order_by_desc(orders::Column::Id)
        .all(conn)
        .await?;
    let mut list = Vec::with_capacity(rows.len());
    for row in rows {
        list.push(assemble(conn, row).await?);
    }
    Ok(list)
}

/// Who bought an order, as the storefront's staff see them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Buyer {
    pub name: String,
    pub email: String,
}

/// The most orders one list of a storefront's orders holds.
pub const MAX_LISTED: u64 = 200;

/// The storefront's orders with their buyers, newest first, optionally of one status; at most
/// `limit` (capped at [`MAX_LISTED`]).
pub async fn list_for_tenant(
    conn: &impl ConnectionTrait,
    auth: &Authorized<resource::Order, action::Read>,
    tenant: &Tenant,
    status: Option<OrderStatus>,
    limit: u64,
) -> AppResult<Vec<(Order, Buyer)>> {
    ensure_covers(auth, tenant)?;
    let mut query = orders::Entity::find()
        .filter(orders::Column::TenantId.eq(tenant.id))
        .order_by_desc(orders::Column::Id)
        .limit(limit.min(MAX_LISTED));
    if let Some(status) = status {
        query = query.filter(orders::Column::Status.eq(status));
    }
    let rows = query.all(conn).await?;
    let buyers = buyers(conn, rows.iter().map(|r| r.buyer_id)).await?;
    let mut list = Vec::with_capacity(rows.len());
    for row in rows {
        let buyer = buyers.get(&row.buyer_id).cloned().unwrap_or_default();
        list.push((assemble(conn, row).await?, buyer));
    }
    Ok(list)
}

/// The buyer of an order of the storefront.
pub async fn buyer(
    conn: &impl ConnectionTrait,
    auth: &Authorized<resource::Order, action::Read>,
    tenant: &Tenant,
    order: &Order,
) -> AppResult<Buyer> {
    ensure_covers(auth, tenant)?;
    if order.tenant_id != tenant.id {
        return Err(AppError::NotFound("order"));
    }
    Ok(buyers(conn, [order.buyer_id])
        .await?
        .remove(&order.buyer_id)
        .unwrap_or_default())
}

async fn buyers(
    conn: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = UserId>,
) -> AppResult<std::collections::HashMap<UserId, Buyer>> {
    Ok(users::Entity::find()
        .filter(users::Column::Id.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|u| {
            (
                u.id,
                Buyer {
                    name: u.name,
                    email: u.email,
                },
            )
        })
        .collect())
}

/// An order by id alone, for the status page the gateway returns the buyer to: the link's
/// signed token is the permission, so `None` unless `token` is the order's.
pub async fn find_by_status_token(
    state: &AppState,
    order_id: OrderId,
    token: &str,
) -> AppResult<Option<Order>> {
    if !super::checkout::status_token_valid(state, order_id, token) {
        return Ok(None);
    }
    let row = orders::Entity::find_by_id(order_id)
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("order"))?;
    Ok(Some(assemble(&state.db, row).await?))
}
