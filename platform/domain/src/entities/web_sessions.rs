use sea_orm::entity::prelude::*;

use crate::ids::{UserId, WebSessionId};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "web_sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: WebSessionId,
    pub user_id: UserId,
    /// SHA-256 of the session cookie value, hex.
    pub session_hash: String,
    /// The token the web UI echoes in `X-CSRF-Token` on unsafe requests.
    pub csrf_token: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    /// `None`: made on the platform's own origin; otherwise the one host it is valid on.
    pub host: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
