use sea_orm::entity::prelude::*;

use crate::ids::{SessionHandoffId, UserId};

/// A one-time code that hands a signed-in user from the platform's origin to one storefront
/// host, where it becomes a session valid on that host only.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "session_handoffs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: SessionHandoffId,
    /// SHA-256 of the code, hex.
    pub code_hash: String,
    pub user_id: UserId,
    /// The storefront host the code may be redeemed on.
    pub host: String,
    /// SHA-256 of the nonce cookie of the browser that started the sign-in, hex.
    pub state_hash: String,
    /// The same-origin path to land on.
    pub next_path: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
