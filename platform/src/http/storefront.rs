//! Server-rendered storefront pages, found by `Host` (a tenant's subdomain of
//! `LYCEUM_BASE_DOMAIN`, or its custom domain) or by path (`/s/{tenant}/…`).
//!
//! The pages read through the same services and policy checks as the API.

use std::sync::{Arc, LazyLock};

use lyceum_tenants::TenantStatus;
use lyceum_tenants::host::{self, HostTarget};
use lyceum_tenants::rbac::{Action, Principal, resource};
use minijinja::{Environment, context};
use poem::http::StatusCode;
use poem::web::{Data, Html, Path};
use poem::{IntoResponse, Request, Response, Route, get, handler};

use crate::error::{AppError, AppResult};
use crate::services::catalog::public::{self, CatalogQuery};
use crate::services::tenants::{self, Tenant};
use crate::state::AppState;

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    for (name, source) in [
        ("base.html", include_str!("templates/base.html")),
        ("platform.html", include_str!("templates/platform.html")),
        ("catalog.html", include_str!("templates/catalog.html")),
        ("course.html", include_str!("templates/course.html")),
        ("order.html", include_str!("templates/order.html")),
        ("login.html", include_str!("templates/login.html")),
        ("message.html", include_str!("templates/message.html")),
    ] {
        if let Err(e) = env.add_template(name, source) {
            tracing::error!(template = name, error = %e, "storefront template is broken");
        }
    }
    env
});

/// The storefront routes.
pub fn routes() -> Route {
    Route::new()
        .at("/", get(home))
        .at("/courses/:course", get(course_by_host))
        .at("/s/:tenant", get(catalog_by_path))
        .at("/s/:tenant/courses/:course", get(course_by_path))
        .at("/checkout/:order/:outcome", get(order_status))
        .at(
            "/login",
            get(super::shop::login_page).post(super::shop::login_submit),
        )
        .at("/logout", poem::post(super::shop::logout))
        .at(
            "/s/:tenant/courses/:course/buy",
            poem::post(super::shop::buy),
        )
        .at("/s/:tenant/lessons/:lesson", get(super::shop::open_lesson))
}

