//! The platform admin, `/admin`: storefronts (approve, suspend, fee plans), the platform's
//! revenue, order search, refunds and disputes, the webhook log with replay, the audit log,
//! payout runs and the ledger's balance. Every page asks casbin through the same services as
//! the API (`lyceum-http`'s `admin.rs`, `books.rs`, `orders.rs`): the platform itself
//! (`platform` in the platform's domain, which only `platform_admin` holds), an order and its
//! refunds inside the order's storefront, the webhook log as `webhook_log`.

mod orders;
mod payouts;
mod tenants;
mod webhooks;

use std::sync::Arc;

use chrono::{Datelike, Months, TimeDelta, Utc};
use lyceum_gateway_core::Currency;
use lyceum_tenants::TenantStatus;
use lyceum_tenants::rbac::{Authorized, Domain, Principal, Resource, Verb, action, resource};
use minijinja::{Value, context};
use poem::web::Data;
use poem::{Request, Response, handler};

use crate::charts::{Chart, Point, bar_chart, line_chart};
use crate::frame::{Section, signed_in};
use crate::render::page;
use lyceum_domain::error::AppResult;
use lyceum_domain::ids::UserId;
use lyceum_domain::services::commerce::OrderStatus;
use lyceum_domain::services::commerce::lookup::{self, OrderSearch};
use lyceum_domain::services::ledger::payouts::{self as payout_service, PayoutStatus};
use lyceum_domain::services::ledger::reports::{self, Period, RevenueRow};
use lyceum_domain::services::tenancy::tenants as tenant_service;
use lyceum_domain::state::AppState;

/// The templates of these pages.
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "admin/nav.html",
        include_str!("../templates/admin/nav.html"),
    ),
    (
        "admin/index.html",
        include_str!("../templates/admin/index.html"),
    ),
    (
        "admin/tenants.html",
        include_str!("../templates/admin/tenants.html"),
    ),
    (
        "admin/tenant.html",
        include_str!("../templates/admin/tenant.html"),
    ),
    (
        "admin/orders.html",
        include_str!("../templates/admin/orders.html"),
    ),
    (
        "admin/order.html",
        include_str!("../templates/admin/order.html"),
    ),
    (
        "admin/disputes.html",
        include_str!("../templates/admin/disputes.html"),
    ),
    (
        "admin/audit.html",
        include_str!("../templates/admin/audit.html"),
    ),
    (
        "admin/payouts.html",
        include_str!("../templates/admin/payouts.html"),
    ),
    (
        "admin/webhooks.html",
        include_str!("../templates/admin/webhooks.html"),
    ),
    (
        "admin/webhook.html",
        include_str!("../templates/admin/webhook.html"),
    ),
];

use crate::parts::{form_error, param, proof, signed, when};

pages! {
    /// Every page of [`routes`].
    PAGES;
    /// These pages, mounted under `/admin`.
    routes;
    "/admin" => get(index),
    "/admin/tenants" => get(tenants::list),
    "/admin/tenants/:tenant" => get(tenants::show),
    "/admin/tenants/:tenant/approve" => post(tenants::approve),
    "/admin/tenants/:tenant/suspend" => post(tenants::suspend),
    "/admin/tenants/:tenant/fee-plan" => post(tenants::set_fee_plan),
    "/admin/orders" => get(orders::search),
    "/admin/orders/:order" => get(orders::show),
    "/admin/orders/:order/refund" => post(orders::refund),
    "/admin/disputes" => get(orders::disputes),
    "/admin/audit" => get(orders::audit),
    "/admin/payouts" => get(payouts::list),
    "/admin/payouts/run" => post(payouts::run),
    "/admin/payouts/:payout/paid" => post(payouts::paid),
    "/admin/payouts/:payout/failed" => post(payouts::failed),
    "/admin/webhooks" => get(webhooks::list),
    "/admin/webhooks/:delivery" => get(webhooks::show),
    "/admin/webhooks/:delivery/replay" => post(webhooks::replay),
}

/// `A` on the platform itself, for `user`: the platform admins' proof (the API's
/// `admin_proof`).
async fn admin_proof<A: Verb>(
    state: &AppState,
    user: UserId,
) -> AppResult<Authorized<resource::Platform, A>> {
    in_platform(state, user).await
}

/// `A` on `R` in the platform's domain, for `user`.
async fn in_platform<R: Resource, A: Verb>(
    state: &AppState,
    user: UserId,
) -> AppResult<Authorized<R, A>> {
    state
        .policy
        .authorize(&state.db, &Principal::User(user), Domain::Platform)
        .await
}

/// Minor units of `currency` as a number of its major units, for charts.
fn major(minor: i64, currency: &str) -> f64 {
    let exponent = Currency::parse(currency).map_or(2, Currency::exponent);
    // A chart's bar height: precision past 2^53 minor units does not show.
    minor as f64 / 10_f64.powi(i32::try_from(exponent).unwrap_or(2))
}

/// A chart's tick: as few decimals as the value needs.
fn tick(value: f64) -> String {
    let text = format!("{value:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_owned()
    } else {
        text.to_owned()
    }
}

/// Where the layout's admin navigation marks the page.
fn nav(current: &'static str) -> Value {
    Value::from(current)
}

