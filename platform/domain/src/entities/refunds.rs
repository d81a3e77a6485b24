use sea_orm::entity::prelude::*;

use crate::ids::{OrderId, RefundId, TenantId, UserId};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "refunds")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: RefundId,
    pub tenant_id: TenantId,
    pub order_id: OrderId,
    pub amount: i64,
    pub currency: String,
    pub status: RefundStatus,
    pub provider_refund_id: Option<String>,
    pub requested_by: UserId,
    pub error: Option<String>,
    /// The provider cannot make it through its API: the seller returns the money in the
    /// provider's cabinet (access already ended when it was recorded).
    pub manual: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Where a refund request stands: `requested` until the gateway confirms (or while it cannot
/// be reached), then `succeeded`, or `failed` when the gateway refused it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum RefundStatus {
    #[sea_orm(string_value = "requested")]
    Requested,
    #[sea_orm(string_value = "succeeded")]
    Succeeded,
    #[sea_orm(string_value = "failed")]
    Failed,
}

impl RefundStatus {
    /// The name the API shows (the stored one).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

#[cfg(test)]
mod tests {
    use sea_orm::{ActiveEnum, Iterable};

    use super::*;

    /// `as_str` (shown) and the stored value are one name.
    #[test]
    fn shown_and_stored_names_agree() {
        for status in RefundStatus::iter() {
            assert_eq!(status.to_value(), status.as_str());
        }
    }
}
