//! Buying: checkout, orders, refunds.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use lyceum_gateway_core::GatewayId;
use lyceum_tenants::rbac::{action, resource};
use poem::web::Data;
use poem_openapi::param::{Header, Path};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::types::MoneyBody;
use super::{ApiTags, in_tenant};
use crate::auth::Auth;
use crate::problem::ApiResult;
use lyceum_domain::error::AppError;
use lyceum_domain::services::commerce::checkout::{self, Input, Item};
use lyceum_domain::services::commerce::orders::{self, Order, StaffOrder};
use lyceum_domain::services::commerce::refunds;
use lyceum_domain::services::tenancy::tenants;
use lyceum_domain::state::AppState;
use lyceum_web::client::client_ip;

/// A course to buy.
#[derive(Debug, Object)]
pub struct CheckoutItem {
    /// The course's slug.
    pub course: String,
    /// 1 for yourself; more buys team seats (with `team_id`).
    #[oai(default = "one")]
    pub quantity: u32,
}

fn one() -> u32 {
    1
}

/// Starting a purchase. Prices come from the catalog, never from this request.
#[derive(Debug, Object)]
pub struct CheckoutRequest {
    pub items: Vec<CheckoutItem>,
    pub coupon: Option<String>,
    pub team_id: Option<Uuid>,
    /// A gateway id (`sandbox`); the storefront's first enabled one by default.
    pub gateway: Option<String>,
}

/// A line of an order.
#[derive(Debug, Object)]
#[oai(rename = "OrderItem")]
pub struct OrderItemBody {
    pub course: String,
    pub title: String,
    pub quantity: u32,
    pub unit_price: MoneyBody,
    pub total: MoneyBody,
}

/// An order.
#[derive(Debug, Object)]
#[oai(rename = "Order")]
pub struct OrderBody {
    pub id: Uuid,
    /// `pending`, `paid`, `partially_paid`, `failed`, `expired`, `refunded`,
    /// `partially_refunded` or `disputed`.
    pub status: String,
    pub subtotal: MoneyBody,
    pub discount: MoneyBody,
    pub total: MoneyBody,
    /// Captured so far, as the gateway confirmed.
    pub paid: MoneyBody,
    pub refunded: MoneyBody,
    pub items: Vec<OrderItemBody>,
    /// The gateway that takes the payment; absent when nothing was to be paid.
    #[oai(skip_serializing_if_is_none)]
    pub gateway: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The platform's fee and the terms it was priced with; shown to the storefront's staff
    /// and platform admins, never to the buyer.
    #[oai(skip_serializing_if_is_none)]
    pub fee: Option<OrderFeeBody>,
    /// How the sale's money divides as it stands (after refunds); shown to the storefront's
    /// staff and platform admins, never to the buyer.
    #[oai(skip_serializing_if_is_none)]
    pub split: Option<SaleSplitBody>,
}

/// How a sale's money divides: the platform's fee and each payee's part of what the buyer
/// kept paid, by the ledger's rule.
#[derive(Debug, Object)]
#[oai(rename = "SaleSplit")]
pub struct SaleSplitBody {
    /// Captured minus refunded.
    pub kept: MoneyBody,
    /// The platform's fee on what is kept.
    pub fee: MoneyBody,
    /// Each payee's part; the owner's first.
    pub payees: Vec<PayeePartBody>,
    /// Whom the provider paid: `platform` (paid out by the platform), `split` (the seller
    /// got it minus the fee) or `seller` (the seller got all of it and owes the fee).
    pub settlement: String,
    /// When the sellers' part may be paid out.
    #[oai(skip_serializing_if_is_none)]
    pub hold_until: Option<DateTime<Utc>>,
    /// Whether the hold has ended.
    pub released: bool,
}

/// One payee's part of a sale.
#[derive(Debug, Object)]
#[oai(rename = "PayeePart")]
pub struct PayeePartBody {
    pub user_id: Uuid,
    pub email: String,
    pub name: String,
    pub amount: MoneyBody,
    /// The storefront's owner, who takes what rounding leaves.
    pub owner: bool,
}

/// The platform's fee on an order, as it was priced: later changes of the storefront's fee
/// plan do not reprice it.
#[derive(Debug, Object)]
#[oai(rename = "OrderFee")]
pub struct OrderFeeBody {
    /// What the platform takes of the order, as the order recorded it when it was priced:
    /// under fee plans `round_half_even(total × fee_bps / 10000) + fixed_fee`, at most the
    /// total, zero for a free order, rounded down to the step the order's gateway takes fees
    /// in (Stripe: tens of minor units in three-decimal currencies); orders priced before fee
    /// plans were rounded down. Absent for orders older than recorded fees.
    #[oai(skip_serializing_if_is_none)]
    pub amount: Option<MoneyBody>,
    /// The basis points the order was priced with.
    pub fee_bps: u16,
    /// The fixed fee per order the order was priced with.
    pub fixed_fee: MoneyBody,
    /// The storefront's fee plan version the order was priced with; absent when the
    /// platform's default applied, and for orders priced before fee plans had versions.
    #[oai(skip_serializing_if_is_none)]
    pub plan: Option<OrderFeePlanBody>,
}

