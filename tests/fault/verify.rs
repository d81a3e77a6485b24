//! What the database and both instances must say once the storm is over, order by order:
//! each paid exactly once and refunded exactly as much as its refunds say; one payment event
//! per genuine event and none for a forged one; one audit row per payment event; at most one
//! entitlement per order line, active exactly when the order grants access; books whose
//! clearing account holds what the provider holds (paid less given back), one ledger
//! transaction at most per payment event, and a ledger that balances; exactly the e-mails the
//! order's changes call for; and the access answer of either instance agreeing.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::{Result, bail};
use lyceum::entities::{
    entitlements, ledger_entries, ledger_transactions, order_audit, order_lines, orders, outbox,
    payment_events, webhook_deliveries,
};
use lyceum::services::commerce::OrderStatus;
use lyceum::services::ledger::Account;
use sea_orm::{DatabaseConnection, EntityTrait};
use uuid::Uuid;

use crate::plan::Expected;
use crate::setup::{Gw, Order};

/// Every row the checks read, by order.
struct Rows {
    orders: HashMap<Uuid, orders::Model>,
    events: HashMap<Uuid, Vec<payment_events::Model>>,
    audit: HashMap<Uuid, Vec<order_audit::Model>>,
    lines: HashMap<Uuid, Vec<Uuid>>,
    entitlements: HashMap<Uuid, Vec<entitlements::Model>>,
    entries: HashMap<Uuid, Vec<ledger_entries::Model>>,
    transactions: HashMap<Uuid, Vec<ledger_transactions::Model>>,
    mail: HashMap<Uuid, Vec<outbox::Model>>,
}

fn by<K: std::hash::Hash + Eq, T>(
    rows: Vec<T>,
    key: impl Fn(&T) -> Option<K>,
) -> HashMap<K, Vec<T>> {
    let mut map: HashMap<K, Vec<T>> = HashMap::new();
    for row in rows {
        if let Some(k) = key(&row) {
            map.entry(k).or_default().push(row);
        }
    }
    map
}

async fn load(db: &DatabaseConnection) -> Result<Rows> {
    let lines = order_lines::Entity::find().all(db).await?;
    let line_order: HashMap<Uuid, Uuid> = lines
        .iter()
        .map(|l| (l.id.into_uuid(), l.order_id.into_uuid()))
        .collect();
    Ok(Rows {
        orders: orders::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|o| (o.id.into_uuid(), o))
            .collect(),
        events: by(payment_events::Entity::find().all(db).await?, |e| {
            Some(e.order_id.into_uuid())
        }),
        audit: by(order_audit::Entity::find().all(db).await?, |a| {
            Some(a.order_id.into_uuid())
        }),
        entitlements: by(entitlements::Entity::find().all(db).await?, |e| {
            e.order_line_id
                .and_then(|l| line_order.get(&l.into_uuid()).copied())
        }),
        lines: by(lines, |l| Some(l.order_id.into_uuid()))
            .into_iter()
            .map(|(k, v)| (k, v.into_iter().map(|l| l.id.into_uuid()).collect()))
            .collect(),
        entries: by(ledger_entries::Entity::find().all(db).await?, |e| {
            e.order_id.map(|o| o.into_uuid())
        }),
        transactions: by(ledger_transactions::Entity::find().all(db).await?, |t| {
            t.order_id.map(|o| o.into_uuid())
        }),
        mail: by(outbox::Entity::find().all(db).await?, |m| {
            m.payload["order_id"].as_str().and_then(|s| s.parse().ok())
        }),
    })
}

/// What the checks counted.
#[derive(Debug, Default)]
pub struct Figures {
    pub orders: usize,
    pub paid: usize,
    pub refunded_in_full: usize,
    pub refunded_in_part: usize,
    pub untouched: usize,
    pub payment_events: usize,
    pub ledger_entries: usize,
    pub refused_logged: u64,
}

