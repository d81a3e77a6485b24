//! Learning in the browser: "My courses" with progress and access, the course player (lesson
//! list with completion marks, HLS video with resume, text lessons, downloads, quizzes with
//! feedback), purchases with receipts, and a clear page when access is missing, expired,
//! suspended or refunded. The pages call the learning services under the viewer's own proof,
//! as the API does.

mod quiz;

use std::sync::Arc;

use minijinja::context;
use poem::web::{Data, Form, Html, Json, Redirect};
use poem::{IntoResponse, Request, Response, handler};
use serde::Deserialize;

use crate::context::{Shop, shop_of};
use crate::frame::{Frame, Section, signed_in};
use crate::render::{Problem, error_page, page};
use crate::shop::{Viewer, form_user, urlencode};
use lyceum_domain::error::{AppError, AppResult};
use lyceum_domain::ids::{LessonId, OrderId};
use lyceum_domain::services::catalog::public;
use lyceum_domain::services::catalog::{Curriculum, LessonKind};
use lyceum_domain::services::commerce::orders;
use lyceum_domain::services::learning::dashboard::{self, Standing};
use lyceum_domain::services::learning::{lessons, progress};
use lyceum_domain::services::media::content;
use lyceum_domain::state::AppState;
use lyceum_tenants::rbac::{Authorized, Principal, Resource, Verb, action, resource};

pub use quiz::{start_quiz, submit_quiz};

/// `A` on `R` in the page's storefront, for the viewer (or an anonymous visitor).
async fn in_shop<R: Resource, A: Verb>(
    state: &AppState,
    shop: &Shop,
    viewer: Option<&Viewer>,
) -> AppResult<Authorized<R, A>> {
    let principal = viewer.map_or(Principal::Anonymous, |v| Principal::User(v.user.id));
    state
        .policy
        .authorize(&state.db, &principal, shop.tenant.domain())
        .await
}

/// The lesson of a page's path.
fn lesson_param(req: &Request) -> AppResult<LessonId> {
    crate::parts::param(req, "lesson", "lesson")
}

/// `/learning`: the viewer's courses — access, progress, where they stopped, certificates.
#[handler]
pub async fn mine(req: &Request, Data(state): Data<&Arc<AppState>>) -> Response {
    let (frame, viewer) = match signed_in(state, req, None, Section::Learning).await {
        Ok(found) => found,
        Err(to_sign_in) => return to_sign_in,
    };
    let result = async {
        let proof =
            crate::own_account::<action::Read>(state, &Principal::User(viewer.user.id)).await?;
        let courses = dashboard::mine(state, &proof).await?;
        let platform = state.settings.public_url.as_str().trim_end_matches('/');
        let items: Vec<_> = courses
            .iter()
            .map(|c| {
                let base = format!("/s/{}", c.storefront);
                let (badge, label) = standing_badge(c.standing);
                context! {
                    storefront => &c.storefront_name,
                    title => &c.course_title,
                    href => format!("{base}/courses/{}", c.course),
                    learn => format!("{base}/courses/{}/learn", c.course),
                    open => matches!(c.standing, Standing::Active | Standing::Free),
                    badge, label,
                    percent => c.percent,
                    expires => c.expires_at.map(|t| t.format("%-d %B %Y").to_string()),
                    last_lesson => c.last_lesson.as_ref().map(|(id, title)| context! { href => format!("{base}/lessons/{id}"), title }),
                    completed => c.completed_at.map(|t| t.format("%-d %B %Y").to_string()),
                    certificate => c.certificate.as_ref().map(|code| format!("{platform}/certificates/{code}")),
                }
            })
            .collect();
        frame.render(
            "learning.html",
            context! { title => "My courses", courses => items },
        )
    }
    .await;
    page(result)
}

/// How a standing is shown: a badge class and its words.
fn standing_badge(standing: Standing) -> (&'static str, &'static str) {
    match standing {
        Standing::Active => ("ok", "Active"),
        Standing::Free => ("ok", "Free"),
        Standing::Expired => ("warn", "Expired"),
        Standing::Suspended => ("warn", "On hold"),
        Standing::Revoked => ("bad", "Refunded"),
    }
}

