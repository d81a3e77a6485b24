//! The pages' templates (auto-escaped minijinja, compiled into the binary) and how a page or
//! an error becomes a response.

use std::sync::LazyLock;

use lyceum_domain::error::{AppError, AppResult};
use minijinja::{Environment, context};
use poem::http::StatusCode;
use poem::web::Html;
use poem::{IntoResponse, Response};

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    for (name, source) in [
        ("base.html", include_str!("templates/base.html")),
        ("platform.html", include_str!("templates/platform.html")),
        ("catalog.html", include_str!("templates/catalog.html")),
        ("course.html", include_str!("templates/course.html")),
        ("order.html", include_str!("templates/order.html")),
        ("login.html", include_str!("templates/login.html")),
        ("register.html", include_str!("templates/register.html")),
        ("handoff.html", include_str!("templates/handoff.html")),
        ("message.html", include_str!("templates/message.html")),
        ("invitation.html", include_str!("templates/invitation.html")),
        ("onboarding.html", include_str!("templates/onboarding.html")),
        (
            "certificate.html",
            include_str!("templates/certificate.html"),
        ),
    ] {
        if let Err(e) = env.add_template(name, source) {
            tracing::error!(template = name, error = %lyceum_domain::error::report(&e), "storefront template is broken");
        }
    }
    env
});

/// Renders a page, or a plain apology if the template itself is broken.
pub fn render_page(name: &str, ctx: minijinja::Value) -> String {
    render(name, ctx).unwrap_or_else(|e| {
        tracing::error!(error = %lyceum_domain::error::report(&e), "page failed to render");
        "Something went wrong on our side.".to_owned()
    })
}

pub(crate) fn render(name: &str, ctx: minijinja::Value) -> AppResult<String> {
    TEMPLATES
        .get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(AppError::Render)
}

pub(crate) fn page(result: AppResult<String>) -> Response {
    match result {
        Ok(html) => Html(html).into_response(),
        Err(e) => error_page(e),
    }
}

pub fn error_page(err: AppError) -> Response {
    let (status, message) = match &err {
        AppError::NotFound(_) => (StatusCode::NOT_FOUND, "There is nothing here."),
        _ => {
            tracing::error!(error = %lyceum_domain::error::report(&err), "storefront page failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on our side.",
            )
        }
    };
    let html = render("base.html", context! { title => message, message })
        .unwrap_or_else(|_| message.to_owned());
    (status, Html(html)).into_response()
}
