//! Applying for a storefront, and running one: settings and staff (listing, cancelling and
//! accepting invitations are in `invitations`).

use std::sync::Arc;

use lyceum_gateway_core::Currency;
use lyceum_tenants::rbac::{Domain, action, resource};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::invitations::{InvitationBody, InviteMemberRequest};
use super::types::{Created, NoContent, TenantBody};
use super::{ApiTags, in_tenant};
use crate::auth::Auth;
use crate::problem::ApiResult;
use lyceum_domain::domain::{self, Email, FieldError};
use lyceum_domain::error::AppError;
use lyceum_domain::services::tenancy::invitations;
use lyceum_domain::services::tenancy::tenants::{
    self, Application, Member, TenantName, TenantPatch,
};
use lyceum_domain::state::AppState;

/// Applying for a storefront.
#[derive(Debug, Object)]
pub struct CreateTenantRequest {
    /// 2–63 lower-case letters, digits and inner hyphens; also the storefront's subdomain, so
    /// names the platform keeps for itself (`www`, `api`, `admin`, `mail`, …) are refused.
    pub slug: String,
    pub name: String,
    /// ISO 4217 code every price of the storefront will be in.
    pub currency: String,
}

/// Changing a storefront's settings; absent fields stay as they are.
#[derive(Debug, Object)]
pub struct UpdateTenantRequest {
    pub name: Option<String>,
    /// A domain pointed at the platform for the storefront (e.g. `courses.example.org`);
    /// an empty string removes it.
    pub custom_domain: Option<String>,
    /// The colour the storefront's pages are drawn in, `#rrggbb`; an empty string returns to
    /// the platform's.
    pub brand_color: Option<String>,
}

/// A member of a storefront's staff.
#[derive(Debug, Object)]
#[oai(rename = "Member")]
pub struct MemberBody {
    pub user_id: Uuid,
    pub email: String,
    pub name: String,
    /// `owner`, `editor` or `grader`.
    pub role: String,
}

impl From<Member> for MemberBody {
    fn from(m: Member) -> Self {
        Self {
            user_id: m.user_id.into(),
            email: m.email,
            name: m.name,
            role: m.role.as_str().to_owned(),
        }
    }
}

#[derive(Debug, ApiResponse)]
enum TenantResponse {
    #[oai(status = 200)]
    Ok(Json<TenantBody>),
}

#[derive(Debug, ApiResponse)]
enum MembersResponse {
    #[oai(status = 200)]
    Ok(Json<Vec<MemberBody>>),
}

/// Storefronts.
#[derive(Debug)]
pub struct TenantsApi;

