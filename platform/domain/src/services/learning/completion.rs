//! The completion rule, evaluated after every change of a learner's progress.
//!
//! A course is complete when every required lesson is done (a video: the course's
//! `complete_percent` of it watched; text and files: marked done) and every required quiz is
//! passed. The evaluation reads everything it needs afresh, so running it twice changes
//! nothing; the learner's course row is locked while it runs, so two racing changes complete a
//! course once and issue one certificate.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait,
    QueryFilter, QuerySelect,
};

use crate::entities::{course_progress, lesson_progress, lessons, quiz_attempts, quizzes};
use crate::error::{AppError, AppResult};
use crate::ids::{CourseProgressId, LessonId, UserId};
use crate::services::catalog::Course;
use crate::services::certificates;
use crate::services::now;

/// Whether `watched` of `length` seconds meets `threshold` percent.
pub fn watched_enough(watched: u32, length: u32, threshold: u8) -> bool {
    u64::from(watched) * 100 >= u64::from(length) * u64::from(threshold)
}

/// A learner's standing in a course after an evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    /// Done share of what the rule counts, rounded down.
    pub percent: u8,
    /// When the rule first held.
    pub completed_at: Option<DateTime<Utc>>,
    pub last_lesson: Option<LessonId>,
    /// The certificate's verification code, once issued.
    pub certificate: Option<String>,
}

/// What the rule counts, and how much of it is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tally {
    done: usize,
    total: usize,
}

impl Tally {
    fn percent(self) -> u8 {
        if self.total == 0 {
            return 0;
        }
        u8::try_from(self.done.min(self.total) * 100 / self.total).unwrap_or(100)
    }

    fn complete(self) -> bool {
        self.total > 0 && self.done >= self.total
    }
}

/// Re-evaluates `user`'s standing in `course` inside the caller's transaction: percent, last
/// lesson (when one is given), and — the first time the rule holds for a learner with live
/// access — completion and the certificate (issued together: a course is never complete
/// without its certificate).
///
/// Only a learner with access completes a course: progress on a free preview, or made after a
/// refund, is kept but never completes it.
pub async fn evaluate(
    conn: &impl ConnectionTrait,
    course: &Course,
    user: UserId,
    last_lesson: Option<LessonId>,
    has_access: bool,
    public_url: &str,
) -> AppResult<Evaluation> {
    let row = lock_row(conn, course, user).await?;
    let tally = tally(conn, course, user).await?;
    let mut certificate = certificates::of(conn, course.tenant_id, user, course.id).await?;
    if has_access && tally.complete() && certificate.is_none() {
        // `None` when the access it would stand on is gone: then it is not complete yet.
        certificate = certificates::issue(conn, course, user, public_url).await?;
    }
    let at = now();
    let mut active: course_progress::ActiveModel = row.clone().into();
    active.percent = Set(i32::from(tally.percent()));
    if let Some(lesson) = last_lesson {
        active.last_lesson_id = Set(Some(lesson));
    }
    if row.completed_at.is_none() && certificate.is_some() {
        active.completed_at = Set(Some(at));
    }
    active.updated_at = Set(at);
    let row = active.update(conn).await?;
    let certificate = certificate.map(|c| c.code);
    Ok(Evaluation {
        percent: u8::try_from(row.percent).unwrap_or_default(),
        completed_at: row.completed_at,
        last_lesson: row.last_lesson_id,
        certificate,
    })
}

