//! Studying: the lesson page, progress reports, "done", quiz attempts, the learner's
//! dashboard, and certificates (public, by code).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use lyceum_tenants::rbac::{action, resource};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::{Binary, Json};
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::authoring::ChapterBody;
use super::{ApiTags, in_platform, in_storefront, own_account};
use crate::auth::{Auth, MaybeAuth};
use crate::problem::ApiResult;
use lyceum_domain::error::AppError;
use lyceum_domain::services::certificates::{self, Verified};
use lyceum_domain::services::learning::completion::Evaluation;
use lyceum_domain::services::learning::dashboard;
use lyceum_domain::services::learning::progress::{self, LessonState, Recorded, Report};
use lyceum_domain::services::learning::quiz_rules::{PublicQuestion, Response};
use lyceum_domain::services::learning::quizzes::{self, AttemptInfo, Feedback, Started, Summary};
use lyceum_domain::state::AppState;

/// A learner's progress in a lesson.
#[derive(Debug, Object)]
pub struct LessonProgressBody {
    /// Where to resume, in seconds.
    pub position_seconds: u32,
    pub watched_seconds: u32,
    #[oai(skip_serializing_if_is_none)]
    pub completed_at: Option<DateTime<Utc>>,
}

impl From<LessonState> for LessonProgressBody {
    fn from(s: LessonState) -> Self {
        Self {
            position_seconds: s.position_seconds,
            watched_seconds: s.watched_seconds,
            completed_at: s.completed_at,
        }
    }
}

/// A learner's standing in a course.
#[derive(Debug, Object)]
pub struct CourseProgressBody {
    pub percent: u8,
    #[oai(skip_serializing_if_is_none)]
    pub completed_at: Option<DateTime<Utc>>,
    #[oai(skip_serializing_if_is_none)]
    pub last_lesson: Option<Uuid>,
    /// The certificate's verification code, once issued.
    #[oai(skip_serializing_if_is_none)]
    pub certificate: Option<String>,
}

impl From<Evaluation> for CourseProgressBody {
    fn from(e: Evaluation) -> Self {
        Self {
            percent: e.percent,
            completed_at: e.completed_at,
            last_lesson: e.last_lesson.map(Into::into),
            certificate: e.certificate,
        }
    }
}

/// A lesson's progress after a change, and the course's.
#[derive(Debug, Object)]
pub struct RecordedBody {
    pub lesson: LessonProgressBody,
    pub course: CourseProgressBody,
}

impl From<Recorded> for RecordedBody {
    fn from(r: Recorded) -> Self {
        Self {
            lesson: r.lesson.into(),
            course: r.course.into(),
        }
    }
}

/// What the player reports.
#[derive(Debug, Object)]
pub struct ProgressRequest {
    /// Where playback is now, in seconds.
    pub position_seconds: u32,
    /// Seconds of the lesson watched in all.
    pub watched_seconds: u32,
    /// The player's clock when it made the report: an older report never moves the resume
    /// position. Absent: now.
    pub sent_at: Option<DateTime<Utc>>,
}

/// A quiz as a learner sees it before starting.
#[derive(Debug, Object)]
pub struct QuizSummaryBody {
    pub id: Uuid,
    pub title: String,
    pub pass_percent: u8,
    #[oai(skip_serializing_if_is_none)]
    pub max_attempts: Option<u32>,
    #[oai(skip_serializing_if_is_none)]
    pub time_limit_seconds: Option<u32>,
    /// Questions per attempt.
    pub questions: u32,
    pub required: bool,
    pub attempts_used: u32,
    #[oai(skip_serializing_if_is_none)]
    pub best_score: Option<u8>,
    pub passed: bool,
}

impl From<Summary> for QuizSummaryBody {
    fn from(s: Summary) -> Self {
        Self {
            id: s.id.into(),
            title: s.title,
            pass_percent: s.pass_percent,
            max_attempts: s.max_attempts,
            time_limit_seconds: s.time_limit_seconds,
            questions: s.questions,
            required: s.required,
            attempts_used: s.attempts_used,
            best_score: s.best_score,
            passed: s.passed,
        }
    }
}

