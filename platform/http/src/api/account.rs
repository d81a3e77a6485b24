//! The signed-in user's own account.

use std::collections::HashMap;
use std::sync::Arc;

use lyceum_tenants::rbac::{Domain, action};
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::ApiTags;
use crate::auth::Auth;
use crate::problem::ApiResult;
use lyceum_domain::ids::TenantId;
use lyceum_domain::services::accounts;
use lyceum_domain::state::AppState;

/// A role the user holds, and where.
#[derive(Debug, Object)]
pub struct RoleBody {
    /// `platform_admin`, `owner`, `editor`, `grader`, `student` or `team_manager`.
    pub role: String,
    /// The storefront's slug; absent for platform-wide roles.
    #[oai(skip_serializing_if_is_none)]
    pub tenant: Option<String>,
}

/// The signed-in user.
#[derive(Debug, Object)]
pub struct MeBody {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub roles: Vec<RoleBody>,
}

#[derive(Debug, ApiResponse)]
enum MeResponse {
    #[oai(status = 200)]
    Ok(Json<MeBody>),
}

/// The signed-in user's own account.
#[derive(Debug)]
pub struct AccountApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Account")]
impl AccountApi {
    /// Who am I, and which roles do I hold where.
    #[oai(path = "/me", method = "get", operation_id = "get_me")]
    async fn get_me(&self, Data(state): Data<&Arc<AppState>>, auth: Auth) -> ApiResult<MeResponse> {
        let proof = super::own_account::<action::Read>(state, &auth.principal()).await?;
        let user = auth.user();
        let grants = accounts::roles_of(state, &proof).await?;
        let slugs: HashMap<TenantId, String> = accounts::tenant_slugs(state, &grants).await?;
        let roles = grants
            .into_iter()
            .map(|g| RoleBody {
                role: g.role.as_str().to_owned(),
                tenant: match g.domain {
                    Domain::Platform => None,
                    Domain::Tenant(id) => slugs.get(&id).cloned(),
                },
            })
            .collect();
        Ok(MeResponse::Ok(Json(MeBody {
            id: user.id.into(),
            email: user.email.clone(),
            name: user.name.clone(),
            roles,
        })))
    }
}
