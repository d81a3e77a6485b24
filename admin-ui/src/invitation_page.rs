//! `/invitations/{token}`: the page an invitation e-mail links to. A signed-in visitor accepts
//! with a CSRF-protected form; anyone else is sent to sign in (or register) and back.

use std::sync::Arc;

use lyceum_tenants::rbac::action;
use poem::web::{Data, Form, Html, Path, Redirect};
use poem::{IntoResponse, Request, Response, handler};

use super::shop::{self, CsrfForm, urlencode};
use crate::render::render_page;
use lyceum_domain::services::accounts::SessionScope;
use lyceum_domain::services::tenancy::invitations;
use lyceum_domain::state::AppState;

/// The invitation's page: what accepting does, and the button.
#[handler]
pub async fn show(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path(token): Path<String>,
) -> Response {
    let here = format!("/invitations/{}", urlencode(&token));
    let Some(viewer) = shop::viewer(state, req, SessionScope::Platform).await else {
        return Redirect::see_other(format!("/login?next={}", urlencode(&here))).into_response();
    };
    let html = render_page(
        "invitation.html",
        minijinja::context! {
            title => "Invitation",
            user_name => viewer.user.name,
            email => viewer.user.email,
            action => here,
            csrf => viewer.csrf,
        },
    );
    Html(html).into_response()
}

/// Accepts the invitation for the signed-in visitor.
#[handler]
pub async fn accept(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path(token): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let result = async {
        let user = shop::form_user(state, req, &form.csrf, SessionScope::Platform).await?;
        let proof = crate::own_account::<action::Update>(
            state,
            &lyceum_tenants::rbac::Principal::User(user.id),
        )
        .await?;
        invitations::accept(state, &proof, &token).await
    }
    .await;
    match result {
        Ok(member) => {
            let html = render_page(
                "message.html",
                minijinja::context! {
                    title => "Invitation accepted",
                    message => format!("You are now {} of this storefront.", member.role.as_str()),
                    back => "/",
                },
            );
            Html(html).into_response()
        }
        Err(e) => shop::message_page(e, "/"),
    }
}