/// Which version of the storefront's fee plan priced an order.
#[derive(Debug, Object)]
#[oai(rename = "OrderFeePlan")]
pub struct OrderFeePlanBody {
    pub id: Uuid,
    pub version: u32,
}

impl From<StaffOrder> for OrderBody {
    fn from(staff: StaffOrder) -> Self {
        let fee = &staff.order.fee;
        let fee = OrderFeeBody {
            amount: fee.amount.map(Into::into),
            fee_bps: fee.terms.bps,
            fixed_fee: fee.terms.fixed.into(),
            plan: staff.fee_plan.map(|p| OrderFeePlanBody {
                id: p.id.into(),
                version: p.version,
            }),
        };
        let currency = staff.order.total.currency;
        let money = |amount: i64| MoneyBody {
            amount,
            currency: currency.code().to_owned(),
        };
        let split = &staff.split;
        let split = SaleSplitBody {
            kept: money(split.kept),
            fee: money(split.fee),
            payees: split
                .payees
                .iter()
                .map(|p| PayeePartBody {
                    user_id: p.user_id.into(),
                    email: p.email.clone(),
                    name: p.name.clone(),
                    amount: money(p.amount),
                    owner: p.owner,
                })
                .collect(),
            settlement: split.settlement.as_str().to_owned(),
            hold_until: split.hold_until,
            released: split.released,
        };
        Self {
            fee: Some(fee),
            split: Some(split),
            ..staff.order.into()
        }
    }
}

/// The buyer's view of an order: without the platform's fee.
impl From<Order> for OrderBody {
    fn from(o: Order) -> Self {
        Self {
            id: o.id.into(),
            status: o.status.as_str().to_owned(),
            subtotal: o.subtotal.into(),
            discount: o.discount.into(),
            total: o.total.into(),
            paid: o.paid.into(),
            refunded: o.refunded.into(),
            items: o
                .lines
                .into_iter()
                .map(|l| OrderItemBody {
                    course: l.course_slug,
                    title: l.course_title,
                    quantity: l.quantity,
                    unit_price: l.unit_price.into(),
                    total: l.total.into(),
                })
                .collect(),
            gateway: o.gateway,
            created_at: o.created_at,
            expires_at: o.expires_at,
            fee: None,
            split: None,
        }
    }
}

/// A started checkout: send the buyer to `redirect_url`.
#[derive(Debug, Object)]
pub struct CheckoutResponse {
    pub order: OrderBody,
    pub redirect_url: String,
}

/// A refund to ask for; the whole refundable rest when `amount` is absent.
#[derive(Debug, Object)]
pub struct RefundRequest {
    /// How much to give back; everything still refundable when absent.
    pub amount: Option<MoneyBody>,
    /// Instead of `amount`: how many seats of a team's order of one course to give back. The
    /// amount is what those seats cost; once the gateway confirms, unassigned seats go first,
    /// then the most recently assigned (the team's managers are told whom).
    pub quantity: Option<u32>,
}

/// A requested refund.
#[derive(Debug, Object)]
#[oai(rename = "Refund")]
pub struct RefundBody {
    pub id: Uuid,
    pub order_id: Uuid,
    pub amount: MoneyBody,
    /// `requested` until the gateway confirms it.
    pub status: String,
    /// The gateway cannot return the money through its API (a Robokassa shop without
    /// Password #3): the buyer's access has ended and the refund is recorded, but the
    /// instructor must complete it in the provider's cabinet.
    pub manual: bool,
}

#[derive(Debug, ApiResponse)]
enum CheckoutStarted {
    /// The order (a new one, or the open one for the same courses).
    #[oai(status = 201)]
    Created(Json<CheckoutResponse>),
}

#[derive(Debug, ApiResponse)]
enum OrderResponse {
    #[oai(status = 200)]
    Ok(Json<OrderBody>),
}

#[derive(Debug, ApiResponse)]
enum OrdersResponse {
    #[oai(status = 200)]
    Ok(Json<Vec<OrderBody>>),
}

#[derive(Debug, ApiResponse)]
enum RefundAccepted {
    /// Asked of the gateway; the order changes when the gateway confirms.
    #[oai(status = 202)]
    Accepted(Json<RefundBody>),
}

/// Buying.
#[derive(Debug)]
pub struct OrdersApi;

