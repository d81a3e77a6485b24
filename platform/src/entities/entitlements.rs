use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "entitlements")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub course_id: Uuid,
    /// `purchase`, `seat`, `subscription` or `grant`.
    pub source: String,
    /// The order line that created it (purchases).
    pub order_line_id: Option<Uuid>,
    /// `active`, `suspended` or `revoked`.
    pub status: String,
    pub expires_at: Option<DateTimeUtc>,
    pub granted_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
