//! The server-rendered web UI: storefront pages (on the platform at `/s/{tenant}` and on a
//! storefront's own host), buying, signing in and registering, the handoff of sessions to
//! storefront hosts, invitations, certificates' public pages. It calls the domain's services through the same policy
//! checks as the JSON API (`lyceum-http`), never the database and never the API's internals.

pub mod certificate_page;
mod context;
pub mod gateway_pages;
pub mod invitation_page;
mod render;
pub mod shop;
pub mod signin;
pub mod storefront;

use lyceum_domain::error::AppResult;
use lyceum_domain::state::AppState;
use lyceum_tenants::rbac::action::Verb;
use lyceum_tenants::rbac::{Authorized, Domain, Principal, resource};
use poem::http::StatusCode;
use poem::web::Html;
use poem::{IntoResponse, Response, handler};

pub use storefront::{PLATFORM_PAGES, STOREFRONT_PAGES, platform_routes, storefront_routes};

/// Checks `A` on the caller's own account (platform-wide).
async fn own_account<A: Verb>(
    state: &AppState,
    principal: &Principal,
) -> AppResult<Authorized<resource::Account, A>> {
    state
        .policy
        .authorize(&state.db, principal, Domain::Platform)
        .await
}

/// What a host that names no live storefront gets.
#[handler]
pub fn nothing_here() -> Response {
    let html = render::render_page(
        "base.html",
        minijinja::context! { title => "Not found", message => "There is nothing here." },
    );
    (StatusCode::NOT_FOUND, Html(html)).into_response()
}
