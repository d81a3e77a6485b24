//! Running the platform (platform admins).

use std::sync::Arc;

use lyceum_tenants::TenantStatus;
use lyceum_tenants::rbac::{Verb, action, resource};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::ApiTags;
use super::gateways::{GatewayAccountBody, gateway_named};
use super::types::{FeePlanBody, MoneyBody, TenantBody};
use crate::auth::Auth;
use crate::problem::ApiResult;
use lyceum_domain::error::{AppError, AppResult};
use lyceum_domain::services::commerce::fee_plans::{self, NewFeePlan};
use lyceum_domain::services::gateway_accounts;
use lyceum_domain::services::tenancy::tenants;
use lyceum_domain::state::AppState;

/// A storefront's platform fee: a new version of its fee plan.
#[derive(Debug, Object)]
pub struct FeePlanRequest {
    /// Basis points of each sale the platform keeps: 1000 = 10 %.
    pub fee_bps: u16,
    /// A fixed fee per paid order, in the storefront's currency; none when absent.
    pub fixed_fee: Option<MoneyBody>,
}

#[derive(Debug, ApiResponse)]
enum FeePlansResponse {
    /// Every version, newest first; empty when the storefront pays the platform's default.
    #[oai(status = 200)]
    Ok(Json<Vec<FeePlanBody>>),
}

#[derive(Debug, ApiResponse)]
enum TenantResponse {
    #[oai(status = 200)]
    Ok(Json<TenantBody>),
}

#[derive(Debug, ApiResponse)]
enum TenantsResponse {
    #[oai(status = 200)]
    Ok(Json<Vec<TenantBody>>),
}

/// Platform administration.
#[derive(Debug)]
pub struct AdminApi;

/// Checks `A` on the platform itself: the platform admins' proof.
pub(super) async fn admin_proof<A: Verb>(
    state: &AppState,
    auth: &Auth,
) -> AppResult<lyceum_tenants::rbac::Authorized<resource::Platform, A>> {
    super::in_platform(state, &auth.principal()).await
}

#[OpenApi(prefix_path = "/api/v1/admin", tag = "ApiTags::Admin")]
impl AdminApi {
    /// Every storefront, newest first; `status` filters (e.g. `pending` for the approval queue).
    #[oai(path = "/tenants", method = "get", operation_id = "list_tenants")]
    async fn list_tenants(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        status: Query<Option<String>>,
    ) -> ApiResult<TenantsResponse> {
        let proof = admin_proof::<action::Read>(state, &auth).await?;
        let status = status
            .0
            .as_deref()
            .map(|s| {
                s.parse::<TenantStatus>()
                    .map_err(|e| AppError::invalid("status", e))
            })
            .transpose()?;
        let list = tenants::list(state, &proof, status).await?;
        Ok(TenantsResponse::Ok(Json(
            list.into_iter().map(Into::into).collect(),
        )))
    }

    /// Approve a storefront: it becomes `active` and starts selling.
    #[oai(
        path = "/tenants/:tenant/approve",
        method = "post",
        operation_id = "approve_tenant"
    )]
    async fn approve_tenant(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
    ) -> ApiResult<TenantResponse> {
        self.change_status(state, &auth, &tenant, TenantStatus::Active)
            .await
    }

    /// Suspend a storefront: its catalog disappears and it sells nothing until approved again.
    #[oai(
        path = "/tenants/:tenant/suspend",
        method = "post",
        operation_id = "suspend_tenant"
    )]
    async fn suspend_tenant(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
    ) -> ApiResult<TenantResponse> {
        self.change_status(state, &auth, &tenant, TenantStatus::Suspended)
            .await
    }

    /// Set a storefront's platform fee: basis points of each order's total plus an optional
    /// fixed fee per order, as a new version of its fee plan (the same terms again add none).
    /// Orders keep the version they were priced with.
    #[oai(
        path = "/tenants/:tenant/fee-plan",
        method = "put",
        operation_id = "set_fee_plan"
    )]
    async fn set_fee_plan(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        Json(body): Json<FeePlanRequest>,
    ) -> ApiResult<TenantResponse> {
        let proof = admin_proof::<action::Update>(state, &auth).await?;
        let tenant = tenants::find_by_slug(state, &tenant).await?;
        let plan = NewFeePlan {
            bps: body.fee_bps,
            fixed: body
                .fixed_fee
                .as_ref()
                .map(|m| m.parse("fixed_fee"))
                .transpose()?,
        };
        let updated = tenants::set_fee_plan(state, &proof, &tenant, plan).await?;
        Ok(TenantResponse::Ok(Json(updated.into())))
    }

    /// Every version of a storefront's fee plan, newest first.
    #[oai(
        path = "/tenants/:tenant/fee-plans",
        method = "get",
        operation_id = "list_fee_plans"
    )]
    async fn list_fee_plans(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
    ) -> ApiResult<FeePlansResponse> {
        let proof = admin_proof::<action::Read>(state, &auth).await?;
        let tenant = tenants::find_by_slug(state, &tenant).await?;
        let plans = fee_plans::list(state, &proof, &tenant).await?;
        Ok(FeePlansResponse::Ok(Json(
            plans.into_iter().map(Into::into).collect(),
        )))
    }

    /// Confirm the seller account a storefront named inside the platform's own account at a
    /// provider (YooKassa split payments: its `account_id` in the platform's shop), which the
    /// provider offers no way to check. Until then the storefront's account is
    /// `pending_approval` and sells nothing through it.
    #[oai(
        path = "/tenants/:tenant/gateways/:gateway/approve",
        method = "post",
        operation_id = "approve_seller_account"
    )]
    async fn approve_seller_account(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        gateway: Path<String>,
    ) -> ApiResult<SellerApproved> {
        let proof = admin_proof::<action::Approve>(state, &auth).await?;
        let tenant = tenants::find_by_slug(state, &tenant).await?;
        let gateway = gateway_named(&gateway)?;
        let approved = gateway_accounts::approve_seller(state, &proof, &tenant, gateway).await?;
        Ok(SellerApproved::Ok(Json(approved.into())))
    }
}

#[derive(Debug, ApiResponse)]
enum SellerApproved {
    /// The storefront's account, now able to take payments.
    #[oai(status = 200)]
    Ok(Json<GatewayAccountBody>),
}

impl AdminApi {
    async fn change_status(
        &self,
        state: &AppState,
        auth: &Auth,
        slug: &str,
        status: TenantStatus,
    ) -> ApiResult<TenantResponse> {
        let proof = admin_proof::<action::Approve>(state, auth).await?;
        let tenant = tenants::find_by_slug(state, slug).await?;
        let updated = tenants::set_status(state, &proof, &tenant, status).await?;
        Ok(TenantResponse::Ok(Json(updated.into())))
    }
}
