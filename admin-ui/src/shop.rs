//! Buying in the browser: buy a course with a CSRF-protected form, open its lessons through
//! signed links, sign out. The pages call the same services as the API, and every session is
//! looked up in the scope of the site it is used on.

use std::sync::Arc;

use lyceum_tenants::rbac::{Principal, action, resource};
use poem::http::StatusCode;
use poem::web::{Data, Form, Redirect};
use poem::{IntoResponse, Request, Response, handler};
use serde::Deserialize;

use crate::context::{Shop, scope_of, shop_of};
use crate::frame::{Section, signed_in};
use crate::render;
use lyceum_domain::error::AppError;
use lyceum_domain::services::accounts::{self, CurrentUser, SessionScope};
use lyceum_domain::services::catalog::public;
use lyceum_domain::services::commerce::checkout::{self, Input, Item};
use lyceum_domain::services::gateway_accounts;
use lyceum_domain::services::teams::{self, MemberStatus, TeamRole};
use lyceum_domain::state::AppState;
use lyceum_gateway_core::GatewayId;
use lyceum_web::cookies::{SESSION_COOKIE, session_cookie};

/// A signed-in visitor of a page.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user: CurrentUser,
    pub csrf: String,
}

/// The visitor behind the session cookie, if its session is valid in `scope`.
pub async fn viewer(state: &AppState, req: &Request, scope: SessionScope<'_>) -> Option<Viewer> {
    let cookie = req.cookie().get(SESSION_COOKIE)?;
    viewer_by_cookie(state, cookie.value_str(), scope).await
}

/// The visitor behind a session cookie's value, if its session is valid in `scope`.
pub async fn viewer_by_cookie(
    state: &AppState,
    cookie: &str,
    scope: SessionScope<'_>,
) -> Option<Viewer> {
    match accounts::session_user(state, cookie, scope).await {
        Ok(found) => found.map(|(user, csrf)| Viewer { user, csrf }),
        Err(e) => {
            tracing::warn!(error = %lyceum_domain::error::report(&e), "session lookup failed");
            None
        }
    }
}

/// The user of a form posted with the session cookie of `scope` and the session's CSRF token.
pub async fn form_user(
    state: &AppState,
    req: &Request,
    csrf: &str,
    scope: SessionScope<'_>,
) -> Result<CurrentUser, AppError> {
    let cookie = req
        .cookie()
        .get(SESSION_COOKIE)
        .ok_or(AppError::Unauthenticated("sign in first"))?;
    accounts::authenticate_session(state, cookie.value_str(), Some(csrf), true, scope).await
}

/// A form that carries the session's CSRF token.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    pub csrf: String,
}

/// Signs out of the site the form was posted on.
#[handler]
pub async fn logout(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let scope = scope_of(req);
    // Only a form of this session signs it out: another site cannot sign visitors out.
    if let Some(cookie) = req.cookie().get(SESSION_COOKIE)
        && accounts::authenticate_session(state, cookie.value_str(), Some(&form.csrf), true, scope)
            .await
            .is_ok()
    {
        let _ = accounts::end_session(state, cookie.value_str()).await;
        return Redirect::see_other("/")
            .with_header("Set-Cookie", session_cookie(state, None))
            .into_response();
    }
    Redirect::see_other("/").into_response()
}

/// The checkout form: what is bought, how to pay (the storefront's gateways), a coupon, and
/// for a team's managers the team and number of seats.
#[handler]
pub async fn checkout_page(req: &Request, Data(state): Data<&Arc<AppState>>) -> Response {
    let shop = match shop_of(state, req).await {
        Ok(shop) => shop,
        Err(e) => return render::error_page(e),
    };
    checkout_view(state, req, &shop, None).await
}

/// The checkout page, with what went wrong with the last try when there is something.
async fn checkout_view(
    state: &AppState,
    req: &Request,
    shop: &Shop,
    refused: Option<(StatusCode, String, &BuyForm)>,
) -> Response {
    let course = req.raw_path_param("course").unwrap_or_default().to_owned();
    // A course the catalog does not show has no checkout, whoever asks.
    let detail = async {
        let proof = state
            .policy
            .authorize::<resource::Catalog, action::Read>(
                &state.db,
                &Principal::Anonymous,
                shop.tenant.domain(),
            )
            .await?;
        public::get(state, &proof, &shop.tenant, &course).await
    }
    .await;
    let detail = match detail {
        Ok(detail) => detail,
        Err(e) => return render::error_page(e),
    };
    let (frame, viewer) = match signed_in(state, req, Some(shop), Section::Catalog).await {
        Ok(found) => found,
        Err(to_sign_in) => return to_sign_in,
    };
    let result = async {
        let gateways = gateway_accounts::offered(state, &shop.tenant).await?;
        let own = crate::own_account::<action::Read>(state, &Principal::User(viewer.user.id)).await?;
        let teams: Vec<_> = teams::list_mine(state, &own)
            .await?
            .into_iter()
            .filter(|t| t.role == TeamRole::Manager && t.status == MemberStatus::Active)
            .map(|t| minijinja::context! { id => t.id.to_string(), name => t.name })
            .collect();
        let course = &detail.course;
        let form = refused.as_ref().map(|(_, _, form)| *form);
        frame.render(
            "checkout.html",
            minijinja::context! {
                title => format!("Buy {}", course.title),
                base => &shop.base,
                course_slug => course.slug.as_str(),
                course_title => &course.title,
                price => course.price.to_string(),
                free => course.is_free(),
                gateways => gateways.iter().map(|g| minijinja::context! { id => g.as_str(), label => gateway_label(g.as_str()) }).collect::<Vec<_>>(),
                teams,
                error => refused.as_ref().map(|(_, message, _)| message),
                chosen => form.and_then(|f| f.gateway.clone()),
                coupon => form.and_then(|f| f.coupon.clone()),
                team => form.and_then(|f| f.team.clone()),
                quantity => form.and_then(|f| f.quantity.clone()),
            },
        )
    }
    .await;
    match (result, refused) {
        (Ok(html), Some((status, _, _))) => (status, poem::web::Html(html)).into_response(),
        (result, _) => render::page(result),
    }
}

