//! Teams and their rosters (seats come later): making one, the teams I am in or invited to,
//! joining and leaving; for a team's managers, its roster, invitations and roles.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use lyceum_tenants::rbac::{Verb, action, resource};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::ApiTags;
use super::types::{Created, NoContent};
use crate::auth::Auth;
use crate::problem::ApiResult;
use lyceum_domain::domain::Email;
use lyceum_domain::error::{AppError, AppResult};
use lyceum_domain::services::teams::{self, Team, TeamMember, TeamName, TeamRole};
use lyceum_domain::state::AppState;

/// Making a team.
#[derive(Debug, Object)]
pub struct CreateTeamRequest {
    /// 1–120 characters.
    pub name: String,
}

/// A team, as one of its people (or someone invited to it) sees it.
#[derive(Debug, Object)]
#[oai(rename = "Team")]
pub struct TeamBody {
    pub id: Uuid,
    pub name: String,
    /// My role in it: `manager` or `member`.
    pub role: String,
    /// `active` when I am in it, `invited` until I join.
    pub status: String,
    pub created_at: DateTime<Utc>,
}

impl From<Team> for TeamBody {
    fn from(t: Team) -> Self {
        Self {
            id: t.id.into(),
            name: t.name,
            role: t.role.as_str().to_owned(),
            status: t.status.as_str().to_owned(),
            created_at: t.created_at,
        }
    }
}

/// Someone in a team.
#[derive(Debug, Object)]
#[oai(rename = "TeamMember")]
pub struct TeamMemberBody {
    pub user_id: Uuid,
    pub email: String,
    pub name: String,
    /// `manager` or `member`.
    pub role: String,
    pub added_at: DateTime<Utc>,
}

impl From<TeamMember> for TeamMemberBody {
    fn from(m: TeamMember) -> Self {
        Self {
            user_id: m.user_id.into(),
            email: m.email,
            name: m.name,
            role: m.role.as_str().to_owned(),
            added_at: m.added_at,
        }
    }
}

/// Inviting someone into a team.
#[derive(Debug, Object)]
pub struct InviteTeamMemberRequest {
    /// The address they registered with.
    pub email: String,
}

/// A member's new role.
#[derive(Debug, Object)]
pub struct TeamRoleRequest {
    /// `manager` or `member`.
    pub role: String,
}

#[derive(Debug, ApiResponse)]
enum InvitedResponse {
    /// Taken: a registered address not yet in the team is invited; the answer is the same
    /// whatever the address.
    #[oai(status = 202)]
    Accepted,
}

#[derive(Debug, ApiResponse)]
enum TeamResponse {
    #[oai(status = 200)]
    Ok(Json<TeamBody>),
}

#[derive(Debug, ApiResponse)]
enum TeamsResponse {
    #[oai(status = 200)]
    Ok(Json<Vec<TeamBody>>),
}

#[derive(Debug, ApiResponse)]
enum RosterResponse {
    /// The team's people, in the order they joined.
    #[oai(status = 200)]
    Ok(Json<Vec<TeamMemberBody>>),
}

/// Teams.
#[derive(Debug)]
pub struct TeamsApi;

fn parse_role(name: &str) -> AppResult<TeamRole> {
    TeamRole::parse(name).ok_or_else(|| AppError::invalid("role", "must be `manager` or `member`"))
}

/// The team proof: casbin lets any signed-in user ask; the teams service decides per team.
async fn team_proof<A: Verb>(
    state: &AppState,
    auth: &Auth,
) -> AppResult<lyceum_tenants::rbac::Authorized<resource::Team, A>> {
    super::in_platform(state, &auth.principal()).await
}

