//! One-time codes that carry a signed-in user from the platform's origin to one storefront
//! host, like an OAuth authorization code: short-lived, single-use, redeemable only on the host
//! it was made for and only by the browser that started the sign-in there (OAuth's `state`: a
//! nonce the storefront host set as a cookie), where it becomes a session valid on that host
//! alone. Without that binding, anyone could sign in to their own account, and send a victim
//! to the code: whatever the victim then bought would be the attacker's.

use chrono::Duration;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use super::users::{self as accounts, IssuedSession, SessionScope};
use crate::entities::session_handoffs;
use crate::error::AppResult;
use crate::ids::{SessionHandoffId, UserId};
use crate::services::now;
use crate::state::AppState;

/// How long a code may wait to be redeemed.
pub const CODE_LIFETIME: Duration = Duration::minutes(2);

/// Issues a code for `user_id` to sign in on `host` and land on `next_path` there, redeemable
/// by the browser that holds the nonce `browser_state`.
pub async fn issue(
    state: &AppState,
    user_id: UserId,
    host: &str,
    browser_state: &str,
    next_path: &str,
) -> AppResult<String> {
    let code = accounts::random_secret();
    let at = now();
    session_handoffs::ActiveModel {
        id: Set(SessionHandoffId::new_v7()),
        code_hash: Set(accounts::sha256_hex(&code)),
        user_id: Set(user_id),
        host: Set(host.to_owned()),
        state_hash: Set(accounts::sha256_hex(browser_state)),
        next_path: Set(next_path.to_owned()),
        created_at: Set(at),
        expires_at: Set(at + CODE_LIFETIME),
        used_at: Set(None),
    }
    .insert(&state.db)
    .await?;
    tracing::info!(user.id = %user_id, "session handoff issued");
    Ok(code)
}

/// Redeems a code on `host` in the browser holding the nonce `browser_state`: a session bound
/// to `host` and the path to land on, or `None` for a code that is unknown, used, expired, made
/// for another host or for another browser.
pub async fn redeem(
    state: &AppState,
    code: &str,
    host: &str,
    browser_state: &str,
) -> AppResult<Option<(IssuedSession, String)>> {
    let hash = accounts::sha256_hex(code);
    let at = now();
    // Taken by one conditional update, so two redemptions of one code cannot both succeed.
    let taken = session_handoffs::Entity::update_many()
        .col_expr(session_handoffs::Column::UsedAt, Expr::value(at))
        .filter(session_handoffs::Column::CodeHash.eq(hash.as_str()))
        .filter(session_handoffs::Column::Host.eq(host))
        .filter(session_handoffs::Column::StateHash.eq(accounts::sha256_hex(browser_state)))
        .filter(session_handoffs::Column::UsedAt.is_null())
        .filter(session_handoffs::Column::ExpiresAt.gt(at))
        .exec(&state.db)
        .await?;
    if taken.rows_affected != 1 {
        return Ok(None);
    }
    let Some(handoff) = session_handoffs::Entity::find()
        .filter(session_handoffs::Column::CodeHash.eq(hash))
        .one(&state.db)
        .await?
    else {
        return Ok(None);
    };
    let session = accounts::open_session(state, handoff.user_id, SessionScope::Host(host)).await?;
    tracing::info!(user.id = %handoff.user_id, "session handoff redeemed");
    Ok(Some((session, handoff.next_path)))
}
