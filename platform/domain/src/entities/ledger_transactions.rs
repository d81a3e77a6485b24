use sea_orm::entity::prelude::*;

use crate::ids::{LedgerTransactionId, OrderId, PaymentEventId, PayoutId, TenantId};
pub use crate::services::ledger::TransactionKind;

/// A set of ledger entries that sum to zero, written with the change that caused it.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_transactions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: LedgerTransactionId,
    pub tenant_id: TenantId,
    pub currency: String,
    pub kind: TransactionKind,
    pub order_id: Option<OrderId>,
    pub payout_id: Option<PayoutId>,
    /// The payment event that caused it, when one did.
    pub event_id: Option<PaymentEventId>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
