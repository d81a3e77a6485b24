//! Finding orders across storefronts, for the platform's admins: by id, number, buyer's
//! address, storefront or status; an order's history (refund requests, provider events, audit
//! rows); the order audit log; the disputes. Read-only: nothing here writes.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use lyceum_gateway_core::{Currency, EventKind, Money};
use lyceum_tenants::rbac::{Authorized, action, resource};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::OrderStatus;
use crate::entities::payment_events::{EventOutcome, PaymentEventKind};
use crate::entities::{
    order_audit, order_numbers, orders, payment_events, refunds, tenants, users,
};
use crate::error::{AppError, AppResult};
use crate::ids::{OrderId, RefundId, TeamId, TenantId, UserId};
use crate::services::tenancy::tenants::{Tenant, ensure_covers};
use crate::state::AppState;

/// The most rows one search, log page or dispute list holds.
pub const MAX_ROWS: u64 = 200;

/// Every order status, for filters.
pub const ORDER_STATUSES: [OrderStatus; 8] = [
    OrderStatus::Pending,
    OrderStatus::Paid,
    OrderStatus::PartiallyPaid,
    OrderStatus::Failed,
    OrderStatus::Expired,
    OrderStatus::Refunded,
    OrderStatus::PartiallyRefunded,
    OrderStatus::Disputed,
];

/// The status named `name`, if any.
pub fn parse_status(name: &str) -> Option<OrderStatus> {
    ORDER_STATUSES.into_iter().find(|s| s.as_str() == name)
}

/// What to look for. Every part given must match.
#[derive(Debug, Clone, Default)]
pub struct OrderSearch {
    /// An order's id, its number, or its buyer's address (whole, any case).
    pub text: Option<String>,
    /// The storefront's slug.
    pub tenant: Option<String>,
    pub status: Option<OrderStatus>,
    /// 1 to [`MAX_ROWS`]; 50 by default.
    pub limit: Option<u64>,
}

/// An order as a search lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundOrder {
    pub id: OrderId,
    pub tenant_id: TenantId,
    pub tenant_slug: String,
    /// Given to orders paid through providers that know payments by number.
    pub number: Option<i64>,
    pub buyer_id: UserId,
    pub buyer_email: String,
    pub status: OrderStatus,
    pub total: Money,
    pub paid: Money,
    pub refunded: Money,
    pub gateway: Option<String>,
    pub flagged: bool,
    /// The team it bought seats for.
    pub team_id: Option<TeamId>,
    pub created_at: DateTime<Utc>,
}

fn money(row_id: OrderId, currency: &str, amount: i64) -> AppResult<Money> {
    let currency = Currency::parse(currency)
        .map_err(|e| AppError::corrupt_field("order", row_id, "currency", e))?;
    Ok(Money::new(amount, currency)?)
}

async fn slugs(
    conn: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = TenantId>,
) -> AppResult<HashMap<TenantId, String>> {
    let ids: HashSet<TenantId> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(tenants::Entity::find()
        .select_only()
        .column(tenants::Column::Id)
        .column(tenants::Column::Slug)
        .filter(tenants::Column::Id.is_in(ids))
        .into_tuple::<(TenantId, String)>()
        .all(conn)
        .await?
        .into_iter()
        .collect())
}

async fn emails(
    conn: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = UserId>,
) -> AppResult<HashMap<UserId, String>> {
    let ids: HashSet<UserId> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .column(users::Column::Email)
        .filter(users::Column::Id.is_in(ids))
        .into_tuple::<(UserId, String)>()
        .all(conn)
        .await?
        .into_iter()
        .collect())
}

fn limit_of(limit: Option<u64>, default: u64) -> AppResult<u64> {
    crate::services::page_limit(limit, default, MAX_ROWS)
}

