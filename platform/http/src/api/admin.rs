//! Running the platform (platform admins).

use std::sync::Arc;

use lyceum_gateway_core::GatewayId;
use lyceum_tenants::TenantStatus;
use lyceum_tenants::rbac::{Verb, action, resource};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::ApiTags;
use super::gateways::{GatewayAccountBody, gateway_named};
use super::types::{FeePlanBody, MoneyBody, TenantBody};
use crate::auth::Auth;
use crate::problem::ApiResult;
use lyceum_domain::error::{AppError, AppResult};
use lyceum_domain::services::commerce::fee_plans::{self, NewFeePlan};
use lyceum_domain::services::gateway_accounts;
use lyceum_domain::services::tenancy::tenants;
use lyceum_domain::services::webhooks::{
    self, DeliveryFilter, LoggedEvent, Outcome, WebhookDelivery,
};
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

    /// The webhook log: every delivery providers made to the webhook paths (verified, refused
    /// or not verifiable yet) and every replay, newest first, kept 30 days; `gateway` and
    /// `outcome` filter.
    #[oai(
        path = "/webhooks",
        method = "get",
        operation_id = "list_webhook_deliveries"
    )]
    async fn list_webhook_deliveries(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        /// Only deliveries to this gateway (`sandbox`, `stripe`, `yookassa`, `robokassa`).
        gateway: Query<Option<String>>,
        /// Only deliveries with this outcome (`applied`, `duplicate`, `ignored`, `flagged`,
        /// `failed`, `refused`).
        outcome: Query<Option<String>>,
        /// `next_before` of the previous page: deliveries received before that one.
        before: Query<Option<Uuid>>,
        /// Page size, 1–100 (default 20).
        limit: Query<Option<u64>>,
    ) -> ApiResult<WebhookDeliveriesResponse> {
        let proof =
            super::in_platform::<resource::WebhookLog, action::Read>(state, &auth.principal())
                .await?;
        let filter = DeliveryFilter {
            gateway: gateway
                .0
                .as_deref()
                .map(|g| {
                    g.parse::<GatewayId>()
                        .map_err(|_| AppError::invalid("gateway", "no such gateway"))
                })
                .transpose()?,
            outcome: outcome
                .0
                .as_deref()
                .map(|o| {
                    Outcome::parse(o).ok_or_else(|| AppError::invalid("outcome", "no such outcome"))
                })
                .transpose()?,
            before: before.0.map(Into::into),
            limit: limit.0,
        };
        let page = webhooks::list(state, &proof, filter).await?;
        Ok(WebhookDeliveriesResponse::Ok(Json(WebhookDeliveryPage {
            items: page.items.into_iter().map(Into::into).collect(),
            next_before: page.next_before.map(|id| id.into_uuid()),
        })))
    }

    /// One delivery of the webhook log, with the events it carried.
    #[oai(
        path = "/webhooks/:delivery",
        method = "get",
        operation_id = "get_webhook_delivery"
    )]
    async fn get_webhook_delivery(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        delivery: Path<Uuid>,
    ) -> ApiResult<WebhookDeliveryResponse> {
        let proof =
            super::in_platform::<resource::WebhookLog, action::Read>(state, &auth.principal())
                .await?;
        let found = webhooks::get(state, &proof, delivery.0.into()).await?;
        Ok(WebhookDeliveryResponse::Ok(Json(found.into())))
    }

    /// Replay a verified delivery: its stored events go through the payment pipeline again,
    /// as from its gateway. Idempotent: an event already applied is a `duplicate` and changes
    /// nothing; one that failed is applied now. The replay is logged as a delivery of its own.
    /// A delivery that was not verified has nothing to replay (409).
    #[oai(
        path = "/webhooks/:delivery/replay",
        method = "post",
        operation_id = "replay_webhook_delivery"
    )]
    async fn replay_webhook_delivery(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        delivery: Path<Uuid>,
    ) -> ApiResult<WebhookReplayed> {
        let proof =
            super::in_platform::<resource::WebhookLog, action::Update>(state, &auth.principal())
                .await?;
        let replayed = webhooks::replay(state, &proof, delivery.0.into()).await?;
        Ok(WebhookReplayed::Ok(Json(replayed.into())))
    }
}

