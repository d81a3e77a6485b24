//! The signed-in user's own account.

use std::collections::HashMap;
use std::sync::Arc;

use lyceum_tenants::rbac::{Domain, action};
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::ApiTags;
use super::earnings::BalanceBody;
use crate::auth::Auth;
use crate::problem::ApiResult;
use lyceum_domain::ids::TenantId;
use lyceum_domain::services::accounts;
use lyceum_domain::services::ledger::reports;
use lyceum_domain::state::AppState;

/// A role the user holds, and where.
#[derive(Debug, Object)]
pub struct RoleBody {
    /// `platform_admin`, `owner`, `editor`, `grader`, `student` or `team_manager`.
    pub role: String,
    /// The storefront's slug; absent for platform-wide and team roles.
    #[oai(skip_serializing_if_is_none)]
    pub tenant: Option<String>,
    /// The team's id, for `team_manager`.
    #[oai(skip_serializing_if_is_none)]
    pub team: Option<Uuid>,
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

/// What one storefront owes the signed-in user, in one currency.
#[derive(Debug, Object)]
#[oai(rename = "Earnings")]
pub struct EarningsBody {
    pub tenant: String,
    #[oai(flatten)]
    pub balance: BalanceBody,
}

#[derive(Debug, ApiResponse)]
enum EarningsResponse {
    #[oai(status = 200)]
    Ok(Json<Vec<EarningsBody>>),
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
                    Domain::Platform | Domain::Team(_) => None,
                    Domain::Tenant(id) => slugs.get(&id).cloned(),
                },
                team: match g.domain {
                    Domain::Team(id) => Some(id.into()),
                    Domain::Platform | Domain::Tenant(_) => None,
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

    /// What each storefront that pays me (as its owner or a co-instructor of its courses)
    /// owes me, per currency: pending within the hold, available, in payouts, paid out.
    #[oai(
        path = "/me/earnings",
        method = "get",
        operation_id = "get_my_earnings"
    )]
    async fn get_my_earnings(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
    ) -> ApiResult<EarningsResponse> {
        let proof = super::own_account::<action::Read>(state, &auth.principal()).await?;
        let earnings = reports::my_earnings(state, &proof).await?;
        Ok(EarningsResponse::Ok(Json(
            earnings
                .into_iter()
                .map(|e| EarningsBody {
                    tenant: e.tenant_slug,
                    balance: e.balance.into(),
                })
                .collect(),
        )))
    }
}
