//! The pages' templates (auto-escaped minijinja, compiled into the binary) and how a page or
//! an error becomes a response.
//!
//! An error a page answers with is a [`Problem`] carried on an empty response; the layout
//! around it (the storefront's name and colour, who is signed in) is drawn by
//! [`crate::browser::pages`], which also turns the API's problem documents and the router's
//! bare 404s into pages for browsers.

use std::sync::LazyLock;

use lyceum_domain::error::{AppError, AppResult};
use minijinja::Environment;
use poem::http::StatusCode;
use poem::web::Html;
use poem::{IntoResponse, Response};

/// Every template, by name.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("platform.html", include_str!("templates/platform.html")),
    ("catalog.html", include_str!("templates/catalog.html")),
    ("course.html", include_str!("templates/course.html")),
    ("checkout.html", include_str!("templates/checkout.html")),
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
    ("learning.html", include_str!("templates/learning.html")),
    ("lesson.html", include_str!("templates/lesson.html")),
    ("purchases.html", include_str!("templates/purchases.html")),
    ("receipt.html", include_str!("templates/receipt.html")),
    ("quiz.html", include_str!("templates/quiz.html")),
    (
        "quiz_result.html",
        include_str!("templates/quiz_result.html"),
    ),
];

static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    for (name, source) in TEMPLATES
        .iter()
        .chain(crate::studio::TEMPLATES)
        .chain(crate::team::TEMPLATES)
        .chain(crate::admin::TEMPLATES)
    {
        if let Err(e) = env.add_template(name, source) {
            tracing::error!(template = name, error = %lyceum_domain::error::report(&e), "page template is broken");
        }
    }
    env
});

/// Renders a page, or a plain apology if the template itself is broken. A page rendered
/// without a frame gets the platform's, with no one signed in (the sign-in pages).
pub fn render_page(name: &str, ctx: minijinja::Value) -> String {
    let ctx = if ctx.get_attr("frame").is_ok_and(|f| !f.is_undefined()) {
        ctx
    } else {
        minijinja::context! { frame => crate::frame::Frame::anonymous().value(), ..ctx }
    };
    render(name, ctx).unwrap_or_else(|e| {
        tracing::error!(error = %lyceum_domain::error::report(&e), "page failed to render");
        "Something went wrong on our side.".to_owned()
    })
}

pub(crate) fn render(name: &str, ctx: minijinja::Value) -> AppResult<String> {
    ENV.get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(AppError::Render)
}

pub(crate) fn page(result: AppResult<String>) -> Response {
    match result {
        Ok(html) => Html(html).into_response(),
        Err(e) => error_page(e),
    }
}

/// What a page says when it cannot do what was asked. Drawn inside the site's layout by
/// [`crate::browser::pages`].
#[derive(Debug, Clone)]
pub struct Problem {
    pub title: String,
    pub message: String,
    /// A way back, and a way forward (label, address).
    pub back: Option<String>,
    pub action: Option<(String, String)>,
}

impl Problem {
    pub fn new(title: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            message: message.into(),
            back: None,
            action: None,
        }
    }

    pub fn back(mut self, href: impl Into<String>) -> Self {
        self.back = Some(href.into());
        self
    }

    pub fn action(mut self, label: impl Into<String>, href: impl Into<String>) -> Self {
        self.action = Some((label.into(), href.into()));
        self
    }

    /// The response carrying it.
    pub fn respond(self, status: StatusCode) -> Response {
        let mut response = Response::builder()
            .status(status)
            .content_type("text/html; charset=utf-8")
            .finish();
        response.extensions_mut().insert(self);
        response
    }
}

/// The status and words of a page's error.
pub fn problem_of(err: &AppError) -> (StatusCode, Problem) {
    let (status, title, message) = match err {
        AppError::NotFound(what) => (
            StatusCode::NOT_FOUND,
            "Not found",
            format!("There is no such {what} here."),
        ),
        AppError::Conflict(m) => (StatusCode::CONFLICT, "That did not work", m.clone()),
        AppError::PaymentRequired(m) => (StatusCode::PAYMENT_REQUIRED, "Not bought yet", m.clone()),
        AppError::Forbidden(m) => (StatusCode::FORBIDDEN, "Not allowed", m.clone()),
        AppError::Locked { until } => (
            StatusCode::FORBIDDEN,
            "Not open yet",
            format!(
                "This lesson opens on {}.",
                until.format("%-d %B %Y at %H:%M UTC")
            ),
        ),
        AppError::RateLimited { retry_after } => (
            StatusCode::TOO_MANY_REQUESTS,
            "Slow down",
            format!("Too many attempts. Try again in {retry_after} seconds."),
        ),
        AppError::Unauthenticated(m) => (StatusCode::UNAUTHORIZED, "Sign in", (*m).to_owned()),
        AppError::Invalid(fields) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "Please check the form",
            fields
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        ),
        e if e.is_unavailable() => {
            tracing::warn!(error = %lyceum_domain::error::report(e), "page failed: the database is out of reach");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "Back in a moment",
                "We cannot reach our records right now. Please try again in a moment.".to_owned(),
            )
        }
        _ => {
            tracing::error!(error = %lyceum_domain::error::report(err), "page failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "Something went wrong on our side. Please try again in a moment.".to_owned(),
            )
        }
    };
    (status, Problem::new(title, message))
}

/// A page's error, drawn in the site's layout.
pub fn error_page(err: AppError) -> Response {
    let (status, problem) = problem_of(&err);
    let mut response = problem.respond(status);
    let retry_after = match err {
        AppError::RateLimited { retry_after } => Some(retry_after),
        e if e.is_unavailable() => Some(lyceum_web::UNAVAILABLE_RETRY_AFTER),
        _ => None,
    };
    if let Some(retry_after) = retry_after {
        response
            .headers_mut()
            .insert(poem::http::header::RETRY_AFTER, retry_after.into());
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles() {
        for (name, _) in TEMPLATES
            .iter()
            .chain(crate::studio::TEMPLATES)
            .chain(crate::team::TEMPLATES)
            .chain(crate::admin::TEMPLATES)
        {
            ENV.get_template(name)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[test]
    fn markup_in_values_is_escaped() {
        let html = render_page(
            "message.html",
            minijinja::context! { title => "<script>x</script>", message => "\"><img src=x>" },
        );
        assert!(html.contains("<main"), "{html}");
        assert!(!html.contains("<script>x"), "{html}");
        assert!(!html.contains("<img src=x>"), "{html}");
    }
}
