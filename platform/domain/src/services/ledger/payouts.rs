//! Payouts: money owed to a payee and past its hold, sent to them.
//!
//! A payee of a storefront is paid on a schedule: weekly (the default), monthly, or whenever
//! the available balance reaches a threshold. A run (the admin's `POST /admin/payouts/run` or
//! the background job) takes each storefront and currency in turn, under its books' lock
//! ([`posting::lock_books`], which postings to `available` take too), and creates, per payee
//! that is owed an available balance and is due, one payout of that balance: its money moves
//! from `available` to `in_transit` in the same transaction. A payout is unique per (payee,
//! currency, period), and runs take the lock in turn, so two runs at once, on one instance or
//! several, create one. The platform sends the money (the CSV export lists what to send) and
//! marks the payout `paid` (the money leaves to `paid_out`) or `failed` (it returns to
//! `available`).
//!
//! Only money the platform holds is paid this way. `available` holds only what the platform
//! owes: what a provider paid a seller directly (split and seller settlement) is booked as
//! paid out when the payment is; a seller paid so owes the platform its fee there (netted
//! against its later earnings), and owes its co-instructors their parts in `seller_due`,
//! which no payout includes.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Utc};
use lyceum_tenants::rbac::{Authorized, action, resource};
use sea_orm::sea_query::{Expr, ExprTrait, Func, OnConflict, StringLen};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, DeriveActiveEnum,
    EntityTrait, EnumIter, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};

use super::books::Key;
use super::posting::{self, Entry, NewTransaction};
use super::{Account, TransactionKind};
use crate::entities::{course_shares, ledger_entries, payees, payouts, tenants, users};
use crate::error::{AppError, AppResult};
use crate::ids::{PayoutId, TenantId, UserId};
use crate::metrics::Job;
use crate::services::now;
use crate::services::tenancy::tenants::{Tenant, ensure_covers};
use crate::state::AppState;

/// When a payee is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Schedule {
    /// Once per ISO week.
    #[sea_orm(string_value = "weekly")]
    Weekly,
    /// Once per calendar month.
    #[sea_orm(string_value = "monthly")]
    Monthly,
    /// Whenever the available balance reaches the payee's threshold (at most once a day).
    #[sea_orm(string_value = "threshold")]
    Threshold,
}

impl Schedule {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Weekly => "weekly",
            Self::Monthly => "monthly",
            Self::Threshold => "threshold",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Self::Weekly, Self::Monthly, Self::Threshold]
            .into_iter()
            .find(|s| s.as_str() == name)
    }

    /// The period a payout made at `at` pays: at most one payout per payee, currency and
    /// period.
    pub fn period(self, at: DateTime<Utc>) -> String {
        match self {
            Self::Weekly => {
                let week = at.iso_week();
                format!("{}-W{:02}", week.year(), week.week())
            }
            Self::Monthly => at.format("%Y-%m").to_string(),
            Self::Threshold => at.format("%Y-%m-%d").to_string(),
        }
    }
}

/// Where a payout stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum PayoutStatus {
    /// Created; the money is on its way.
    #[sea_orm(string_value = "in_transit")]
    InTransit,
    #[sea_orm(string_value = "paid")]
    Paid,
    /// Did not arrive; the money is available again.
    #[sea_orm(string_value = "failed")]
    Failed,
}

impl PayoutStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InTransit => "in_transit",
            Self::Paid => "paid",
            Self::Failed => "failed",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Self::InTransit, Self::Paid, Self::Failed]
            .into_iter()
            .find(|s| s.as_str() == name)
    }
}

/// How a payout's money is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum PayoutMethod {
    /// By the platform's operator (a bank transfer from the CSV export), then marked paid.
    #[sea_orm(string_value = "manual")]
    Manual,
}

impl PayoutMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
        }
    }
}

/// A payout as the platform's admins see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payout {
    pub id: PayoutId,
    pub tenant_id: TenantId,
    pub tenant_slug: String,
    pub payee_id: UserId,
    pub payee_email: String,
    pub payee_name: String,
    pub currency: String,
    pub amount: i64,
    pub status: PayoutStatus,
    pub method: PayoutMethod,
    pub period: String,
    pub reference: Option<String>,
    pub failure: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A payee's schedule, as an owner sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayeeSchedule {
    pub schedule: Schedule,
    /// For [`Schedule::Threshold`]: the least available balance paid, in minor units.
    pub threshold: Option<i64>,
}