/// `…/courses/{course}/learn`: where the learner stopped, or the course's first lesson.
#[handler]
pub async fn resume(req: &Request, Data(state): Data<&Arc<AppState>>) -> Response {
    let shop = match shop_of(state, req).await {
        Ok(shop) => shop,
        Err(e) => return error_page(e),
    };
    let slug = req.raw_path_param("course").unwrap_or_default();
    let viewer = crate::shop::viewer(state, req, shop.scope()).await;
    let result = async {
        if let Some(viewer) = &viewer {
            let proof =
                crate::own_account::<action::Read>(state, &Principal::User(viewer.user.id)).await?;
            let stopped = dashboard::mine(state, &proof)
                .await?
                .into_iter()
                .find(|c| c.storefront == shop.tenant.slug.as_str() && c.course == slug);
            if let Some((lesson, _)) = stopped.and_then(|c| c.last_lesson) {
                return Ok(Some(lesson));
            }
        }
        let catalog = in_shop::<resource::Catalog, action::Read>(state, &shop, None).await?;
        let detail = public::get(state, &catalog, &shop.tenant, slug).await?;
        Ok::<_, AppError>(
            detail
                .sections
                .iter()
                .flat_map(|s| &s.lessons)
                .next()
                .map(|l| l.id),
        )
    }
    .await;
    match result {
        Ok(Some(lesson)) => {
            Redirect::see_other(format!("{}/lessons/{lesson}", shop.base)).into_response()
        }
        Ok(None) => Problem::new("No lessons yet", "This course has no lessons yet.")
            .back(format!("{}/courses/{slug}", shop.base))
            .respond(poem::http::StatusCode::NOT_FOUND),
        Err(e) => error_page(e),
    }
}

/// A lesson in the course player.
#[handler]
pub async fn lesson_page(req: &Request, Data(state): Data<&Arc<AppState>>) -> Response {
    let shop = match shop_of(state, req).await {
        Ok(shop) => shop,
        Err(e) => return error_page(e),
    };
    let lesson = match lesson_param(req) {
        Ok(lesson) => lesson,
        Err(e) => return error_page(e),
    };
    let frame = Frame::load(state, req, Some(&shop), Section::Learning).await;
    match player(state, &frame, &shop, lesson).await {
        Ok(html) => Html(html).into_response(),
        Err(AppError::Unauthenticated(_)) => {
            let here = req.uri().path();
            Redirect::see_other(format!("/login?next={}", urlencode(here))).into_response()
        }
        Err(AppError::PaymentRequired(_)) => closed(state, &frame, &shop, lesson).await,
        Err(e) => error_page(e),
    }
}

async fn player(
    state: &AppState,
    frame: &Frame,
    shop: &Shop,
    lesson_id: LessonId,
) -> AppResult<String> {
    let viewer = frame.viewer.as_ref();
    let learning = in_shop::<resource::Learning, action::Read>(state, shop, viewer).await?;
    let opened = lessons::page(state, &learning, &shop.tenant, lesson_id).await?;
    let lesson = &opened.lesson;
    let course = &opened.course;
    // Media and downloads go through signed links, issued under the content proof.
    let link = match (lesson.kind, &lesson.asset) {
        (LessonKind::Text, _) | (_, None) => None,
        _ => {
            let proof = in_shop::<resource::Content, action::Read>(state, shop, viewer).await?;
            Some(content::issue(state, &proof, &shop.tenant, lesson_id).await?)
        }
    };
    // Studying (progress, "done", quizzes) is for those with access; a free preview is only
    // for looking.
    let owned = viewer.is_some() && opened.has_access;
    let done = match viewer {
        Some(v) => {
            progress::done_in_course(&state.db, shop.tenant.id, v.user.id, course.id).await?
        }
        None => Default::default(),
    };
    let catalog = in_shop::<resource::Catalog, action::Read>(state, shop, None).await?;
    // A course taken off the catalog stays open to its buyers, without its outline.
    let outline = match public::get(state, &catalog, &shop.tenant, course.slug.as_str()).await {
        Ok(outline) => Some(outline),
        Err(AppError::NotFound(_)) => None,
        Err(e) => return Err(e),
    };
    let (sections, previous, next) = outline_of(outline.as_deref(), lesson_id, &done, &shop.base);
    let progress = opened.progress.as_ref();
    let base = &shop.base;
    frame.render(
        "lesson.html",
        context! {
            title => &lesson.title,
            base,
            course_title => &course.title,
            course_href => format!("{base}/courses/{}", course.slug),
            lesson_id => lesson_id.to_string(),
            kind => lesson.kind.as_str(),
            html => opened.html.clone().map(minijinja::Value::from_safe_string),
            hls => link.as_ref().and_then(|l| l.hls_url.clone()),
            src => link.as_ref().map(|l| l.url.clone()),
            file_type => lesson.asset.as_ref().map(|a| a.content_type.clone()),
            file_size => lesson.asset.as_ref().map(|a| crate::parts::size(u64::try_from(a.size).unwrap_or_default())),
            chapters => opened.chapters.iter().map(|c| context! { title => &c.title, at => clock(c.start_second) }).collect::<Vec<_>>(),
            resume => progress.map_or(0, |p| p.position_seconds),
            watched => progress.map_or(0, |p| p.watched_seconds),
            done => progress.is_some_and(|p| p.completed_at.is_some()),
            signed_in => viewer.is_some(),
            owned,
            quiz => opened.quiz.as_ref().map(|q| context! {
                title => &q.title,
                pass_percent => q.pass_percent,
                questions => q.questions,
                max_attempts => q.max_attempts,
                attempts_used => q.attempts_used,
                attempts_left => q.max_attempts.map(|m| m.saturating_sub(q.attempts_used)),
                time_limit_minutes => q.time_limit_seconds.map(|s| s.div_ceil(60)),
                best_score => q.best_score,
                passed => q.passed,
            }),
            expires => opened.expires_at.map(|t| t.format("%-d %B %Y").to_string()),
            sections,
            previous,
            next,
        },
    )
}

