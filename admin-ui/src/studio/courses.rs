//! Courses in the studio: the list and a new course; one course's details, publishing and
//! deletion; its sections and lessons, added and put in order (drag and drop through
//! `app.js`, or the up and down buttons without script).
//!
//! The same services and proofs as the API's `create_course`, `update_course`,
//! `publish_course`/`unpublish_course`, `delete_course`, `create_section`, `update_section`,
//! `delete_section`, `create_lesson` and `reorder_sections`/`reorder_lessons`.

use std::sync::Arc;

use lyceum_tenants::rbac::{action, resource};
use minijinja::{Value, context};
use poem::http::StatusCode;
use poem::web::{Data, Form, Path, Query};
use poem::{IntoResponse, Request, Response, handler};
use serde::{Deserialize, Serialize};

use super::{
    Done, Flash, Studio, day, in_tenant, input_time, money, parse_count, parse_price, parse_time,
    poster, refused, see_other, size, ticked,
};
use crate::frame::{Frame, Section, signed_in};
use crate::render::{error_page, page};
use crate::shop::Viewer;
use lyceum_domain::domain;
use lyceum_domain::error::{AppError, AppResult};
use lyceum_domain::ids::{LessonId, SectionId};
use lyceum_domain::services::catalog::courses::{self, CoursePatch, NewCourse};
use lyceum_domain::services::catalog::curriculum::{self, NewLesson};
use lyceum_domain::services::catalog::{
    Course, CourseDescription, CourseTitle, Curriculum, Drip, Lesson, LessonBody, LessonTitle,
    SectionTitle,
};
use lyceum_domain::state::AppState;

// ---------------------------------------------------------------------------------------------
// The list of courses, and a new one.

/// Every course of the storefront, drafts included, and the form for a new one.
#[handler]
pub(super) async fn list_courses(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path(slug): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    let (frame, viewer) = match signed_in(state, req, None, Section::Studio).await {
        Ok(found) => found,
        Err(redirect) => return redirect,
    };
    page(
        list_page(
            state,
            &frame,
            &viewer,
            &slug,
            &Flash::from_query(&done),
            None,
        )
        .await,
    )
}

async fn list_page(
    state: &AppState,
    frame: &Frame,
    viewer: &Viewer,
    slug: &str,
    flash: &Flash,
    draft: Option<&NewCourseForm>,
) -> AppResult<String> {
    let (tenant, proof) =
        in_tenant::<resource::Course, action::Read>(state, viewer.user.id, slug).await?;
    let list = courses::list_all(state, &proof, &tenant).await?;
    let studio = Studio::load(state, viewer, tenant.clone()).await;
    let items: Vec<Value> = list
        .iter()
        .map(|c| {
            context! {
                slug => c.slug.as_str(),
                title => &c.title,
                published => c.published,
                price => price_label(c),
                access => access_label(c.access_days),
                created => day(c.created_at),
            }
        })
        .collect();
    frame.render(
        "studio/courses.html",
        context! {
            title => format!("Courses · {}", tenant.name),
            studio => studio.value("courses"),
            flash => flash.value(),
            courses => items,
            form => draft,
        },
    )
}

/// The new-course form.
#[derive(Debug, Deserialize, Serialize)]
pub(super) struct NewCourseForm {
    #[serde(skip_serializing)]
    csrf: String,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    price: String,
    access_days: Option<String>,
}

/// Creates an unpublished course (`course, create`), then opens it.
#[handler]
pub(super) async fn create_course(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path(slug): Path<String>,
    Form(form): Form<NewCourseForm>,
) -> Response {
    let result = async {
        let user = poster(state, req, &form.csrf).await?;
        let (tenant, proof) =
            in_tenant::<resource::Course, action::Create>(state, user.id, &slug).await?;
        let input = NewCourse {
            slug: domain::slug("slug", form.slug.trim())?,
            title: CourseTitle::parse("title", form.title.trim())?,
            description: CourseDescription::parse("description", form.description.trim())?,
            price: parse_price("price", &form.price, tenant.currency)?,
            access_days: parse_count("access_days", form.access_days.as_deref())?,
        };
        courses::create(state, &proof, &tenant, input).await
    }
    .await;
    match result {
        Ok(course) => see_other(format!(
            "/studio/{slug}/courses/{}?done=created",
            course.slug
        )),
        Err(e) => {
            refused(state, req, e, |frame, viewer, flash| async move {
                list_page(state, &frame, &viewer, &slug, &flash, Some(&form)).await
            })
            .await
        }
    }
}

