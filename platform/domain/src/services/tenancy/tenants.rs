//! Storefronts: applying, approval, suspension, settings and staff. A storefront is shown with
//! the fee plan in force, which [`fee_plans`] owns.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use lyceum_gateway_core::Currency;
use lyceum_tenants::rbac::{Authorized, Domain, Grant, Role, action, resource};
use lyceum_tenants::{Slug, TenantStatus};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
};
use uuid::Uuid;

use super::policy::Policy;
use crate::domain::BoundedText;
use crate::entities::{casbin_rule, tenants, users};
use crate::error::{AppError, AppResult, is_unique_violation};
use crate::ids::{TenantId, UserId};
use crate::services::commerce::fee_plans::{self, FeePlan, NewFeePlan};
use crate::services::invalidation::Invalidations;
use crate::services::now;
use crate::state::AppState;

/// A storefront's display name.
pub type TenantName = BoundedText<1, 200>;

/// A storefront, as the services see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: TenantId,
    pub slug: Slug,
    pub name: String,
    pub currency: Currency,
    pub status: TenantStatus,
    /// The storefront's own fee plan in force (its newest version); `None` pays the
    /// configured default.
    pub fee_plan: Option<FeePlan>,
    /// The verified custom domain the storefront is served on.
    pub custom_domain: Option<String>,
    /// A domain asked for and not yet verified, with the token that proves control of it.
    pub pending_domain: Option<PendingDomain>,
    pub owner_id: UserId,
    pub created_at: DateTime<Utc>,
    pub approved_at: Option<DateTime<Utc>>,
    /// Days a sale stays pending before its sellers may be paid; `None` is the configured
    /// default (`LYCEUM_PAYOUT_HOLD_DAYS`).
    pub payout_hold_days: Option<u16>,
    /// The colour its pages are drawn in (`#rrggbb`); `None` is the platform's.
    pub brand_color: Option<String>,
}

/// A custom domain waiting for its owner to prove control of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingDomain {
    pub domain: String,
    pub token: String,
}

impl PendingDomain {
    /// The DNS name of the TXT record that proves control of the domain.
    pub fn record_name(&self) -> String {
        format!("{}.{}", super::domains::RECORD_LABEL, self.domain)
    }

    /// The TXT record's value.
    pub fn record_value(&self) -> String {
        format!("{}{}", super::domains::RECORD_PREFIX, self.token)
    }
}

impl Tenant {
    pub fn domain(&self) -> Domain {
        Domain::Tenant(self.id)
    }

    /// A stored storefront, with its plan in force.
    pub(crate) fn from_row(m: tenants::Model, fee_plan: Option<FeePlan>) -> AppResult<Self> {
        let id = m.id;
        let corrupt = |field, e: Box<dyn std::error::Error + Send + Sync>| {
            AppError::corrupt_field("tenant", id, field, e)
        };
        Ok(Self {
            slug: Slug::parse(&m.slug).map_err(|e| corrupt("slug", e.into()))?,
            currency: Currency::parse(&m.currency).map_err(|e| corrupt("currency", e.into()))?,
            status: m.status.into(),
            fee_plan,
            id: m.id,
            name: m.name,
            custom_domain: m.custom_domain,
            pending_domain: match (m.pending_domain, m.domain_token) {
                (Some(domain), Some(token)) => Some(PendingDomain { domain, token }),
                _ => None,
            },
            owner_id: m.owner_id,
            created_at: m.created_at,
            approved_at: m.approved_at,
            payout_hold_days: m
                .payout_hold_days
                .map(u16::try_from)
                .transpose()
                .map_err(|e| corrupt("payout_hold_days", e.into()))?,
            brand_color: m.brand_color.filter(|c| parse_brand_color(c).is_ok()),
        })
    }
}

/// A validated application for a storefront.
#[derive(Debug)]
pub struct Application {
    pub slug: Slug,
    pub name: TenantName,
    pub currency: Currency,
}

