//! Side effects (e-mails: receipts, invitations, notices, certificates) as outbox rows,
//! written in the same transaction as the change that causes them and sent by a worker.
//!
//! Each row has a unique `dedupe_key`, so a side effect is enqueued once however often its
//! cause is replayed. On PostgreSQL any number of workers take rows with
//! `FOR UPDATE SKIP LOCKED`; on SQLite one worker per process does. Failed sends are retried
//! with exponential backoff and given up (`dead`) after [`MAX_ATTEMPTS`].

use std::time::Duration;

use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

use super::mail::{Attachment, MailError, Mailer};
use crate::entities::outbox;
use crate::error::AppResult;
use crate::ids::{OutboxMessageId, TenantId};
use crate::metrics::Job;
use crate::services::now;
use crate::state::AppState;

pub const MAX_ATTEMPTS: i32 = 12;
const BATCH: usize = 20;

/// Adds a side effect to the caller's transaction; the same `dedupe_key` twice is one row.
pub async fn enqueue(
    conn: &impl ConnectionTrait,
    tenant_id: Option<TenantId>,
    kind: outbox::OutboxKind,
    dedupe_key: &str,
    payload: serde_json::Value,
) -> AppResult<()> {
    outbox::Entity::insert(outbox::ActiveModel {
        id: Set(OutboxMessageId::new_v7()),
        tenant_id: Set(tenant_id),
        kind: Set(kind),
        dedupe_key: Set(dedupe_key.to_owned()),
        payload: Set(payload),
        status: Set(outbox::OutboxStatus::Pending),
        attempts: Set(0),
        next_attempt_at: Set(now()),
        last_error: Set(None),
        created_at: Set(now()),
        sent_at: Set(None),
    })
    .on_conflict(
        OnConflict::column(outbox::Column::DedupeKey)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// Sends what is due, one row at a time; returns how many rows were handled.
pub async fn run_once(state: &AppState, mailer: &Mailer) -> AppResult<usize> {
    let mut handled = 0;
    while handled < BATCH {
        let Some(row) = claim(&state.db).await? else {
            break;
        };
        let result = match attachment_of(state, &row).await {
            Ok(attachment) => mailer.deliver(&row, attachment).await,
            Err(e) => Err(MailError::Malformed(format!(
                "preparing the attachment failed: {}",
                crate::error::report(&e)
            ))),
        };
        let attempt = finish(&state.db, row, result).await?;
        state.metrics.outbox.attempt(attempt);
        handled += 1;
    }
    state.metrics.jobs.succeeded(Job::Outbox);
    Ok(handled)
}

/// Measures the backlog for the metrics: how many messages are pending (due, or waiting to be
/// retried), how old the oldest is, and how many were given up. Two aggregate queries over
/// the `(status, next_attempt_at)` index: they read the pending and dead rows, which a
/// working outbox keeps few, never the sent ones.
pub async fn measure(state: &AppState) -> AppResult<()> {
    let (pending, oldest) = outbox::Entity::find()
        .select_only()
        .column_as(outbox::Column::Id.count(), "pending")
        .column_as(outbox::Column::CreatedAt.min(), "oldest")
        .filter(outbox::Column::Status.eq(outbox::OutboxStatus::Pending))
        .into_tuple::<(i64, Option<chrono::DateTime<Utc>>)>()
        .one(&state.db)
        .await?
        .unwrap_or((0, None));
    let dead = outbox::Entity::find()
        .filter(outbox::Column::Status.eq(outbox::OutboxStatus::Dead))
        .count(&state.db)
        .await?;
    state
        .metrics
        .outbox
        .backlog(pending.unsigned_abs(), oldest, dead, Utc::now());
    Ok(())
}

/// What a message carries beside its text: a certificate's PDF.
async fn attachment_of(state: &AppState, row: &outbox::Model) -> AppResult<Option<Attachment>> {
    if row.kind != outbox::OutboxKind::CertificateIssued {
        return Ok(None);
    }
    let id = row
        .payload
        .get("certificate_id")
        .and_then(|v| v.as_str())
        .and_then(|v| v.parse::<uuid::Uuid>().ok())
        .ok_or(crate::error::AppError::Internal(
            "a certificate message names no certificate",
        ))?;
    let bytes = crate::services::certificates::pdf_for_outbox(state, id.into()).await?;
    Ok(Some(Attachment {
        filename: "certificate.pdf",
        content_type: "application/pdf",
        bytes,
    }))
}

/// How long a claimed row is left to its worker before another may take it.
const LEASE: Duration = Duration::from_secs(300);

/// Takes the oldest due row and leases it, in a short transaction of its own: its next
/// attempt moves past the lease, so no other worker takes it while it is being sent, and no
/// lock or connection is held during delivery (SQLite has only one). Only a crash between
/// delivery and [`finish`] sends a message twice, and then only that one.
async fn claim(db: &DatabaseConnection) -> AppResult<Option<outbox::Model>> {
    use sea_orm::Iterable;
    let txn = db.begin().await?;
    let mut query = outbox::Entity::find()
        .filter(outbox::Column::Status.eq(outbox::OutboxStatus::Pending))
        // A kind this build does not know (written by a newer one) cannot even be read: it
        // stays pending for a build that can send it instead of stopping the queue here.
        .filter(outbox::Column::Kind.is_in(outbox::OutboxKind::iter()))
        .filter(outbox::Column::NextAttemptAt.lte(now()))
        .order_by_asc(outbox::Column::CreatedAt);
    if txn.get_database_backend() == DbBackend::Postgres {
        query = query.lock_with_behavior(
            sea_orm::sea_query::LockType::Update,
            sea_orm::sea_query::LockBehavior::SkipLocked,
        );
    }
    let Some(row) = query.one(&txn).await? else {
        txn.commit().await?;
        return Ok(None);
    };
    let attempts = row.attempts + 1;
    let mut active: outbox::ActiveModel = row.into();
    active.attempts = Set(attempts);
    active.next_attempt_at = Set(Utc::now() + LEASE);
    let row = active.update(&txn).await?;
    txn.commit().await?;
    Ok(Some(row))
}

/// Records how the delivery of a claimed row went: sent, retried later with backoff, or dead
/// after [`MAX_ATTEMPTS`]; returns which (`sent`, `retry`, `dead`).
async fn finish(
    db: &DatabaseConnection,
    row: outbox::Model,
    result: Result<(), MailError>,
) -> AppResult<&'static str> {
    let attempts = row.attempts;
    let mut active: outbox::ActiveModel = row.into();
    let attempt = match result {
        Ok(()) => {
            active.status = Set(outbox::OutboxStatus::Sent);
            active.sent_at = Set(Some(now()));
            active.last_error = Set(None);
            "sent"
        }
        Err(e) => {
            tracing::warn!(error = %crate::error::report(&e), attempts, "outbox delivery failed");
            active.last_error = Set(Some(e.to_string()));
            if attempts >= MAX_ATTEMPTS {
                active.status = Set(outbox::OutboxStatus::Dead);
                "dead"
            } else {
                let backoff =
                    Duration::from_secs(2_u64.saturating_pow(attempts.unsigned_abs()).min(3600));
                active.next_attempt_at = Set(Utc::now() + backoff);
                "retry"
            }
        }
    };
    active.update(db).await?;
    Ok(attempt)
}

/// The worker: drains the outbox every second until the process stops.
pub async fn work(state: std::sync::Arc<AppState>, mailer: Mailer) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match run_once(&state, &mailer).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(handled = n, "outbox drained"),
            Err(e) => tracing::warn!(error = %crate::error::report(&e), "outbox worker failed"),
        }
    }
}
