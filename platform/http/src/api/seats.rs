//! Team seats: a team's pools and who holds them (its managers), one's own seats, and the
//! pools bought of a storefront's courses (its staff, counts only).
//!
//! A team's seats are checked by casbin in the team's domain: its managers hold
//! `team_manager` there, nobody else does.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use lyceum_tenants::rbac::{Authorized, Domain, Verb, action, resource};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::types::{Created, NoContent};
use super::{ApiTags, in_tenant};
use crate::auth::{Auth, MaybeAuth};
use crate::problem::ApiResult;
use lyceum_domain::domain::Email;
use lyceum_domain::error::AppResult;
use lyceum_domain::ids::TeamId;
use lyceum_domain::services::seats::tiers::Tier;
use lyceum_domain::services::seats::{
    self, Assignment, AuditLine, MySeat, PoolOrder, PoolView, SeatView, TenantPool,
};
use lyceum_domain::services::tenancy::tenants as tenant_service;
use lyceum_domain::state::AppState;

/// A team's seats of one course.
#[derive(Debug, Object)]
#[oai(rename = "SeatPool")]
pub struct SeatPoolBody {
    pub id: Uuid,
    /// The storefront's slug.
    pub tenant: String,
    pub tenant_name: String,
    /// The course's slug.
    pub course: String,
    pub course_title: String,
    /// Seats paid for and usable.
    pub purchased: u32,
    /// Seats held by people. Given seats (`assigned` and `pending`) are never more than
    /// `purchased` and `held` together.
    pub assigned: u32,
    /// Seats held by invitations to addresses nobody has registered with yet.
    pub pending: u32,
    pub available: u32,
    /// Seats of orders under an open dispute: their holders' access is suspended until it
    /// is decided.
    pub held: u32,
    /// The seats given, in the order they were given: `active`, `suspended` or `invited`.
    pub seats: Vec<SeatBody>,
    /// The orders the seats came from.
    pub orders: Vec<SeatOrderBody>,
}

impl From<PoolView> for SeatPoolBody {
    fn from(p: PoolView) -> Self {
        Self {
            id: p.id.into(),
            tenant: p.tenant,
            tenant_name: p.tenant_name,
            course: p.course,
            course_title: p.course_title,
            purchased: p.purchased,
            assigned: p.assigned,
            pending: p.pending,
            available: p.available,
            held: p.held,
            seats: p.seats.into_iter().map(Into::into).collect(),
            orders: p.orders.into_iter().map(Into::into).collect(),
        }
    }
}

/// A seat given to an address.
#[derive(Debug, Object)]
#[oai(rename = "Seat")]
pub struct SeatBody {
    pub id: Uuid,
    pub email: String,
    /// The holder, once someone registered with the address.
    #[oai(skip_serializing_if_is_none)]
    pub user_id: Option<Uuid>,
    /// `active`, `suspended` (a dispute of the team's order is open) or `invited`.
    pub status: String,
    pub assigned_at: DateTime<Utc>,
    #[oai(skip_serializing_if_is_none)]
    pub activated_at: Option<DateTime<Utc>>,
}

impl From<SeatView> for SeatBody {
    fn from(s: SeatView) -> Self {
        Self {
            id: s.id.into(),
            email: s.email,
            user_id: s.user_id.map(Into::into),
            status: s.status.to_owned(),
            assigned_at: s.assigned_at,
            activated_at: s.activated_at,
        }
    }
}

/// An order line a pool's seats came from.
#[derive(Debug, Object)]
#[oai(rename = "SeatOrder")]
pub struct SeatOrderBody {
    pub order_id: Uuid,
    pub status: String,
    /// Seats bought.
    pub quantity: u32,
    /// Seats still paid for, after refunds.
    pub seats: u32,
}

impl From<PoolOrder> for SeatOrderBody {
    fn from(o: PoolOrder) -> Self {
        Self {
            order_id: o.order_id.into(),
            status: o.status.as_str().to_owned(),
            quantity: o.quantity,
            seats: o.seats,
        }
    }
}

/// Giving a seat.
#[derive(Debug, Object)]
pub struct AssignSeatRequest {
    /// Who gets it: someone registered with it has access at once; otherwise the address is
    /// e-mailed a link, and the seat waits for whoever signs in with the address and opens it.
    pub email: String,
}

/// A seat just given.
#[derive(Debug, Object)]
#[oai(rename = "SeatAssignment")]
pub struct SeatAssignmentBody {
    pub id: Uuid,
    pub email: String,
    #[oai(skip_serializing_if_is_none)]
    pub user_id: Option<Uuid>,
    /// `active` (access now) or `invited` (the seat waits for the address to register).
    pub status: String,
    pub assigned_at: DateTime<Utc>,
}

