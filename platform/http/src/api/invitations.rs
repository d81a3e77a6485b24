//! Staff invitations: an owner invites an address (`POST /tenants/{tenant}/members`, in
//! `tenants`), the person signed in with it accepts.
//!
//! Inviting answers the same whether or not the address has an account, so the staff form
//! tells nobody who is registered; see `services::tenancy::invitations`.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use lyceum_tenants::rbac::{action, resource};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::tenants::MemberBody;
use super::types::NoContent;
use super::{ApiTags, in_tenant, own_account};
use crate::auth::Auth;
use crate::problem::ApiResult;
use lyceum_domain::services::tenancy::invitations::{self, Invitation};
use lyceum_domain::state::AppState;

/// Inviting someone to the staff (`POST /tenants/{tenant}/members`, served by `TenantsApi`:
/// one path is declared by one `#[OpenApi]` impl, or the document writes it twice).
#[derive(Debug, Object)]
pub struct InviteMemberRequest {
    /// Where the invitation goes; whoever signs in with this address can accept it.
    pub email: String,
    /// `editor` or `grader`.
    pub role: String,
}

/// An invitation to a storefront's staff. It says nothing about whether the address has an
/// account.
#[derive(Debug, Object)]
#[oai(rename = "Invitation")]
pub struct InvitationBody {
    pub id: Uuid,
    pub email: String,
    /// `editor` or `grader`.
    pub role: String,
    /// `pending`, `expired` or `accepted`.
    pub status: String,
    /// After this the link no longer works; inviting the address again renews it.
    pub expires_at: DateTime<Utc>,
}

impl From<Invitation> for InvitationBody {
    fn from(i: Invitation) -> Self {
        Self {
            id: i.id.into(),
            email: i.email,
            role: i.role.as_str().to_owned(),
            status: i.status.as_str().to_owned(),
            expires_at: i.expires_at,
        }
    }
}

#[derive(Debug, ApiResponse)]
enum InvitationsResponse {
    #[oai(status = 200)]
    Ok(Json<Vec<InvitationBody>>),
}

#[derive(Debug, ApiResponse)]
enum AcceptResponse {
    /// The caller is now on the staff.
    #[oai(status = 200)]
    Ok(Json<MemberBody>),
}

/// Staff invitations.
#[derive(Debug)]
pub struct InvitationsApi;

#[OpenApi(prefix_path = "/api/v1")]
impl InvitationsApi {
    /// The invitations not accepted yet, newest first (owner).
    #[oai(
        path = "/tenants/:tenant/invitations",
        method = "get",
        operation_id = "list_invitations",
        tag = "ApiTags::Studio"
    )]
    async fn list_invitations(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
    ) -> ApiResult<InvitationsResponse> {
        let (tenant, proof) =
            in_tenant::<resource::Member, action::Read>(state, &auth.principal(), &tenant).await?;
        let pending = invitations::list_pending(state, &proof, &tenant).await?;
        Ok(InvitationsResponse::Ok(Json(
            pending.into_iter().map(Into::into).collect(),
        )))
    }

    /// Cancel an invitation that is not accepted yet (owner); its link stops working.
    #[oai(
        path = "/tenants/:tenant/invitations/:invitation",
        method = "delete",
        operation_id = "cancel_invitation",
        tag = "ApiTags::Studio"
    )]
    async fn cancel_invitation(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        invitation: Path<Uuid>,
    ) -> ApiResult<NoContent> {
        let (tenant, proof) =
            in_tenant::<resource::Member, action::Delete>(state, &auth.principal(), &tenant)
                .await?;
        invitations::cancel(state, &proof, &tenant, invitation.0.into()).await?;
        Ok(NoContent::NoContent)
    }

    /// Accept an invitation with the token from its e-mail, signed in with the invited
    /// address; the caller joins the staff. An unknown, expired, used or someone else's
    /// token is 404.
    #[oai(
        path = "/invitations/:token/accept",
        method = "post",
        operation_id = "accept_invitation",
        tag = "ApiTags::Account"
    )]
    async fn accept_invitation(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        token: Path<String>,
    ) -> ApiResult<AcceptResponse> {
        let proof = own_account::<action::Update>(state, &auth.principal()).await?;
        let member = invitations::accept(state, &proof, &token).await?;
        Ok(AcceptResponse::Ok(Json(member.into())))
    }
}
