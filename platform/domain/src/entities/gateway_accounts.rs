use sea_orm::entity::prelude::*;

use crate::ids::{GatewayAccountId, TenantId};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "gateway_accounts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: GatewayAccountId,
    pub tenant_id: TenantId,
    pub gateway: String,
    /// Off once the owner disabled the gateway (the row and its history stay).
    pub enabled: bool,
    pub provider_account_id: Option<String>,
    pub test_mode: bool,
    /// JSON object of settings that are not secret.
    pub settings: String,
    /// The sealed JSON object of the secrets (see `sealing`); never in clear.
    pub sealed_credentials: Option<String>,
    /// JSON array of the names of the sealed secrets.
    pub credential_names: String,
    pub charges_enabled: bool,
    pub payouts_enabled: bool,
    /// JSON array of what the provider still asks of the seller.
    pub requirements: String,
    pub checked_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
