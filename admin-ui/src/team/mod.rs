//! The team console, `/team`: a team's managers see their seat pools per course, give seats
//! by e-mail, follow pending invitations, revoke seats and buy more. Every page asks casbin
//! through the same services as the API (`lyceum-http`'s `seats.rs`, `teams.rs` and the
//! checkout): seats under `seat` in the team's domain, which only its managers' `team_manager`
//! grant opens; the roster under `team` on the platform, which the teams service narrows to
//! the team's managers; buying under `checkout` in the storefront's domain, the checkout
//! service checking again that the buyer manages the team.

use std::collections::HashMap;
use std::sync::Arc;

use lyceum_tenants::rbac::{Authorized, Domain, Principal, Role, action, resource};
use minijinja::context;
use poem::web::{Data, Form, Query, Redirect};
use poem::{IntoResponse, Request, Response, handler};
use serde::Deserialize;

use crate::frame::{Section, signed_in};
use crate::render::page;
use crate::shop::{Viewer, form_user};
use lyceum_domain::domain::Email;
use lyceum_domain::error::{AppError, AppResult};
use lyceum_domain::ids::{SeatAssignmentId, TeamId, UserId};
use lyceum_domain::services::accounts::{self, SessionScope};
use lyceum_domain::services::commerce::checkout::{self, Input, Item};
use lyceum_domain::services::seats::{self, MAX_SEATS, PoolView};
use lyceum_domain::services::teams::{self, TeamName};
use lyceum_domain::services::tenancy::tenants;
use lyceum_domain::state::AppState;

/// The templates of these pages.
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "team/index.html",
        include_str!("../templates/team/index.html"),
    ),
    (
        "team/show.html",
        include_str!("../templates/team/show.html"),
    ),
];

use crate::parts::{form_error, param, proof, when};

pages! {
    /// Every page of [`routes`].
    PAGES;
    /// These pages, mounted under `/team`.
    routes;
    "/team" => get(index).post(create_team),
    "/team/:team" => get(show),
    "/team/:team/seats/:tenant/:course/assignments" => post(assign),
    "/team/:team/seats/:tenant/:course/assignments/:user_id/revoke" => post(revoke),
    "/team/:team/seats/:tenant/:course/invitations/:invitation/cancel" => post(cancel),
    "/team/:team/checkout" => post(buy_seats),
}

/// What a finished form says on the page it returns to: fixed words, never the request's.
fn notice_of(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "created" => "The team was made. Buy seats for it below.",
        "assigned" => "The seat was given: its holder has access now.",
        "invited" => {
            "The seat was given. Nobody has an account with that address yet: an invitation \
             was e-mailed, and it holds the seat until it is taken."
        }
        "revoked" => "The seat was taken back; it is free again.",
        "cancelled" => "The invitation was cancelled; its seat is free again.",
        _ => return None,
    })
}

#[derive(Debug, Default, Deserialize)]
struct DoneQuery {
    done: Option<String>,
}

/// The teams `viewer` manages, from their grants (`team_manager` in a team's domain, the
/// grant casbin checks), with their names: `(id, name)`, newest first.
async fn managed_teams(state: &AppState, viewer: &Viewer) -> AppResult<Vec<(TeamId, String)>> {
    let principal = Principal::User(viewer.user.id);
    let account = crate::own_account::<action::Read>(state, &principal).await?;
    let grants = accounts::roles_of(state, &account).await?;
    let managed: Vec<TeamId> = grants
        .iter()
        .filter_map(|g| match (g.domain, g.role) {
            (Domain::Team(id), Role::TeamManager) => Some(id),
            _ => None,
        })
        .collect();
    let mut names: HashMap<TeamId, String> = teams::list_mine(state, &account)
        .await?
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect();
    let mut out: Vec<(TeamId, String)> = managed
        .into_iter()
        .map(|id| {
            let name = names.remove(&id).unwrap_or_else(|| "Team".to_owned());
            (id, name)
        })
        .collect();
    out.sort_by_key(|(id, _)| std::cmp::Reverse(*id));
    out.dedup_by_key(|(id, _)| *id);
    Ok(out)
}

