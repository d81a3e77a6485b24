use sea_orm::entity::prelude::*;

use crate::ids::{CourseId, OrderId, TenantId, UserId};

/// A payee's part of one course of an order, as the order was priced: the storefront's owner
/// has a row (`owner`) and takes what rounding leaves.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "order_shares")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: TenantId,
    #[sea_orm(primary_key, auto_increment = false)]
    pub order_id: OrderId,
    #[sea_orm(primary_key, auto_increment = false)]
    pub course_id: CourseId,
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: UserId,
    pub bps: i32,
    pub owner: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
