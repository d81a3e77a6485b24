//! The web session cookie, set by the API's session operations and by the pages alike.

use lyceum_domain::state::AppState;

/// The name of the web UI's session cookie.
pub const SESSION_COOKIE: &str = "lyceum_session";

/// The `Set-Cookie` value for a session (`None` clears it): HttpOnly, SameSite=Lax, and
/// Secure when the public URL is https.
pub fn session_cookie(state: &AppState, session: Option<(&str, i64)>) -> String {
    let secure = secure_attribute(state);
    let (value, max_age) = session.unwrap_or(("", 0));
    format!("{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

/// `; Secure` when the platform is served over https, for every cookie it sets.
pub fn secure_attribute(state: &AppState) -> &'static str {
    if state.settings.public_url.scheme() == "https" {
        "; Secure"
    } else {
        ""
    }
}
