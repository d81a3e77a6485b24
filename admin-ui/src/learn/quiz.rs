//! Quizzes in the player: start (or resume) an attempt, answer it in a plain form, and see the
//! grade with feedback. Grading is the service's; the form only carries the answers, each
//! field named by its question's kind and id (`single:{id}`, `multiple:{id}` repeated,
//! `tf:{id}`, `text:{id}`).

use std::collections::HashMap;
use std::sync::Arc;

use minijinja::context;
use poem::web::{Data, Form, Html};
use poem::{Body, IntoResponse, Request, Response, handler};
use uuid::Uuid;

use super::{CsrfOnly, lesson_param};
use crate::context::shop_of;
use crate::frame::{Frame, Section};
use crate::render::error_page;
use crate::shop::form_user;
use lyceum_domain::error::{AppError, AppResult};
use lyceum_domain::ids::{LessonId, QuizAttemptId};
use lyceum_domain::services::learning::quiz_rules::Response as Answer;
use lyceum_domain::services::learning::quizzes;
use lyceum_domain::state::AppState;
use lyceum_tenants::rbac::{Principal, action, resource};

/// The largest answer form read.
const MAX_FORM: usize = 64 * 1024;

/// `POST …/lessons/{lesson}/quiz`: starts an attempt, or resumes the open one.
#[handler]
pub async fn start_quiz(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    let result = async {
        let shop = shop_of(state, req).await?;
        let lesson = lesson_param(req)?;
        let user = form_user(state, req, &form.csrf, shop.scope()).await?;
        let proof = state
            .policy
            .authorize::<resource::Learning, action::Create>(
                &state.db,
                &Principal::User(user.id),
                shop.tenant.domain(),
            )
            .await?;
        let started = quizzes::start(state, &proof, &shop.tenant, lesson).await?;
        let frame = Frame::load(state, req, Some(&shop), Section::Learning).await;
        let questions: Vec<_> = started
            .questions
            .iter()
            .enumerate()
            .map(|(i, q)| {
                context! {
                    number => i + 1,
                    id => q.id.to_string(),
                    kind => q.kind,
                    prompt => &q.prompt,
                    options => q.options.iter().map(|o| context! { id => o.id.to_string(), text => &o.text }).collect::<Vec<_>>(),
                }
            })
            .collect();
        frame.render(
            "quiz.html",
            context! {
                title => "Quiz",
                base => &shop.base,
                lesson => lesson.to_string(),
                attempt => started.attempt.to_string(),
                number => started.number,
                deadline => started.deadline_at.map(|d| d.format("%H:%M UTC").to_string()),
                questions,
            },
        )
    }
    .await;
    match result {
        Ok(html) => Html(html).into_response(),
        Err(e) => error_page(e),
    }
}

/// `POST …/quiz-attempts/{attempt}`: submits the answers, once, and shows the grade.
#[handler]
pub async fn submit_quiz(req: &Request, Data(state): Data<&Arc<AppState>>, body: Body) -> Response {
    let result = async {
        let shop = shop_of(state, req).await?;
        let attempt: QuizAttemptId = req
            .raw_path_param("attempt")
            .and_then(|a| a.parse().ok())
            .ok_or(AppError::NotFound("quiz attempt"))?;
        let body = body
            .into_bytes_limit(MAX_FORM)
            .await
            .map_err(|_| AppError::invalid("answers", "the form is too large"))?;
        let fields: Vec<(String, String)> = url::form_urlencoded::parse(&body)
            .into_owned()
            .collect();
        let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let csrf = field("csrf").unwrap_or_default();
        let lesson: Option<LessonId> = field("lesson").and_then(|l| l.parse().ok());
        let user = form_user(state, req, csrf, shop.scope()).await?;
        let proof = state
            .policy
            .authorize::<resource::Learning, action::Update>(
                &state.db,
                &Principal::User(user.id),
                shop.tenant.domain(),
            )
            .await?;
        let answers = answers_of(&fields)?;
        let feedback = quizzes::submit(state, &proof, &shop.tenant, attempt, answers).await?;
        let frame = Frame::load(state, req, Some(&shop), Section::Learning).await;
        let results: Vec<_> = feedback
            .graded
            .results
            .iter()
            .enumerate()
            .map(|(i, r)| {
                context! {
                    number => i + 1,
                    correct => r.correct,
                    explanation => &r.explanation,
                    accepted => r.accepted.join(", "),
                    correct_value => r.correct_value,
                }
            })
            .collect();
        frame.render(
            "quiz_result.html",
            context! {
                title => "Quiz result",
                back => lesson.map_or_else(|| shop.base.clone(), |l| format!("{}/lessons/{l}", shop.base)),
                number => feedback.number,
                passed => feedback.passed,
                pass_percent => feedback.pass_percent,
                score => feedback.graded.score,
                correct => feedback.graded.correct,
                total => feedback.graded.total,
                course_done => feedback.course.completed_at.is_some(),
                results,
            },
        )
    }
    .await;
    match result {
        Ok(html) => Html(html).into_response(),
        Err(e) => error_page(e),
    }
}

/// The answers of a posted quiz form, by question.
fn answers_of(fields: &[(String, String)]) -> AppResult<HashMap<Uuid, Answer>> {
    let mut answers: HashMap<Uuid, Answer> = HashMap::new();
    for (name, value) in fields {
        let Some((kind, id)) = name.split_once(':') else {
            continue;
        };
        let question: Uuid = id
            .parse()
            .map_err(|_| AppError::invalid("answers", "unknown question"))?;
        let option = || {
            value
                .parse::<Uuid>()
                .map_err(|_| AppError::invalid("answers", "unknown option"))
        };
        match kind {
            "single" => {
                answers.insert(question, Answer::Single { option: option()? });
            }
            "multiple" => {
                let option = option()?;
                match answers.entry(question).or_insert(Answer::Multiple {
                    options: Vec::new(),
                }) {
                    Answer::Multiple { options } => options.push(option),
                    _ => return Err(AppError::invalid("answers", "mixed answer kinds")),
                }
            }
            "tf" => {
                let value = match value.as_str() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(AppError::invalid("answers", "must be true or false")),
                };
                answers.insert(question, Answer::TrueFalse { value });
            }
            "text" => {
                answers.insert(
                    question,
                    Answer::ShortText {
                        text: value.clone(),
                    },
                );
            }
            _ => return Err(AppError::invalid("answers", "unknown answer kind")),
        }
    }
    Ok(answers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_by_kind() {
        let q1 = Uuid::now_v7();
        let q2 = Uuid::now_v7();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let fields = vec![
            ("csrf".to_owned(), "x".to_owned()),
            (format!("multiple:{q1}"), a.to_string()),
            (format!("multiple:{q1}"), b.to_string()),
            (format!("tf:{q2}"), "false".to_owned()),
        ];
        let answers = answers_of(&fields).unwrap();
        assert_eq!(
            answers[&q1],
            Answer::Multiple {
                options: vec![a, b]
            }
        );
        assert_eq!(answers[&q2], Answer::TrueFalse { value: false });
    }

    #[test]
    fn malformed_answers_are_refused() {
        let q = Uuid::now_v7();
        for (name, value) in [
            (format!("single:{q}"), "not-a-uuid".to_owned()),
            ("single:nope".to_owned(), Uuid::now_v7().to_string()),
            (format!("tf:{q}"), "maybe".to_owned()),
            (format!("other:{q}"), "x".to_owned()),
        ] {
            assert!(answers_of(&[(name, value)]).is_err());
        }
    }
}
