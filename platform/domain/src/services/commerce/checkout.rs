//! Starting a purchase: prices from the catalog, discounts from coupons (a use reserved with
//! the order), one open order per buyer and course, `Idempotency-Key` honoured; zero-total
//! orders are fulfilled on the spot through the same pipeline as paid ones. With a `team_id`
//! a team's manager buys seats (`quantity` per course) for the team: paid, they become the
//! team's seat pools (see [`seats`](crate::services::seats)).

use std::collections::BTreeSet;

use chrono::Duration;
use lyceum_gateway_core::{
    CheckoutLine, CheckoutRequest, EventKind, GatewayEvent, GatewayId, Money, Settlement, Split,
};
use lyceum_tenants::rbac::{Authorized, Domain, Principal, action, resource};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    TransactionTrait,
};
use uuid::Uuid;

use super::coupons::{self, Coupon};
use super::pipeline::{self, Source};
use super::{Order, OrderStatus};
use super::{fee_plans, pricing, redemptions};
use crate::entities::{order_lines, orders};
use crate::error::{AppError, AppResult, is_unique_violation};
use crate::gateways::Gateway;
use crate::ids::{CourseId, OrderId, OrderLineId, TeamId, TenantId, UserId};
use crate::services::accounts::CurrentUser;
use crate::services::catalog::{Course, courses as course_service};
use crate::services::now;
use crate::services::tenancy::tenants::{Tenant, ensure_covers};
use crate::services::{gateway_accounts, ledger, seats};
use crate::state::AppState;

/// The most courses one order may hold.
pub const MAX_ITEMS: usize = 20;

/// One requested course.
#[derive(Debug, Clone)]
pub struct Item {
    pub course: String,
    pub quantity: u32,
}

/// A checkout request, parsed.
#[derive(Debug, Clone, Default)]
pub struct Input {
    pub items: Vec<Item>,
    pub coupon: Option<String>,
    pub gateway: Option<GatewayId>,
    pub team_id: Option<Uuid>,
    pub idempotency_key: Option<String>,
}

/// A started (or resumed) checkout.
#[derive(Debug)]
pub struct Started {
    pub order: Order,
    /// Where to send the buyer: the provider's page, or the order's status page when nothing
    /// is left to pay.
    pub redirect_url: String,
}

/// The buyer's order under an `Idempotency-Key`: this storefront's if there is one, else one at
/// another storefront (which the caller refuses). The database holds a key unique per buyer and
/// storefront (per storefront so that it can be distributed by tenant): two requests racing
/// with one key at two storefronts may both make an order, and each storefront's retries
/// still find their own.
async fn keyed_order(
    db: &impl ConnectionTrait,
    tenant: &Tenant,
    buyer: UserId,
    key: &str,
) -> AppResult<Option<orders::Model>> {
    let keyed = || {
        orders::Entity::find()
            .filter(orders::Column::BuyerId.eq(buyer))
            .filter(orders::Column::IdempotencyKey.eq(key))
    };
    if let Some(own) = keyed()
        .filter(orders::Column::TenantId.eq(tenant.id))
        .one(db)
        .await?
    {
        return Ok(Some(own));
    }
    Ok(keyed().one(db).await?)
}

