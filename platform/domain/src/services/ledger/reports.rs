//! What the books say, for the people who read them: a storefront's balances, the platform's
//! totals per account (and whether they balance), revenue by day or month, the lines of a
//! period as CSV, and one sale's split.
//!
//! Amounts here are shown the way a payee reads them: what the storefront owes its payees is
//! positive (the ledger keeps it as a credit, negative).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use lyceum_gateway_core::{Currency, Money, Settlement};
use lyceum_tenants::rbac::{Authorized, action, resource};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::books::{self, Standing};
use super::{Account, posting};
use crate::entities::{ledger_entries, ledger_transactions, orders, tenants, users};
use crate::error::{AppError, AppResult};
use crate::ids::{OrderId, TenantId, UserId};
use crate::services::tenancy::tenants::{Tenant, ensure_covers};
use crate::state::AppState;

/// The most ledger lines one CSV export holds; a longer period is refused (narrow it).
pub const MAX_EXPORT_LINES: u64 = 200_000;

/// Balances in one currency, as owed to payees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Balance {
    pub currency: Currency,
    /// Sales still within their hold.
    pub pending: i64,
    /// Payable now; negative when refunds took back more than later sales brought.
    pub available: i64,
    /// In payouts not yet confirmed.
    pub in_transit: i64,
    /// Delivered: by confirmed payouts and by providers paying sellers directly.
    pub paid_out: i64,
    /// Owed between payees outside the platform's payouts: to a co-instructor by the owner
    /// (positive), or by the owner to co-instructors (negative), for sales the provider paid
    /// the owner directly.
    pub seller_due: i64,
}

impl Balance {
    fn zero(currency: Currency) -> Self {
        Self {
            currency,
            pending: 0,
            available: 0,
            in_transit: 0,
            paid_out: 0,
            seller_due: 0,
        }
    }

    fn add(&mut self, account: Account, ledger_amount: i64) {
        // Owed money is a credit in the ledger: shown positive here.
        let owed = -ledger_amount;
        match account {
            Account::Pending => self.pending += owed,
            Account::Available => self.available += owed,
            Account::InTransit => self.in_transit += owed,
            Account::PaidOut => self.paid_out += owed,
            Account::SellerDue => self.seller_due += owed,
            Account::Clearing | Account::Disputes | Account::Refunds | Account::PlatformFees => {}
        }
    }
}

/// One payee's balances in a storefront.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayeeBalance {
    pub user_id: UserId,
    pub email: String,
    pub name: String,
    pub balance: Balance,
}

/// A storefront's balances: totals per currency and each payee's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantBalance {
    pub totals: Vec<Balance>,
    pub payees: Vec<PayeeBalance>,
}

/// The balances of `tenant`'s payees.
pub async fn tenant_balance(
    state: &AppState,
    auth: &Authorized<resource::Balance, action::Read>,
    tenant: &Tenant,
) -> AppResult<TenantBalance> {
    ensure_covers(auth, tenant)?;
    let rows = ledger_entries::Entity::find()
        .select_only()
        .column(ledger_entries::Column::PayeeId)
        .column(ledger_entries::Column::Currency)
        .column(ledger_entries::Column::Account)
        .column_as(posting::sum_column(), "total")
        .filter(ledger_entries::Column::TenantId.eq(tenant.id))
        .filter(ledger_entries::Column::PayeeId.is_not_null())
        .group_by(ledger_entries::Column::PayeeId)
        .group_by(ledger_entries::Column::Currency)
        .group_by(ledger_entries::Column::Account)
        .into_tuple::<(UserId, String, Account, i64)>()
        .all(&state.db)
        .await?;
    let mut totals: BTreeMap<&'static str, Balance> = BTreeMap::new();
    let mut payees: BTreeMap<(UserId, &'static str), Balance> = BTreeMap::new();
    for (payee, currency, account, amount) in &rows {
        let currency = Currency::parse(currency)
            .map_err(|e| AppError::corrupt_field("ledger entry", tenant.id, "currency", e))?;
        totals
            .entry(currency.code())
            .or_insert_with(|| Balance::zero(currency))
            .add(*account, *amount);
        payees
            .entry((*payee, currency.code()))
            .or_insert_with(|| Balance::zero(currency))
            .add(*account, *amount);
    }
    // The storefront's own currency shows even before its first sale.
    totals
        .entry(tenant.currency.code())
        .or_insert_with(|| Balance::zero(tenant.currency));
    let people = names(&state.db, payees.keys().map(|(user, _)| *user)).await?;
    Ok(TenantBalance {
        totals: totals.into_values().collect(),
        payees: payees
            .into_iter()
            .map(|((user_id, _), balance)| {
                let (email, name) = people.get(&user_id).cloned().unwrap_or_default();
                PayeeBalance {
                    user_id,
                    email,
                    name,
                    balance,
                }
            })
            .collect(),
    })
}

/// What one storefront owes the signed-in payee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Earnings {
    pub tenant_slug: String,
    pub balance: Balance,
}

