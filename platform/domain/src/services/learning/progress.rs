//! What the player reports about a lesson, and explicit "done".
//!
//! Reports may arrive late and out of order (a tab in the background, a retried request):
//! watched seconds only ever grow (and never faster than twice the time since the learner
//! first opened the lesson), the resume position is the one the player sent last by its own
//! clock, and a lesson once done stays done. Every change re-evaluates the course in the
//! same transaction ([`completion::evaluate`]).

use chrono::{DateTime, Duration, Utc};
use lyceum_tenants::rbac::{Authorized, action, resource};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait,
    QueryFilter, QuerySelect, TransactionTrait,
};

use super::completion::{self, Evaluation};
use super::lessons::{self, Opened};
use crate::entities::lesson_progress;
use crate::entities::transcodes::TranscodeStatus;
use crate::error::{AppError, AppResult};
use crate::ids::{CourseId, LessonId, LessonProgressId, TenantId, UserId};
use crate::services::catalog::LessonKind;
use crate::services::media::videos;
use crate::services::now;
use crate::services::tenancy::tenants::{Tenant, ensure_covers};
use crate::state::AppState;

/// The longest position or watch time a report may carry: 24 hours.
pub const MAX_SECONDS: u32 = 86_400;

/// How far ahead of the server's clock a player's clock may claim to be.
const CLOCK_SKEW: Duration = Duration::minutes(1);

/// What a player reports.
#[derive(Debug, Clone, Copy)]
pub struct Report {
    /// Where playback is now, in seconds.
    pub position_seconds: u32,
    /// How many seconds of the lesson the learner has watched in all.
    pub watched_seconds: u32,
    /// The player's clock when it made the report; `None` is now.
    pub sent_at: Option<DateTime<Utc>>,
}

/// A learner's progress in one lesson.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LessonState {
    pub lesson: LessonId,
    pub position_seconds: u32,
    pub watched_seconds: u32,
    pub completed_at: Option<DateTime<Utc>>,
}

impl From<lesson_progress::Model> for LessonState {
    fn from(m: lesson_progress::Model) -> Self {
        Self {
            lesson: m.lesson_id,
            position_seconds: u32::try_from(m.position_seconds).unwrap_or_default(),
            watched_seconds: u32::try_from(m.watched_seconds).unwrap_or_default(),
            completed_at: m.completed_at,
        }
    }
}

/// A lesson's progress after a change, and the course's.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub lesson: LessonState,
    pub course: Evaluation,
}

/// Records a player's report on a video lesson.
pub async fn record(
    state: &AppState,
    auth: &Authorized<resource::Learning, action::Update>,
    tenant: &Tenant,
    lesson_id: LessonId,
    report: Report,
) -> AppResult<Recorded> {
    ensure_covers(auth, tenant)?;
    if report.position_seconds > MAX_SECONDS || report.watched_seconds > MAX_SECONDS {
        return Err(AppError::invalid(
            "watched_seconds",
            format!("positions and watch times are at most {MAX_SECONDS} seconds"),
        ));
    }
    let opened = lessons::open(state, auth, tenant.id, lesson_id).await?;
    let user = signed_in(&opened)?;
    let threshold = opened.course.complete_percent;
    change(state, &opened, user, |row, lesson| {
        merge(row, lesson, threshold, report, now());
    })
    .await
}

/// Marks a text or file lesson done; a video is done by watching it, unless its length is
/// not known (it could not be transcoded).
pub async fn mark_done(
    state: &AppState,
    auth: &Authorized<resource::Learning, action::Update>,
    tenant: &Tenant,
    lesson_id: LessonId,
) -> AppResult<Recorded> {
    ensure_covers(auth, tenant)?;
    let opened = lessons::open(state, auth, tenant.id, lesson_id).await?;
    let user = signed_in(&opened)?;
    if opened.lesson.kind == LessonKind::Video {
        if opened.lesson.duration_seconds.is_some() {
            return Err(AppError::conflict(
                "a video lesson is done once enough of it is watched",
            ));
        }
        // Its length is known once it is transcoded; only a video that cannot be (no ffmpeg,
        // a failed transcode, no upload) is done by saying so.
        let waiting = videos::status(&state.db, tenant.id, &opened.lesson)
            .await?
            .is_some_and(|v| {
                matches!(
                    v.status,
                    TranscodeStatus::Queued | TranscodeStatus::Processing
                )
            });
        if waiting {
            return Err(AppError::conflict(
                "this video is still being processed; it is done once enough of it is watched",
            ));
        }
    }
    change(state, &opened, user, |row, _| {
        if row.completed_at.is_none() {
            row.completed_at = Some(now());
        }
    })
    .await
}

