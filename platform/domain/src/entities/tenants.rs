use lyceum_tenants::TenantStatus;
use sea_orm::entity::prelude::*;

use crate::ids::{TenantId, UserId};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tenants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: TenantId,
    pub slug: String,
    pub name: String,
    /// ISO 4217 code every price of the storefront is in.
    pub currency: String,
    pub status: StoredTenantStatus,
    /// The verified custom domain the storefront is served on.
    pub custom_domain: Option<String>,
    pub owner_id: UserId,
    pub created_at: DateTimeUtc,
    pub approved_at: Option<DateTimeUtc>,
    /// A domain the owner asked for, served once verified.
    pub pending_domain: Option<String>,
    /// What the owner publishes in DNS to prove control of `pending_domain`.
    pub domain_token: Option<String>,
    pub domain_verified_at: Option<DateTimeUtc>,
    /// Days a sale stays pending before its sellers may be paid; `None` is the configured
    /// default.
    pub payout_hold_days: Option<i32>,
    /// The storefront's colour, `#rrggbb`.
    pub brand_color: Option<String>,
}

/// The stored form of a [`TenantStatus`]: `lyceum-tenants` names no sea-orm type (only the
/// kernel's ids it uses are column values), so the column has its own enum, converted both
/// ways by exhaustive matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum StoredTenantStatus {
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "active")]
    Active,
    #[sea_orm(string_value = "suspended")]
    Suspended,
}

impl StoredTenantStatus {
    /// The stored name, which is the domain status's name.
    pub fn as_str(self) -> &'static str {
        TenantStatus::from(self).as_str()
    }
}

impl From<TenantStatus> for StoredTenantStatus {
    fn from(status: TenantStatus) -> Self {
        match status {
            TenantStatus::Pending => Self::Pending,
            TenantStatus::Active => Self::Active,
            TenantStatus::Suspended => Self::Suspended,
        }
    }
}

impl From<StoredTenantStatus> for TenantStatus {
    fn from(status: StoredTenantStatus) -> Self {
        match status {
            StoredTenantStatus::Pending => Self::Pending,
            StoredTenantStatus::Active => Self::Active,
            StoredTenantStatus::Suspended => Self::Suspended,
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

    /// Rows keep the domain's names, and every status survives the round trip.
    #[test]
    fn stores_the_domain_names() {
        for stored in StoredTenantStatus::iter() {
            let status = TenantStatus::from(stored);
            assert_eq!(stored.to_value(), status.as_str());
            assert_eq!(StoredTenantStatus::from(status), stored);
        }
    }
}