// ---------------------------------------------------------------------------------------------
// One course.

/// A course: its details, its curriculum and what may be done with them.
#[handler]
pub(super) async fn show_course(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path((slug, course)): Path<(String, String)>,
    Query(done): Query<Done>,
) -> Response {
    let (frame, viewer) = match signed_in(state, req, None, Section::Studio).await {
        Ok(found) => found,
        Err(redirect) => return redirect,
    };
    let flash = Flash::from_query(&done);
    page(course_page(state, &frame, &viewer, &slug, &course, &flash, Draft::None).await)
}

/// What a course page shows again after a refused form: what was typed into it.
#[derive(Default)]
pub(super) enum Draft<'a> {
    #[default]
    None,
    Details(&'a DetailsForm),
    Lesson(&'a str, &'a NewLessonForm),
}

pub(super) async fn course_page(
    state: &AppState,
    frame: &Frame,
    viewer: &Viewer,
    slug: &str,
    course: &str,
    flash: &Flash,
    draft: Draft<'_>,
) -> AppResult<String> {
    let (tenant, proof) =
        in_tenant::<resource::Course, action::Read>(state, viewer.user.id, slug).await?;
    let curriculum = courses::get_for_staff(state, &proof, &tenant, course).await?;
    let studio = Studio::load(state, viewer, tenant.clone()).await;
    let c = &curriculum.course;
    let base = format!("{}/courses/{}", studio.base(), c.slug);
    let details = match draft {
        Draft::Details(form) => context! {
            title => &form.title,
            description => &form.description,
            price => &form.price,
            access_days => form.access_days.as_deref().unwrap_or_default(),
            complete_percent => form.complete_percent.as_deref().unwrap_or_default(),
        },
        _ => context! {
            title => &c.title,
            description => &c.description,
            price => c.price.to_decimal_string(),
            access_days => c.access_days.map(|d| d.to_string()).unwrap_or_default(),
            complete_percent => c.complete_percent.to_string(),
        },
    };
    let (lesson_draft_section, lesson_draft) = match draft {
        Draft::Lesson(section, form) => (Some(section), Some(form)),
        _ => (None, None),
    };
    let sections = sections_of(&curriculum, &base);
    frame.render(
        "studio/course.html",
        context! {
            title => format!("{} · Studio", c.title),
            studio => studio.value("courses"),
            flash => flash.value(),
            base,
            storefront => format!("/s/{}/courses/{}", tenant.slug, c.slug),
            course => context! {
                slug => c.slug.as_str(),
                title => &c.title,
                published => c.published,
                published_at => c.published_at.map(day),
                price => price_label(c),
                access => access_label(c.access_days),
                complete_percent => c.complete_percent,
            },
            details,
            currency => tenant.currency.code(),
            sections,
            lesson_draft_section,
            lesson_draft,
        },
    )
}

fn sections_of(curriculum: &Curriculum, base: &str) -> Vec<Value> {
    let last_section = curriculum.sections.len().saturating_sub(1);
    curriculum
        .sections
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let last = s.lessons.len().saturating_sub(1);
            let lessons: Vec<Value> = s
                .lessons
                .iter()
                .enumerate()
                .map(|(j, l)| lesson_row(l, base, j == 0, j == last))
                .collect();
            context! {
                id => s.id.to_string(),
                title => &s.title,
                first => i == 0,
                last => i == last_section,
                lessons,
            }
        })
        .collect()
}

