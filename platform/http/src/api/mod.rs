//! The JSON API under `/api/v1`, one `#[OpenApi]` struct per resource.
//!
//! Handlers are thin: parse the request into domain types, resolve the tenant, ask the policy,
//! call one service, shape the response. No SQL here.

mod account;
mod admin;
mod auth;
mod authoring;
mod books;
mod catalog;
mod coupons;
mod domains;
mod earnings;
mod gateways;
mod invitations;
mod learning;
mod orders;
mod prepared;
mod seats;
pub mod strict;
mod studio;
mod study;
mod teams;
mod tenants;
pub mod types;

use std::sync::Arc;

use poem_openapi::Tags;

pub use account::AccountApi;
pub use admin::AdminApi;
pub use auth::AuthApi;
pub use authoring::AuthoringApi;
pub use books::BooksApi;
pub use catalog::CatalogApi;
pub use coupons::CouponsApi;
pub use domains::DomainsApi;
pub use earnings::EarningsApi;
pub use gateways::GatewaysApi;
pub use invitations::InvitationsApi;
pub use learning::{COURSE_ACCESS_PATH, CourseAccessDoc, LearningApi, course_access};
pub use orders::OrdersApi;
pub use seats::SeatsApi;
pub use studio::StudioApi;
pub use study::StudyApi;
pub use teams::TeamsApi;
pub use tenants::TenantsApi;

/// The groups of operations. The authorization test reads them: a new tag must be taught to it.
#[derive(Debug, Tags)]
pub enum ApiTags {
    /// Registering and signing in; open to everyone.
    Auth,
    /// The signed-in user's own account, and applying for a storefront.
    Account,
    /// Managing a storefront: settings, staff, courses, curriculum, assets (tenant staff).
    Studio,
    /// The public catalog of active storefronts; open to everyone.
    Catalog,
    /// Running the platform: approving and suspending storefronts, fee plans, the ledger and
    /// payouts (platform admins).
    Admin,
    /// A team's roster and seats, for the team's managers.
    Teams,
}

/// Every `#[OpenApi]` struct, in the document's order.
pub type Apis = (
    AuthApi,
    AccountApi,
    TenantsApi,
    DomainsApi,
    GatewaysApi,
    InvitationsApi,
    // The studio and its course editing, together: a tuple holds at most 16 APIs.
    (StudioApi, AuthoringApi),
    CouponsApi,
    CatalogApi,
    // Opening lessons and studying them.
    (LearningApi, StudyApi),
    OrdersApi,
    EarningsApi,
    // Teams and their seats, together: a tuple holds at most 16 APIs.
    (TeamsApi, SeatsApi),
    AdminApi,
    BooksApi,
    CourseAccessDoc,
);

/// All operations, as one tuple for the OpenAPI service.
pub fn all() -> Apis {
    (
        AuthApi,
        AccountApi,
        TenantsApi,
        DomainsApi,
        GatewaysApi,
        InvitationsApi,
        (StudioApi, AuthoringApi),
        CouponsApi,
        CatalogApi,
        (LearningApi, StudyApi),
        OrdersApi,
        EarningsApi,
        (TeamsApi, SeatsApi),
        AdminApi,
        BooksApi,
        CourseAccessDoc,
    )
}

use lyceum_tenants::rbac::{Authorized, Principal, Resource, Verb};

use lyceum_domain::error::AppResult;
use lyceum_domain::services::tenancy::tenants::{self as tenant_service, Tenant};
use lyceum_domain::state::AppState;

/// Checks `A` on `R` in the platform's domain (what is nobody's storefront: one's account,
/// teams, the platform itself).
pub(crate) async fn in_platform<R: Resource, A: Verb>(
    state: &AppState,
    principal: &Principal,
) -> AppResult<Authorized<R, A>> {
    state
        .policy
        .authorize(&state.db, principal, lyceum_tenants::rbac::Domain::Platform)
        .await
}

/// Checks `A` on the caller's own account (platform-wide).
pub(crate) async fn own_account<A: Verb>(
    state: &AppState,
    principal: &Principal,
) -> AppResult<Authorized<lyceum_tenants::rbac::resource::Account, A>> {
    in_platform(state, principal).await
}

/// Resolves a tenant by slug (any status) and checks `A` on `R` inside it.
pub(crate) async fn in_tenant<R: Resource, A: Verb>(
    state: &AppState,
    principal: &Principal,
    slug: &str,
) -> AppResult<(Arc<Tenant>, Authorized<R, A>)> {
    inside(
        state,
        principal,
        tenant_service::find_by_slug(state, slug).await?,
    )
    .await
}

/// Resolves a storefront that sells (pending and suspended ones are not public) and checks
/// `A` on `R` inside it: what buyers and learners do.
pub(crate) async fn in_storefront<R: Resource, A: Verb>(
    state: &AppState,
    principal: &Principal,
    slug: &str,
) -> AppResult<(Arc<Tenant>, Authorized<R, A>)> {
    inside(
        state,
        principal,
        tenant_service::find_selling(state, slug).await?,
    )
    .await
}

async fn inside<R: Resource, A: Verb>(
    state: &AppState,
    principal: &Principal,
    tenant: Arc<Tenant>,
) -> AppResult<(Arc<Tenant>, Authorized<R, A>)> {
    let proof = state
        .policy
        .authorize::<R, A>(&state.db, principal, tenant.domain())
        .await?;
    Ok((tenant, proof))
}
