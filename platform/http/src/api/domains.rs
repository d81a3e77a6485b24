//! A storefront's custom domain: proving control of it before it is served.

use std::sync::Arc;

use lyceum_tenants::rbac::{action, resource};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};

use super::types::TenantBody;
use super::{ApiTags, in_tenant};
use crate::auth::Auth;
use crate::problem::ApiResult;
use lyceum_domain::services::tenancy::domains;
use lyceum_domain::state::AppState;

#[derive(Debug, ApiResponse)]
enum Verified {
    /// The domain is verified; the storefront is served on it from now on.
    #[oai(status = 200)]
    Ok(Json<TenantBody>),
}

/// Custom domains.
#[derive(Debug)]
pub struct DomainsApi;

#[OpenApi(prefix_path = "/api/v1/tenants", tag = "ApiTags::Studio")]
impl DomainsApi {
    /// Check the DNS TXT record that proves control of the requested custom domain (owner):
    /// `_lyceum-challenge.{domain}` with the value shown in the storefront's
    /// `domain_verification`. Until then the storefront is not served on that domain.
    #[oai(
        path = "/:tenant/domain/verify",
        method = "post",
        operation_id = "verify_custom_domain"
    )]
    async fn verify_custom_domain(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
    ) -> ApiResult<Verified> {
        let (tenant, proof) =
            in_tenant::<resource::Tenant, action::Update>(state, &auth.principal(), &tenant)
                .await?;
        let updated = domains::verify(state, &proof, &tenant, state.dns.as_ref()).await?;
        Ok(Verified::Ok(Json(updated.into())))
    }
}