/// `/admin`: counts, the ledger's balance, and the platform's fee income by day and month.
#[handler]
async fn index(req: &Request, Data(state): Data<&Arc<AppState>>) -> Response {
    let (frame, viewer) = match signed_in(state, req, None, Section::Admin).await {
        Ok(found) => found,
        Err(to_sign_in) => return to_sign_in,
    };
    let result = async {
        let proof = admin_proof::<action::Read>(state, viewer.user.id).await?;
        let storefronts = tenant_service::list(state, &proof, None).await?;
        let count = |status| storefronts.iter().filter(|t| t.status == status).count();
        let in_transit =
            payout_service::list(state, &proof, Some(PayoutStatus::InTransit), 500).await?;
        let disputed = lookup::search(
            state,
            &proof,
            &OrderSearch {
                status: Some(OrderStatus::Disputed),
                limit: Some(lookup::MAX_ROWS),
                ..OrderSearch::default()
            },
        )
        .await?;
        let stats = context! {
            active => count(TenantStatus::Active),
            pending => count(TenantStatus::Pending),
            suspended => count(TenantStatus::Suspended),
            in_transit => in_transit.len(),
            disputed => disputed.len(),
        };

        let totals = reports::ledger_totals(state, &proof).await?;
        let ledger: Vec<_> = totals
            .currencies
            .iter()
            .map(|c| {
                let fees: i64 = c
                    .accounts
                    .iter()
                    .filter(|a| a.account.as_str() == "platform_fees")
                    .map(|a| -a.balance)
                    .sum();
                let accounts: Vec<_> = c
                    .accounts
                    .iter()
                    .map(|a| {
                        context! {
                            account => a.account.as_str(),
                            gateway => &a.gateway,
                            balance => signed(a.balance, &c.currency),
                            debits => signed(a.debits, &c.currency),
                            credits => signed(a.credits, &c.currency),
                        }
                    })
                    .collect();
                context! {
                    currency => &c.currency,
                    fees => signed(fees, &c.currency),
                    sum => signed(c.sum, &c.currency),
                    accounts,
                }
            })
            .collect();

        let now = Utc::now();
        let today = now.date_naive();
        let first_day = today - TimeDelta::days(29);
        let days: Vec<String> = first_day
            .iter_days()
            .take_while(|d| *d <= today)
            .map(|d| d.format("%Y-%m-%d").to_string())
            .collect();
        let this_month = today.with_day(1).unwrap_or(today);
        let first_month = this_month
            .checked_sub_months(Months::new(11))
            .unwrap_or(this_month);
        let months: Vec<String> = (0..12)
            .filter_map(|i| first_month.checked_add_months(Months::new(i)))
            .map(|d| d.format("%Y-%m").to_string())
            .collect();
        let start = |d: chrono::NaiveDate| d.and_time(chrono::NaiveTime::MIN).and_utc();
        let daily =
            reports::platform_revenue(state, &proof, Period::Day, start(first_day), now).await?;
        let monthly =
            reports::platform_revenue(state, &proof, Period::Month, start(first_month), now)
                .await?;
        let mut currencies: Vec<String> = daily
            .iter()
            .chain(&monthly)
            .map(|r| r.currency.clone())
            .collect();
        currencies.sort();
        currencies.dedup();
        let charts: Vec<_> = currencies
            .iter()
            .map(|currency| revenue_charts(currency, &days, &daily, &months, &monthly))
            .collect();
        let empty = currencies.is_empty().then(|| {
            Value::from_safe_string(bar_chart(&Chart {
                title: "Platform fee income by day",
                description: "No sales yet.",
                points: &[],
                format_value: &tick,
            }))
        });

        frame.render(
            "admin/index.html",
            context! {
                title => "Platform admin",
                nav => nav("overview"),
                stats,
                balanced => totals.balanced,
                unbalanced => totals.unbalanced_transactions,
                ledger,
                charts,
                empty,
            },
        )
    }
    .await;
    page(result)
}

/// The fee income charts of one currency (by day, by month) and the months as a table.
fn revenue_charts(
    currency: &str,
    days: &[String],
    daily: &[RevenueRow],
    months: &[String],
    monthly: &[RevenueRow],
) -> Value {
    let series = |labels: &[String], rows: &[RevenueRow]| -> Vec<Point> {
        labels
            .iter()
            .map(|label| {
                let fees = rows
                    .iter()
                    .filter(|r| r.currency == currency && &r.period == label)
                    .map(|r| r.fees)
                    .sum();
                Point {
                    label: label.clone(),
                    value: major(fees, currency),
                }
            })
            .collect()
    };
    let by_day = series(days, daily);
    let by_month = series(months, monthly);
    let day_title = format!("Platform fee income by day, {currency}");
    let day_desc = format!(
        "Fees the platform kept on sales in {currency}, net of refunds, over the last {} days.",
        days.len()
    );
    let month_title = format!("Platform fee income by month, {currency}");
    let month_desc = format!(
        "Fees the platform kept on sales in {currency}, net of refunds, over the last {} months.",
        months.len()
    );
    let table: Vec<_> = monthly
        .iter()
        .filter(|r| r.currency == currency)
        .rev()
        .map(|r| {
            context! {
                period => &r.period,
                gross => signed(r.gross, currency),
                refunds => signed(r.refunds, currency),
                fees => signed(r.fees, currency),
                net => signed(r.net, currency),
            }
        })
        .collect();
    context! {
        currency,
        day_title => &day_title,
        by_day => Value::from_safe_string(bar_chart(&Chart {
            title: &day_title,
            description: &day_desc,
            points: &by_day,
            format_value: &tick,
        })),
        month_title => &month_title,
        by_month => Value::from_safe_string(line_chart(&Chart {
            title: &month_title,
            description: &month_desc,
            points: &by_month,
            format_value: &tick,
        })),
        months => table,
    }
}
