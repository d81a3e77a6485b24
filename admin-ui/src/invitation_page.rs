//! `/invitations/{token}` and `/seat-invitations/{token}`: the pages a staff invitation and a
//! team seat's invitation link to. A signed-in visitor accepts with a CSRF-protected form;
//! anyone else is sent to sign in (or register) and back.

use std::sync::Arc;

use lyceum_tenants::rbac::action;
use poem::web::{Data, Form, Path, Redirect};
use poem::{IntoResponse, Request, Response, handler};

use super::shop::{self, CsrfForm, urlencode};
use crate::frame::{Frame, Section};
use lyceum_domain::error::AppResult;
use lyceum_domain::services::accounts::{CurrentUser, SessionScope};
use lyceum_domain::services::seats;
use lyceum_domain::services::tenancy::invitations;
use lyceum_domain::state::AppState;

/// What an invitation page says, and what accepting it does.
struct Kind {
    /// The page's path before the token.
    prefix: &'static str,
    heading: &'static str,
    button: &'static str,
}

const STAFF: Kind = Kind {
    prefix: "/invitations",
    heading: "Join a storefront's staff",
    button: "Accept the invitation",
};

const SEAT: Kind = Kind {
    prefix: "/seat-invitations",
    heading: "Take your seat",
    button: "Take the seat",
};

async fn page(req: &Request, state: &AppState, token: &str, kind: &Kind) -> Response {
    let here = format!("{}/{}", kind.prefix, urlencode(token));
    let frame = Frame::load(state, req, None, Section::Other).await;
    let Some(viewer) = frame.viewer.clone() else {
        return Redirect::see_other(format!("/login?next={}", urlencode(&here))).into_response();
    };
    let html = frame.render(
        "invitation.html",
        minijinja::context! {
            title => "Invitation",
            heading => kind.heading,
            button => kind.button,
            user_name => viewer.user.name,
            email => viewer.user.email,
            action => here,
            csrf => viewer.csrf,
        },
    );
    crate::render::page(html)
}

/// The signed-in visitor a CSRF-checked form comes from, with their proof on their account.
async fn form_account(
    state: &AppState,
    req: &Request,
    form: &CsrfForm,
) -> AppResult<(
    CurrentUser,
    lyceum_tenants::rbac::Authorized<lyceum_tenants::rbac::resource::Account, action::Update>,
)> {
    let user = shop::form_user(state, req, &form.csrf, SessionScope::Platform).await?;
    let proof = crate::own_account::<action::Update>(
        state,
        &lyceum_tenants::rbac::Principal::User(user.id),
    )
    .await?;
    Ok((user, proof))
}

/// What an accepted invitation says, in the platform's layout.
fn done(title: &str, message: String, onward: (&str, &str)) -> Response {
    crate::render::Problem::new(title, message)
        .action(onward.0, onward.1)
        .respond(poem::http::StatusCode::OK)
}

/// The staff invitation's page: what accepting does, and the button.
#[handler]
pub async fn show(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path(token): Path<String>,
) -> Response {
    page(req, state, &token, &STAFF).await
}

/// Accepts the staff invitation for the signed-in visitor.
#[handler]
pub async fn accept(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path(token): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let result = async {
        let (_, proof) = form_account(state, req, &form).await?;
        invitations::accept(state, &proof, &token).await
    }
    .await;
    match result {
        Ok(member) => done(
            "Invitation accepted",
            format!("You are now {} of this storefront.", member.role.as_str()),
            ("Open the studio", "/studio"),
        ),
        Err(e) => crate::parts::form_error(e, "/"),
    }
}

/// A seat invitation's page.
#[handler]
pub async fn show_seat(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path(token): Path<String>,
) -> Response {
    page(req, state, &token, &SEAT).await
}

/// Takes the seat for the signed-in visitor.
#[handler]
pub async fn accept_seat(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path(token): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let result = async {
        let (_, proof) = form_account(state, req, &form).await?;
        seats::accept(state, &proof, &token).await
    }
    .await;
    match result {
        Ok(_) => done(
            "Seat taken",
            "The seat is yours: the course is in your account.".to_owned(),
            ("Go to my courses", "/learning"),
        ),
        Err(e) => crate::parts::form_error(e, "/"),
    }
}
