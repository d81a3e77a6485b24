//! Storefronts: the list (by status), one storefront with its fee plan's versions, approving,
//! suspending and setting the fee plan — as `list_tenants`, `approve_tenant`,
//! `suspend_tenant`, `list_fee_plans` and `set_fee_plan` do.

use std::sync::Arc;

use lyceum_gateway_core::Money;
use lyceum_tenants::TenantStatus;
use lyceum_tenants::rbac::action;
use minijinja::context;
use poem::web::{Data, Form, Query, Redirect};
use poem::{IntoResponse, Request, Response, handler};
use serde::Deserialize;

use super::{admin_proof, form_error, nav, when};
use crate::frame::{Section, signed_in};
use crate::render::page;
use crate::shop::form_user;
use lyceum_domain::error::AppError;
use lyceum_domain::services::accounts::SessionScope;
use lyceum_domain::services::commerce::fee_plans::{self, NewFeePlan};
use lyceum_domain::services::tenancy::tenants::{self, Tenant};
use lyceum_domain::state::AppState;

const STATUSES: [TenantStatus; 3] = [
    TenantStatus::Pending,
    TenantStatus::Active,
    TenantStatus::Suspended,
];

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ListQuery {
    status: Option<String>,
    done: Option<String>,
}

/// What a finished form says: fixed words, never the request's.
fn notice_of(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "approved" => "The storefront is active: it sells now.",
        "suspended" => "The storefront is suspended: its catalog is hidden and it sells nothing.",
        "fee-plan" => "The fee plan was set. Orders already made keep their terms.",
        _ => return None,
    })
}

/// The fee a storefront pays, in words.
fn fee_terms(tenant: &Tenant) -> String {
    match &tenant.fee_plan {
        Some(plan) => terms(plan.terms.bps, plan.terms.fixed),
        None => "the platform's default".to_owned(),
    }
}

fn terms(bps: u16, fixed: Money) -> String {
    let percent = format!("{}.{:02} %", bps / 100, bps % 100);
    if fixed.amount.get() == 0 {
        percent
    } else {
        format!("{percent} + {fixed}")
    }
}

fn badge(status: TenantStatus) -> &'static str {
    match status {
        TenantStatus::Active => "ok",
        TenantStatus::Pending => "warn",
        TenantStatus::Suspended => "bad",
    }
}

fn row(t: &Tenant) -> minijinja::Value {
    context! {
        slug => t.slug.as_str(),
        name => &t.name,
        status => t.status.as_str(),
        badge => badge(t.status),
        currency => t.currency.code(),
        fee => fee_terms(t),
        created => when(t.created_at),
        approved => t.approved_at.map(when),
        can_approve => t.status != TenantStatus::Active,
        can_suspend => t.status != TenantStatus::Suspended,
    }
}

/// `/admin/tenants`: every storefront, newest first; `?status=` keeps one status.
pub(super) async fn list_page(state: &AppState, req: &Request, query: ListQuery) -> Response {
    let (frame, viewer) = match signed_in(state, req, None, Section::Admin).await {
        Ok(found) => found,
        Err(to_sign_in) => return to_sign_in,
    };
    let result = async {
        let proof = admin_proof::<action::Read>(state, viewer.user.id).await?;
        let status = match query.status.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(
                s.parse::<TenantStatus>()
                    .map_err(|e| AppError::invalid("status", e))?,
            ),
        };
        let found = tenants::list(state, &proof, status).await?;
        let rows: Vec<_> = found.iter().map(row).collect();
        let filters: Vec<_> = STATUSES
            .iter()
            .map(|s| context! { name => s.as_str(), current => Some(*s) == status })
            .collect();
        frame.render(
            "admin/tenants.html",
            context! {
                title => "Storefronts",
                nav => nav("tenants"),
                tenants => rows,
                filters,
                all => status.is_none(),
                notice => notice_of(query.done.as_deref()),
            },
        )
    }
    .await;
    page(result)
}

#[handler]
pub(super) async fn list(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Query(query): Query<ListQuery>,
) -> Response {
    list_page(state, req, query).await
}

