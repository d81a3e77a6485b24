//! A storefront's money as its owner sees it: balances, revenue, co-instructors' shares of
//! each course, and when each payee is paid.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use lyceum_tenants::rbac::{action, resource};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::types::MoneyBody;
use super::{ApiTags, in_tenant};
use crate::auth::Auth;
use crate::problem::ApiResult;
use lyceum_domain::domain::Email;
use lyceum_domain::error::{AppError, AppResult};
use lyceum_domain::services::ledger::payouts::{self, PayeeSchedule, Schedule};
use lyceum_domain::services::ledger::reports::{self, Balance, Period, RevenueRow};
use lyceum_domain::services::ledger::shares::{self, Share};
use lyceum_domain::state::AppState;

/// An amount that may be negative (a balance a payee owes back), in minor units.
#[derive(Debug, Clone, Object)]
#[oai(rename = "SignedMoney")]
pub struct SignedMoneyBody {
    /// Minor units; negative when the payee owes it.
    pub amount: i64,
    pub currency: String,
}

impl SignedMoneyBody {
    pub fn new(amount: i64, currency: &str) -> Self {
        Self {
            amount,
            currency: currency.to_owned(),
        }
    }
}

/// Balances in one currency, as owed to payees.
#[derive(Debug, Object)]
#[oai(rename = "Balance")]
pub struct BalanceBody {
    pub currency: String,
    /// Sales still within their hold (the refund window).
    pub pending: SignedMoneyBody,
    /// Payable now; negative when refunds took back more than later sales brought.
    pub available: SignedMoneyBody,
    /// In payouts not yet confirmed.
    pub in_transit: SignedMoneyBody,
    /// Delivered: by confirmed payouts, and by providers paying the seller directly.
    pub paid_out: SignedMoneyBody,
    /// Owed between the storefront's payees, outside the platform's payouts: a
    /// co-instructor's share of sales the provider paid the owner directly — positive for the
    /// co-instructor, negative for the owner who owes it.
    pub seller_due: SignedMoneyBody,
}

impl From<Balance> for BalanceBody {
    fn from(b: Balance) -> Self {
        let code = b.currency.code();
        Self {
            currency: code.to_owned(),
            pending: SignedMoneyBody::new(b.pending, code),
            available: SignedMoneyBody::new(b.available, code),
            in_transit: SignedMoneyBody::new(b.in_transit, code),
            paid_out: SignedMoneyBody::new(b.paid_out, code),
            seller_due: SignedMoneyBody::new(b.seller_due, code),
        }
    }
}

/// One payee's balances.
#[derive(Debug, Object)]
#[oai(rename = "PayeeBalance")]
pub struct PayeeBalanceBody {
    pub user_id: Uuid,
    pub email: String,
    pub name: String,
    #[oai(flatten)]
    pub balance: BalanceBody,
}

/// A storefront's balances.
#[derive(Debug, Object)]
#[oai(rename = "TenantBalance")]
pub struct TenantBalanceBody {
    /// Per currency, everyone's together.
    pub balances: Vec<BalanceBody>,
    /// Per payee and currency.
    pub payees: Vec<PayeeBalanceBody>,
}

/// Revenue of one day or month in one currency.
#[derive(Debug, Object)]
#[oai(rename = "RevenueRow")]
pub struct RevenueRowBody {
    /// `2026-11-29` or `2026-11` (UTC).
    pub period: String,
    /// Payments captured.
    pub gross: SignedMoneyBody,
    /// Refunds and lost disputes.
    pub refunds: SignedMoneyBody,
    /// The platform's fees, net of what refunds took back.
    pub fees: SignedMoneyBody,
    /// What the sellers earned: gross − refunds − fees.
    pub net: SignedMoneyBody,
}

impl From<RevenueRow> for RevenueRowBody {
    fn from(r: RevenueRow) -> Self {
        let c = r.currency.as_str();
        Self {
            gross: SignedMoneyBody::new(r.gross, c),
            refunds: SignedMoneyBody::new(r.refunds, c),
            fees: SignedMoneyBody::new(r.fees, c),
            net: SignedMoneyBody::new(r.net, c),
            period: r.period,
        }
    }
}

/// One payee's share of a course.
#[derive(Debug, Object)]
#[oai(rename = "CourseShare")]
pub struct ShareBody {
    pub user_id: Uuid,
    pub email: String,
    /// Basis points of the sellers' part (after the platform's fee): 2500 = 25 %.
    pub bps: u16,
}

