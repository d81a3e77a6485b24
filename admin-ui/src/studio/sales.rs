//! Selling in the studio: coupons (list, create, deactivate), orders (list, one order, refund),
//! a course's enrollments and its co-instructors' shares.
//!
//! The same services and proofs as the API's `create_coupon`, `get_order`, `create_refund`,
//! `list_course_shares` and `set_course_shares`; listing coupons (`coupon, read`), taking one
//! out of use (`coupon, update`), listing orders and a course's learners (`order, read`) have
//! no operation of their own and ask for the proof their reads and writes name.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::Utc;
use lyceum_tenants::rbac::{action, resource};
use minijinja::{Value, context};
use poem::web::{Data, Form, Path, Query};
use poem::{Request, Response, handler};
use serde::{Deserialize, Serialize};

use super::courses::Plain;
use super::{
    Done, Flash, Studio, day, in_tenant, money, parse_count, parse_price, parse_time, poster,
    refused, see_other, signed, when,
};
use crate::frame::{Frame, Section, signed_in};
use crate::render::page;
use crate::shop::Viewer;
use lyceum_domain::domain::{Email, Money};
use lyceum_domain::error::{AppError, AppResult};
use lyceum_domain::ids::{CouponId, OrderId};
use lyceum_domain::services::catalog::{courses, stats};
use lyceum_domain::services::commerce::OrderStatus;
use lyceum_domain::services::commerce::coupons::{self, Coupon, Discount, NewCoupon};
use lyceum_domain::services::commerce::orders;
use lyceum_domain::services::commerce::refunds::{self, Asked};
use lyceum_domain::services::ledger::shares;
use lyceum_domain::state::AppState;

// ---------------------------------------------------------------------------------------------
// Coupons.

/// The storefront's coupons and the form for a new one.
#[handler]
pub(super) async fn list_coupons(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path(slug): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    let (frame, viewer) = match signed_in(state, req, None, Section::Studio).await {
        Ok(found) => found,
        Err(redirect) => return redirect,
    };
    page(
        coupons_page(
            state,
            &frame,
            &viewer,
            &slug,
            &Flash::from_query(&done),
            None,
        )
        .await,
    )
}

async fn coupons_page(
    state: &AppState,
    frame: &Frame,
    viewer: &Viewer,
    slug: &str,
    flash: &Flash,
    draft: Option<&CouponForm>,
) -> AppResult<String> {
    let (tenant, proof) =
        in_tenant::<resource::Coupon, action::Read>(state, viewer.user.id, slug).await?;
    let list = coupons::list(state, &proof, &tenant).await?;
    let studio = Studio::load(state, viewer, tenant.clone()).await;
    // Course titles for the coupons limited to some courses, and the new coupon's choice.
    let catalog = if studio.can.courses {
        let (_, read) =
            in_tenant::<resource::Course, action::Read>(state, viewer.user.id, slug).await?;
        courses::list_all(state, &read, &tenant).await?
    } else {
        Vec::new()
    };
    let titles: HashMap<_, _> = catalog.iter().map(|c| (c.id, c.title.clone())).collect();
    let now = Utc::now();
    let items: Vec<Value> = list.iter().map(|c| coupon_row(c, &titles, now)).collect();
    let chosen: Vec<&str> =
        draft.map_or_else(Vec::new, |d| d.courses.iter().map(String::as_str).collect());
    let course_choices: Vec<Value> = catalog
        .iter()
        .map(|c| context! { slug => c.slug.as_str(), title => &c.title, chosen => chosen.contains(&c.slug.as_str()) })
        .collect();
    frame.render(
        "studio/coupons.html",
        context! {
            title => format!("Coupons · {}", tenant.name),
            studio => studio.value("coupons"),
            flash => flash.value(),
            coupons => items,
            courses => course_choices,
            form => draft,
        },
    )
}

