//! One lesson in the studio: its details (title, Markdown, free preview, required, drip), its
//! file with the video's transcode, and its quiz.
//!
//! A lesson is always reached through its course (`…/courses/{course}/lessons/{lesson}`) and
//! looked up in that course's curriculum, inside the storefront of the address. The same
//! services and proofs as the API's `update_lesson`, `delete_lesson`, `upload_lesson_asset`
//! (with the same media types and size limit), `get_lesson_video`, `get_lesson_quiz`,
//! `set_lesson_quiz` and `delete_lesson_quiz`.

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::{StreamExt, TryStreamExt};
use lyceum_tenants::rbac::{action, resource};
use minijinja::{Value, context};
use poem::web::{Data, Form, Multipart, Path, Query};
use poem::{Body, Request, Response, handler};
use serde::{Deserialize, Serialize};

use super::courses::{Plain, drip_fields, drip_label};
use super::{
    Done, Flash, Studio, in_tenant, parse_count, parse_time, poster, refused, see_other, size,
    ticked,
};
use crate::frame::{Frame, Section, signed_in};
use crate::render::{error_page, page};
use crate::shop::Viewer;
use lyceum_domain::error::{AppError, AppResult};
use lyceum_domain::ids::LessonId;
use lyceum_domain::services::catalog::courses;
use lyceum_domain::services::catalog::curriculum::{self, LessonPatch};
use lyceum_domain::services::catalog::{Curriculum, Lesson, LessonBody, LessonKind, LessonTitle};
use lyceum_domain::services::learning::quiz_rules::{
    OptionInput, QuestionInput, QuestionSpec, TextAnswer,
};
use lyceum_domain::services::learning::quizzes::{self, Authored, QuizInput};
use lyceum_domain::services::media::{assets, videos};
use lyceum_domain::state::AppState;

/// The lesson of the address, in the course of the address: its course (with the whole
/// curriculum) and the title of its section.
fn find(curriculum: &Curriculum, lesson: &str) -> AppResult<(Lesson, String)> {
    let id: LessonId = lesson.parse().map_err(|_| AppError::NotFound("lesson"))?;
    curriculum
        .sections
        .iter()
        .find_map(|s| {
            s.lessons
                .iter()
                .find(|l| l.id == id)
                .map(|l| (l.clone(), s.title.clone()))
        })
        .ok_or(AppError::NotFound("lesson"))
}

/// A lesson page's common parts: the storefront, the course and the lesson.
struct Found {
    studio: Studio,
    curriculum: Curriculum,
    lesson: Lesson,
    section: String,
    base: String,
}

async fn load(
    state: &AppState,
    viewer: &Viewer,
    slug: &str,
    course: &str,
    lesson: &str,
) -> AppResult<(
    Found,
    lyceum_tenants::rbac::Authorized<resource::Course, action::Read>,
)> {
    let (tenant, proof) =
        in_tenant::<resource::Course, action::Read>(state, viewer.user.id, slug).await?;
    let curriculum = courses::get_for_staff(state, &proof, &tenant, course).await?;
    let (lesson, section) = find(&curriculum, lesson)?;
    let studio = Studio::load(state, viewer, tenant).await;
    let base = format!("{}/courses/{}", studio.base(), curriculum.course.slug);
    Ok((
        Found {
            studio,
            curriculum,
            lesson,
            section,
            base,
        },
        proof,
    ))
}

impl Found {
    fn value(&self) -> Value {
        let l = &self.lesson;
        context! {
            id => l.id.to_string(),
            href => format!("{}/lessons/{}", self.base, l.id),
            title => &l.title,
            kind => l.kind.as_str(),
            section => &self.section,
            free_preview => l.free_preview,
            required => l.required,
            drip => drip_label(&l.drip),
            asset => l.asset.as_ref().map(|a| context! {
                content_type => &a.content_type,
                size => size(u64::try_from(a.size).unwrap_or_default()),
            }),
        }
    }

    fn course(&self) -> Value {
        let c = &self.curriculum.course;
        context! { slug => c.slug.as_str(), title => &c.title, href => &self.base }
    }
}

// ---------------------------------------------------------------------------------------------
// Details.

