//! Fee plans: what the platform takes of each storefront's sales, versioned.
//!
//! Owns `fee_plans`. A plan is basis points plus a fixed fee per order in the storefront's
//! currency; every change is a new version row (rows are never updated), and the newest is the
//! plan in force. A storefront without one is priced with the configured default
//! (`LYCEUM_DEFAULT_FEE_BPS`, `LYCEUM_DEFAULT_FEE_FIXED`). An order records the version it was
//! priced with (`orders.fee_plan_id`) and the terms themselves, so a later change never
//! reprices it. The fee rule itself is [`super::pricing::platform_fee`].

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use lyceum_gateway_core::{Currency, Money};
use lyceum_tenants::rbac::{Authorized, action, resource};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
};

use super::pricing::FeeTerms;
use crate::config::Settings;
use crate::domain::check_price_cap;
use crate::entities::fee_plans;
use crate::error::{AppError, AppResult, is_unique_violation};
use crate::ids::{FeePlanId, TenantId, UserId};
use crate::services::invalidation::Invalidations;
use crate::services::now;
use crate::services::tenancy::tenants::Tenant;
use crate::state::AppState;

/// One version of a storefront's fee plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeePlan {
    pub id: FeePlanId,
    pub tenant_id: TenantId,
    /// 1 for the first plan, one more for each change.
    pub version: u32,
    pub terms: FeeTerms,
    /// The platform admin who set it; `None` for a version a migration made.
    pub set_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<fee_plans::Model> for FeePlan {
    type Error = AppError;
    fn try_from(m: fee_plans::Model) -> Result<Self, Self::Error> {
        let id = m.id;
        let corrupt = |field, e: Box<dyn std::error::Error + Send + Sync>| {
            AppError::corrupt_field("fee plan", id, field, e)
        };
        let currency = Currency::parse(&m.currency).map_err(|e| corrupt("currency", e.into()))?;
        Ok(Self {
            id,
            tenant_id: m.tenant_id,
            version: u32::try_from(m.version).map_err(|e| corrupt("version", e.into()))?,
            terms: FeeTerms {
                bps: u16::try_from(m.fee_bps).map_err(|e| corrupt("fee_bps", e.into()))?,
                fixed: Money::new(m.fixed_fee_amount, currency)
                    .map_err(|e| corrupt("fixed_fee_amount", e.into()))?,
            },
            set_by: m.created_by,
            created_at: m.created_at,
        })
    }
}

/// The terms of the configured default, in `currency` (the fixed fee is the same number of
/// minor units in every currency).
pub fn default_terms(settings: &Settings, currency: Currency) -> AppResult<FeeTerms> {
    Ok(FeeTerms {
        bps: settings.default_fee_bps,
        fixed: Money::new(settings.default_fee_fixed, currency)?,
    })
}

/// The plan in force for `tenant_id`: its newest version, if it has any.
pub async fn current(
    conn: &impl ConnectionTrait,
    tenant_id: TenantId,
) -> AppResult<Option<FeePlan>> {
    fee_plans::Entity::find()
        .filter(fee_plans::Column::TenantId.eq(tenant_id))
        .order_by_desc(fee_plans::Column::Version)
        .limit(1)
        .one(conn)
        .await?
        .map(FeePlan::try_from)
        .transpose()
}

/// The plans in force for several tenants at once (a list of storefronts), by tenant.
pub async fn current_for(
    conn: &impl ConnectionTrait,
    tenant_ids: &[TenantId],
) -> AppResult<HashMap<TenantId, FeePlan>> {
    let mut current: HashMap<TenantId, FeePlan> = HashMap::new();
    if tenant_ids.is_empty() {
        return Ok(current);
    }
    let rows = fee_plans::Entity::find()
        .filter(fee_plans::Column::TenantId.is_in(tenant_ids.iter().copied()))
        .all(conn)
        .await?;
    for row in rows {
        let plan = FeePlan::try_from(row)?;
        match current.get(&plan.tenant_id) {
            Some(newer) if newer.version >= plan.version => {}
            _ => {
                current.insert(plan.tenant_id, plan);
            }
        }
    }
    Ok(current)
}