impl Default for PayeeSchedule {
    fn default() -> Self {
        Self {
            schedule: Schedule::Weekly,
            threshold: None,
        }
    }
}

/// The payouts an admin's run created.
pub async fn run_now(
    state: &AppState,
    _proof: &Authorized<resource::Platform, action::Create>,
) -> AppResult<Vec<Payout>> {
    run(state, now()).await
}

/// Creates the payouts due at `at` (see the module doc); the scheduled job's entry. The run,
/// and the payouts it made, go to the metrics.
pub async fn run(state: &AppState, at: DateTime<Utc>) -> AppResult<Vec<Payout>> {
    let result = run_due(state, at).await;
    match &result {
        Ok(made) => {
            let made: Vec<(i64, &str)> = made
                .iter()
                .map(|p| (p.amount, p.currency.as_str()))
                .collect();
            state.metrics.payouts.run(&made);
            state.metrics.jobs.succeeded(Job::Payouts);
        }
        Err(_) => state.metrics.payouts.run_failed(),
    }
    result
}

async fn run_due(state: &AppState, at: DateTime<Utc>) -> AppResult<Vec<Payout>> {
    // Storefronts and currencies where some payee is owed an available balance.
    let owed = ledger_entries::Entity::find()
        .select_only()
        .column(ledger_entries::Column::TenantId)
        .column(ledger_entries::Column::Currency)
        .filter(ledger_entries::Column::Account.eq(Account::Available))
        .group_by(ledger_entries::Column::TenantId)
        .group_by(ledger_entries::Column::Currency)
        .group_by(ledger_entries::Column::PayeeId)
        .having(Expr::expr(Func::sum(Expr::col(ledger_entries::Column::Amount))).lt(0))
        .into_tuple::<(TenantId, String)>()
        .all(&state.db)
        .await?;
    let books: BTreeSet<(TenantId, String)> = owed.into_iter().collect();
    let mut made = Vec::new();
    for (tenant_id, currency) in books {
        made.extend(pay_storefront(state, tenant_id, &currency, at).await?);
    }
    let mut out = Vec::with_capacity(made.len());
    for id in made {
        out.push(load(&state.db, id).await?);
    }
    Ok(out)
}

