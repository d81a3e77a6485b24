//! Quizzes: authored by a course's editors on a lesson, taken by its learners.
//!
//! Each attempt draws its questions from the quiz's pool, in an order of its own, and keeps
//! that layout; the questions a learner sees never carry their answers. Answers are graded
//! on the server, after which the results (and the right answers) are shown. The attempt
//! limit is the `(quiz, user, number)` key — two racing starts cannot both take the last
//! attempt — and the time limit is the attempt's deadline, checked when answers arrive.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use lyceum_tenants::rbac::{Authorized, Verb, action, resource};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use uuid::Uuid;

use super::completion::{self, Evaluation};
use super::lessons;
use super::quiz_rules::{
    self, Graded, Layout, PublicQuestion, QuestionInput, QuestionSpec, Response,
};
use crate::entities::{lessons as lesson_rows, quiz_attempts, quiz_questions, quizzes};
use crate::error::{AppError, AppResult, is_unique_violation};
use crate::ids::{LessonId, QuizAttemptId, QuizId, QuizQuestionId, TenantId, UserId};
use crate::services::now;
use crate::services::tenancy::tenants::{Tenant, ensure_covers};
use crate::state::AppState;

/// Answers may arrive this long after the deadline (the network's share).
const GRACE: Duration = Duration::seconds(2);
/// The largest pool of a quiz.
pub const MAX_QUESTIONS: usize = 200;

/// A quiz's settings and pool as its editors write them.
#[derive(Debug, Clone)]
pub struct QuizInput {
    pub title: String,
    pub pass_percent: u8,
    pub max_attempts: Option<u32>,
    pub time_limit_seconds: Option<u32>,
    pub draw: Option<u32>,
    pub required: bool,
    pub questions: Vec<QuestionInput>,
}

/// A quiz as its editors see it, answers included.
#[derive(Debug, Clone)]
pub struct Authored {
    pub id: QuizId,
    pub lesson: LessonId,
    pub title: String,
    pub pass_percent: u8,
    pub max_attempts: Option<u32>,
    pub time_limit_seconds: Option<u32>,
    pub draw: Option<u32>,
    pub required: bool,
    pub questions: Vec<(QuizQuestionId, QuestionSpec)>,
}

/// What a learner sees of a quiz before starting it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub id: QuizId,
    pub title: String,
    pub pass_percent: u8,
    pub max_attempts: Option<u32>,
    pub time_limit_seconds: Option<u32>,
    pub questions: u32,
    pub required: bool,
    /// Attempts the learner has started.
    pub attempts_used: u32,
    pub best_score: Option<u8>,
    pub passed: bool,
}

/// An attempt in progress: its questions, without answers.
#[derive(Debug, Clone)]
pub struct Started {
    pub attempt: QuizAttemptId,
    pub number: u32,
    pub started_at: DateTime<Utc>,
    pub deadline_at: Option<DateTime<Utc>>,
    pub questions: Vec<PublicQuestion>,
}

/// A graded attempt: the feedback.
#[derive(Debug, Clone)]
pub struct Feedback {
    pub attempt: QuizAttemptId,
    pub number: u32,
    pub passed: bool,
    pub pass_percent: u8,
    pub graded: Graded,
    pub course: Evaluation,
}

/// One of a learner's attempts, as listed.
#[derive(Debug, Clone)]
pub struct AttemptInfo {
    pub id: QuizAttemptId,
    pub number: u32,
    pub started_at: DateTime<Utc>,
    pub deadline_at: Option<DateTime<Utc>>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub score: Option<u8>,
    pub passed: Option<bool>,
}

fn to_u32(v: Option<i32>) -> Option<u32> {
    v.and_then(|v| u32::try_from(v).ok())
}

