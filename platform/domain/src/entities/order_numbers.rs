use sea_orm::entity::prelude::*;

use crate::ids::{OrderId, TenantId};

/// An order's number at providers that know payments by number (Robokassa's `InvId`).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "order_numbers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub number: i64,
    pub tenant_id: TenantId,
    pub order_id: OrderId,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
