//! Small pieces every area's pages share: path parameters, the viewer's casbin proofs, a
//! form's error with a way back, and how dates, amounts and sizes read on a page.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use lyceum_domain::error::{AppError, AppResult};
use lyceum_domain::ids::UserId;
use lyceum_domain::state::AppState;
use lyceum_gateway_core::{Currency, Money};
use lyceum_tenants::rbac::{Authorized, Domain, Principal, Resource, Verb};
use poem::{Request, Response};

use crate::render::{Problem, error_page};

/// A path parameter, parsed; a malformed one names nothing here.
pub fn param<T: FromStr>(req: &Request, name: &str, what: &'static str) -> AppResult<T> {
    req.raw_path_param(name)
        .and_then(|v| v.parse().ok())
        .ok_or(AppError::NotFound(what))
}

/// `A` on `R` in `domain` for `user`: the proof the matching API operation asks for.
pub async fn proof<R: Resource, A: Verb>(
    state: &AppState,
    user: UserId,
    domain: Domain,
) -> AppResult<Authorized<R, A>> {
    state
        .policy
        .authorize(&state.db, &Principal::User(user), domain)
        .await
}

/// A form's error, drawn in the layout with a way back to `back`.
pub fn form_error(err: AppError, back: &str) -> Response {
    let mut response = error_page(err);
    if let Some(problem) = response.extensions_mut().get_mut::<Problem>() {
        problem.back = Some(back.to_owned());
    }
    response
}

/// A moment as pages show it: `3 Nov 2026, 14:05 UTC`.
pub fn when(at: DateTime<Utc>) -> String {
    at.format("%-d %b %Y, %H:%M UTC").to_string()
}

/// A day as pages show it: `3 Nov 2026`.
pub fn day(at: DateTime<Utc>) -> String {
    at.format("%-d %b %Y").to_string()
}

/// A signed amount in minor units (a balance may be negative): `−12.50 USD`. An unknown
/// currency code shows its minor units.
pub fn signed(minor: i64, currency: impl std::fmt::Display) -> String {
    let currency = currency.to_string();
    let Ok(code) = Currency::parse(&currency) else {
        return format!("{minor} (minor units) {currency}");
    };
    match Money::new(minor.unsigned_abs().try_into().unwrap_or(i64::MAX), code) {
        Ok(m) if minor < 0 => format!("−{m}"),
        Ok(m) => m.to_string(),
        Err(_) => format!("{minor} (minor units) {currency}"),
    }
}

/// A size in bytes, for people: `12.3 MB`.
pub fn size(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * KIB;
    const GIB: u64 = 1024 * MIB;
    match bytes {
        b if b >= GIB => format!("{:.1} GB", b as f64 / GIB as f64),
        b if b >= MIB => format!("{:.1} MB", b as f64 / MIB as f64),
        b if b >= KIB => format!("{:.0} KB", b as f64 / KIB as f64),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_with_their_sign_and_decimals() {
        assert_eq!(signed(-1250, "USD"), "−12.50 USD");
        assert_eq!(signed(500, "JPY"), "500 JPY");
        assert_eq!(signed(7, "XXX"), "7 (minor units) XXX");
    }

    #[test]
    fn sizes_read_in_the_largest_unit() {
        assert_eq!(size(12), "12 bytes");
        assert_eq!(size(3 * 1024 * 1024 / 2), "1.5 MB");
    }
}
