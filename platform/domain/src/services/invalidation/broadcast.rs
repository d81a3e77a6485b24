//! Invalidations across instances, on PostgreSQL: a write's invalidations are sent to every
//! instance with `NOTIFY` inside its transaction (delivered when it commits, never when it
//! rolls back), and every instance `LISTEN`s and feeds what it hears to the same applier. Another instance then stops serving a refunded access,
//! a renamed storefront or a revoked token within moments instead of when its cache entry
//! expires (the caches' lifetimes stay, as the safety net).
//!
//! - A message names its sender (each instance's caches have an id) so an instance skips its
//!   own. It carries the events as compact JSON; one that would not fit a notification
//!   (8000 bytes) is sent as "flush everything" instead.
//! - Grant changes are sent as "reload the policy": the stored grants are the truth.
//! - When the listening connection is lost, notifications sent meanwhile are lost with it: on
//!   every (re)connection the instance flushes its caches and reloads the policy before it
//!   listens on.
//! - SQLite is one instance: nothing is sent or heard, and the policy is polled for the CLI's
//!   grants instead.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseTransaction, Statement};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Invalidation, Invalidations};
use crate::error::AppResult;
use crate::ids::{CourseId, TenantId, UserId};
use crate::services::access::AccessKey;
use crate::state::AppState;

/// The notification channel.
pub const CHANNEL: &str = "lyceum_invalidate";

/// The largest payload PostgreSQL takes, less a margin.
const MAX_PAYLOAD: usize = 7900;

/// How often, on SQLite, the stored policy is checked for grants made by the CLI.
const POLICY_POLL: Duration = Duration::from_secs(5);

/// How long to wait before listening again after a failure.
const RETRY: Duration = Duration::from_secs(1);

/// One invalidation as it travels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "k")]
enum Wire {
    #[serde(rename = "a")]
    Access { t: Uuid, u: Uuid, c: Uuid },
    #[serde(rename = "t")]
    Tenant { s: String, d: Option<String> },
    #[serde(rename = "c")]
    Course { t: Uuid, s: String },
    #[serde(rename = "g")]
    Catalog { t: Uuid },
    #[serde(rename = "k")]
    Token { d: String },
    #[serde(rename = "p")]
    Policy,
}

/// A notification: who sent it and what it invalidates; `flush` drops everything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Message {
    from: Uuid,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    flush: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    events: Vec<Wire>,
}

impl Wire {
    fn of(event: &Invalidation) -> Self {
        match event {
            Invalidation::Access(key) => Self::Access {
                t: key.tenant.into_uuid(),
                u: key.user.into_uuid(),
                c: key.course.into_uuid(),
            },
            Invalidation::Tenant { slug, domain } => Self::Tenant {
                s: slug.clone(),
                d: domain.clone(),
            },
            Invalidation::Course { tenant, slug } => Self::Course {
                t: tenant.into_uuid(),
                s: slug.clone(),
            },
            Invalidation::Catalog(tenant) => Self::Catalog {
                t: tenant.into_uuid(),
            },
            Invalidation::Token(digest) => Self::Token {
                d: hex::encode(digest),
            },
            Invalidation::Grant(..) => Self::Policy,
        }
    }

    /// The event it stands for; `None` for a policy reload (or a token digest that does not
    /// decode, which no instance sends).
    fn event(self) -> Option<Invalidation> {
        Some(match self {
            Self::Access { t, u, c } => Invalidation::Access(AccessKey {
                tenant: TenantId::from(t),
                user: UserId::from(u),
                course: CourseId::from(c),
            }),
            Self::Tenant { s, d } => Invalidation::Tenant { slug: s, domain: d },
            Self::Course { t, s } => Invalidation::Course {
                tenant: TenantId::from(t),
                slug: s,
            },
            Self::Catalog { t } => Invalidation::Catalog(TenantId::from(t)),
            Self::Token { d } => Invalidation::Token(hex::decode(d).ok()?.try_into().ok()?),
            Self::Policy => return None,
        })
    }
}

/// The payload announcing `invalidations` from instance `from`, or `None` when there is
/// nothing to say.
fn payload(from: Uuid, invalidations: &Invalidations) -> Option<String> {
    if invalidations.is_empty() {
        return None;
    }
    let mut events: Vec<Wire> = invalidations.events().iter().map(Wire::of).collect();
    events.dedup();
    let message = Message {
        from,
        flush: false,
        events,
    };
    let text = serde_json::to_string(&message).ok()?;
    if text.len() <= MAX_PAYLOAD {
        return Some(text);
    }
    serde_json::to_string(&Message {
        from,
        flush: true,
        events: Vec::new(),
    })
    .ok()
}

