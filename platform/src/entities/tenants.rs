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
    pub custom_domain: Option<String>,
    pub owner_id: Uuid,
    pub created_at: DateTimeUtc,
    pub approved_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