/// Where a gateway sends the buyer back. It shows the order's status (refreshing while the
/// payment is unconfirmed) and never grants anything: only the gateway's event does.
#[handler]
async fn order_status(
    Data(state): Data<&Arc<AppState>>,
    Path((order, outcome)): Path<(uuid::Uuid, String)>,
) -> Response {
    let order = match crate::services::orders::find_any(&state.db, order).await {
        Ok(order) => order,
        Err(e) => return error_page(e),
    };
    let pending = order.status == crate::services::orders::OrderStatus::Pending;
    let message = match (order.status.as_str(), outcome.as_str()) {
        ("pending", "cancelled") => {
            "The payment was cancelled. You can start again from the course page."
        }
        ("pending", _) => "Waiting for the payment provider to confirm your payment…",
        ("paid", _) => "Payment confirmed. Your course is open.",
        ("failed", _) => "The payment failed. Nothing was charged.",
        ("expired", _) => "This order expired before it was paid.",
        ("partially_paid", _) => {
            "Part of the payment arrived; the course opens when it is paid in full."
        }
        ("refunded", _) | ("partially_refunded", _) => "This order was refunded.",
        _ => "This order is on hold.",
    };
    let tenant_slug = crate::services::tenants::slug_of(&state.db, order.tenant_id)
        .await
        .unwrap_or_default();
    let items: Vec<_> = order
        .lines
        .iter()
        .map(|l| context! { title => &l.course_title, href => format!("/s/{tenant_slug}/courses/{}", l.course_slug) })
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

/// The storefront of the `Host`, or the platform's list of storefronts.
#[handler]
async fn home(req: &Request, Data(state): Data<&Arc<AppState>>) -> Response {
    match host_tenant(state, req).await {
        Ok(Some(tenant)) => page(catalog(state, &tenant, "").await),
        Ok(None) => page(platform_index(state).await),
        Err(e) => error_page(e),
    }
}

#[handler]
async fn course_by_host(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path(course): Path<String>,
) -> Response {
    match host_tenant(state, req).await {
        Ok(Some(tenant)) => page(course_page(state, req, &tenant, &course, "").await),
        Ok(None) => error_page(AppError::NotFound("storefront")),
        Err(e) => error_page(e),
    }
}

#[handler]
async fn catalog_by_path(Data(state): Data<&Arc<AppState>>, Path(slug): Path<String>) -> Response {
    match tenants::find_selling(state, &slug).await {
        Ok(tenant) => {
            let base = format!("/s/{}", tenant.slug);
            page(catalog(state, &tenant, &base).await)
        }
        Err(e) => error_page(e),
    }
}

#[handler]
async fn course_by_path(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path((slug, course)): Path<(String, String)>,
) -> Response {
    match tenants::find_selling(state, &slug).await {
        Ok(tenant) => {
            let base = format!("/s/{}", tenant.slug);
            page(course_page(state, req, &tenant, &course, &base).await)
        }
        Err(e) => error_page(e),
    }
}

/// The selling tenant the `Host` header names, `None` for the platform's own host.
async fn host_tenant(state: &AppState, req: &Request) -> AppResult<Option<Arc<Tenant>>> {
    let host = req.header("host").unwrap_or_default();
    let tenant = match host::resolve(host, state.settings.base_domain.as_deref()) {
        HostTarget::Platform => return Ok(None),
        HostTarget::Subdomain(slug) => tenants::find_by_slug(state, slug.as_str()).await?,
        HostTarget::CustomDomain(domain) => {
            Arc::new(tenants::find_by_domain(&state.db, &domain).await?)
        }
    };
    if tenant.status == TenantStatus::Active {
        Ok(Some(tenant))
    } else {
        Err(AppError::NotFound("storefront"))
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

async fn catalog(state: &AppState, tenant: &Tenant, base: &str) -> AppResult<String> {
    let proof = state
        .policy
        .authorize::<resource::Catalog>(
            &state.db,
            &Principal::Anonymous,
            tenant.domain(),
            Action::Read,
        )
        .await?;
    let page = public::list(
        state,
        &proof,
        tenant,
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
        context! { tenant => &tenant.name, base, courses },
    )
}

async fn course_page(
    state: &AppState,
    req: &Request,
    tenant: &Tenant,
    slug: &str,
    base: &str,
) -> AppResult<String> {
    let proof = state
        .policy
        .authorize::<resource::Catalog>(
            &state.db,
            &Principal::Anonymous,
            tenant.domain(),
            Action::Read,
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
    let viewer = super::shop::viewer(state, req).await;
    let owned = match &viewer {
        Some(v) => {
            crate::services::orders::access::decide(state, Some(v.user.id), course)
                .await?
                .access
        }
        None => course.is_free(),
    };
    render(
        "course.html",
        context! {
            tenant => &tenant.name,
            tenant_slug => tenant.slug.as_str(),
            course_slug => course.slug.as_str(),
            signed_in => viewer.is_some(),
            user_name => viewer.as_ref().map(|v| v.user.name.clone()),
            csrf => viewer.as_ref().map(|v| v.csrf.clone()),
            owned,
            free => course.is_free(),
            base,
            title => &course.title,
            description => &course.description,
            price => if course.is_free() { "Free".to_owned() } else { course.price.to_string() },
            access_days => course.access_days,
            sections,
        },
    )
}

/// Renders a page, or a plain apology if the template itself is broken.
pub fn render_page(name: &str, ctx: minijinja::Value) -> String {
    render(name, ctx).unwrap_or_else(|e| {
        tracing::error!(error = %e, "page failed to render");
        "Something went wrong on our side.".to_owned()
    })
}

fn render(name: &str, ctx: minijinja::Value) -> AppResult<String> {
    TEMPLATES
        .get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|e| AppError::Internal(format!("rendering {name}: {e}")))
}

fn page(result: AppResult<String>) -> Response {
    match result {
        Ok(html) => Html(html).into_response(),
        Err(e) => error_page(e),
    }
}

fn error_page(err: AppError) -> Response {
    let (status, message) = match &err {
        AppError::NotFound(_) => (StatusCode::NOT_FOUND, "There is nothing here."),
        _ => {
            tracing::error!(error = %err, "storefront page failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on our side.",
            )
        }
    };
    let html = render("base.html", context! { title => message, message })
        .unwrap_or_else(|_| message.to_owned());
    (status, Html(html)).into_response()
}
