//! Lesson videos: each upload of a video is transcoded in the background into HLS renditions
//! (`queued` → `processing` → `ready`, or `failed` with the reason the instructor sees), and
//! played through playlists rewritten per viewer so every segment is a signed, access-checked
//! link ([`content`](super::content)). Until a video is ready — or when ffmpeg is missing —
//! the original file is served.
//!
//! Jobs are rows of `transcodes`, one per lesson, leased like the outbox's: on PostgreSQL any
//! number of workers take them with `FOR UPDATE SKIP LOCKED`; a worker that dies leaves its
//! lease to run out and the job is taken again. A job whose video was replaced while it ran
//! keeps nothing of its work.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use futures_util::StreamExt;
use lyceum_tenants::rbac::{Authorized, action, resource};
use object_store::ObjectStoreExt;
use object_store::path::Path;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;

use super::transcode::{Ffmpeg, TranscodeError, Transcoded};
use crate::entities::lessons;
use crate::entities::transcodes::{self, TranscodeStatus};
use crate::error::{AppError, AppResult};
use crate::ids::{LessonId, TenantId, TranscodeId};
use crate::services::invalidation::Invalidations;
use crate::services::now;
use crate::services::tenancy::tenants::{Tenant, ensure_covers};
use crate::state::AppState;

/// The longest a transcode may run.
const TIME_LIMIT: StdDuration = StdDuration::from_secs(2 * 3600);
/// The longest a whole job may take: reading the source, transcoding, storing renditions.
const JOB_LIMIT: StdDuration = StdDuration::from_secs(2 * 3600 + 5 * 60);
/// How long a worker holds a job before another may take it: longer than any job may last,
/// so a slow job is never taken over while its worker lives.
const LEASE: Duration = Duration::minutes(135);
/// The longest video transcoded, in seconds (4 hours); a longer one is served as uploaded.
const MAX_SECONDS: f64 = 4.0 * 3600.0;
/// Attempts after which a job that keeps failing on storage is given up.
const MAX_ATTEMPTS: i32 = 3;

/// A rendition made, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenditionInfo {
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub bandwidth: u64,
}

/// Where a lesson video's transcode stands, for its instructor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoStatus {
    pub status: TranscodeStatus,
    /// Why it failed.
    pub reason: Option<String>,
    pub renditions: Vec<RenditionInfo>,
    pub duration_seconds: Option<u32>,
    pub queued_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// Follows a new upload of a lesson's asset, in the caller's transaction: a video is queued
