//! The platform's books (platform admins): the ledger's totals and its lines as CSV, revenue
//! and fee income, storefronts' holds, and payouts — running them, listing and exporting
//! them, marking them paid or failed.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use lyceum_tenants::rbac::action;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::ApiTags;
use super::admin::admin_proof;
use super::earnings::{RevenueRowBody, SignedMoneyBody, report_range};
use super::types::TenantBody;
use crate::auth::Auth;
use crate::problem::ApiResult;
use lyceum_domain::error::{AppError, AppResult};
use lyceum_domain::services::ledger::payouts::{self, Payout, PayoutStatus};
use lyceum_domain::services::ledger::{holds, reports};
use lyceum_domain::services::tenancy::tenants;
use lyceum_domain::state::AppState;

/// One ledger account's total in one currency.
#[derive(Debug, Object)]
#[oai(rename = "LedgerAccount")]
pub struct AccountBody {
    /// `clearing`, `disputes`, `refunds`, `platform_fees`, `pending`, `available`,
    /// `in_transit`, `paid_out` or `seller_due` (the payee accounts summed over payees).
    pub account: String,
    /// The provider, for `clearing`.
    #[oai(skip_serializing_if_is_none)]
    pub gateway: Option<String>,
    /// Debit positive, credit negative.
    pub balance: SignedMoneyBody,
    /// Everything ever debited (positive).
    pub debits: SignedMoneyBody,
    /// Everything ever credited (negative). For `refunds`, whose balance is always zero, the
    /// turnover is what buyers got back.
    pub credits: SignedMoneyBody,
}

/// The ledger in one currency.
#[derive(Debug, Object)]
#[oai(rename = "LedgerCurrency")]
pub struct LedgerCurrencyBody {
    pub currency: String,
    pub accounts: Vec<AccountBody>,
    /// The sum of every account: zero when the books balance.
    pub sum: SignedMoneyBody,
}

/// The whole ledger.
#[derive(Debug, Object)]
#[oai(rename = "Ledger")]
pub struct LedgerBody {
    /// Every currency sums to zero and so does every transaction.
    pub balanced: bool,
    /// Transactions whose entries do not sum to zero.
    pub unbalanced_transactions: u64,
    pub currencies: Vec<LedgerCurrencyBody>,
}

