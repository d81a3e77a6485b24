//! What every page's layout shows around its content: whose site it is (the platform, or a
//! storefront with its name and colour), who is signed in and what they may open (studio,
//! team console, admin — read from their grants, the same ones casbin checks), and the
//! session's CSRF token for the page's forms and scripts.

use lyceum_domain::services::accounts::{self, SessionScope};
use lyceum_domain::state::AppState;
use lyceum_tenants::rbac::{Domain, Principal, Role, action};
use minijinja::{Value, context};
use poem::Request;
use serde::Serialize;

use crate::context::Shop;
use crate::shop::{Viewer, viewer_by_cookie};

/// The accent of pages that name no storefront colour.
pub const DEFAULT_ACCENT: &str = "#2451a6";

/// A link of the main navigation.
#[derive(Debug, Clone, Serialize)]
pub struct NavLink {
    pub label: &'static str,
    pub href: String,
    pub current: bool,
}

/// Where the signed-in user may go beyond their own pages.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Reach {
    /// Staff of some storefront: the studio.
    pub studio: bool,
    /// Manager of some team: the team console.
    pub team: bool,
    /// Platform admin: the admin pages.
    pub admin: bool,
}

/// The layout's context for one request.
#[derive(Debug, Clone)]
pub struct Frame {
    pub site_name: String,
    pub accent: String,
    /// The site's home page.
    pub home: String,
    pub viewer: Option<Viewer>,
    pub reach: Reach,
    pub nav: Vec<NavLink>,
    /// Where the sign-out form posts, and the sign-in and registration links.
    pub logout: String,
    pub login: String,
    pub register: String,
    /// The platform's address, for links from a storefront's own host back to the platform.
    pub platform: String,
}

/// Which part of the site a page belongs to, to mark it in the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Catalog,
    Learning,
    Purchases,
    Studio,
    Team,
    Admin,
    Other,
}

impl Frame {
    /// The frame of a page of `shop` (a storefront) or of the platform.
    pub async fn load(
        state: &AppState,
        req: &Request,
        shop: Option<&Shop>,
        section: Section,
    ) -> Self {
        let cookie = req
            .cookie()
            .get(lyceum_web::cookies::SESSION_COOKIE)
            .map(|c| c.value_str().to_owned());
        let here = req.uri().path_and_query().map_or("/", |p| p.as_str());
        Self::load_parts(state, cookie.as_deref(), here, shop, section).await
    }

    /// The frame of a page, from the request's session cookie and address.
    pub async fn load_parts(
        state: &AppState,
        cookie: Option<&str>,
        here: &str,
        shop: Option<&Shop>,
        section: Section,
    ) -> Self {
        let scope = shop.map_or(SessionScope::Platform, Shop::scope);
        let viewer = match cookie {
            Some(cookie) => viewer_by_cookie(state, cookie, scope).await,
            None => None,
        };
        let reach = match &viewer {
            Some(v) => reach_of(state, v).await,
            None => Reach::default(),
        };
        let platform = state
            .settings
            .public_url
            .as_str()
            .trim_end_matches('/')
            .to_owned();
        // Own pages live on the platform's origin; from a storefront's own host they are
        // absolute links there.
        let on_platform = shop.is_none_or(|s| s.host.is_none());
        let platform_link = |path: &str| {
            if on_platform {
                path.to_owned()
            } else {
                format!("{platform}{path}")
            }
        };
        let mut nav = Vec::new();
        let mut link = |label, href: String, s: Section| {
            nav.push(NavLink {
                label,
                href,
                current: s == section,
            });
        };
        match shop {
            Some(shop) => link("Courses", home_of(shop), Section::Catalog),
            None => link("Storefronts", "/".to_owned(), Section::Catalog),
        }
        if viewer.is_some() {
            link("My courses", platform_link("/learning"), Section::Learning);
            link("Purchases", platform_link("/purchases"), Section::Purchases);
        }
        if reach.studio {
            link("Studio", platform_link("/studio"), Section::Studio);
        }
        if reach.team {
            link("Team", platform_link("/team"), Section::Team);
        }
        if reach.admin {
            link("Admin", platform_link("/admin"), Section::Admin);
        }
        let (site_name, accent, home) = match shop {
            Some(shop) => (
                shop.tenant.name.clone(),
                shop.tenant
                    .brand_color
                    .clone()
                    .unwrap_or_else(|| DEFAULT_ACCENT.to_owned()),
                home_of(shop),
            ),
            None => (
                "Lyceum".to_owned(),
                DEFAULT_ACCENT.to_owned(),
                "/".to_owned(),
            ),
        };
        let next = crate::shop::urlencode(here);
        Self {
            site_name,
            accent,
            home,
            reach,
            nav,
            logout: "/logout".to_owned(),
            login: format!("/login?next={next}"),
            register: format!("/register?next={next}"),
            viewer,
            platform,
        }
    }

