//! Server-rendered storefront pages. On the platform's origin a storefront lives under
//! `/s/{tenant}/…`; on its own host (a subdomain of `LYCEUM_BASE_DOMAIN` or a verified custom
//! domain, see `lyceum_web::site`) the same pages are served at the root, and nothing else is.
//!
//! The pages read through the same services and policy checks as the API.

use std::sync::Arc;

use lyceum_tenants::rbac::{Principal, action, resource};
use minijinja::context;
use poem::web::{Data, Path, Query};
use poem::{Request, Response, handler};
use serde::Deserialize;

use crate::context::{Shop, shop_of};
use crate::frame::{DEFAULT_ACCENT, Frame, Section};
use crate::render::{error_page, page};
use crate::{learn, shop, signin};
use lyceum_domain::error::{AppError, AppResult};
use lyceum_domain::ids::OrderId;
use lyceum_domain::services::access;
use lyceum_domain::services::accounts::SessionScope;
use lyceum_domain::services::catalog::public::{self, CatalogQuery};
use lyceum_domain::services::commerce::OrderStatus;
use lyceum_domain::services::commerce::orders;
use lyceum_domain::services::tenancy::tenants::{self, Tenant};
use lyceum_domain::state::AppState;

pages! {
    /// Every page of [`platform_routes`].
    PLATFORM_PAGES;
    /// The pages of the platform's origin: the list of storefronts, each storefront under
    /// `/s/{tenant}`, learning, purchases, signing in and registering, order status.
    platform_routes;
    "/" => get(platform_home),
    "/s/:tenant" => get(catalog_page),
    "/s/:tenant/courses/:course" => get(course_page),
    "/s/:tenant/courses/:course/checkout" => get(shop::checkout_page),
    "/s/:tenant/courses/:course/buy" => post(shop::buy),
    "/s/:tenant/courses/:course/learn" => get(learn::resume),
    "/s/:tenant/lessons/:lesson" => get(learn::lesson_page),
    "/s/:tenant/lessons/:lesson/progress" => post(learn::report_progress),
    "/s/:tenant/lessons/:lesson/done" => post(learn::mark_done),
    "/s/:tenant/lessons/:lesson/quiz" => post(learn::start_quiz),
    "/s/:tenant/quiz-attempts/:attempt" => post(learn::submit_quiz),
    "/learning" => get(learn::mine),
    "/purchases" => get(learn::purchases),
    "/purchases/:order" => get(learn::receipt),
    "/checkout/:order/:outcome" => get(order_status),
    "/login" => get(signin::login_page).post(signin::login_submit),
    "/register" => get(signin::register_page).post(signin::register_submit),
    "/login/handoff" => post(signin::handoff_consent),
    "/invitations/:token" => get(crate::invitation_page::show).post(crate::invitation_page::accept),
    "/seat-invitations/:token" => get(crate::invitation_page::show_seat).post(crate::invitation_page::accept_seat),
    "/certificates/:code" => get(crate::certificate_page::show),
    "/logout" => post(shop::logout),
    "/gateways/:gateway/onboarding/return" => get(crate::gateway_pages::onboarding_return),
    "/gateways/:gateway/onboarding/refresh" => get(crate::gateway_pages::onboarding_refresh),
}

pages! {
    /// Every page of [`storefront_routes`].
    STOREFRONT_PAGES;
    /// The pages of a storefront on its own host.
    storefront_routes;
    "/" => get(catalog_page),
    "/courses/:course" => get(course_page),
    "/courses/:course/checkout" => get(shop::checkout_page),
    "/courses/:course/buy" => post(shop::buy),
    "/courses/:course/learn" => get(learn::resume),
    "/lessons/:lesson" => get(learn::lesson_page),
    "/lessons/:lesson/progress" => post(learn::report_progress),
    "/lessons/:lesson/done" => post(learn::mark_done),
    "/lessons/:lesson/quiz" => post(learn::start_quiz),
    "/quiz-attempts/:attempt" => post(learn::submit_quiz),
    "/login" => get(signin::login_elsewhere),
    "/register" => get(signin::login_elsewhere),
    "/auth/handoff" => get(signin::handoff_redeem),
    "/logout" => post(shop::logout),
}

#[derive(Debug, Deserialize)]
struct StatusQuery {
    t: Option<String>,
}

