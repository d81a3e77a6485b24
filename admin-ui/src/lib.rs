//! The server-rendered web UI, served by the same binary as the API and calling the same
//! services through the same policy checks (`lyceum-http` is never called, nor the database):
//!
//! - the storefront (`storefront`, `shop`): catalog with search, course pages, checkout;
//!   on the platform at `/s/{tenant}` and on a storefront's own host;
//! - signing in and registering on the platform's origin, and the handoff of sessions to
//!   storefront hosts (`signin`); invitations; certificates' public pages;
//! - learning (`learn`): my courses, the course player, purchases and receipts;
//! - the instructor studio (`studio`, `/studio`), the team console (`team`, `/team`) and the
//!   platform admin (`admin`, `/admin`);
//! - the layout around every page (`frame`), its static files (`assets`), and pages for
//!   browsers' errors (`browser`).
//!
//! Every form carries the session's CSRF token; no page carries an inline script.

/// Mounts pages and lists what it mounts, as `(method, path)` in poem's path syntax: the
/// authorization walk (`tests/api/authz.rs`) calls every page of these lists, so a page mounted
/// here cannot escape it.
macro_rules! pages {
    (
        $(#[$list_doc:meta])* $list:ident;
        $(#[$routes_doc:meta])* $routes:ident;
        $($path:literal => $method:ident($handler:expr) $(.$more:ident($more_handler:expr))*,)*
    ) => {
        $(#[$list_doc])*
        pub const $list: &[(&str, &str)] = &[
            $((stringify!($method), $path), $((stringify!($more), $path),)*)*
        ];

        $(#[$routes_doc])*
        pub fn $routes() -> poem::Route {
            poem::Route::new()$(.at($path, poem::$method($handler)$(.$more($more_handler))*))*
        }
    };
}

pub mod admin;
pub mod assets;
pub mod browser;
pub mod certificate_page;
pub mod charts;
mod context;
pub mod frame;
pub mod gateway_pages;
pub mod invitation_page;
pub mod learn;
mod parts;
mod render;
pub mod shop;
pub mod signin;
pub mod storefront;
pub mod studio;
pub mod team;

use lyceum_domain::error::AppResult;
use lyceum_domain::state::AppState;
use lyceum_tenants::rbac::action::Verb;
use lyceum_tenants::rbac::{Authorized, Domain, Principal, resource};
use poem::http::StatusCode;
use poem::{EndpointExt, IntoResponse, Response, handler};

pub use storefront::{PLATFORM_PAGES, STOREFRONT_PAGES};

/// Every page of the platform's origin, as `(method, path)`.
pub fn platform_pages() -> Vec<(&'static str, &'static str)> {
    [PLATFORM_PAGES, studio::PAGES, team::PAGES, admin::PAGES].concat()
}

/// Every page of a storefront's own host, as `(method, path)`.
pub fn storefront_pages() -> Vec<(&'static str, &'static str)> {
    STOREFRONT_PAGES.to_vec()
}

/// The pages of the platform's origin, with their error pages for browsers.
pub fn platform_routes() -> impl poem::Endpoint<Output = Response> {
    storefront::platform_routes()
        .at("/assets/:name", poem::get(assets::serve))
        .nest_no_strip("/studio", studio::routes())
        .nest_no_strip("/team", team::routes())
        .nest_no_strip("/admin", admin::routes())
        .around(browser::pages)
}

/// The pages of a storefront on its own host, with their error pages for browsers.
pub fn storefront_routes() -> impl poem::Endpoint<Output = Response> {
    storefront::storefront_routes()
        .at("/assets/:name", poem::get(assets::serve))
        .around(browser::pages)
}

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
pub fn nothing_here() -> impl poem::Endpoint<Output = Response> {
    nowhere.around(browser::pages_for_strangers)
}

#[handler]
fn nowhere() -> Response {
    render::Problem::new("Not found", "There is no storefront at this address.")
        .respond(StatusCode::NOT_FOUND)
        .into_response()
}