impl From<Share> for ShareBody {
    fn from(s: Share) -> Self {
        Self {
            user_id: s.user_id.into(),
            email: s.email,
            bps: s.bps,
        }
    }
}

/// A payee and their share, as an owner sets it.
#[derive(Debug, Object)]
pub struct ShareInput {
    /// A registered user's address.
    pub email: String,
    /// Basis points of the sellers' part, 1–10000.
    pub bps: u16,
}

/// A course's shares: all of them, summing to 10000; empty pays the owner everything.
#[derive(Debug, Object)]
pub struct SetSharesRequest {
    pub shares: Vec<ShareInput>,
}

/// When a payee is paid.
#[derive(Debug, Object)]
#[oai(rename = "PayoutSchedule")]
pub struct ScheduleBody {
    /// `weekly` (the default), `monthly` or `threshold`.
    pub schedule: String,
    /// For `threshold`: the least available balance paid out, in the storefront's currency.
    #[oai(skip_serializing_if_is_none)]
    pub threshold: Option<MoneyBody>,
}

#[derive(Debug, ApiResponse)]
enum BalanceResponse {
    #[oai(status = 200)]
    Ok(Json<TenantBalanceBody>),
}

#[derive(Debug, ApiResponse)]
enum RevenueResponse {
    /// One row per period and currency with any activity, oldest first.
    #[oai(status = 200)]
    Ok(Json<Vec<RevenueRowBody>>),
}

#[derive(Debug, ApiResponse)]
enum SharesResponse {
    #[oai(status = 200)]
    Ok(Json<Vec<ShareBody>>),
}

#[derive(Debug, ApiResponse)]
enum ScheduleResponse {
    #[oai(status = 200)]
    Ok(Json<ScheduleBody>),
}

/// A storefront's earnings.
#[derive(Debug)]
pub struct EarningsApi;