fn check_input(input: &QuizInput) -> AppResult<Vec<QuestionSpec>> {
    let title = input.title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        return Err(AppError::invalid("title", "must be 1 to 200 characters"));
    }
    if input.pass_percent > 100 {
        return Err(AppError::invalid("pass_percent", "must be 0 to 100"));
    }
    if input.max_attempts.is_some_and(|n| !(1..=100).contains(&n)) {
        return Err(AppError::invalid(
            "max_attempts",
            "must be 1 to 100, or absent for no limit",
        ));
    }
    if input
        .time_limit_seconds
        .is_some_and(|n| !(10..=86_400).contains(&n))
    {
        return Err(AppError::invalid(
            "time_limit_seconds",
            "must be 10 to 86400 seconds, or absent for no limit",
        ));
    }
    if input.questions.is_empty() || input.questions.len() > MAX_QUESTIONS {
        return Err(AppError::invalid(
            "questions",
            format!("a quiz has 1 to {MAX_QUESTIONS} questions"),
        ));
    }
    if input
        .draw
        .is_some_and(|n| n == 0 || n as usize > input.questions.len())
    {
        return Err(AppError::invalid(
            "draw",
            "must be at least 1 and at most the number of questions, or absent for all",
        ));
    }
    input
        .questions
        .iter()
        .enumerate()
        .map(|(i, q)| {
            quiz_rules::author(q.clone())
                .map_err(|e| AppError::invalid(&format!("questions[{i}].{}", e.field), e.message))
        })
        .collect()
}

/// The lesson of the course the editors are working on.
async fn staff_lesson(
    conn: &impl ConnectionTrait,
    tenant: &Tenant,
    lesson: LessonId,
) -> AppResult<lesson_rows::Model> {
    lesson_rows::Entity::find_by_id(lesson)
        .filter(lesson_rows::Column::TenantId.eq(tenant.id))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("lesson"))
}

async fn quiz_of(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    lesson: LessonId,
) -> AppResult<Option<quizzes::Model>> {
    Ok(quizzes::Entity::find()
        .filter(quizzes::Column::TenantId.eq(tenant))
        .filter(quizzes::Column::LessonId.eq(lesson))
        .one(conn)
        .await?)
}

async fn pool(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    quiz: QuizId,
) -> AppResult<Vec<(Uuid, QuestionSpec)>> {
    quiz_questions::Entity::find()
        .filter(quiz_questions::Column::TenantId.eq(tenant))
        .filter(quiz_questions::Column::QuizId.eq(quiz))
        .order_by_asc(quiz_questions::Column::Position)
        .all(conn)
        .await?
        .into_iter()
        .map(|row| {
            let spec: QuestionSpec = serde_json::from_str(&row.spec)
                .map_err(|e| AppError::corrupt_field("quiz question", row.id, "spec", e))?;
            Ok((row.id.into(), spec))
        })
        .collect()
}

/// Sets a lesson's quiz: its settings and its whole pool (questions replaced; attempts in
/// progress are graded on the questions that remain).
pub async fn put(
    state: &AppState,
    auth: &Authorized<resource::Course, action::Update>,
    tenant: &Tenant,
    lesson: LessonId,
    input: QuizInput,
) -> AppResult<Authored> {
    ensure_covers(auth, tenant)?;
    let specs = check_input(&input)?;
    let txn = state.db.begin().await?;
    let lesson = staff_lesson(&txn, tenant, lesson).await?;
    let at = now();
    let existing = quiz_of(&txn, tenant.id, lesson.id).await?;
    let mut row = quizzes::ActiveModel {
        id: Set(existing.as_ref().map_or_else(QuizId::new_v7, |q| q.id)),
        tenant_id: Set(tenant.id),
        course_id: Set(lesson.course_id),
        lesson_id: Set(lesson.id),
        title: Set(input.title.trim().to_owned()),
        pass_percent: Set(i32::from(input.pass_percent)),
        max_attempts: Set(input.max_attempts.and_then(|n| i32::try_from(n).ok())),
        time_limit_seconds: Set(input.time_limit_seconds.and_then(|n| i32::try_from(n).ok())),
        draw: Set(input.draw.and_then(|n| i32::try_from(n).ok())),
        required: Set(input.required),
        created_at: Set(existing.as_ref().map_or(at, |q| q.created_at)),
        updated_at: Set(at),
    };
    let quiz = if existing.is_some() {
        row.created_at = sea_orm::ActiveValue::NotSet;
        row.update(&txn).await?
    } else {
        row.insert(&txn).await?
    };
    quiz_questions::Entity::delete_many()
        .filter(quiz_questions::Column::TenantId.eq(tenant.id))
        .filter(quiz_questions::Column::QuizId.eq(quiz.id))
        .exec(&txn)
        .await?;
    let mut questions = Vec::with_capacity(specs.len());
    for (position, spec) in specs.into_iter().enumerate() {
        let id = QuizQuestionId::new_v7();
        quiz_questions::ActiveModel {
            id: Set(id),
            tenant_id: Set(tenant.id),
            quiz_id: Set(quiz.id),
            position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
            spec: Set(serde_json::to_string(&spec)?),
        }
        .insert(&txn)
        .await?;
        questions.push((id, spec));
    }
    txn.commit().await?;
    Ok(authored(quiz, questions))
}