/// Checks every order of `plan` against the database; every problem is listed, then it fails.
pub async fn database(
    db: &DatabaseConnection,
    orders: &[Order],
    plan: &[(usize, Expected)],
) -> Result<Figures> {
    let rows = load(db).await?;
    let mut problems = Vec::new();
    let mut figures = Figures::default();
    for (index, expected) in plan {
        let order = &orders[*index];
        let before = problems.len();
        check_order(&rows, order, expected, &mut problems);
        if problems.len() > before {
            problems.insert(
                before,
                format!(
                    "order {} ({:?}) expected {expected:?}:",
                    order.id, order.gateway
                ),
            );
        }
        figures.orders += 1;
        match expected.status {
            "paid" => figures.paid += 1,
            "refunded" => figures.refunded_in_full += 1,
            "partially_refunded" => figures.refunded_in_part += 1,
            _ => figures.untouched += 1,
        }
    }
    figures.payment_events = rows.events.values().map(Vec::len).sum();
    figures.ledger_entries = rows.entries.values().map(Vec::len).sum();
    let totals = lyceum::services::ledger::reports::totals(db).await?;
    if !totals.balanced {
        problems.push(format!("the ledger does not balance: {totals:?}"));
    }
    let refused = webhook_deliveries::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .filter(|d| d.verification == lyceum::entities::webhook_deliveries::Verification::Refused)
        .count();
    figures.refused_logged = u64::try_from(refused)?;
    if !problems.is_empty() {
        let shown: Vec<&String> = problems.iter().take(60).collect();
        bail!(
            "{} problems:\n{}",
            problems.len(),
            shown
                .iter()
                .map(|p| p.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    Ok(figures)
}

fn check_order(rows: &Rows, order: &Order, expected: &Expected, problems: &mut Vec<String>) {
    let mut fail = |what: String| problems.push(format!("  {what}"));
    let Some(row) = rows.orders.get(&order.id) else {
        fail("missing".to_owned());
        return;
    };
    if row.status.as_str() != expected.status
        || row.paid_amount != expected.paid
        || row.refunded_amount != expected.refunded
    {
        fail(format!(
            "is {} paid {} refunded {}",
            row.status, row.paid_amount, row.refunded_amount
        ));
    }
    let none = Vec::new();
    let events = rows.events.get(&order.id).unwrap_or(&none);
    if order.gateway == Gw::Sandbox {
        let recorded: BTreeSet<&str> = events
            .iter()
            .map(|e| e.provider_event_id.as_str())
            .collect();
        let genuine: BTreeSet<&str> = expected.event_ids.iter().map(String::as_str).collect();
        if recorded != genuine || events.len() != genuine.len() {
            fail(format!(
                "payment events {recorded:?} (of {}), genuine {genuine:?}",
                events.len()
            ));
        }
    } else if expected.paid == 0 && !events.is_empty() {
        fail(format!(
            "{} payment events for an order nobody paid",
            events.len()
        ));
    }
    let audit = rows.audit.get(&order.id).map_or(&[][..], Vec::as_slice);
    if audit.len() != events.len() {
        fail(format!(
            "{} audit rows for {} payment events",
            audit.len(),
            events.len()
        ));
    }
    check_access(rows, order, expected, &mut fail);
    check_books(rows, order, expected, events.len(), &mut fail);
    check_mail(rows, order, expected, audit, &mut fail);
}

fn check_access(rows: &Rows, order: &Order, expected: &Expected, fail: &mut impl FnMut(String)) {
    let lines = rows.lines.get(&order.id).map_or(0, Vec::len);
    let ents = rows
        .entitlements
        .get(&order.id)
        .map_or(&[][..], Vec::as_slice);
    let active = ents
        .iter()
        .filter(|e| e.status == entitlements::EntitlementStatus::Active)
        .count();
    let wanted = if expected.access { lines } else { 0 };
    if ents.len() > lines || active != wanted {
        let statuses: Vec<&str> = ents.iter().map(|e| e.status.as_str()).collect();
        fail(format!("entitlements {statuses:?} for {lines} lines"));
    }
}

fn check_books(
    rows: &Rows,
    order: &Order,
    expected: &Expected,
    events: usize,
    fail: &mut impl FnMut(String),
) {
    let entries = rows.entries.get(&order.id).map_or(&[][..], Vec::as_slice);
    let clearing: i64 = entries
        .iter()
        .filter(|e| e.account == Account::Clearing)
        .map(|e| e.amount)
        .sum();
    let sum: i64 = entries.iter().map(|e| e.amount).sum();
    if clearing != expected.paid - expected.refunded || sum != 0 {
        fail(format!(
            "clearing {clearing} (provider holds {}), entries sum to {sum}",
            expected.paid - expected.refunded
        ));
    }
    let transactions = rows
        .transactions
        .get(&order.id)
        .map_or(&[][..], Vec::as_slice);
    let causes: BTreeSet<_> = transactions.iter().filter_map(|t| t.event_id).collect();
    let caused = transactions.iter().filter(|t| t.event_id.is_some()).count();
    if transactions.len() > events || caused != causes.len() {
        fail(format!(
            "{} ledger transactions ({} distinct causes) for {events} payment events",
            transactions.len(),
            causes.len()
        ));
    }
}

/// One receipt if the order ever became paid (its audit says so; a won dispute makes it paid
/// again, and the receipt is not sent twice), none otherwise; no more refund notices than
/// refunds, and one for the amount it ended refunded at, when any.
fn check_mail(
    rows: &Rows,
    order: &Order,
    expected: &Expected,
    audit: &[order_audit::Model],
    fail: &mut impl FnMut(String),
) {
    let mail = rows.mail.get(&order.id).map_or(&[][..], Vec::as_slice);
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for m in mail {
        *kinds.entry(m.kind.as_str()).or_default() += 1;
    }
    let became_paid = audit
        .iter()
        .filter(|a| a.to_status == OrderStatus::Paid && a.from_status != OrderStatus::Paid)
        .count();
    let receipts = kinds.get("purchase_receipt").copied().unwrap_or(0);
    let notices = kinds.get("refund_notice").copied().unwrap_or(0);
    let final_notice = format!("refund:{}:{}", order.id, expected.refunded);
    let has_final = mail.iter().any(|m| m.dedupe_key == final_notice);
    if receipts != became_paid.min(1)
        || notices > expected.refunds
        || (expected.refunded > 0) != has_final
    {
        fail(format!(
            "mail {kinds:?} (became paid {became_paid} times, {} refunds, final notice {has_final})",
            expected.refunds
        ));
    }
}

/// Asks the instances whether each order's buyer may open its course: every order on the
/// instance its position picks, every fourth on the other one too. Returns the answers asked.
pub async fn access_answers(
    client: &reqwest::Client,
    bases: &[String; 2],
    buyers: &[String],
    orders: &[Order],
    plan: &[(usize, Expected)],
) -> Result<usize> {
    use futures_util::{StreamExt, stream};
    let mut asks = Vec::new();
    for (n, (index, expected)) in plan.iter().enumerate() {
        asks.push((n % 2, *index, expected.access));
        if n % 4 == 0 {
            asks.push(((n + 1) % 2, *index, expected.access));
        }
    }
    let answers: Vec<Result<Option<String>>> = stream::iter(&asks)
        .map(|&(instance, index, wanted)| async move {
            let order = &orders[index];
            let url = format!(
                "{}/api/v1/tenants/{}/courses/{}/access",
                bases[instance], order.tenant_slug, order.course
            );
            let body = crate::api::expect(
                client,
                reqwest::Method::GET,
                &url,
                Some(&buyers[order.buyer]),
                None,
                200,
            )
            .await?;
            let access = body["access"].as_bool();
            Ok((access != Some(wanted)).then(|| {
                format!(
                    "instance {instance} says access {access:?} to order {} (wanted {wanted})",
                    order.id
                )
            }))
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let mut wrong = Vec::new();
    for answer in answers {
        if let Some(problem) = answer? {
            wrong.push(problem);
        }
    }
    if !wrong.is_empty() {
        bail!(
            "{} wrong access answers:\n{}",
            wrong.len(),
            wrong[..wrong.len().min(20)].join("\n")
        );
    }
    Ok(asks.len())
}
