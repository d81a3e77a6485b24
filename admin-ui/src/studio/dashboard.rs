//! The studio's front pages: the storefronts the viewer works on, and one storefront's
//! dashboard — this month's numbers and charts drawn on the server.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use lyceum_gateway_core::Currency;
use lyceum_tenants::rbac::{Domain, Principal, Role, action, resource};
use minijinja::{Value, context};
use poem::web::{Data, Path};
use poem::{Request, Response, handler};

use super::{Studio, in_tenant, money, signed};
use crate::charts::{Chart, Point, bar_chart, line_chart};
use crate::frame::{Frame, Section, signed_in};
use crate::render::page;
use crate::shop::Viewer;
use lyceum_domain::error::{AppError, AppResult};
use lyceum_domain::services::accounts;
use lyceum_domain::services::catalog::{courses, stats};
use lyceum_domain::services::ledger::reports::{self, Period, RevenueRow};
use lyceum_domain::services::tenancy::tenants::{self, Tenant};
use lyceum_domain::state::AppState;

/// Days the daily charts cover.
const DAYS: i64 = 30;
/// Months the monthly chart covers.
const MONTHS: u32 = 12;

/// The storefronts the viewer is staff of, from their grants (the ones casbin checks).
#[handler]
pub(super) async fn show_index(req: &Request, Data(state): Data<&Arc<AppState>>) -> Response {
    let (frame, viewer) = match signed_in(state, req, None, Section::Studio).await {
        Ok(found) => found,
        Err(redirect) => return redirect,
    };
    page(storefronts(state, &frame, &viewer).await)
}

async fn storefronts(state: &AppState, frame: &Frame, viewer: &Viewer) -> AppResult<String> {
    let principal = Principal::User(viewer.user.id);
    let proof = crate::own_account::<action::Read>(state, &principal).await?;
    let grants = accounts::roles_of(state, &proof).await?;
    let slugs = accounts::tenant_slugs(state, &grants).await?;
    // One row per storefront, with every staff role held there.
    let mut rows: BTreeMap<String, Vec<&'static str>> = BTreeMap::new();
    for grant in &grants {
        let (Domain::Tenant(id), Role::Owner | Role::Editor | Role::Grader) =
            (grant.domain, grant.role)
        else {
            continue;
        };
        if let Some(slug) = slugs.get(&id) {
            rows.entry(slug.clone())
                .or_default()
                .push(grant.role.as_str());
        }
    }
    let mut list = Vec::with_capacity(rows.len());
    for (slug, roles) in rows {
        let tenant = match tenants::find_by_slug(state, &slug).await {
            Ok(tenant) => tenant,
            // A grant naming a storefront that is gone shows nothing.
            Err(AppError::NotFound(_)) => continue,
            Err(e) => return Err(e),
        };
        list.push(context! {
            slug,
            name => &tenant.name,
            status => tenant.status.as_str(),
            roles => roles.join(", "),
        });
    }
    frame.render(
        "studio/index.html",
        context! { title => "Studio", storefronts => list },
    )
}

/// A storefront's dashboard: for every member of its staff its courses; for whoever may read
/// its reports (the owner), this month's numbers and the charts.
#[handler]
pub(super) async fn show_dashboard(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path(slug): Path<String>,
) -> Response {
    let (frame, viewer) = match signed_in(state, req, None, Section::Studio).await {
        Ok(found) => found,
        Err(redirect) => return redirect,
    };
    page(overview(state, &frame, &viewer, &slug).await)
}

async fn overview(
    state: &AppState,
    frame: &Frame,
    viewer: &Viewer,
    slug: &str,
) -> AppResult<String> {
    // Any of the storefront's staff: `tenant, read`, as the API's storefront read asks.
    let (tenant, _) =
        in_tenant::<resource::Tenant, action::Read>(state, viewer.user.id, slug).await?;
    let studio = Studio::load(state, viewer, tenant.clone()).await;
    let catalog = if studio.can.courses {
        let (_, proof) =
            in_tenant::<resource::Course, action::Read>(state, viewer.user.id, slug).await?;
        let list = courses::list_all(state, &proof, &tenant).await?;
        let published = list.iter().filter(|c| c.published).count();
        Some(context! { published, drafts => list.len() - published })
    } else {
        None
    };
    let report = if studio.can.reports {
        Some(report(state, viewer, &tenant).await?)
    } else {
        None
    };
    frame.render(
        "studio/dashboard.html",
        context! {
            title => format!("{} · Studio", tenant.name),
            studio => studio.value("dashboard"),
            catalog,
            report,
        },
    )
}