fn authored(quiz: quizzes::Model, questions: Vec<(QuizQuestionId, QuestionSpec)>) -> Authored {
    Authored {
        id: quiz.id,
        lesson: quiz.lesson_id,
        title: quiz.title,
        pass_percent: u8::try_from(quiz.pass_percent).unwrap_or(100),
        max_attempts: to_u32(quiz.max_attempts),
        time_limit_seconds: to_u32(quiz.time_limit_seconds),
        draw: to_u32(quiz.draw),
        required: quiz.required,
        questions,
    }
}

/// A lesson's quiz with its answers (the course's staff).
pub async fn get_authored(
    state: &AppState,
    auth: &Authorized<resource::Course, action::Read>,
    tenant: &Tenant,
    lesson: LessonId,
) -> AppResult<Authored> {
    ensure_covers(auth, tenant)?;
    let lesson = staff_lesson(&state.db, tenant, lesson).await?;
    let quiz = quiz_of(&state.db, tenant.id, lesson.id)
        .await?
        .ok_or(AppError::NotFound("quiz"))?;
    let questions = pool(&state.db, tenant.id, quiz.id)
        .await?
        .into_iter()
        .map(|(id, spec)| (QuizQuestionId::from(id), spec))
        .collect();
    Ok(authored(quiz, questions))
}

/// Removes a lesson's quiz, its pool and its attempts.
pub async fn delete(
    state: &AppState,
    auth: &Authorized<resource::Course, action::Delete>,
    tenant: &Tenant,
    lesson: LessonId,
) -> AppResult<()> {
    ensure_covers(auth, tenant)?;
    let lesson = staff_lesson(&state.db, tenant, lesson).await?;
    let removed = quizzes::Entity::delete_many()
        .filter(quizzes::Column::TenantId.eq(tenant.id))
        .filter(quizzes::Column::LessonId.eq(lesson.id))
        .exec(&state.db)
        .await?;
    if removed.rows_affected == 0 {
        return Err(AppError::NotFound("quiz"));
    }
    Ok(())
}

/// What a learner sees of a lesson's quiz before starting it; `None` without a quiz.
pub async fn summary(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    lesson: LessonId,
    user: Option<UserId>,
) -> AppResult<Option<Summary>> {
    let Some(quiz) = quiz_of(conn, tenant, lesson).await? else {
        return Ok(None);
    };
    let size = quiz_questions::Entity::find()
        .filter(quiz_questions::Column::TenantId.eq(tenant))
        .filter(quiz_questions::Column::QuizId.eq(quiz.id))
        .count(conn)
        .await?;
    let attempts = match user {
        Some(user) => attempts_of(conn, tenant, quiz.id, user).await?,
        None => Vec::new(),
    };
    let questions = to_u32(quiz.draw).unwrap_or(u32::try_from(size).unwrap_or(u32::MAX));
    Ok(Some(Summary {
        id: quiz.id,
        title: quiz.title,
        pass_percent: u8::try_from(quiz.pass_percent).unwrap_or(100),
        max_attempts: to_u32(quiz.max_attempts),
        time_limit_seconds: to_u32(quiz.time_limit_seconds),
        questions,
        required: quiz.required,
        attempts_used: u32::try_from(attempts.len()).unwrap_or(u32::MAX),
        best_score: attempts.iter().filter_map(|a| a.score).max(),
        passed: attempts.iter().any(|a| a.passed == Some(true)),
    }))
}

