//! Where a payment provider's seller onboarding sends the storefront's owner back:
//! `/gateways/{gateway}/onboarding/return` shows what the provider now says of the account,
//! `/gateways/{gateway}/onboarding/refresh` (the link expired or was used) opens a fresh one.
//! Both are for the storefront's owner, signed in on the platform's origin; anyone else is
//! sent to sign in first.

use std::sync::Arc;

use lyceum_gateway_core::GatewayId;
use lyceum_tenants::rbac::{Principal, Resource, Verb, action, resource};
use poem::web::{Data, Html, Path, Query, Redirect};
use poem::{IntoResponse, Request, Response, handler};
use serde::Deserialize;

use super::shop::{self, urlencode};
use crate::render::render_page;
use lyceum_domain::error::{AppError, AppResult};
use lyceum_domain::services::accounts::SessionScope;
use lyceum_domain::services::gateway_accounts;
use lyceum_domain::services::tenancy::tenants::{self, Tenant};
use lyceum_domain::state::AppState;

#[derive(Debug, Deserialize)]
pub(crate) struct OnboardingQuery {
    tenant: String,
}

/// Who may see a storefront's onboarding page: its owner, signed in, with a proof of `A` on
/// the storefront's gateway accounts.
struct Owner<A> {
    gateway: GatewayId,
    tenant: Arc<Tenant>,
    proof: lyceum_tenants::rbac::Authorized<resource::GatewayAccount, A>,
    email: String,
}

/// The gateway the path names and the signed-in owner of the storefront the query names, or
/// the page to send the visitor to instead (no such gateway, sign in first, not yours).
async fn owner<A: Verb>(
    state: &AppState,
    req: &Request,
    gateway: &str,
    query: &OnboardingQuery,
) -> Result<Owner<A>, Response>
where
    resource::GatewayAccount: Resource,
{
    let Ok(gateway) = gateway.parse::<GatewayId>() else {
        return Err(crate::parts::form_error(AppError::NotFound("gateway"), "/"));
    };
    let here = format!("{}?tenant={}", req.uri().path(), urlencode(&query.tenant));
    let Some(viewer) = shop::viewer(state, req, SessionScope::Platform).await else {
        return Err(
            Redirect::see_other(format!("/login?next={}", urlencode(&here))).into_response(),
        );
    };
    let proof = async {
        let tenant = tenants::find_by_slug(state, &query.tenant).await?;
        let proof = state
            .policy
            .authorize::<resource::GatewayAccount, A>(
                &state.db,
                &Principal::User(viewer.user.id),
                tenant.domain(),
            )
            .await?;
        AppResult::Ok((tenant, proof))
    }
    .await;
    match proof {
        Ok((tenant, proof)) => Ok(Owner {
            gateway,
            tenant,
            proof,
            email: viewer.user.email,
        }),
        Err(e) => Err(crate::parts::form_error(e, "/")),
    }
}

/// The owner is back from the provider's onboarding: what the provider now says.
#[handler]
pub async fn onboarding_return(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path(gateway): Path<String>,
    Query(query): Query<OnboardingQuery>,
) -> Response {
    let Owner {
        gateway,
        tenant,
        proof,
        ..
    } = match owner::<action::Read>(state, req, &gateway, &query).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    match gateway_accounts::refresh_status(state, &proof, &tenant, gateway).await {
        Ok(account) => Html(render_page(
            "onboarding.html",
            minijinja::context! {
                title => format!("{gateway} account"),
                tenant => &tenant.name,
                gateway => gateway.as_str(),
                account_id => account.provider_account_id,
                state => account.state(),
                charges_enabled => account.charges_enabled,
                payouts_enabled => account.payouts_enabled,
                requirements => account.requirements,
                again => format!("/gateways/{gateway}/onboarding/refresh?tenant={}", urlencode(tenant.slug.as_str())),
            },
        ))
        .into_response(),
        Err(e) => crate::parts::form_error(e, "/"),
    }
}

/// The onboarding link expired or was used: a fresh one, straight away.
#[handler]
pub async fn onboarding_refresh(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path(gateway): Path<String>,
    Query(query): Query<OnboardingQuery>,
) -> Response {
    let Owner {
        gateway,
        tenant,
        proof,
        email,
    } = match owner::<action::Update>(state, req, &gateway, &query).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    // Only ever a new link to the storefront's existing account: a GET followed from
    // anywhere must not open an account.
    match gateway_accounts::continue_onboarding(state, &proof, &tenant, &email, gateway).await {
        // The provider's own page, from the provider's answer: not a visitor's input.
        Ok(started) => Redirect::see_other(started.url).into_response(),
        Err(e) => crate::parts::form_error(e, "/"),
    }
}