/// for transcoding (`source_key`), anything else only ends the earlier job. Returns the prefix
/// of renditions no longer wanted, for the caller to delete once it commits: a replaced video
/// is never served again, and the new one is served as uploaded until it is ready.
pub(crate) async fn follow_upload(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    lesson: LessonId,
    source_key: Option<&str>,
) -> AppResult<Option<String>> {
    let old = hls_prefix(conn, tenant, lesson).await?;
    let Some(source_key) = source_key else {
        transcodes::Entity::delete_many()
            .filter(transcodes::Column::TenantId.eq(tenant))
            .filter(transcodes::Column::LessonId.eq(lesson))
            .exec(conn)
            .await?;
        return Ok(old);
    };
    transcodes::Entity::insert(transcodes::ActiveModel {
        id: Set(TranscodeId::new_v7()),
        tenant_id: Set(tenant),
        lesson_id: Set(lesson),
        source_key: Set(source_key.to_owned()),
        status: Set(TranscodeStatus::Queued),
        reason: Set(None),
        attempts: Set(0),
        lease_until: Set(None),
        hls_prefix: Set(None),
        renditions: Set(None),
        created_at: Set(now()),
        started_at: Set(None),
        finished_at: Set(None),
    })
    .on_conflict(
        OnConflict::columns([transcodes::Column::TenantId, transcodes::Column::LessonId])
            .update_columns([
                transcodes::Column::SourceKey,
                transcodes::Column::Status,
                transcodes::Column::Reason,
                transcodes::Column::Attempts,
                transcodes::Column::LeaseUntil,
                transcodes::Column::HlsPrefix,
                transcodes::Column::Renditions,
                transcodes::Column::CreatedAt,
                transcodes::Column::StartedAt,
                transcodes::Column::FinishedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(old)
}

async fn job_of(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    lesson: LessonId,
) -> AppResult<Option<transcodes::Model>> {
    Ok(transcodes::Entity::find()
        .filter(transcodes::Column::TenantId.eq(tenant))
        .filter(transcodes::Column::LessonId.eq(lesson))
        .one(conn)
        .await?)
}

fn renditions_of(row: &transcodes::Model) -> Vec<RenditionInfo> {
    row.renditions
        .as_deref()
        .and_then(|r| serde_json::from_str(r).ok())
        .unwrap_or_default()
}

/// A lesson video's transcode, if one was ever queued.
pub async fn status(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    lesson: &lessons::Model,
) -> AppResult<Option<VideoStatus>> {
    Ok(job_of(conn, tenant, lesson.id)
        .await?
        .map(|row| VideoStatus {
            status: row.status,
            reason: row.reason.clone(),
            renditions: renditions_of(&row),
            duration_seconds: lesson.duration_seconds.and_then(|d| u32::try_from(d).ok()),
            queued_at: row.created_at,
            finished_at: row.finished_at,
        }))
}

/// A lesson video's transcode, for the course's staff; 404 when none was queued.
pub async fn status_for_staff(
    state: &AppState,
    auth: &Authorized<resource::Course, action::Read>,
    tenant: &Tenant,
    lesson: LessonId,
) -> AppResult<VideoStatus> {
    ensure_covers(auth, tenant)?;
    let lesson = lessons::Entity::find_by_id(lesson)
        .filter(lessons::Column::TenantId.eq(tenant.id))
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("lesson"))?;
    status(&state.db, tenant.id, &lesson)
        .await?
        .ok_or(AppError::NotFound("video"))
}

/// Where a lesson's HLS renditions are, once some are ready.
pub(crate) async fn hls_prefix(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    lesson: LessonId,
) -> AppResult<Option<String>> {
    Ok(job_of(conn, tenant, lesson)
        .await?
        .and_then(|row| row.hls_prefix))
}

/// Takes the oldest due job and leases it (see the outbox's `claim`).
async fn claim(db: &DatabaseConnection) -> AppResult<Option<transcodes::Model>> {
    let txn = db.begin().await?;
    let at = now();
    let mut query = transcodes::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(transcodes::Column::Status.eq(TranscodeStatus::Queued))
                .add(
                    sea_orm::Condition::all()
                        .add(transcodes::Column::Status.eq(TranscodeStatus::Processing))
                        .add(transcodes::Column::LeaseUntil.lt(at)),
                ),
        )
        .filter(
            sea_orm::Condition::any()
                .add(transcodes::Column::LeaseUntil.is_null())
                .add(transcodes::Column::LeaseUntil.lt(at)),
        )
        .filter(transcodes::Column::Attempts.lt(MAX_ATTEMPTS))
        .order_by_asc(transcodes::Column::CreatedAt);
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
    let mut active: transcodes::ActiveModel = row.into();
    active.status = Set(TranscodeStatus::Processing);
    active.attempts = Set(attempts);
    active.lease_until = Set(Some(at + LEASE));
    active.started_at = Set(Some(at));
    active.reason = Set(None);
    let row = active.update(&txn).await?;
    txn.commit().await?;
    Ok(Some(row))
}

/// What went wrong with a job: the video itself (final), or the machinery (tried again).
enum JobError {
    Video(TranscodeError),
    Machinery(AppError),
}

impl From<AppError> for JobError {
    fn from(e: AppError) -> Self {
        Self::Machinery(e)
    }
}

impl From<object_store::Error> for JobError {
    fn from(e: object_store::Error) -> Self {
        Self::Machinery(e.into())
    }
}

/// Gives up jobs whose workers died [`MAX_ATTEMPTS`] times: they are not taken again.
async fn give_up_stale(db: &DatabaseConnection) -> AppResult<()> {
    transcodes::Entity::update_many()
        .col_expr(
            transcodes::Column::Status,
            Expr::value(TranscodeStatus::Failed.as_str()),
        )
        .col_expr(
            transcodes::Column::Reason,
            Expr::value("the transcode did not finish; try uploading the video again"),
        )
        .col_expr(transcodes::Column::FinishedAt, Expr::value(now()))
        .filter(transcodes::Column::Status.eq(TranscodeStatus::Processing))
        .filter(transcodes::Column::LeaseUntil.lt(now()))
        .filter(transcodes::Column::Attempts.gte(MAX_ATTEMPTS))
        .exec(db)
        .await?;
    Ok(())
}

/// Runs one due job, if any; returns whether there was one.
pub async fn run_once(
    state: &AppState,
    ffmpeg: &Result<Ffmpeg, TranscodeError>,
) -> AppResult<bool> {
    give_up_stale(&state.db).await?;
    let Some(job) = claim(&state.db).await? else {
        return Ok(false);
    };
    let outcome = match ffmpeg {
        // Download, transcode and upload together end well inside the lease.
        Ok(ffmpeg) => tokio::time::timeout(JOB_LIMIT, process(state, ffmpeg, &job))
            .await
            .unwrap_or_else(|_| {
                Err(JobError::Video(TranscodeError::Failed(format!(
                    "the video took longer than {} minutes to process",
                    JOB_LIMIT.as_secs() / 60
                ))))
            }),
        Err(missing) => Err(JobError::Video(TranscodeError::Missing(missing.reason()))),
    };
    match outcome {
        Ok((prefix, made)) => finish_ready(state, &job, prefix, &made).await?,
        Err(JobError::Video(e)) => {
            tracing::warn!(tenant.id = %job.tenant_id, lesson.id = %job.lesson_id, reason = %e.reason(), "transcode failed");
            // Instructors see what to do, never this server's paths.
            let reason = match e {
                TranscodeError::Missing(_) => {
                    "ffmpeg is not installed on this server; the original file is served instead"
                        .to_owned()
                }
                _ => e.reason(),
            };
            finish_failed(&state.db, &job, reason, false).await?;
        }
        Err(JobError::Machinery(e)) => {
            tracing::warn!(error = %crate::error::report(&e), lesson.id = %job.lesson_id, "transcode interrupted");
            let retry = job.attempts < MAX_ATTEMPTS;
            finish_failed(
                &state.db,
                &job,
                "the video could not be stored; try uploading it again".into(),
                retry,
            )
            .await?;
        }
    }
    Ok(true)
}

/// Reads the source into a temporary file, transcodes it, and stores the renditions under a
/// fresh prefix; returns the prefix.
async fn process(
    state: &AppState,
    ffmpeg: &Ffmpeg,
    job: &transcodes::Model,
) -> Result<(String, Transcoded), JobError> {
    let work = tempfile::tempdir().map_err(|e| AppError::io("making a work folder failed", e))?;
    let input = work.path().join("source");
    let mut file = tokio::fs::File::create(&input)
        .await
        .map_err(|e| AppError::io("writing the source failed", e))?;
    let mut stream = state
        .assets
        .get(&Path::from(job.source_key.as_str()))
        .await?
        .into_stream();
    while let Some(chunk) = stream.next().await {
        file.write_all(&chunk?)
            .await
            .map_err(|e| AppError::io("writing the source failed", e))?;
    }
    file.flush()
        .await
        .map_err(|e| AppError::io("writing the source failed", e))?;
    drop(file);
    let probe = ffmpeg.probe(&input).await.map_err(JobError::Video)?;
    if probe.duration_seconds > MAX_SECONDS {
        return Err(JobError::Video(TranscodeError::Unreadable(format!(
            "the video is longer than {} hours; it is served as uploaded",
            MAX_SECONDS / 3600.0
        ))));
    }
    let out = work.path().join("hls");
    tokio::fs::create_dir(&out)
        .await
        .map_err(|e| AppError::io("making the output folder failed", e))?;
    let made = tokio::time::timeout(TIME_LIMIT, ffmpeg.transcode(&input, &out))
        .await
        .map_err(|_| {
            JobError::Video(TranscodeError::Failed(format!(
                "the transcode took longer than {} minutes",
                TIME_LIMIT.as_secs() / 60
            )))
        })?
        .map_err(|e| match e {
            TranscodeError::Io(io) => JobError::Machinery(AppError::io("transcoding failed", io)),
            other => JobError::Video(other),
        })?;
    let prefix = format!(
        "tenants/{}/lessons/{}/hls/{}",
        job.tenant_id,
        job.lesson_id,
        uuid::Uuid::now_v7()
    );
    for rel in &made.files {
        let bytes = tokio::fs::read(out.join(rel))
            .await
            .map_err(|e| AppError::io("reading a rendition failed", e))?;
        state
            .assets
            .put(&Path::from(format!("{prefix}/{rel}")), bytes.into())
            .await?;
    }
    Ok((prefix, made))
}

/// Records a finished job — unless the lesson's video was replaced (or the job taken over)
/// while it ran: then its renditions are deleted and the newer job is left alone.
async fn finish_ready(
    state: &AppState,
    job: &transcodes::Model,
    prefix: String,
    made: &Transcoded,
) -> AppResult<()> {
    let renditions: Vec<RenditionInfo> = made
        .renditions
        .iter()
        .map(|r| RenditionInfo {
            name: r.name.clone(),
            width: r.width,
            height: r.height,
            bandwidth: r.bandwidth,
        })
        .collect();
    let seconds = made.duration_seconds.round();
    let duration = if seconds.is_finite() && seconds >= 0.0 && seconds < f64::from(i32::MAX) {
        #[expect(
            clippy::cast_possible_truncation,
            reason = "checked to be within i32 above"
        )]
        Some(seconds as i32)
    } else {
        None
    };
    let txn = state.db.begin().await?;
    let updated = transcodes::Entity::update_many()
        .col_expr(
            transcodes::Column::Status,
            Expr::value(TranscodeStatus::Ready.as_str()),
        )
        .col_expr(transcodes::Column::HlsPrefix, Expr::value(prefix.clone()))
        .col_expr(
            transcodes::Column::Renditions,
            Expr::value(serde_json::to_string(&renditions)?),
        )
        .col_expr(transcodes::Column::FinishedAt, Expr::value(now()))
        .col_expr(
            transcodes::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(transcodes::Column::Id.eq(job.id))
        .filter(transcodes::Column::SourceKey.eq(job.source_key.clone()))
        .filter(transcodes::Column::Status.eq(TranscodeStatus::Processing))
        .filter(transcodes::Column::StartedAt.eq(job.started_at))
        .exec(&txn)
        .await?;
    if updated.rows_affected == 0 {
        txn.commit().await?;
        delete_prefix(state, &prefix).await;
        return Ok(());
    }
    lessons::Entity::update_many()
        .col_expr(lessons::Column::DurationSeconds, Expr::value(duration))
        .filter(lessons::Column::Id.eq(job.lesson_id))
        .filter(lessons::Column::TenantId.eq(job.tenant_id))
        .exec(&txn)
        .await?;
    // The outline shows the video's length.
    state
        .commit(txn, Invalidations::catalog(job.tenant_id))
        .await?;
    tracing::info!(tenant.id = %job.tenant_id, lesson.id = %job.lesson_id, renditions = renditions.len(), "video transcoded");
    Ok(())
}

