use sea_orm::entity::prelude::*;

use crate::ids::{TeamId, UserId};
pub use crate::services::teams::{MemberStatus, TeamRole};

/// Someone in a team, as a manager or a member.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "team_members")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub team_id: TeamId,
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: UserId,
    pub role: TeamRole,
    pub status: MemberStatus,
    /// Who invited them; `None` for the team's creator.
    pub added_by: Option<UserId>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