fn lesson_row(l: &Lesson, base: &str, first: bool, last: bool) -> Value {
    context! {
        id => l.id.to_string(),
        href => format!("{base}/lessons/{}", l.id),
        title => &l.title,
        kind => l.kind.as_str(),
        free_preview => l.free_preview,
        required => l.required,
        drip => drip_label(&l.drip),
        asset => l.asset.as_ref().map(|a| format!("{}, {}", a.content_type, size(u64::try_from(a.size).unwrap_or_default()))),
        first,
        last,
    }
}

/// When a lesson opens, in words; `None` when it opens at once.
pub(super) fn drip_label(drip: &Drip) -> Option<String> {
    match (drip.days, drip.at) {
        (None, None) => None,
        (Some(days), None) => Some(format!("opens {days} days after access starts")),
        (None, Some(at)) => Some(format!("opens {}", day(at))),
        (Some(days), Some(at)) => Some(format!(
            "opens {days} days after access starts, not before {}",
            day(at)
        )),
    }
}

fn price_label(c: &Course) -> String {
    if c.is_free() {
        "Free".to_owned()
    } else {
        money(c.price)
    }
}

fn access_label(days: Option<u32>) -> String {
    match days {
        Some(days) => format!("{days} days of access"),
        None => "Lifetime access".to_owned(),
    }
}

/// The course details form.
#[derive(Debug, Deserialize)]
pub(super) struct DetailsForm {
    csrf: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    price: String,
    access_days: Option<String>,
    complete_percent: Option<String>,
}

/// Changes a course's title, description, price, access period and completion rule
/// (`course, update`).
#[handler]
pub(super) async fn update_course(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path((slug, course)): Path<(String, String)>,
    Form(form): Form<DetailsForm>,
) -> Response {
    let result = async {
        let user = poster(state, req, &form.csrf).await?;
        let (tenant, proof) =
            in_tenant::<resource::Course, action::Update>(state, user.id, &slug).await?;
        let percent = parse_count("complete_percent", form.complete_percent.as_deref())?
            .map(|p| {
                u8::try_from(p)
                    .map_err(|_| AppError::invalid("complete_percent", "must be 1 to 100"))
            })
            .transpose()?;
        let patch = CoursePatch {
            title: Some(CourseTitle::parse("title", form.title.trim())?),
            description: Some(CourseDescription::parse(
                "description",
                form.description.trim(),
            )?),
            price: Some(parse_price("price", &form.price, tenant.currency)?),
            // Empty is lifetime access.
            access_days: Some(parse_count("access_days", form.access_days.as_deref())?),
            complete_percent: percent,
        };
        courses::update(state, &proof, &tenant, &course, patch).await
    }
    .await;
    match result {
        Ok(_) => see_other(format!("/studio/{slug}/courses/{course}?done=saved")),
        Err(e) => {
            refused(state, req, e, |frame, viewer, flash| async move {
                let draft = Draft::Details(&form);
                course_page(state, &frame, &viewer, &slug, &course, &flash, draft).await
            })
            .await
        }
    }
}

/// A form with nothing but the session's token.
#[derive(Debug, Deserialize)]
pub(super) struct Plain {
    pub(super) csrf: String,
}

/// Puts a course in the storefront's catalog (`course, publish`).
#[handler]
pub(super) async fn publish_course(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path((slug, course)): Path<(String, String)>,
    Form(form): Form<Plain>,
) -> Response {
    set_published(state, req, slug, course, &form, true).await
}

/// Takes a course out of the catalog (`course, publish`); buyers keep their access.
#[handler]
pub(super) async fn unpublish_course(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path((slug, course)): Path<(String, String)>,
    Form(form): Form<Plain>,
) -> Response {
    set_published(state, req, slug, course, &form, false).await
}

