//! Request and response bodies shared by several resources.

use chrono::{DateTime, Utc};
use poem_openapi::payload::Json;
use poem_openapi::types::{ParseFromJSON, ToJSON};
use poem_openapi::{ApiResponse, Object};
use uuid::Uuid;

use lyceum_domain::domain::{self, FieldError};
use lyceum_domain::services::catalog::{Course, Curriculum, Lesson};
use lyceum_domain::services::commerce::fee_plans::FeePlan;
use lyceum_domain::services::tenancy::tenants::Tenant;

/// An amount of money in integer minor units of an ISO 4217 currency.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Money")]
pub struct MoneyBody {
    /// Minor units (cents for USD, yen for JPY); never negative.
    pub amount: i64,
    /// Upper-case ISO 4217 code, e.g. `USD`.
    pub currency: String,
}

impl MoneyBody {
    pub fn parse(&self, field: &str) -> Result<domain::Money, FieldError> {
        domain::money(field, self.amount, &self.currency)
    }

    /// A price: as [`Self::parse`], at most [`domain::MAX_PRICE_MINOR_UNITS`].
    pub fn parse_price(&self, field: &str) -> Result<domain::Money, FieldError> {
        domain::price(field, self.amount, &self.currency)
    }
}

impl From<domain::Money> for MoneyBody {
    fn from(m: domain::Money) -> Self {
        Self {
            amount: m.amount.get(),
            currency: m.currency.code().to_owned(),
        }
    }
}

/// The id of something just created.
#[derive(Debug, Clone, Object)]
pub struct CreatedId {
    pub id: Uuid,
}

/// A list of ids in the wanted order.
#[derive(Debug, Clone, Object)]
pub struct Reorder {
    /// Every id of the container, each once, first to last.
    pub ids: Vec<Uuid>,
}

/// `201 Created` with a body.
#[derive(Debug, ApiResponse)]
pub enum Created<T: ParseFromJSON + ToJSON + Send + Sync> {
    #[oai(status = 201)]
    Created(Json<T>),
}

/// `204 No Content`.
#[derive(Debug, ApiResponse)]
pub enum NoContent {
    #[oai(status = 204)]
    NoContent,
}

/// A storefront.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Tenant")]
pub struct TenantBody {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    /// The currency every price of the storefront is in.
    pub currency: String,
    /// `pending`, `active` or `suspended`; only `active` storefronts sell.
    pub status: String,
    /// The platform fee in basis points, when the storefront has its own fee plan (its
    /// version in force); absent, the platform's default applies.
    #[oai(skip_serializing_if_is_none)]
    pub fee_bps: Option<u16>,
    /// The fixed fee per paid order of that fee plan (zero when it has none).
    #[oai(skip_serializing_if_is_none)]
    pub fixed_fee: Option<MoneyBody>,
    /// The verified domain the storefront is served on.
    #[oai(skip_serializing_if_is_none)]
    pub custom_domain: Option<String>,
    /// A requested domain that is not served until its owner proves control of it: publish
    /// this TXT record, then call `verify_custom_domain`.
    #[oai(skip_serializing_if_is_none)]
    pub domain_verification: Option<DomainVerificationBody>,
    /// Days a sale stays pending before its sellers may be paid, when the storefront has a
    /// hold of its own; absent, the platform's default applies.
    #[oai(skip_serializing_if_is_none)]
    pub payout_hold_days: Option<u16>,
    /// The colour the storefront's pages are drawn in; absent, the platform's.
    #[oai(skip_serializing_if_is_none)]
    pub brand_color: Option<String>,
    pub created_at: DateTime<Utc>,
    #[oai(skip_serializing_if_is_none)]
    pub approved_at: Option<DateTime<Utc>>,
}

/// One version of a storefront's fee plan.
#[derive(Debug, Clone, Object)]
#[oai(rename = "FeePlan")]
pub struct FeePlanBody {
    pub id: Uuid,
    /// 1 for the storefront's first plan, one more for each change.
    pub version: u32,
    /// Basis points of each order's total the platform keeps: 1000 = 10 %. Rounded half-even
    /// on the currency's minor unit.
    pub fee_bps: u16,
    /// Added to the fee of each order with something to pay; a free order pays no fee.
    pub fixed_fee: MoneyBody,
    /// When it was set: orders priced from then on use it, earlier ones keep theirs.
    pub created_at: DateTime<Utc>,
    /// The platform admin who set it; absent for a version carried over from before fee
    /// plans had versions.
    #[oai(skip_serializing_if_is_none)]
    pub set_by: Option<Uuid>,
}

impl From<FeePlan> for FeePlanBody {
    fn from(p: FeePlan) -> Self {
        Self {
            id: p.id.into(),
            version: p.version,
            fee_bps: p.terms.bps,
            fixed_fee: p.terms.fixed.into(),
            created_at: p.created_at,
            set_by: p.set_by.map(Into::into),
        }
    }
}