/// Tells the other instances, inside the write's transaction, what it makes stale
/// (PostgreSQL only; SQLite is one instance). The notification leaves at commit, atomically
/// with the change.
pub(crate) async fn announce(
    txn: &DatabaseTransaction,
    from: Uuid,
    invalidations: &Invalidations,
) -> AppResult<()> {
    if txn.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    let Some(text) = payload(from, invalidations) else {
        return Ok(());
    };
    txn.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [CHANNEL.into(), text.into()],
    ))
    .await?;
    Ok(())
}

/// What an instance does with a message it heard.
async fn hear(state: &AppState, text: &str) {
    let message: Message = match serde_json::from_str(text) {
        Ok(message) => message,
        Err(e) => {
            tracing::warn!(error = %e, "an invalidation message did not parse; flushing the caches");
            flush(state).await;
            return;
        }
    };
    if message.from == state.caches.instance {
        return;
    }
    if message.flush {
        flush(state).await;
        return;
    }
    let mut reload_policy = false;
    let mut events = Vec::with_capacity(message.events.len());
    for wire in message.events {
        if wire == Wire::Policy {
            reload_policy = true;
        } else if let Some(event) = wire.event() {
            events.push(event);
        }
    }
    if reload_policy && let Err(e) = state.policy.refresh(&state.db).await {
        tracing::warn!(error = %crate::error::report(&e), "policy reload after a notification failed");
    }
    super::apply(&state.caches, &Invalidations { events }).await;
}

/// Drops every cached entry and reloads the policy: after messages may have been missed.
async fn flush(state: &AppState) {
    state.caches.flush();
    if let Err(e) = state.policy.refresh(&state.db).await {
        tracing::warn!(error = %crate::error::report(&e), "policy reload after a reconnection failed");
    }
}

/// Listens for the other instances' invalidations for as long as the instance runs. On
/// SQLite, one instance, the only other writer is the CLI (`lyceum admin …`), which cannot
/// reach it: there the stored policy's revision is polled instead.
pub async fn listen(state: Arc<AppState>) {
    if state.db.get_database_backend() != DatabaseBackend::Postgres {
        return poll_policy(&state).await;
    }
    let pool = state.db.get_postgres_connection_pool().clone();
    loop {
        state.metrics.listener.set(false);
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(listener) => listener,
            Err(e) => {
                tracing::warn!(error = %crate::error::report(&e), "cannot listen for other instances' changes; retrying");
                tokio::time::sleep(RETRY).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(CHANNEL).await {
            tracing::warn!(error = %crate::error::report(&e), "LISTEN failed; retrying");
            tokio::time::sleep(RETRY).await;
            continue;
        }
        // Whatever was sent while no one listened here is gone: start clean.
        flush(&state).await;
        tracing::debug!("listening for other instances' changes");
        state.metrics.listener.set(true);
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => hear(&state, notification.payload()).await,
                // The connection dropped; the next receive reconnects and listens again.
                Ok(None) => flush(&state).await,
                Err(e) => {
                    tracing::warn!(error = %crate::error::report(&e), "lost the notification connection; reconnecting");
                    tokio::time::sleep(RETRY).await;
                    break;
                }
            }
        }
    }
}

/// Picks up grants and revocations the CLI stored in a SQLite database while it is served.
async fn poll_policy(state: &AppState) {
    let mut tick = tokio::time::interval(POLICY_POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = state.policy.refresh(&state.db).await {
            tracing::warn!(error = %crate::error::report(&e), "policy refresh failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> AccessKey {
        AccessKey {
            tenant: TenantId::new_v7(),
            user: UserId::new_v7(),
            course: CourseId::new_v7(),
        }
    }

    #[test]
    fn every_event_survives_the_trip() {
        let sent = Invalidations::access([key()])
            .and(Invalidations::course(TenantId::new_v7(), "rust"))
            .and(Invalidations::token([7; 32]));
        let text = payload(Uuid::now_v7(), &sent).unwrap();
        let message: Message = serde_json::from_str(&text).unwrap();
        let heard: Vec<Invalidation> = message.events.into_iter().filter_map(Wire::event).collect();
        assert_eq!(heard, sent.events());
    }

    #[test]
    fn too_much_to_say_becomes_a_flush() {
        let many = Invalidations::access((0..500).map(|_| key()));
        let text = payload(Uuid::now_v7(), &many).unwrap();
        assert!(text.len() <= MAX_PAYLOAD);
        let message: Message = serde_json::from_str(&text).unwrap();
        assert!(message.flush && message.events.is_empty());
    }

    #[test]
    fn nothing_to_say_sends_nothing() {
        assert_eq!(payload(Uuid::now_v7(), &Invalidations::none()), None);
    }
}