/// A lesson as its learner studies it.
#[derive(Debug, Object)]
pub struct LessonPageBody {
    pub id: Uuid,
    pub course: String,
    pub title: String,
    /// `video`, `text` or `file`.
    pub kind: String,
    pub free_preview: bool,
    pub required: bool,
    /// The lesson's Markdown, rendered and sanitised.
    #[oai(skip_serializing_if_is_none)]
    pub html: Option<String>,
    pub has_asset: bool,
    #[oai(skip_serializing_if_is_none)]
    pub duration_seconds: Option<u32>,
    pub chapters: Vec<ChapterBody>,
    #[oai(skip_serializing_if_is_none)]
    pub progress: Option<LessonProgressBody>,
    #[oai(skip_serializing_if_is_none)]
    pub quiz: Option<QuizSummaryBody>,
    /// When the learner's access ends; absent for lifetime access.
    #[oai(skip_serializing_if_is_none)]
    pub access_expires_at: Option<DateTime<Utc>>,
}

/// One option of a question, as shown.
#[derive(Debug, Object)]
pub struct OptionBody {
    pub id: Uuid,
    pub text: String,
}

/// A question as shown during an attempt: never its answer.
#[derive(Debug, Object)]
pub struct QuestionBody {
    pub id: Uuid,
    /// `single`, `multiple`, `true_false` or `short_text`.
    pub kind: String,
    pub prompt: String,
    pub options: Vec<OptionBody>,
}

impl From<PublicQuestion> for QuestionBody {
    fn from(q: PublicQuestion) -> Self {
        Self {
            id: q.id,
            kind: q.kind.to_owned(),
            prompt: q.prompt,
            options: q
                .options
                .into_iter()
                .map(|o| OptionBody {
                    id: o.id,
                    text: o.text,
                })
                .collect(),
        }
    }
}

/// An attempt in progress.
#[derive(Debug, Object)]
pub struct AttemptBody {
    pub id: Uuid,
    pub number: u32,
    pub started_at: DateTime<Utc>,
    /// Answers are refused after it.
    #[oai(skip_serializing_if_is_none)]
    pub deadline_at: Option<DateTime<Utc>>,
    pub questions: Vec<QuestionBody>,
}

impl From<Started> for AttemptBody {
    fn from(s: Started) -> Self {
        Self {
            id: s.attempt.into(),
            number: s.number,
            started_at: s.started_at,
            deadline_at: s.deadline_at,
            questions: s.questions.into_iter().map(Into::into).collect(),
        }
    }
}

/// One of a learner's attempts.
#[derive(Debug, Object)]
pub struct AttemptInfoBody {
    pub id: Uuid,
    pub number: u32,
    pub started_at: DateTime<Utc>,
    #[oai(skip_serializing_if_is_none)]
    pub deadline_at: Option<DateTime<Utc>>,
    #[oai(skip_serializing_if_is_none)]
    pub submitted_at: Option<DateTime<Utc>>,
    #[oai(skip_serializing_if_is_none)]
    pub score: Option<u8>,
    #[oai(skip_serializing_if_is_none)]
    pub passed: Option<bool>,
}

impl From<AttemptInfo> for AttemptInfoBody {
    fn from(a: AttemptInfo) -> Self {
        Self {
            id: a.id.into(),
            number: a.number,
            started_at: a.started_at,
            deadline_at: a.deadline_at,
            submitted_at: a.submitted_at,
            score: a.score,
            passed: a.passed,
        }
    }
}

/// One answer: `{question, kind: "single", option}`, `{question, kind: "multiple",
/// options: [..]}`, `{question, kind: "true_false", value}` or `{question, kind:
/// "short_text", text}`.
#[derive(Debug, Object)]
pub struct AnswersRequest {
    pub answers: Vec<serde_json::Value>,
}