/// A user applies for a storefront: it starts `pending` and the applicant becomes its owner.
#[tracing::instrument(skip_all, fields(tenant.id = tracing::field::Empty, user.id = auth.user_id().map(tracing::field::display)))]
pub async fn apply(
    state: &AppState,
    auth: &Authorized<resource::Tenant, action::Create>,
    input: Application,
) -> AppResult<Tenant> {
    let owner = auth.user_id().ok_or(AppError::Unauthenticated(
        "sign in to apply for a storefront",
    ))?;
    let id = TenantId::new_v7();
    tracing::Span::current().record("tenant.id", tracing::field::display(id));
    let grant = Grant::new(owner, Role::Owner, Domain::Tenant(id));
    let txn = state.db.begin().await?;
    let inserted = tenants::ActiveModel {
        id: Set(id),
        slug: Set(input.slug.as_str().to_owned()),
        name: Set(input.name.into_inner()),
        currency: Set(input.currency.code().to_owned()),
        status: Set(TenantStatus::Pending.into()),
        custom_domain: Set(None),
        owner_id: Set(owner),
        created_at: Set(now()),
        approved_at: Set(None),
        pending_domain: Set(None),
        domain_token: Set(None),
        domain_verified_at: Set(None),
        payout_hold_days: Set(None),
        brand_color: Set(None),
    }
    .insert(&txn)
    .await;
    let tenant = match inserted {
        Ok(t) => t,
        Err(e) if is_unique_violation(&e) => {
            return Err(AppError::conflict(format!(
                "the slug `{}` is taken",
                input.slug
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let granted = Policy::store_grant(&txn, &grant).await?;
    state.commit(txn, granted).await?;
    tracing::info!(tenant.id = %id, tenant.slug = %tenant.slug, "tenant applied");
    Tenant::from_row(tenant, None)
}

/// The tenant with this slug, whatever its status.
pub async fn find_by_slug(state: &AppState, slug: &str) -> AppResult<Arc<Tenant>> {
    crate::state::cached(&state.caches.tenants, slug, |slug| async move {
        let row = tenants::Entity::find()
            .filter(tenants::Column::Slug.eq(slug))
            .one(&state.db)
            .await?
            .ok_or(AppError::NotFound("tenant"))?;
        Ok(Arc::new(with_plan(&state.db, row).await?))
    })
    .await
}

/// The tenant serving a verified custom domain, from the same short-lived cache as slugs (a
/// domain always holds a dot, a slug never does).
pub async fn find_by_domain(state: &AppState, domain: &str) -> AppResult<Arc<Tenant>> {
    crate::state::cached(&state.caches.tenants, domain, |domain| async move {
        let row = tenants::Entity::find()
            .filter(tenants::Column::CustomDomain.eq(domain))
            .filter(tenants::Column::DomainVerifiedAt.is_not_null())
            .one(&state.db)
            .await?
            .ok_or(AppError::NotFound("tenant"))?;
        Ok(Arc::new(with_plan(&state.db, row).await?))
    })
    .await
}

/// The tenant, if it sells: pending and suspended storefronts are not public.
pub async fn find_selling(state: &AppState, slug: &str) -> AppResult<Arc<Tenant>> {
    let tenant = find_by_slug(state, slug).await?;
    if tenant.status.sells() {
        Ok(tenant)
    } else {
        Err(AppError::NotFound("tenant"))
    }
}

/// Every tenant, newest first, optionally only those in one status (platform admins).
pub async fn list(
    state: &AppState,
    _auth: &Authorized<resource::Platform, action::Read>,
    status: Option<TenantStatus>,
) -> AppResult<Vec<Tenant>> {
    let mut query = tenants::Entity::find().order_by_desc(tenants::Column::Id);
    if let Some(status) = status {
        query = query.filter(tenants::Column::Status.eq(tenants::StoredTenantStatus::from(status)));
    }
    let rows = query.limit(1000).all(&state.db).await?;
    with_plans(&state.db, rows).await
}

/// Moves a tenant to `status` (platform admins): approve, suspend, reinstate.
#[tracing::instrument(
    skip_all,
    fields(tenant.id = %tenant.id, user.id = _auth.user_id().map(tracing::field::display), status = status.as_str())
)]
pub async fn set_status(
    state: &AppState,
    _auth: &Authorized<resource::Platform, action::Approve>,
    tenant: &Tenant,
    status: TenantStatus,
) -> AppResult<Tenant> {
    let mut active = tenants::ActiveModel {
        id: Set(tenant.id),
        status: Set(status.into()),
        ..Default::default()
    };
    if status == TenantStatus::Active && tenant.approved_at.is_none() {
        active.approved_at = Set(Some(now()));
    }
    let txn = state.db.begin().await?;
    let updated = active.update(&txn).await?;
    state.commit(txn, Invalidations::tenant(tenant)).await?;
    tracing::info!(tenant.id = %tenant.id, status = %status, "tenant status changed");
    Tenant::from_row(updated, tenant.fee_plan.clone())
}

/// Sets a tenant's platform fee (platform admins): a new version of its fee plan (see
/// [`fee_plans::set`]); returns the storefront with it.
pub async fn set_fee_plan(
    state: &AppState,
    auth: &Authorized<resource::Platform, action::Update>,
    tenant: &Tenant,
    plan: NewFeePlan,
) -> AppResult<Tenant> {
    let plan = fee_plans::set(state, auth, tenant, plan).await?;
    Ok(Tenant {
        fee_plan: Some(plan),
        ..tenant.clone()
    })
}

/// Changes to a storefront's settings; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct TenantPatch {
    pub name: Option<TenantName>,
    /// A domain to serve the storefront on once its owner proves control of it;
    /// `Some(None)` removes the custom domain (verified or pending).
    pub custom_domain: Option<Option<String>>,
    /// The storefront's colour (from [`parse_brand_color`]); `Some(None)` returns to the
    /// platform's.
    pub brand_color: Option<Option<String>>,
}

/// A storefront colour: `#rrggbb`, stored in lower case. Nothing else reaches a page's
/// `style` attribute.
pub fn parse_brand_color(value: &str) -> AppResult<String> {
    let hex = value.strip_prefix('#').unwrap_or_default();
    if hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(format!("#{}", hex.to_ascii_lowercase()))
    } else {
        Err(AppError::invalid(
            "brand_color",
            "must be a colour as `#rrggbb`",
        ))
    }
}

/// Updates a storefront's settings (owner).
#[tracing::instrument(skip_all, fields(tenant.id = %tenant.id, user.id = auth.user_id().map(tracing::field::display)))]
pub async fn update(
    state: &AppState,
    auth: &Authorized<resource::Tenant, action::Update>,
    tenant: &Tenant,
    patch: TenantPatch,
) -> AppResult<Tenant> {
    ensure_covers(auth, tenant)?;
    let mut active = tenants::ActiveModel {
        id: Set(tenant.id),
        ..Default::default()
    };
    if let Some(name) = patch.name {
        active.name = Set(name.into_inner());
    }
    if let Some(color) = patch.brand_color {
        active.brand_color = Set(color);
    }
    match patch.custom_domain {
        None => {}
        Some(None) => {
            active.custom_domain = Set(None);
            active.domain_verified_at = Set(None);
            active.pending_domain = Set(None);
            active.domain_token = Set(None);
        }
        // Asking again for the domain already served changes nothing.
        Some(Some(domain)) if tenant.custom_domain.as_deref() == Some(domain.as_str()) => {}
        // A new domain is only served once verified; the one served so far stays until then.
        Some(Some(domain)) => {
            active.pending_domain = Set(Some(domain));
            active.domain_token = Set(Some(crate::services::accounts::random_secret()));
        }
    }
    let txn = state.db.begin().await?;
    let updated = active.update(&txn).await?;
    // A domain the storefront no longer serves keeps none of the sessions made there.
    if let Some(old) = &tenant.custom_domain
        && updated.custom_domain.as_deref() != Some(old.as_str())
    {
        crate::services::accounts::end_sessions_on_host(&txn, old).await?;
    }
    state.commit(txn, Invalidations::tenant(tenant)).await?;
    Tenant::from_row(updated, tenant.fee_plan.clone())
}

/// A member of a tenant's staff.
#[derive(Debug, Clone)]
pub struct Member {
    pub user_id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
}

/// Staff roles an owner can hand out.
pub fn parse_staff_role(role: &str) -> AppResult<Role> {
    match role.parse::<Role>() {
        Ok(role @ (Role::Editor | Role::Grader)) => Ok(role),
        Ok(Role::Owner | Role::PlatformAdmin | Role::Student | Role::TeamManager) | Err(_) => {
            Err(AppError::invalid("role", "must be `editor` or `grader`"))
        }
    }
}

/// Removes every staff role of a user in the tenant (owner). The owner cannot be removed.
pub async fn remove_member(
    state: &AppState,
    auth: &Authorized<resource::Member, action::Delete>,
    tenant: &Tenant,
    user_id: UserId,
) -> AppResult<()> {
    ensure_covers(auth, tenant)?;
    if user_id == tenant.owner_id {
        return Err(AppError::conflict(
            "the owner cannot be removed from their storefront",
        ));
    }
    let roles = state
        .policy
        .authorizer()
        .roles_in(user_id, tenant.domain())
        .await;
    if roles.is_empty() {
        return Err(AppError::NotFound("member"));
    }
    let grants: Vec<Grant> = roles
        .into_iter()
        .map(|role| Grant::new(user_id, role, tenant.domain()))
        .collect();
    let txn = state.db.begin().await?;
    let mut revoked = Invalidations::none();
    for grant in &grants {
        revoked = revoked.and(Policy::delete_grant(&txn, grant).await?);
    }
    state.commit(txn, revoked).await?;
    Ok(())
}

/// The staff of a tenant, owner first.
pub async fn list_members(
    state: &AppState,
    auth: &Authorized<resource::Member, action::Read>,
    tenant: &Tenant,
) -> AppResult<Vec<Member>> {
    ensure_covers(auth, tenant)?;
    let domain = format!("tenant:{}", tenant.id);
    let rules = casbin_rule::Entity::find()
        .filter(casbin_rule::Column::Ptype.eq("g"))
        .filter(casbin_rule::Column::V2.eq(domain))
        .all(&state.db)
        .await?;
    let mut members = Vec::with_capacity(rules.len());
    for rule in rules {
        let Some(user_id) = rule
            .v0
            .strip_prefix("user:")
            .and_then(|id| Uuid::parse_str(id).ok())
            .map(UserId::from)
        else {
            continue;
        };
        let Ok(role) = rule.v1.parse::<Role>() else {
            continue;
        };
        if let Some(user) = users::Entity::find_by_id(user_id).one(&state.db).await? {
            members.push(Member {
                user_id,
                email: user.email,
                name: user.name,
                role,
            });
        }
    }
    members.sort_by_key(|m| (m.role != Role::Owner, m.email.clone()));
    Ok(members)
}

/// A proof for one tenant must not be used on another.
pub fn ensure_covers<R: lyceum_tenants::rbac::Resource, A: lyceum_tenants::rbac::Verb>(
    auth: &Authorized<R, A>,
    tenant: &Tenant,
) -> AppResult<()> {
    ensure_covers_id(auth, tenant.id)
}

/// [`ensure_covers`] for a tenant known by its id only (a course's, a signed link's).
pub fn ensure_covers_id<R: lyceum_tenants::rbac::Resource, A: lyceum_tenants::rbac::Verb>(
    auth: &Authorized<R, A>,
    tenant: TenantId,
) -> AppResult<()> {
    if auth.covers_tenant(tenant) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "this permission was granted for another storefront".into(),
        ))
    }
}

