//! Part 2: applying `payment_succeeded` events through the real pipeline versus the same
//! inserts and updates written as raw SQL in one transaction, on PostgreSQL.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use lyceum::entities::{entitlements, order_audit, order_lines, orders, outbox, payment_events};
use lyceum::ids::{OrderId, UserId};
use lyceum::services::commerce::OrderStatus;
use lyceum::services::commerce::pipeline::{self, Applied, Source};
use lyceum_e2e::TestApp;
use lyceum_gateway_core::{Currency, EventKind, GatewayEvent, Money};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, Statement, TransactionTrait, Value,
};
use uuid::Uuid;

/// Creates `n` real pending orders for the course `paid`: one new buyer each, checked out
/// over HTTP, so every order has a sandbox session like in production.
pub async fn pending_orders(app: &TestApp, prefix: &str, n: usize) -> Vec<orders::Model> {
    let ids: Vec<Uuid> = futures_util::stream::iter(0..n)
        .map(|i| async move {
            let (token, _) = app.register(&format!("{prefix}{i}@bench.example")).await;
            let started = app.checkout(&token, "paid").await;
            started["order"]["id"]
                .as_str()
                .expect("order id")
                .parse::<Uuid>()
                .expect("uuid")
        })
        .buffer_unordered(4)
        .collect()
        .await;
    let rows = orders::Entity::find()
        .filter(orders::Column::Id.is_in(ids.clone()))
        .all(&app.state.db)
        .await
        .expect("orders");
    assert_eq!(rows.len(), n);
    for row in &rows {
        assert_eq!(row.status.as_str(), "pending", "{row:?}");
        assert_eq!(row.gateway.as_deref(), Some("sandbox"), "{row:?}");
        assert!(row.session_ref.is_some(), "no sandbox session: {row:?}");
    }
    rows
}

/// The `payment_succeeded` event the sandbox would send for `order`.
pub fn succeeded(order: &orders::Model, tag: &str) -> GatewayEvent {
    let usd = Currency::parse(&order.currency).expect("currency");
    GatewayEvent {
        provider_event_id: format!("evt_bench_{tag}_{}", order.id.into_uuid().simple()),
        kind: EventKind::PaymentSucceeded,
        order_id: order.id.into(),
        tenant_id: Some(order.tenant_id.into()),
        session_ref: order.session_ref.clone(),
        provider_payment_id: format!("sbp_bench_{}", order.id.into_uuid().simple()),
        refund_id: None,
        dispute_id: None,
        amount: Money::new(order.total_amount, usd).expect("money"),
        occurred_at: Utc::now(),
    }
}

/// Applies `events` one after another through the pipeline; returns the time taken.
pub async fn apply_pipeline(app: &TestApp, events: &[GatewayEvent]) -> Duration {
    let started = Instant::now();
    for event in events {
        let applied = pipeline::apply(&app.state, Source::Provider("sandbox"), event)
            .await
            .expect("pipeline applies");
        assert!(
            matches!(
                applied,
                Applied::Recorded {
                    from: OrderStatus::Pending,
                    to: OrderStatus::Paid
                }
            ),
            "{applied:?}"
        );
    }
    started.elapsed()
}

/// Applies `events` one after another as raw SQL, with the ledger's writes or (the pipeline
/// before the ledger) without; returns the time taken.
pub async fn apply_raw(
    db: &DatabaseConnection,
    events: &[GatewayEvent],
    ledger: Ledger,
) -> Duration {
    let started = Instant::now();
    for event in events {
        raw_apply(db, event, ledger).await.expect("raw apply");
    }
    started.elapsed()
}

/// Whether a raw apply books the sale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ledger {
    With,
    Without,
}