/// The course outline beside the player, with the lessons before and after this one.
fn outline_of(
    outline: Option<&Curriculum>,
    current: LessonId,
    done: &std::collections::HashSet<LessonId>,
    base: &str,
) -> (Vec<minijinja::Value>, Option<String>, Option<String>) {
    let Some(outline) = outline else {
        return (Vec::new(), None, None);
    };
    let order: Vec<LessonId> = outline
        .sections
        .iter()
        .flat_map(|s| s.lessons.iter().map(|l| l.id))
        .collect();
    let at = order.iter().position(|l| *l == current);
    let href = |l: &LessonId| format!("{base}/lessons/{l}");
    let previous = at
        .and_then(|i| i.checked_sub(1))
        .and_then(|i| order.get(i))
        .map(href);
    let next = at.and_then(|i| order.get(i + 1)).map(href);
    let sections = outline
        .sections
        .iter()
        .map(|s| {
            let lessons: Vec<_> = s
                .lessons
                .iter()
                .map(|l| {
                    context! {
                        id => l.id.to_string(),
                        title => &l.title,
                        href => href(&l.id),
                        kind => l.kind.as_str(),
                        done => done.contains(&l.id),
                        current => l.id == current,
                    }
                })
                .collect();
            context! { title => &s.title, lessons }
        })
        .collect();
    (sections, previous, next)
}

/// `mm:ss` or `h:mm:ss`.
fn clock(seconds: u32) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// Why a lesson stays closed to the viewer — never bought, refunded, expired, or on hold
/// during a dispute — and the way forward.
async fn closed(state: &AppState, frame: &Frame, shop: &Shop, lesson: LessonId) -> Response {
    let course = match lessons::published_course_of(state, &shop.tenant, lesson).await {
        Ok(course) => course,
        Err(e) => return error_page(e),
    };
    let standing = match &frame.viewer {
        Some(viewer) => {
            match crate::own_account::<action::Read>(state, &Principal::User(viewer.user.id)).await
            {
                Ok(proof) => dashboard::mine(state, &proof).await.ok().and_then(|all| {
                    all.into_iter().find(|c| {
                        c.storefront == shop.tenant.slug.as_str()
                            && c.course == course.slug.as_str()
                    })
                }),
                Err(_) => None,
            }
        }
        None => None,
    };
    let course_href = format!("{}/courses/{}", shop.base, course.slug);
    let title = &course.title;
    let problem = match standing.as_ref().map(|s| (s.standing, s.expires_at)) {
        Some((Standing::Revoked, _)) => Problem::new(
            "Access refunded",
            format!("Your purchase of “{title}” was refunded, so its lessons are closed. You can buy the course again to study it."),
        )
        .action("Buy it again", &course_href),
        Some((Standing::Expired, until)) => Problem::new(
            "Access expired",
            match until {
                Some(t) => format!("Your access to “{title}” ended on {}.", t.format("%-d %B %Y")),
                None => format!("Your access to “{title}” has ended."),
            },
        )
        .action("Buy access again", &course_href),
        Some((Standing::Suspended, _)) => Problem::new(
            "Access on hold",
            format!("Access to “{title}” is on hold while a payment dispute is open. It reopens if the dispute is settled in your favour."),
        )
        .back("/learning"),
        _ => Problem::new(
            "Not bought yet",
            format!("This lesson is part of “{title}”. Buy the course to open it."),
        )
        .action("See the course", &course_href),
    };
    problem.respond(poem::http::StatusCode::PAYMENT_REQUIRED)
}