/// A lesson and the form to change it.
#[handler]
pub(super) async fn show_lesson(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path((slug, course, lesson)): Path<(String, String, String)>,
    Query(done): Query<Done>,
) -> Response {
    let (frame, viewer) = match signed_in(state, req, None, Section::Studio).await {
        Ok(found) => found,
        Err(redirect) => return redirect,
    };
    let flash = Flash::from_query(&done);
    page(
        lesson_page(
            state,
            &frame,
            &viewer,
            (&slug, &course, &lesson),
            &flash,
            None,
        )
        .await,
    )
}

async fn lesson_page(
    state: &AppState,
    frame: &Frame,
    viewer: &Viewer,
    (slug, course, lesson): (&str, &str, &str),
    flash: &Flash,
    draft: Option<&LessonForm>,
) -> AppResult<String> {
    let (found, proof) = load(state, viewer, slug, course, lesson).await?;
    let quiz =
        match quizzes::get_authored(state, &proof, &found.studio.tenant, found.lesson.id).await {
            Ok(q) => Some(context! { title => q.title, questions => q.questions.len() }),
            Err(AppError::NotFound(_)) => None,
            Err(e) => return Err(e),
        };
    let l = &found.lesson;
    let (drip_days, drip_at) = drip_fields(&l.drip);
    let form = match draft {
        Some(f) => context! {
            title => &f.title,
            body => &f.body,
            free_preview => ticked(f.free_preview.as_deref()),
            required => ticked(f.required.as_deref()),
            drip_days => f.drip_days.as_deref().unwrap_or_default(),
            drip_at => f.drip_at.as_deref().unwrap_or_default(),
        },
        None => context! {
            title => &l.title,
            body => l.body.as_deref().unwrap_or_default(),
            free_preview => l.free_preview,
            required => l.required,
            drip_days,
            drip_at,
        },
    };
    frame.render(
        "studio/lesson.html",
        context! {
            title => format!("{} · {}", l.title, found.curriculum.course.title),
            studio => found.studio.value("courses"),
            flash => flash.value(),
            course => found.course(),
            lesson => found.value(),
            form,
            quiz,
        },
    )
}

/// The lesson form.
#[derive(Debug, Deserialize)]
pub(super) struct LessonForm {
    csrf: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    free_preview: Option<String>,
    required: Option<String>,
    drip_days: Option<String>,
    drip_at: Option<String>,
}

/// Changes a lesson (`course, update`): every field of the form, an empty text or drip
/// clearing it.
#[handler]
pub(super) async fn update_lesson(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path((slug, course, lesson)): Path<(String, String, String)>,
    Form(form): Form<LessonForm>,
) -> Response {
    let result = async {
        let user = poster(state, req, &form.csrf).await?;
        let (tenant, proof) =
            in_tenant::<resource::Course, action::Update>(state, user.id, &slug).await?;
        let id = lesson_in(state, user.id, &slug, &course, &lesson).await?;
        let body = form.body.trim();
        let patch = LessonPatch {
            title: Some(LessonTitle::parse("title", form.title.trim())?),
            body: Some(
                (!body.is_empty())
                    .then(|| LessonBody::parse("body", body))
                    .transpose()?,
            ),
            free_preview: Some(ticked(form.free_preview.as_deref())),
            required: Some(ticked(form.required.as_deref())),
            drip_days: Some(parse_count("drip_days", form.drip_days.as_deref())?),
            drip_at: Some(parse_time("drip_at", form.drip_at.as_deref())?),
        };
        curriculum::update_lesson(state, &proof, &tenant, id, patch).await
    }
    .await;
    match result {
        Ok(_) => see_other(format!(
            "/studio/{slug}/courses/{course}/lessons/{lesson}?done=saved"
        )),
        Err(e) => {
            refused(state, req, e, |frame, viewer, flash| async move {
                let at = (slug.as_str(), course.as_str(), lesson.as_str());
                lesson_page(state, &frame, &viewer, at, &flash, Some(&form)).await
            })
            .await
        }
    }
}

/// The id of the lesson of the address, found in the course of the address (a read of the
/// course, which whoever may change it may do).
async fn lesson_in(
    state: &AppState,
    user: lyceum_domain::ids::UserId,
    slug: &str,
    course: &str,
    lesson: &str,
) -> AppResult<LessonId> {
    let (tenant, read) = in_tenant::<resource::Course, action::Read>(state, user, slug).await?;
    let curriculum = courses::get_for_staff(state, &read, &tenant, course).await?;
    Ok(find(&curriculum, lesson)?.0.id)
}