async fn set_published(
    state: &AppState,
    req: &Request,
    slug: String,
    course: String,
    form: &Plain,
    published: bool,
) -> Response {
    let result = async {
        let user = poster(state, req, &form.csrf).await?;
        let (tenant, proof) =
            in_tenant::<resource::Course, action::Publish>(state, user.id, &slug).await?;
        courses::set_published(state, &proof, &tenant, &course, published).await
    }
    .await;
    let done = if published {
        "published"
    } else {
        "unpublished"
    };
    match result {
        Ok(_) => see_other(format!("/studio/{slug}/courses/{course}?done={done}")),
        Err(e) => {
            refused(state, req, e, |frame, viewer, flash| async move {
                course_page(state, &frame, &viewer, &slug, &course, &flash, Draft::None).await
            })
            .await
        }
    }
}

/// Deletes a course nobody has bought, been given or completed (`course, delete`; the service
/// refuses others: unpublish them instead).
#[handler]
pub(super) async fn delete_course(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path((slug, course)): Path<(String, String)>,
    Form(form): Form<Plain>,
) -> Response {
    let result = async {
        let user = poster(state, req, &form.csrf).await?;
        let (tenant, proof) =
            in_tenant::<resource::Course, action::Delete>(state, user.id, &slug).await?;
        courses::delete(state, &proof, &tenant, &course).await
    }
    .await;
    match result {
        Ok(()) => see_other(format!("/studio/{slug}/courses?done=deleted")),
        Err(e) => {
            refused(state, req, e, |frame, viewer, flash| async move {
                course_page(state, &frame, &viewer, &slug, &course, &flash, Draft::None).await
            })
            .await
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Sections.

/// A section's title.
#[derive(Debug, Deserialize)]
pub(super) struct TitleForm {
    csrf: String,
    #[serde(default)]
    title: String,
}

/// Appends a section to a course (`course, update`).
#[handler]
pub(super) async fn add_section(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path((slug, course)): Path<(String, String)>,
    Form(form): Form<TitleForm>,
) -> Response {
    let result = async {
        let user = poster(state, req, &form.csrf).await?;
        let (tenant, proof) =
            in_tenant::<resource::Course, action::Update>(state, user.id, &slug).await?;
        let title = SectionTitle::parse("title", form.title.trim())?;
        curriculum::add_section(state, &proof, &tenant, &course, title).await
    }
    .await;
    match result {
        Ok(id) => see_other(format!(
            "/studio/{slug}/courses/{course}?done=section#section-{id}"
        )),
        Err(e) => {
            refused(state, req, e, |frame, viewer, flash| async move {
                course_page(state, &frame, &viewer, &slug, &course, &flash, Draft::None).await
            })
            .await
        }
    }
}

/// Renames a section (`course, update`).
#[handler]
pub(super) async fn rename_section(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path((slug, course, section)): Path<(String, String, String)>,
    Form(form): Form<TitleForm>,
) -> Response {
    let result = async {
        let user = poster(state, req, &form.csrf).await?;
        let (tenant, proof) =
            in_tenant::<resource::Course, action::Update>(state, user.id, &slug).await?;
        let section = section_id(&section)?;
        let title = SectionTitle::parse("title", form.title.trim())?;
        curriculum::rename_section(state, &proof, &tenant, section, title).await
    }
    .await;
    match result {
        Ok(()) => see_other(format!(
            "/studio/{slug}/courses/{course}?done=saved#section-{section}"
        )),
        Err(e) => {
            refused(state, req, e, |frame, viewer, flash| async move {
                course_page(state, &frame, &viewer, &slug, &course, &flash, Draft::None).await
            })
            .await
        }
    }
}

/// Deletes a section with its lessons and learners' progress in them (`course, delete`: the
/// owner's).
#[handler]
pub(super) async fn delete_section(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path((slug, course, section)): Path<(String, String, String)>,
    Form(form): Form<Plain>,
) -> Response {
    let result = async {
        let user = poster(state, req, &form.csrf).await?;
        let (tenant, proof) =
            in_tenant::<resource::Course, action::Delete>(state, user.id, &slug).await?;
        curriculum::delete_section(state, &proof, &tenant, section_id(&section)?).await
    }
    .await;
    match result {
        Ok(()) => see_other(format!(
            "/studio/{slug}/courses/{course}?done=deleted#curriculum"
        )),
        Err(e) => {
            refused(state, req, e, |frame, viewer, flash| async move {
                course_page(state, &frame, &viewer, &slug, &course, &flash, Draft::None).await
            })
            .await
        }
    }
}

fn section_id(text: &str) -> AppResult<SectionId> {
    text.parse().map_err(|_| AppError::NotFound("section"))
}

// ---------------------------------------------------------------------------------------------
// Lessons.

/// A new lesson.
#[derive(Debug, Deserialize, Serialize)]
pub(super) struct NewLessonForm {
    #[serde(skip_serializing)]
    csrf: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    body: String,
    free_preview: Option<String>,
    required: Option<String>,
    drip_days: Option<String>,
    drip_at: Option<String>,
}

/// Appends a lesson to a section (`course, update`), then opens it.
#[handler]
pub(super) async fn add_lesson(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path((slug, course, section)): Path<(String, String, String)>,
    Form(form): Form<NewLessonForm>,
) -> Response {
    let result = async {
        let user = poster(state, req, &form.csrf).await?;
        let (tenant, proof) =
            in_tenant::<resource::Course, action::Update>(state, user.id, &slug).await?;
        let body = form.body.trim();
        let input = NewLesson {
            title: LessonTitle::parse("title", form.title.trim())?,
            kind: form.kind.parse()?,
            free_preview: ticked(form.free_preview.as_deref()),
            required: ticked(form.required.as_deref()),
            drip: Drip {
                days: parse_count("drip_days", form.drip_days.as_deref())?,
                at: parse_time("drip_at", form.drip_at.as_deref())?,
            },
            body: (!body.is_empty())
                .then(|| LessonBody::parse("body", body))
                .transpose()?,
        };
        curriculum::add_lesson(
            state,
            &proof,
            &tenant,
            &course,
            section_id(&section)?,
            input,
        )
        .await
    }
    .await;
    match result {
        Ok(id) => see_other(format!(
            "/studio/{slug}/courses/{course}/lessons/{id}?done=lesson"
        )),
        Err(e) => {
            refused(state, req, e, |frame, viewer, flash| async move {
                let draft = Draft::Lesson(&section, &form);
                course_page(state, &frame, &viewer, &slug, &course, &flash, draft).await
            })
            .await
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Order.

/// A new order: every id of the container, first to last (`order=a,b,c`, sent by `app.js`
/// after a drag), or one item moved one place (`id` and `direction`, the buttons).
#[derive(Debug, Deserialize)]
pub(super) struct ReorderForm {
    csrf: String,
    order: Option<String>,
    id: Option<String>,
    direction: Option<String>,
}

/// Puts a course's sections in order (`course, update`).
#[handler]
pub(super) async fn reorder_sections(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path((slug, course)): Path<(String, String)>,
    Form(form): Form<ReorderForm>,
) -> Response {
    let result = async {
        let user = poster(state, req, &form.csrf).await?;
        let (tenant, proof) =
            in_tenant::<resource::Course, action::Update>(state, user.id, &slug).await?;
        let order = match &form.order {
            Some(list) => parse_ids::<SectionId>(list)?,
            None => {
                let (_, read) =
                    in_tenant::<resource::Course, action::Read>(state, user.id, &slug).await?;
                let now = courses::get_for_staff(state, &read, &tenant, &course).await?;
                let ids: Vec<SectionId> = now.sections.iter().map(|s| s.id).collect();
                moved(ids, &form)?
            }
        };
        curriculum::reorder_sections(state, &proof, &tenant, &course, order).await
    }
    .await;
    reordered(
        state,
        req,
        result,
        &form,
        slug,
        course,
        "curriculum".to_owned(),
    )
    .await
}

/// Puts a section's lessons in order (`course, update`).
#[handler]
pub(super) async fn reorder_lessons(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path((slug, course, section)): Path<(String, String, String)>,
    Form(form): Form<ReorderForm>,
) -> Response {
    let result = async {
        let user = poster(state, req, &form.csrf).await?;
        let (tenant, proof) =
            in_tenant::<resource::Course, action::Update>(state, user.id, &slug).await?;
        let section = section_id(&section)?;
        let order = match &form.order {
            Some(list) => parse_ids::<LessonId>(list)?,
            None => {
                let (_, read) =
                    in_tenant::<resource::Course, action::Read>(state, user.id, &slug).await?;
                let now = courses::get_for_staff(state, &read, &tenant, &course).await?;
                let ids: Vec<LessonId> = now
                    .sections
                    .iter()
                    .find(|s| s.id == section)
                    .ok_or(AppError::NotFound("section"))?
                    .lessons
                    .iter()
                    .map(|l| l.id)
                    .collect();
                moved(ids, &form)?
            }
        };
        curriculum::reorder_lessons(state, &proof, &tenant, &course, section, order).await
    }
    .await;
    let anchor = format!("section-{section}");
    reordered(state, req, result, &form, slug, course, anchor).await
}

/// The answer to a new order: to the script, 204 (or the error's status); to a button, the
/// course page at the list.
async fn reordered(
    state: &AppState,
    req: &Request,
    result: AppResult<()>,
    form: &ReorderForm,
    slug: String,
    course: String,
    anchor: String,
) -> Response {
    match result {
        Ok(()) if form.order.is_some() => StatusCode::NO_CONTENT.into_response(),
        Ok(()) => see_other(format!(
            "/studio/{slug}/courses/{course}?done=moved#{anchor}"
        )),
        Err(e) if form.order.is_some() => error_page(e),
        Err(e) => {
            refused(state, req, e, |frame, viewer, flash| async move {
                course_page(state, &frame, &viewer, &slug, &course, &flash, Draft::None).await
            })
            .await
        }
    }
}

/// `a,b,c` as ids; an id that does not parse names nothing in this course.
fn parse_ids<T: std::str::FromStr>(list: &str) -> AppResult<Vec<T>> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse()
                .map_err(|_| AppError::invalid("order", "names something that is not here"))
        })
        .collect()
}

/// `ids` with the form's item moved one place up or down (nothing moves past an end).
fn moved<T: PartialEq + std::str::FromStr>(
    mut ids: Vec<T>,
    form: &ReorderForm,
) -> AppResult<Vec<T>> {
    let id: T = form
        .id
        .as_deref()
        .and_then(|i| i.parse().ok())
        .ok_or_else(|| AppError::invalid("id", "names nothing here"))?;
    let at = ids
        .iter()
        .position(|i| *i == id)
        .ok_or_else(|| AppError::invalid("id", "names nothing here"))?;
    match form.direction.as_deref() {
        Some("up") if at > 0 => ids.swap(at, at - 1),
        Some("down") if at + 1 < ids.len() => ids.swap(at, at + 1),
        Some("up" | "down") => {}
        _ => return Err(AppError::invalid("direction", "must be `up` or `down`")),
    }
    Ok(ids)
}

/// A lesson's drip settings as a form shows them.
pub(super) fn drip_fields(drip: &Drip) -> (String, String) {
    (
        drip.days.map(|d| d.to_string()).unwrap_or_default(),
        drip.at.map(input_time).unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(id: &str, direction: &str) -> ReorderForm {
        ReorderForm {
            csrf: String::new(),
            order: None,
            id: Some(id.to_owned()),
            direction: Some(direction.to_owned()),
        }
    }

    #[test]
    fn buttons_move_one_place_and_stop_at_the_ends() {
        let ids = || vec![1_u32, 2, 3];
        assert_eq!(moved(ids(), &form("2", "up")).unwrap(), vec![2, 1, 3]);
        assert_eq!(moved(ids(), &form("2", "down")).unwrap(), vec![1, 3, 2]);
        assert_eq!(moved(ids(), &form("1", "up")).unwrap(), vec![1, 2, 3]);
        assert_eq!(moved(ids(), &form("3", "down")).unwrap(), vec![1, 2, 3]);
        assert!(moved(ids(), &form("4", "up")).is_err());
        assert!(moved(ids(), &form("2", "sideways")).is_err());
    }
}