#[OpenApi(prefix_path = "/api/v1/tenants")]
impl TenantsApi {
    /// Apply for a storefront. It starts `pending` until a platform admin approves it; the
    /// caller becomes its owner and can build courses meanwhile.
    #[oai(
        path = "/",
        method = "post",
        operation_id = "create_tenant",
        tag = "ApiTags::Account"
    )]
    async fn create_tenant(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        Json(body): Json<CreateTenantRequest>,
    ) -> ApiResult<Created<TenantBody>> {
        let proof = state
            .policy
            .authorize::<resource::Tenant, action::Create>(
                &state.db,
                &auth.principal(),
                Domain::Platform,
            )
            .await?;
        let input = Application {
            slug: domain::storefront_slug("slug", &body.slug)?,
            name: TenantName::parse("name", &body.name)?,
            currency: Currency::parse(&body.currency)
                .map_err(|e| FieldError::new("currency", e))?,
        };
        let tenant = tenants::apply(state, &proof, input).await?;
        Ok(Created::Created(Json(tenant.into())))
    }

    /// A storefront's settings (its staff).
    #[oai(
        path = "/:tenant",
        method = "get",
        operation_id = "get_tenant",
        tag = "ApiTags::Studio"
    )]
    async fn get_tenant(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
    ) -> ApiResult<TenantResponse> {
        let (tenant, _proof) =
            in_tenant::<resource::Tenant, action::Read>(state, &auth.principal(), &tenant).await?;
        Ok(TenantResponse::Ok(Json(tenant.into())))
    }

    /// Change a storefront's name or custom domain (owner).
    #[oai(
        path = "/:tenant",
        method = "patch",
        operation_id = "update_tenant",
        tag = "ApiTags::Studio"
    )]
    async fn update_tenant(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        Json(body): Json<UpdateTenantRequest>,
    ) -> ApiResult<TenantResponse> {
        let (tenant, proof) =
            in_tenant::<resource::Tenant, action::Update>(state, &auth.principal(), &tenant)
                .await?;
        let patch = TenantPatch {
            name: body
                .name
                .as_deref()
                .map(|n| TenantName::parse("name", n))
                .transpose()?,
            custom_domain: body
                .custom_domain
                .as_deref()
                .map(parse_domain)
                .transpose()?,
            brand_color: body
                .brand_color
                .as_deref()
                .map(|c| match c.trim() {
                    "" => Ok(None),
                    c => tenants::parse_brand_color(c).map(Some),
                })
                .transpose()?,
        };
        let updated = tenants::update(state, &proof, &tenant, patch).await?;
        Ok(TenantResponse::Ok(Json(updated.into())))
    }

    /// The storefront's staff (owner).
    #[oai(
        path = "/:tenant/members",
        method = "get",
        operation_id = "list_members",
        tag = "ApiTags::Studio"
    )]
    async fn list_members(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
    ) -> ApiResult<MembersResponse> {
        let (tenant, proof) =
            in_tenant::<resource::Member, action::Read>(state, &auth.principal(), &tenant).await?;
        let members = tenants::list_members(state, &proof, &tenant).await?;
        Ok(MembersResponse::Ok(Json(
            members.into_iter().map(Into::into).collect(),
        )))
    }

    /// Invite an address to the staff as `editor` or `grader` (owner). The address gets an
    /// e-mail with a link that is valid for 7 days; inviting it again sends a new link and
    /// renews the pending invitation. The answer is the same whether or not the address has
    /// an account.
    #[oai(
        path = "/:tenant/members",
        method = "post",
        operation_id = "invite_member",
        tag = "ApiTags::Studio"
    )]
    async fn invite_member(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        Json(body): Json<InviteMemberRequest>,
    ) -> ApiResult<Created<InvitationBody>> {
        let (tenant, proof) =
            in_tenant::<resource::Member, action::Create>(state, &auth.principal(), &tenant)
                .await?;
        let email = Email::parse("email", &body.email)?;
        let role = tenants::parse_staff_role(&body.role)?;
        let invitation = invitations::invite(state, &proof, &tenant, &email, role).await?;
        Ok(Created::Created(Json(invitation.into())))
    }

    /// Remove someone from the staff (owner); the owner stays.
    #[oai(
        path = "/:tenant/members/:user_id",
        method = "delete",
        operation_id = "remove_member",
        tag = "ApiTags::Studio"
    )]
    async fn remove_member(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        user_id: Path<Uuid>,
    ) -> ApiResult<NoContent> {
        let (tenant, proof) =
            in_tenant::<resource::Member, action::Delete>(state, &auth.principal(), &tenant)
                .await?;
        tenants::remove_member(state, &proof, &tenant, user_id.0.into()).await?;
        Ok(NoContent::NoContent)
    }
}

/// `""` removes the domain; anything else must look like a host name.
fn parse_domain(input: &str) -> Result<Option<String>, AppError> {
    let domain = input.trim().trim_end_matches('.').to_ascii_lowercase();
    if domain.is_empty() {
        return Ok(None);
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if domain.len() > 253 || !domain.contains('.') || !domain.split('.').all(label_ok) {
        return Err(AppError::invalid(
            "custom_domain",
            "not a valid domain name",
        ));
    }
    Ok(Some(domain))
}