/// `/admin/tenants/:tenant`: one storefront, its fee plan's versions, and the forms.
#[handler]
pub(super) async fn show(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Query(query): Query<ListQuery>,
) -> Response {
    let (frame, viewer) = match signed_in(state, req, None, Section::Admin).await {
        Ok(found) => found,
        Err(to_sign_in) => return to_sign_in,
    };
    let result = async {
        let proof = admin_proof::<action::Read>(state, viewer.user.id).await?;
        let tenant =
            tenants::find_by_slug(state, req.raw_path_param("tenant").unwrap_or_default()).await?;
        let plans = fee_plans::list(state, &proof, &tenant).await?;
        let plans: Vec<_> = plans
            .iter()
            .map(|p| {
                context! {
                    version => p.version,
                    terms => terms(p.terms.bps, p.terms.fixed),
                    since => when(p.created_at),
                }
            })
            .collect();
        let (bps, fixed) = tenant.fee_plan.as_ref().map_or((0, String::new()), |p| {
            (p.terms.bps, p.terms.fixed.to_decimal_string())
        });
        frame.render(
            "admin/tenant.html",
            context! {
                title => &tenant.name,
                nav => nav("tenants"),
                tenant => row(&tenant),
                custom_domain => &tenant.custom_domain,
                plans,
                bps,
                fixed,
                notice => notice_of(query.done.as_deref()),
            },
        )
    }
    .await;
    page(result)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct StatusForm {
    csrf: String,
    /// `list` to return to the list; the storefront's page otherwise.
    back: String,
}

async fn change_status(
    state: &AppState,
    req: &Request,
    form: StatusForm,
    status: TenantStatus,
) -> Response {
    if let Err(to_sign_in) = signed_in(state, req, None, Section::Admin).await {
        return to_sign_in;
    }
    let slug = req.raw_path_param("tenant").unwrap_or_default();
    let here = format!("/admin/tenants/{slug}");
    let back = if form.back == "list" {
        "/admin/tenants".to_owned()
    } else {
        here
    };
    let result = async {
        let user = form_user(state, req, &form.csrf, SessionScope::Platform).await?;
        let proof = admin_proof::<action::Approve>(state, user.id).await?;
        let tenant = tenants::find_by_slug(state, slug).await?;
        tenants::set_status(state, &proof, &tenant, status).await
    }
    .await;
    let done = match status {
        TenantStatus::Active => "approved",
        TenantStatus::Pending | TenantStatus::Suspended => "suspended",
    };
    match result {
        Ok(_) => Redirect::see_other(format!("{back}?done={done}")).into_response(),
        Err(e) => form_error(e, &back),
    }
}

/// Approves a storefront: it becomes active and sells.
#[handler]
pub(super) async fn approve(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Form(form): Form<StatusForm>,
) -> Response {
    change_status(state, req, form, TenantStatus::Active).await
}

/// Suspends a storefront: its catalog disappears until it is approved again.
#[handler]
pub(super) async fn suspend(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Form(form): Form<StatusForm>,
) -> Response {
    change_status(state, req, form, TenantStatus::Suspended).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct FeePlanForm {
    csrf: String,
    /// Basis points: 1000 = 10 %.
    fee_bps: String,
    /// A decimal in the storefront's currency; empty for none.
    fixed_fee: String,
}

/// Sets a storefront's fee plan: a new version.
#[handler]
pub(super) async fn set_fee_plan(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Form(form): Form<FeePlanForm>,
) -> Response {
    if let Err(to_sign_in) = signed_in(state, req, None, Section::Admin).await {
        return to_sign_in;
    }
    let slug = req.raw_path_param("tenant").unwrap_or_default();
    let back = format!("/admin/tenants/{slug}");
    let result = async {
        let user = form_user(state, req, &form.csrf, SessionScope::Platform).await?;
        let proof = admin_proof::<action::Update>(state, user.id).await?;
        let tenant = tenants::find_by_slug(state, slug).await?;
        let bps: u16 = form.fee_bps.trim().parse().map_err(|_| {
            AppError::invalid("fee_bps", "a whole number of basis points, 0 to 10000")
        })?;
        let fixed = match form.fixed_fee.trim() {
            "" => None,
            text => Some(
                Money::parse_decimal(text, tenant.currency)
                    .map_err(|e| AppError::invalid("fixed_fee", e))?,
            ),
        };
        tenants::set_fee_plan(state, &proof, &tenant, NewFeePlan { bps, fixed }).await
    }
    .await;
    match result {
        Ok(_) => Redirect::see_other(format!("{back}?done=fee-plan")).into_response(),
        Err(e) => form_error(e, &back),
    }
}