async fn finish_failed(
    db: &DatabaseConnection,
    job: &transcodes::Model,
    reason: String,
    retry: bool,
) -> AppResult<()> {
    let (status, lease) = if retry {
        (TranscodeStatus::Queued, Some(now() + Duration::minutes(1)))
    } else {
        (TranscodeStatus::Failed, None)
    };
    transcodes::Entity::update_many()
        .col_expr(transcodes::Column::Status, Expr::value(status.as_str()))
        .col_expr(transcodes::Column::Reason, Expr::value(reason))
        .col_expr(transcodes::Column::LeaseUntil, Expr::value(lease))
        .col_expr(transcodes::Column::FinishedAt, Expr::value(now()))
        .filter(transcodes::Column::Id.eq(job.id))
        .filter(transcodes::Column::SourceKey.eq(job.source_key.clone()))
        .filter(transcodes::Column::Status.eq(TranscodeStatus::Processing))
        .filter(transcodes::Column::StartedAt.eq(job.started_at))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes the objects under `prefix`; a failure only leaves orphans behind.
pub(crate) async fn delete_prefix(state: &AppState, prefix: &str) {
    let listed: Vec<_> = state.assets.list(Some(&Path::from(prefix))).collect().await;
    for meta in listed.into_iter().flatten() {
        if let Err(e) = state.assets.delete(&meta.location).await {
            tracing::warn!(error = %crate::error::report(&e), "could not delete a rendition");
        }
    }
}

/// The worker: runs due jobs until the process stops. ffmpeg is looked for once, at start.
pub async fn work(state: Arc<AppState>) {
    let ffmpeg = Ffmpeg::locate();
    if let Err(e) = &ffmpeg {
        tracing::warn!(reason = %e.reason(), "videos will not be transcoded");
    }
    let mut tick = tokio::time::interval(StdDuration::from_secs(2));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        loop {
            match run_once(&state, &ffmpeg).await {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    tracing::warn!(error = %crate::error::report(&e), "video worker failed");
                    break;
                }
            }
        }
    }
}