#[OpenApi(prefix_path = "/api/v1")]
impl OrdersApi {
    /// Start a purchase. With an `Idempotency-Key`, a retried request returns the same order;
    /// a second checkout for the same courses returns the open order; a course already owned
    /// is a 409. Nothing is granted until the gateway confirms the payment.
    #[oai(
        path = "/tenants/:tenant/checkout",
        method = "post",
        operation_id = "create_checkout",
        tag = "ApiTags::Account"
    )]
    async fn create_checkout(
        &self,
        Data(state): Data<&Arc<AppState>>,
        req: &poem::Request,
        auth: Auth,
        tenant: Path<String>,
        #[oai(name = "Idempotency-Key")] idempotency_key: Header<Option<String>>,
        Json(body): Json<CheckoutRequest>,
    ) -> ApiResult<CheckoutStarted> {
        // Coupon codes are guessable by trying: every checkout naming one counts, before
        // any lookup, per address and per buyer.
        if body.coupon.is_some() {
            state
                .limits
                .coupon(client_ip(req, &state.settings), auth.user().id)?;
        }
        let (tenant, proof) = super::in_storefront::<resource::Checkout, action::Create>(
            state,
            &auth.principal(),
            &tenant,
        )
        .await?;
        let key = idempotency_key.0.filter(|k| !k.is_empty());
        if key.as_ref().is_some_and(|k| k.len() > 255) {
            return Err(AppError::invalid("Idempotency-Key", "at most 255 characters").into());
        }
        let input = Input {
            items: body
                .items
                .into_iter()
                .map(|i| Item {
                    course: i.course,
                    quantity: i.quantity,
                })
                .collect(),
            coupon: body.coupon,
            gateway: body
                .gateway
                .as_deref()
                .map(|g| {
                    g.parse::<GatewayId>()
                        .map_err(|e| AppError::invalid("gateway", e))
                })
                .transpose()?,
            team_id: body.team_id,
            idempotency_key: key,
        };
        let started = checkout::start(state, &proof, &tenant, auth.user(), input).await?;
        Ok(CheckoutStarted::Created(Json(CheckoutResponse {
            order: started.order.into(),
            redirect_url: started.redirect_url,
        })))
    }

    /// An order: its buyer, the storefront's staff and platform admins may see it.
    #[oai(
        path = "/tenants/:tenant/orders/:order",
        method = "get",
        operation_id = "get_order",
        tag = "ApiTags::Account"
    )]
    async fn get_order(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        order: Path<Uuid>,
    ) -> ApiResult<OrderResponse> {
        let tenant = tenants::find_by_slug(state, &tenant).await?;
        let principal = auth.principal();
        // The buyer reads their own order through their account…
        if let Ok(mine) = super::own_account::<action::Read>(state, &principal).await
            && let Some(order) = orders::load_own(&state.db, &mine, order.0.into()).await?
            && order.tenant_id == tenant.id
        {
            return Ok(OrderResponse::Ok(Json(order.into())));
        }
        // …anyone else needs the storefront's order read: the same 403 whether the order
        // exists or not, so ids cannot be probed.
        let proof = state
            .policy
            .authorize::<resource::Order, action::Read>(&state.db, &principal, tenant.domain())
            .await?;
        let order = orders::load(&state.db, &proof, &tenant, order.0.into()).await?;
        Ok(OrderResponse::Ok(Json(order.into())))
    }

    /// The signed-in user's purchases, newest first.
    #[oai(
        path = "/me/orders",
        method = "get",
        operation_id = "list_my_orders",
        tag = "ApiTags::Account"
    )]
    async fn list_my_orders(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
    ) -> ApiResult<OrdersResponse> {
        let proof = super::own_account::<action::Read>(state, &auth.principal()).await?;
        let list = orders::list_for_buyer(&state.db, &proof).await?;
        Ok(OrdersResponse::Ok(Json(
            list.into_iter().map(Into::into).collect(),
        )))
    }

    /// Refund an order, in full or in part (owner or platform admin). The gateway is asked;
    /// the order turns `refunded`/`partially_refunded`, and access goes, when it confirms.
    #[oai(
        path = "/tenants/:tenant/orders/:order/refunds",
        method = "post",
        operation_id = "create_refund",
        tag = "ApiTags::Studio"
    )]
    async fn create_refund(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        order: Path<Uuid>,
        Json(body): Json<RefundRequest>,
    ) -> ApiResult<RefundAccepted> {
        let (tenant, proof) =
            in_tenant::<resource::Refund, action::Create>(state, &auth.principal(), &tenant)
                .await?;
        let asked = match (&body.amount, body.quantity) {
            (Some(_), Some(_)) => {
                return Err(
                    AppError::invalid("quantity", "send `amount` or `quantity`, not both").into(),
                );
            }
            (Some(amount), None) => refunds::Asked::Amount(amount.parse("amount")?),
            (None, Some(seats)) => refunds::Asked::Seats(seats),
            (None, None) => refunds::Asked::Rest,
        };
        let refund = refunds::request(state, &proof, &tenant, order.0.into(), asked).await?;
        Ok(RefundAccepted::Accepted(Json(RefundBody {
            id: refund.id.into(),
            order_id: refund.order_id.into(),
            amount: refund.amount.into(),
            status: refund.status.as_str().to_owned(),
            manual: refund.manual,
        })))
    }
}