/// The owner's numbers and charts, from the ledger's revenue report and the catalog's stats,
/// under the revenue report's proof.
async fn report(state: &AppState, viewer: &Viewer, tenant: &Tenant) -> AppResult<Value> {
    let (_, proof) =
        in_tenant::<resource::Balance, action::Read>(state, viewer.user.id, tenant.slug.as_str())
            .await?;
    let now = Utc::now();
    let today = now.date_naive();
    let first_day = today - Duration::days(DAYS - 1);
    let from_day = midnight(first_day);
    let month_start = month_of(today, 0);
    let first_month = month_of(today, MONTHS - 1);
    let currency = tenant.currency;

    let by_day = revenue_of(
        reports::tenant_revenue(state, &proof, tenant, Period::Day, from_day, now).await?,
        currency,
    );
    let by_month = revenue_of(
        reports::tenant_revenue(
            state,
            &proof,
            tenant,
            Period::Month,
            midnight(first_month),
            now,
        )
        .await?,
        currency,
    );
    let this_month = by_month
        .get(&month_start.format("%Y-%m").to_string())
        .copied()
        .unwrap_or_default();
    let orders = stats::paid_orders(state, &proof, tenant, midnight(month_start), now).await?;
    let enrolled = stats::enrollments_by_day(state, &proof, tenant, from_day, now).await?;
    let completion = stats::completion(state, &proof, tenant).await?;
    let scores = stats::quiz_scores(state, &proof, tenant).await?;

    let days: Vec<NaiveDate> = (0..DAYS).map(|i| first_day + Duration::days(i)).collect();
    let day_label = |d: &NaiveDate| d.format("%b %-d").to_string();
    let unit = 10_f64.powi(i32::try_from(currency.exponent()).unwrap_or(2));
    let sales_by_day: Vec<Point> = days
        .iter()
        .map(|d| Point {
            label: day_label(d),
            value: by_day
                .get(&d.format("%Y-%m-%d").to_string())
                .map_or(0.0, |r| r.gross as f64 / unit),
        })
        .collect();
    let sales_by_month: Vec<Point> = (0..MONTHS)
        .rev()
        .map(|back| month_of(today, back))
        .map(|m| Point {
            label: m.format("%b %Y").to_string(),
            value: by_month
                .get(&m.format("%Y-%m").to_string())
                .map_or(0.0, |r| r.gross as f64 / unit),
        })
        .collect();
    let enrollments_by_day: Vec<Point> = days
        .iter()
        .map(|d| Point {
            label: day_label(d),
            value: enrolled.get(d).copied().unwrap_or_default() as f64,
        })
        .collect();
    let completion_by_course: Vec<Point> = completion
        .iter()
        .filter_map(|c| {
            Some(Point {
                label: c.title.clone(),
                value: f64::from(c.rate()?),
            })
        })
        .collect();
    let (learners, completed) = completion
        .iter()
        .fold((0, 0), |(l, c), row| (l + row.learners, c + row.completed));
    let mut buckets = [0_u64; 10];
    for (score, attempts) in &scores {
        buckets[usize::from((*score).min(99) / 10)] += attempts;
    }
    let score_points: Vec<Point> = buckets
        .iter()
        .enumerate()
        .map(|(i, n)| Point {
            label: if i == 9 {
                "90–100".to_owned()
            } else {
                format!("{}–{}", i * 10, i * 10 + 9)
            },
            value: *n as f64,
        })
        .collect();

    let code = currency.code();
    let amount = |v: f64| {
        if v.fract().abs() < 1e-9 {
            format!("{v:.0}")
        } else {
            format!("{v:.2}")
        }
    };
    let count = |v: f64| format!("{v:.0}");
    let percent = |v: f64| format!("{v:.0}%");
    let charts = vec![
        chart(
            bar_chart(&Chart {
                title: &format!("Sales by day, last {DAYS} days ({code})"),
                description: "Payments captured each day (UTC), before refunds and fees.",
                points: &sales_by_day,
                format_value: &amount,
            }),
            format!("Sales by day ({code})"),
        ),
        chart(
            bar_chart(&Chart {
                title: &format!("Sales by month, last {MONTHS} months ({code})"),
                description: "Payments captured each month (UTC), before refunds and fees.",
                points: &sales_by_month,
                format_value: &amount,
            }),
            format!("Sales by month ({code})"),
        ),
        chart(
            line_chart(&Chart {
                title: &format!("Enrollments by day, last {DAYS} days"),
                description: "Access given each day: purchases, seats and grants.",
                points: &enrollments_by_day,
                format_value: &count,
            }),
            "Enrollments by day".to_owned(),
        ),
        chart(
            bar_chart(&Chart {
                title: "Completion rate by course",
                description: "Of the learners who started a course, the share who completed it.",
                points: &completion_by_course,
                format_value: &percent,
            }),
            "Completion rate by course".to_owned(),
        ),
        chart(
            bar_chart(&Chart {
                title: "Quiz scores",
                description: "Submitted quiz attempts by score, in steps of ten percent.",
                points: &score_points,
                format_value: &count,
            }),
            "Quiz score distribution".to_owned(),
        ),
    ];
    Ok(context! {
        month => now.format("%B %Y").to_string(),
        gross => signed(this_month.gross, currency),
        net => signed(this_month.net, currency),
        refunds => signed(this_month.refunds, currency),
        orders,
        enrollments => enrolled.values().sum::<u64>(),
        days => DAYS,
        completion => (learners > 0).then(|| format!("{}%", completed.min(learners) * 100 / learners)),
        learners,
        completed,
        charts,
        zero => money(lyceum_gateway_core::Money::zero(currency)),
    })
}