/// The signed-in user's balances in every storefront that pays them (as owner or
/// co-instructor), per currency.
pub async fn my_earnings(
    state: &AppState,
    auth: &Authorized<resource::Account, action::Read>,
) -> AppResult<Vec<Earnings>> {
    let Some(me) = auth.user_id() else {
        return Ok(Vec::new());
    };
    let rows = ledger_entries::Entity::find()
        .select_only()
        .column(ledger_entries::Column::TenantId)
        .column(ledger_entries::Column::Currency)
        .column(ledger_entries::Column::Account)
        .column_as(posting::sum_column(), "total")
        .filter(ledger_entries::Column::PayeeId.eq(me))
        .group_by(ledger_entries::Column::TenantId)
        .group_by(ledger_entries::Column::Currency)
        .group_by(ledger_entries::Column::Account)
        .into_tuple::<(TenantId, String, Account, i64)>()
        .all(&state.db)
        .await?;
    let slugs: BTreeMap<TenantId, String> = tenants::Entity::find()
        .select_only()
        .column(tenants::Column::Id)
        .column(tenants::Column::Slug)
        .filter(tenants::Column::Id.is_in(rows.iter().map(|r| r.0)))
        .into_tuple::<(TenantId, String)>()
        .all(&state.db)
        .await?
        .into_iter()
        .collect();
    let mut out: BTreeMap<(String, &'static str), Balance> = BTreeMap::new();
    for (tenant, currency, account, amount) in rows {
        let currency = Currency::parse(&currency)
            .map_err(|e| AppError::corrupt_field("ledger entry", tenant, "currency", e))?;
        let slug = slugs.get(&tenant).cloned().unwrap_or_default();
        out.entry((slug, currency.code()))
            .or_insert_with(|| Balance::zero(currency))
            .add(account, amount);
    }
    Ok(out
        .into_iter()
        .map(|((tenant_slug, _), balance)| Earnings {
            tenant_slug,
            balance,
        })
        .collect())
}

async fn names(
    conn: &impl ConnectionTrait,
    ids: impl Iterator<Item = UserId>,
) -> AppResult<BTreeMap<UserId, (String, String)>> {
    let ids: Vec<UserId> = ids.collect();
    if ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    Ok(users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .column(users::Column::Email)
        .column(users::Column::Name)
        .filter(users::Column::Id.is_in(ids))
        .into_tuple::<(UserId, String, String)>()
        .all(conn)
        .await?
        .into_iter()
        .map(|(id, email, name)| (id, (email, name)))
        .collect())
}

/// One account's total in one currency (a clearing account once per provider).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountTotal {
    pub account: Account,
    /// The provider, for clearing accounts.
    pub gateway: Option<String>,
    /// Debit positive, credit negative.
    pub balance: i64,
    /// Everything debited (a positive sum) and credited (a negative sum); `refunds`, whose
    /// balance is always zero, shows here what buyers got back.
    pub debits: i64,
    pub credits: i64,
}

/// The platform's ledger in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrencyLedger {
    pub currency: String,
    pub accounts: Vec<AccountTotal>,
    /// The sum of every account: zero when the books balance.
    pub sum: i64,
}

/// The whole ledger's totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerTotals {
    pub currencies: Vec<CurrencyLedger>,
    /// Transactions whose entries do not sum to zero (never, unless the database was edited).
    pub unbalanced_transactions: u64,
    /// Every currency sums to zero and every transaction does.
    pub balanced: bool,
}

/// Every account's total per currency, and whether the books balance.
pub async fn ledger_totals(
    state: &AppState,
    _proof: &Authorized<resource::Platform, action::Read>,
) -> AppResult<LedgerTotals> {
    totals(&state.db).await
}