fn signed_in(opened: &Opened) -> AppResult<UserId> {
    opened
        .user
        .ok_or(AppError::Unauthenticated("sign in to keep your progress"))
}

/// The learner's progress in a lesson, if any.
pub async fn of_lesson(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    user: UserId,
    lesson: LessonId,
) -> AppResult<Option<LessonState>> {
    Ok(lesson_progress::Entity::find()
        .filter(lesson_progress::Column::TenantId.eq(tenant))
        .filter(lesson_progress::Column::UserId.eq(user))
        .filter(lesson_progress::Column::LessonId.eq(lesson))
        .one(conn)
        .await?
        .map(Into::into))
}

/// The lessons of a course the learner has done.
pub async fn done_in_course(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    user: UserId,
    course: CourseId,
) -> AppResult<std::collections::HashSet<LessonId>> {
    Ok(lesson_progress::Entity::find()
        .filter(lesson_progress::Column::TenantId.eq(tenant))
        .filter(lesson_progress::Column::UserId.eq(user))
        .filter(lesson_progress::Column::CourseId.eq(course))
        .filter(lesson_progress::Column::CompletedAt.is_not_null())
        .all(conn)
        .await?
        .into_iter()
        .map(|p| p.lesson_id)
        .collect())
}

/// Applies `apply` to the learner's row of the lesson (made on first use), under a lock, then
/// re-evaluates the course, all in one transaction.
async fn change(
    state: &AppState,
    opened: &Opened,
    user: UserId,
    apply: impl FnOnce(&mut lesson_progress::Model, &crate::entities::lessons::Model),
) -> AppResult<Recorded> {
    let lesson = &opened.lesson;
    let txn = state.db.begin().await?;
    let at = now();
    lesson_progress::Entity::insert(lesson_progress::ActiveModel {
        id: Set(LessonProgressId::new_v7()),
        tenant_id: Set(lesson.tenant_id),
        user_id: Set(user),
        course_id: Set(lesson.course_id),
        lesson_id: Set(lesson.id),
        position_seconds: Set(0),
        position_at: Set(None),
        watched_seconds: Set(0),
        first_seen_at: Set(at),
        completed_at: Set(None),
        updated_at: Set(at),
    })
    .on_conflict(
        OnConflict::columns([
            lesson_progress::Column::TenantId,
            lesson_progress::Column::UserId,
            lesson_progress::Column::LessonId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    let mut query = lesson_progress::Entity::find()
        .filter(lesson_progress::Column::TenantId.eq(lesson.tenant_id))
        .filter(lesson_progress::Column::UserId.eq(user))
        .filter(lesson_progress::Column::LessonId.eq(lesson.id));
    if txn.get_database_backend() == DbBackend::Postgres {
        query = query.lock_exclusive();
    }
    let row = query
        .one(&txn)
        .await?
        .ok_or(AppError::Internal("lesson progress vanished"))?;
    let mut next = row.clone();
    apply(&mut next, lesson);
    let row = if next == row {
        row
    } else {
        next.updated_at = at;
        let active: lesson_progress::ActiveModel = next.into();
        active.reset_all().update(&txn).await?
    };
    let course = completion::evaluate(
        &txn,
        &opened.course,
        user,
        Some(lesson.id),
        opened.decision.access,
        state.settings.public_url.as_str(),
    )
    .await?;
    txn.commit().await?;
    Ok(Recorded {
        lesson: row.into(),
        course,
    })
}

/// Merges a report into a lesson's row: watched seconds take the maximum (within the video's
/// length), the position follows the latest report by the player's clock, and the lesson is
/// done once `threshold` percent of it is watched (the course's completion rule).
fn merge(
    row: &mut lesson_progress::Model,
    lesson: &crate::entities::lessons::Model,
    threshold: u8,
    report: Report,
    at: DateTime<Utc>,
) {
    let length = lesson.duration_seconds.and_then(|d| u32::try_from(d).ok());
    let clamp = |s: u32| length.map_or(s, |l| s.min(l));
    // No one watches faster than twice the time since they first opened the lesson (with
    // half a minute to spare): a report of more is taken as that much.
    let since_first = u64::try_from((at - row.first_seen_at).num_seconds()).unwrap_or(0);
    let plausible =
        u32::try_from(since_first.saturating_mul(2).saturating_add(30)).unwrap_or(u32::MAX);
    let watched = clamp(report.watched_seconds.min(plausible));
    row.watched_seconds = row
        .watched_seconds
        .max(i32::try_from(watched).unwrap_or(i32::MAX));
    let sent_at = report.sent_at.unwrap_or(at).min(at + CLOCK_SKEW);
    if row.position_at.is_none_or(|previous| sent_at > previous) {
        row.position_seconds = i32::try_from(clamp(report.position_seconds)).unwrap_or(i32::MAX);
        row.position_at = Some(sent_at);
    }
    row.completed_at = row.completed_at.or_else(|| {
        length
            .filter(|_| lesson.kind == LessonKind::Video)
            .zip(u32::try_from(row.watched_seconds).ok())
            .and_then(|(length, watched)| {
                completion::watched_enough(watched, length, threshold).then_some(at)
            })
    });
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::ids::{CourseId, SectionId};

    fn lesson(duration: Option<i32>) -> crate::entities::lessons::Model {
        let at = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
        crate::entities::lessons::Model {
            id: LessonId::new_v7(),
            tenant_id: TenantId::new_v7(),
            course_id: CourseId::new_v7(),
            section_id: SectionId::new_v7(),
            title: "t".into(),
            kind: LessonKind::Video,
            free_preview: false,
            body: None,
            position: 0,
            asset_key: None,
            asset_content_type: None,
            asset_size: None,
            required: true,
            drip_days: None,
            drip_at: None,
            duration_seconds: duration,
            created_at: at,
            updated_at: at,
        }
    }

    fn row(lesson: &crate::entities::lessons::Model) -> lesson_progress::Model {
        lesson_progress::Model {
            id: LessonProgressId::new_v7(),
            tenant_id: lesson.tenant_id,
            user_id: UserId::new_v7(),
            course_id: lesson.course_id,
            lesson_id: lesson.id,
            position_seconds: 0,
            position_at: None,
            watched_seconds: 0,
            first_seen_at: lesson.created_at,
            completed_at: None,
            updated_at: lesson.created_at,
        }
    }

    #[test]
    fn late_reports_never_move_progress_back() {
        let lesson = lesson(Some(100));
        let mut r = row(&lesson);
        let now = Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).unwrap();
        let at = |s: i64| Some(now - Duration::seconds(100 - s));
        merge(
            &mut r,
            &lesson,
            80,
            Report {
                position_seconds: 60,
                watched_seconds: 60,
                sent_at: at(60),
            },
            now,
        );
        merge(
            &mut r,
            &lesson,
            80,
            Report {
                position_seconds: 30,
                watched_seconds: 30,
                sent_at: at(30),
            },
            now,
        );
        assert_eq!((r.position_seconds, r.watched_seconds), (60, 60));
        assert!(r.completed_at.is_none());
        // Rewinding is a newer report: the position follows, the watch time stays.
        merge(
            &mut r,
            &lesson,
            80,
            Report {
                position_seconds: 10,
                watched_seconds: 20,
                sent_at: at(70),
            },
            now,
        );
        assert_eq!((r.position_seconds, r.watched_seconds), (10, 60));
        // Beyond the video's length is its length.
        merge(
            &mut r,
            &lesson,
            80,
            Report {
                position_seconds: 500,
                watched_seconds: 500,
                sent_at: at(90),
            },
            now,
        );
        assert_eq!((r.position_seconds, r.watched_seconds), (100, 100));
        assert_eq!(r.completed_at, Some(now));
    }

    #[test]
    fn done_exactly_at_the_threshold() {
        let lesson = lesson(Some(100));
        let now = Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).unwrap();
        let mut r = row(&lesson);
        merge(
            &mut r,
            &lesson,
            80,
            Report {
                position_seconds: 79,
                watched_seconds: 79,
                sent_at: None,
            },
            now,
        );
        assert!(r.completed_at.is_none());
        merge(
            &mut r,
            &lesson,
            80,
            Report {
                position_seconds: 80,
                watched_seconds: 80,
                sent_at: None,
            },
            now,
        );
        assert_eq!(r.completed_at, Some(now));
    }

    #[test]
    fn a_clock_far_ahead_is_the_servers() {
        let lesson = lesson(None);
        let now = Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).unwrap();
        let mut r = row(&lesson);
        let future = Some(now + Duration::days(365));
        merge(
            &mut r,
            &lesson,
            80,
            Report {
                position_seconds: 5,
                watched_seconds: 5,
                sent_at: future,
            },
            now,
        );
        assert_eq!(r.position_at, Some(now + CLOCK_SKEW));
        // Without a known length a video is not done by watching.
        assert!(r.completed_at.is_none());
    }
}
