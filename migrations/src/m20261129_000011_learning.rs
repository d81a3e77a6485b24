//! Learning: what students do once they have access.
//!
//! - `lessons` gain `required` (counted by the course's completion rule), drip settings
//!   (`drip_days` after the learner's access starts, or a date `drip_at`) and the video's
//!   `duration_seconds`; `courses` gain `complete_percent`, how much of a required video
//!   counts as watched.
//! - `lesson_chapters`: titled start points of a video lesson.
//! - `transcodes`: one per lesson video: the background job turning the uploaded file into HLS
//!   renditions under `hls_prefix` (`queued`, `processing`, `ready`, `failed` with a reason),
//!   leased by one worker at a time.
//! - `lesson_progress`: per learner and lesson — resume position (the latest the player sent,
//!   by its own clock), watched seconds (only ever grows), and when it was done.
//! - `course_progress`: per learner and course — percent, the last lesson opened, and when
//!   the completion rule first held.
//! - `quizzes` (one per lesson at most), `quiz_questions` (the pool, each a JSON document),
//!   `quiz_attempts` (the layout drawn for the attempt, its deadline, grade and per-question
//!   results; `(quiz, user, number)` unique, so two racing starts cannot both take the last
//!   allowed attempt).
//! - `certificates`: issued once per learner and course, with a public verification `code`;
//!   `entitlement_id` is the access it was earned under (revoked when that is refunded).

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000001_accounts::Users;
use crate::m20261123_000004_commerce::{same_tenant, tenant_fk, unique_tenant_id};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Courses {
    Table,
    CompletePercent,
}

#[derive(DeriveIden)]
enum Lessons {
    Table,
    Required,
    DripDays,
    DripAt,
    DurationSeconds,
}

#[derive(DeriveIden)]
enum Entitlements {
    Table,
}

#[derive(DeriveIden)]
enum LessonChapters {
    Table,
    Id,
    TenantId,
    LessonId,
    Position,
    Title,
    StartSecond,
}

