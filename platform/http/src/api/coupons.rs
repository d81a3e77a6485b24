//! Discount codes (owner, editors).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use lyceum_tenants::rbac::{action, resource};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use uuid::Uuid;

use super::types::{Created, MoneyBody};
use super::{ApiTags, in_tenant};
use crate::auth::Auth;
use crate::problem::ApiResult;
use lyceum_domain::error::AppError;
use lyceum_domain::services::commerce::coupons::{self, Discount, NewCoupon};
use lyceum_domain::state::AppState;

/// A new coupon: exactly one of `percent_off` and `amount_off`.
#[derive(Debug, Object)]
pub struct CreateCouponRequest {
    /// 3–32 letters, digits, `-` or `_`; matched case-insensitively.
    pub code: String,
    /// 1–100.
    pub percent_off: Option<u8>,
    /// In the storefront's currency, at most 100000000000 minor units.
    pub amount_off: Option<MoneyBody>,
    /// Uses in all; a checkout reserves one until its order is paid (final) or can no longer
    /// be paid (given back).
    pub max_redemptions: Option<u32>,
    /// Uses one buyer may hold at once (reserved or final).
    pub max_redemptions_per_buyer: Option<u32>,
    pub expires_at: Option<DateTime<Utc>>,
    /// Course slugs it is limited to; every course when absent.
    #[oai(default)]
    pub courses: Vec<String>,
}

/// A coupon.
#[derive(Debug, Object)]
#[oai(rename = "Coupon")]
pub struct CouponBody {
    pub id: Uuid,
    pub code: String,
    #[oai(skip_serializing_if_is_none)]
    pub percent_off: Option<u8>,
    #[oai(skip_serializing_if_is_none)]
    pub amount_off: Option<MoneyBody>,
    #[oai(skip_serializing_if_is_none)]
    pub max_redemptions: Option<u32>,
    #[oai(skip_serializing_if_is_none)]
    pub max_redemptions_per_buyer: Option<u32>,
    /// Final uses: paid orders.
    pub redemptions: u32,
    /// Uses held by orders that can still be paid.
    pub reserved: u32,
    #[oai(skip_serializing_if_is_none)]
    pub expires_at: Option<DateTime<Utc>>,
    pub course_ids: Vec<Uuid>,
}

/// Discount codes.
#[derive(Debug)]
pub struct CouponsApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Studio")]
impl CouponsApi {
    /// Create a coupon.
    #[oai(
        path = "/tenants/:tenant/coupons",
        method = "post",
        operation_id = "create_coupon"
    )]
    async fn create_coupon(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        Json(body): Json<CreateCouponRequest>,
    ) -> ApiResult<Created<CouponBody>> {
        let (tenant, proof) =
            in_tenant::<resource::Coupon, action::Create>(state, &auth.principal(), &tenant)
                .await?;
        let discount = match (body.percent_off, &body.amount_off) {
            (Some(p), None) => Discount::Percent(p),
            (None, Some(m)) => Discount::Amount(m.parse_price("amount_off")?),
            _ => {
                return Err(AppError::invalid(
                    "percent_off",
                    "give exactly one of percent_off and amount_off",
                )
                .into());
            }
        };
        let coupon = coupons::create(
            state,
            &proof,
            &tenant,
            NewCoupon {
                code: coupons::parse_code(&body.code)?,
                discount,
                max_redemptions: body.max_redemptions,
                max_redemptions_per_buyer: body.max_redemptions_per_buyer,
                expires_at: body.expires_at,
                courses: body.courses,
            },
        )
        .await?;
        let (percent_off, amount_off) = match coupon.discount {
            Discount::Percent(p) => (Some(p), None),
            Discount::Amount(m) => (None, Some(m.into())),
        };
        Ok(Created::Created(Json(CouponBody {
            id: coupon.id.into(),
            code: coupon.code,
            percent_off,
            amount_off,
            max_redemptions: coupon.max_redemptions,
            max_redemptions_per_buyer: coupon.max_redemptions_per_buyer,
            redemptions: coupon.redemptions,
            reserved: coupon.reserved,
            expires_at: coupon.expires_at,
            course_ids: coupon.course_ids.into_iter().map(Into::into).collect(),
        })))
    }
}