fn coupon_row(
    c: &Coupon,
    titles: &HashMap<lyceum_domain::ids::CourseId, String>,
    now: chrono::DateTime<Utc>,
) -> Value {
    let expired = c.expires_at.is_some_and(|at| at <= now);
    let used_up = c
        .max_redemptions
        .is_some_and(|m| c.redemptions.saturating_add(c.reserved) >= m);
    let status = if expired {
        "expired"
    } else if used_up {
        "used up"
    } else {
        "active"
    };
    context! {
        id => c.id.to_string(),
        code => &c.code,
        discount => match c.discount {
            Discount::Percent(p) => format!("{p}% off"),
            Discount::Amount(m) => format!("{} off", money(m)),
        },
        uses => match c.max_redemptions {
            Some(max) => format!("{} of {max}", c.redemptions),
            None => c.redemptions.to_string(),
        },
        reserved => c.reserved,
        per_buyer => c.max_redemptions_per_buyer,
        expires => c.expires_at.map(when),
        courses => if c.course_ids.is_empty() {
            "Every course".to_owned()
        } else {
            c.course_ids
                .iter()
                .map(|id| titles.get(id).cloned().unwrap_or_else(|| "a removed course".to_owned()))
                .collect::<Vec<_>>()
                .join(", ")
        },
        status,
        active => status == "active",
    }
}

/// The new-coupon form.
#[derive(Debug, Serialize)]
pub(super) struct CouponForm {
    #[serde(skip_serializing)]
    csrf: String,
    code: String,
    /// `percent` or `amount`.
    kind: String,
    value: String,
    max_redemptions: Option<String>,
    max_redemptions_per_buyer: Option<String>,
    expires_at: Option<String>,
    /// Course slugs; none for every course.
    courses: Vec<String>,
}

/// Creates a coupon (`coupon, create`).
#[handler]
pub(super) async fn create_coupon(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path(slug): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let form = CouponForm::from_pairs(fields);
    let result = async {
        let user = poster(state, req, &form.csrf).await?;
        let (tenant, proof) =
            in_tenant::<resource::Coupon, action::Create>(state, user.id, &slug).await?;
        let discount = match form.kind.as_str() {
            "percent" => {
                let p = parse_count("percent_off", Some(&form.value))?
                    .ok_or_else(|| AppError::invalid("percent_off", "how many percent off?"))?;
                Discount::Percent(
                    u8::try_from(p).map_err(|_| {
                        AppError::invalid("percent_off", "must be between 1 and 100")
                    })?,
                )
            }
            "amount" => Discount::Amount(parse_price("amount_off", &form.value, tenant.currency)?),
            _ => return Err(AppError::invalid("kind", "choose percent or amount off")),
        };
        coupons::create(
            state,
            &proof,
            &tenant,
            NewCoupon {
                code: coupons::parse_code(&form.code)?,
                discount,
                max_redemptions: parse_count("max_redemptions", form.max_redemptions.as_deref())?,
                max_redemptions_per_buyer: parse_count(
                    "max_redemptions_per_buyer",
                    form.max_redemptions_per_buyer.as_deref(),
                )?,
                expires_at: parse_time("expires_at", form.expires_at.as_deref())?,
                courses: form.courses.clone(),
            },
        )
        .await
    }
    .await;
    match result {
        Ok(_) => see_other(format!("/studio/{slug}/coupons?done=created")),
        Err(e) => {
            refused(state, req, e, |frame, viewer, flash| async move {
                coupons_page(state, &frame, &viewer, &slug, &flash, Some(&form)).await
            })
            .await
        }
    }
}

impl CouponForm {
    /// The form's fields, `courses` repeated once per ticked course.
    fn from_pairs(fields: Vec<(String, String)>) -> Self {
        let mut form = Self {
            csrf: String::new(),
            code: String::new(),
            kind: String::new(),
            value: String::new(),
            max_redemptions: None,
            max_redemptions_per_buyer: None,
            expires_at: None,
            courses: Vec::new(),
        };
        for (name, value) in fields {
            match name.as_str() {
                "csrf" => form.csrf = value,
                "code" => form.code = value,
                "kind" => form.kind = value,
                "value" => form.value = value,
                "max_redemptions" => form.max_redemptions = Some(value),
                "max_redemptions_per_buyer" => form.max_redemptions_per_buyer = Some(value),
                "expires_at" => form.expires_at = Some(value),
                "courses" if !value.is_empty() => form.courses.push(value),
                _ => {}
            }
        }
        form
    }
}