/// The learner's row for the course, made on first use and locked (PostgreSQL; SQLite has one
/// writer) for the rest of the transaction.
async fn lock_row(
    conn: &impl ConnectionTrait,
    course: &Course,
    user: UserId,
) -> AppResult<course_progress::Model> {
    course_progress::Entity::insert(course_progress::ActiveModel {
        id: Set(CourseProgressId::new_v7()),
        tenant_id: Set(course.tenant_id),
        user_id: Set(user),
        course_id: Set(course.id),
        percent: Set(0),
        last_lesson_id: Set(None),
        completed_at: Set(None),
        updated_at: Set(now()),
    })
    .on_conflict(
        OnConflict::columns([
            course_progress::Column::TenantId,
            course_progress::Column::UserId,
            course_progress::Column::CourseId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    let mut query = course_progress::Entity::find()
        .filter(course_progress::Column::TenantId.eq(course.tenant_id))
        .filter(course_progress::Column::UserId.eq(user))
        .filter(course_progress::Column::CourseId.eq(course.id));
    if conn.get_database_backend() == DbBackend::Postgres {
        query = query.lock_exclusive();
    }
    query
        .one(conn)
        .await?
        .ok_or(AppError::Internal("course progress vanished"))
}

/// Counts the required lessons and quizzes of the course and those the learner has done.
/// A course that marks nothing required counts everything.
async fn tally(conn: &impl ConnectionTrait, course: &Course, user: UserId) -> AppResult<Tally> {
    let lesson_rows: Vec<(LessonId, bool)> = lessons::Entity::find()
        .select_only()
        .column(lessons::Column::Id)
        .column(lessons::Column::Required)
        .filter(lessons::Column::TenantId.eq(course.tenant_id))
        .filter(lessons::Column::CourseId.eq(course.id))
        .into_tuple()
        .all(conn)
        .await?;
    let done_lessons: HashSet<LessonId> = lesson_progress::Entity::find()
        .select_only()
        .column(lesson_progress::Column::LessonId)
        .filter(lesson_progress::Column::TenantId.eq(course.tenant_id))
        .filter(lesson_progress::Column::UserId.eq(user))
        .filter(lesson_progress::Column::CourseId.eq(course.id))
        .filter(lesson_progress::Column::CompletedAt.is_not_null())
        .into_tuple()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let quiz_rows: Vec<(crate::ids::QuizId, bool)> = quizzes::Entity::find()
        .select_only()
        .column(quizzes::Column::Id)
        .column(quizzes::Column::Required)
        .filter(quizzes::Column::TenantId.eq(course.tenant_id))
        .filter(quizzes::Column::CourseId.eq(course.id))
        .into_tuple()
        .all(conn)
        .await?;
    let passed: HashSet<crate::ids::QuizId> = if quiz_rows.is_empty() {
        HashSet::new()
    } else {
        quiz_attempts::Entity::find()
            .select_only()
            .column(quiz_attempts::Column::QuizId)
            .filter(quiz_attempts::Column::TenantId.eq(course.tenant_id))
            .filter(quiz_attempts::Column::UserId.eq(user))
            .filter(quiz_attempts::Column::QuizId.is_in(quiz_rows.iter().map(|(id, _)| *id)))
            .filter(quiz_attempts::Column::Passed.eq(true))
            .into_tuple()
            .all(conn)
            .await?
            .into_iter()
            .collect()
    };
    let any_required = lesson_rows.iter().any(|(_, r)| *r) || quiz_rows.iter().any(|(_, r)| *r);
    let counts = |required: bool| required || !any_required;
    let lessons_counted = lesson_rows.iter().filter(|(_, r)| counts(*r));
    let quizzes_counted = quiz_rows.iter().filter(|(_, r)| counts(*r));
    let mut tally = Tally { done: 0, total: 0 };
    for (id, _) in lessons_counted {
        tally.total += 1;
        tally.done += usize::from(done_lessons.contains(id));
    }
    for (id, _) in quizzes_counted {
        tally.total += 1;
        tally.done += usize::from(passed.contains(id));
    }
    Ok(tally)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_threshold_is_inclusive() {
        assert!(watched_enough(80, 100, 80));
        assert!(!watched_enough(79, 100, 80));
        assert!(watched_enough(8, 10, 80));
        assert!(!watched_enough(0, 1, 1));
        assert!(watched_enough(u32::MAX, u32::MAX, 100));
    }

    #[test]
    fn percent_rounds_down_and_nothing_counted_is_not_complete() {
        assert_eq!(Tally { done: 2, total: 3 }.percent(), 66);
        assert_eq!(Tally { done: 0, total: 0 }.percent(), 0);
        assert!(!Tally { done: 0, total: 0 }.complete());
        assert!(Tally { done: 3, total: 3 }.complete());
    }
}
