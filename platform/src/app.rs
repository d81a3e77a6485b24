//! The whole server as one endpoint: the API's routes (`lyceum-http`) and the pages
//! (`lyceum-admin-ui`) on the platform's origin, the pages alone on a storefront's own host,
//! chosen by `Host` (`lyceum_web::site`), inside the middleware every request passes.

use std::sync::Arc;

use lyceum_domain::state::AppState;
use poem::{Endpoint, EndpointExt};

/// Every route of the server.
pub fn app(state: Arc<AppState>) -> impl Endpoint {
    let mut platform =
        lyceum_http::platform_api_routes(&state).nest("/", lyceum_admin_ui::platform_routes());
    if let Some(sandbox) = state.gateways.sandbox() {
        platform = platform.nest("/sandbox", sandbox.routes());
    }
    let sites = lyceum_web::site::SiteRouter::new(
        platform.boxed(),
        lyceum_admin_ui::storefront_routes().boxed(),
        lyceum_admin_ui::nothing_here().boxed(),
    );
    lyceum_http::with_middleware(state, sites)
}