/// A payout.
#[derive(Debug, Object)]
#[oai(rename = "Payout")]
pub struct PayoutBody {
    pub id: Uuid,
    pub tenant: String,
    pub payee_id: Uuid,
    pub payee_email: String,
    pub payee_name: String,
    pub amount: SignedMoneyBody,
    /// `in_transit`, `paid` or `failed`.
    pub status: String,
    /// `manual`: the platform sends it (see the CSV export) and marks it paid.
    pub method: String,
    /// The schedule's period it pays: `2026-W48`, `2026-11`, or a day for threshold payouts.
    pub period: String,
    #[oai(skip_serializing_if_is_none)]
    pub reference: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub failure: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Payout> for PayoutBody {
    fn from(p: Payout) -> Self {
        Self {
            id: p.id.into(),
            amount: SignedMoneyBody::new(p.amount, &p.currency),
            tenant: p.tenant_slug,
            payee_id: p.payee_id.into(),
            payee_email: p.payee_email,
            payee_name: p.payee_name,
            status: p.status.as_str().to_owned(),
            method: p.method.as_str().to_owned(),
            period: p.period,
            reference: p.reference,
            failure: p.failure,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// Confirming a payout arrived.
#[derive(Debug, Object)]
pub struct PayoutPaidRequest {
    /// The bank's or provider's reference for the transfer.
    pub reference: Option<String>,
}

/// Recording that a payout did not arrive.
#[derive(Debug, Object)]
pub struct PayoutFailedRequest {
    /// Why, as the bank or provider said.
    pub reason: String,
}

/// A storefront's hold.
#[derive(Debug, Object)]
pub struct PayoutHoldRequest {
    /// Days a sale stays pending before its sellers may be paid (0–365); absent or null for
    /// the platform's default.
    pub days: Option<u16>,
}

#[derive(Debug, ApiResponse)]
enum LedgerResponse {
    #[oai(status = 200)]
    Ok(Json<LedgerBody>),
}

#[derive(Debug, ApiResponse)]
enum CsvResponse {
    /// `text/csv`, one row per line, with a header row.
    #[oai(status = 200, content_type = "text/csv; charset=utf-8")]
    Ok(
        PlainText<String>,
        #[oai(header = "Content-Disposition")] String,
    ),
}

#[derive(Debug, ApiResponse)]
enum RevenueResponse {
    #[oai(status = 200)]
    Ok(Json<Vec<RevenueRowBody>>),
}

#[derive(Debug, ApiResponse)]
enum PayoutsResponse {
    #[oai(status = 200)]
    Ok(Json<Vec<PayoutBody>>),
}

#[derive(Debug, ApiResponse)]
enum PayoutResponse {
    #[oai(status = 200)]
    Ok(Json<PayoutBody>),
}

#[derive(Debug, ApiResponse)]
enum TenantResponse {
    #[oai(status = 200)]
    Ok(Json<TenantBody>),
}

/// The platform's books.
#[derive(Debug)]
pub struct BooksApi;

fn payout_status(status: Option<&str>) -> AppResult<Option<PayoutStatus>> {
    status
        .map(|s| {
            PayoutStatus::parse(s).ok_or_else(|| {
                AppError::invalid("status", "must be `in_transit`, `paid` or `failed`")
            })
        })
        .transpose()
}

#[OpenApi(prefix_path = "/api/v1/admin", tag = "ApiTags::Admin")]
impl BooksApi {
    /// The ledger's totals per currency and account, and whether the books balance.
    #[oai(path = "/ledger", method = "get", operation_id = "get_ledger")]
    async fn get_ledger(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
    ) -> ApiResult<LedgerResponse> {
        let proof = admin_proof::<action::Read>(state, &auth).await?;
        let totals = reports::ledger_totals(state, &proof).await?;
        Ok(LedgerResponse::Ok(Json(LedgerBody {
            balanced: totals.balanced,
            unbalanced_transactions: totals.unbalanced_transactions,
            currencies: totals
                .currencies
                .into_iter()
                .map(|c| LedgerCurrencyBody {
                    sum: SignedMoneyBody::new(c.sum, &c.currency),
                    accounts: c
                        .accounts
                        .into_iter()
                        .map(|a| AccountBody {
                            account: a.account.as_str().to_owned(),
                            gateway: a.gateway,
                            balance: SignedMoneyBody::new(a.balance, &c.currency),
                            debits: SignedMoneyBody::new(a.debits, &c.currency),
                            credits: SignedMoneyBody::new(a.credits, &c.currency),
                        })
                        .collect(),
                    currency: c.currency,
                })
                .collect(),
        })))
    }

    /// The ledger's lines from `from` (default: 30 days ago) up to `to` (default: now) as
    /// CSV for accountants: one row per entry with its transaction, kind, storefront, order
    /// or payout, account, payee and amount (minor units and decimal).
    #[oai(
        path = "/ledger/entries.csv",
        method = "get",
        operation_id = "export_ledger"
    )]
    async fn export_ledger(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        from: Query<Option<DateTime<Utc>>>,
        to: Query<Option<DateTime<Utc>>>,
    ) -> ApiResult<CsvResponse> {
        let proof = admin_proof::<action::Read>(state, &auth).await?;
        let (_, from, to) = report_range(None, from.0, to.0)?;
        let csv = reports::export_csv(state, &proof, from, to).await?;
        let name = format!(
            "attachment; filename=\"ledger-{}-{}.csv\"",
            from.format("%Y%m%d"),
            to.format("%Y%m%d")
        );
        Ok(CsvResponse::Ok(PlainText(csv), name))
    }

    /// Revenue and the platform's fee income by `day` or `month`, every storefront together.
    #[oai(
        path = "/revenue",
        method = "get",
        operation_id = "get_platform_revenue"
    )]
    async fn get_platform_revenue(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        by: Query<Option<String>>,
        from: Query<Option<DateTime<Utc>>>,
        to: Query<Option<DateTime<Utc>>>,
    ) -> ApiResult<RevenueResponse> {
        let proof = admin_proof::<action::Read>(state, &auth).await?;
        let (period, from, to) = report_range(by.0.as_deref(), from.0, to.0)?;
        let rows = reports::platform_revenue(state, &proof, period, from, to).await?;
        Ok(RevenueResponse::Ok(Json(
            rows.into_iter().map(Into::into).collect(),
        )))
    }

