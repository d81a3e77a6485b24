//! Orders across storefronts: search (id, number, buyer's address, storefront, status), one
//! order with its lines, fee, split, refund requests, provider events and audit rows, a refund
//! (as `create_refund`: `refund` `create` in the order's storefront), the disputes, and the
//! order audit log.

use std::sync::Arc;

use lyceum_gateway_core::Money;
use lyceum_tenants::rbac::{action, resource};
use minijinja::context;
use poem::web::{Data, Form, Query, Redirect};
use poem::{IntoResponse, Request, Response, handler};
use serde::Deserialize;

use super::{admin_proof, form_error, nav, param, proof, when};
use crate::frame::{Section, signed_in};
use crate::render::page;
use crate::shop::form_user;
use lyceum_domain::error::{AppError, AppResult};
use lyceum_domain::ids::{OrderId, UserId};
use lyceum_domain::services::accounts::SessionScope;
use lyceum_domain::services::commerce::lookup::{self, AuditLine, FoundOrder, OrderSearch};
use lyceum_domain::services::commerce::{OrderStatus, orders as order_service, refunds};
use lyceum_domain::services::tenancy::tenants::{self, Tenant};
use lyceum_domain::state::AppState;

fn badge(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Paid => "ok",
        OrderStatus::Pending | OrderStatus::PartiallyPaid | OrderStatus::PartiallyRefunded => {
            "warn"
        }
        OrderStatus::Disputed | OrderStatus::Failed => "bad",
        OrderStatus::Expired | OrderStatus::Refunded => "",
    }
}

fn found_row(o: &FoundOrder) -> minijinja::Value {
    context! {
        id => o.id.to_string(),
        number => o.number,
        tenant => &o.tenant_slug,
        buyer => &o.buyer_email,
        status => o.status.as_str(),
        badge => badge(o.status),
        total => o.total.to_string(),
        paid => o.paid.to_string(),
        refunded => o.refunded.to_string(),
        gateway => &o.gateway,
        flagged => o.flagged,
        team => o.team_id.is_some(),
        created => when(o.created_at),
    }
}