impl From<Assignment> for SeatAssignmentBody {
    fn from(a: Assignment) -> Self {
        Self {
            id: a.id.into(),
            email: a.email,
            user_id: a.user_id.map(Into::into),
            status: a.status.as_str().to_owned(),
            assigned_at: a.assigned_at,
        }
    }
}

/// One line of a team's seat audit trail.
#[derive(Debug, Object)]
#[oai(rename = "SeatAuditLine")]
pub struct SeatAuditBody {
    pub at: DateTime<Utc>,
    /// `assigned`, `invited`, `claimed`, `revoked`, `cancelled`, `refunded`, `suspended` or
    /// `restored`.
    pub action: String,
    pub tenant: String,
    pub course: String,
    /// Whose seat.
    #[oai(skip_serializing_if_is_none)]
    pub email: Option<String>,
    /// Who did it; absent when a refund or a dispute did.
    #[oai(skip_serializing_if_is_none)]
    pub actor: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub order_id: Option<Uuid>,
}

impl From<AuditLine> for SeatAuditBody {
    fn from(a: AuditLine) -> Self {
        Self {
            at: a.at,
            action: a.action.to_owned(),
            tenant: a.tenant,
            course: a.course,
            email: a.email,
            actor: a.actor,
            order_id: a.order_id.map(Into::into),
        }
    }
}

/// A seat I hold.
#[derive(Debug, Object)]
#[oai(rename = "MySeat")]
pub struct MySeatBody {
    pub team_id: Uuid,
    pub team: String,
    pub tenant: String,
    pub course: String,
    pub course_title: String,
    /// `active`, or `suspended` while a dispute of the team's order is open.
    pub status: String,
    pub since: DateTime<Utc>,
}

impl From<MySeat> for MySeatBody {
    fn from(s: MySeat) -> Self {
        Self {
            team_id: s.team_id.into(),
            team: s.team,
            tenant: s.tenant,
            course: s.course,
            course_title: s.course_title,
            status: s.status.to_owned(),
            since: s.since,
        }
    }
}

/// A pool bought of one of the storefront's courses: counts only.
#[derive(Debug, Object)]
#[oai(rename = "TenantSeatPool")]
pub struct TenantSeatPoolBody {
    pub team_id: Uuid,
    pub team: String,
    pub course: String,
    pub purchased: u32,
    pub held: u32,
    pub assigned: u32,
    pub pending: u32,
    pub available: u32,
}

impl From<TenantPool> for TenantSeatPoolBody {
    fn from(p: TenantPool) -> Self {
        Self {
            team_id: p.team_id.into(),
            team: p.team,
            course: p.course,
            purchased: p.purchased,
            held: p.held,
            assigned: p.assigned,
            pending: p.pending,
            available: p.available,
        }
    }
}

/// A volume price: from `min_seats` seats in one order, `percent_off` their price.
#[derive(Debug, Object)]
#[oai(rename = "SeatTier")]
pub struct SeatTierBody {
    /// 2 to 1000.
    pub min_seats: u32,
    /// 1 to 90; a tier for more seats takes more off.
    pub percent_off: u8,
}

impl From<Tier> for SeatTierBody {
    fn from(t: Tier) -> Self {
        Self {
            min_seats: t.min_seats,
            percent_off: t.percent_off,
        }
    }
}

/// A course's volume prices, replacing the ones it had; `[]` removes them.
#[derive(Debug, Object)]
pub struct SeatTiersRequest {
    /// At most 10.
    pub tiers: Vec<SeatTierBody>,
}

#[derive(Debug, ApiResponse)]
enum TiersResponse {
    /// Fewest seats first.
    #[oai(status = 200)]
    Ok(Json<Vec<SeatTierBody>>),
}

#[derive(Debug, ApiResponse)]
enum PoolsResponse {
    /// The team's pools, oldest first.
    #[oai(status = 200)]
    Ok(Json<Vec<SeatPoolBody>>),
}

#[derive(Debug, ApiResponse)]
enum AuditResponse {
    /// Newest first.
    #[oai(status = 200)]
    Ok(Json<Vec<SeatAuditBody>>),
}

#[derive(Debug, ApiResponse)]
enum AcceptedResponse {
    /// The seat is the caller's.
    #[oai(status = 200)]
    Ok(Json<SeatAssignmentBody>),
}

