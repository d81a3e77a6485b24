//! Which site a request is for, by its `Host`: the platform's own origin, or one storefront's
//! subdomain or verified custom domain.
//!
//! A storefront host serves that storefront's pages and nothing else: no API, no password
//! form, no other tenant. A custom domain's traffic may pass through infrastructure its owner
//! controls, so nothing valid elsewhere is ever sent or accepted there: visitors arrive signed
//! in through a one-time handoff from the platform's origin (see `signin`), and the session
//! they get is bound to that one host. A host that is neither answers 404.

use std::sync::Arc;

use lyceum_tenants::TenantStatus;
use lyceum_tenants::host::{self, HostTarget};
use poem::endpoint::BoxEndpoint;
use poem::http::StatusCode;

use poem::{Endpoint, Request, Response, Result};

use lyceum_domain::error::{AppError, AppResult};
use lyceum_domain::services::accounts::SessionScope;
use lyceum_domain::services::tenancy::tenants::{self, Tenant};
use lyceum_domain::state::AppState;

/// A storefront served on its own host; put on the request for the storefront's handlers.
#[derive(Debug, Clone)]
pub struct StorefrontHost {
    pub tenant: Arc<Tenant>,
    /// The host, lower case, without port: what sessions made here are bound to.
    pub host: String,
}

impl StorefrontHost {
    pub fn scope(&self) -> SessionScope<'_> {
        SessionScope::Host(&self.host)
    }
}

/// What a `Host` header names.
#[derive(Debug)]
pub enum Site {
    Platform,
    Storefront(StorefrontHost),
    /// A host nothing is served on (an unverified or unknown domain, a suspended storefront).
    Nowhere,
}

/// The host part of a `Host` header, as sent: no port, no trailing dot.
fn host_part(header: &str) -> &str {
    let header = header.trim();
    let without_port = if let Some(v6) = header.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        match header.rsplit_once(':') {
            Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
            _ => header,
        }
    };
    without_port.trim_end_matches('.')
}

/// The host part of a `Host` header: lower case, no port, no trailing dot.
pub fn bare_host(header: &str) -> String {
    host_part(header).to_ascii_lowercase()
}

/// Whether a `Host` header names `host` (any case, any port).
pub fn names_host(header: &str, host: &str) -> bool {
    !host.is_empty() && host_part(header).eq_ignore_ascii_case(host.trim_end_matches('.'))
}

/// Classifies a `Host` header. The platform's own host (from `LYCEUM_PUBLIC_URL`), IP
/// addresses and `localhost` are the platform; with a base domain its subdomains are
/// storefronts; any other name can only be a verified custom domain.
pub fn target(state: &AppState, header: &str) -> HostTarget {
    // Borrowed until the host is known not to be the platform's: this runs on every request.
    let part = host_part(header);
    let platform_host = state.settings.public_url.host_str().unwrap_or_default();
    // The content origin is served by the platform's routes (`content::origin_gate` lets
    // nothing but content through there).
    let content_host = state
        .settings
        .content_url
        .as_ref()
        .and_then(|u| u.host_str())
        .unwrap_or_default();
    if part.is_empty()
        || part.eq_ignore_ascii_case(platform_host)
        || part.eq_ignore_ascii_case(content_host)
        || part.eq_ignore_ascii_case("localhost")
        || part.parse::<std::net::IpAddr>().is_ok()
    {
        return HostTarget::Platform;
    }
    let bare = part.to_ascii_lowercase();
    match state.settings.base_domain.as_deref() {
        Some(base) => host::resolve(&bare, Some(base)),
        None => HostTarget::CustomDomain(bare),
    }
}

/// Resolves the site a `Host` header (or a bare host name) names.
pub async fn resolve(state: &AppState, header: &str) -> AppResult<Site> {
    let tenant = match target(state, header) {
        HostTarget::Platform => return Ok(Site::Platform),
        HostTarget::Subdomain(slug) => tenants::find_by_slug(state, slug.as_str()).await,
        HostTarget::CustomDomain(domain) => tenants::find_by_domain(state, &domain).await,
    };
    match tenant {
        Ok(tenant) if tenant.status == TenantStatus::Active => {
            Ok(Site::Storefront(StorefrontHost {
                tenant,
                host: bare_host(header),
            }))
        }
        Ok(_) | Err(AppError::NotFound(_)) => Ok(Site::Nowhere),
        Err(e) => Err(e),
    }
}

/// Sends each request to the routes of its site.
pub struct SiteRouter {
    platform: BoxEndpoint<'static>,
    storefront: BoxEndpoint<'static>,
    /// What a host that names nothing gets (a "nothing here" page).
    nowhere: BoxEndpoint<'static>,
}

impl std::fmt::Debug for SiteRouter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SiteRouter").finish_non_exhaustive()
    }
}

impl SiteRouter {
    pub fn new(
        platform: BoxEndpoint<'static>,
        storefront: BoxEndpoint<'static>,
        nowhere: BoxEndpoint<'static>,
    ) -> Self {
        Self {
            platform,
            storefront,
            nowhere,
        }
    }
}

/// The host a request names: its `Host` header, or (HTTP/2) the URI's authority.
pub fn request_host(req: &Request) -> &str {
    match req.header(poem::http::header::HOST) {
        Some(host) => host,
        None => req.uri().authority().map_or("", |a| a.as_str()),
    }
}

impl Endpoint for SiteRouter {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Self::Output> {
        let Some(state) = req.data::<Arc<AppState>>().cloned() else {
            return self.platform.call(req).await;
        };
        // The platform's own host is decided without touching the database: the hot path.
        if matches!(
            target(
                &state,
                req.header(poem::http::header::HOST).unwrap_or_default()
            ),
            HostTarget::Platform
        ) {
            return self.platform.call(req).await;
        }
        let header = req
            .header(poem::http::header::HOST)
            .unwrap_or_default()
            .to_owned();
        match Box::pin(resolve(&state, &header)).await {
            Ok(Site::Storefront(site)) => {
                req.set_data(site);
                self.storefront.call(req).await
            }
            Ok(Site::Platform) => self.platform.call(req).await,
            Ok(Site::Nowhere) => self.nowhere.call(req).await,
            Err(e) if e.is_unavailable() => {
                tracing::warn!(error = %lyceum_domain::error::report(&e), "resolving the site failed: the database is out of reach");
                Ok(crate::unavailable_response(
                    "the service is briefly unavailable; try again shortly",
                ))
            }
            Err(e) => {
                tracing::error!(error = %lyceum_domain::error::report(&e), "resolving the site failed");
                Ok(crate::problem_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "something went wrong on our side; it has been logged",
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_lose_ports_case_and_trailing_dots() {
        assert_eq!(
            bare_host("Courses.Example.ORG.:8443"),
            "courses.example.org"
        );
        assert_eq!(bare_host("[::1]:8080"), "::1");
        assert_eq!(bare_host("127.0.0.1"), "127.0.0.1");
        assert!(names_host(
            "Content.Example.ORG.:8443",
            "content.example.org"
        ));
        assert!(!names_host(
            "evilcontent.example.org",
            "content.example.org"
        ));
        assert!(!names_host("", ""));
    }
}
