//! Which storefront a page is for, and in which scope its sessions are valid.

use std::sync::Arc;

use lyceum_domain::error::{AppError, AppResult};
use lyceum_domain::services::accounts::SessionScope;
use lyceum_domain::services::tenancy::tenants::{self, Tenant};
use lyceum_domain::state::AppState;
use lyceum_web::site::StorefrontHost;
use poem::Request;

/// The storefront a page is for, and how its pages link to each other.
#[derive(Debug, Clone)]
pub struct Shop {
    pub tenant: Arc<Tenant>,
    /// Prefix of the storefront's paths: `/s/{slug}` on the platform, empty on its own host.
    pub base: String,
    /// The storefront's own host, when the page is served there.
    pub host: Option<String>,
}

impl Shop {
    /// Where sessions of this page are valid.
    pub fn scope(&self) -> SessionScope<'_> {
        match &self.host {
            Some(host) => SessionScope::Host(host),
            None => SessionScope::Platform,
        }
    }
}

/// The storefront of a request: the host's, or the selling tenant named in the path.
pub async fn shop_of(state: &AppState, req: &Request) -> AppResult<Shop> {
    shop_for(
        state,
        req.data::<StorefrontHost>(),
        req.raw_path_param("tenant"),
    )
    .await
}

/// The storefront of a storefront host, or else of the selling tenant `slug` names.
pub async fn shop_for(
    state: &AppState,
    host: Option<&StorefrontHost>,
    slug: Option<&str>,
) -> AppResult<Shop> {
    if let Some(site) = host {
        return Ok(Shop {
            tenant: site.tenant.clone(),
            base: String::new(),
            host: Some(site.host.clone()),
        });
    }
    let tenant =
        tenants::find_selling(state, slug.ok_or(AppError::NotFound("storefront"))?).await?;
    Ok(Shop {
        base: format!("/s/{}", tenant.slug),
        tenant,
        host: None,
    })
}

/// The session scope of a request: the storefront host's, or the platform's.
pub fn scope_of(req: &Request) -> SessionScope<'_> {
    req.data::<StorefrontHost>()
        .map_or(SessionScope::Platform, StorefrontHost::scope)
}