#[derive(Debug, ApiResponse)]
enum MySeatsResponse {
    #[oai(status = 200)]
    Ok(Json<Vec<MySeatBody>>),
}

#[derive(Debug, ApiResponse)]
enum TenantPoolsResponse {
    #[oai(status = 200)]
    Ok(Json<Vec<TenantSeatPoolBody>>),
}

/// Team seats.
#[derive(Debug)]
pub struct SeatsApi;

/// The proof to do `A` on `team`'s seats: casbin in the team's domain.
async fn seat_proof<A: Verb>(
    state: &AppState,
    auth: &Auth,
    team: Uuid,
) -> AppResult<Authorized<resource::Seat, A>> {
    state
        .policy
        .authorize(
            &state.db,
            &auth.principal(),
            Domain::Team(TeamId::from(team)),
        )
        .await
}

#[OpenApi(prefix_path = "/api/v1")]
impl SeatsApi {
    /// A team's seats (its managers): per storefront and course, how many were bought, are
    /// held and are free, who holds them, the invitations waiting, and the orders they came
    /// from.
    #[oai(
        path = "/teams/:team/seats",
        method = "get",
        operation_id = "list_team_seats",
        tag = "ApiTags::Teams"
    )]
    async fn list_team_seats(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        team: Path<Uuid>,
    ) -> ApiResult<PoolsResponse> {
        let proof = seat_proof::<action::Read>(state, &auth, team.0).await?;
        let pools = seats::team_pools(state, &proof, team.0.into()).await?;
        Ok(PoolsResponse::Ok(Json(
            pools.into_iter().map(Into::into).collect(),
        )))
    }

    /// A team's seat audit trail (its managers): who assigned, invited, revoked or cancelled
    /// whom and when, and which seats refunds and disputes took back. Newest first.
    #[oai(
        path = "/teams/:team/seats/audit",
        method = "get",
        operation_id = "team_seat_audit",
        tag = "ApiTags::Teams"
    )]
    async fn team_seat_audit(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        team: Path<Uuid>,
        /// 1 to 500; 100 by default.
        limit: Query<Option<u64>>,
    ) -> ApiResult<AuditResponse> {
        let proof = seat_proof::<action::Read>(state, &auth, team.0).await?;
        let lines = seats::audit(state, &proof, team.0.into(), limit.0.unwrap_or(100)).await?;
        Ok(AuditResponse::Ok(Json(
            lines.into_iter().map(Into::into).collect(),
        )))
    }

    /// Give a seat of the team's pool of a course to an address (its managers). Someone
    /// registered with it has access at once (`active`); otherwise the seat is held by an
    /// invitation (`invited`) whose link is e-mailed to the address: signed in with that
    /// address, its holder takes the seat (`accept_seat_invitation`). 409 when no seat is free
    /// (invitations count) or the address already holds one.
    #[oai(
        path = "/teams/:team/seats/:tenant/:course/assignments",
        method = "post",
        operation_id = "assign_seat",
        tag = "ApiTags::Teams"
    )]
    async fn assign_seat(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        team: Path<Uuid>,
        tenant: Path<String>,
        course: Path<String>,
        Json(body): Json<AssignSeatRequest>,
    ) -> ApiResult<Created<SeatAssignmentBody>> {
        let proof = seat_proof::<action::Create>(state, &auth, team.0).await?;
        let email = Email::parse("email", &body.email)?;
        let tenant = tenant_service::find_by_slug(state, &tenant).await?;
        let assigned =
            seats::assign(state, &proof, team.0.into(), &tenant, &course, &email).await?;
        Ok(Created::Created(Json(assigned.into())))
    }

    /// Take a seat back from its holder (the team's managers): their seat access ends and the
    /// seat is free again; access they bought themselves stays.
    #[oai(
        path = "/teams/:team/seats/:tenant/:course/assignments/:user_id",
        method = "delete",
        operation_id = "revoke_seat",
        tag = "ApiTags::Teams"
    )]
    async fn revoke_seat(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        team: Path<Uuid>,
        tenant: Path<String>,
        course: Path<String>,
        user_id: Path<Uuid>,
    ) -> ApiResult<NoContent> {
        let proof = seat_proof::<action::Delete>(state, &auth, team.0).await?;
        let tenant = tenant_service::find_by_slug(state, &tenant).await?;
        seats::revoke(
            state,
            &proof,
            team.0.into(),
            &tenant,
            &course,
            user_id.0.into(),
        )
        .await?;
        Ok(NoContent::NoContent)
    }

    /// Cancel an invitation (the team's managers): the seat it held is free again.
    #[oai(
        path = "/teams/:team/seats/:tenant/:course/invitations/:invitation",
        method = "delete",
        operation_id = "cancel_seat_invitation",
        tag = "ApiTags::Teams"
    )]
    async fn cancel_seat_invitation(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        team: Path<Uuid>,
        tenant: Path<String>,
        course: Path<String>,
        invitation: Path<Uuid>,
    ) -> ApiResult<NoContent> {
        let proof = seat_proof::<action::Delete>(state, &auth, team.0).await?;
        let tenant = tenant_service::find_by_slug(state, &tenant).await?;
        seats::cancel(
            state,
            &proof,
            team.0.into(),
            &tenant,
            &course,
            invitation.0.into(),
        )
        .await?;
        Ok(NoContent::NoContent)
    }

    /// Take the seat an invitation holds, with the token from its e-mail, signed in with the
    /// invited address. An unknown, cancelled, taken or someone else's token is 404.
    #[oai(
        path = "/seat-invitations/:token/accept",
        method = "post",
        operation_id = "accept_seat_invitation",
        tag = "ApiTags::Account"
    )]
    async fn accept_seat_invitation(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        token: Path<String>,
    ) -> ApiResult<AcceptedResponse> {
        let proof = super::own_account::<action::Update>(state, &auth.principal()).await?;
        let seat = seats::accept(state, &proof, &token).await?;
        Ok(AcceptedResponse::Ok(Json(seat.into())))
    }

    /// The seats I hold, in any team.
    #[oai(
        path = "/me/seats",
        method = "get",
        operation_id = "list_my_seats",
        tag = "ApiTags::Account"
    )]
    async fn list_my_seats(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
    ) -> ApiResult<MySeatsResponse> {
        let proof = super::own_account::<action::Read>(state, &auth.principal()).await?;
        let mine = seats::mine(state, &proof).await?;
        Ok(MySeatsResponse::Ok(Json(
            mine.into_iter().map(Into::into).collect(),
        )))
    }

    /// A published course's volume prices for teams: from so many seats in one order, so
    /// much off. The checkout applies them.
    #[oai(
        path = "/tenants/:tenant/courses/:course/seat-tiers",
        method = "get",
        operation_id = "list_seat_tiers",
        tag = "ApiTags::Catalog"
    )]
    async fn list_seat_tiers(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: MaybeAuth,
        tenant: Path<String>,
        course: Path<String>,
    ) -> ApiResult<TiersResponse> {
        let (tenant, proof) = super::in_storefront::<resource::Catalog, action::Read>(
            state,
            &auth.principal(),
            &tenant,
        )
        .await?;
        let tiers = seats::tiers::list(state, &proof, &tenant, &course).await?;
        Ok(TiersResponse::Ok(Json(
            tiers.into_iter().map(Into::into).collect(),
        )))
    }

    /// Set a course's volume prices for teams (its storefront's staff); orders already made
    /// keep their price.
    #[oai(
        path = "/tenants/:tenant/courses/:course/seat-tiers",
        method = "put",
        operation_id = "set_seat_tiers",
        tag = "ApiTags::Studio"
    )]
    async fn set_seat_tiers(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        course: Path<String>,
        Json(body): Json<SeatTiersRequest>,
    ) -> ApiResult<TiersResponse> {
        let (tenant, proof) =
            in_tenant::<resource::Course, action::Update>(state, &auth.principal(), &tenant)
                .await?;
        let tiers = body
            .tiers
            .into_iter()
            .map(|t| Tier {
                min_seats: t.min_seats,
                percent_off: t.percent_off,
            })
            .collect();
        let tiers = seats::tiers::replace(state, &proof, &tenant, &course, tiers).await?;
        Ok(TiersResponse::Ok(Json(
            tiers.into_iter().map(Into::into).collect(),
        )))
    }

    /// The seat pools teams bought of the storefront's courses (owner, editors): how many
    /// seats, how many given — never to whom.
    #[oai(
        path = "/tenants/:tenant/seats",
        method = "get",
        operation_id = "list_tenant_seat_pools",
        tag = "ApiTags::Studio"
    )]
    async fn list_tenant_seat_pools(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
    ) -> ApiResult<TenantPoolsResponse> {
        let (tenant, proof) =
            in_tenant::<resource::Seat, action::Read>(state, &auth.principal(), &tenant).await?;
        let pools = seats::tenant_pools(state, &proof, &tenant).await?;
        Ok(TenantPoolsResponse::Ok(Json(
            pools.into_iter().map(Into::into).collect(),
        )))
    }
}