/// One event a logged delivery carried, as parsed, and what became of it.
#[derive(Debug, Object)]
pub struct WebhookEventBody {
    /// The provider's id of the event; each `(gateway, id)` is recorded once.
    pub id: String,
    /// `payment_succeeded`, `payment_failed`, `payment_expired`, `refund_succeeded`,
    /// `dispute_opened`, `dispute_won` or `dispute_lost`.
    pub kind: String,
    /// The order it is about, as the provider echoed it.
    pub order_id: Uuid,
    /// The provider's payment id.
    pub payment_id: String,
    /// Captured, refunded or disputed amount.
    pub amount: MoneyBody,
    /// When it happened at the provider.
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    /// `applied` (recorded among the order's facts), `duplicate` (already recorded; nothing
    /// changed), `ignored` (not ours to apply: unknown order, another storefront's or
    /// session's), `flagged` (paid in another currency; the order was flagged), `failed` (not
    /// applied because of an error of ours) or `refused` (its delivery paid another amount
    /// than an order's total to a provider that takes only exact amounts).
    pub outcome: String,
    /// Why it was ignored, refused or not applied.
    #[oai(skip_serializing_if_is_none)]
    pub reason: Option<String>,
}

impl From<LoggedEvent> for WebhookEventBody {
    fn from(logged: LoggedEvent) -> Self {
        let event = logged.event;
        Self {
            id: event.provider_event_id,
            kind: event.kind.as_str().to_owned(),
            order_id: event.order_id,
            payment_id: event.provider_payment_id,
            amount: event.amount.into(),
            occurred_at: event.occurred_at,
            outcome: logged.outcome.as_str().to_owned(),
            reason: logged.reason,
        }
    }
}

/// A delivery a provider made to a webhook path, or a platform admin's replay of one. Kept 30
/// days.
#[derive(Debug, Object)]
pub struct WebhookDeliveryBody {
    pub id: Uuid,
    /// The gateway of its path: `sandbox`, `stripe`, `yookassa` or `robokassa`.
    pub gateway: String,
    /// The storefront of its path (`/webhooks/{gateway}/{tenant}`), by slug; absent on the
    /// platform's own path.
    #[oai(skip_serializing_if_is_none)]
    pub tenant: Option<String>,
    /// That storefront's id.
    #[oai(skip_serializing_if_is_none)]
    pub tenant_id: Option<Uuid>,
    pub received_at: chrono::DateTime<chrono::Utc>,
    /// The sender's address as the trusted proxies vouch for it; absent for a replay.
    #[oai(skip_serializing_if_is_none)]
    pub peer: Option<String>,
    /// `verified`, `refused` (not trusted; nothing of it was read) or `unavailable` (could not
    /// be checked now; the provider delivers again).
    pub verification: String,
    /// Why it was refused or could not be verified, in a few fixed words (never the body).
    #[oai(skip_serializing_if_is_none)]
    pub reason: Option<String>,
    /// The events it carried and what became of each; empty unless verified.
    pub events: Vec<WebhookEventBody>,
    /// What became of it: `refused` when verification refused it, `failed` when it could not be
    /// verified now; otherwise the weightiest of its events' outcomes (`failed`, `refused`,
    /// `flagged`, `applied`, `ignored`, `duplicate`), or `ignored` when it carried none.
    pub outcome: String,
    /// More about the outcome: the reasons of its events'.
    #[oai(skip_serializing_if_is_none)]
    pub detail: Option<String>,
    /// For a replay: the delivery it replayed.
    #[oai(skip_serializing_if_is_none)]
    pub replay_of: Option<Uuid>,
}

impl From<WebhookDelivery> for WebhookDeliveryBody {
    fn from(d: WebhookDelivery) -> Self {
        Self {
            id: d.id.into_uuid(),
            gateway: d.gateway.as_str().to_owned(),
            tenant: d.tenant_slug,
            tenant_id: d.tenant_id.map(|t| t.into_uuid()),
            received_at: d.received_at,
            peer: d.peer.map(|p| p.to_string()),
            verification: d.verification.as_str().to_owned(),
            reason: d.reason,
            events: d.events.into_iter().map(Into::into).collect(),
            outcome: d.outcome.as_str().to_owned(),
            detail: d.detail,
            replay_of: d.replay_of.map(|r| r.into_uuid()),
        }
    }
}

/// A page of the webhook log, newest first.
#[derive(Debug, Object)]
pub struct WebhookDeliveryPage {
    pub items: Vec<WebhookDeliveryBody>,
    /// Pass as `before` for the next page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    pub next_before: Option<Uuid>,
}

#[derive(Debug, ApiResponse)]
enum WebhookDeliveriesResponse {
    #[oai(status = 200)]
    Ok(Json<WebhookDeliveryPage>),
}

#[derive(Debug, ApiResponse)]
enum WebhookDeliveryResponse {
    #[oai(status = 200)]
    Ok(Json<WebhookDeliveryBody>),
}

#[derive(Debug, ApiResponse)]
enum WebhookReplayed {
    /// The replay's own entry in the log (`replay_of` names the delivery replayed), with what
    /// became of each event this time.
    #[oai(status = 200)]
    Ok(Json<WebhookDeliveryBody>),
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