/// `/team`: the teams the viewer manages, with their seats in numbers.
#[handler]
async fn index(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Query(query): Query<DoneQuery>,
) -> Response {
    let (frame, viewer) = match signed_in(state, req, None, Section::Team).await {
        Ok(found) => found,
        Err(to_sign_in) => return to_sign_in,
    };
    let result = async {
        let mut items = Vec::new();
        for (id, name) in managed_teams(state, &viewer).await? {
            let seats =
                proof::<resource::Seat, action::Read>(state, viewer.user.id, Domain::Team(id))
                    .await;
            // A grant casbin no longer honours (revoked a moment ago) lists the team bare.
            let pools = match seats {
                Ok(seats) => seats::team_pools(state, &seats, id).await?,
                Err(_) => Vec::new(),
            };
            let sum = |f: fn(&PoolView) -> u32| pools.iter().map(f).sum::<u32>();
            items.push(context! {
                id => id.to_string(),
                name,
                courses => pools.len(),
                bought => sum(|p| p.purchased),
                given => sum(|p| p.assigned + p.pending),
                free => sum(|p| p.available),
            });
        }
        frame.render(
            "team/index.html",
            context! {
                title => "Team console",
                teams => items,
                notice => notice_of(query.done.as_deref()),
            },
        )
    }
    .await;
    page(result)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CreateForm {
    csrf: String,
    name: String,
}

/// Makes a team with the viewer as its first manager (`create_team`).
#[handler]
async fn create_team(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Form(form): Form<CreateForm>,
) -> Response {
    if let Err(to_sign_in) = signed_in(state, req, None, Section::Team).await {
        return to_sign_in;
    }
    let result = async {
        let user = form_user(state, req, &form.csrf, SessionScope::Platform).await?;
        let proof =
            proof::<resource::Team, action::Create>(state, user.id, Domain::Platform).await?;
        let name = TeamName::parse("name", &form.name)?;
        teams::create(state, &proof, name).await
    }
    .await;
    match result {
        Ok(team) => Redirect::see_other(format!("/team/{}?done=created", team.id)).into_response(),
        Err(e) => form_error(e, "/team"),
    }
}

/// `/team/:team`: the roster, the seat pools per course (bought, given, free), who holds the
/// seats and which invitations wait, the seat audit trail, and buying more.
#[handler]
async fn show(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Query(query): Query<DoneQuery>,
) -> Response {
    let (frame, viewer) = match signed_in(state, req, None, Section::Team).await {
        Ok(found) => found,
        Err(to_sign_in) => return to_sign_in,
    };
    let result = async {
        let team: TeamId = param(req, "team", "team")?;
        let user = viewer.user.id;
        // The team's seats are its managers': casbin in the team's domain (`list_team_seats`).
        let seat_proof =
            proof::<resource::Seat, action::Read>(state, user, Domain::Team(team)).await?;
        let pools = seats::team_pools(state, &seat_proof, team).await?;
        let audit = seats::audit(state, &seat_proof, team, 20).await?;
        // The roster, as `list_team_members` reads it.
        let team_proof =
            proof::<resource::Team, action::Read>(state, user, Domain::Platform).await?;
        let roster = teams::members(state, &team_proof, team).await?;
        let name = managed_teams(state, &viewer)
            .await?
            .into_iter()
            .find(|(id, _)| *id == team)
            .map_or_else(|| "Team".to_owned(), |(_, name)| name);

        let base = format!("/team/{team}");
        let pools: Vec<_> = pools
            .iter()
            .map(|p| {
                let at = format!("{base}/seats/{}/{}", p.tenant, p.course);
                let seats: Vec<_> = p
                    .seats
                    .iter()
                    .map(|s| {
                        let action = match (s.status, s.user_id) {
                            ("invited", _) => Some(format!("{at}/invitations/{}/cancel", s.id)),
                            (_, Some(holder)) => Some(format!("{at}/assignments/{holder}/revoke")),
                            (_, None) => None,
                        };
                        context! {
                            email => &s.email,
                            status => s.status,
                            invited => s.status == "invited",
                            since => when(s.activated_at.unwrap_or(s.assigned_at)),
                            action,
                        }
                    })
                    .collect();
                let orders: Vec<_> = p
                    .orders
                    .iter()
                    .map(|o| {
                        context! {
                            id => o.order_id.to_string(),
                            status => o.status.as_str(),
                            quantity => o.quantity,
                            seats => o.seats,
                        }
                    })
                    .collect();
                context! {
                    tenant => &p.tenant,
                    tenant_name => &p.tenant_name,
                    course => &p.course,
                    course_title => &p.course_title,
                    bought => p.purchased,
                    held => p.held,
                    assigned => p.assigned,
                    pending => p.pending,
                    given => p.assigned + p.pending,
                    free => p.available,
                    assign => format!("{at}/assignments"),
                    seats,
                    orders,
                }
            })
            .collect();
        let members: Vec<_> = roster
            .iter()
            .map(|m| {
                context! {
                    name => &m.name,
                    email => &m.email,
                    role => m.role.as_str(),
                    since => when(m.added_at),
                }
            })
            .collect();
        let audit: Vec<_> = audit
            .iter()
            .map(|a| {
                context! {
                    at => when(a.at),
                    action => a.action,
                    course => format!("{}/{}", a.tenant, a.course),
                    email => &a.email,
                    actor => &a.actor,
                }
            })
            .collect();
        frame.render(
            "team/show.html",
            context! {
                title => name,
                base,
                pools,
                members,
                audit,
                max_seats => MAX_SEATS,
                notice => notice_of(query.done.as_deref()),
            },
        )
    }
    .await;
    page(result)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AssignForm {
    csrf: String,
    email: String,
}

/// Gives a seat to an address (`assign_seat`): access at once for a registered address, an
/// e-mailed invitation holding the seat otherwise.
#[handler]
async fn assign(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Form(form): Form<AssignForm>,
) -> Response {
    if let Err(to_sign_in) = signed_in(state, req, None, Section::Team).await {
        return to_sign_in;
    }
    let back = format!("/team/{}", req.raw_path_param("team").unwrap_or_default());
    let result = async {
        let user = form_user(state, req, &form.csrf, SessionScope::Platform).await?;
        let team: TeamId = param(req, "team", "team")?;
        let proof =
            proof::<resource::Seat, action::Create>(state, user.id, Domain::Team(team)).await?;
        let email = Email::parse("email", &form.email)?;
        let tenant =
            tenants::find_by_slug(state, req.raw_path_param("tenant").unwrap_or_default()).await?;
        let course = req.raw_path_param("course").unwrap_or_default();
        seats::assign(state, &proof, team, &tenant, course, &email).await
    }
    .await;
    match result {
        Ok(assigned) => {
            let done = if assigned.user_id.is_some() {
                "assigned"
            } else {
                "invited"
            };
            Redirect::see_other(format!("{back}?done={done}")).into_response()
        }
        Err(e) => form_error(e, &back),
    }
}

/// Takes a seat back from its holder (`revoke_seat`).
#[handler]
async fn revoke(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Form(form): Form<crate::shop::CsrfForm>,
) -> Response {
    if let Err(to_sign_in) = signed_in(state, req, None, Section::Team).await {
        return to_sign_in;
    }
    let result = async {
        let pool = pool_form(state, req, &form.csrf).await?;
        let holder: UserId = param(req, "user_id", "seat assignment")?;
        seats::revoke(
            state,
            &pool.proof,
            pool.team,
            &pool.tenant,
            pool.course,
            holder,
        )
        .await
    }
    .await;
    back_to_team(req, result, "revoked")
}

/// Cancels a pending invitation (`cancel_seat_invitation`).
#[handler]
async fn cancel(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Form(form): Form<crate::shop::CsrfForm>,
) -> Response {
    if let Err(to_sign_in) = signed_in(state, req, None, Section::Team).await {
        return to_sign_in;
    }
    let result = async {
        let pool = pool_form(state, req, &form.csrf).await?;
        let invitation: SeatAssignmentId = param(req, "invitation", "seat invitation")?;
        seats::cancel(
            state,
            &pool.proof,
            pool.team,
            &pool.tenant,
            pool.course,
            invitation,
        )
        .await
    }
    .await;
    back_to_team(req, result, "cancelled")
}

/// The seat pool a form of the team page takes something back from, under the manager's
/// proof.
struct PoolForm<'a> {
    proof: Authorized<resource::Seat, action::Delete>,
    team: TeamId,
    tenant: Arc<lyceum_domain::services::tenancy::Tenant>,
    course: &'a str,
}

/// The session and its CSRF token first, then the manager's proof on the path's team.
async fn pool_form<'a>(state: &AppState, req: &'a Request, csrf: &str) -> AppResult<PoolForm<'a>> {
    let user = form_user(state, req, csrf, SessionScope::Platform).await?;
    let team: TeamId = param(req, "team", "team")?;
    let proof = proof(state, user.id, Domain::Team(team)).await?;
    let tenant =
        tenants::find_by_slug(state, req.raw_path_param("tenant").unwrap_or_default()).await?;
    Ok(PoolForm {
        proof,
        team,
        tenant,
        course: req.raw_path_param("course").unwrap_or_default(),
    })
}