#[OpenApi(prefix_path = "/api/v1/tenants", tag = "ApiTags::Studio")]
impl EarningsApi {
    /// The storefront's balances per currency, everyone's together and per payee (owner).
    /// A sale is `pending` during the storefront's hold, then `available` until paid out.
    #[oai(
        path = "/:tenant/balance",
        method = "get",
        operation_id = "get_balance"
    )]
    async fn get_balance(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
    ) -> ApiResult<BalanceResponse> {
        let (tenant, proof) =
            in_tenant::<resource::Balance, action::Read>(state, &auth.principal(), &tenant).await?;
        let balance = reports::tenant_balance(state, &proof, &tenant).await?;
        Ok(BalanceResponse::Ok(Json(TenantBalanceBody {
            balances: balance.totals.into_iter().map(Into::into).collect(),
            payees: balance
                .payees
                .into_iter()
                .map(|p| PayeeBalanceBody {
                    user_id: p.user_id.into(),
                    email: p.email,
                    name: p.name,
                    balance: p.balance.into(),
                })
                .collect(),
        })))
    }

    /// Revenue by `day` or `month` (`by`, default `day`) from `from` (default: 30 days ago)
    /// up to `to` (default: now), from the ledger (owner).
    #[oai(
        path = "/:tenant/revenue",
        method = "get",
        operation_id = "get_revenue"
    )]
    async fn get_revenue(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        by: Query<Option<String>>,
        from: Query<Option<DateTime<Utc>>>,
        to: Query<Option<DateTime<Utc>>>,
    ) -> ApiResult<RevenueResponse> {
        let (tenant, proof) =
            in_tenant::<resource::Balance, action::Read>(state, &auth.principal(), &tenant).await?;
        let (period, from, to) = report_range(by.0.as_deref(), from.0, to.0)?;
        let rows = reports::tenant_revenue(state, &proof, &tenant, period, from, to).await?;
        Ok(RevenueResponse::Ok(Json(
            rows.into_iter().map(Into::into).collect(),
        )))
    }

    /// Who earns from a course besides its owner, in basis points of the sellers' part (owner).
    #[oai(
        path = "/:tenant/courses/:course/shares",
        method = "get",
        operation_id = "list_course_shares"
    )]
    async fn list_course_shares(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        course: Path<String>,
    ) -> ApiResult<SharesResponse> {
        let (tenant, proof) =
            in_tenant::<resource::Payee, action::Read>(state, &auth.principal(), &tenant).await?;
        let list = shares::list(state, &proof, &tenant, &course).await?;
        Ok(SharesResponse::Ok(Json(
            list.into_iter().map(Into::into).collect(),
        )))
    }

    /// Set a course's shares (owner): registered users by e-mail, with basis points of the
    /// sellers' part (what is left after the platform's fee) summing to exactly 10000; the
    /// owner may be listed or not, and takes what rounding leaves. An empty list pays the
    /// owner everything. Orders already made keep the shares they were made with.
    #[oai(
        path = "/:tenant/courses/:course/shares",
        method = "put",
        operation_id = "set_course_shares"
    )]
    async fn set_course_shares(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        course: Path<String>,
        Json(body): Json<SetSharesRequest>,
    ) -> ApiResult<SharesResponse> {
        let (tenant, proof) =
            in_tenant::<resource::Payee, action::Update>(state, &auth.principal(), &tenant).await?;
        let input = body
            .shares
            .iter()
            .enumerate()
            .map(|(i, s)| {
                Ok((
                    Email::parse(&format!("shares[{i}].email"), &s.email)?,
                    s.bps,
                ))
            })
            .collect::<AppResult<Vec<_>>>()?;
        let saved = shares::replace(state, &proof, &tenant, &course, &input).await?;
        Ok(SharesResponse::Ok(Json(
            saved.into_iter().map(Into::into).collect(),
        )))
    }

    /// Set when a payee of the storefront is paid (owner): `weekly`, `monthly`, or
    /// `threshold` with the least balance worth a payout.
    #[oai(
        path = "/:tenant/payees/:user_id/schedule",
        method = "put",
        operation_id = "set_payout_schedule"
    )]
    async fn set_payout_schedule(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        user_id: Path<Uuid>,
        Json(body): Json<ScheduleBody>,
    ) -> ApiResult<ScheduleResponse> {
        let (tenant, proof) =
            in_tenant::<resource::Payee, action::Update>(state, &auth.principal(), &tenant).await?;
        let schedule = Schedule::parse(&body.schedule).ok_or_else(|| {
            AppError::invalid("schedule", "must be `weekly`, `monthly` or `threshold`")
        })?;
        let threshold = body
            .threshold
            .as_ref()
            .map(|m| {
                let money = m.parse_price("threshold")?;
                if money.currency != tenant.currency {
                    return Err(AppError::invalid(
                        "threshold.currency",
                        format!("must be the storefront's currency, {}", tenant.currency),
                    ));
                }
                Ok(money.amount.get())
            })
            .transpose()?;
        let saved = payouts::set_schedule(
            state,
            &proof,
            &tenant,
            user_id.0.into(),
            PayeeSchedule {
                schedule,
                threshold,
            },
        )
        .await?;
        Ok(ScheduleResponse::Ok(Json(ScheduleBody {
            schedule: saved.schedule.as_str().to_owned(),
            threshold: saved.threshold.and_then(|t| {
                lyceum_domain::domain::Money::new(t, tenant.currency)
                    .ok()
                    .map(Into::into)
            }),
        })))
    }
}

/// The longest range a revenue report covers.
const MAX_REPORT_DAYS: i64 = 3_660;

/// A report's step and range: `by` is `day` or `month` (default `day`); `from` defaults to 30
/// days (by day) or a year (by month) before `to`, which defaults to now.
pub(crate) fn report_range(
    by: Option<&str>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> AppResult<(Period, DateTime<Utc>, DateTime<Utc>)> {
    let period = match by {
        None => Period::Day,
        Some(name) => Period::parse(name)
            .ok_or_else(|| AppError::invalid("by", "must be `day` or `month`"))?,
    };
    let to = to.unwrap_or_else(Utc::now);
    let from = from.unwrap_or_else(|| {
        to - chrono::Duration::days(match period {
            Period::Day => 30,
            Period::Month => 365,
        })
    });
    if from >= to {
        return Err(AppError::invalid("from", "must be before `to`"));
    }
    if to - from > chrono::Duration::days(MAX_REPORT_DAYS) {
        return Err(AppError::invalid(
            "from",
            format!("a report covers at most {MAX_REPORT_DAYS} days"),
        ));
    }
    Ok((period, from, to))
}