/// Starts a checkout for `buyer` in `tenant`.
#[tracing::instrument(
    skip_all,
    fields(tenant.id = %tenant.id, user.id = %buyer.id, order.id = tracing::field::Empty)
)]
pub async fn start(
    state: &AppState,
    auth: &Authorized<resource::Checkout, action::Create>,
    tenant: &Tenant,
    buyer: &CurrentUser,
    input: Input,
) -> AppResult<Started> {
    ensure_covers(auth, tenant)?;
    // Asked before anything is resumed: whoever no longer manages the team pays for nothing.
    let team = match input.team_id {
        Some(team) => Some(managed_team(state, buyer, TeamId::from(team)).await?),
        None => None,
    };
    let existing = match &input.idempotency_key {
        Some(key) => keyed_order(&state.db, tenant, buyer.id, key).await?,
        None => None,
    };
    if let Some(existing) = existing {
        if existing.tenant_id != tenant.id {
            return Err(AppError::conflict(
                "this Idempotency-Key was used for another storefront",
            ));
        }
        if existing.team_id.map(TeamId::into_uuid) != input.team_id {
            return Err(AppError::conflict(
                "this Idempotency-Key was used for another team's order (or a personal one)",
            ));
        }
        return resume(state, existing).await;
    }
    let items = resolve_items(state, tenant, &input).await?;
    let courses: Vec<Course> = items.iter().map(|(c, _)| c.clone()).collect();
    if team.is_none() {
        ensure_not_owned(&state.db, tenant, buyer.id, &courses).await?;
    }
    if let Some(open) = open_order(&state.db, buyer.id, team, &items).await? {
        return resume(state, open).await;
    }
    let gateway = pick_gateway(state, tenant, input.gateway).await?;

    // Each line at the catalog's price, seats at the course's volume price for their number.
    let mut lines: Vec<(CourseId, Money)> = Vec::with_capacity(items.len());
    for (course, quantity) in &items {
        let tiers = match team {
            Some(_) => seats::tiers::of_course(&state.db, tenant, course.id).await?,
            None => Vec::new(),
        };
        lines.push((
            course.id,
            seats::tiers::line_total(course.price, *quantity, &tiers)?,
        ));
    }
    let coupon = match &input.coupon {
        // One use of a code must not price a thousand seats: teams get volume prices.
        Some(_) if team.is_some() => {
            return Err(AppError::invalid(
                "coupon",
                "coupons are for personal purchases; seats have the course's volume prices",
            ));
        }
        Some(code) => Some(coupons::usable(&state.db, tenant, code).await?),
        None => None,
    };
    // The plan in force now, read from the database rather than the cached storefront: the
    // order records this version and keeps it, whatever changes later.
    let plan = fee_plans::current(&state.db, tenant.id).await?;
    let terms = match &plan {
        Some(plan) => plan.terms,
        None => fee_plans::default_terms(&state.settings, tenant.currency)?,
    };
    let mut priced = pricing::price(tenant.currency, &lines, coupon.as_ref(), &terms)?;
    if team.is_some() && priced.total.is_zero() {
        // A seat is access for someone: it is paid for, never conjured by a coupon's one use.
        return Err(AppError::invalid(
            "coupon",
            "a team's seats cannot be bought for nothing",
        ));
    }
    // The order stores the fee the provider will collect (Stripe's in tens of fils, say).
    priced.fee = pricing::collectable_fee(priced.fee, gateway.fee_step(tenant.currency));
    let total = priced.total.amount.get();
    let order_id = OrderId::new_v7();
    tracing::Span::current().record("order.id", tracing::field::display(order_id));
    let at = now();
    let expires_at = at + Duration::minutes(i64::from(state.settings.order_ttl_minutes));
    let free = priced.total.is_zero();
    // A storefront whose account cannot take payments is told so before any order exists.
    let account = if free {
        None
    } else {
        Some(gateway_accounts::checkout_account(state, tenant, gateway).await?)
    };

    // The co-instructors' shares the order will be paid out with, whatever changes later.
    let course_ids: Vec<CourseId> = courses.iter().map(|c| c.id).collect();
    let shares = ledger::shares::snapshot(&state.db, tenant, &course_ids).await?;

    let txn = state.db.begin().await?;
    let inserted = orders::ActiveModel {
        id: Set(order_id),
        tenant_id: Set(tenant.id),
        buyer_id: Set(buyer.id),
        status: Set(OrderStatus::Pending),
        currency: Set(tenant.currency.code().to_owned()),
        subtotal_amount: Set(priced.subtotal.amount.get()),
        discount_amount: Set(priced.discount.amount.get()),
        total_amount: Set(total),
        paid_amount: Set(0),
        refunded_amount: Set(0),
        fee_bps: Set(i32::from(terms.bps)),
        fee_amount: Set(Some(priced.fee.amount.get())),
        fee_plan_id: Set(plan.as_ref().map(|p| p.id)),
        fee_fixed_amount: Set(terms.fixed.amount.get()),
        coupon_id: Set(coupon.as_ref().map(|c: &Coupon| c.id)),
        gateway: Set((!free).then(|| gateway.id().as_str().to_owned())),
        session_ref: Set(None),
        checkout_url: Set(None),
        payment_id: Set(None),
        idempotency_key: Set(input.idempotency_key.clone()),
        flagged: Set(false),
        settlement: Set(account
            .as_ref()
            .map_or(Settlement::Platform, |a| gateway.settlement(a))
            .into()),
        hold_days: Set(i32::from(
            tenant
                .payout_hold_days
                .unwrap_or(state.settings.payout_hold_days),
        )),
        seller_id: Set(Some(tenant.owner_id)),
        shared: Set(shares.is_shared()),
        hold_until: Set(None),
        released_at: Set(None),
        ledger_backfill: Set(false),
        team_id: Set(team),
        created_at: Set(at),
        updated_at: Set(at),
        expires_at: Set(expires_at),
    }
    .insert(&txn)
    .await;
    if let Err(e) = inserted {
        return Err(if is_unique_violation(&e) {
            AppError::conflict("this Idempotency-Key is being used by another request")
        } else {
            e.into()
        });
    }
    // The coupon's use is reserved with the order: both commit, or neither does.
    if let Some(coupon) = &coupon {
        redemptions::reserve(&txn, tenant.id, coupon, buyer.id, order_id).await?;
    }
    for ((course, quantity), (_, line_total)) in items.iter().zip(&lines) {
        let line = order_lines::ActiveModel {
            id: Set(OrderLineId::new_v7()),
            tenant_id: Set(tenant.id),
            order_id: Set(order_id),
            course_id: Set(course.id),
            quantity: Set(i32::try_from(*quantity).unwrap_or(i32::MAX)),
            unit_amount: Set(course.price.amount.get()),
            total_amount: Set(line_total.amount.get()),
            pending_key: Set(Some(pending_key(buyer.id, team, course.id))),
        }
        .insert(&txn)
        .await;
        if let Err(e) = line {
            if is_unique_violation(&e) {
                // Another checkout for the same course won the race; resume that one.
                txn.rollback().await?;
                return match open_order(&state.db, buyer.id, team, &items).await? {
                    Some(open) => resume(state, open).await,
                    None => Err(AppError::conflict(
                        "another checkout for this course is in progress",
                    )),
                };
            }
            return Err(e.into());
        }
    }
    shares.write(&txn, tenant, order_id).await?;
    // Again, now that the lines hold the courses: another order's payment that committed
    // since the first check (releasing its courses) is visible here, and one still committing
    // made the line inserts above wait for it. (Seats are bought for others: a manager who
    // can study the course may still buy it for the team.)
    if team.is_none()
        && let Err(owned) = ensure_not_owned(&txn, tenant, buyer.id, &courses).await
    {
        txn.rollback().await?;
        return Err(owned);
    }
    let invoice_number = if free {
        None
    } else {
        Some(super::orders::take_number(&txn, tenant.id, order_id).await?)
    };
    txn.commit().await?;
    tracing::info!(order.id = %order_id, tenant.id = %tenant.id, total, "order created");

    if free {
        // Nothing to pay: fulfilled through the same path as a provider's confirmation.
        pipeline::apply(
            state,
            Source::Platform,
            &local_event(order_id, tenant, EventKind::PaymentSucceeded, "free"),
        )
        .await?;
        let order = super::orders::load_in_tenant(&state.db, tenant.id, order_id).await?;
        return Ok(Started {
            redirect_url: status_url(state, order_id, true),
            order,
        });
    }

    let account = account.unwrap_or_default();
    // The gateway contract knows no typed ids: they become bare uuids here, at its edge.
    let request = CheckoutRequest {
        order_id: order_id.into_uuid(),
        tenant_id: tenant.id.into_uuid(),
        lines: items
            .iter()
            .map(|(c, quantity)| CheckoutLine {
                course_id: c.id.into_uuid(),
                title: c.title.clone(),
                quantity: *quantity,
                unit_price: c.price,
            })
            .collect(),
        total: priced.total,
        buyer_id: buyer.id.into_uuid(),
        buyer_email: buyer.email.clone(),
        success_url: status_url(state, order_id, true),
        cancel_url: status_url(state, order_id, false),
        split: Split {
            platform_fee: priced.fee,
            payee_account: account.provider_account_id.clone(),
        },
        expires_at,
        idempotency_key: order_id.to_string(),
        invoice_number: invoice_number.unwrap_or_default(),
    };
    let session = match gateway.create_checkout(&account, &request).await {
        Ok(session) => session,
        Err(e) => {
            // The cause is logged once, with its chain, where it becomes the 502.
            tracing::warn!(order.id = %order_id, "the payment provider refused the checkout; the order fails");
            pipeline::apply(
                state,
                Source::Platform,
                &local_event(
                    order_id,
                    tenant,
                    EventKind::PaymentFailed,
                    "checkout-failed",
                ),
            )
            .await?;
            return Err(AppError::Gateway(e));
        }
    };
    orders::ActiveModel {
        id: Set(order_id),
        session_ref: Set(Some(session.provider_reference)),
        checkout_url: Set(Some(session.redirect_url.clone())),
        updated_at: Set(now()),
        ..Default::default()
    }
    .update(&state.db)
    .await?;
    Ok(Started {
        order: super::orders::load_in_tenant(&state.db, tenant.id, order_id).await?,
        redirect_url: session.redirect_url,
    })
}

