//! Making teams and keeping their rosters. Every change to a roster happens in one
//! transaction that first locks the team's row (PostgreSQL; SQLite's one writer connection
//! serializes them anyway), then checks the caller still manages it: two managers removing
//! each other at once cannot leave a team without one.

use chrono::{DateTime, Utc};
use lyceum_tenants::rbac::{Authorized, Domain, Grant, Role, action, resource};
use sea_orm::sea_query::{OnConflict, StringLen};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, DeriveActiveEnum, EntityTrait,
    EnumIter, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

use crate::domain::{BoundedText, Email};
use crate::entities::{team_members, teams, users};
use crate::error::{AppError, AppResult};
use crate::ids::{TeamId, UserId};
use crate::services::invalidation::Invalidations;
use crate::services::now;
use crate::services::tenancy::policy::Policy;
use crate::state::AppState;

/// A team's name: 1 to 120 characters.
pub type TeamName = BoundedText<1, 120>;

/// What someone is in a team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum TeamRole {
    /// Runs the team: its roster and, later, its seats.
    #[sea_orm(string_value = "manager")]
    Manager,
    #[sea_orm(string_value = "member")]
    Member,
}

impl TeamRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manager => "manager",
            Self::Member => "member",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "manager" => Some(Self::Manager),
            "member" => Some(Self::Member),
            _ => None,
        }
    }
}

/// Whether someone is in a team or only asked to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum MemberStatus {
    /// Asked by a manager; in the team once they join.
    #[sea_orm(string_value = "invited")]
    Invited,
    #[sea_orm(string_value = "active")]
    Active,
}

impl MemberStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invited => "invited",
            Self::Active => "active",
        }
    }
}

/// A team, as one of its people (or someone invited to it) sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    pub id: TeamId,
    pub name: String,
    /// The viewer's role in it.
    pub role: TeamRole,
    /// Whether the viewer is in it, or invited.
    pub status: MemberStatus,
    pub created_at: DateTime<Utc>,
}

/// Someone in a team, as its managers see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamMember {
    pub user_id: UserId,
    pub email: String,
    pub name: String,
    pub role: TeamRole,
    pub added_at: DateTime<Utc>,
}

/// Makes a team; the caller is its first manager.
pub async fn create(
    state: &AppState,
    auth: &Authorized<resource::Team, action::Create>,
    name: TeamName,
) -> AppResult<Team> {
    let user = auth
        .user_id()
        .ok_or(AppError::Unauthenticated("sign in to make a team"))?;
    let at = now();
    let id = TeamId::new_v7();
    let txn = state.db.begin().await?;
    teams::Entity::insert(teams::ActiveModel {
        id: Set(id),
        name: Set(name.as_str().to_owned()),
        created_by: Set(user),
        created_at: Set(at),
    })
    .exec_without_returning(&txn)
    .await?;
    team_members::Entity::insert(team_members::ActiveModel {
        team_id: Set(id),
        user_id: Set(user),
        role: Set(TeamRole::Manager),
        status: Set(MemberStatus::Active),
        added_by: Set(None),
        created_at: Set(at),
    })
    .exec_without_returning(&txn)
    .await?;
    let granted = Policy::store_grant(&txn, &manager_grant(id, user)).await?;
    state.commit(txn, granted).await?;
    tracing::info!(team.id = %id, user.id = %user, "team created");
    Ok(Team {
        id,
        name: name.into_inner(),
        role: TeamRole::Manager,
        status: MemberStatus::Active,
        created_at: at,
    })
}

/// The teams the caller is in or invited to, newest first.
pub async fn list_mine(
    state: &AppState,
    auth: &Authorized<resource::Account, action::Read>,
) -> AppResult<Vec<Team>> {
    let Some(user) = auth.user_id() else {
        return Ok(Vec::new());
    };
    let memberships = team_members::Entity::find()
        .filter(team_members::Column::UserId.eq(user))
        .all(&state.db)
        .await?;
    let names = teams::Entity::find()
        .filter(teams::Column::Id.is_in(memberships.iter().map(|m| m.team_id)))
        .all(&state.db)
        .await?;
    let mut out: Vec<Team> = memberships
        .into_iter()
        .filter_map(|m| {
            let team = names.iter().find(|t| t.id == m.team_id)?;
            Some(Team {
                id: team.id,
                name: team.name.clone(),
                role: m.role,
                status: m.status,
                created_at: team.created_at,
            })
        })
        .collect();
    out.sort_by_key(|t| std::cmp::Reverse(t.created_at));
    Ok(out)
}