/// The DNS record that proves control of a requested custom domain.
#[derive(Debug, Clone, Object)]
#[oai(rename = "DomainVerification")]
pub struct DomainVerificationBody {
    /// The requested domain.
    pub domain: String,
    /// The TXT record's name.
    pub record_name: String,
    /// The TXT record's value.
    pub record_value: String,
}

impl From<Tenant> for TenantBody {
    fn from(t: Tenant) -> Self {
        Self {
            id: t.id.into(),
            slug: t.slug.into_inner(),
            name: t.name,
            currency: t.currency.code().to_owned(),
            status: t.status.as_str().to_owned(),
            fee_bps: t.fee_plan.as_ref().map(|p| p.terms.bps),
            fixed_fee: t.fee_plan.as_ref().map(|p| p.terms.fixed.into()),
            domain_verification: t.pending_domain.as_ref().map(|p| DomainVerificationBody {
                domain: p.domain.clone(),
                record_name: p.record_name(),
                record_value: p.record_value(),
            }),
            custom_domain: t.custom_domain,
            payout_hold_days: t.payout_hold_days,
            brand_color: t.brand_color,
            created_at: t.created_at,
            approved_at: t.approved_at,
        }
    }
}

impl From<std::sync::Arc<Tenant>> for TenantBody {
    fn from(t: std::sync::Arc<Tenant>) -> Self {
        std::sync::Arc::unwrap_or_clone(t).into()
    }
}

/// A course as listed.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Course")]
pub struct CourseBody {
    pub id: Uuid,
    pub slug: String,
    pub title: String,
    pub description: String,
    /// Zero for a free course.
    pub price: MoneyBody,
    /// Days of access after purchase; absent for lifetime access.
    #[oai(skip_serializing_if_is_none)]
    pub access_days: Option<u32>,
    pub published: bool,
    #[oai(skip_serializing_if_is_none)]
    pub published_at: Option<DateTime<Utc>>,
    /// The completion rule: how much of a required video counts as watched, in percent.
    pub complete_percent: u8,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Course> for CourseBody {
    fn from(c: Course) -> Self {
        Self {
            id: c.id.into(),
            slug: c.slug.into_inner(),
            title: c.title,
            description: c.description,
            price: c.price.into(),
            access_days: c.access_days,
            published: c.published,
            published_at: c.published_at,
            complete_percent: c.complete_percent,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A course with its curriculum.
#[derive(Debug, Clone, Object)]
#[oai(rename = "CourseDetail")]
pub struct CourseDetailBody {
    #[oai(flatten)]
    pub course: CourseBody,
    pub sections: Vec<SectionBody>,
}

/// A section of a curriculum.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Section")]
pub struct SectionBody {
    pub id: Uuid,
    pub title: String,
    pub position: i32,
    pub lessons: Vec<LessonBody>,
}

/// A lesson of a curriculum.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Lesson")]
pub struct LessonBody {
    pub id: Uuid,
    pub title: String,
    /// `video`, `text` or `file`.
    pub kind: String,
    /// Anyone may open a free-preview lesson.
    pub free_preview: bool,
    pub position: i32,
    /// The text of the lesson; only shown to the storefront's staff here.
    #[oai(skip_serializing_if_is_none)]
    pub body: Option<String>,
    /// Whether an asset (video, file) was uploaded.
    pub has_asset: bool,
    /// The asset's media type and size in bytes; only shown to staff.
    #[oai(skip_serializing_if_is_none)]
    pub asset_content_type: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub asset_size: Option<i64>,
    /// Counted by the course's completion rule.
    pub required: bool,
    /// A video's length in seconds, once transcoded.
    #[oai(skip_serializing_if_is_none)]
    pub duration_seconds: Option<u32>,
    /// Opens this many days after a learner's access starts.
    #[oai(skip_serializing_if_is_none)]
    pub drip_days: Option<u32>,
    /// Opens at this time.
    #[oai(skip_serializing_if_is_none)]
    pub drip_at: Option<DateTime<Utc>>,
}

impl CourseDetailBody {
    /// `staff` shows lesson bodies and asset details.
    pub fn new(c: Curriculum, staff: bool) -> Self {
        let lesson = |l: Lesson| LessonBody {
            has_asset: l.asset.is_some(),
            asset_content_type: l
                .asset
                .as_ref()
                .filter(|_| staff)
                .map(|a| a.content_type.clone()),
            asset_size: l.asset.as_ref().filter(|_| staff).map(|a| a.size),
            body: l.body.filter(|_| staff),
            id: l.id.into(),
            title: l.title,
            kind: l.kind.as_str().to_owned(),
            free_preview: l.free_preview,
            position: l.position,
            required: l.required,
            duration_seconds: l.duration_seconds,
            drip_days: l.drip.days,
            drip_at: l.drip.at,
        };
        Self {
            course: c.course.into(),
            sections: c
                .sections
                .into_iter()
                .map(|s| SectionBody {
                    id: s.id.into(),
                    title: s.title,
                    position: s.position,
                    lessons: s.lessons.into_iter().map(lesson).collect(),
                })
                .collect(),
        }
    }
}
