//! Posting an order's books: the difference between what its money implies ([`books`]) and
//! what is already posted for it, as one balanced transaction written in the caller's
//! database transaction — the one that changes the order. A replayed event posts nothing; a
//! refund that overtook its payment posts when the payment arrives; the books end the same
//! whatever order the facts came in.

use std::collections::BTreeMap;

use lyceum_gateway_core::{EventKind, Money};
use sea_orm::sea_query::{Alias, CommonTableExpression, Expr, Func, WithClause};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait,
    QueryFilter, QuerySelect, QueryTrait, Statement,
};

use super::books::{self, Key, Line, Positions, Standing, Terms};
use super::{Account, TransactionKind};
use crate::entities::{
    ledger_entries, ledger_transactions, order_lines, order_shares, orders, tenants,
};
use crate::error::{AppError, AppResult};
use crate::ids::{
    CourseId, LedgerEntryId, LedgerTransactionId, OrderId, PaymentEventId, PayoutId, TenantId,
    UserId,
};
use crate::services::commerce::state::OrderFacts;
use crate::services::now;

/// The transaction kind an event of `kind` posts.
pub fn kind_of(kind: EventKind) -> TransactionKind {
    match kind {
        EventKind::PaymentSucceeded => TransactionKind::Sale,
        EventKind::RefundSucceeded => TransactionKind::Refund,
        EventKind::DisputeOpened | EventKind::DisputeWon | EventKind::DisputeLost => {
            TransactionKind::Dispute
        }
        EventKind::PaymentFailed | EventKind::PaymentExpired => TransactionKind::Adjustment,
    }
}

/// Where `order`'s money stands by `facts`.
pub fn standing(order: &orders::Model, facts: &OrderFacts) -> Standing {
    Standing {
        captured: facts.paid(),
        given_back: facts.refunded(),
        held: facts.held(),
        released: order.released_at.is_some(),
    }
}

/// What is already posted for an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Posted {
    /// Nothing can be: the order had captured no money before this change (books are posted
    /// only once money is captured, and captured money is stored with them).
    Nothing,
    /// Read it from the ledger.
    Unknown,
}

/// Brings `order`'s books to what `facts` imply (the order row as it is being saved: its
/// `released_at` says pending or available). Nothing is read or written for an order that
/// never took money; a first payment reads only the order's shares before writing.
pub(crate) async fn post_order(
    conn: &impl ConnectionTrait,
    order: &orders::Model,
    facts: &OrderFacts,
    before: Posted,
    kind: TransactionKind,
    event_id: Option<PaymentEventId>,
) -> AppResult<()> {
    // Captured money only grows: an order with none now never had any, so nothing is posted.
    if facts.paid() == 0 {
        return Ok(());
    }
    let terms = terms(conn, order).await?;
    let target = books::positions(&terms, standing(order, facts));
    let posted = match before {
        Posted::Nothing => Positions::new(),
        Posted::Unknown => posted(conn, order).await?,
    };
    let mut delta = books::difference(&target, &posted);
    // Money that left the provider's accounts for the buyer passes through `refunds`: in as
    // it leaves, out as the fee and shares it takes back.
    let given_back: i64 = -delta
        .iter()
        .filter(|(key, _)| matches!(key.account, Account::Clearing | Account::Disputes))
        .map(|(_, amount)| amount)
        .sum::<i64>();
    if given_back > 0 && matches!(kind, TransactionKind::Refund | TransactionKind::Dispute) {
        delta.push((Key::platform(Account::Refunds), given_back));
        delta.push((Key::platform(Account::Refunds), -given_back));
    }
    write(conn, order, kind, event_id, &delta).await
}

/// Saves an order changed outside the payment pipeline (a hold ending, a backfill) and
/// brings its books to what `facts` imply, in the caller's transaction.
pub(crate) async fn save_and_post(
    conn: &impl ConnectionTrait,
    row: orders::ActiveModel,
    facts: &OrderFacts,
    kind: TransactionKind,
) -> AppResult<()> {
    let saved = row.update(conn).await?;
    post_order(conn, &saved, facts, Posted::Unknown, kind, None).await
}