async fn attempts_of(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    quiz: QuizId,
    user: UserId,
) -> AppResult<Vec<AttemptInfo>> {
    Ok(quiz_attempts::Entity::find()
        .filter(quiz_attempts::Column::TenantId.eq(tenant))
        .filter(quiz_attempts::Column::QuizId.eq(quiz))
        .filter(quiz_attempts::Column::UserId.eq(user))
        .order_by_asc(quiz_attempts::Column::Number)
        .all(conn)
        .await?
        .into_iter()
        .map(|a| AttemptInfo {
            id: a.id,
            number: u32::try_from(a.number).unwrap_or_default(),
            started_at: a.started_at,
            deadline_at: a.deadline_at,
            submitted_at: a.submitted_at,
            score: a.score.and_then(|s| u8::try_from(s).ok()),
            passed: a.passed,
        })
        .collect())
}

/// The signed-in learner who may open `lesson` (access, draft, drip), and its quiz.
async fn learner_quiz<A: Verb>(
    state: &AppState,
    auth: &Authorized<resource::Learning, A>,
    tenant: &Tenant,
    lesson: LessonId,
) -> AppResult<(UserId, quizzes::Model)> {
    ensure_covers(auth, tenant)?;
    let user = lessons::open(state, auth, tenant.id, lesson)
        .await?
        .user
        .ok_or(AppError::Unauthenticated("sign in to take quizzes"))?;
    let quiz = quiz_of(&state.db, tenant.id, lesson)
        .await?
        .ok_or(AppError::NotFound("quiz"))?;
    Ok((user, quiz))
}

/// The learner's attempts at a lesson's quiz.
pub async fn attempts(
    state: &AppState,
    auth: &Authorized<resource::Learning, action::Read>,
    tenant: &Tenant,
    lesson: LessonId,
) -> AppResult<Vec<AttemptInfo>> {
    let (user, quiz) = learner_quiz(state, auth, tenant, lesson).await?;
    attempts_of(&state.db, tenant.id, quiz.id, user).await
}

fn layout_of(row: &quiz_attempts::Model) -> AppResult<Layout> {
    serde_json::from_str(&row.layout)
        .map_err(|e| AppError::corrupt_field("quiz attempt", row.id, "layout", e))
}

/// Starts an attempt at a lesson's quiz — or returns the one still open, so a reload does not
/// spend an attempt. 409 once every allowed attempt is used.
pub async fn start(
    state: &AppState,
    auth: &Authorized<resource::Learning, action::Create>,
    tenant: &Tenant,
    lesson: LessonId,
) -> AppResult<Started> {
    let (user, quiz) = learner_quiz(state, auth, tenant, lesson).await?;
    let questions = pool(&state.db, tenant.id, quiz.id).await?;
    let at = now();
    let previous = quiz_attempts::Entity::find()
        .filter(quiz_attempts::Column::TenantId.eq(tenant.id))
        .filter(quiz_attempts::Column::QuizId.eq(quiz.id))
        .filter(quiz_attempts::Column::UserId.eq(user))
        .order_by_desc(quiz_attempts::Column::Number)
        .all(&state.db)
        .await?;
    if let Some(open) = previous
        .iter()
        .find(|a| a.submitted_at.is_none() && a.deadline_at.is_none_or(|d| d > at))
    {
        let layout = layout_of(open)?;
        return Ok(started(open, quiz_rules::public_view(&questions, &layout)));
    }
    let used = u32::try_from(previous.len()).unwrap_or(u32::MAX);
    if to_u32(quiz.max_attempts).is_some_and(|max| used >= max) {
        return Err(AppError::conflict(format!(
            "all {used} attempts at this quiz are used"
        )));
    }
    let layout = quiz_rules::draw(&questions, to_u32(quiz.draw), rand::random());
    let row = quiz_attempts::ActiveModel {
        id: Set(QuizAttemptId::new_v7()),
        tenant_id: Set(tenant.id),
        quiz_id: Set(quiz.id),
        user_id: Set(user),
        number: Set(i32::try_from(used + 1).unwrap_or(i32::MAX)),
        layout: Set(serde_json::to_string(&layout)?),
        started_at: Set(at),
        deadline_at: Set(quiz
            .time_limit_seconds
            .map(|s| at + Duration::seconds(i64::from(s)))),
        submitted_at: Set(None),
        score: Set(None),
        passed: Set(None),
        results: Set(None),
    }
    .insert(&state.db)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            AppError::conflict("another attempt was started at the same time; reload the quiz")
        } else {
            e.into()
        }
    })?;
    Ok(started(&row, quiz_rules::public_view(&questions, &layout)))
}

