//! Orders that took money before the ledger existed: the migration that made the ledger
//! flagged them (`orders.ledger_backfill`), and [`run`], right after migrations, posts each
//! one's books through the same rule as every new payment, from its recorded provider events,
//! and clears the flag in the same transaction. So the ledger is complete from the first sale,
//! and a run cut short carries on where it stopped.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
    TransactionTrait,
};

use super::{TransactionKind, holds, posting};
use crate::entities::orders;
use crate::error::AppResult;
use crate::ids::{OrderId, TenantId};
use crate::services::commerce::{orders as order_service, pipeline};
use crate::services::now;

const BATCH: u64 = 200;

/// Posts the books of every flagged order; returns how many.
pub async fn run(db: &DatabaseConnection) -> AppResult<usize> {
    let mut done = 0;
    loop {
        let flagged = orders::Entity::find()
            .select_only()
            .column(orders::Column::TenantId)
            .column(orders::Column::Id)
            .filter(orders::Column::LedgerBackfill.eq(true))
            .limit(BATCH)
            .into_tuple::<(TenantId, OrderId)>()
            .all(db)
            .await?;
        if flagged.is_empty() {
            return Ok(done);
        }
        for (tenant_id, order_id) in flagged {
            let txn = db.begin().await?;
            let Some(order) = order_service::lock(&txn, Some(tenant_id), order_id).await? else {
                continue;
            };
            if !order.ledger_backfill {
                continue;
            }
            let facts = pipeline::applied_facts(&txn, tenant_id, order_id).await?;
            let (hold_until, released_at) = holds::hold(&order, &facts, now());
            let mut row: orders::ActiveModel = order.into();
            row.ledger_backfill = Set(false);
            row.hold_until = Set(hold_until);
            row.released_at = Set(released_at);
            posting::save_and_post(&txn, row, &facts, TransactionKind::Backfill).await?;
            txn.commit().await?;
            done += 1;
        }
    }
}
