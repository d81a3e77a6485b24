use sea_orm::entity::prelude::*;

use crate::ids::{CourseId, EntitlementId, OrderLineId, TenantId, UserId};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "entitlements")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: EntitlementId,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub course_id: CourseId,
    pub source: EntitlementSource,
    /// The order line that created it (purchases).
    pub order_line_id: Option<OrderLineId>,
    pub status: EntitlementStatus,
    pub expires_at: Option<DateTimeUtc>,
    pub granted_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// What created an entitlement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum EntitlementSource {
    #[sea_orm(string_value = "purchase")]
    Purchase,
    #[sea_orm(string_value = "seat")]
    Seat,
    #[sea_orm(string_value = "subscription")]
    Subscription,
    #[sea_orm(string_value = "grant")]
    Grant,
}

/// Whether an entitlement gives access: only `Active` does; `Suspended` is kept while a
/// dispute is open, `Revoked` once the order no longer grants anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum EntitlementStatus {
    #[sea_orm(string_value = "active")]
    Active,
    #[sea_orm(string_value = "suspended")]
    Suspended,
    #[sea_orm(string_value = "revoked")]
    Revoked,
}

impl EntitlementStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Revoked => "revoked",
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
        for status in EntitlementStatus::iter() {
            assert_eq!(status.to_value(), status.as_str());
        }
    }
}