#[OpenApi(prefix_path = "/api/v1/teams")]
impl TeamsApi {
    /// Make a team: the caller is its first manager.
    #[oai(
        path = "/",
        method = "post",
        operation_id = "create_team",
        tag = "ApiTags::Account"
    )]
    async fn create_team(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        Json(body): Json<CreateTeamRequest>,
    ) -> ApiResult<Created<TeamBody>> {
        let proof = team_proof::<action::Create>(state, &auth).await?;
        let team = teams::create(state, &proof, TeamName::parse("name", &body.name)?).await?;
        Ok(Created::Created(Json(team.into())))
    }

    /// The teams I am in or invited to, newest first, with my role and status in each.
    #[oai(
        path = "/",
        method = "get",
        operation_id = "list_my_teams",
        tag = "ApiTags::Account"
    )]
    async fn list_my_teams(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
    ) -> ApiResult<TeamsResponse> {
        let proof = super::own_account::<action::Read>(state, &auth.principal()).await?;
        let list = teams::list_mine(state, &proof).await?;
        Ok(TeamsResponse::Ok(Json(
            list.into_iter().map(Into::into).collect(),
        )))
    }

    /// Who is in a team (its managers only): the people who joined it.
    #[oai(
        path = "/:team/members",
        method = "get",
        operation_id = "list_team_members",
        tag = "ApiTags::Teams"
    )]
    async fn list_team_members(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        team: Path<Uuid>,
    ) -> ApiResult<RosterResponse> {
        let proof = team_proof::<action::Read>(state, &auth).await?;
        let roster = teams::members(state, &proof, team.0.into()).await?;
        Ok(RosterResponse::Ok(Json(
            roster.into_iter().map(Into::into).collect(),
        )))
    }

    /// Invite someone into a team as a member (its managers only), by the address they
    /// registered with. They see the invitation among their teams and join with `join_team`;
    /// once in, a manager may make them a manager (`set_team_role`). The answer is 202
    /// whatever the address: it never says whether it has an account or is in the team.
    #[oai(
        path = "/:team/invitations",
        method = "post",
        operation_id = "invite_team_member",
        tag = "ApiTags::Teams"
    )]
    async fn invite_team_member(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        team: Path<Uuid>,
        Json(body): Json<InviteTeamMemberRequest>,
    ) -> ApiResult<InvitedResponse> {
        let proof = team_proof::<action::Update>(state, &auth).await?;
        let email = Email::parse("email", &body.email)?;
        teams::invite(state, &proof, team.0.into(), &email).await?;
        Ok(InvitedResponse::Accepted)
    }

    /// Accept my invitation into a team.
    #[oai(
        path = "/:team/join",
        method = "post",
        operation_id = "join_team",
        tag = "ApiTags::Teams"
    )]
    async fn join_team(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        team: Path<Uuid>,
    ) -> ApiResult<TeamResponse> {
        let proof = team_proof::<action::Update>(state, &auth).await?;
        let joined = teams::join(state, &proof, team.0.into()).await?;
        Ok(TeamResponse::Ok(Json(joined.into())))
    }

    /// Make a member a `manager` or a manager a `member` (its managers only); a team keeps a
    /// manager.
    #[oai(
        path = "/:team/members/:user_id",
        method = "put",
        operation_id = "set_team_role",
        tag = "ApiTags::Teams"
    )]
    async fn set_team_role(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        team: Path<Uuid>,
        user_id: Path<Uuid>,
        Json(body): Json<TeamRoleRequest>,
    ) -> ApiResult<RosterResponse> {
        let proof = team_proof::<action::Update>(state, &auth).await?;
        let role = parse_role(&body.role)?;
        let roster = teams::set_role(state, &proof, team.0.into(), user_id.0.into(), role).await?;
        Ok(RosterResponse::Ok(Json(
            roster.into_iter().map(Into::into).collect(),
        )))
    }

    /// Take someone off a team (its managers), or leave it (anyone, with their own id; an
    /// invitation is declined the same way); the last manager stays.
    #[oai(
        path = "/:team/members/:user_id",
        method = "delete",
        operation_id = "remove_team_member",
        tag = "ApiTags::Teams"
    )]
    async fn remove_team_member(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        team: Path<Uuid>,
        user_id: Path<Uuid>,
    ) -> ApiResult<NoContent> {
        let proof = team_proof::<action::Delete>(state, &auth).await?;
        teams::remove_member(state, &proof, team.0.into(), user_id.0.into()).await?;
        Ok(NoContent::NoContent)
    }
}