/// Where a gateway sends the buyer back. It shows the order's status (refreshing while the
/// payment is unconfirmed) and never grants anything: only the gateway's event does. It shows
/// the order only to whoever holds the link's token, or to its buyer.
#[handler]
async fn order_status(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path((order_id, outcome)): Path<(OrderId, String)>,
    Query(query): Query<StatusQuery>,
) -> Response {
    let by_token = match query.t.as_deref() {
        Some(token) => orders::find_by_status_token(state, order_id, token).await,
        None => Ok(None),
    };
    let order = match by_token {
        Ok(Some(order)) => order,
        Ok(None) => match own_order(state, req, order_id).await {
            Ok(Some(order)) => order,
            Ok(None) => return error_page(AppError::NotFound("order")),
            Err(e) => return error_page(e),
        },
        Err(e) => return error_page(e),
    };
    let pending = order.status == OrderStatus::Pending;
    let paid = order.status == OrderStatus::Paid;
    let team = order.team_id.is_some();
    let message = status_message(order.status, outcome == "cancelled", team);
    let tenant = match tenants::find_by_id(state, order.tenant_id).await {
        Ok(tenant) => tenant,
        Err(e) => return error_page(e),
    };
    let tenant_base = storefront_link(state, &tenant);
    // The page is drawn as the storefront's: its name and colour, its address.
    let shop = Shop {
        base: format!("/s/{}", tenant.slug),
        tenant: Arc::new(tenant),
        host: None,
    };
    let frame = Frame::load(state, req, Some(&shop), Section::Purchases).await;
    let items: Vec<_> = order
        .lines
        .iter()
        .map(|l| {
            context! {
                title => &l.course_title,
                quantity => l.quantity,
                href => format!("{tenant_base}/courses/{}", l.course_slug),
                learn => format!("{tenant_base}/courses/{}/learn", l.course_slug),
            }
        })
        .collect();
    page(frame.render(
        "order.html",
        context! {
            title => "Your order",
            status => order.status.as_str(),
            message,
            pending,
            paid,
            team,
            total => order.total.to_string(),
            items,
        },
    ))
}

/// The order, when the platform session's user bought it.
async fn own_order(
    state: &AppState,
    req: &Request,
    order_id: OrderId,
) -> AppResult<Option<orders::Order>> {
    let Some(buyer) = shop::viewer(state, req, SessionScope::Platform).await else {
        return Ok(None);
    };
    let Ok(proof) =
        crate::own_account::<action::Read>(state, &Principal::User(buyer.user.id)).await
    else {
        return Ok(None);
    };
    orders::load_own(&state.db, &proof, order_id).await
}

/// What the status page says of an order in `status`.
fn status_message(status: OrderStatus, cancelled: bool, team: bool) -> &'static str {
    match status {
        OrderStatus::Paid if team => {
            "Payment confirmed. The seats are your team's: give them out in the team console."
        }
        OrderStatus::Pending if cancelled => {
            "The payment was cancelled. You can start again from the course page."
        }
        OrderStatus::Pending => "Waiting for the payment provider to confirm your payment…",
        OrderStatus::Paid => "Payment confirmed. Your course is open.",
        OrderStatus::Failed => "The payment failed. Nothing was charged.",
        OrderStatus::Expired => "This order expired before it was paid.",
        OrderStatus::PartiallyPaid => {
            "Part of the payment arrived; the course opens when it is paid in full."
        }
        OrderStatus::Refunded | OrderStatus::PartiallyRefunded => "This order was refunded.",
        OrderStatus::Disputed => {
            "The payment is disputed; access is suspended until the dispute is settled."
        }
    }
}

/// The storefront's canonical address: its verified domain, or its path on the platform.
fn storefront_link(state: &AppState, tenant: &Tenant) -> String {
    match &tenant.custom_domain {
        Some(domain) => signin::origin_of(state, domain),
        None => format!(
            "{}/s/{}",
            state.settings.public_url.as_str().trim_end_matches('/'),
            tenant.slug
        ),
    }
}

/// The platform's list of storefronts.
#[handler]
async fn platform_home(req: &Request, Data(state): Data<&Arc<AppState>>) -> Response {
    let frame = Frame::load(state, req, None, Section::Catalog).await;
    page(platform_index(state, &frame).await)
}

#[derive(Debug, Default, Deserialize)]
struct SearchQuery {
    q: Option<String>,
    after: Option<String>,
}

#[handler]
async fn catalog_page(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Query(query): Query<SearchQuery>,
) -> Response {
    match shop_of(state, req).await {
        Ok(shop) => {
            let frame = Frame::load(state, req, Some(&shop), Section::Catalog).await;
            page(catalog(state, &frame, &shop, query).await)
        }
        Err(e) => error_page(e),
    }
}

#[handler]
async fn course_page(req: &Request, Data(state): Data<&Arc<AppState>>) -> Response {
    let Some(course) = req.raw_path_param("course") else {
        return error_page(AppError::NotFound("course"));
    };
    match shop_of(state, req).await {
        Ok(shop) => {
            let frame = Frame::load(state, req, Some(&shop), Section::Catalog).await;
            page(course_detail(state, &frame, &shop, course).await)
        }
        Err(e) => error_page(e),
    }
}

