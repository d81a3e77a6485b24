//! The instructor studio, `/studio`: a storefront's staff manage its courses (sections,
//! lessons, uploads and transcodes, previews, drip, quizzes, prices, publishing), coupons,
//! orders and refunds, enrollments, co-instructor shares, gateway connections, balance and
//! payouts, and see its charts. Every page asks casbin through the same services as the API.
//!
//! Each page resolves the storefront by slug (any status, as the API's `in_tenant` does) and
//! asks the policy for exactly the proof the API's operation asks for; a form checks the
//! session's CSRF token before anything else, and answers a success with a redirect (303) to
//! the page it came from. A form the service refuses draws its page again, with why.
//!
//! - [`dashboard`]: the storefronts of the viewer, and each one's numbers and charts;
//! - [`courses`]: courses, their details, publishing, sections and lessons, and their order;
//! - [`lessons`]: one lesson, its upload and transcode, and its quiz;
//! - [`sales`]: coupons, orders and refunds, a course's enrollments and co-instructor shares;
//! - [`books`]: payment gateways, balance and payout schedules, the storefront's settings.

mod books;
mod courses;
mod dashboard;
mod lessons;
mod sales;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use lyceum_gateway_core::{Currency, Money};
use lyceum_tenants::rbac::{Authorized, Domain, Principal, Resource, Verb, action, resource};
use minijinja::{Value, context};
use poem::http::StatusCode;
use poem::web::{Html, Redirect};
use poem::{IntoResponse, Request, Response};
use serde::{Deserialize, Serialize};

use crate::frame::{Frame, Section, signed_in};
use crate::render::{error_page, problem_of};
use crate::shop::{Viewer, form_user};
use lyceum_domain::error::{AppError, AppResult};
use lyceum_domain::ids::UserId;
use lyceum_domain::services::accounts::{CurrentUser, SessionScope};
use lyceum_domain::services::tenancy::tenants::{self, Tenant};
use lyceum_domain::state::AppState;

/// The studio's templates.
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "studio/index.html",
        include_str!("../templates/studio/index.html"),
    ),
    (
        "studio/chrome.html",
        include_str!("../templates/studio/chrome.html"),
    ),
    (
        "studio/dashboard.html",
        include_str!("../templates/studio/dashboard.html"),
    ),
    (
        "studio/courses.html",
        include_str!("../templates/studio/courses.html"),
    ),
    (
        "studio/course.html",
        include_str!("../templates/studio/course.html"),
    ),
    (
        "studio/lesson.html",
        include_str!("../templates/studio/lesson.html"),
    ),
    (
        "studio/asset.html",
        include_str!("../templates/studio/asset.html"),
    ),
    (
        "studio/quiz.html",
        include_str!("../templates/studio/quiz.html"),
    ),
    (
        "studio/enrollments.html",
        include_str!("../templates/studio/enrollments.html"),
    ),
    (
        "studio/shares.html",
        include_str!("../templates/studio/shares.html"),
    ),
    (
        "studio/coupons.html",
        include_str!("../templates/studio/coupons.html"),
    ),
    (
        "studio/orders.html",
        include_str!("../templates/studio/orders.html"),
    ),
    (
        "studio/order.html",
        include_str!("../templates/studio/order.html"),
    ),
    (
        "studio/gateways.html",
        include_str!("../templates/studio/gateways.html"),
    ),
    (
        "studio/balance.html",
        include_str!("../templates/studio/balance.html"),
    ),
    (
        "studio/settings.html",
        include_str!("../templates/studio/settings.html"),
    ),
];

use crate::parts::{day, signed, size, when};