/// One version by id, within its tenant (the plan an order was priced with).
pub async fn find(
    conn: &impl ConnectionTrait,
    tenant_id: TenantId,
    id: FeePlanId,
) -> AppResult<Option<FeePlan>> {
    fee_plans::Entity::find_by_id(id)
        .filter(fee_plans::Column::TenantId.eq(tenant_id))
        .one(conn)
        .await?
        .map(FeePlan::try_from)
        .transpose()
}

/// Every version of a storefront's plan, newest first (platform admins).
pub async fn list(
    state: &AppState,
    _auth: &Authorized<resource::Platform, action::Read>,
    tenant: &Tenant,
) -> AppResult<Vec<FeePlan>> {
    fee_plans::Entity::find()
        .filter(fee_plans::Column::TenantId.eq(tenant.id))
        .order_by_desc(fee_plans::Column::Version)
        .all(&state.db)
        .await?
        .into_iter()
        .map(FeePlan::try_from)
        .collect()
}

/// A requested fee plan, before it is checked against the storefront.
#[derive(Debug, Clone, Copy)]
pub struct NewFeePlan {
    pub bps: u16,
    /// `None` is no fixed fee.
    pub fixed: Option<Money>,
}

/// Sets a storefront's fee plan (platform admins): a new version, unless the terms are the
/// ones already in force (then that version is returned, so a retried request adds nothing).
/// Orders already priced keep the version they were priced with.
#[tracing::instrument(
    skip_all,
    fields(tenant.id = %tenant.id, user.id = auth.user_id().map(tracing::field::display))
)]
pub async fn set(
    state: &AppState,
    auth: &Authorized<resource::Platform, action::Update>,
    tenant: &Tenant,
    input: NewFeePlan,
) -> AppResult<FeePlan> {
    let terms = checked_terms(tenant, input)?;
    let txn = state.db.begin().await?;
    let latest = current(&txn, tenant.id).await?;
    if let Some(latest) = latest.as_ref().filter(|p| p.terms == terms) {
        return Ok(latest.clone());
    }
    let version = latest.map_or(1, |p| p.version + 1);
    let inserted = fee_plans::ActiveModel {
        id: Set(FeePlanId::new_v7()),
        tenant_id: Set(tenant.id),
        version: Set(i32::try_from(version).map_err(|_| AppError::Internal("fee plan version"))?),
        fee_bps: Set(i32::from(terms.bps)),
        fixed_fee_amount: Set(terms.fixed.amount.get()),
        currency: Set(terms.fixed.currency.code().to_owned()),
        created_by: Set(auth.user_id()),
        created_at: Set(now()),
    }
    .insert(&txn)
    .await;
    let row = match inserted {
        Ok(row) => row,
        // Another request took this version number first: the same terms (a retried
        // request) are that version; other terms are a conflict.
        Err(e) if is_unique_violation(&e) => {
            txn.rollback().await?;
            return match current(&state.db, tenant.id).await? {
                Some(latest) if latest.terms == terms => Ok(latest),
                _ => Err(AppError::conflict(
                    "the fee plan was changed at the same time; look at it again",
                )),
            };
        }
        Err(e) => return Err(e.into()),
    };
    // The storefront's cached view shows the plan in force.
    state.commit(txn, Invalidations::tenant(tenant)).await?;
    tracing::info!(tenant.id = %tenant.id, version, bps = terms.bps, fixed = terms.fixed.amount.get(), "fee plan set");
    row.try_into()
}

/// The terms of a request, or a 422 naming the field: basis points 0..=10000, a fixed fee in
/// the storefront's currency and no larger than a price may be.
fn checked_terms(tenant: &Tenant, input: NewFeePlan) -> AppResult<FeeTerms> {
    if input.bps > 10_000 {
        return Err(AppError::invalid("fee_bps", "must be between 0 and 10000"));
    }
    let fixed = input.fixed.unwrap_or_else(|| Money::zero(tenant.currency));
    if fixed.currency != tenant.currency {
        return Err(AppError::invalid(
            "fixed_fee.currency",
            format!("this storefront sells in {}", tenant.currency),
        ));
    }
    check_price_cap("fixed_fee", fixed)?;
    Ok(FeeTerms {
        bps: input.bps,
        fixed,
    })
}