fn started(row: &quiz_attempts::Model, questions: Vec<PublicQuestion>) -> Started {
    Started {
        attempt: row.id,
        number: u32::try_from(row.number).unwrap_or_default(),
        started_at: row.started_at,
        deadline_at: row.deadline_at,
        questions,
    }
}

/// Grades an attempt's answers, once. After the deadline the answers are refused and the
/// attempt is closed as failed (score 0).
pub async fn submit(
    state: &AppState,
    auth: &Authorized<resource::Learning, action::Update>,
    tenant: &Tenant,
    attempt: QuizAttemptId,
    responses: HashMap<Uuid, Response>,
) -> AppResult<Feedback> {
    ensure_covers(auth, tenant)?;
    let user = auth
        .user_id()
        .ok_or(AppError::Unauthenticated("sign in to take quizzes"))?;
    let row = quiz_attempts::Entity::find_by_id(attempt)
        .filter(quiz_attempts::Column::TenantId.eq(tenant.id))
        .filter(quiz_attempts::Column::UserId.eq(user))
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("attempt"))?;
    let quiz = quizzes::Entity::find_by_id(row.quiz_id)
        .filter(quizzes::Column::TenantId.eq(tenant.id))
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("attempt"))?;
    // Access, draft and drip, as for the lesson itself.
    let opened = lessons::open(state, auth, tenant.id, quiz.lesson_id).await?;
    let questions = pool(&state.db, tenant.id, quiz.id).await?;
    if row.submitted_at.is_some() {
        return Err(AppError::conflict("this attempt was already submitted"));
    }
    // Graded before the transaction (patterns are compiled while grading: off the async
    // workers, and holding no connection or lock); the layout never changes.
    let at = now();
    let late = row.deadline_at.filter(|d| at > *d + GRACE);
    let layout = layout_of(&row)?;
    let answers = if late.is_some() {
        HashMap::new()
    } else {
        responses
    };
    let mut graded =
        tokio::task::spawn_blocking(move || quiz_rules::grade(&questions, &layout, &answers))
            .await?;
    let txn = state.db.begin().await?;
    let mut query = quiz_attempts::Entity::find_by_id(attempt)
        .filter(quiz_attempts::Column::TenantId.eq(tenant.id));
    if txn.get_database_backend() == DbBackend::Postgres {
        query = query.lock_exclusive();
    }
    let row = query
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("attempt"))?;
    if row.submitted_at.is_some() {
        return Err(AppError::conflict("this attempt was already submitted"));
    }
    let score = if late.is_some() { 0 } else { graded.score };
    // A layout whose questions were all replaced since grades nothing: not a pass.
    let passed = late.is_none() && graded.total > 0 && i32::from(score) >= quiz.pass_percent;
    // The right answers are shown once they can no longer help: after a pass, or after the
    // last allowed attempt. Until then each result says only whether it was right.
    let number = u32::try_from(row.number).unwrap_or_default();
    let reveal = passed || to_u32(quiz.max_attempts).is_some_and(|max| number >= max);
    if !reveal {
        for result in &mut graded.results {
            result.correct_options.clear();
            result.correct_value = None;
            result.accepted.clear();
            result.explanation = None;
        }
    }
    let mut active: quiz_attempts::ActiveModel = row.clone().into();
    active.submitted_at = Set(Some(at));
    active.score = Set(Some(i32::from(score)));
    active.passed = Set(Some(passed));
    active.results = Set(Some(serde_json::to_string(&graded)?));
    active.update(&txn).await?;
    let course = completion::evaluate(
        &txn,
        &opened.course,
        user,
        Some(quiz.lesson_id),
        opened.decision.access,
        state.settings.public_url.as_str(),
    )
    .await?;
    txn.commit().await?;
    if let Some(deadline) = late {
        return Err(AppError::conflict(format!(
            "the time limit ended at {}; the attempt counts as failed",
            deadline.to_rfc3339()
        )));
    }
    Ok(Feedback {
        attempt: row.id,
        number: u32::try_from(row.number).unwrap_or_default(),
        passed,
        pass_percent: u8::try_from(quiz.pass_percent).unwrap_or(100),
        graded,
        course,
    })
}