/// The team a checkout buys seats for: one the buyer manages (the casbin check of the team's
/// seats), else a 422 that says no more than that.
async fn managed_team(state: &AppState, buyer: &CurrentUser, team: TeamId) -> AppResult<TeamId> {
    let refused = || AppError::invalid("team_id", "you manage no team with this id");
    let manages = state
        .policy
        .authorize::<resource::Seat, action::Create>(
            &state.db,
            &Principal::User(buyer.id),
            Domain::Team(team),
        )
        .await;
    if manages.is_err() {
        return Err(refused());
    }
    crate::entities::teams::Entity::find_by_id(team)
        .one(&state.db)
        .await?
        .ok_or_else(refused)?;
    Ok(team)
}

/// The courses of a checkout with how many of each: one, or seats (up to
/// [`seats::MAX_SEATS`]) when a team buys them.
async fn resolve_items(
    state: &AppState,
    tenant: &Tenant,
    input: &Input,
) -> AppResult<Vec<(Course, u32)>> {
    if input.items.is_empty() || input.items.len() > MAX_ITEMS {
        return Err(AppError::invalid(
            "items",
            format!("must hold 1 to {MAX_ITEMS} courses"),
        ));
    }
    if input.team_id.is_some() && input.items.len() > 1 {
        // One course per seat order: a refund of it then takes back exactly its seats.
        return Err(AppError::invalid(
            "items",
            "a team's order buys seats of one course; buy each course's seats on its own",
        ));
    }
    let mut seen = BTreeSet::new();
    let mut courses = Vec::new();
    for (i, item) in input.items.iter().enumerate() {
        if item.quantity == 0 {
            return Err(AppError::invalid(
                format!("items[{i}].quantity").as_str(),
                "must be at least 1",
            ));
        }
        let field = format!("items[{i}].quantity");
        if item.quantity > 1 && input.team_id.is_none() {
            return Err(AppError::invalid(
                &field,
                "more than one buys seats for a team: send the team's `team_id`",
            ));
        }
        if item.quantity > seats::MAX_SEATS {
            return Err(AppError::invalid(
                &field,
                format!("at most {} seats per course in one order", seats::MAX_SEATS),
            ));
        }
        if !seen.insert(item.course.clone()) {
            return Err(AppError::invalid(
                "items",
                format!("`{}` is listed twice", item.course),
            ));
        }
        let course = course_service::find(&state.db, tenant, &item.course).await?;
        if !course.published {
            return Err(AppError::NotFound("course"));
        }
        if input.team_id.is_some() && course.is_free() {
            return Err(AppError::invalid(
                format!("items[{i}].course").as_str(),
                "a free course needs no seats: everyone may study it",
            ));
        }
        courses.push((course, item.quantity));
    }
    Ok(courses)
}

