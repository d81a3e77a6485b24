//! `lyceum serve --demo`: a storefront to click through, seeded once through the real services,
//! with lesson material of every kind ([`material`]).

mod material;

use std::fmt;

use lyceum_gateway_core::{Currency, Money};
use lyceum_tenants::TenantStatus;
use lyceum_tenants::rbac::{Domain, Grant, Principal, Role, action, resource};
use sea_orm::TransactionTrait;

use crate::domain::{Email, Password, Slug};
use crate::error::{AppError, AppResult};
use crate::services::accounts::{self, PersonName, Registration};
use crate::services::catalog::courses::{self, NewCourse};
use crate::services::catalog::curriculum::{self, NewLesson};
use crate::services::catalog::{
    CourseDescription, CourseTitle, LessonBody, LessonKind, LessonTitle, SectionTitle,
};
use crate::services::teams;
use crate::services::tenancy::policy::Policy;
use crate::services::tenancy::tenants::{self, Application, TenantName};
use crate::state::AppState;

/// The demo storefront's slug.
pub const TENANT: &str = "demo";

/// The demo accounts, printed at start.
#[derive(Debug)]
pub struct Logins {
    pub seeded: bool,
    pub accounts: Vec<(&'static str, &'static str, &'static str)>,
    pub storefront: String,
}

impl fmt::Display for Logins {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Demo data {} — storefront: {}",
            if self.seeded {
                "seeded"
            } else {
                "already present"
            },
            self.storefront
        )?;
        for (role, email, password) in &self.accounts {
            writeln!(f, "  {role:<14} {email:<32} password: {password}")?;
        }
        Ok(())
    }
}

const ACCOUNTS: [(&str, &str, &str, &str); 4] = [
    (
        "platform admin",
        "admin@demo.lyceum.test",
        "demo-admin-pass",
        "Ada Admin",
    ),
    (
        "instructor",
        "instructor@demo.lyceum.test",
        "demo-instructor-pass",
        "Ivan Instructor",
    ),
    (
        "student",
        "student@demo.lyceum.test",
        "demo-student-pass",
        "Sasha Student",
    ),
    (
        "team manager",
        "manager@demo.lyceum.test",
        "demo-manager-pass",
        "Maria Manager",
    ),
];