/// One storefront's payouts in one currency, in one transaction under its books' lock: the
/// payees' available balances are read, and each payee that is owed and due gets a payout of
/// what they are owed.
async fn pay_storefront(
    state: &AppState,
    tenant_id: TenantId,
    currency: &str,
    at: DateTime<Utc>,
) -> AppResult<Vec<PayoutId>> {
    let txn = state.db.begin().await?;
    posting::lock_books(&txn, tenant_id, currency).await?;
    let balances = ledger_entries::Entity::find()
        .select_only()
        .column(ledger_entries::Column::PayeeId)
        .column_as(posting::sum_column(), "total")
        .filter(ledger_entries::Column::TenantId.eq(tenant_id))
        .filter(ledger_entries::Column::Currency.eq(currency))
        .filter(ledger_entries::Column::Account.eq(Account::Available))
        .group_by(ledger_entries::Column::PayeeId)
        .order_by_asc(ledger_entries::Column::PayeeId)
        .into_tuple::<(Option<UserId>, i64)>()
        .all(&txn)
        .await?;
    let mut made = Vec::new();
    for (payee, balance) in balances {
        // Owed money is a credit.
        let (Some(payee), amount) = (payee, -balance) else {
            continue;
        };
        let schedule = schedule_of(&txn, tenant_id, payee).await?;
        let threshold = std::cmp::max(schedule.threshold.unwrap_or(1), 1);
        if amount <= 0 || (schedule.schedule == Schedule::Threshold && amount < threshold) {
            continue;
        }
        let payout = payouts::Model {
            id: PayoutId::new_v7(),
            tenant_id,
            payee_id: payee,
            currency: currency.to_owned(),
            amount,
            status: PayoutStatus::InTransit,
            method: PayoutMethod::Manual,
            period: schedule.schedule.period(at),
            reference: None,
            failure: None,
            created_at: at,
            updated_at: at,
        };
        let inserted = payouts::Entity::insert(payout.clone().into_active_model())
            .on_conflict(
                OnConflict::columns([
                    payouts::Column::TenantId,
                    payouts::Column::PayeeId,
                    payouts::Column::Currency,
                    payouts::Column::Period,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
        if inserted == 0 {
            // Paid this period already.
            continue;
        }
        move_money(
            &txn,
            &payout,
            TransactionKind::Payout,
            (Account::Available, Account::InTransit),
        )
        .await?;
        tracing::info!(payout.id = %payout.id, tenant.id = %tenant_id, payee.id = %payee, amount, currency, "payout created");
        made.push(payout.id);
    }
    txn.commit().await?;
    Ok(made)
}

/// Confirms a payout arrived; the same answer again changes nothing. A failed payout cannot
/// be paid (its money is available again and goes out with the next one).
pub async fn mark_paid(
    state: &AppState,
    _proof: &Authorized<resource::Platform, action::Update>,
    id: PayoutId,
    reference: Option<String>,
) -> AppResult<Payout> {
    finish(state, id, PayoutStatus::Paid, reference).await
}

/// Records that a payout did not arrive: its money returns to the payee's available balance.
/// A paid payout cannot fail.
pub async fn mark_failed(
    state: &AppState,
    _proof: &Authorized<resource::Platform, action::Update>,
    id: PayoutId,
    reason: String,
) -> AppResult<Payout> {
    finish(state, id, PayoutStatus::Failed, Some(reason)).await
}

async fn finish(
    state: &AppState,
    id: PayoutId,
    to: PayoutStatus,
    note: Option<String>,
) -> AppResult<Payout> {
    let txn = state.db.begin().await?;
    // The books' lock first, then the row, in the order a run takes them (a run holding the
    // lock may be writing a payout of the same period, which waits for this row).
    let (tenant_id, currency) = payouts::Entity::find_by_id(id)
        .select_only()
        .column(payouts::Column::TenantId)
        .column(payouts::Column::Currency)
        .into_tuple::<(TenantId, String)>()
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("payout"))?;
    posting::lock_books(&txn, tenant_id, &currency).await?;
    let mut query = payouts::Entity::find_by_id(id);
    if txn.get_database_backend() == DbBackend::Postgres {
        query = query.lock_exclusive();
    }
    let payout = query.one(&txn).await?.ok_or(AppError::NotFound("payout"))?;
    if payout.status == to {
        txn.commit().await?;
        return load(&state.db, id).await;
    }
    if payout.status != PayoutStatus::InTransit {
        return Err(AppError::conflict(format!(
            "the payout is already {}",
            payout.status.as_str()
        )));
    }
    let (kind, back_to) = match to {
        PayoutStatus::Paid => (TransactionKind::PayoutPaid, Account::PaidOut),
        PayoutStatus::Failed => (TransactionKind::PayoutFailed, Account::Available),
        PayoutStatus::InTransit => return Err(AppError::Internal("a payout cannot restart")),
    };
    let mut row: payouts::ActiveModel = payout.clone().into();
    row.status = Set(to);
    row.updated_at = Set(now());
    match to {
        PayoutStatus::Paid => row.reference = Set(note),
        _ => row.failure = Set(note),
    }
    row.update(&txn).await?;
    move_money(&txn, &payout, kind, (Account::InTransit, back_to)).await?;
    txn.commit().await?;
    state
        .metrics
        .payouts
        .finished(to, payout.amount, &payout.currency);
    tracing::info!(payout.id = %id, status = to.as_str(), "payout finished");
    load(&state.db, id).await
}

/// Moves a payout's amount between its payee's accounts (a debit of `from`, a credit of
/// `to`), as a transaction of the payout.
async fn move_money(
    conn: &impl ConnectionTrait,
    payout: &payouts::Model,
    kind: TransactionKind,
    (from, to): (Account, Account),
) -> AppResult<()> {
    let (payee, amount) = (payout.payee_id, payout.amount);
    posting::insert(
        conn,
        NewTransaction {
            tenant_id: payout.tenant_id,
            currency: &payout.currency,
            kind,
            order_id: None,
            payout_id: Some(payout.id),
            event_id: None,
        },
        vec![
            Entry {
                key: Key::payee(from, payee),
                amount,
                gateway: None,
            },
            Entry {
                key: Key::payee(to, payee),
                amount: -amount,
                gateway: None,
            },
        ],
    )
    .await
}

/// Whether `user` is paid from `tenant`'s sales: its owner, a co-instructor of one of its
/// courses, or someone its books already owe or paid.
async fn is_payee(conn: &impl ConnectionTrait, tenant: &Tenant, user: UserId) -> AppResult<bool> {
    if user == tenant.owner_id {
        return Ok(true);
    }
    let shares = course_shares::Entity::find()
        .filter(course_shares::Column::TenantId.eq(tenant.id))
        .filter(course_shares::Column::UserId.eq(user))
        .count(conn)
        .await?;
    if shares > 0 {
        return Ok(true);
    }
    let booked = ledger_entries::Entity::find()
        .filter(ledger_entries::Column::TenantId.eq(tenant.id))
        .filter(ledger_entries::Column::PayeeId.eq(user))
        .count(conn)
        .await?;
    Ok(booked > 0)
}

async fn schedule_of(
    conn: &impl ConnectionTrait,
    tenant_id: TenantId,
    payee: UserId,
) -> AppResult<PayeeSchedule> {
    Ok(payees::Entity::find_by_id((tenant_id, payee))
        .one(conn)
        .await?
        .map(|row| PayeeSchedule {
            schedule: row.schedule,
            threshold: row.threshold_amount,
        })
        .unwrap_or_default())
}

/// Sets when a payee of the storefront is paid.
pub async fn set_schedule(
    state: &AppState,
    auth: &Authorized<resource::Payee, action::Update>,
    tenant: &Tenant,
    payee: UserId,
    schedule: PayeeSchedule,
) -> AppResult<PayeeSchedule> {
    ensure_covers(auth, tenant)?;
    let tenant_id = tenant.id;
    if !is_payee(&state.db, tenant, payee).await? {
        return Err(AppError::NotFound("payee"));
    }
    let threshold = match (schedule.schedule, schedule.threshold) {
        (Schedule::Threshold, Some(t)) if t > 0 => Some(t),
        (Schedule::Threshold, _) => {
            return Err(AppError::invalid(
                "threshold",
                "a threshold schedule needs a positive threshold",
            ));
        }
        (_, Some(_)) => {
            return Err(AppError::invalid(
                "threshold",
                "only the threshold schedule takes a threshold",
            ));
        }
        (_, None) => None,
    };
    payees::Entity::insert(payees::ActiveModel {
        tenant_id: Set(tenant_id),
        user_id: Set(payee),
        schedule: Set(schedule.schedule),
        threshold_amount: Set(threshold),
        updated_at: Set(now()),
    })
    .on_conflict(
        OnConflict::columns([payees::Column::TenantId, payees::Column::UserId])
            .update_columns([
                payees::Column::Schedule,
                payees::Column::ThresholdAmount,
                payees::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(&state.db)
    .await?;
    Ok(PayeeSchedule {
        schedule: schedule.schedule,
        threshold,
    })
}

/// Payouts, newest first, optionally of one status.
pub async fn list(
    state: &AppState,
    _proof: &Authorized<resource::Platform, action::Read>,
    status: Option<PayoutStatus>,
    limit: u64,
) -> AppResult<Vec<Payout>> {
    let mut query = payouts::Entity::find().order_by_desc(payouts::Column::CreatedAt);
    if let Some(status) = status {
        query = query.filter(payouts::Column::Status.eq(status));
    }
    let rows = query.limit(limit).all(&state.db).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(view(&state.db, row).await?);
    }
    Ok(out)
}

/// A storefront's payouts to its payees, newest first, at most `limit` (owner).
pub async fn list_for_tenant(
    state: &AppState,
    auth: &Authorized<resource::Balance, action::Read>,
    tenant: &Tenant,
    limit: u64,
) -> AppResult<Vec<Payout>> {
    ensure_covers(auth, tenant)?;
    let rows = payouts::Entity::find()
        .filter(payouts::Column::TenantId.eq(tenant.id))
        .order_by_desc(payouts::Column::CreatedAt)
        .limit(limit)
        .all(&state.db)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(view(&state.db, row).await?);
    }
    Ok(out)
}

/// When each payee of the storefront is paid: those who set a schedule; everyone else is
/// paid weekly (owner).
pub async fn schedules(
    state: &AppState,
    auth: &Authorized<resource::Payee, action::Read>,
    tenant: &Tenant,
) -> AppResult<std::collections::HashMap<UserId, PayeeSchedule>> {
    ensure_covers(auth, tenant)?;
    Ok(payees::Entity::find()
        .filter(payees::Column::TenantId.eq(tenant.id))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|row| {
            (
                row.user_id,
                PayeeSchedule {
                    schedule: row.schedule,
                    threshold: row.threshold_amount,
                },
            )
        })
        .collect())
}

/// The most payouts one CSV export holds.
pub const MAX_EXPORT: u64 = 10_000;

/// Payouts of one status as CSV, oldest first: what to send, to whom, for which period.
pub async fn export_csv(
    state: &AppState,
    _proof: &Authorized<resource::Platform, action::Read>,
    status: PayoutStatus,
) -> AppResult<String> {
    let rows = payouts::Entity::find()
        .filter(payouts::Column::Status.eq(status))
        .order_by_asc(payouts::Column::CreatedAt)
        .limit(MAX_EXPORT)
        .all(&state.db)
        .await?;
    let mut lines = Vec::with_capacity(rows.len());
    for row in rows {
        let p = view(&state.db, row).await?;
        lines.push(vec![
            p.id.to_string(),
            p.tenant_slug,
            p.payee_email,
            p.payee_name,
            p.currency.clone(),
            p.amount.to_string(),
            super::reports::decimal(p.amount, &p.currency),
            p.period,
            p.status.as_str().to_owned(),
            p.created_at.to_rfc3339(),
            p.reference.unwrap_or_default(),
        ]);
    }
    super::reports::to_csv(
        &[
            "payout_id",
            "tenant",
            "payee_email",
            "payee_name",
            "currency",
            "amount_minor",
            "amount",
            "period",
            "status",
            "created_at",
            "reference",
        ],
        lines,
    )
}

async fn load(conn: &impl ConnectionTrait, id: PayoutId) -> AppResult<Payout> {
    let row = payouts::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("payout"))?;
    view(conn, row).await
}

async fn view(conn: &impl ConnectionTrait, row: payouts::Model) -> AppResult<Payout> {
    let tenant_slug = tenants::Entity::find_by_id(row.tenant_id)
        .select_only()
        .column(tenants::Column::Slug)
        .into_tuple::<String>()
        .one(conn)
        .await?
        .unwrap_or_default();
    let (payee_email, payee_name) = users::Entity::find_by_id(row.payee_id)
        .select_only()
        .column(users::Column::Email)
        .column(users::Column::Name)
        .into_tuple::<(String, String)>()
        .one(conn)
        .await?
        .unwrap_or_default();
    Ok(Payout {
        id: row.id,
        tenant_id: row.tenant_id,
        tenant_slug,
        payee_id: row.payee_id,
        payee_email,
        payee_name,
        currency: row.currency,
        amount: row.amount,
        status: row.status,
        method: row.method,
        period: row.period,
        reference: row.reference,
        failure: row.failure,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_name_the_week_month_or_day() {
        let at = DateTime::parse_from_rfc3339("2026-11-29T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(Schedule::Weekly.period(at), "2026-W48");
        assert_eq!(Schedule::Monthly.period(at), "2026-11");
        assert_eq!(Schedule::Threshold.period(at), "2026-11-29");
        // The ISO year of the first days of January can be the year before.
        let new_year = DateTime::parse_from_rfc3339("2027-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(Schedule::Weekly.period(new_year), "2026-W53");
    }

    #[test]
    fn names_round_trip() {
        use sea_orm::{ActiveEnum, Iterable};
        for s in Schedule::iter() {
            assert_eq!(Schedule::parse(s.as_str()), Some(s));
            assert_eq!(s.to_value(), s.as_str());
        }
        for s in PayoutStatus::iter() {
            assert_eq!(PayoutStatus::parse(s.as_str()), Some(s));
            assert_eq!(s.to_value(), s.as_str());
        }
        for m in PayoutMethod::iter() {
            assert_eq!(m.to_value(), m.as_str());
        }
    }
}