    /// Create the payouts that are due now: every payee owed an available balance whose
    /// schedule is due gets one payout of all of it. Runs at once create each payout once.
    #[oai(path = "/payouts/run", method = "post", operation_id = "run_payouts")]
    async fn run_payouts(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
    ) -> ApiResult<PayoutsResponse> {
        let proof = admin_proof::<action::Create>(state, &auth).await?;
        let made = payouts::run_now(state, &proof).await?;
        Ok(PayoutsResponse::Ok(Json(
            made.into_iter().map(Into::into).collect(),
        )))
    }

    /// Payouts, newest first (at most 500); `status` filters.
    #[oai(path = "/payouts", method = "get", operation_id = "list_payouts")]
    async fn list_payouts(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        status: Query<Option<String>>,
    ) -> ApiResult<PayoutsResponse> {
        let proof = admin_proof::<action::Read>(state, &auth).await?;
        let status = payout_status(status.0.as_deref())?;
        let list = payouts::list(state, &proof, status, 500).await?;
        Ok(PayoutsResponse::Ok(Json(
            list.into_iter().map(Into::into).collect(),
        )))
    }

    /// Payouts as CSV (default: those `in_transit`, the ones to send).
    #[oai(
        path = "/payouts/export.csv",
        method = "get",
        operation_id = "export_payouts"
    )]
    async fn export_payouts(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        status: Query<Option<String>>,
    ) -> ApiResult<CsvResponse> {
        let proof = admin_proof::<action::Read>(state, &auth).await?;
        let status = payout_status(status.0.as_deref())?.unwrap_or(PayoutStatus::InTransit);
        let csv = payouts::export_csv(state, &proof, status).await?;
        Ok(CsvResponse::Ok(
            PlainText(csv),
            format!("attachment; filename=\"payouts-{}.csv\"", status.as_str()),
        ))
    }

    /// Confirm a payout arrived: its money leaves the payee's balance for good. Saying so
    /// again changes nothing; a failed payout cannot be paid (409).
    #[oai(
        path = "/payouts/:payout/paid",
        method = "post",
        operation_id = "mark_payout_paid"
    )]
    async fn mark_payout_paid(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        payout: Path<Uuid>,
        Json(body): Json<PayoutPaidRequest>,
    ) -> ApiResult<PayoutResponse> {
        let proof = admin_proof::<action::Update>(state, &auth).await?;
        let reference = body
            .reference
            .map(|r| r.trim().chars().take(200).collect::<String>())
            .filter(|r| !r.is_empty());
        let paid = payouts::mark_paid(state, &proof, payout.0.into(), reference).await?;
        Ok(PayoutResponse::Ok(Json(paid.into())))
    }

    /// Record that a payout did not arrive: its money is available to the payee again and
    /// goes out with a later payout. A paid payout cannot fail (409).
    #[oai(
        path = "/payouts/:payout/failed",
        method = "post",
        operation_id = "mark_payout_failed"
    )]
    async fn mark_payout_failed(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        payout: Path<Uuid>,
        Json(body): Json<PayoutFailedRequest>,
    ) -> ApiResult<PayoutResponse> {
        let proof = admin_proof::<action::Update>(state, &auth).await?;
        let reason: String = body.reason.trim().chars().take(500).collect();
        if reason.is_empty() {
            return Err(AppError::invalid("reason", "say why the payout failed").into());
        }
        let failed = payouts::mark_failed(state, &proof, payout.0.into(), reason).await?;
        Ok(PayoutResponse::Ok(Json(failed.into())))
    }

    /// Set a storefront's hold: days a sale stays pending before its sellers may be paid.
    /// Orders keep the hold they were made with.
    #[oai(
        path = "/tenants/:tenant/payout-hold",
        method = "put",
        operation_id = "set_payout_hold"
    )]
    async fn set_payout_hold(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        Json(body): Json<PayoutHoldRequest>,
    ) -> ApiResult<TenantResponse> {
        let proof = admin_proof::<action::Update>(state, &auth).await?;
        let tenant = tenants::find_by_slug(state, &tenant).await?;
        let updated = holds::set_hold(state, &proof, &tenant, body.days).await?;
        Ok(TenantResponse::Ok(Json(updated.into())))
    }
}