pages! {
    /// Every page of [`routes`].
    PAGES;
    /// The studio's pages, mounted under `/studio`.
    routes;
    "/studio" => get(dashboard::show_index),
    "/studio/:tenant" => get(dashboard::show_dashboard),
    "/studio/:tenant/courses" => get(courses::list_courses).post(courses::create_course),
    "/studio/:tenant/courses/:course" => get(courses::show_course).post(courses::update_course),
    "/studio/:tenant/courses/:course/publish" => post(courses::publish_course),
    "/studio/:tenant/courses/:course/unpublish" => post(courses::unpublish_course),
    "/studio/:tenant/courses/:course/delete" => post(courses::delete_course),
    "/studio/:tenant/courses/:course/sections" => post(courses::add_section),
    "/studio/:tenant/courses/:course/sections/order" => post(courses::reorder_sections),
    "/studio/:tenant/courses/:course/sections/:section" => post(courses::rename_section),
    "/studio/:tenant/courses/:course/sections/:section/delete" => post(courses::delete_section),
    "/studio/:tenant/courses/:course/sections/:section/lessons" => post(courses::add_lesson),
    "/studio/:tenant/courses/:course/sections/:section/lessons/order" => post(courses::reorder_lessons),
    "/studio/:tenant/courses/:course/lessons/:lesson" => get(lessons::show_lesson).post(lessons::update_lesson),
    "/studio/:tenant/courses/:course/lessons/:lesson/delete" => post(lessons::delete_lesson),
    "/studio/:tenant/courses/:course/lessons/:lesson/asset" => get(lessons::show_asset).post(lessons::upload_asset),
    "/studio/:tenant/courses/:course/lessons/:lesson/quiz" => get(lessons::show_quiz).post(lessons::save_quiz),
    "/studio/:tenant/courses/:course/lessons/:lesson/quiz/delete" => post(lessons::delete_quiz),
    "/studio/:tenant/courses/:course/enrollments" => get(sales::list_enrollments),
    "/studio/:tenant/courses/:course/shares" => get(sales::show_shares).post(sales::save_shares),
    "/studio/:tenant/coupons" => get(sales::list_coupons).post(sales::create_coupon),
    "/studio/:tenant/coupons/:coupon/deactivate" => post(sales::deactivate_coupon),
    "/studio/:tenant/orders" => get(sales::list_orders),
    "/studio/:tenant/orders/:order" => get(sales::show_order),
    "/studio/:tenant/orders/:order/refund" => post(sales::refund_order),
    "/studio/:tenant/gateways" => get(books::list_gateways),
    "/studio/:tenant/gateways/:gateway" => post(books::configure_gateway),
    "/studio/:tenant/gateways/:gateway/onboarding" => post(books::start_onboarding),
    "/studio/:tenant/gateways/:gateway/disable" => post(books::disable_gateway),
    "/studio/:tenant/balance" => get(books::show_balance),
    "/studio/:tenant/payees/:user_id/schedule" => post(books::set_schedule),
    "/studio/:tenant/settings" => get(books::show_settings).post(books::save_settings),
}

/// Resolves a storefront by slug (any status: staff work on pending ones too) and asks the
/// policy for `A` on `R` inside it for `user`, as the API's `in_tenant` does.
async fn in_tenant<R: Resource, A: Verb>(
    state: &AppState,
    user: UserId,
    slug: &str,
) -> AppResult<(Arc<Tenant>, Authorized<R, A>)> {
    let tenant = tenants::find_by_slug(state, slug).await?;
    let proof = state
        .policy
        .authorize::<R, A>(&state.db, &Principal::User(user), tenant.domain())
        .await?;
    Ok((tenant, proof))
}

/// What the viewer may do in a storefront: which links and forms a page shows. Read from the
/// same casbin answers the handlers ask for; every handler asks again for its own proof.
#[derive(Debug, Clone, Copy, Default, Serialize)]
struct Can {
    courses: bool,
    create_course: bool,
    edit: bool,
    publish: bool,
    delete: bool,
    coupons: bool,
    create_coupon: bool,
    deactivate_coupon: bool,
    orders: bool,
    refund: bool,
    payees: bool,
    set_payees: bool,
    gateways: bool,
    connect: bool,
    disconnect: bool,
    reports: bool,
    settings: bool,
}

impl Can {
    async fn of(state: &AppState, user: UserId, domain: Domain) -> Self {
        let principal = Principal::User(user);
        let p = &principal;
        Self {
            courses: allowed::<resource::Course, action::Read>(state, p, domain).await,
            create_course: allowed::<resource::Course, action::Create>(state, p, domain).await,
            edit: allowed::<resource::Course, action::Update>(state, p, domain).await,
            publish: allowed::<resource::Course, action::Publish>(state, p, domain).await,
            delete: allowed::<resource::Course, action::Delete>(state, p, domain).await,
            coupons: allowed::<resource::Coupon, action::Read>(state, p, domain).await,
            create_coupon: allowed::<resource::Coupon, action::Create>(state, p, domain).await,
            deactivate_coupon: allowed::<resource::Coupon, action::Update>(state, p, domain).await,
            orders: allowed::<resource::Order, action::Read>(state, p, domain).await,
            refund: allowed::<resource::Refund, action::Create>(state, p, domain).await,
            payees: allowed::<resource::Payee, action::Read>(state, p, domain).await,
            set_payees: allowed::<resource::Payee, action::Update>(state, p, domain).await,
            gateways: allowed::<resource::GatewayAccount, action::Read>(state, p, domain).await,
            connect: allowed::<resource::GatewayAccount, action::Update>(state, p, domain).await,
            disconnect: allowed::<resource::GatewayAccount, action::Delete>(state, p, domain).await,
            reports: allowed::<resource::Balance, action::Read>(state, p, domain).await,
            settings: allowed::<resource::Tenant, action::Update>(state, p, domain).await,
        }
    }
}