/// What `order` was priced with: its total and fee, its settlement, its seller, and — when
/// co-instructors share in it — its lines' shares. An order its seller does not share reads
/// nothing more (orders older than the ledger read their storefront's owner).
pub(crate) async fn terms(conn: &impl ConnectionTrait, order: &orders::Model) -> AppResult<Terms> {
    let shares = if order.shared {
        order_shares::Entity::find()
            .filter(order_shares::Column::TenantId.eq(order.tenant_id))
            .filter(order_shares::Column::OrderId.eq(order.id))
            .all(conn)
            .await?
    } else {
        Vec::new()
    };
    // The lines' amounts only matter when someone besides the owner shares in them.
    let lines = if shares.iter().any(|s| !s.owner) {
        order_lines::Entity::find()
            .select_only()
            .column(order_lines::Column::CourseId)
            .column(order_lines::Column::TotalAmount)
            .filter(order_lines::Column::TenantId.eq(order.tenant_id))
            .filter(order_lines::Column::OrderId.eq(order.id))
            .into_tuple::<(CourseId, i64)>()
            .all(conn)
            .await?
    } else {
        Vec::new()
    };
    let owner = match shares
        .iter()
        .find(|s| s.owner)
        .map(|s| s.user_id)
        .or(order.seller_id)
    {
        Some(owner) => owner,
        None => tenants::Entity::find_by_id(order.tenant_id)
            .select_only()
            .column(tenants::Column::OwnerId)
            .into_tuple::<UserId>()
            .one(conn)
            .await?
            .ok_or(AppError::NotFound("tenant"))?,
    };
    let mut by_course: BTreeMap<CourseId, Vec<(UserId, u16)>> = BTreeMap::new();
    for row in shares.iter().filter(|s| !s.owner) {
        let bps = u16::try_from(row.bps)
            .map_err(|e| AppError::corrupt_field("order share", order.id, "bps", e))?;
        by_course
            .entry(row.course_id)
            .or_default()
            .push((row.user_id, bps));
    }
    Ok(Terms {
        total: order.total_amount,
        fee: fee_of(order)?,
        settlement: order.settlement.into(),
        owner,
        // No lines read: the owner takes the sellers' part whole, as from one line.
        lines: lines
            .into_iter()
            .map(|(course, amount)| Line {
                amount,
                shares: by_course.remove(&course).unwrap_or_default(),
            })
            .collect(),
    })
}

/// The fee the order stored; orders older than stored fees had only their basis points.
fn fee_of(order: &orders::Model) -> AppResult<i64> {
    if let Some(fee) = order.fee_amount {
        return Ok(fee);
    }
    let corrupt = |e: lyceum_gateway_core::MoneyError| {
        AppError::corrupt_field("order", order.id, "fee_bps", e)
    };
    let currency = lyceum_gateway_core::Currency::parse(&order.currency).map_err(corrupt)?;
    let bps = u16::try_from(order.fee_bps).unwrap_or(0);
    Ok(Money::new(order.total_amount, currency)
        .and_then(|total| total.checked_bps_half_even(bps))
        .map_err(corrupt)?
        .amount
        .get())
}

/// The balances already posted for `order`, by account.
pub(crate) async fn posted(
    conn: &impl ConnectionTrait,
    order: &orders::Model,
) -> AppResult<Positions> {
    let rows = ledger_entries::Entity::find()
        .select_only()
        .column(ledger_entries::Column::Account)
        .column(ledger_entries::Column::PayeeId)
        .column_as(sum_column(), "total")
        .filter(ledger_entries::Column::TenantId.eq(order.tenant_id))
        .filter(ledger_entries::Column::OrderId.eq(order.id))
        .group_by(ledger_entries::Column::Account)
        .group_by(ledger_entries::Column::PayeeId)
        .into_tuple::<(Account, Option<UserId>, i64)>()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter(|(_, _, total)| *total != 0)
        .map(|(account, payee, total)| (Key { account, payee }, total))
        .collect())
}

/// `SUM(amount)` as a `BIGINT` (PostgreSQL sums `bigint` to `numeric`).
pub(crate) fn sum_column() -> Expr {
    Func::cast_as(
        Func::sum(Expr::col(ledger_entries::Column::Amount)),
        Alias::new("BIGINT"),
    )
    .into()
}

/// Writes `delta` as one transaction of `order`; nothing when it is empty. A delta that does
/// not sum to zero is a bug, refused before anything is written.
async fn write(
    conn: &impl ConnectionTrait,
    order: &orders::Model,
    kind: TransactionKind,
    event_id: Option<PaymentEventId>,
    delta: &[(Key, i64)],
) -> AppResult<()> {
    if delta.is_empty() {
        return Ok(());
    }
    let entries = delta.iter().map(|(key, amount)| Entry {
        key: *key,
        amount: *amount,
        gateway: order.gateway.clone(),
    });
    insert(
        conn,
        NewTransaction {
            tenant_id: order.tenant_id,
            currency: &order.currency,
            kind,
            order_id: Some(order.id),
            payout_id: None,
            event_id,
        },
        entries.collect(),
    )
    .await
}

