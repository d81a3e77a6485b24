//! The books against the providers: for every order whose money moved in a period (or that
//! was made in it), what the ledger holds of it — in the provider's clearing account and in
//! disputes — against what the provider itself says was captured, refunded and held, asked
//! through the same `fetch_payment` the reconciler uses. The fee is checked by the order's
//! own terms on what the provider says was kept (providers' payment records carry no fee
//! figure of ours). Every order that disagrees, or whose provider could not be asked, is
//! listed; `lyceum reconcile --ledger` exits 1 when the list is not empty.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use lyceum_gateway_core::{GatewayEvent, PaymentLookup};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use super::books::{self, Key};
use super::{Account, posting};
use crate::entities::{ledger_entries, orders};
use crate::error::AppResult;
use crate::ids::OrderId;
use crate::services::commerce::state::{Fact, OrderFacts};
use crate::services::gateway_accounts;
use crate::state::AppState;

/// One order's money, as one side sees it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Side {
    /// Captured minus given back.
    pub kept: i64,
    /// Held by the provider for open disputes.
    pub held: i64,
    /// The platform's fee on what is kept.
    pub fee: i64,
}

/// An order on which the books and its provider disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub order_id: OrderId,
    pub gateway: String,
    pub currency: String,
    pub ledger: Side,
    /// `None` when the provider could not be asked (`error` says why).
    pub provider: Option<Side>,
    pub error: Option<String>,
}

/// One provider's totals over the orders checked, per currency.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    pub orders: usize,
    pub ledger_kept: i64,
    pub provider_kept: i64,
    pub ledger_fees: i64,
    pub provider_fees: i64,
}

/// The outcome of a reconciliation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerReport {
    /// Per (provider, currency).
    pub totals: BTreeMap<(String, String), Totals>,
    pub differences: Vec<Difference>,
}

impl LedgerReport {
    pub fn is_clean(&self) -> bool {
        self.differences.is_empty()
    }
}

/// Reconciles the orders whose books moved in `[from, to)` or that were made then.
pub async fn run(
    state: &AppState,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<LedgerReport> {
    let moved: BTreeSet<OrderId> = ledger_entries::Entity::find()
        .select_only()
        .column(ledger_entries::Column::OrderId)
        .filter(ledger_entries::Column::OrderId.is_not_null())
        .filter(ledger_entries::Column::Account.is_in([Account::Clearing, Account::Disputes]))
        .filter(ledger_entries::Column::CreatedAt.gte(from))
        .filter(ledger_entries::Column::CreatedAt.lt(to))
        .into_tuple::<Option<OrderId>>()
        .all(&state.db)
        .await?
        .into_iter()
        .flatten()
        .collect();
    let made: BTreeSet<OrderId> = orders::Entity::find()
        .select_only()
        .column(orders::Column::Id)
        .filter(orders::Column::Gateway.is_not_null())
        .filter(orders::Column::SessionRef.is_not_null())
        .filter(orders::Column::CreatedAt.gte(from))
        .filter(orders::Column::CreatedAt.lt(to))
        .into_tuple::<OrderId>()
        .all(&state.db)
        .await?
        .into_iter()
        .collect();
    let mut report = LedgerReport::default();
    for id in moved.union(&made) {
        let Some(order) = orders::Entity::find_by_id(*id).one(&state.db).await? else {
            continue;
        };
        check(state, &order, &mut report).await?;
    }
    Ok(report)
}

async fn check(
    state: &AppState,
    order: &orders::Model,
    report: &mut LedgerReport,
) -> AppResult<()> {
    let Some(gateway_name) = order.gateway.clone() else {
        return Ok(());
    };
    let posted = posting::posted(&state.db, order).await?;
    let at = |account| posted.get(&Key::platform(account)).copied().unwrap_or(0);
    let ledger = Side {
        kept: at(Account::Clearing) + at(Account::Disputes),
        held: at(Account::Disputes),
        fee: -at(Account::PlatformFees),
    };
    let terms = posting::terms(&state.db, order).await?;
    let asked = match state.gateways.named(&gateway_name) {
        None => Err(format!("the {gateway_name} gateway is not enabled here")),
        Some(gateway) => {
            let account =
                gateway_accounts::account_for(state, gateway.id(), order.tenant_id).await?;
            let lookup = PaymentLookup {
                order_id: order.id.into_uuid(),
                tenant_id: order.tenant_id.into_uuid(),
                session_ref: order.session_ref.clone(),
                provider_payment_id: order.payment_id.clone(),
            };
            gateway
                .fetch_payment(&account, &lookup)
                .await
                .map_err(|e| crate::error::report(&e).to_string())
        }
    };
    let totals = report
        .totals
        .entry((gateway_name.clone(), order.currency.clone()))
        .or_default();
    totals.orders += 1;
    totals.ledger_kept += ledger.kept;
    totals.ledger_fees += ledger.fee;
    let provider = match asked {
        Ok(events) => {
            let facts = provider_facts(order, &events);
            let kept = (facts.paid() - facts.refunded()).max(0);
            let side = Side {
                kept,
                held: facts.held().clamp(0, kept),
                fee: books::fee_on(terms.fee, terms.total, kept),
            };
            totals.provider_kept += side.kept;
            totals.provider_fees += side.fee;
            side
        }
        Err(error) => {
            report.differences.push(Difference {
                order_id: order.id,
                gateway: gateway_name,
                currency: order.currency.clone(),
                ledger,
                provider: None,
                error: Some(error),
            });
            return Ok(());
        }
    };
    if provider != ledger {
        report.differences.push(Difference {
            order_id: order.id,
            gateway: gateway_name,
            currency: order.currency.clone(),
            ledger,
            provider: Some(provider),
            error: None,
        });
    }
    Ok(())
}

/// The provider's events about `order`, folded as the pipeline folds applied ones (events in
/// another currency, or about another payment than the order's, do not count).
fn provider_facts(order: &orders::Model, events: &[GatewayEvent]) -> OrderFacts {
    let facts: Vec<Fact> = events
        .iter()
        .filter(|e| e.amount.currency.code() == order.currency)
        .filter(|e| {
            order
                .payment_id
                .as_deref()
                .is_none_or(|paid_with| paid_with == e.provider_payment_id)
        })
        .map(Fact::from)
        .collect();
    OrderFacts::from_facts(&facts)
}