/// Back to the team's page saying `done`, or the form's error.
fn back_to_team(req: &Request, result: AppResult<()>, done: &str) -> Response {
    let back = format!("/team/{}", req.raw_path_param("team").unwrap_or_default());
    match result {
        Ok(()) => Redirect::see_other(format!("{back}?done={done}")).into_response(),
        Err(e) => form_error(e, &back),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct BuyForm {
    csrf: String,
    /// The storefront's slug.
    tenant: String,
    /// The course's slug.
    course: String,
    quantity: String,
}

/// Buys seats for the team: a team checkout as `create_checkout` starts one (checkout in the
/// storefront's domain; the service checks the buyer manages the team), then off to the
/// gateway's page.
#[handler]
async fn buy_seats(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Form(form): Form<BuyForm>,
) -> Response {
    if let Err(to_sign_in) = signed_in(state, req, None, Section::Team).await {
        return to_sign_in;
    }
    let back = format!("/team/{}", req.raw_path_param("team").unwrap_or_default());
    let result = async {
        let user = form_user(state, req, &form.csrf, SessionScope::Platform).await?;
        let team: TeamId = param(req, "team", "team")?;
        let quantity: u32 = form
            .quantity
            .trim()
            .parse()
            .ok()
            .filter(|q| (1..=MAX_SEATS).contains(q))
            .ok_or_else(|| {
                AppError::invalid("quantity", format!("a number from 1 to {MAX_SEATS}"))
            })?;
        let course = form.course.trim();
        if course.is_empty() {
            return Err(AppError::invalid(
                "course",
                "name the course to buy seats of",
            ));
        }
        let tenant = tenants::find_selling(state, form.tenant.trim()).await?;
        let proof =
            proof::<resource::Checkout, action::Create>(state, user.id, tenant.domain()).await?;
        let input = Input {
            items: vec![Item {
                course: course.to_owned(),
                quantity,
            }],
            team_id: Some(team.into_uuid()),
            ..Input::default()
        };
        checkout::start(state, &proof, &tenant, &user, input).await
    }
    .await;
    match result {
        Ok(started) => Redirect::see_other(started.redirect_url).into_response(),
        Err(e) => form_error(e, &back),
    }
}