/// One line of a transaction about to be written.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub key: Key,
    pub amount: i64,
    pub gateway: Option<String>,
}

/// The header of a transaction about to be written.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NewTransaction<'a> {
    pub tenant_id: TenantId,
    pub currency: &'a str,
    pub kind: TransactionKind,
    pub order_id: Option<OrderId>,
    pub payout_id: Option<PayoutId>,
    pub event_id: Option<PaymentEventId>,
}

/// Serializes, until the caller's transaction ends, everything that changes what a storefront's
/// payees may be paid in one currency: payout runs, and postings that touch `available`. On
/// PostgreSQL a transaction-scoped advisory lock keyed by (storefront, currency); SQLite's one
/// writer connection already serializes them. Taking it again in the same transaction is free.
pub(crate) async fn lock_books(
    conn: &impl ConnectionTrait,
    tenant_id: TenantId,
    currency: &str,
) -> AppResult<()> {
    if conn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    conn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_advisory_xact_lock($1)",
        [books_lock_key(tenant_id, currency).into()],
    ))
    .await?;
    Ok(())
}

/// A stable 64-bit key for (storefront, currency): the tenant id's high half mixed with the
/// currency's letters. Two storefronts sharing a key only wait for each other.
fn books_lock_key(tenant_id: TenantId, currency: &str) -> i64 {
    let bytes = tenant_id.into_uuid().into_bytes();
    let mut high = [0_u8; 8];
    high.copy_from_slice(&bytes[..8]);
    let mut low = [0_u8; 8];
    low.copy_from_slice(&bytes[8..]);
    let mut code = [0_u8; 8];
    for (slot, b) in code.iter_mut().zip(currency.bytes()) {
        *slot = b;
    }
    i64::from_le_bytes(high) ^ i64::from_le_bytes(low).rotate_left(17) ^ i64::from_le_bytes(code)
}

/// Writes one balanced transaction: the only writer of ledger rows.
pub(crate) async fn insert(
    conn: &impl ConnectionTrait,
    header: NewTransaction<'_>,
    entries: Vec<Entry>,
) -> AppResult<()> {
    if entries.iter().any(|e| e.key.account == Account::Available) {
        lock_books(conn, header.tenant_id, header.currency).await?;
    }
    let balance = entries
        .iter()
        .try_fold(0_i64, |sum, e| sum.checked_add(e.amount));
    if balance != Some(0) || entries.iter().any(|e| e.amount == 0) {
        tracing::error!(
            kind = header.kind.as_str(), order.id = ?header.order_id, payout.id = ?header.payout_id,
            ?entries, "refused an unbalanced ledger transaction"
        );
        return Err(AppError::Internal("an unbalanced ledger transaction"));
    }
    let at = now();
    let transaction_id = LedgerTransactionId::new_v7();
    let transaction = ledger_transactions::Entity::insert(ledger_transactions::ActiveModel {
        id: Set(transaction_id),
        tenant_id: Set(header.tenant_id),
        currency: Set(header.currency.to_owned()),
        kind: Set(header.kind),
        order_id: Set(header.order_id),
        payout_id: Set(header.payout_id),
        event_id: Set(header.event_id),
        created_at: Set(at),
    });
    let lines = ledger_entries::Entity::insert_many(entries.into_iter().map(|e| {
        ledger_entries::ActiveModel {
            id: Set(LedgerEntryId::new_v7()),
            tenant_id: Set(header.tenant_id),
            transaction_id: Set(transaction_id),
            currency: Set(header.currency.to_owned()),
            account: Set(e.key.account),
            payee_id: Set(e.key.payee),
            gateway: Set(e.gateway),
            order_id: Set(header.order_id),
            amount: Set(e.amount),
            created_at: Set(at),
        }
    }));
    let backend = conn.get_database_backend();
    if backend == DbBackend::Postgres {
        // One round trip: the transaction's row written by a data-modifying WITH, the entries
        // by the statement itself (their foreign key is checked at its end).
        let header = CommonTableExpression::new()
            .query(transaction.into_query())
            .table_name(Alias::new("header"))
            .to_owned();
        let statement = lines
            .into_query()
            .with(WithClause::new().cte(header).to_owned());
        conn.execute_raw(backend.build(&statement)).await?;
    } else {
        transaction.exec_without_returning(conn).await?;
        lines.exec_without_returning(conn).await?;
    }
    Ok(())
}