/// A lesson: title, kind, free preview.
type DemoLesson = (&'static str, LessonKind, bool);
/// A section: title and lessons.
type DemoSection = (&'static str, &'static [DemoLesson]);

struct DemoCourse {
    slug: &'static str,
    title: &'static str,
    description: &'static str,
    price: i64,
    access_days: Option<u32>,
    sections: &'static [DemoSection],
}

const COURSES: [DemoCourse; 3] = [
    DemoCourse {
        slug: "welcome-to-rust",
        title: "Welcome to Rust",
        description: "A free tour of the language: installing the toolchain, cargo, and your first program.",
        price: 0,
        access_days: None,
        sections: &[
            (
                "Getting started",
                &[
                    ("Installing Rust", LessonKind::Video, true),
                    ("Hello, cargo", LessonKind::Text, false),
                ],
            ),
            (
                "First steps",
                &[("Variables and types", LessonKind::Text, false)],
            ),
        ],
    },
    DemoCourse {
        slug: "async-rust-in-practice",
        title: "Async Rust in Practice",
        description: "Futures, tokio, cancellation and back-pressure, by building a small web service.",
        price: 4900,
        access_days: None,
        sections: &[
            (
                "Foundations",
                &[
                    ("Why async?", LessonKind::Video, true),
                    ("Futures by hand", LessonKind::Text, false),
                ],
            ),
            (
                "Building a service",
                &[
                    ("Routing and state", LessonKind::Video, false),
                    ("Graceful shutdown", LessonKind::File, false),
                ],
            ),
        ],
    },
    DemoCourse {
        slug: "databases-for-backend-developers",
        title: "Databases for Backend Developers",
        description: "Transactions, isolation, indexes and migrations on PostgreSQL and SQLite. One year of access.",
        price: 12900,
        access_days: Some(365),
        sections: &[
            (
                "Transactions",
                &[
                    ("ACID without the jargon", LessonKind::Video, true),
                    ("Isolation levels", LessonKind::Text, false),
                ],
            ),
            (
                "Schema changes",
                &[("Reversible migrations", LessonKind::Text, false)],
            ),
        ],
    },
];

/// Seeds the demo once; later runs find it and only report the logins.
pub async fn seed(state: &AppState) -> AppResult<Logins> {
    let logins = Logins {
        seeded: false,
        accounts: ACCOUNTS
            .iter()
            .map(|(role, email, pw, _)| (*role, *email, *pw))
            .collect(),
        storefront: format!("{}s/{TENANT}", state.settings.public_url),
    };
    if tenants::find_by_slug(state, TENANT).await.is_ok() {
        return Ok(logins);
    }
    let mut ids = Vec::new();
    for (_, email, password, name) in ACCOUNTS {
        let input = Registration {
            email: Email::parse("email", email)?,
            password: Password::parse("password", password.to_owned())?,
            name: PersonName::parse("name", name)?,
        };
        let user = match accounts::find_by_email(&state.db, &input.email).await? {
            Some(existing) => existing.id,
            None => accounts::register(state, input).await?.0.id,
        };
        ids.push(user);
    }
    let [admin, instructor, _student, manager] = ids[..] else {
        return Err(AppError::Internal("demo accounts missing"));
    };
    let grant = Grant::new(admin, Role::PlatformAdmin, Domain::Platform);
    let txn = state.db.begin().await?;
    let granted = Policy::store_grant(&txn, &grant).await?;
    state.commit(txn, granted).await?;

    let applicant = state
        .policy
        .authorize::<resource::Tenant, action::Create>(
            &state.db,
            &Principal::User(instructor),
            Domain::Platform,
        )
        .await?;
    let usd = Currency::parse("USD")?;
    let tenant = tenants::apply(
        state,
        &applicant,
        Application {
            slug: Slug::parse(TENANT).map_err(|e| AppError::invalid("slug", e))?,
            name: TenantName::parse("name", "Demo Academy")?,
            currency: usd,
        },
    )
    .await?;
    let approver = state
        .policy
        .authorize::<resource::Platform, action::Approve>(
            &state.db,
            &Principal::User(admin),
            Domain::Platform,
        )
        .await?;
    let tenant = tenants::set_status(state, &approver, &tenant, TenantStatus::Active).await?;

    // The instructor's three proofs: each service takes the one for what it does.
    let instructor = Principal::User(instructor);
    let author = state
        .policy
        .authorize::<resource::Course, action::Create>(&state.db, &instructor, tenant.domain())
        .await?;
    let editor = state
        .policy
        .authorize::<resource::Course, action::Update>(&state.db, &instructor, tenant.domain())
        .await?;
    let publisher = state
        .policy
        .authorize::<resource::Course, action::Publish>(&state.db, &instructor, tenant.domain())
        .await?;
    for course in &COURSES {
        let created = courses::create(
            state,
            &author,
            &tenant,
            NewCourse {
                slug: Slug::parse(course.slug).map_err(|e| AppError::invalid("slug", e))?,
                title: CourseTitle::parse("title", course.title)?,
                description: CourseDescription::parse("description", course.description)?,
                price: Money::new(course.price, usd)?,
                access_days: course.access_days,
            },
        )
        .await?;
        for (section_title, lessons) in course.sections {
            let section = curriculum::add_section(
                state,
                &editor,
                &tenant,
                created.slug.as_str(),
                SectionTitle::parse("title", section_title)?,
            )
            .await?;
            for (lesson_title, kind, free_preview) in lessons.iter() {
                curriculum::add_lesson(
                    state,
                    &editor,
                    &tenant,
                    created.slug.as_str(),
                    section,
                    NewLesson {
                        title: LessonTitle::parse("title", lesson_title)?,
                        kind: *kind,
                        free_preview: *free_preview,
                        required: true,
                        drip: Default::default(),
                        body: Some(LessonBody::parse(
                            "body",
                            &format!("{lesson_title}: the notes of this lesson, in Markdown."),
                        )?),
                    },
                )
                .await?;
            }
        }
        let reader = state
            .policy
            .authorize::<resource::Course, action::Read>(&state.db, &instructor, tenant.domain())
            .await?;
        let built = courses::get_for_staff(state, &reader, &tenant, created.slug.as_str()).await?;
        match course.slug {
            "welcome-to-rust" => {
                material::furnish_free_course(state, &editor, &tenant, &built).await?;
            }
            "async-rust-in-practice" => {
                material::furnish_paid_course(state, &editor, &tenant, &built).await?;
            }
            _ => {}
        }
        courses::set_published(state, &publisher, &tenant, created.slug.as_str(), true).await?;
    }
    // The team manager runs a team, ready to buy seats for.
    let maker = state
        .policy
        .authorize::<resource::Team, action::Create>(
            &state.db,
            &Principal::User(manager),
            Domain::Platform,
        )
        .await?;
    teams::create(state, &maker, teams::TeamName::parse("name", "Demo team")?).await?;
    tracing::info!(tenant.slug = TENANT, "demo data seeded");
    Ok(Logins {
        seeded: true,
        ..logins
    })
}