/// Whether the policy lets `principal` do `A` on `R` (for showing a link, never as a proof).
async fn allowed<R: Resource, A: Verb>(
    state: &AppState,
    principal: &Principal,
    domain: Domain,
) -> bool {
    state
        .policy
        .authorizer()
        .authorize::<R, A>(principal, domain)
        .await
        .is_ok()
}

/// A storefront as the studio's pages show it, and what the viewer may do there.
struct Studio {
    tenant: Arc<Tenant>,
    can: Can,
}

impl Studio {
    async fn load(state: &AppState, viewer: &Viewer, tenant: Arc<Tenant>) -> Self {
        let can = Can::of(state, viewer.user.id, tenant.domain()).await;
        Self { tenant, can }
    }

    /// `/studio/{slug}`.
    fn base(&self) -> String {
        format!("/studio/{}", self.tenant.slug)
    }

    /// The page's variables under `studio`; `here` marks the storefront's navigation.
    fn value(&self, here: &str) -> Value {
        context! {
            slug => self.tenant.slug.as_str(),
            name => &self.tenant.name,
            base => self.base(),
            status => self.tenant.status.as_str(),
            currency => self.tenant.currency.code(),
            here,
            can => self.can,
        }
    }
}

/// A page's success message, named in its address (`?done=saved`) by the form that sent the
/// browser there; only the names below mean anything, so no address can make a page say
/// something else.
#[derive(Debug, Default, Deserialize)]
struct Done {
    done: Option<String>,
}

/// What a page says above its content: what the last form did, or why it did not.
#[derive(Debug, Default)]
struct Flash {
    notice: Option<&'static str>,
    error: Option<String>,
}

impl Flash {
    fn from_query(query: &Done) -> Self {
        Self {
            notice: query.done.as_deref().and_then(notice),
            error: None,
        }
    }

    fn failed(message: String) -> Self {
        Self {
            notice: None,
            error: Some(message),
        }
    }

    fn value(&self) -> Value {
        context! { notice => self.notice, error => &self.error }
    }
}

fn notice(code: &str) -> Option<&'static str> {
    Some(match code {
        "created" => "Created.",
        "saved" => "Saved.",
        "published" => "Published: the course is in the storefront's catalog.",
        "unpublished" => "Unpublished: the course is out of the catalog; buyers keep their access.",
        "deleted" => "Deleted.",
        "section" => "Section added.",
        "lesson" => "Lesson added.",
        "moved" => "Order saved.",
        "uploaded" => "Uploaded. A video is transcoded in the background.",
        "quiz" => "Quiz saved.",
        "deactivated" => "Coupon deactivated: no new checkout can use it.",
        "refund" => "Refund requested: the order changes when the provider confirms it.",
        "connected" => "Gateway settings saved.",
        "disabled" => "Gateway disabled: buyers no longer see it.",
        "schedule" => "Payout schedule saved.",
        _ => return None,
    })
}

/// Redirects after a form did its work (303).
fn see_other(to: String) -> Response {
    Redirect::see_other(to).into_response()
}

/// The signed-in user of a form, when it carries the session's CSRF token: checked before a
/// form does anything.
async fn poster(state: &AppState, req: &Request, csrf: &str) -> AppResult<CurrentUser> {
    form_user(state, req, csrf, SessionScope::Platform).await
}

/// How a refusal that belongs on the form's page reads, and its status; `None` for errors that
/// get a page of their own (not signed in, not allowed, not found, failures on our side).
fn on_form(err: &AppError) -> Option<(StatusCode, String)> {
    Some(match err {
        AppError::Invalid(_) | AppError::Conflict(_) | AppError::PaymentRequired(_) => {
            let (status, problem) = problem_of(err);
            (status, problem.message)
        }
        AppError::TooLarge { limit } => (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "The file is larger than the {} allowed.",
                size(*limit as u64)
            ),
        ),
        AppError::Gateway(_) | AppError::GatewayDisabled(_) => {
            tracing::warn!(error = %lyceum_domain::error::report(err), "a studio form's gateway call failed");
            (
                StatusCode::BAD_GATEWAY,
                "The payment provider refused or did not answer; nothing was changed. Check \
                 the details and try again in a moment."
                    .to_owned(),
            )
        }
        _ => return None,
    })
}