fn st(sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// The round trips of one raw-SQL apply (BEGIN and COMMIT included), with one order line,
/// without the ledger; the ledger adds [`LEDGER_ROUND_TRIPS`].
pub const RAW_ROUND_TRIPS: usize = 11;
/// The ledger's round trips for a first payment of an order its seller does not share: one
/// statement writing the transaction and its entries (nothing can be posted yet, and the
/// seller is on the order row).
pub const LEDGER_ROUND_TRIPS: usize = 1;

/// The pipeline's writes for a `payment_succeeded` event, as hand-written SQL in one
/// transaction: lock and read the order, record the event (once), read the order's applied
/// events, grant one entitlement per line (an upsert), move the order, release the pending
/// keys, audit, enqueue the receipt.
async fn raw_apply(
    db: &DatabaseConnection,
    event: &GatewayEvent,
    ledger: Ledger,
) -> Result<(), DbErr> {
    let received_at = lyceum::services::now();
    let txn = db.begin().await?;
    let order = txn
        .query_one_raw(st(
            "SELECT tenant_id, buyer_id, status, currency, total_amount, fee_amount, gateway, \
             session_ref, seller_id, shared FROM orders WHERE id = $1 FOR UPDATE",
            vec![event.order_id.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("order {}", event.order_id)))?;
    let tenant_id: Uuid = order.try_get("", "tenant_id")?;
    let buyer_id: Uuid = order.try_get("", "buyer_id")?;
    let from: String = order.try_get("", "status")?;
    let currency: String = order.try_get("", "currency")?;
    let total: i64 = order.try_get("", "total_amount")?;
    let fee: Option<i64> = order.try_get("", "fee_amount")?;
    let seller: Option<Uuid> = order.try_get("", "seller_id")?;
    let shared: bool = order.try_get("", "shared")?;
    assert!(!shared, "the bench's orders are their seller's alone");
    let gateway: Option<String> = order.try_get("", "gateway")?;
    let session_ref: Option<String> = order.try_get("", "session_ref")?;
    assert_eq!(event.tenant_id, Some(tenant_id));
    assert_eq!(gateway.as_deref(), Some("sandbox"));
    assert_eq!(event.session_ref, session_ref);
    let currency_ok = event.amount.currency.code() == currency;
    assert!(currency_ok);

    let event_row_id = Uuid::now_v7();
    let inserted = txn
        .execute_raw(st(
            "INSERT INTO payment_events (id, gateway, provider_event_id, tenant_id, order_id, kind, \
             amount, currency, provider_payment_id, refund_id, dispute_id, occurred_at, \
             received_at, outcome) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
             ON CONFLICT (gateway, provider_event_id, tenant_id) DO NOTHING",
            vec![
                event_row_id.into(),
                "sandbox".into(),
                event.provider_event_id.clone().into(),
                tenant_id.into(),
                event.order_id.into(),
                event.kind.as_str().into(),
                event.amount.amount.get().into(),
                event.amount.currency.code().into(),
                event.provider_payment_id.clone().into(),
                event.refund_id.clone().into(),
                event.dispute_id.clone().into(),
                event.occurred_at.into(),
                received_at.into(),
                "applied".into(),
            ],
        ))
        .await?
        .rows_affected();
    if inserted == 0 {
        txn.commit().await?;
        return Ok(());
    }

    let facts = txn
        .query_all_raw(st(
            "SELECT kind, amount, occurred_at FROM payment_events \
             WHERE tenant_id = $1 AND order_id = $2 AND outcome = 'applied'",
            vec![tenant_id.into(), event.order_id.into()],
        ))
        .await?;
    let (mut paid, mut refunded, mut paid_at) = (0_i64, 0_i64, None::<DateTime<Utc>>);
    for fact in &facts {
        let kind: String = fact.try_get("", "kind")?;
        let amount: i64 = fact.try_get("", "amount")?;
        let at: DateTime<Utc> = fact.try_get("", "occurred_at")?;
        match kind.as_str() {
            "payment_succeeded" => {
                paid += amount;
                paid_at = Some(paid_at.map_or(at, |p| p.min(at)));
            }
            "refund_succeeded" => refunded += amount,
            _ => {}
        }
    }
    let to = if paid >= total && refunded == 0 {
        "paid"
    } else if paid > 0 {
        "partially_paid"
    } else {
        "pending"
    };
    assert_eq!(to, "paid");

    let lines = txn
        .query_all_raw(st(
            "SELECT l.id, l.course_id, c.access_days FROM order_lines l \
             JOIN courses c ON c.tenant_id = l.tenant_id AND c.id = l.course_id \
             WHERE l.tenant_id = $1 AND l.order_id = $2",
            vec![tenant_id.into(), event.order_id.into()],
        ))
        .await?;
    let granted_at = paid_at.unwrap_or(received_at);
    let mut first_entitlement = None::<Uuid>;
    for line in &lines {
        let line_id: Uuid = line.try_get("", "id")?;
        let course_id: Uuid = line.try_get("", "course_id")?;
        let access_days: Option<i32> = line.try_get("", "access_days")?;
        let expires_at =
            access_days.map(|days| granted_at + chrono::Duration::days(i64::from(days)));
        let changed = txn
            .query_one_raw(st(
                "INSERT INTO entitlements (id, tenant_id, user_id, course_id, source, \
                 order_line_id, status, expires_at, granted_at, updated_at) \
                 VALUES ($1, $2, $3, $4, 'purchase', $5, 'active', $6, $7, $8) \
                 ON CONFLICT (order_line_id, tenant_id) DO UPDATE \
                 SET status = EXCLUDED.status, updated_at = EXCLUDED.updated_at \
                 WHERE entitlements.status <> EXCLUDED.status \
                 RETURNING id",
                vec![
                    Uuid::now_v7().into(),
                    tenant_id.into(),
                    buyer_id.into(),
                    course_id.into(),
                    line_id.into(),
                    expires_at.into(),
                    granted_at.into(),
                    received_at.into(),
                ],
            ))
            .await?;
        if first_entitlement.is_none()
            && let Some(row) = changed
        {
            first_entitlement = Some(row.try_get("", "id")?);
        }
    }

    txn.execute_raw(st(
        "UPDATE orders SET status = $1, paid_amount = $2, refunded_amount = $3, \
         flagged = flagged OR $4, payment_id = COALESCE(payment_id, $5), updated_at = $6 \
         WHERE id = $7",
        vec![
            to.into(),
            paid.into(),
            refunded.into(),
            (!currency_ok).into(),
            event.provider_payment_id.clone().into(),
            received_at.into(),
            event.order_id.into(),
        ],
    ))
    .await?;
    if ledger == Ledger::With {
        let seller = seller.expect("a seller on the order");
        raw_books(
            &txn,
            tenant_id,
            event,
            &currency,
            (paid, fee.unwrap_or(0)),
            seller,
            event_row_id,
        )
        .await?;
    }
    txn.execute_raw(st(
        "UPDATE order_lines SET pending_key = NULL WHERE tenant_id = $1 AND order_id = $2",
        vec![tenant_id.into(), event.order_id.into()],
    ))
    .await?;
    txn.execute_raw(st(
        "INSERT INTO order_audit (id, tenant_id, order_id, event_id, from_status, to_status, \
         payment_id, entitlement_id, event_time, received_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        vec![
            Uuid::now_v7().into(),
            tenant_id.into(),
            event.order_id.into(),
            Some(event_row_id).into(),
            from.clone().into(),
            to.into(),
            Some(event.provider_payment_id.clone()).into(),
            first_entitlement.into(),
            event.occurred_at.into(),
            received_at.into(),
        ],
    ))
    .await?;
    if from != "paid" && to == "paid" && total > 0 {
        txn.execute_raw(st(
            "INSERT INTO outbox (id, tenant_id, kind, dedupe_key, payload, status, attempts, \
             next_attempt_at, last_error, created_at, sent_at) \
             SELECT $1, $2, 'purchase_receipt', $3, \
             json_build_object('to', u.email, 'order_id', $4::uuid, 'tenant_id', $2::uuid, \
             'currency', $5::text, 'total', $6::bigint, 'refunded', $7::bigint, \
             'status', $8::text), \
             'pending', 0, $9, NULL, $9, NULL FROM users u WHERE u.id = $10 \
             ON CONFLICT (dedupe_key) DO NOTHING",
            vec![
                Uuid::now_v7().into(),
                tenant_id.into(),
                format!("receipt:{}", event.order_id).into(),
                event.order_id.into(),
                currency.into(),
                total.into(),
                refunded.into(),
                to.into(),
                received_at.into(),
                buyer_id.into(),
            ],
        ))
        .await?;
    }
    txn.commit().await
}

/// The ledger's work for a first payment of an order its seller does not share: nothing to
/// read (the seller is on the order row), one statement writing the transaction (in a `WITH`)
/// and its three entries (clearing, the platform's fee, the seller's pending part).
async fn raw_books(
    txn: &sea_orm::DatabaseTransaction,
    tenant_id: Uuid,
    event: &GatewayEvent,
    currency: &str,
    (paid, fee): (i64, i64),
    seller: Uuid,
    event_row_id: Uuid,
) -> Result<(), DbErr> {
    let transaction = Uuid::now_v7();
    let at = lyceum::services::now();
    const COLUMNS: usize = 10;
    let entries = [
        ("clearing", None, paid),
        ("platform_fees", None, -fee),
        ("pending", Some(seller), fee - paid),
    ];
    let placeholders: Vec<String> = (0..entries.len())
        .map(|row| {
            let cells: Vec<String> = (1..=COLUMNS)
                .map(|c| format!("${}", 6 + row * COLUMNS + c))
                .collect();
            format!("({})", cells.join(", "))
        })
        .collect();
    let mut values: Vec<Value> = vec![
        transaction.into(),
        tenant_id.into(),
        currency.into(),
        event.order_id.into(),
        event_row_id.into(),
        at.into(),
    ];
    for (account, payee, amount) in entries {
        values.extend([
            Uuid::now_v7().into(),
            tenant_id.into(),
            transaction.into(),
            currency.into(),
            account.into(),
            payee.into(),
            "sandbox".into(),
            event.order_id.into(),
            amount.into(),
            at.into(),
        ]);
    }
    txn.execute_raw(st(
        &format!(
            "WITH header AS (INSERT INTO ledger_transactions (id, tenant_id, currency, kind, \
             order_id, payout_id, event_id, created_at) \
             VALUES ($1, $2, $3, 'sale', $4, NULL, $5, $6)) \
             INSERT INTO ledger_entries (id, tenant_id, transaction_id, currency, account, \
             payee_id, gateway, order_id, amount, created_at) VALUES {}",
            placeholders.join(", ")
        ),
        values,
    ))
    .await?;
    Ok(())
}

/// Checks that every order of `set` is booked once: its total in clearing, its fee to the
/// platform, the rest owed to the owner, pending.
pub async fn verify_books(app: &TestApp, set: &[orders::Model], what: &str) {
    for order in set {
        let books = app.order_books(&order.id.to_string()).await;
        let fee = order.fee_amount.expect("a priced fee");
        let amounts: Vec<(&str, i64)> = books.iter().map(|(a, _, n)| (a.as_str(), *n)).collect();
        assert_eq!(
            amounts,
            vec![
                ("clearing", order.total_amount),
                ("pending", fee - order.total_amount),
                ("platform_fees", -fee)
            ],
            "{what}: order {}",
            order.id
        );
    }
}

pub async fn verify(app: &TestApp, set: &[orders::Model], what: &str) {
    let db = &app.state.db;
    let ids: Vec<OrderId> = set.iter().map(|o| o.id).collect();
    let n = set.len() as u64;
    let rows = orders::Entity::find()
        .filter(orders::Column::Id.is_in(ids.clone()))
        .all(db)
        .await
        .expect("orders");
    assert_eq!(rows.len(), set.len(), "{what}");
    for row in &rows {
        assert_eq!(row.status.as_str(), "paid", "{what}: {row:?}");
        assert_eq!(row.paid_amount, row.total_amount, "{what}: {row:?}");
    }
    let lines = order_lines::Entity::find()
        .filter(order_lines::Column::OrderId.is_in(ids.clone()))
        .all(db)
        .await
        .expect("lines");
    assert_eq!(lines.len(), set.len(), "{what}: one line per order");
    assert!(
        lines.iter().all(|l| l.pending_key.is_none()),
        "{what}: pending keys released"
    );
    let ents = entitlements::Entity::find()
        .filter(entitlements::Column::OrderLineId.is_in(lines.iter().map(|l| l.id)))
        .all(db)
        .await
        .expect("entitlements");
    assert_eq!(ents.len(), set.len(), "{what}: one entitlement per order");
    assert!(
        ents.iter()
            .all(|e| e.status == entitlements::EntitlementStatus::Active
                && e.source == entitlements::EntitlementSource::Purchase),
        "{what}: entitlements active"
    );
    let buyers: HashSet<UserId> = set.iter().map(|o| o.buyer_id).collect();
    assert!(
        ents.iter().all(|e| buyers.contains(&e.user_id)),
        "{what}: entitlements belong to the buyers"
    );
    let events = payment_events::Entity::find()
        .filter(payment_events::Column::OrderId.is_in(ids.clone()))
        .count(db)
        .await
        .expect("events");
    let audit = order_audit::Entity::find()
        .filter(order_audit::Column::OrderId.is_in(ids.clone()))
        .count(db)
        .await
        .expect("audit");
    let receipts = outbox::Entity::find()
        .filter(outbox::Column::DedupeKey.is_in(ids.iter().map(|id| format!("receipt:{id}"))))
        .count(db)
        .await
        .expect("outbox");
    assert_eq!(
        (events, audit, receipts),
        (n, n, n),
        "{what}: events, audit rows, receipts"
    );
}

/// Mean time of `f` over `n` runs.
pub async fn mean_time<F, Fut>(n: u32, mut f: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let started = Instant::now();
    for _ in 0..n {
        f().await;
    }
    started.elapsed() / n
}

/// One `SELECT 1` on the pool.
pub async fn select_one(db: &DatabaseConnection) {
    db.query_one_raw(st("SELECT 1", vec![]))
        .await
        .expect("select 1");
}

/// `BEGIN; COMMIT` with nothing in between.
pub async fn empty_transaction(db: &DatabaseConnection) {
    db.begin()
        .await
        .expect("begin")
        .commit()
        .await
        .expect("commit");
}

/// A transaction with one small write: one WAL flush at commit.
pub async fn one_write_transaction(db: &DatabaseConnection) {
    let txn = db.begin().await.expect("begin");
    txn.execute_raw(st(
        "INSERT INTO platform_secrets (name, value, created_at) VALUES ($1, 'x', now()) \
         ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
        vec!["bench_probe".into()],
    ))
    .await
    .expect("write");
    txn.commit().await.expect("commit");
}
