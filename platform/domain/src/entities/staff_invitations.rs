use lyceum_tenants::rbac::Role;
use sea_orm::entity::prelude::*;

use crate::ids::{InvitationId, TenantId, UserId};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "staff_invitations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: InvitationId,
    pub tenant_id: TenantId,
    /// The invited address, lower-cased.
    pub email: String,
    /// The address while the invitation waits; NULL once accepted (unique per tenant).
    pub pending_email: Option<String>,
    pub role: InvitedRole,
    /// SHA-256 (hex) of the token sent by e-mail; the token itself is never stored here.
    pub token_hash: String,
    pub invited_by: UserId,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub accepted_at: Option<DateTimeUtc>,
    pub accepted_by: Option<UserId>,
}

/// The roles an owner can invite to (a database CHECK holds the same two); the tenants
/// crate's [`Role`] knows them under the same names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum InvitedRole {
    #[sea_orm(string_value = "editor")]
    Editor,
    #[sea_orm(string_value = "grader")]
    Grader,
}

impl From<InvitedRole> for Role {
    fn from(role: InvitedRole) -> Self {
        match role {
            InvitedRole::Editor => Self::Editor,
            InvitedRole::Grader => Self::Grader,
        }
    }
}

impl TryFrom<Role> for InvitedRole {
    /// A role nobody is invited to; it comes back unchanged.
    type Error = Role;
    fn try_from(role: Role) -> Result<Self, Self::Error> {
        match role {
            Role::Editor => Ok(Self::Editor),
            Role::Grader => Ok(Self::Grader),
            Role::PlatformAdmin | Role::Owner | Role::Student | Role::TeamManager => Err(role),
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

    /// Stored as the tenants crate names the role, and every invitable role maps back.
    #[test]
    fn stored_names_are_the_role_names() {
        for role in InvitedRole::iter() {
            assert_eq!(role.to_value(), Role::from(role).as_str());
            assert_eq!(InvitedRole::try_from(Role::from(role)), Ok(role));
        }
        assert_eq!(InvitedRole::try_from(Role::Owner), Err(Role::Owner));
    }
}