    /// The platform's frame for a visitor who is not signed in (the sign-in pages).
    pub fn anonymous() -> Self {
        Self {
            site_name: "Lyceum".to_owned(),
            accent: DEFAULT_ACCENT.to_owned(),
            home: "/".to_owned(),
            viewer: None,
            reach: Reach::default(),
            nav: vec![NavLink {
                label: "Storefronts",
                href: "/".to_owned(),
                current: false,
            }],
            logout: "/logout".to_owned(),
            login: String::new(),
            register: String::new(),
            platform: String::new(),
        }
    }

    /// The CSRF token of the signed-in viewer's session.
    pub fn csrf(&self) -> Option<&str> {
        self.viewer.as_ref().map(|v| v.csrf.as_str())
    }

    /// The layout's variables, under `frame`.
    pub fn value(&self) -> Value {
        let viewer = self.viewer.as_ref().map(|v| {
            context! { name => &v.user.name, email => v.user.email.as_str(), csrf => &v.csrf }
        });
        context! {
            site_name => &self.site_name,
            accent => &self.accent,
            home => &self.home,
            nav => &self.nav,
            viewer,
            reach => self.reach,
            logout => &self.logout,
            login => &self.login,
            register => &self.register,
            platform => &self.platform,
            asset_v => crate::assets::VERSION.as_str(),
        }
    }

    /// Renders `template` with `ctx` inside this frame.
    pub fn render(&self, template: &str, ctx: Value) -> lyceum_domain::error::AppResult<String> {
        crate::render::render(template, context! { frame => self.value(), ..ctx })
    }
}

/// A storefront's home: its catalog.
fn home_of(shop: &Shop) -> String {
    if shop.base.is_empty() {
        "/".to_owned()
    } else {
        shop.base.clone()
    }
}

/// Where the user's grants let them go.
async fn reach_of(state: &AppState, viewer: &Viewer) -> Reach {
    let principal = Principal::User(viewer.user.id);
    let grants = match crate::own_account::<action::Read>(state, &principal).await {
        Ok(proof) => accounts::roles_of(state, &proof).await,
        Err(e) => Err(e),
    };
    let grants = grants.unwrap_or_else(|e| {
        tracing::warn!(error = %lyceum_domain::error::report(&e), "could not read the viewer's grants");
        Vec::new()
    });
    let mut reach = Reach::default();
    for grant in grants {
        match (grant.domain, grant.role) {
            (Domain::Platform, Role::PlatformAdmin) => reach.admin = true,
            (Domain::Tenant(_), Role::Owner | Role::Editor | Role::Grader) => {
                reach.studio = true;
            }
            (Domain::Team(_), Role::TeamManager) => reach.team = true,
            _ => {}
        }
    }
    reach
}

/// A page only for signed-in users: its frame and viewer, or a redirect to sign in and come
/// back (on the platform; a storefront host's sign-in goes through the platform too).
pub async fn signed_in(
    state: &AppState,
    req: &Request,
    shop: Option<&Shop>,
    section: Section,
) -> Result<(Frame, Viewer), poem::Response> {
    let frame = Frame::load(state, req, shop, section).await;
    match frame.viewer.clone() {
        Some(viewer) => Ok((frame, viewer)),
        None => {
            let here = req.uri().path_and_query().map_or("/", |p| p.as_str());
            Err(poem::IntoResponse::into_response(
                poem::web::Redirect::see_other(format!(
                    "/login?next={}",
                    crate::shop::urlencode(here)
                )),
            ))
        }
    }
}