/// Orders of every storefront matching `query`, newest first (platform admins). Text that is
/// no id, number or address, or a storefront that does not exist, finds nothing.
pub async fn search(
    state: &AppState,
    _proof: &Authorized<resource::Platform, action::Read>,
    query: &OrderSearch,
) -> AppResult<Vec<FoundOrder>> {
    let db = &state.db;
    let limit = limit_of(query.limit, 50)?;
    let mut select = orders::Entity::find();
    if let Some(text) = query
        .text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        if let Ok(id) = text.parse::<OrderId>() {
            select = select.filter(orders::Column::Id.eq(id));
        } else if let Ok(number) = text.trim_start_matches('#').parse::<i64>() {
            let found = order_numbers::Entity::find_by_id(number).one(db).await?;
            let Some(found) = found else {
                return Ok(Vec::new());
            };
            select = select.filter(orders::Column::Id.eq(found.order_id));
        } else if text.contains('@') {
            let buyer = users::Entity::find()
                .select_only()
                .column(users::Column::Id)
                .filter(users::Column::Email.eq(text.to_lowercase()))
                .into_tuple::<UserId>()
                .one(db)
                .await?;
            let Some(buyer) = buyer else {
                return Ok(Vec::new());
            };
            select = select.filter(orders::Column::BuyerId.eq(buyer));
        } else {
            return Ok(Vec::new());
        }
    }
    if let Some(slug) = query
        .tenant
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let tenant = tenants::Entity::find()
            .select_only()
            .column(tenants::Column::Id)
            .filter(tenants::Column::Slug.eq(slug.to_lowercase()))
            .into_tuple::<TenantId>()
            .one(db)
            .await?;
        let Some(tenant) = tenant else {
            return Ok(Vec::new());
        };
        select = select.filter(orders::Column::TenantId.eq(tenant));
    }
    if let Some(status) = query.status {
        select = select.filter(orders::Column::Status.eq(status));
    }
    let rows = select
        .order_by_desc(orders::Column::CreatedAt)
        .order_by_desc(orders::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    let slugs = slugs(db, rows.iter().map(|r| r.tenant_id)).await?;
    let emails = emails(db, rows.iter().map(|r| r.buyer_id)).await?;
    let numbers: HashMap<OrderId, i64> = if rows.is_empty() {
        HashMap::new()
    } else {
        order_numbers::Entity::find()
            .filter(order_numbers::Column::OrderId.is_in(rows.iter().map(|r| r.id)))
            .all(db)
            .await?
            .into_iter()
            .map(|n| (n.order_id, n.number))
            .collect()
    };
    rows.into_iter()
        .map(|row| {
            Ok(FoundOrder {
                id: row.id,
                tenant_id: row.tenant_id,
                tenant_slug: slugs.get(&row.tenant_id).cloned().unwrap_or_default(),
                number: numbers.get(&row.id).copied(),
                buyer_id: row.buyer_id,
                buyer_email: emails.get(&row.buyer_id).cloned().unwrap_or_default(),
                status: row.status,
                total: money(row.id, &row.currency, row.total_amount)?,
                paid: money(row.id, &row.currency, row.paid_amount)?,
                refunded: money(row.id, &row.currency, row.refunded_amount)?,
                gateway: row.gateway,
                flagged: row.flagged,
                team_id: row.team_id,
                created_at: row.created_at,
            })
        })
        .collect()
}

/// The storefront an order belongs to (platform admins), to ask for a proof inside it.
pub async fn tenant_of(
    state: &AppState,
    _proof: &Authorized<resource::Platform, action::Read>,
    order: OrderId,
) -> AppResult<TenantId> {
    orders::Entity::find_by_id(order)
        .select_only()
        .column(orders::Column::TenantId)
        .into_tuple::<TenantId>()
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("order"))
}

/// A refund asked of an order's gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundLine {
    pub id: RefundId,
    pub amount: Money,
    /// `requested`, `succeeded` or `failed`.
    pub status: &'static str,
    /// Made by the seller in the provider's cabinet.
    pub manual: bool,
    pub error: Option<String>,
    pub requested_by: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A verified provider event recorded for an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventLine {
    pub gateway: String,
    pub provider_event_id: String,
    /// `payment_succeeded`, `refund_succeeded`, `dispute_opened`, …
    pub kind: &'static str,
    pub amount: Money,
    pub provider_payment_id: String,
    pub refund_id: Option<String>,
    pub dispute_id: Option<String>,
    /// Whether it counted (`applied`), or was in another currency (`currency_mismatch`).
    pub counted: bool,
    pub occurred_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
}

