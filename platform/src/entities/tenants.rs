use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tenants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    /// ISO 4217 code every price of the storefront is in.
    pub currency: String,
    /// `pending`, `active` or `suspended`.
    pub status: String,
    /// The platform fee in basis points; `None` follows the platform default.
    pub fee_bps: Option<i32>,
    /// The verified custom domain the storefront is served on.
    pub custom_domain: Option<String>,
    pub owner_id: Uuid,
    pub created_at: DateTimeUtc,
    pub approved_at: Option<DateTimeUtc>,
    /// A domain the owner asked for, served once verified.
    pub pending_domain: Option<String>,
    /// What the owner publishes in DNS to prove control of `pending_domain`.
    pub domain_token: Option<String>,
    pub domain_verified_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