/// A team's roster — the people who joined it — for its managers; anyone else is told the
/// team does not exist. Invitations not yet accepted are not listed: that would tell whether
/// an invited address has an account.
pub async fn members(
    state: &AppState,
    auth: &Authorized<resource::Team, action::Read>,
    team: TeamId,
) -> AppResult<Vec<TeamMember>> {
    ensure_manager(&state.db, auth.user_id(), team).await?;
    roster(&state.db, team).await
}

/// Invites the holder of `email` into the team as a member (a team's managers only). The
/// answer never says whether the address has an account, is already in the team, or was
/// invited already: a registered address not yet in the team gets an invitation, which it
/// sees among its teams and accepts with [`join`]; nothing happens otherwise. Invitations
/// are for members only: a manager is made from someone who joined, by [`set_role`], where
/// the other managers see it — an invitation nobody can see never carries power.
pub async fn invite(
    state: &AppState,
    auth: &Authorized<resource::Team, action::Update>,
    team: TeamId,
    email: &Email,
) -> AppResult<()> {
    let txn = state.db.begin().await?;
    let manager = lock_as_manager(&txn, auth.user_id(), team).await?;
    let user = users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .filter(users::Column::Email.eq(email.as_str()))
        .into_tuple::<UserId>()
        .one(&txn)
        .await?;
    if let Some(user) = user {
        team_members::Entity::insert(team_members::ActiveModel {
            team_id: Set(team),
            user_id: Set(user),
            role: Set(TeamRole::Member),
            status: Set(MemberStatus::Invited),
            added_by: Set(Some(manager)),
            created_at: Set(now()),
        })
        .on_conflict(
            OnConflict::columns([team_members::Column::TeamId, team_members::Column::UserId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    }
    txn.commit().await?;
    tracing::info!(team.id = %team, invited = user.is_some(), "team invitation asked for");
    Ok(())
}

/// Accepts the caller's invitation into `team`; 404 when there is none.
pub async fn join(
    state: &AppState,
    auth: &Authorized<resource::Team, action::Update>,
    team: TeamId,
) -> AppResult<Team> {
    let user = auth.user_id().ok_or(AppError::NotFound("team"))?;
    let txn = state.db.begin().await?;
    lock_team(&txn, team).await?;
    let membership = team_members::Entity::find_by_id((team, user))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("team"))?;
    if membership.status == MemberStatus::Invited {
        team_members::Entity::update(team_members::ActiveModel {
            team_id: Set(team),
            user_id: Set(user),
            status: Set(MemberStatus::Active),
            ..Default::default()
        })
        .exec(&txn)
        .await?;
    }
    let row = teams::Entity::find_by_id(team)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("team"))?;
    txn.commit().await?;
    tracing::info!(team.id = %team, user.id = %user, "team joined");
    Ok(Team {
        id: row.id,
        name: row.name,
        role: membership.role,
        status: MemberStatus::Active,
        created_at: row.created_at,
    })
}

/// Changes an active member's role (a team's managers only); a team keeps a manager.
pub async fn set_role(
    state: &AppState,
    auth: &Authorized<resource::Team, action::Update>,
    team: TeamId,
    user: UserId,
    role: TeamRole,
) -> AppResult<Vec<TeamMember>> {
    let txn = state.db.begin().await?;
    lock_as_manager(&txn, auth.user_id(), team).await?;
    let membership = team_members::Entity::find_by_id((team, user))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("team member"))?;
    if membership.status != MemberStatus::Active {
        return Err(AppError::conflict(
            "only someone who joined the team can have their role changed",
        ));
    }
    if role == TeamRole::Member {
        ensure_another_manager(&txn, team, user).await?;
    }
    team_members::Entity::update(team_members::ActiveModel {
        team_id: Set(team),
        user_id: Set(user),
        role: Set(role),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    let grant = manager_grant(team, user);
    let changed = match role {
        _ if membership.role == role => Invalidations::none(),
        TeamRole::Manager => Policy::store_grant(&txn, &grant).await?,
        TeamRole::Member => Policy::delete_grant(&txn, &grant).await?,
    };
    let out = roster(&txn, team).await?;
    state.commit(txn, changed).await?;
    tracing::info!(team.id = %team, user.id = %user, role = role.as_str(), "team role changed");
    Ok(out)
}

/// Takes someone off a team, or cancels their invitation: a team's managers may remove
/// anyone, anyone may remove themselves (leave, or decline); the last manager stays.
pub async fn remove_member(
    state: &AppState,
    auth: &Authorized<resource::Team, action::Delete>,
    team: TeamId,
    user: UserId,
) -> AppResult<()> {
    let caller = auth.user_id().ok_or(AppError::NotFound("team"))?;
    let txn = state.db.begin().await?;
    if caller == user {
        lock_team(&txn, team).await?;
    } else {
        lock_as_manager(&txn, Some(caller), team).await?;
    }
    ensure_another_manager(&txn, team, user).await?;
    let removed = team_members::Entity::delete_many()
        .filter(team_members::Column::TeamId.eq(team))
        .filter(team_members::Column::UserId.eq(user))
        .exec(&txn)
        .await?;
    if removed.rows_affected == 0 {
        return Err(AppError::NotFound(if caller == user {
            "team"
        } else {
            "team member"
        }));
    }
    // Whatever their role: nobody off the team keeps a say in its seats (a no-op, unless the
    // grant is there).
    let revoked = Policy::delete_grant(&txn, &manager_grant(team, user)).await?;
    state.commit(txn, revoked).await?;
    tracing::info!(team.id = %team, user.id = %user, by = %caller, "team member removed");
    Ok(())
}

/// The casbin grant a team's manager holds: `team_manager` in the team's domain, which is
/// what lets them run its seats. Kept in the same transaction as the roster row that makes
/// them a manager.
fn manager_grant(team: TeamId, user: UserId) -> Grant {
    Grant::new(user, Role::TeamManager, Domain::Team(team))
}

/// Locks `team`'s row until the transaction ends; 404 when there is no such team.
async fn lock_team(conn: &impl ConnectionTrait, team: TeamId) -> AppResult<()> {
    let mut query = teams::Entity::find_by_id(team);
    if conn.get_database_backend() == DbBackend::Postgres {
        query = query.lock_exclusive();
    }
    query.one(conn).await?.ok_or(AppError::NotFound("team"))?;
    Ok(())
}

/// Locks `team` and checks, under the lock, that `caller` manages it.
async fn lock_as_manager(
    conn: &impl ConnectionTrait,
    caller: Option<UserId>,
    team: TeamId,
) -> AppResult<UserId> {
    lock_team(conn, team).await?;
    ensure_manager(conn, caller, team).await
}

/// The caller, when they manage `team`; otherwise the team "does not exist" for them.
async fn ensure_manager(
    conn: &impl ConnectionTrait,
    caller: Option<UserId>,
    team: TeamId,
) -> AppResult<UserId> {
    let caller = caller.ok_or(AppError::NotFound("team"))?;
    let row = team_members::Entity::find_by_id((team, caller))
        .one(conn)
        .await?;
    match row {
        Some(m) if m.role == TeamRole::Manager && m.status == MemberStatus::Active => Ok(caller),
        _ => Err(AppError::NotFound("team")),
    }
}

/// Refuses a change that would leave `team` without an active manager other than `leaving`.
async fn ensure_another_manager(
    conn: &impl ConnectionTrait,
    team: TeamId,
    leaving: UserId,
) -> AppResult<()> {
    let others = team_members::Entity::find()
        .filter(team_members::Column::TeamId.eq(team))
        .filter(team_members::Column::Role.eq(TeamRole::Manager))
        .filter(team_members::Column::Status.eq(MemberStatus::Active))
        .filter(team_members::Column::UserId.ne(leaving))
        .count(conn)
        .await?;
    if others == 0 {
        return Err(AppError::conflict("a team keeps at least one manager"));
    }
    Ok(())
}

async fn roster(conn: &impl ConnectionTrait, team: TeamId) -> AppResult<Vec<TeamMember>> {
    let rows = team_members::Entity::find()
        .filter(team_members::Column::TeamId.eq(team))
        .filter(team_members::Column::Status.eq(MemberStatus::Active))
        .order_by_asc(team_members::Column::CreatedAt)
        .all(conn)
        .await?;
    let people = users::Entity::find()
        .filter(users::Column::Id.is_in(rows.iter().map(|r| r.user_id)))
        .all(conn)
        .await?;
    rows.into_iter()
        .map(|row| {
            let user = people
                .iter()
                .find(|u| u.id == row.user_id)
                .ok_or(AppError::NotFound("user"))?;
            Ok(TeamMember {
                user_id: row.user_id,
                email: user.email.clone(),
                name: user.name.clone(),
                role: row.role,
                added_at: row.created_at,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use sea_orm::{ActiveEnum, Iterable};

    use super::*;

    #[test]
    fn stored_names_are_the_shown_ones() {
        for role in TeamRole::iter() {
            assert_eq!(role.to_value(), role.as_str());
            assert_eq!(TeamRole::parse(role.as_str()), Some(role));
        }
        for status in MemberStatus::iter() {
            assert_eq!(status.to_value(), status.as_str());
        }
    }
}
