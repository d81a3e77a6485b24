//! Server-rendered storefront pages. On the platform's origin a storefront lives under
//! `/s/{tenant}/…`; on its own host (a subdomain of `LYCEUM_BASE_DOMAIN` or a verified custom
//! domain, see `lyceum_web::site`) the same pages are served at the root, and nothing else is.
//!
//! The pages read through the same services and policy checks as the API.

use std::sync::Arc;

use lyceum_tenants::rbac::{Principal, action, resource};
use minijinja::context;
use poem::web::{Data, Path, Query};
use poem::{Request, Response, Route, get, handler, post};
use serde::Deserialize;

use crate::context::{Shop, shop_of};
use crate::render::{error_page, page, render};
use crate::{shop, signin};
use lyceum_domain::error::{AppError, AppResult};
use lyceum_domain::ids::OrderId;
use lyceum_domain::services::access;
use lyceum_domain::services::accounts::SessionScope;
use lyceum_domain::services::catalog::public::{self, CatalogQuery};
use lyceum_domain::services::commerce::OrderStatus;
use lyceum_domain::services::commerce::orders;
use lyceum_domain::services::tenancy::tenants::{self, Tenant};
use lyceum_domain::state::AppState;

/// Mounts pages and lists what it mounts, as `(method, path)` in poem's path syntax: the
/// authorization walk (`tests/api/authz.rs`) calls every page of these lists, so a page mounted
/// here cannot escape it.
macro_rules! pages {
    (
        $(#[$list_doc:meta])* $list:ident;
        $(#[$routes_doc:meta])* $routes:ident;
        $($path:literal => $method:ident($handler:expr) $(.$more:ident($more_handler:expr))*,)*
    ) => {
        $(#[$list_doc])*
        pub const $list: &[(&str, &str)] = &[
            $((stringify!($method), $path), $((stringify!($more), $path),)*)*
        ];

        $(#[$routes_doc])*
        pub fn $routes() -> Route {
            Route::new()$(.at($path, $method($handler)$(.$more($more_handler))*))*
        }
    };
}

pages! {
    /// Every page of [`platform_routes`].
    PLATFORM_PAGES;
    /// The pages of the platform's origin: the list of storefronts, each storefront under
    /// `/s/{tenant}`, signing in and registering, order status.
    platform_routes;
    "/" => get(platform_home),
    "/s/:tenant" => get(catalog_page),
    "/s/:tenant/courses/:course" => get(course_page),
    "/s/:tenant/courses/:course/buy" => post(shop::buy),
    "/s/:tenant/lessons/:lesson" => get(shop::open_lesson),
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
    "/courses/:course/buy" => post(shop::buy),
    "/lessons/:lesson" => get(shop::open_lesson),
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
    let message = status_message(order.status, outcome == "cancelled");
    let tenant_base = match tenants::find_by_id(state, order.tenant_id).await {
        Ok(tenant) => storefront_link(state, &tenant),
        Err(e) => return error_page(e),
    };
    let items: Vec<_> = order
        .lines
        .iter()
        .map(|l| context! { title => &l.course_title, href => format!("{tenant_base}/courses/{}", l.course_slug) })
        .collect();
    page(render(
        "order.html",
        context! {
            title => "Your order",
            status => order.status.as_str(),
            message,
            pending,
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
fn status_message(status: OrderStatus, cancelled: bool) -> &'static str {
    match status {
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
async fn platform_home(Data(state): Data<&Arc<AppState>>) -> Response {
    page(platform_index(state).await)
}

#[handler]
async fn catalog_page(req: &Request, Data(state): Data<&Arc<AppState>>) -> Response {
    match shop_of(state, req).await {
        Ok(shop) => page(catalog(state, &shop).await),
        Err(e) => error_page(e),
    }
}

#[handler]
async fn course_page(req: &Request, Data(state): Data<&Arc<AppState>>) -> Response {
    let Some(course) = req.raw_path_param("course") else {
        return error_page(AppError::NotFound("course"));
    };
    match shop_of(state, req).await {
        Ok(shop) => page(course_detail(state, req, &shop, course).await),
        Err(e) => error_page(e),
    }
}

async fn platform_index(state: &AppState) -> AppResult<String> {
    let active = tenants::list_active(state).await?;
    let items: Vec<_> = active
        .iter()
        .map(|t| context! { slug => t.slug.as_str(), name => &t.name })
        .collect();
    render("platform.html", context! { storefronts => items })
}

async fn catalog(state: &AppState, shop: &Shop) -> AppResult<String> {
    let proof = state
        .policy
        .authorize::<resource::Catalog, action::Read>(
            &state.db,
            &Principal::Anonymous,
            shop.tenant.domain(),
        )
        .await?;
    let page = public::list(
        state,
        &proof,
        &shop.tenant,
        CatalogQuery {
            limit: Some(public::MAX_LIMIT),
            ..Default::default()
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
                description => &c.description,
                price => if c.is_free() { "Free".to_owned() } else { c.price.to_string() },
            }
        })
        .collect();
    render(
        "catalog.html",
        context! { tenant => &shop.tenant.name, base => &shop.base, courses },
    )
}

async fn course_detail(
    state: &AppState,
    req: &Request,
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
    let sections: Vec<_> = detail
        .sections
        .iter()
        .map(|s| {
            let lessons: Vec<_> = s
                .lessons
                .iter()
                .map(|l| context! { id => l.id.to_string(), title => &l.title, kind => l.kind.as_str(), free_preview => l.free_preview })
                .collect();
            context! { title => &s.title, lessons }
        })
        .collect();
    let course = &detail.course;
    let viewer = shop::viewer(state, req, shop.scope()).await;
    // Whether the viewer may study it, asked as the API's access check asks it: under the
    // viewer's own proof (a visitor's is anonymous, and opens the published free courses).
    let principal = viewer
        .as_ref()
        .map_or(Principal::Anonymous, |v| Principal::User(v.user.id));
    let learner = state
        .policy
        .authorize::<resource::Access, action::Read>(&state.db, &principal, tenant.domain())
        .await?;
    let owned = access::decide(state, &learner, course).await?.access;
    render(
        "course.html",
        context! {
            tenant => &tenant.name,
            course_slug => course.slug.as_str(),
            signed_in => viewer.is_some(),
            user_name => viewer.as_ref().map(|v| v.user.name.clone()),
            csrf => viewer.as_ref().map(|v| v.csrf.clone()),
            owned,
            free => course.is_free(),
            base => &shop.base,
            title => &course.title,
            description => &course.description,
            price => if course.is_free() { "Free".to_owned() } else { course.price.to_string() },
            access_days => course.access_days,
            sections,
        },
    )
}