fn audit_row(a: &AuditLine) -> minijinja::Value {
    context! {
        order => a.order_id.to_string(),
        tenant => &a.tenant_slug,
        from => a.from.as_str(),
        to => a.to.as_str(),
        event => a.event_kind,
        event_id => &a.provider_event_id,
        payment => &a.payment_id,
        granted => a.granted,
        event_time => when(a.event_time),
        received => when(a.received_at),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct SearchQuery {
    q: String,
    tenant: String,
    status: String,
}

/// `/admin/orders`: search by id, number or buyer's address, storefront and status.
#[handler]
pub(super) async fn search(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Query(query): Query<SearchQuery>,
) -> Response {
    let (frame, viewer) = match signed_in(state, req, None, Section::Admin).await {
        Ok(found) => found,
        Err(to_sign_in) => return to_sign_in,
    };
    let result = async {
        let proof = admin_proof::<action::Read>(state, viewer.user.id).await?;
        let status = match query.status.trim() {
            "" => None,
            name => Some(
                lookup::parse_status(name)
                    .ok_or_else(|| AppError::invalid("status", "not an order status"))?,
            ),
        };
        let found = lookup::search(
            state,
            &proof,
            &OrderSearch {
                text: Some(query.q.clone()),
                tenant: Some(query.tenant.clone()),
                status,
                limit: Some(100),
            },
        )
        .await?;
        let rows: Vec<_> = found.iter().map(found_row).collect();
        let statuses: Vec<_> = lookup::ORDER_STATUSES
            .iter()
            .map(|s| context! { name => s.as_str(), current => Some(*s) == status })
            .collect();
        frame.render(
            "admin/orders.html",
            context! {
                title => "Orders",
                nav => nav("orders"),
                q => &query.q,
                tenant => &query.tenant,
                statuses,
                orders => rows,
            },
        )
    }
    .await;
    page(result)
}

/// The storefront of `order`, for an admin (`None` when the caller is none).
async fn order_tenant(state: &AppState, user: UserId, order: OrderId) -> AppResult<Tenant> {
    let proof = admin_proof::<action::Read>(state, user).await?;
    let tenant = lookup::tenant_of(state, &proof, order).await?;
    tenants::find_by_id(state, tenant).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct DoneQuery {
    done: Option<String>,
}

/// `/admin/orders/:order`: one order, its money, its history, and the refund form.
#[handler]
pub(super) async fn show(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Query(query): Query<DoneQuery>,
) -> Response {
    let (frame, viewer) = match signed_in(state, req, None, Section::Admin).await {
        Ok(found) => found,
        Err(to_sign_in) => return to_sign_in,
    };
    let result = async {
        let order_id: OrderId = param(req, "order", "order")?;
        let user = viewer.user.id;
        let tenant = order_tenant(state, user, order_id).await?;
        // Read as `get_order` reads it for anyone but the buyer: `order` `read` in its
        // storefront.
        let proof =
            proof::<resource::Order, action::Read>(state, user, tenant.domain()).await?;
        let staff = order_service::load(&state.db, &proof, &tenant, order_id).await?;
        let history = lookup::history(state, &proof, &tenant, order_id).await?;
        let listed = {
            let platform = admin_proof::<action::Read>(state, user).await?;
            lookup::search(
                state,
                &platform,
                &OrderSearch {
                    text: Some(order_id.to_string()),
                    ..OrderSearch::default()
                },
            )
            .await?
        };
        let order = &staff.order;
        let lines: Vec<_> = order
            .lines
            .iter()
            .map(|l| {
                context! {
                    course => &l.course_slug,
                    title => &l.course_title,
                    quantity => l.quantity,
                    unit => l.unit_price.to_string(),
                    total => l.total.to_string(),
                }
            })
            .collect();
        let currency = order.total.currency;
        let money = |minor: i64| Money::new(minor, currency).map(|m| m.to_string()).ok();
        let split = &staff.split;
        let payees: Vec<_> = split
            .payees
            .iter()
            .map(|p| {
                context! {
                    name => &p.name,
                    email => &p.email,
                    amount => money(p.amount),
                    owner => p.owner,
                }
            })
            .collect();
        let refunds: Vec<_> = history
            .refunds
            .iter()
            .map(|r| {
                context! {
                    amount => r.amount.to_string(),
                    status => r.status,
                    manual => r.manual,
                    error => &r.error,
                    by => &r.requested_by,
                    at => when(r.created_at),
                }
            })
            .collect();
        let events: Vec<_> = history
            .events
            .iter()
            .map(|e| {
                context! {
                    kind => e.kind,
                    dispute => e.kind.starts_with("dispute_"),
                    gateway => &e.gateway,
                    event_id => &e.provider_event_id,
                    amount => e.amount.to_string(),
                    payment => &e.provider_payment_id,
                    refund_id => &e.refund_id,
                    dispute_id => &e.dispute_id,
                    counted => e.counted,
                    occurred => when(e.occurred_at),
                    received => when(e.received_at),
                }
            })
            .collect();
        let trail: Vec<_> = history.audit.iter().map(audit_row).collect();
        let refundable = matches!(
            order.status,
            OrderStatus::Paid | OrderStatus::PartiallyRefunded | OrderStatus::PartiallyPaid
        );
        let seats: u32 = order.lines.iter().map(|l| l.quantity).sum();
        frame.render(
            "admin/order.html",
            context! {
                title => format!("Order {order_id}"),
                nav => nav("orders"),
                id => order_id.to_string(),
                found => listed.first().map(found_row),
                tenant => tenant.slug.as_str(),
                tenant_name => &tenant.name,
                status => order.status.as_str(),
                badge => badge(order.status),
                flagged => order.flagged,
                subtotal => order.subtotal.to_string(),
                discount => order.discount.to_string(),
                total => order.total.to_string(),
                paid => order.paid.to_string(),
                refunded => order.refunded.to_string(),
                gateway => &order.gateway,
                created => when(order.created_at),
                expires => when(order.expires_at),
                fee => order.fee.amount.map(|m| m.to_string()),
                fee_bps => order.fee.terms.bps,
                fee_fixed => order.fee.terms.fixed.to_string(),
                kept => money(split.kept),
                split_fee => money(split.fee),
                hold_until => split.hold_until.map(when),
                released => split.released,
                payees,
                lines,
                refunds,
                events,
                audit => trail,
                refundable,
                team => seats > 1,
                currency => currency.code(),
                notice => (query.done.as_deref() == Some("refund")).then_some(
                    "The refund was asked of the gateway. The order changes when the gateway confirms it.",
                ),
            },
        )
    }
    .await;
    page(result)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct RefundForm {
    csrf: String,
    /// A decimal amount in the order's currency; empty refunds everything still refundable.
    amount: String,
    /// For a team's order: seats to refund.
    seats: String,
}

/// Refunds an order, in full or in part (`create_refund`).
#[handler]
pub(super) async fn refund(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Form(form): Form<RefundForm>,
) -> Response {
    if let Err(to_sign_in) = signed_in(state, req, None, Section::Admin).await {
        return to_sign_in;
    }
    let back = format!(
        "/admin/orders/{}",
        req.raw_path_param("order").unwrap_or_default()
    );
    let result = async {
        let user = form_user(state, req, &form.csrf, SessionScope::Platform).await?;
        let order_id: OrderId = param(req, "order", "order")?;
        let tenant = order_tenant(state, user.id, order_id).await?;
        let proof =
            proof::<resource::Refund, action::Create>(state, user.id, tenant.domain()).await?;
        let asked = match (form.amount.trim(), form.seats.trim()) {
            ("", "") => refunds::Asked::Rest,
            (amount, "") => refunds::Asked::Amount(
                Money::parse_decimal(amount, tenant.currency)
                    .map_err(|e| AppError::invalid("amount", e))?,
            ),
            ("", seats) => refunds::Asked::Seats(
                seats
                    .parse()
                    .map_err(|_| AppError::invalid("seats", "a whole number of seats"))?,
            ),
            _ => {
                return Err(AppError::invalid(
                    "seats",
                    "give an amount or a number of seats, not both",
                ));
            }
        };
        refunds::request(state, &proof, &tenant, order_id, asked).await
    }
    .await;
    match result {
        Ok(_) => Redirect::see_other(format!("{back}?done=refund")).into_response(),
        Err(e) => form_error(e, &back),
    }
}

/// `/admin/disputes`: every storefront's dispute events, newest first.
#[handler]
pub(super) async fn disputes(req: &Request, Data(state): Data<&Arc<AppState>>) -> Response {
    let (frame, viewer) = match signed_in(state, req, None, Section::Admin).await {
        Ok(found) => found,
        Err(to_sign_in) => return to_sign_in,
    };
    let result = async {
        let proof = admin_proof::<action::Read>(state, viewer.user.id).await?;
        let lines = lookup::disputes(state, &proof, None).await?;
        let open = lookup::search(
            state,
            &proof,
            &OrderSearch {
                status: Some(OrderStatus::Disputed),
                limit: Some(lookup::MAX_ROWS),
                ..OrderSearch::default()
            },
        )
        .await?;
        let rows: Vec<_> = lines
            .iter()
            .map(|d| {
                context! {
                    order => d.order_id.to_string(),
                    tenant => &d.tenant_slug,
                    gateway => &d.gateway,
                    dispute => &d.dispute_id,
                    kind => d.kind,
                    amount => d.amount.to_string(),
                    order_status => d.order_status.map(OrderStatus::as_str),
                    at => when(d.occurred_at),
                }
            })
            .collect();
        frame.render(
            "admin/disputes.html",
            context! {
                title => "Disputes",
                nav => nav("disputes"),
                open => open.iter().map(found_row).collect::<Vec<_>>(),
                disputes => rows,
            },
        )
    }
    .await;
    page(result)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct AuditQuery {
    order: String,
}

/// `/admin/audit`: the order audit log — every status change of every order, newest first;
/// `?order=` keeps one order's.
#[handler]
pub(super) async fn audit(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Query(query): Query<AuditQuery>,
) -> Response {
    let (frame, viewer) = match signed_in(state, req, None, Section::Admin).await {
        Ok(found) => found,
        Err(to_sign_in) => return to_sign_in,
    };
    let result = async {
        let proof = admin_proof::<action::Read>(state, viewer.user.id).await?;
        let order = match query.order.trim() {
            "" => None,
            text => Some(
                text.parse::<OrderId>()
                    .map_err(|_| AppError::invalid("order", "an order's id"))?,
            ),
        };
        let lines = lookup::audit_log(state, &proof, order, Some(lookup::MAX_ROWS)).await?;
        frame.render(
            "admin/audit.html",
            context! {
                title => "Audit log",
                nav => nav("audit"),
                order => &query.order,
                lines => lines.iter().map(audit_row).collect::<Vec<_>>(),
            },
        )
    }
    .await;
    page(result)
}