async fn platform_index(state: &AppState, frame: &Frame) -> AppResult<String> {
    let active = tenants::list_active(state).await?;
    let items: Vec<_> = active
        .iter()
        .map(|t| context! { slug => t.slug.as_str(), name => &t.name, accent => t.brand_color.as_deref().unwrap_or(DEFAULT_ACCENT) })
        .collect();
    frame.render(
        "platform.html",
        context! { title => "Storefronts", storefronts => items },
    )
}

async fn catalog(
    state: &AppState,
    frame: &Frame,
    shop: &Shop,
    query: SearchQuery,
) -> AppResult<String> {
    let proof = state
        .policy
        .authorize::<resource::Catalog, action::Read>(
            &state.db,
            &Principal::Anonymous,
            shop.tenant.domain(),
        )
        .await?;
    let q = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let page = public::list(
        state,
        &proof,
        &shop.tenant,
        CatalogQuery {
            q: q.map(str::to_owned),
            limit: Some(CATALOG_PAGE),
            cursor: query.after.clone(),
        },
    )
    .await?;
    let courses: Vec<_> = page
        .items
        .iter()
        .map(|c| {
            context! {
                slug => c.slug.as_str(),
                title => &c.title,
                description => excerpt(&c.description, 220),
                price => price_label(c),
            }
        })
        .collect();
    let next = page.next_cursor.as_ref().map(|cursor| {
        let mut next = format!("{}/?after={}", shop.base, crate::shop::urlencode(cursor));
        if let Some(q) = q {
            next.push_str(&format!("&q={}", crate::shop::urlencode(q)));
        }
        next
    });
    frame.render(
        "catalog.html",
        context! {
            title => "Courses",
            tenant => &shop.tenant.name,
            base => &shop.base,
            q,
            courses,
            next,
        },
    )
}

/// Courses on one page of a storefront's catalog.
const CATALOG_PAGE: u64 = 24;

/// "Free", or the price.
fn price_label(course: &lyceum_domain::services::catalog::Course) -> String {
    if course.is_free() {
        "Free".to_owned()
    } else {
        course.price.to_string()
    }
}

/// The first `max` characters of `text`, cut at a word, with an ellipsis when cut.
fn excerpt(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{}…", cut.trim_end_matches([',', '.', ';', ':']))
}

async fn course_detail(
    state: &AppState,
    frame: &Frame,
    shop: &Shop,
    slug: &str,
) -> AppResult<String> {
    let tenant = &shop.tenant;
    let proof = state
        .policy
        .authorize::<resource::Catalog, action::Read>(
            &state.db,
            &Principal::Anonymous,
            tenant.domain(),
        )
        .await?;
    let detail = public::get(state, &proof, tenant, slug).await?;
    let mut lessons_total = 0;
    let mut minutes = 0;
    let sections: Vec<_> = detail
        .sections
        .iter()
        .map(|s| {
            let lessons: Vec<_> = s
                .lessons
                .iter()
                .map(|l| {
                    lessons_total += 1;
                    minutes += l.duration_seconds.unwrap_or(0) / 60;
                    context! {
                        id => l.id.to_string(),
                        title => &l.title,
                        kind => l.kind.as_str(),
                        free_preview => l.free_preview,
                        minutes => l.duration_seconds.map(|d| d.div_ceil(60)),
                    }
                })
                .collect();
            context! { title => &s.title, lessons }
        })
        .collect();
    let course = &detail.course;
    // Whether the viewer may study it, asked as the API's access check asks it: under the
    // viewer's own proof (a visitor's is anonymous, and opens the published free courses).
    let principal = frame
        .viewer
        .as_ref()
        .map_or(Principal::Anonymous, |v| Principal::User(v.user.id));
    let learner = state
        .policy
        .authorize::<resource::Access, action::Read>(&state.db, &principal, tenant.domain())
        .await?;
    let decision = access::decide(state, &learner, course).await?;
    frame.render(
        "course.html",
        context! {
            title => &course.title,
            tenant => &tenant.name,
            course_slug => course.slug.as_str(),
            signed_in => frame.viewer.is_some(),
            owned => decision.access,
            expires_at => decision.expires_at.map(|t| t.format("%-d %B %Y").to_string()),
            free => course.is_free(),
            base => &shop.base,
            description => &course.description,
            price => price_label(course),
            access_days => course.access_days,
            lessons_total,
            minutes,
            sections,
        },
    )
}