/// The gateway of a checkout: the one the buyer picked, if the storefront offers it, else the
/// storefront's first.
async fn pick_gateway<'s>(
    state: &'s AppState,
    tenant: &Tenant,
    wanted: Option<GatewayId>,
) -> AppResult<&'s Gateway> {
    let offered = gateway_accounts::offered(state, tenant).await?;
    let id = match wanted {
        Some(id) if offered.contains(&id) => id,
        Some(id) => {
            return Err(AppError::invalid(
                "gateway",
                format!("this storefront does not take payments through {id}"),
            ));
        }
        None => *offered
            .first()
            .ok_or_else(|| AppError::invalid("gateway", "this storefront takes no payments yet"))?,
    };
    state
        .gateways
        .get(id)
        .ok_or_else(|| AppError::invalid("gateway", format!("the {id} gateway is not enabled")))
}

/// A conflict if the buyer can already study one of `courses`.
async fn ensure_not_owned(
    conn: &impl ConnectionTrait,
    tenant: &Tenant,
    buyer: UserId,
    courses: &[Course],
) -> AppResult<()> {
    for course in courses {
        let key = crate::services::access::AccessKey {
            tenant: tenant.id,
            user: buyer,
            course: course.id,
        };
        // A seat someone else pays for is no reason not to buy the course for oneself.
        if crate::services::access::load_own(conn, key).await?.access {
            return Err(AppError::conflict(format!(
                "you already have access to `{}`",
                course.slug
            )));
        }
    }
    Ok(())
}