/// The result of one question, with the right answer.
#[derive(Debug, Object)]
pub struct QuestionResultBody {
    pub question: Uuid,
    pub correct: bool,
    /// Choice questions: the correct options.
    pub correct_options: Vec<Uuid>,
    /// True/false questions: the right value.
    #[oai(skip_serializing_if_is_none)]
    pub correct_value: Option<bool>,
    /// Short-text questions with exact answers: what is accepted.
    pub accepted: Vec<String>,
    #[oai(skip_serializing_if_is_none)]
    pub explanation: Option<String>,
}

/// A graded attempt.
#[derive(Debug, Object)]
pub struct FeedbackBody {
    pub attempt: Uuid,
    pub number: u32,
    pub score: u8,
    pub correct: u32,
    pub total: u32,
    pub pass_percent: u8,
    pub passed: bool,
    pub results: Vec<QuestionResultBody>,
    pub course: CourseProgressBody,
}

impl From<Feedback> for FeedbackBody {
    fn from(f: Feedback) -> Self {
        Self {
            attempt: f.attempt.into(),
            number: f.number,
            score: f.graded.score,
            correct: f.graded.correct,
            total: f.graded.total,
            pass_percent: f.pass_percent,
            passed: f.passed,
            results: f
                .graded
                .results
                .into_iter()
                .map(|r| QuestionResultBody {
                    question: r.question,
                    correct: r.correct,
                    correct_options: r.correct_options,
                    correct_value: r.correct_value,
                    accepted: r.accepted,
                    explanation: r.explanation,
                })
                .collect(),
            course: f.course.into(),
        }
    }
}

/// A course on the learner's dashboard.
#[derive(Debug, Object)]
pub struct EnrolledBody {
    pub tenant: String,
    pub tenant_name: String,
    pub course: String,
    pub course_title: String,
    /// `active`, `free`, `suspended`, `expired` or `revoked`.
    pub access: String,
    #[oai(skip_serializing_if_is_none)]
    pub expires_at: Option<DateTime<Utc>>,
    pub percent: u8,
    #[oai(skip_serializing_if_is_none)]
    pub last_lesson: Option<Uuid>,
    #[oai(skip_serializing_if_is_none)]
    pub last_lesson_title: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub completed_at: Option<DateTime<Utc>>,
    /// The certificate's verification code.
    #[oai(skip_serializing_if_is_none)]
    pub certificate: Option<String>,
}

/// A certificate as anyone with its code sees it.
#[derive(Debug, Object)]
pub struct CertificateBody {
    pub code: String,
    pub student: String,
    pub course: String,
    pub course_slug: String,
    pub tenant: String,
    pub tenant_name: String,
    pub issued_at: DateTime<Utc>,
    /// `valid`; `suspended` while the access it was earned under is disputed; `revoked` once
    /// that access was refunded or lost in a dispute.
    pub status: String,
    pub url: String,
}

impl From<Verified> for CertificateBody {
    fn from(v: Verified) -> Self {
        Self {
            code: v.code,
            student: v.student,
            course: v.course,
            course_slug: v.course_slug,
            tenant: v.storefront_slug,
            tenant_name: v.storefront,
            issued_at: v.issued_at,
            status: v.standing.as_str().to_owned(),
            url: v.url,
        }
    }
}

#[derive(Debug, ApiResponse)]
pub(super) enum LessonPageResponse {
    #[oai(status = 200)]
    Ok(Json<LessonPageBody>),
}

#[derive(Debug, ApiResponse)]
enum RecordedResponse {
    #[oai(status = 200)]
    Ok(Json<RecordedBody>),
}

#[derive(Debug, ApiResponse)]
enum AttemptResponse {
    #[oai(status = 201)]
    Created(Json<AttemptBody>),
}

#[derive(Debug, ApiResponse)]
enum AttemptsResponse {
    #[oai(status = 200)]
    Ok(Json<Vec<AttemptInfoBody>>),
}

#[derive(Debug, ApiResponse)]
enum FeedbackResponse {
    #[oai(status = 200)]
    Ok(Json<FeedbackBody>),
}