/// Active storefronts, by name, for the platform's front page.
pub async fn list_active(state: &AppState) -> AppResult<Vec<Tenant>> {
    let rows = tenants::Entity::find()
        .filter(tenants::Column::Status.eq(tenants::StoredTenantStatus::Active))
        .order_by_asc(tenants::Column::Name)
        .limit(500)
        .all(&state.db)
        .await?;
    with_plans(&state.db, rows).await
}

/// A tenant by id, whatever its status.
pub async fn find_by_id(state: &AppState, tenant_id: TenantId) -> AppResult<Tenant> {
    let row = tenants::Entity::find_by_id(tenant_id)
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("tenant"))?;
    with_plan(&state.db, row).await
}

/// A stored storefront with its plan in force.
async fn with_plan(conn: &DatabaseConnection, row: tenants::Model) -> AppResult<Tenant> {
    let plan = fee_plans::current(conn, row.id).await?;
    Tenant::from_row(row, plan)
}

/// Stored storefronts with their plans in force, in one query for the plans.
async fn with_plans(
    conn: &DatabaseConnection,
    rows: Vec<tenants::Model>,
) -> AppResult<Vec<Tenant>> {
    let ids: Vec<TenantId> = rows.iter().map(|r| r.id).collect();
    let mut plans = fee_plans::current_for(conn, &ids).await?;
    rows.into_iter()
        .map(|row| {
            let plan = plans.remove(&row.id);
            Tenant::from_row(row, plan)
        })
        .collect()
}

/// The slug of a tenant, by id.
pub async fn slug_of(db: &DatabaseConnection, tenant_id: TenantId) -> AppResult<String> {
    Ok(tenants::Entity::find_by_id(tenant_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("tenant"))?
        .slug)
}