/// Deletes a lesson with its files, quiz and learners' progress in it (`course, delete`: the
/// owner's).
#[handler]
pub(super) async fn delete_lesson(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path((slug, course, lesson)): Path<(String, String, String)>,
    Form(form): Form<Plain>,
) -> Response {
    let result = async {
        let user = poster(state, req, &form.csrf).await?;
        let (tenant, proof) =
            in_tenant::<resource::Course, action::Delete>(state, user.id, &slug).await?;
        let id = lesson_in(state, user.id, &slug, &course, &lesson).await?;
        curriculum::delete_lesson(state, &proof, &tenant, id).await
    }
    .await;
    match result {
        Ok(()) => see_other(format!(
            "/studio/{slug}/courses/{course}?done=deleted#curriculum"
        )),
        Err(e) => {
            refused(state, req, e, |frame, viewer, flash| async move {
                let at = (slug.as_str(), course.as_str(), lesson.as_str());
                lesson_page(state, &frame, &viewer, at, &flash, None).await
            })
            .await
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The lesson's file, and its video's transcode.

/// The lesson's file and, for a video, where its transcode stands; the page reloads itself
/// while a transcode is queued or running.
#[handler]
pub(super) async fn show_asset(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path((slug, course, lesson)): Path<(String, String, String)>,
    Query(done): Query<Done>,
) -> Response {
    let (frame, viewer) = match signed_in(state, req, None, Section::Studio).await {
        Ok(found) => found,
        Err(redirect) => return redirect,
    };
    let flash = Flash::from_query(&done);
    page(asset_page(state, &frame, &viewer, (&slug, &course, &lesson), &flash).await)
}

async fn asset_page(
    state: &AppState,
    frame: &Frame,
    viewer: &Viewer,
    (slug, course, lesson): (&str, &str, &str),
    flash: &Flash,
) -> AppResult<String> {
    let (found, proof) = load(state, viewer, slug, course, lesson).await?;
    let video = match videos::status_for_staff(state, &proof, &found.studio.tenant, found.lesson.id)
        .await
    {
        Ok(v) => Some(context! {
            status => v.status.as_str(),
            running => matches!(v.status.as_str(), "queued" | "processing"),
            reason => v.reason,
            renditions => v.renditions.iter().map(|r| format!("{} ({}×{})", r.name, r.width, r.height)).collect::<Vec<_>>(),
            duration => v.duration_seconds.map(|s| format!("{}:{:02}", s / 60, s % 60)),
            queued_at => super::when(v.queued_at),
            finished_at => v.finished_at.map(super::when),
        }),
        Err(AppError::NotFound(_)) => None,
        Err(e) => return Err(e),
    };
    let accept = match found.lesson.kind {
        LessonKind::Video => "video/*,audio/*",
        LessonKind::Text => {
            "image/png,image/jpeg,image/gif,image/webp,image/avif,application/pdf,text/plain"
        }
        LessonKind::File => "",
    };
    frame.render(
        "studio/asset.html",
        context! {
            title => format!("File of {} · {}", found.lesson.title, found.curriculum.course.title),
            studio => found.studio.value("courses"),
            flash => flash.value(),
            course => found.course(),
            lesson => found.value(),
            video,
            accept,
            limit => size(state.settings.max_upload_bytes as u64),
        },
    )
}

/// Stores an uploaded file as the lesson's asset (`course, update`) through the same media
/// service as the API: the lesson kind's media types, the configured size limit, a video
/// queued for transcoding. The form's token must come before the file, and is checked before a
/// byte of the file is read.
#[handler]
pub(super) async fn upload_asset(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path((slug, course, lesson)): Path<(String, String, String)>,
    mut multipart: Multipart,
) -> Response {
    let result = async {
        let csrf = match multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some("csrf") => {
                small_text(field, 256).await.unwrap_or_default()
            }
            _ => String::new(),
        };
        let user = poster(state, req, &csrf).await?;
        let (tenant, proof) =
            in_tenant::<resource::Course, action::Update>(state, user.id, &slug).await?;
        let id = lesson_in(state, user.id, &slug, &course, &lesson).await?;
        let field = multipart
            .next_field()
            .await
            .map_err(|e| AppError::invalid("file", format!("the upload broke off: {e}")))?
            .filter(|f| f.name() == Some("file") && f.file_name().is_some_and(|n| !n.is_empty()))
            .ok_or_else(|| AppError::invalid("file", "choose a file to upload"))?;
        let content_type = field.content_type().map(str::to_owned);
        let stream = Body::from_async_read(field.into_async_read())
            .into_bytes_stream()
            .map_err(|e| AppError::invalid("file", format!("the upload broke off: {e}")));
        assets::upload(
            state,
            &proof,
            &tenant,
            id,
            content_type.as_deref(),
            Box::pin(stream),
            state.settings.max_upload_bytes,
        )
        .await
    }
    .await;
    match result {
        Ok(()) => see_other(format!(
            "/studio/{slug}/courses/{course}/lessons/{lesson}/asset?done=uploaded"
        )),
        Err(e) => {
            refused(state, req, e, |frame, viewer, flash| async move {
                let at = (slug.as_str(), course.as_str(), lesson.as_str());
                asset_page(state, &frame, &viewer, at, &flash).await
            })
            .await
        }
    }
}

/// A short text field of a multipart form, when it is at most `max` bytes of UTF-8.
async fn small_text(field: poem::web::Field, max: usize) -> Option<String> {
    let mut stream = Body::from_async_read(field.into_async_read()).into_bytes_stream();
    let mut text = Vec::new();
    while let Some(chunk) = stream.next().await {
        text.extend_from_slice(&chunk.ok()?);
        if text.len() > max {
            return None;
        }
    }
    String::from_utf8(text).ok()
}

// ---------------------------------------------------------------------------------------------
// The quiz.

/// How many empty questions the quiz form offers below the existing ones.
const BLANK_QUESTIONS: usize = 3;
/// How many options a choice question offers at least.
const MIN_OPTIONS: usize = 4;
/// The most options a question takes (`quiz_rules`' limit).
const MAX_OPTIONS: usize = 10;
/// The most question slots a posted form is read for.
const MAX_SLOTS: usize = quizzes::MAX_QUESTIONS + 50;

/// A quiz as its form shows it: what is stored, or what was typed.
#[derive(Debug, Clone, Default, Serialize)]
struct QuizDraft {
    title: String,
    pass_percent: String,
    max_attempts: String,
    time_limit: String,
    draw: String,
    required: bool,
    questions: Vec<QuestionDraft>,
}

/// One question of the form.
#[derive(Debug, Clone, Default, Serialize)]
struct QuestionDraft {
    /// `single`, `multiple`, `true_false` or `short_text` (kept as it is: the form does not
    /// edit it).
    kind: String,
    prompt: String,
    explanation: String,
    /// A true/false question's answer.
    answer: bool,
    options: Vec<OptionDraft>,
    /// A short-text question, as stored (JSON), and what it accepts in words.
    spec: Option<String>,
    accepts: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
struct OptionDraft {
    text: String,
    correct: bool,
}

impl QuizDraft {
    fn new_for(lesson: &Lesson) -> Self {
        Self {
            title: format!("{} quiz", lesson.title),
            pass_percent: "70".to_owned(),
            required: true,
            ..Self::default()
        }
    }

    fn stored(quiz: &Authored) -> AppResult<Self> {
        let opt = |n: Option<u32>| n.map(|n| n.to_string()).unwrap_or_default();
        let options = |list: &[lyceum_domain::services::learning::quiz_rules::ChoiceOption]| {
            list.iter()
                .map(|o| OptionDraft {
                    text: o.text.clone(),
                    correct: o.correct,
                })
                .collect()
        };
        let questions = quiz
            .questions
            .iter()
            .map(|(_, spec)| {
                Ok(match spec {
                    QuestionSpec::Single {
                        prompt,
                        options: list,
                        explanation,
                    } => QuestionDraft {
                        kind: "single".to_owned(),
                        prompt: prompt.clone(),
                        explanation: explanation.clone().unwrap_or_default(),
                        options: options(list),
                        ..QuestionDraft::default()
                    },
                    QuestionSpec::Multiple {
                        prompt,
                        options: list,
                        explanation,
                    } => QuestionDraft {
                        kind: "multiple".to_owned(),
                        prompt: prompt.clone(),
                        explanation: explanation.clone().unwrap_or_default(),
                        options: options(list),
                        ..QuestionDraft::default()
                    },
                    QuestionSpec::TrueFalse {
                        prompt,
                        answer,
                        explanation,
                    } => QuestionDraft {
                        kind: "true_false".to_owned(),
                        prompt: prompt.clone(),
                        explanation: explanation.clone().unwrap_or_default(),
                        answer: *answer,
                        ..QuestionDraft::default()
                    },
                    QuestionSpec::ShortText {
                        prompt,
                        answer,
                        explanation,
                    } => QuestionDraft {
                        kind: "short_text".to_owned(),
                        prompt: prompt.clone(),
                        explanation: explanation.clone().unwrap_or_default(),
                        accepts: Some(accepts(answer)),
                        spec: Some(serde_json::to_string(&QuestionInput::ShortText {
                            prompt: prompt.clone(),
                            answer: answer.clone(),
                            explanation: explanation.clone(),
                        })?),
                        ..QuestionDraft::default()
                    },
                })
            })
            .collect::<AppResult<Vec<_>>>()?;
        Ok(Self {
            title: quiz.title.clone(),
            pass_percent: quiz.pass_percent.to_string(),
            max_attempts: opt(quiz.max_attempts),
            time_limit: opt(quiz.time_limit_seconds),
            draw: opt(quiz.draw),
            required: quiz.required,
            questions,
        })
    }

    /// The form as posted: fields named `q{i}_…`; questions left without a prompt are dropped.
    fn posted(fields: &HashMap<String, String>) -> Self {
        let get = |name: &str| fields.get(name).map(String::as_str).unwrap_or_default();
        let mut questions = Vec::new();
        for i in 0..MAX_SLOTS {
            let key = |name: &str| format!("q{i}_{name}");
            let Some(kind) = fields.get(&key("kind")) else {
                break;
            };
            let prompt = get(&key("prompt")).trim().to_owned();
            let spec = fields.get(&key("spec")).cloned();
            if ticked(fields.get(&key("remove")).map(String::as_str))
                || (prompt.is_empty() && spec.is_none())
            {
                continue;
            }
            let options = (0..MAX_OPTIONS)
                .map_while(|j| {
                    fields
                        .get(&key(&format!("opt{j}")))
                        .map(|text| OptionDraft {
                            text: text.trim().to_owned(),
                            correct: ticked(
                                fields
                                    .get(&key(&format!("opt{j}_correct")))
                                    .map(String::as_str),
                            ),
                        })
                })
                .collect();
            questions.push(QuestionDraft {
                kind: kind.clone(),
                prompt,
                explanation: get(&key("explanation")).trim().to_owned(),
                answer: get(&key("answer")) == "true",
                options,
                accepts: fields
                    .get(&key("accepts"))
                    .filter(|a| !a.is_empty())
                    .cloned(),
                spec,
            });
        }
        Self {
            title: get("title").trim().to_owned(),
            pass_percent: get("pass_percent").trim().to_owned(),
            max_attempts: get("max_attempts").trim().to_owned(),
            time_limit: get("time_limit_seconds").trim().to_owned(),
            draw: get("draw").trim().to_owned(),
            required: ticked(fields.get("required").map(String::as_str)),
            questions,
        }
    }

    /// What the quiz service takes; an error names the question as the form numbers it.
    fn input(&self) -> AppResult<QuizInput> {
        let pass_percent = match parse_count("pass_percent", Some(&self.pass_percent))? {
            None => 70,
            Some(p) => u8::try_from(p)
                .map_err(|_| AppError::invalid("pass_percent", "must be 0 to 100"))?,
        };
        let questions = self
            .questions
            .iter()
            .enumerate()
            .map(|(i, q)| question_input(q).map_err(|e| numbered(e, i)))
            .collect::<AppResult<Vec<_>>>()?;
        Ok(QuizInput {
            title: self.title.clone(),
            pass_percent,
            max_attempts: parse_count("max_attempts", Some(&self.max_attempts))?,
            time_limit_seconds: parse_count("time_limit_seconds", Some(&self.time_limit))?,
            draw: parse_count("draw", Some(&self.draw))?,
            required: self.required,
            questions,
        })
    }

    /// With empty questions and options to fill in.
    fn padded(mut self) -> Self {
        for q in &mut self.questions {
            if q.kind != "short_text" {
                let want = (q.options.len() + 1).clamp(MIN_OPTIONS, MAX_OPTIONS);
                q.options.resize(want, OptionDraft::default());
            }
        }
        for _ in 0..BLANK_QUESTIONS {
            self.questions.push(QuestionDraft {
                kind: "single".to_owned(),
                options: vec![OptionDraft::default(); MIN_OPTIONS],
                ..QuestionDraft::default()
            });
        }
        self
    }
}

fn question_input(q: &QuestionDraft) -> AppResult<QuestionInput> {
    let explanation = (!q.explanation.is_empty()).then(|| q.explanation.clone());
    let options = || {
        q.options
            .iter()
            .filter(|o| !o.text.is_empty())
            .map(|o| OptionInput {
                text: o.text.clone(),
                correct: o.correct,
            })
            .collect()
    };
    Ok(match q.kind.as_str() {
        "single" => QuestionInput::Single {
            prompt: q.prompt.clone(),
            options: options(),
            explanation,
        },
        "multiple" => QuestionInput::Multiple {
            prompt: q.prompt.clone(),
            options: options(),
            explanation,
        },
        "true_false" => QuestionInput::TrueFalse {
            prompt: q.prompt.clone(),
            answer: q.answer,
            explanation,
        },
        "short_text" => match q
            .spec
            .as_deref()
            .and_then(|s| serde_json::from_str::<QuestionInput>(s).ok())
        {
            Some(kept @ QuestionInput::ShortText { .. }) => kept,
            _ => return Err(AppError::invalid("kind", "this question cannot be kept")),
        },
        _ => {
            return Err(AppError::invalid(
                "kind",
                "must be single choice, multiple choice or true/false",
            ));
        }
    })
}

/// The service's `questions[i].x` as the form says it: `question 3, x`.
fn numbered(err: AppError, index: usize) -> AppError {
    match err {
        AppError::Invalid(fields) => AppError::Invalid(
            fields
                .into_iter()
                .map(|mut f| {
                    f.field = format!("question {}, {}", index + 1, f.field);
                    f
                })
                .collect(),
        ),
        other => other,
    }
}

fn renumbered(err: AppError) -> AppError {
    match err {
        AppError::Invalid(fields) => AppError::Invalid(
            fields
                .into_iter()
                .map(|mut f| {
                    if let Some(rest) = f.field.strip_prefix("questions[")
                        && let Some((n, tail)) = rest.split_once(']')
                        && let Ok(n) = n.parse::<usize>()
                    {
                        f.field = format!(
                            "question {}{}",
                            n + 1,
                            tail.strip_prefix('.')
                                .map_or(String::new(), |t| format!(", {t}"))
                        );
                    }
                    f
                })
                .collect(),
        ),
        other => other,
    }
}

/// What a short-text question accepts, in words.
fn accepts(answer: &TextAnswer) -> String {
    match answer {
        TextAnswer::Exact {
            values,
            case_sensitive,
        } => format!(
            "{}{}",
            values.join(" / "),
            if *case_sensitive {
                " (case matters)"
            } else {
                ""
            }
        ),
        TextAnswer::Pattern { pattern } => format!("answers matching {pattern}"),
    }
}

/// The lesson's quiz, or the form for a new one.
#[handler]
pub(super) async fn show_quiz(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path((slug, course, lesson)): Path<(String, String, String)>,
    Query(done): Query<Done>,
) -> Response {
    let (frame, viewer) = match signed_in(state, req, None, Section::Studio).await {
        Ok(found) => found,
        Err(redirect) => return redirect,
    };
    let flash = Flash::from_query(&done);
    page(
        quiz_page(
            state,
            &frame,
            &viewer,
            (&slug, &course, &lesson),
            &flash,
            None,
        )
        .await,
    )
}

async fn quiz_page(
    state: &AppState,
    frame: &Frame,
    viewer: &Viewer,
    (slug, course, lesson): (&str, &str, &str),
    flash: &Flash,
    draft: Option<QuizDraft>,
) -> AppResult<String> {
    let (found, proof) = load(state, viewer, slug, course, lesson).await?;
    let stored =
        match quizzes::get_authored(state, &proof, &found.studio.tenant, found.lesson.id).await {
            Ok(q) => Some(q),
            Err(AppError::NotFound(_)) => None,
            Err(e) => return Err(e),
        };
    let draft = match (draft, &stored) {
        (Some(d), _) => d,
        (None, Some(q)) => QuizDraft::stored(q)?,
        (None, None) => QuizDraft::new_for(&found.lesson),
    };
    frame.render(
        "studio/quiz.html",
        context! {
            title => format!("Quiz of {} · {}", found.lesson.title, found.curriculum.course.title),
            studio => found.studio.value("courses"),
            flash => flash.value(),
            course => found.course(),
            lesson => found.value(),
            exists => stored.is_some(),
            quiz => draft.padded(),
            max_questions => quizzes::MAX_QUESTIONS,
        },
    )
}

/// Sets the lesson's quiz: its settings and its whole pool of questions (`course, update`).
#[handler]
pub(super) async fn save_quiz(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path((slug, course, lesson)): Path<(String, String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let fields: HashMap<String, String> = fields.into_iter().collect();
    let draft = QuizDraft::posted(&fields);
    let result = async {
        let csrf = fields.get("csrf").map(String::as_str).unwrap_or_default();
        let user = poster(state, req, csrf).await?;
        let (tenant, proof) =
            in_tenant::<resource::Course, action::Update>(state, user.id, &slug).await?;
        let id = lesson_in(state, user.id, &slug, &course, &lesson).await?;
        let input = draft.input()?;
        quizzes::put(state, &proof, &tenant, id, input)
            .await
            .map_err(renumbered)
    }
    .await;
    match result {
        Ok(_) => see_other(format!(
            "/studio/{slug}/courses/{course}/lessons/{lesson}/quiz?done=quiz"
        )),
        Err(e) => {
            refused(state, req, e, |frame, viewer, flash| async move {
                let at = (slug.as_str(), course.as_str(), lesson.as_str());
                quiz_page(state, &frame, &viewer, at, &flash, Some(draft)).await
            })
            .await
        }
    }
}

/// Removes the lesson's quiz and its attempts (`course, delete`: the owner's).
#[handler]
pub(super) async fn delete_quiz(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path((slug, course, lesson)): Path<(String, String, String)>,
    Form(form): Form<Plain>,
) -> Response {
    let result = async {
        let user = poster(state, req, &form.csrf).await?;
        let (tenant, proof) =
            in_tenant::<resource::Course, action::Delete>(state, user.id, &slug).await?;
        let id = lesson_in(state, user.id, &slug, &course, &lesson).await?;
        quizzes::delete(state, &proof, &tenant, id).await
    }
    .await;
    match result {
        Ok(()) => see_other(format!(
            "/studio/{slug}/courses/{course}/lessons/{lesson}?done=deleted"
        )),
        Err(e) => error_page(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posted(pairs: &[(&str, &str)]) -> QuizDraft {
        QuizDraft::posted(
            &pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn the_form_becomes_the_services_input() {
        let draft = posted(&[
            ("title", "Check"),
            ("pass_percent", "80"),
            ("max_attempts", "3"),
            ("required", "1"),
            ("q0_kind", "single"),
            ("q0_prompt", "Two plus two?"),
            ("q0_opt0", "4"),
            ("q0_opt0_correct", "1"),
            ("q0_opt1", "5"),
            ("q0_opt2", ""),
            ("q1_kind", "true_false"),
            ("q1_prompt", "Rust is memory safe."),
            ("q1_answer", "true"),
            // An empty slot is no question.
            ("q2_kind", "single"),
            ("q2_prompt", " "),
        ]);
        let input = draft.input().unwrap();
        assert_eq!(
            (input.pass_percent, input.max_attempts, input.required),
            (80, Some(3), true)
        );
        assert_eq!(input.questions.len(), 2);
        assert_eq!(
            input.questions[0],
            QuestionInput::Single {
                prompt: "Two plus two?".into(),
                options: vec![
                    OptionInput {
                        text: "4".into(),
                        correct: true
                    },
                    OptionInput {
                        text: "5".into(),
                        correct: false
                    },
                ],
                explanation: None,
            }
        );
        assert!(matches!(
            input.questions[1],
            QuestionInput::TrueFalse { answer: true, .. }
        ));
    }

    #[test]
    fn errors_name_questions_as_the_form_numbers_them() {
        let err = renumbered(AppError::invalid("questions[1].options[0].text", "empty"));
        let AppError::Invalid(fields) = err else {
            panic!()
        };
        assert_eq!(fields[0].field, "question 2, options[0].text");
    }
}