/// The ledger's totals (for the admin's report, and for tests and the CLI).
pub async fn totals(conn: &impl ConnectionTrait) -> AppResult<LedgerTotals> {
    let rows = ledger_entries::Entity::find()
        .select_only()
        .column(ledger_entries::Column::Currency)
        .column(ledger_entries::Column::Account)
        .column(ledger_entries::Column::Gateway)
        .column_as(posting::sum_column(), "total")
        .column_as(signed_sum(true), "debits")
        .column_as(signed_sum(false), "credits")
        .group_by(ledger_entries::Column::Currency)
        .group_by(ledger_entries::Column::Account)
        .group_by(ledger_entries::Column::Gateway)
        .into_tuple::<(String, Account, Option<String>, i64, i64, i64)>()
        .all(conn)
        .await?;
    let mut by_currency: BTreeMap<String, CurrencyLedger> = BTreeMap::new();
    for (currency, account, gateway, balance, debits, credits) in rows {
        let ledger = by_currency
            .entry(currency.clone())
            .or_insert_with(|| CurrencyLedger {
                currency,
                accounts: Vec::new(),
                sum: 0,
            });
        ledger.sum += balance;
        // The provider names only the clearing account apart; the others are one per currency.
        let gateway = gateway.filter(|_| account == Account::Clearing);
        match ledger
            .accounts
            .iter_mut()
            .find(|a| a.account == account && a.gateway == gateway)
        {
            Some(total) => {
                total.balance += balance;
                total.debits += debits;
                total.credits += credits;
            }
            None => ledger.accounts.push(AccountTotal {
                account,
                gateway,
                balance,
                debits,
                credits,
            }),
        }
    }
    let unbalanced_transactions = ledger_entries::Entity::find()
        .select_only()
        .column(ledger_entries::Column::TransactionId)
        .group_by(ledger_entries::Column::TransactionId)
        .having(Expr::expr(Func::sum(Expr::col(ledger_entries::Column::Amount))).ne(0))
        .count(conn)
        .await?;
    let currencies: Vec<CurrencyLedger> = by_currency
        .into_values()
        .map(|mut c| {
            c.accounts
                .sort_by(|a, b| (a.account, &a.gateway).cmp(&(b.account, &b.gateway)));
            c
        })
        .collect();
    let balanced = unbalanced_transactions == 0 && currencies.iter().all(|c| c.sum == 0);
    Ok(LedgerTotals {
        currencies,
        unbalanced_transactions,
        balanced,
    })
}

/// `SUM` of the entries' debits (`true`) or credits, as a `BIGINT`.
fn signed_sum(debits: bool) -> Expr {
    let amount = Expr::col(ledger_entries::Column::Amount);
    let side = if debits {
        amount.clone().gt(0)
    } else {
        amount.clone().lt(0)
    };
    Func::cast_as(
        Func::sum(Expr::case(side, amount).finally(0)),
        Alias::new("BIGINT"),
    )
    .into()
}

/// The step of a revenue report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Day,
    Month,
}

impl Period {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "day" => Some(Self::Day),
            "month" => Some(Self::Month),
            _ => None,
        }
    }

    fn label(self, at: DateTime<Utc>) -> String {
        match self {
            Self::Day => at.format("%Y-%m-%d").to_string(),
            Self::Month => at.format("%Y-%m").to_string(),
        }
    }
}

/// Revenue of one period in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevenueRow {
    /// `2026-11-29` or `2026-11`, in UTC.
    pub period: String,
    pub currency: String,
    /// Payments captured.
    pub gross: i64,
    /// Given back: refunds and lost disputes.
    pub refunds: i64,
    /// The platform's fees, net of the part refunds took back.
    pub fees: i64,
    /// What the sellers earned: gross − refunds − fees.
    pub net: i64,
}