#[derive(Debug, ApiResponse)]
enum DashboardResponse {
    #[oai(status = 200)]
    Ok(Json<Vec<EnrolledBody>>),
}

#[derive(Debug, ApiResponse)]
enum CertificateResponse {
    #[oai(status = 200)]
    Ok(Json<CertificateBody>),
}

#[derive(Debug, ApiResponse)]
enum CertificatesResponse {
    #[oai(status = 200)]
    Ok(Json<Vec<CertificateBody>>),
}

#[derive(Debug, ApiResponse)]
enum PdfResponse {
    #[oai(status = 200, content_type = "application/pdf")]
    Ok(Binary<Vec<u8>>),
}

/// Studying.
#[derive(Debug)]
pub struct StudyApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Catalog")]
impl StudyApi {
    /// Report playback of a lesson: watched seconds only grow, the resume position follows
    /// the latest report by the player's clock; a video is done once the course's share of it
    /// is watched.
    #[oai(
        path = "/tenants/:tenant/lessons/:lesson/progress",
        method = "put",
        operation_id = "report_lesson_progress"
    )]
    async fn report_lesson_progress(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        lesson: Path<Uuid>,
        Json(body): Json<ProgressRequest>,
    ) -> ApiResult<RecordedResponse> {
        let (tenant, proof) =
            in_storefront::<resource::Learning, action::Update>(state, &auth.principal(), &tenant)
                .await?;
        let report = Report {
            position_seconds: body.position_seconds,
            watched_seconds: body.watched_seconds,
            sent_at: body.sent_at,
        };
        let recorded = progress::record(state, &proof, &tenant, lesson.0.into(), report).await?;
        Ok(RecordedResponse::Ok(Json(recorded.into())))
    }

    /// Mark a text or file lesson done (a video only when its length is unknown).
    #[oai(
        path = "/tenants/:tenant/lessons/:lesson/done",
        method = "post",
        operation_id = "complete_lesson"
    )]
    async fn complete_lesson(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        lesson: Path<Uuid>,
    ) -> ApiResult<RecordedResponse> {
        let (tenant, proof) =
            in_storefront::<resource::Learning, action::Update>(state, &auth.principal(), &tenant)
                .await?;
        let recorded = progress::mark_done(state, &proof, &tenant, lesson.0.into()).await?;
        Ok(RecordedResponse::Ok(Json(recorded.into())))
    }

    /// The caller's attempts at a lesson's quiz.
    #[oai(
        path = "/tenants/:tenant/lessons/:lesson/quiz/attempts",
        method = "get",
        operation_id = "list_quiz_attempts"
    )]
    async fn list_quiz_attempts(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        lesson: Path<Uuid>,
    ) -> ApiResult<AttemptsResponse> {
        let (tenant, proof) =
            in_storefront::<resource::Learning, action::Read>(state, &auth.principal(), &tenant)
                .await?;
        let list = quizzes::attempts(state, &proof, &tenant, lesson.0.into()).await?;
        Ok(AttemptsResponse::Ok(Json(
            list.into_iter().map(Into::into).collect(),
        )))
    }

    /// Start an attempt at a lesson's quiz (or get the one still open): questions drawn and
    /// shuffled for this attempt, without answers. 409 once every attempt is used.
    #[oai(
        path = "/tenants/:tenant/lessons/:lesson/quiz/attempts",
        method = "post",
        operation_id = "start_quiz_attempt"
    )]
    async fn start_quiz_attempt(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        lesson: Path<Uuid>,
    ) -> ApiResult<AttemptResponse> {
        let (tenant, proof) =
            in_storefront::<resource::Learning, action::Create>(state, &auth.principal(), &tenant)
                .await?;
        let started = quizzes::start(state, &proof, &tenant, lesson.0.into()).await?;
        Ok(AttemptResponse::Created(Json(started.into())))
    }

    /// Submit an attempt's answers, once: graded on the server, with feedback. After the time
    /// limit the answers are refused (409) and the attempt counts as failed.
    #[oai(
        path = "/tenants/:tenant/quiz-attempts/:attempt/answers",
        method = "post",
        operation_id = "submit_quiz_attempt"
    )]
    async fn submit_quiz_attempt(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        attempt: Path<Uuid>,
        Json(body): Json<AnswersRequest>,
    ) -> ApiResult<FeedbackResponse> {
        let (tenant, proof) =
            in_storefront::<resource::Learning, action::Update>(state, &auth.principal(), &tenant)
                .await?;
        let mut responses = HashMap::new();
        for (i, answer) in body.answers.into_iter().enumerate() {
            let question = answer
                .get("question")
                .and_then(|q| q.as_str())
                .and_then(|q| q.parse::<Uuid>().ok())
                .ok_or_else(|| {
                    AppError::invalid(&format!("answers[{i}].question"), "must be a question id")
                })?;
            let response: Response = serde_json::from_value(answer)
                .map_err(|e| AppError::invalid(&format!("answers[{i}]"), e))?;
            responses.insert(question, response);
        }
        let feedback = quizzes::submit(state, &proof, &tenant, attempt.0.into(), responses).await?;
        Ok(FeedbackResponse::Ok(Json(feedback.into())))
    }

    /// The caller's courses: access, progress, where they stopped, expiry, certificate.
    #[oai(
        path = "/me/learning",
        method = "get",
        operation_id = "get_my_learning"
    )]
    async fn get_my_learning(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
    ) -> ApiResult<DashboardResponse> {
        let proof = own_account::<action::Read>(state, &auth.principal()).await?;
        let list = dashboard::mine(state, &proof).await?;
        Ok(DashboardResponse::Ok(Json(
            list.into_iter()
                .map(|e| EnrolledBody {
                    tenant: e.storefront,
                    tenant_name: e.storefront_name,
                    course: e.course,
                    course_title: e.course_title,
                    access: e.standing.as_str().to_owned(),
                    expires_at: e.expires_at,
                    percent: e.percent,
                    last_lesson: e.last_lesson.as_ref().map(|(id, _)| (*id).into()),
                    last_lesson_title: e.last_lesson.map(|(_, t)| t),
                    completed_at: e.completed_at,
                    certificate: e.certificate,
                })
                .collect(),
        )))
    }

    /// The caller's certificates.
    #[oai(
        path = "/me/certificates",
        method = "get",
        operation_id = "list_my_certificates"
    )]
    async fn list_my_certificates(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
    ) -> ApiResult<CertificatesResponse> {
        let proof = own_account::<action::Read>(state, &auth.principal()).await?;
        let list = certificates::mine(state, &proof).await?;
        Ok(CertificatesResponse::Ok(Json(
            list.into_iter().map(Into::into).collect(),
        )))
    }

    /// Verify a certificate by its code (anyone): who, which course, when, and whether it
    /// stands (`revoked` once the access it was earned under was refunded or lost). Its page
    /// for people is `/certificates/{code}`.
    #[oai(
        path = "/certificates/:code",
        method = "get",
        operation_id = "verify_certificate"
    )]
    async fn verify_certificate(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: MaybeAuth,
        code: Path<String>,
    ) -> ApiResult<CertificateResponse> {
        let proof =
            in_platform::<resource::Certificate, action::Read>(state, &auth.principal()).await?;
        let verified = certificates::verify(state, &proof, &code).await?;
        Ok(CertificateResponse::Ok(Json(verified.into())))
    }

    /// A certificate as a PDF (anyone with the code).
    #[oai(
        path = "/certificates/:code/pdf",
        method = "get",
        operation_id = "get_certificate_pdf"
    )]
    async fn get_certificate_pdf(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: MaybeAuth,
        code: Path<String>,
    ) -> ApiResult<PdfResponse> {
        let proof =
            in_platform::<resource::Certificate, action::Read>(state, &auth.principal()).await?;
        let bytes = certificates::pdf_of(state, &proof, &code).await?;
        Ok(PdfResponse::Ok(Binary(bytes)))
    }
}
