use sea_orm::entity::prelude::*;

pub use crate::services::webhooks::{Outcome, Verification};

use crate::ids::{TenantId, WebhookDeliveryId};

/// One delivery a provider made to a webhook path, or one replay of a stored delivery.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: WebhookDeliveryId,
    /// The gateway's name, as in its path (`sandbox`, `stripe`, …).
    pub gateway: String,
    /// The storefront of the path (`/webhooks/{gateway}/{tenant}`); none on the platform's.
    pub tenant_id: Option<TenantId>,
    pub received_at: DateTimeUtc,
    /// The sender's address as the trusted proxies vouch for it; none for a replay.
    pub peer: Option<String>,
    pub verification: Verification,
    /// Why verification refused it, in a few fixed words (never the body or a secret).
    pub reason: Option<String>,
    /// JSON list of the parsed events with what became of each; `[]` unless verified.
    pub events: String,
    pub outcome: Outcome,
    /// More about the outcome (the reason an event was ignored, a refused amount).
    pub detail: Option<String>,
    /// For a replay: the delivery replayed.
    pub replay_of: Option<WebhookDeliveryId>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
