use sea_orm::entity::prelude::*;

use crate::ids::{LedgerEntryId, LedgerTransactionId, OrderId, TenantId, UserId};
pub use crate::services::ledger::Account;

/// One line of the ledger: `amount` minor units, debit positive, credit negative, on one
/// account. Never changed or deleted (the database refuses both).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: LedgerEntryId,
    pub tenant_id: TenantId,
    pub transaction_id: LedgerTransactionId,
    pub currency: String,
    pub account: Account,
    /// The payee a payee account belongs to.
    pub payee_id: Option<UserId>,
    /// The provider of the order the entry is about.
    pub gateway: Option<String>,
    pub order_id: Option<OrderId>,
    pub amount: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::ledger_transactions::Entity",
        from = "Column::TransactionId",
        to = "super::ledger_transactions::Column::Id"
    )]
    Transaction,
}

impl Related<super::ledger_transactions::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Transaction.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