/// A chart for the page: its caption and its markup (escaped by [`crate::charts`]).
fn chart(svg: String, caption: String) -> Value {
    context! { caption, svg => Value::from_safe_string(svg) }
}

/// The report's rows of the storefront's currency, by period.
fn revenue_of(rows: Vec<RevenueRow>, currency: Currency) -> BTreeMap<String, Totals> {
    rows.into_iter()
        .filter(|r| r.currency == currency.code())
        .map(|r| {
            (
                r.period,
                Totals {
                    gross: r.gross,
                    refunds: r.refunds,
                    net: r.net,
                },
            )
        })
        .collect()
}

/// One period's revenue, in minor units.
#[derive(Debug, Clone, Copy, Default)]
struct Totals {
    gross: i64,
    refunds: i64,
    net: i64,
}

/// The first day of the month `back` months before the one `day` is in.
fn month_of(day: NaiveDate, back: u32) -> NaiveDate {
    let months = day.year() * 12 + i32::try_from(day.month0()).unwrap_or(0)
        - i32::try_from(back).unwrap_or(0);
    NaiveDate::from_ymd_opt(
        months.div_euclid(12),
        u32::try_from(months.rem_euclid(12)).unwrap_or(0) + 1,
        1,
    )
    .unwrap_or(day)
}

/// The start of a day, UTC.
fn midnight(day: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_go_back_across_years() {
        let d = NaiveDate::from_ymd_opt(2026, 2, 17).unwrap();
        assert_eq!(month_of(d, 0), NaiveDate::from_ymd_opt(2026, 2, 1).unwrap());
        assert_eq!(
            month_of(d, 2),
            NaiveDate::from_ymd_opt(2025, 12, 1).unwrap()
        );
        assert_eq!(
            month_of(d, 11),
            NaiveDate::from_ymd_opt(2025, 3, 1).unwrap()
        );
    }
}