/// A form's failure: its page again with why (drawn by `again`, given the frame, the viewer and
/// the message), or the error's own page.
async fn refused<F, Fut>(state: &AppState, req: &Request, err: AppError, again: F) -> Response
where
    F: FnOnce(Frame, Viewer, Flash) -> Fut,
    Fut: Future<Output = AppResult<String>>,
{
    let Some((status, message)) = on_form(&err) else {
        return error_page(err);
    };
    let (frame, viewer) = match signed_in(state, req, None, Section::Studio).await {
        Ok(found) => found,
        Err(redirect) => return redirect,
    };
    match again(frame, viewer, Flash::failed(message)).await {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => error_page(e),
    }
}

/// An amount of money as pages show it: `49.00 USD`.
fn money(m: Money) -> String {
    m.to_string()
}

/// A price typed in a form (`49`, `49.90`) in the storefront's currency, as a price: at most
/// the platform's cap, never rounded.
fn parse_price(field: &str, text: &str, currency: Currency) -> AppResult<Money> {
    let text = text.trim();
    let money = Money::parse_decimal(text, currency).map_err(|_| {
        AppError::invalid(
            field,
            format!(
                "`{}` is not an amount in {currency}: digits, and at most {} after the point",
                text.chars().take(40).collect::<String>(),
                currency.exponent()
            ),
        )
    })?;
    lyceum_domain::domain::check_price_cap(field, money)?;
    Ok(money)
}

/// An optional whole number from a form: empty is `None`.
fn parse_count(field: &str, text: Option<&str>) -> AppResult<Option<u32>> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => t
            .parse::<u32>()
            .map(Some)
            .map_err(|_| AppError::invalid(field, "must be a whole number")),
    }
}

/// A date, or a date and time, from a form (`2026-12-01` or `2026-12-01T09:30`), in UTC.
fn parse_time(field: &str, text: Option<&str>) -> AppResult<Option<DateTime<Utc>>> {
    let Some(t) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let at = chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S"))
        .or_else(|_| {
            chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default())
        })
        .map_err(|_| AppError::invalid(field, "must be a date (and time) in UTC"))?;
    Ok(Some(at.and_utc()))
}

/// A checkbox: sent when ticked.
fn ticked(value: Option<&str>) -> bool {
    value.is_some_and(|v| !v.is_empty())
}

/// For a `datetime-local` input's value.
fn input_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_read_exactly() {
        let usd = Currency::parse("USD").unwrap();
        assert_eq!(parse_price("price", "49", usd).unwrap().amount.get(), 4900);
        assert_eq!(
            parse_price("price", " 49.9 ", usd).unwrap().amount.get(),
            4990
        );
        assert!(parse_price("price", "49.999", usd).is_err());
        assert!(parse_price("price", "-1", usd).is_err());
        assert!(parse_price("price", "1,5", usd).is_err());
        assert!(
            parse_price("price", "2000000000", usd).is_err(),
            "over the cap"
        );
    }

    #[test]
    fn form_times_are_utc() {
        let at = parse_time("drip_at", Some("2026-12-01T09:30"))
            .unwrap()
            .unwrap();
        assert_eq!(at.to_rfc3339(), "2026-12-01T09:30:00+00:00");
        assert!(parse_time("drip_at", Some("")).unwrap().is_none());
        assert!(parse_time("drip_at", Some("tomorrow")).is_err());
    }

    #[test]
    fn only_known_notices_show() {
        assert_eq!(
            Flash::from_query(&Done {
                done: Some("saved".into())
            })
            .notice,
            Some("Saved.")
        );
        assert_eq!(
            Flash::from_query(&Done {
                done: Some("<b>hi</b>".into())
            })
            .notice,
            None
        );
    }

    #[test]
    fn negative_balances_keep_their_sign() {
        let usd = Currency::parse("USD").unwrap();
        assert_eq!(signed(-1250, usd), "−12.50 USD");
        assert_eq!(signed(1250, usd), "12.50 USD");
    }
}