#[derive(DeriveIden)]
enum Transcodes {
    Table,
    Id,
    TenantId,
    LessonId,
    SourceKey,
    Status,
    Reason,
    Attempts,
    LeaseUntil,
    HlsPrefix,
    Renditions,
    CreatedAt,
    StartedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum LessonProgress {
    Table,
    Id,
    TenantId,
    UserId,
    CourseId,
    LessonId,
    PositionSeconds,
    PositionAt,
    WatchedSeconds,
    FirstSeenAt,
    CompletedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CourseProgress {
    Table,
    Id,
    TenantId,
    UserId,
    CourseId,
    Percent,
    LastLessonId,
    CompletedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Quizzes {
    Table,
    Id,
    TenantId,
    CourseId,
    LessonId,
    Title,
    PassPercent,
    MaxAttempts,
    TimeLimitSeconds,
    Draw,
    Required,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum QuizQuestions {
    Table,
    Id,
    TenantId,
    QuizId,
    Position,
    Spec,
}

#[derive(DeriveIden)]
enum QuizAttempts {
    Table,
    Id,
    TenantId,
    QuizId,
    UserId,
    Number,
    Layout,
    StartedAt,
    DeadlineAt,
    SubmittedAt,
    Score,
    Passed,
    Results,
}

#[derive(DeriveIden)]
enum Certificates {
    Table,
    Id,
    TenantId,
    UserId,
    CourseId,
    EntitlementId,
    Code,
    StudentName,
    CourseTitle,
    IssuedAt,
    PdfKey,
}

fn user_fk(table: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, Alias::new("user_id"))
        .to(Users::Table, Users::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn lesson_fk(table: impl IntoIden) -> ForeignKeyCreateStatement {
    same_tenant(
        table,
        Alias::new("lesson_id"),
        Lessons::Table,
        ForeignKeyAction::Cascade,
    )
}

fn course_fk(table: impl IntoIden, on_delete: ForeignKeyAction) -> ForeignKeyCreateStatement {
    same_tenant(table, Alias::new("course_id"), Courses::Table, on_delete)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        for column in [
            boolean(Lessons::Required).default(true).to_owned(),
            integer_null(Lessons::DripDays)
                .check(Expr::col(Lessons::DripDays).between(1, 3650))
                .to_owned(),
            timestamp_with_time_zone_null(Lessons::DripAt).to_owned(),
            integer_null(Lessons::DurationSeconds)
                .check(Expr::col(Lessons::DurationSeconds).gte(0))
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Lessons::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Courses::Table)
                    .add_column(
                        integer(Courses::CompletePercent)
                            .default(80)
                            .check(Expr::col(Courses::CompletePercent).between(1, 100)),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LessonChapters::Table)
                    .col(uuid(LessonChapters::Id).primary_key())
                    .col(uuid(LessonChapters::TenantId))
                    .col(uuid(LessonChapters::LessonId))
                    .col(integer(LessonChapters::Position))
                    .col(string_len(LessonChapters::Title, 200))
                    .col(
                        integer(LessonChapters::StartSecond)
                            .check(Expr::col(LessonChapters::StartSecond).gte(0)),
                    )
                    .foreign_key(&mut tenant_fk(LessonChapters::Table))
                    .foreign_key(&mut lesson_fk(LessonChapters::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_lesson_chapters_lesson")
                    .table(LessonChapters::Table)
                    .col(LessonChapters::TenantId)
                    .col(LessonChapters::LessonId)
                    .col(LessonChapters::Position)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Transcodes::Table)
                    .col(uuid(Transcodes::Id).primary_key())
                    .col(uuid(Transcodes::TenantId))
                    .col(uuid(Transcodes::LessonId))
                    .col(string_len(Transcodes::SourceKey, 512))
                    .col(string_len(Transcodes::Status, 12).check(
                        Expr::col(Transcodes::Status).is_in([
                            "queued",
                            "processing",
                            "ready",
                            "failed",
                        ]),
                    ))
                    .col(text_null(Transcodes::Reason))
                    .col(integer(Transcodes::Attempts).default(0))
                    .col(timestamp_with_time_zone_null(Transcodes::LeaseUntil))
                    .col(string_len_null(Transcodes::HlsPrefix, 512))
                    .col(text_null(Transcodes::Renditions))
                    .col(timestamp_with_time_zone(Transcodes::CreatedAt))
                    .col(timestamp_with_time_zone_null(Transcodes::StartedAt))
                    .col(timestamp_with_time_zone_null(Transcodes::FinishedAt))
                    .index(
                        Index::create()
                            .name("uq_transcodes_lesson")
                            .unique()
                            .col(Transcodes::TenantId)
                            .col(Transcodes::LessonId),
                    )
                    .foreign_key(&mut tenant_fk(Transcodes::Table))
                    .foreign_key(&mut lesson_fk(Transcodes::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_transcodes_status")
                    .table(Transcodes::Table)
                    .col(Transcodes::Status)
                    .col(Transcodes::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LessonProgress::Table)
                    .col(uuid(LessonProgress::Id).primary_key())
                    .col(uuid(LessonProgress::TenantId))
                    .col(uuid(LessonProgress::UserId))
                    .col(uuid(LessonProgress::CourseId))
                    .col(uuid(LessonProgress::LessonId))
                    .col(integer(LessonProgress::PositionSeconds).default(0))
                    .col(timestamp_with_time_zone_null(LessonProgress::PositionAt))
                    .col(integer(LessonProgress::WatchedSeconds).default(0))
                    .col(timestamp_with_time_zone(LessonProgress::FirstSeenAt))
                    .col(timestamp_with_time_zone_null(LessonProgress::CompletedAt))
                    .col(timestamp_with_time_zone(LessonProgress::UpdatedAt))
                    .index(
                        Index::create()
                            .name("uq_lesson_progress_user_lesson")
                            .unique()
                            .col(LessonProgress::TenantId)
                            .col(LessonProgress::UserId)
                            .col(LessonProgress::LessonId),
                    )
                    .foreign_key(&mut tenant_fk(LessonProgress::Table))
                    .foreign_key(&mut user_fk(LessonProgress::Table))
                    .foreign_key(&mut lesson_fk(LessonProgress::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_lesson_progress_course")
                    .table(LessonProgress::Table)
                    .col(LessonProgress::TenantId)
                    .col(LessonProgress::UserId)
                    .col(LessonProgress::CourseId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CourseProgress::Table)
                    .col(uuid(CourseProgress::Id).primary_key())
                    .col(uuid(CourseProgress::TenantId))
                    .col(uuid(CourseProgress::UserId))
                    .col(uuid(CourseProgress::CourseId))
                    .col(
                        integer(CourseProgress::Percent)
                            .default(0)
                            .check(Expr::col(CourseProgress::Percent).between(0, 100)),
                    )
                    .col(uuid_null(CourseProgress::LastLessonId))
                    .col(timestamp_with_time_zone_null(CourseProgress::CompletedAt))
                    .col(timestamp_with_time_zone(CourseProgress::UpdatedAt))
                    .index(
                        Index::create()
                            .name("uq_course_progress_user_course")
                            .unique()
                            .col(CourseProgress::TenantId)
                            .col(CourseProgress::UserId)
                            .col(CourseProgress::CourseId),
                    )
                    .foreign_key(&mut tenant_fk(CourseProgress::Table))
                    .foreign_key(&mut user_fk(CourseProgress::Table))
                    .foreign_key(&mut course_fk(
                        CourseProgress::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_course_progress_user")
                    .table(CourseProgress::Table)
                    .col(CourseProgress::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Quizzes::Table)
                    .col(uuid(Quizzes::Id).primary_key())
                    .col(uuid(Quizzes::TenantId))
                    .col(uuid(Quizzes::CourseId))
                    .col(uuid(Quizzes::LessonId))
                    .col(string_len(Quizzes::Title, 200))
                    .col(
                        integer(Quizzes::PassPercent)
                            .default(70)
                            .check(Expr::col(Quizzes::PassPercent).between(0, 100)),
                    )
                    .col(
                        integer_null(Quizzes::MaxAttempts)
                            .check(Expr::col(Quizzes::MaxAttempts).between(1, 100)),
                    )
                    .col(
                        integer_null(Quizzes::TimeLimitSeconds)
                            .check(Expr::col(Quizzes::TimeLimitSeconds).between(10, 86_400)),
                    )
                    .col(
                        integer_null(Quizzes::Draw).check(Expr::col(Quizzes::Draw).between(1, 200)),
                    )
                    .col(boolean(Quizzes::Required).default(true))
                    .col(timestamp_with_time_zone(Quizzes::CreatedAt))
                    .col(timestamp_with_time_zone(Quizzes::UpdatedAt))
                    .index(&mut unique_tenant_id("uq_quizzes_tenant_id"))
                    .index(
                        Index::create()
                            .name("uq_quizzes_lesson")
                            .unique()
                            .col(Quizzes::TenantId)
                            .col(Quizzes::LessonId),
                    )
                    .foreign_key(&mut tenant_fk(Quizzes::Table))
                    .foreign_key(&mut lesson_fk(Quizzes::Table))
                    .foreign_key(&mut course_fk(Quizzes::Table, ForeignKeyAction::Cascade))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(QuizQuestions::Table)
                    .col(uuid(QuizQuestions::Id).primary_key())
                    .col(uuid(QuizQuestions::TenantId))
                    .col(uuid(QuizQuestions::QuizId))
                    .col(integer(QuizQuestions::Position))
                    .col(text(QuizQuestions::Spec))
                    .foreign_key(&mut tenant_fk(QuizQuestions::Table))
                    .foreign_key(&mut same_tenant(
                        QuizQuestions::Table,
                        QuizQuestions::QuizId,
                        Quizzes::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_quiz_questions_quiz")
                    .table(QuizQuestions::Table)
                    .col(QuizQuestions::TenantId)
                    .col(QuizQuestions::QuizId)
                    .col(QuizQuestions::Position)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(QuizAttempts::Table)
                    .col(uuid(QuizAttempts::Id).primary_key())
                    .col(uuid(QuizAttempts::TenantId))
                    .col(uuid(QuizAttempts::QuizId))
                    .col(uuid(QuizAttempts::UserId))
                    .col(
                        integer(QuizAttempts::Number).check(Expr::col(QuizAttempts::Number).gte(1)),
                    )
                    .col(text(QuizAttempts::Layout))
                    .col(timestamp_with_time_zone(QuizAttempts::StartedAt))
                    .col(timestamp_with_time_zone_null(QuizAttempts::DeadlineAt))
                    .col(timestamp_with_time_zone_null(QuizAttempts::SubmittedAt))
                    .col(
                        integer_null(QuizAttempts::Score)
                            .check(Expr::col(QuizAttempts::Score).between(0, 100)),
                    )
                    .col(boolean_null(QuizAttempts::Passed))
                    .col(text_null(QuizAttempts::Results))
                    .index(
                        Index::create()
                            .name("uq_quiz_attempts_number")
                            .unique()
                            .col(QuizAttempts::TenantId)
                            .col(QuizAttempts::QuizId)
                            .col(QuizAttempts::UserId)
                            .col(QuizAttempts::Number),
                    )
                    .foreign_key(&mut tenant_fk(QuizAttempts::Table))
                    .foreign_key(&mut user_fk(QuizAttempts::Table))
                    .foreign_key(&mut same_tenant(
                        QuizAttempts::Table,
                        QuizAttempts::QuizId,
                        Quizzes::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Certificates::Table)
                    .col(uuid(Certificates::Id).primary_key())
                    .col(uuid(Certificates::TenantId))
                    .col(uuid(Certificates::UserId))
                    .col(uuid(Certificates::CourseId))
                    .col(uuid_null(Certificates::EntitlementId))
                    .col(string_len(Certificates::Code, 32).unique_key())
                    .col(string_len(Certificates::StudentName, 254))
                    .col(string_len(Certificates::CourseTitle, 200))
                    .col(timestamp_with_time_zone(Certificates::IssuedAt))
                    .col(string_len_null(Certificates::PdfKey, 512))
                    .index(
                        Index::create()
                            .name("uq_certificates_user_course")
                            .unique()
                            .col(Certificates::TenantId)
                            .col(Certificates::UserId)
                            .col(Certificates::CourseId),
                    )
                    .foreign_key(&mut tenant_fk(Certificates::Table))
                    .foreign_key(&mut user_fk(Certificates::Table))
                    .foreign_key(&mut course_fk(
                        Certificates::Table,
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut same_tenant(
                        Certificates::Table,
                        Certificates::EntitlementId,
                        Entitlements::Table,
                        ForeignKeyAction::NoAction,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_certificates_user")
                    .table(Certificates::Table)
                    .col(Certificates::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Certificates::Table.into_iden(),
            QuizAttempts::Table.into_iden(),
            QuizQuestions::Table.into_iden(),
            Quizzes::Table.into_iden(),
            CourseProgress::Table.into_iden(),
            LessonProgress::Table.into_iden(),
            Transcodes::Table.into_iden(),
            LessonChapters::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Courses::Table)
                    .drop_column(Courses::CompletePercent)
                    .to_owned(),
            )
            .await?;
        for column in [
            Lessons::Required.into_iden(),
            Lessons::DripDays.into_iden(),
            Lessons::DripAt.into_iden(),
            Lessons::DurationSeconds.into_iden(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Lessons::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