/// Takes a coupon out of use (`coupon, update`): it expires now.
#[handler]
pub(super) async fn deactivate_coupon(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path((slug, coupon)): Path<(String, String)>,
    Form(form): Form<Plain>,
) -> Response {
    let result = async {
        let user = poster(state, req, &form.csrf).await?;
        let (tenant, proof) =
            in_tenant::<resource::Coupon, action::Update>(state, user.id, &slug).await?;
        let id: CouponId = coupon.parse().map_err(|_| AppError::NotFound("coupon"))?;
        coupons::deactivate(state, &proof, &tenant, id).await
    }
    .await;
    match result {
        Ok(_) => see_other(format!("/studio/{slug}/coupons?done=deactivated")),
        Err(e) => {
            refused(state, req, e, |frame, viewer, flash| async move {
                coupons_page(state, &frame, &viewer, &slug, &flash, None).await
            })
            .await
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Orders.

#[derive(Debug, Default, Deserialize)]
pub(super) struct OrdersQuery {
    status: Option<String>,
}

/// The storefront's orders, newest first, optionally of one status.
#[handler]
pub(super) async fn list_orders(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path(slug): Path<String>,
    Query(query): Query<OrdersQuery>,
) -> Response {
    let (frame, viewer) = match signed_in(state, req, None, Section::Studio).await {
        Ok(found) => found,
        Err(redirect) => return redirect,
    };
    page(orders_page(state, &frame, &viewer, &slug, &query).await)
}

const STATUSES: [OrderStatus; 8] = [
    OrderStatus::Pending,
    OrderStatus::Paid,
    OrderStatus::PartiallyPaid,
    OrderStatus::Failed,
    OrderStatus::Expired,
    OrderStatus::Refunded,
    OrderStatus::PartiallyRefunded,
    OrderStatus::Disputed,
];

async fn orders_page(
    state: &AppState,
    frame: &Frame,
    viewer: &Viewer,
    slug: &str,
    query: &OrdersQuery,
) -> AppResult<String> {
    let (tenant, proof) =
        in_tenant::<resource::Order, action::Read>(state, viewer.user.id, slug).await?;
    let status = query
        .status
        .as_deref()
        .and_then(|s| STATUSES.into_iter().find(|x| x.as_str() == s));
    let list = orders::list_for_tenant(&state.db, &proof, &tenant, status, 100).await?;
    let studio = Studio::load(state, viewer, tenant.clone()).await;
    let rows: Vec<Value> = list
        .iter()
        .map(|(o, buyer)| {
            context! {
                id => o.id.to_string(),
                created => when(o.created_at),
                buyer => &buyer.email,
                courses => o.lines.iter().map(|l| l.course_title.clone()).collect::<Vec<_>>().join(", "),
                total => money(o.total),
                status => o.status.as_str(),
                tone => tone(o.status),
            }
        })
        .collect();
    let filters: Vec<Value> = STATUSES
        .iter()
        .map(|s| context! { name => s.as_str(), current => Some(*s) == status })
        .collect();
    frame.render(
        "studio/orders.html",
        context! {
            title => format!("Orders · {}", tenant.name),
            studio => studio.value("orders"),
            orders => rows,
            filters,
            filtered => status.map(OrderStatus::as_str),
        },
    )
}

/// The badge of an order's status.
fn tone(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Paid => "ok",
        OrderStatus::Pending | OrderStatus::PartiallyPaid | OrderStatus::PartiallyRefunded => {
            "warn"
        }
        OrderStatus::Failed | OrderStatus::Disputed => "bad",
        OrderStatus::Expired | OrderStatus::Refunded => "",
    }
}

/// One order: its lines, payments and refunds, the platform's fee and how the sale divides,
/// and the refund form.
#[handler]
pub(super) async fn show_order(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path((slug, order)): Path<(String, String)>,
    Query(done): Query<Done>,
) -> Response {
    let (frame, viewer) = match signed_in(state, req, None, Section::Studio).await {
        Ok(found) => found,
        Err(redirect) => return redirect,
    };
    page(
        order_page(
            state,
            &frame,
            &viewer,
            &slug,
            &order,
            &Flash::from_query(&done),
        )
        .await,
    )
}

async fn order_page(
    state: &AppState,
    frame: &Frame,
    viewer: &Viewer,
    slug: &str,
    order: &str,
    flash: &Flash,
) -> AppResult<String> {
    // The storefront's order read, as the API's `get_order` asks anyone but the buyer: the
    // same refusal whether the order exists or not.
    let (tenant, proof) =
        in_tenant::<resource::Order, action::Read>(state, viewer.user.id, slug).await?;
    let id: OrderId = order.parse().map_err(|_| AppError::NotFound("order"))?;
    let staff = orders::load(&state.db, &proof, &tenant, id).await?;
    let buyer = orders::buyer(&state.db, &proof, &tenant, &staff.order).await?;
    let studio = Studio::load(state, viewer, tenant.clone()).await;
    let o = &staff.order;
    let currency = o.total.currency;
    let refundable = matches!(
        o.status,
        OrderStatus::Paid | OrderStatus::PartiallyRefunded | OrderStatus::PartiallyPaid
    ) && o.paid.amount.get() > o.refunded.amount.get();
    let rest = Money::new(
        o.paid
            .amount
            .get()
            .saturating_sub(o.refunded.amount.get())
            .max(0),
        currency,
    )?;
    let split = &staff.split;
    frame.render(
        "studio/order.html",
        context! {
            title => format!("Order {} · {}", o.id, tenant.name),
            studio => studio.value("orders"),
            flash => flash.value(),
            order => context! {
                id => o.id.to_string(),
                status => o.status.as_str(),
                tone => tone(o.status),
                created => when(o.created_at),
                buyer_name => &buyer.name,
                buyer_email => &buyer.email,
                gateway => &o.gateway,
                flagged => o.flagged,
                subtotal => money(o.subtotal),
                discount => (!o.discount.is_zero()).then(|| money(o.discount)),
                total => money(o.total),
                paid => money(o.paid),
                refunded => money(o.refunded),
                lines => o.lines.iter().map(|l| context! {
                    title => &l.course_title,
                    quantity => l.quantity,
                    unit => money(l.unit_price),
                    total => money(l.total),
                }).collect::<Vec<_>>(),
                fee => o.fee.amount.map(money),
                fee_terms => format!("{}.{:02}% + {}", o.fee.terms.bps / 100, o.fee.terms.bps % 100, money(o.fee.terms.fixed)),
                fee_plan => staff.fee_plan.as_ref().map(|p| p.version),
            },
            split => context! {
                kept => signed(split.kept, currency),
                fee => signed(split.fee, currency),
                settlement => split.settlement.as_str(),
                hold_until => split.hold_until.map(day),
                released => split.released,
                payees => split.payees.iter().map(|p| context! {
                    name => &p.name,
                    email => &p.email,
                    amount => signed(p.amount, currency),
                    owner => p.owner,
                }).collect::<Vec<_>>(),
            },
            refundable,
            rest => rest.to_decimal_string(),
            rest_label => money(rest),
            currency => currency.code(),
        },
    )
}

/// The refund form: an amount, or nothing for everything still refundable.
#[derive(Debug, Deserialize)]
pub(super) struct RefundForm {
    csrf: String,
    amount: Option<String>,
}

/// Asks the order's gateway for a refund (`refund, create`); the order changes when the
/// gateway confirms it.
#[handler]
pub(super) async fn refund_order(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path((slug, order)): Path<(String, String)>,
    Form(form): Form<RefundForm>,
) -> Response {
    let result = async {
        let user = poster(state, req, &form.csrf).await?;
        let (tenant, proof) =
            in_tenant::<resource::Refund, action::Create>(state, user.id, &slug).await?;
        let id: OrderId = order.parse().map_err(|_| AppError::NotFound("order"))?;
        let asked = match form
            .amount
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
        {
            None => Asked::Rest,
            Some(text) => {
                Asked::Amount(Money::parse_decimal(text, tenant.currency).map_err(|_| {
                    AppError::invalid(
                        "amount",
                        format!("must be an amount in {}, such as 10.00", tenant.currency),
                    )
                })?)
            }
        };
        refunds::request(state, &proof, &tenant, id, asked).await
    }
    .await;
    match result {
        Ok(_) => see_other(format!("/studio/{slug}/orders/{order}?done=refund")),
        Err(e) => {
            refused(state, req, e, |frame, viewer, flash| async move {
                order_page(state, &frame, &viewer, &slug, &order, &flash).await
            })
            .await
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A course's enrollments.

/// Who is enrolled in a course, how far they got (`order, read`: the owner's — learners are
/// people with addresses, like buyers).
#[handler]
pub(super) async fn list_enrollments(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path((slug, course)): Path<(String, String)>,
) -> Response {
    let (frame, viewer) = match signed_in(state, req, None, Section::Studio).await {
        Ok(found) => found,
        Err(redirect) => return redirect,
    };
    page(enrollments_page(state, &frame, &viewer, &slug, &course).await)
}

async fn enrollments_page(
    state: &AppState,
    frame: &Frame,
    viewer: &Viewer,
    slug: &str,
    course: &str,
) -> AppResult<String> {
    let (tenant, proof) =
        in_tenant::<resource::Order, action::Read>(state, viewer.user.id, slug).await?;
    let learners = stats::learners(state, &proof, &tenant, course).await?;
    let (_, read) =
        in_tenant::<resource::Course, action::Read>(state, viewer.user.id, slug).await?;
    let detail = courses::get_for_staff(state, &read, &tenant, course).await?;
    let studio = Studio::load(state, viewer, tenant.clone()).await;
    let completed = learners.iter().filter(|l| l.completed_at.is_some()).count();
    let rows: Vec<Value> = learners
        .iter()
        .map(|l| {
            context! {
                name => &l.name,
                email => &l.email,
                source => l.source,
                status => l.status,
                since => l.since.map(day),
                expires => l.expires_at.map(day),
                percent => l.percent,
                completed => l.completed_at.map(day),
            }
        })
        .collect();
    frame.render(
        "studio/enrollments.html",
        context! {
            title => format!("Enrollments · {}", detail.course.title),
            studio => studio.value("courses"),
            course => context! {
                title => &detail.course.title,
                href => format!("{}/courses/{}", studio.base(), detail.course.slug),
            },
            learners => rows,
            completed,
            limit => stats::MAX_LEARNERS,
        },
    )
}

// ---------------------------------------------------------------------------------------------
// Co-instructors' shares.

/// Who earns from a course besides the owner (`payee, read`), and the form to change it.
#[handler]
pub(super) async fn show_shares(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path((slug, course)): Path<(String, String)>,
    Query(done): Query<Done>,
) -> Response {
    let (frame, viewer) = match signed_in(state, req, None, Section::Studio).await {
        Ok(found) => found,
        Err(redirect) => return redirect,
    };
    let flash = Flash::from_query(&done);
    page(shares_page(state, &frame, &viewer, &slug, &course, &flash, None).await)
}

/// A share row of the form.
#[derive(Debug, Clone, Default, Serialize)]
struct ShareRow {
    email: String,
    percent: String,
}

/// Blank rows below the shares.
const BLANK_SHARES: usize = 3;

async fn shares_page(
    state: &AppState,
    frame: &Frame,
    viewer: &Viewer,
    slug: &str,
    course: &str,
    flash: &Flash,
    draft: Option<Vec<ShareRow>>,
) -> AppResult<String> {
    let (tenant, proof) =
        in_tenant::<resource::Payee, action::Read>(state, viewer.user.id, slug).await?;
    let list = shares::list(state, &proof, &tenant, course).await?;
    let studio = Studio::load(state, viewer, tenant.clone()).await;
    let current: Vec<ShareRow> = list
        .iter()
        .map(|s| ShareRow {
            email: s.email.clone(),
            percent: percent_of(s.bps),
        })
        .collect();
    let mut rows = draft.unwrap_or_else(|| current.clone());
    rows.extend(std::iter::repeat_n(ShareRow::default(), BLANK_SHARES));
    frame.render(
        "studio/shares.html",
        context! {
            title => format!("Co-instructors · {}", tenant.name),
            studio => studio.value("courses"),
            flash => flash.value(),
            course => context! { slug => course, href => format!("{}/courses/{course}", studio.base()) },
            current,
            rows,
        },
    )
}

/// Basis points as a percentage: `2500` → `25`, `3333` → `33.33`.
fn percent_of(bps: u16) -> String {
    match bps % 100 {
        0 => (bps / 100).to_string(),
        rest => format!("{}.{rest:02}", bps / 100),
    }
}

/// A percentage with at most two decimals as basis points.
fn bps_of(field: &str, text: &str) -> AppResult<u16> {
    let bad = || AppError::invalid(field, "must be a percentage such as 25 or 33.33");
    let (whole, fraction) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
    if whole.is_empty()
        || fraction.len() > 2
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let whole: u32 = whole.parse().map_err(|_| bad())?;
    let fraction: u32 = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<2}").parse().map_err(|_| bad())?
    };
    u16::try_from(whole * 100 + fraction).map_err(|_| bad())
}

/// Sets a course's shares (`payee, update`): rows without an address are left out; none at all
/// pays the owner everything.
#[handler]
pub(super) async fn save_shares(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path((slug, course)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let mut csrf = String::new();
    let mut rows: Vec<ShareRow> = Vec::new();
    for (name, value) in fields {
        match name.as_str() {
            "csrf" => csrf = value,
            "email" => rows.push(ShareRow {
                email: value.trim().to_owned(),
                percent: String::new(),
            }),
            "percent" => {
                if let Some(row) = rows.last_mut() {
                    row.percent = value.trim().to_owned();
                }
            }
            _ => {}
        }
    }
    rows.retain(|r| !r.email.is_empty() || !r.percent.is_empty());
    let result = async {
        let user = poster(state, req, &csrf).await?;
        let (tenant, proof) =
            in_tenant::<resource::Payee, action::Update>(state, user.id, &slug).await?;
        let input = rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                Ok((
                    Email::parse(&format!("row {}, e-mail", i + 1), &r.email)?,
                    bps_of(&format!("row {}, share", i + 1), &r.percent)?,
                ))
            })
            .collect::<AppResult<Vec<_>>>()?;
        shares::replace(state, &proof, &tenant, &course, &input).await
    }
    .await;
    match result {
        Ok(_) => see_other(format!("/studio/{slug}/courses/{course}/shares?done=saved")),
        Err(e) => {
            refused(state, req, e, |frame, viewer, flash| async move {
                shares_page(state, &frame, &viewer, &slug, &course, &flash, Some(rows)).await
            })
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_percentages_of_two_decimals() {
        assert_eq!(bps_of("s", "25").unwrap(), 2500);
        assert_eq!(bps_of("s", "33.33").unwrap(), 3333);
        assert_eq!(bps_of("s", "0.5").unwrap(), 50);
        assert!(bps_of("s", "33.333").is_err());
        assert!(bps_of("s", "-1").is_err());
        assert!(bps_of("s", "").is_err());
        for bps in [1, 50, 2500, 3333, 10_000] {
            assert_eq!(bps_of("s", &percent_of(bps)).unwrap(), bps);
        }
    }
}