/// One change of an order's status (`order_audit`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditLine {
    pub order_id: OrderId,
    pub tenant_slug: String,
    pub from: OrderStatus,
    pub to: OrderStatus,
    /// The provider event that caused it, when one did (`None`: zero-total, expiry).
    pub event_kind: Option<&'static str>,
    pub provider_event_id: Option<String>,
    pub payment_id: Option<String>,
    /// Whether it granted the buyer access.
    pub granted: bool,
    pub event_time: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
}

/// An order's history: what was asked of its gateway, what its provider said, and how its
/// status moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderHistory {
    pub refunds: Vec<RefundLine>,
    pub events: Vec<EventLine>,
    pub audit: Vec<AuditLine>,
}

fn kind_name(kind: PaymentEventKind) -> &'static str {
    EventKind::from(kind).as_str()
}

fn event_money(currency: &str, amount: i64, order: OrderId) -> AppResult<Money> {
    money(order, currency, amount)
}

/// An order's history, oldest first (its storefront's order readers: staff, platform admins).
pub async fn history(
    state: &AppState,
    auth: &Authorized<resource::Order, action::Read>,
    tenant: &Tenant,
    order: OrderId,
) -> AppResult<OrderHistory> {
    ensure_covers(auth, tenant)?;
    let db = &state.db;
    let refund_rows = refunds::Entity::find()
        .filter(refunds::Column::TenantId.eq(tenant.id))
        .filter(refunds::Column::OrderId.eq(order))
        .order_by_asc(refunds::Column::CreatedAt)
        .all(db)
        .await?;
    let asked_by = emails(db, refund_rows.iter().map(|r| r.requested_by)).await?;
    let refunds = refund_rows
        .into_iter()
        .map(|r| {
            Ok(RefundLine {
                id: r.id,
                amount: money(order, &r.currency, r.amount)?,
                status: r.status.as_str(),
                manual: r.manual,
                error: r.error,
                requested_by: asked_by.get(&r.requested_by).cloned(),
                created_at: r.created_at,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    let event_rows = payment_events::Entity::find()
        .filter(payment_events::Column::TenantId.eq(tenant.id))
        .filter(payment_events::Column::OrderId.eq(order))
        .order_by_asc(payment_events::Column::ReceivedAt)
        .order_by_asc(payment_events::Column::Id)
        .all(db)
        .await?;
    let events = event_rows
        .iter()
        .map(|e| {
            Ok(EventLine {
                gateway: e.gateway.clone(),
                provider_event_id: e.provider_event_id.clone(),
                kind: kind_name(e.kind),
                amount: event_money(&e.currency, e.amount, order)?,
                provider_payment_id: e.provider_payment_id.clone(),
                refund_id: e.refund_id.clone(),
                dispute_id: e.dispute_id.clone(),
                counted: e.outcome == EventOutcome::Applied,
                occurred_at: e.occurred_at,
                received_at: e.received_at,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    let audit_rows = order_audit::Entity::find()
        .filter(order_audit::Column::TenantId.eq(tenant.id))
        .filter(order_audit::Column::OrderId.eq(order))
        .order_by_asc(order_audit::Column::ReceivedAt)
        .order_by_asc(order_audit::Column::Id)
        .all(db)
        .await?;
    let audit = audit_lines(db, audit_rows).await?;
    Ok(OrderHistory {
        refunds,
        events,
        audit,
    })
}

async fn audit_lines(
    conn: &impl ConnectionTrait,
    rows: Vec<order_audit::Model>,
) -> AppResult<Vec<AuditLine>> {
    let slugs = slugs(conn, rows.iter().map(|r| r.tenant_id)).await?;
    let event_ids: Vec<_> = rows.iter().filter_map(|r| r.event_id).collect();
    let events: HashMap<_, _> = if event_ids.is_empty() {
        HashMap::new()
    } else {
        payment_events::Entity::find()
            .filter(payment_events::Column::Id.is_in(event_ids))
            .all(conn)
            .await?
            .into_iter()
            .map(|e| (e.id, (kind_name(e.kind), e.provider_event_id)))
            .collect()
    };
    Ok(rows
        .into_iter()
        .map(|r| {
            let event = r.event_id.and_then(|id| events.get(&id));
            AuditLine {
                order_id: r.order_id,
                tenant_slug: slugs.get(&r.tenant_id).cloned().unwrap_or_default(),
                from: r.from_status,
                to: r.to_status,
                event_kind: event.map(|(kind, _)| *kind),
                provider_event_id: event.map(|(_, id)| id.clone()),
                payment_id: r.payment_id,
                granted: r.entitlement_id.is_some(),
                event_time: r.event_time,
                received_at: r.received_at,
            }
        })
        .collect())
}

/// The order audit log of every storefront, newest first (platform admins); `order` keeps
/// one order's rows.
pub async fn audit_log(
    state: &AppState,
    _proof: &Authorized<resource::Platform, action::Read>,
    order: Option<OrderId>,
    limit: Option<u64>,
) -> AppResult<Vec<AuditLine>> {
    let limit = limit_of(limit, 100)?;
    let mut select = order_audit::Entity::find();
    if let Some(order) = order {
        select = select.filter(order_audit::Column::OrderId.eq(order));
    }
    let rows = select
        .order_by_desc(order_audit::Column::ReceivedAt)
        .order_by_desc(order_audit::Column::Id)
        .limit(limit)
        .all(&state.db)
        .await?;
    audit_lines(&state.db, rows).await
}

/// A dispute event, with where its order stands now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisputeLine {
    pub order_id: OrderId,
    pub tenant_slug: String,
    pub gateway: String,
    pub dispute_id: Option<String>,
    /// `dispute_opened`, `dispute_won` or `dispute_lost`.
    pub kind: &'static str,
    pub amount: Money,
    pub order_status: Option<OrderStatus>,
    pub occurred_at: DateTime<Utc>,
}

/// Every storefront's dispute events, newest first (platform admins).
pub async fn disputes(
    state: &AppState,
    _proof: &Authorized<resource::Platform, action::Read>,
    limit: Option<u64>,
) -> AppResult<Vec<DisputeLine>> {
    let limit = limit_of(limit, 100)?;
    let db = &state.db;
    let rows = payment_events::Entity::find()
        .filter(payment_events::Column::Kind.is_in([
            PaymentEventKind::DisputeOpened,
            PaymentEventKind::DisputeWon,
            PaymentEventKind::DisputeLost,
        ]))
        .order_by_desc(payment_events::Column::OccurredAt)
        .order_by_desc(payment_events::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    let slugs = slugs(db, rows.iter().map(|r| r.tenant_id)).await?;
    let statuses: HashMap<OrderId, OrderStatus> = if rows.is_empty() {
        HashMap::new()
    } else {
        orders::Entity::find()
            .select_only()
            .column(orders::Column::Id)
            .column(orders::Column::Status)
            .filter(orders::Column::Id.is_in(rows.iter().map(|r| r.order_id)))
            .into_tuple::<(OrderId, OrderStatus)>()
            .all(db)
            .await?
            .into_iter()
            .collect()
    };
    rows.into_iter()
        .map(|r| {
            Ok(DisputeLine {
                order_id: r.order_id,
                tenant_slug: slugs.get(&r.tenant_id).cloned().unwrap_or_default(),
                gateway: r.gateway,
                dispute_id: r.dispute_id,
                kind: kind_name(r.kind),
                amount: event_money(&r.currency, r.amount, r.order_id)?,
                order_status: statuses.get(&r.order_id).copied(),
                occurred_at: r.occurred_at,
            })
        })
        .collect()
}