/// One open order per buyer and course — and, for seats, per team.
fn pending_key(buyer: UserId, team: Option<TeamId>, course: CourseId) -> String {
    match team {
        None => format!("{buyer}:{course}"),
        // Three ids do not fit the column: their digest does.
        Some(team) => format!(
            "seats:{}",
            crate::services::accounts::sha256_hex(&format!("{buyer}:{course}:{team}"))
        ),
    }
}

/// The buyer's open order for exactly these courses and quantities; a conflict if an open
/// order holds some of them.
async fn open_order(
    conn: &impl ConnectionTrait,
    buyer: UserId,
    team: Option<TeamId>,
    items: &[(Course, u32)],
) -> AppResult<Option<orders::Model>> {
    let keys: Vec<String> = items
        .iter()
        .map(|(c, _)| pending_key(buyer, team, c.id))
        .collect();
    let lines = order_lines::Entity::find()
        .filter(order_lines::Column::PendingKey.is_in(keys))
        .all(conn)
        .await?;
    let order_ids: BTreeSet<OrderId> = lines.iter().map(|l| l.order_id).collect();
    let Some(order_id) = order_ids.first().copied() else {
        return Ok(None);
    };
    let all_lines = order_lines::Entity::find()
        .filter(order_lines::Column::OrderId.eq(order_id))
        .all(conn)
        .await?;
    let same = order_ids.len() == 1
        && all_lines.len() == items.len()
        && all_lines.iter().all(|l| {
            items
                .iter()
                .any(|(c, q)| c.id == l.course_id && i64::from(*q) == i64::from(l.quantity))
        });
    if !same {
        return Err(AppError::conflict(
            "an open order already holds some of these courses; pay or let it expire first",
        ));
    }
    Ok(orders::Entity::find_by_id(order_id).one(conn).await?)
}

async fn resume(state: &AppState, row: orders::Model) -> AppResult<Started> {
    // A declined order's session still takes another card.
    let redirect_url = match &row.checkout_url {
        Some(url) if row.status.awaits_payment() => url.clone(),
        Some(_) | None => status_url(state, row.id, true),
    };
    Ok(Started {
        order: super::orders::assemble(&state.db, row).await?,
        redirect_url,
    })
}

/// The page that shows an order's status after the provider sends the buyer back. It carries
/// a token only this platform can make, so the page shows the order to whoever holds the link
/// (the buyer, back from the provider) and to nobody who merely guesses an order id.
pub fn status_url(state: &AppState, order: OrderId, success: bool) -> String {
    let base = state.settings.public_url.as_str().trim_end_matches('/');
    format!(
        "{base}/checkout/{order}/{}?t={}",
        if success { "complete" } else { "cancelled" },
        status_token(state, order)
    )
}

/// The token of an order's status page.
pub fn status_token(state: &AppState, order: OrderId) -> String {
    crate::services::signing::tag(&state.content_key, "order-status", &order.to_string())
}

/// Whether `token` opens the status page of `order`.
pub fn status_token_valid(state: &AppState, order: OrderId, token: &str) -> bool {
    crate::services::signing::verify(
        &state.content_key,
        "order-status",
        &order.to_string(),
        token,
    )
}

/// An event the platform tells itself (zero-total fulfilment, failed checkout, expiry).
pub fn local_event(
    order_id: OrderId,
    tenant: &Tenant,
    kind: EventKind,
    what: &str,
) -> GatewayEvent {
    local_event_for(order_id, tenant.id, tenant.currency, kind, what)
}

/// [`local_event`] for an order known by its row.
pub fn local_event_for(
    order_id: OrderId,
    tenant_id: TenantId,
    currency: lyceum_gateway_core::Currency,
    kind: EventKind,
    what: &str,
) -> GatewayEvent {
    GatewayEvent {
        provider_event_id: format!("{what}:{order_id}"),
        kind,
        order_id: order_id.into_uuid(),
        tenant_id: Some(tenant_id.into_uuid()),
        session_ref: None,
        provider_payment_id: format!("{what}:{order_id}"),
        refund_id: None,
        dispute_id: None,
        amount: Money::zero(currency),
        occurred_at: now(),
    }
}