/// Revenue by period from `from` (inclusive) to `to` (exclusive), of one storefront or, with
/// `None`, of the whole platform (whose `fees` are its fee income).
pub async fn revenue(
    conn: &impl ConnectionTrait,
    tenant: Option<TenantId>,
    period: Period,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Vec<RevenueRow>> {
    let mut query = ledger_entries::Entity::find()
        .select_only()
        .column(ledger_entries::Column::TransactionId)
        .column(ledger_entries::Column::CreatedAt)
        .column(ledger_entries::Column::Currency)
        .column(ledger_entries::Column::Account)
        .column(ledger_entries::Column::Amount)
        .filter(ledger_entries::Column::OrderId.is_not_null())
        .filter(ledger_entries::Column::Account.is_in([
            Account::Clearing,
            Account::Disputes,
            Account::PlatformFees,
        ]))
        .filter(ledger_entries::Column::CreatedAt.gte(from))
        .filter(ledger_entries::Column::CreatedAt.lt(to));
    if let Some(tenant) = tenant {
        query = query.filter(ledger_entries::Column::TenantId.eq(tenant));
    }
    let rows = query
        .into_tuple::<(
            crate::ids::LedgerTransactionId,
            DateTime<Utc>,
            String,
            Account,
            i64,
        )>()
        .all(conn)
        .await?;
    // Per transaction: money in (clearing and disputes together) and the fee.
    let mut by_transaction: BTreeMap<crate::ids::LedgerTransactionId, (String, String, i64, i64)> =
        BTreeMap::new();
    for (transaction, at, currency, account, amount) in rows {
        let entry = by_transaction
            .entry(transaction)
            .or_insert_with(|| (period.label(at), currency, 0, 0));
        match account {
            Account::PlatformFees => entry.3 -= amount,
            _ => entry.2 += amount,
        }
    }
    let mut out: BTreeMap<(String, String), RevenueRow> = BTreeMap::new();
    for (label, currency, money_in, fee) in by_transaction.into_values() {
        let row = out
            .entry((label.clone(), currency.clone()))
            .or_insert_with(|| RevenueRow {
                period: label,
                currency,
                gross: 0,
                refunds: 0,
                fees: 0,
                net: 0,
            });
        if money_in >= 0 {
            row.gross += money_in;
        } else {
            row.refunds -= money_in;
        }
        row.fees += fee;
        row.net = row.gross - row.refunds - row.fees;
    }
    Ok(out.into_values().collect())
}

/// A storefront's revenue, for its owner.
pub async fn tenant_revenue(
    state: &AppState,
    auth: &Authorized<resource::Balance, action::Read>,
    tenant: &Tenant,
    period: Period,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Vec<RevenueRow>> {
    ensure_covers(auth, tenant)?;
    revenue(&state.db, Some(tenant.id), period, from, to).await
}

/// The whole platform's revenue and fee income, for its admins.
pub async fn platform_revenue(
    state: &AppState,
    _proof: &Authorized<resource::Platform, action::Read>,
    period: Period,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Vec<RevenueRow>> {
    revenue(&state.db, None, period, from, to).await
}

/// The ledger's lines from `from` (inclusive) to `to` (exclusive) as CSV, oldest first, one
/// row per entry with its transaction's kind, for accountants.
pub async fn export_csv(
    state: &AppState,
    _proof: &Authorized<resource::Platform, action::Read>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<String> {
    let in_range = || {
        ledger_entries::Entity::find()
            .filter(ledger_entries::Column::CreatedAt.gte(from))
            .filter(ledger_entries::Column::CreatedAt.lt(to))
    };
    let count = in_range().count(&state.db).await?;
    if count > MAX_EXPORT_LINES {
        return Err(AppError::invalid(
            "from",
            format!(
                "the period holds {count} ledger lines, more than {MAX_EXPORT_LINES}: export a shorter one"
            ),
        ));
    }
    let rows = in_range()
        .order_by_asc(ledger_entries::Column::CreatedAt)
        .order_by_asc(ledger_entries::Column::Id)
        .find_also_related(ledger_transactions::Entity)
        .all(&state.db)
        .await?;
    let slugs: BTreeMap<TenantId, String> = tenants::Entity::find()
        .select_only()
        .column(tenants::Column::Id)
        .column(tenants::Column::Slug)
        .into_tuple::<(TenantId, String)>()
        .all(&state.db)
        .await?
        .into_iter()
        .collect();
    let header = [
        "created_at",
        "transaction_id",
        "kind",
        "tenant",
        "order_id",
        "payout_id",
        "account",
        "payee_id",
        "gateway",
        "currency",
        "amount_minor",
        "amount",
    ];
    let lines = rows.into_iter().map(|(entry, transaction)| {
        let amount = decimal(entry.amount, &entry.currency);
        vec![
            entry.created_at.to_rfc3339(),
            entry.transaction_id.to_string(),
            transaction
                .as_ref()
                .map(|t| t.kind.as_str())
                .unwrap_or_default()
                .to_owned(),
            slugs.get(&entry.tenant_id).cloned().unwrap_or_default(),
            entry.order_id.map(|o| o.to_string()).unwrap_or_default(),
            transaction
                .and_then(|t| t.payout_id)
                .map(|p| p.to_string())
                .unwrap_or_default(),
            entry.account.as_str().to_owned(),
            entry.payee_id.map(|p| p.to_string()).unwrap_or_default(),
            entry.gateway.unwrap_or_default(),
            entry.currency,
            entry.amount.to_string(),
            amount,
        ]
    });
    to_csv(&header, lines)
}

/// `amount` minor units of `currency` as a signed decimal (`-12.50`); empty for an unknown
/// currency.
pub(crate) fn decimal(amount: i64, currency: &str) -> String {
    Currency::parse(currency)
        .ok()
        .and_then(|c| Money::new(amount.unsigned_abs().try_into().ok()?, c).ok())
        .map(|m| {
            let sign = if amount < 0 { "-" } else { "" };
            format!("{sign}{}", m.to_decimal_string())
        })
        .unwrap_or_default()
}

/// A field as a spreadsheet will read it safely: text that would start a formula (`=`, `+`,
/// `-`, `@`, a tab or a carriage return) gets a leading `'`; numbers (`-12.50`) stay numbers.
fn cell(field: &str) -> std::borrow::Cow<'_, str> {
    let formula = field.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let number = field.strip_prefix('-').is_some_and(|rest| {
        !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit() || b == b'.')
    });
    if formula && !number {
        format!("'{field}").into()
    } else {
        field.into()
    }
}

/// Rows under a header, as CSV text (quoted where a field needs it, and every field made safe
/// to open in a spreadsheet by [`cell`]).
pub(crate) fn to_csv(
    header: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> AppResult<String> {
    let failed = |e: csv::Error| AppError::Io {
        context: "writing CSV".into(),
        source: std::io::Error::other(e),
    };
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(header).map_err(failed)?;
    for row in rows {
        out.write_record(row.iter().map(|f| cell(f).into_owned()))
            .map_err(failed)?;
    }
    let bytes = out.into_inner().map_err(|e| AppError::Io {
        context: "writing CSV".into(),
        source: e.into_error(),
    })?;
    String::from_utf8(bytes).map_err(|_| AppError::Internal("CSV that is not UTF-8"))
}

/// One payee's part of a sale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayeePart {
    pub user_id: UserId,
    pub email: String,
    pub name: String,
    pub amount: i64,
    pub owner: bool,
}

/// How one sale's money divides, as it stands (after any refunds): the platform's fee, each
/// payee's part, what the provider paid the seller directly, and whether the hold has ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleSplit {
    pub kept: i64,
    pub fee: i64,
    pub payees: Vec<PayeePart>,
    pub settlement: Settlement,
    pub hold_until: Option<DateTime<Utc>>,
    pub released: bool,
}

/// The split of `order_id` of `tenant_id`, by the same rule the ledger posts with.
pub async fn sale_split(
    conn: &impl ConnectionTrait,
    tenant_id: TenantId,
    order_id: OrderId,
) -> AppResult<SaleSplit> {
    let order = orders::Entity::find_by_id(order_id)
        .filter(orders::Column::TenantId.eq(tenant_id))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("order"))?;
    let terms = posting::terms(conn, &order).await?;
    let standing = Standing {
        captured: order.paid_amount,
        given_back: order.refunded_amount,
        held: 0,
        released: order.released_at.is_some(),
    };
    let kept = std::cmp::max(standing.captured - standing.given_back, 0);
    let fee = books::fee_on(terms.fee, terms.total, kept);
    let parts = books::payee_parts(&terms, kept - fee);
    let people = names(conn, parts.keys().copied()).await?;
    let mut payees: Vec<PayeePart> = parts
        .into_iter()
        .map(|(user_id, amount)| {
            let (email, name) = people.get(&user_id).cloned().unwrap_or_default();
            PayeePart {
                user_id,
                email,
                name,
                amount,
                owner: user_id == terms.owner,
            }
        })
        .collect();
    payees.sort_by_key(|p| (!p.owner, std::cmp::Reverse(p.amount)));
    Ok(SaleSplit {
        kept,
        fee,
        payees,
        settlement: terms.settlement,
        hold_until: order.hold_until,
        released: standing.released,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_that_would_be_formulas_are_quoted_and_numbers_are_not() {
        assert_eq!(
            cell("=HYPERLINK(\"http://evil\",\"x\")"),
            "'=HYPERLINK(\"http://evil\",\"x\")"
        );
        for formula in ["+1", "-1+1", "@SUM(A1)", "\tx", "-", "--1"] {
            assert!(cell(formula).starts_with('\''), "{formula}");
        }
        for plain in ["-12.50", "-1323", "12", "owner@example.com", "shop", ""] {
            assert_eq!(cell(plain), plain);
        }
    }
}