/// A player's progress report, posted by `app.js`.
#[derive(Debug, Deserialize)]
pub struct ProgressForm {
    csrf: String,
    position_seconds: u32,
    watched_seconds: u32,
    #[serde(default)]
    sent_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// `POST …/lessons/{lesson}/progress`: the player's report; answers JSON for the script.
#[handler]
pub async fn report_progress(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Form(form): Form<ProgressForm>,
) -> Response {
    let result = async {
        let shop = shop_of(state, req).await?;
        let lesson = lesson_param(req)?;
        let user = form_user(state, req, &form.csrf, shop.scope()).await?;
        let proof = state
            .policy
            .authorize::<resource::Learning, action::Update>(
                &state.db,
                &Principal::User(user.id),
                shop.tenant.domain(),
            )
            .await?;
        let report = progress::Report {
            position_seconds: form.position_seconds,
            watched_seconds: form.watched_seconds,
            sent_at: form.sent_at,
        };
        progress::record(state, &proof, &shop.tenant, lesson, report).await
    }
    .await;
    match result {
        Ok(recorded) => Json(serde_json::json!({
            "completed": recorded.lesson.completed_at.is_some(),
            "course_percent": recorded.course.percent,
        }))
        .with_header(poem::http::header::CACHE_CONTROL, "no-store")
        .into_response(),
        Err(e) => {
            let (status, problem) = crate::render::problem_of(&e);
            (
                status,
                Json(serde_json::json!({ "detail": problem.message })),
            )
                .into_response()
        }
    }
}

/// A form that carries only the CSRF token.
#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

/// `POST …/lessons/{lesson}/done`: marks a text or file lesson done, then on to the next.
#[handler]
pub async fn mark_done(
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
            .authorize::<resource::Learning, action::Update>(
                &state.db,
                &Principal::User(user.id),
                shop.tenant.domain(),
            )
            .await?;
        progress::mark_done(state, &proof, &shop.tenant, lesson).await?;
        Ok::<_, AppError>(format!("{}/lessons/{lesson}", shop.base))
    }
    .await;
    match result {
        Ok(back) => Redirect::see_other(back).into_response(),
        Err(e) => error_page(e),
    }
}

/// `/purchases`: the viewer's orders, newest first.
#[handler]
pub async fn purchases(req: &Request, Data(state): Data<&Arc<AppState>>) -> Response {
    let (frame, viewer) = match signed_in(state, req, None, Section::Purchases).await {
        Ok(found) => found,
        Err(to_sign_in) => return to_sign_in,
    };
    let result = async {
        let proof =
            crate::own_account::<action::Read>(state, &Principal::User(viewer.user.id)).await?;
        let list = orders::list_for_buyer(&state.db, &proof).await?;
        let items: Vec<_> = list
            .iter()
            .map(|o| {
                context! {
                    id => o.id.to_string(),
                    date => o.created_at.format("%-d %b %Y").to_string(),
                    courses => o.lines.iter().map(|l| l.course_title.as_str()).collect::<Vec<_>>().join(", "),
                    total => o.total.to_string(),
                    status => o.status.as_str(),
                }
            })
            .collect();
        frame.render(
            "purchases.html",
            context! { title => "Purchases", orders => items },
        )
    }
    .await;
    page(result)
}

/// `/purchases/{order}`: a receipt for one of the viewer's orders.
#[handler]
pub async fn receipt(req: &Request, Data(state): Data<&Arc<AppState>>) -> Response {
    let (frame, viewer) = match signed_in(state, req, None, Section::Purchases).await {
        Ok(found) => found,
        Err(to_sign_in) => return to_sign_in,
    };
    let result = async {
        let order_id: OrderId = req
            .raw_path_param("order")
            .and_then(|o| o.parse().ok())
            .ok_or(AppError::NotFound("order"))?;
        let proof =
            crate::own_account::<action::Read>(state, &Principal::User(viewer.user.id)).await?;
        let order = orders::load_own(&state.db, &proof, order_id)
            .await?
            .ok_or(AppError::NotFound("order"))?;
        let tenant =
            lyceum_domain::services::tenancy::tenants::find_by_id(state, order.tenant_id).await?;
        let lines: Vec<_> = order
            .lines
            .iter()
            .map(|l| {
                context! {
                    title => &l.course_title,
                    href => format!("/s/{}/courses/{}", tenant.slug, l.course_slug),
                    quantity => l.quantity,
                }
            })
            .collect();
        frame.render(
            "receipt.html",
            context! {
                title => "Receipt",
                id => order.id.to_string(),
                storefront => &tenant.name,
                date => order.created_at.format("%-d %B %Y, %H:%M UTC").to_string(),
                status => order.status.as_str(),
                gateway => &order.gateway,
                subtotal => order.subtotal.to_string(),
                discount => (!order.discount.is_zero()).then(|| order.discount.to_string()),
                total => order.total.to_string(),
                paid => order.paid.to_string(),
                refunded => (!order.refunded.is_zero()).then(|| order.refunded.to_string()),
                buyer => &viewer.user.name,
                email => viewer.user.email.as_str(),
                lines,
            },
        )
    }
    .await;
    page(result)
}