/// How a gateway is named to buyers.
fn gateway_label(id: &str) -> &'static str {
    match id {
        "stripe" => "Card (Stripe)",
        "yookassa" => "YooKassa",
        "robokassa" => "Robokassa",
        "sandbox" => "Test payment (sandbox)",
        _ => "Other",
    }
}

/// The checkout form as posted.
#[derive(Debug, Deserialize)]
pub struct BuyForm {
    pub csrf: String,
    #[serde(default)]
    pub gateway: Option<String>,
    #[serde(default)]
    pub coupon: Option<String>,
    /// A team the buyer manages, to buy seats for.
    #[serde(default)]
    pub team: Option<String>,
    #[serde(default)]
    pub quantity: Option<String>,
}

/// Buys a course: the form must carry the session's CSRF token. Sends the buyer to the
/// gateway's page (or the order page when nothing is left to pay).
#[handler]
pub async fn buy(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Form(form): Form<BuyForm>,
) -> Response {
    let course = req.raw_path_param("course").unwrap_or_default().to_owned();
    let shop = match shop_of(state, req).await {
        Ok(shop) => shop,
        Err(e) => return render::error_page(e),
    };
    let back = format!("{}/courses/{course}", shop.base);
    if req.cookie().get(SESSION_COOKIE).is_none() {
        return Redirect::see_other(format!("/login?next={}", urlencode(&back))).into_response();
    }
    let result = async {
        let user = form_user(state, req, &form.csrf, shop.scope()).await?;
        // Coupon codes are guessable by trying: every checkout naming one counts, before any
        // lookup, per address and per buyer (as the API's checkout).
        if form.coupon.as_deref().is_some_and(|c| !c.trim().is_empty()) {
            state
                .limits
                .coupon(lyceum_web::client::client_ip(req, &state.settings), user.id)?;
        }
        let proof = state
            .policy
            .authorize::<resource::Checkout, action::Create>(
                &state.db,
                &Principal::User(user.id),
                shop.tenant.domain(),
            )
            .await?;
        let input = buy_input(course.clone(), &form)?;
        checkout::start(state, &proof, &shop.tenant, &user, input).await
    }
    .await;
    match result {
        Ok(started) => Redirect::see_other(started.redirect_url).into_response(),
        // What the buyer can correct comes back on the checkout page, with their choices.
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_) | AppError::NotFound(_))) => {
            let (status, problem) = render::problem_of(&e);
            checkout_view(state, req, &shop, Some((status, problem.message, &form))).await
        }
        Err(e) => crate::parts::form_error(e, &back),
    }
}

/// The checkout input of a posted form.
fn buy_input(course: String, form: &BuyForm) -> Result<Input, AppError> {
    let filled = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let team_id = filled(&form.team)
        .map(|t| {
            t.parse::<uuid::Uuid>()
                .map_err(|_| AppError::invalid("team", "no such team"))
        })
        .transpose()?;
    let quantity = match filled(&form.quantity) {
        None => 1,
        Some(q) => q
            .parse::<u32>()
            .ok()
            .filter(|q| (1..=10_000).contains(q))
            .ok_or_else(|| {
                AppError::invalid("quantity", "must be a whole number from 1 to 10000")
            })?,
    };
    if team_id.is_none() && quantity != 1 {
        return Err(AppError::invalid(
            "quantity",
            "more than one seat is bought for a team",
        ));
    }
    let gateway = filled(&form.gateway)
        .map(|g| {
            g.parse::<GatewayId>()
                .map_err(|_| AppError::invalid("gateway", "no such way to pay"))
        })
        .transpose()?;
    Ok(Input {
        items: vec![Item { course, quantity }],
        coupon: filled(&form.coupon),
        gateway,
        team_id,
        idempotency_key: None,
    })
}

/// Percent-encodes a query value.
pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
