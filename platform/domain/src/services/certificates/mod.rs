//! Course-completion certificates: issued once per learner and course when the completion
//! rule first holds, rendered to PDF ([`pdf`]) and stored through `object_store` by the
//! outbox, which e-mails it; anyone with the code can verify it, and one whose access was
//! refunded or lost in a dispute shows as revoked.

pub mod pdf;

use chrono::{DateTime, Utc};
use lyceum_tenants::rbac::{Authorized, action, resource};
use object_store::ObjectStoreExt;
use object_store::path::Path;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder,
};

use crate::entities::entitlements::EntitlementStatus;
use crate::entities::outbox::OutboxKind;
use crate::entities::{certificates, courses, entitlements, tenants, users};
use crate::error::{AppError, AppResult};
use crate::ids::{CertificateId, CourseId, TenantId, UserId};
use crate::services::catalog::Course;
use crate::services::notify::outbox;
use crate::services::now;
use crate::state::AppState;

/// Whether a certificate still stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Valid,
    /// The access it was earned under is held while a dispute is open.
    Suspended,
    /// The access it was earned under was refunded or lost in a dispute.
    Revoked,
}

impl Standing {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Suspended => "suspended",
            Self::Revoked => "revoked",
        }
    }
}

/// A certificate as a verifier sees it.
#[derive(Debug, Clone)]
pub struct Verified {
    pub code: String,
    pub student: String,
    pub course: String,
    pub course_slug: String,
    pub storefront: String,
    pub storefront_slug: String,
    pub issued_at: DateTime<Utc>,
    pub standing: Standing,
    /// Its public page.
    pub url: String,
}

/// The characters of a code: Crockford's base 32 (no I, L, O, U).
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A fresh verification code: `LYC-` and 16 characters in groups of four (80 random bits).
fn new_code() -> String {
    let bytes: [u8; 16] = rand::random();
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
        .collect();
    let groups: Vec<String> = chars.chunks(4).map(|g| g.iter().collect()).collect();
    format!("LYC-{}", groups.join("-"))
}

/// A code as typed by a person: trimmed, upper case.
fn normalize(code: &str) -> String {
    code.trim().to_ascii_uppercase()
}

/// Where anyone verifies a certificate: its public page (JSON for a client that asks), where
/// the QR code on the PDF points.
pub fn url_of(state: &AppState, code: &str) -> String {
    format!(
        "{}/certificates/{code}",
        state.settings.public_url.as_str().trim_end_matches('/')
    )
}

/// Issues `user`'s certificate of `course` inside the caller's transaction, once: a second call
/// returns the first certificate. The PDF and the e-mail follow through the outbox. A paid
/// course's certificate needs live access to be earned under; without it none is issued.
pub async fn issue(
    conn: &impl ConnectionTrait,
    course: &Course,
    user: UserId,
    public_url: &str,
) -> AppResult<Option<certificates::Model>> {
    let learner = users::Entity::find_by_id(user)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    // The access it was earned under: the oldest that still stands.
    let entitlement = entitlements::Entity::find()
        .filter(entitlements::Column::TenantId.eq(course.tenant_id))
        .filter(entitlements::Column::UserId.eq(user))
        .filter(entitlements::Column::CourseId.eq(course.id))
        .filter(entitlements::Column::Status.eq(EntitlementStatus::Active))
        .filter(
            sea_orm::Condition::any()
                .add(entitlements::Column::ExpiresAt.is_null())
                .add(entitlements::Column::ExpiresAt.gt(now())),
        )
        .order_by_asc(entitlements::Column::GrantedAt)
        .one(conn)
        .await?;
    if entitlement.is_none() && !course.is_free() {
        return Ok(None);
    }
    // The certificate is public to whoever has its code: never the address.
    let name = if learner.name.trim().is_empty() {
        "A learner".to_owned()
    } else {
        learner.name.clone()
    };
    certificates::Entity::insert(certificates::ActiveModel {
        id: Set(CertificateId::new_v7()),
        tenant_id: Set(course.tenant_id),
        user_id: Set(user),
        course_id: Set(course.id),
        entitlement_id: Set(entitlement.map(|e| e.id)),
        code: Set(new_code()),
        student_name: Set(name.chars().take(254).collect()),
        course_title: Set(course.title.clone()),
        issued_at: Set(now()),
        pdf_key: Set(None),
    })
    .on_conflict(
        OnConflict::columns([
            certificates::Column::TenantId,
            certificates::Column::UserId,
            certificates::Column::CourseId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    let certificate = of(conn, course.tenant_id, user, course.id)
        .await?
        .ok_or(AppError::Internal("certificate vanished"))?;
    outbox::enqueue(
        conn,
        Some(course.tenant_id),
        OutboxKind::CertificateIssued,
        &format!("certificate:{}", certificate.id),
        serde_json::json!({
            "certificate_id": certificate.id,
            "to": learner.email,
            "course": certificate.course_title,
            "code": certificate.code,
            "url": format!(
                "{}/certificates/{}",
                public_url.trim_end_matches('/'),
                certificate.code
            ),
        }),
    )
    .await?;
    tracing::info!(tenant.id = %course.tenant_id, user.id = %user, course.id = %course.id, "certificate issued");
    Ok(Some(certificate))
}

/// `user`'s certificate of a course, if issued.
pub async fn of(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    user: UserId,
    course: CourseId,
) -> AppResult<Option<certificates::Model>> {
    Ok(certificates::Entity::find()
        .filter(certificates::Column::TenantId.eq(tenant))
        .filter(certificates::Column::UserId.eq(user))
        .filter(certificates::Column::CourseId.eq(course))
        .one(conn)
        .await?)
}

async fn by_code(conn: &impl ConnectionTrait, code: &str) -> AppResult<certificates::Model> {
    certificates::Entity::find()
        .filter(certificates::Column::Code.eq(normalize(code)))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("certificate"))
}

/// How a certificate stands now, from the access it was earned under.
async fn standing(conn: &impl ConnectionTrait, row: &certificates::Model) -> AppResult<Standing> {
    let Some(id) = row.entitlement_id else {
        return Ok(Standing::Valid);
    };
    let status = entitlements::Entity::find_by_id(id)
        .filter(entitlements::Column::TenantId.eq(row.tenant_id))
        .one(conn)
        .await?
        .map(|e| e.status);
    Ok(match status {
        Some(EntitlementStatus::Active) => Standing::Valid,
        Some(EntitlementStatus::Suspended) => Standing::Suspended,
        Some(EntitlementStatus::Revoked) | None => Standing::Revoked,
    })
}

async fn describe(
    state: &AppState,
    conn: &impl ConnectionTrait,
    row: &certificates::Model,
) -> AppResult<Verified> {
    let tenant = tenants::Entity::find_by_id(row.tenant_id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("certificate"))?;
    let course = courses::Entity::find_by_id(row.course_id)
        .filter(courses::Column::TenantId.eq(row.tenant_id))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("certificate"))?;
    Ok(Verified {
        code: row.code.clone(),
        student: row.student_name.clone(),
        course: row.course_title.clone(),
        course_slug: course.slug,
        storefront: tenant.name,
        storefront_slug: tenant.slug,
        issued_at: row.issued_at,
        standing: standing(conn, row).await?,
        url: url_of(state, &row.code),
    })
}

/// A certificate by its code, for anyone who has it.
pub async fn verify(
    state: &AppState,
    _auth: &Authorized<resource::Certificate, action::Read>,
    code: &str,
) -> AppResult<Verified> {
    let row = by_code(&state.db, code).await?;
    describe(state, &state.db, &row).await
}

/// The signed-in user's certificates, newest first.
pub async fn mine(
    state: &AppState,
    auth: &Authorized<resource::Account, action::Read>,
) -> AppResult<Vec<Verified>> {
    let user = auth.user_id().ok_or(AppError::Unauthenticated(
        "sign in to see your certificates",
    ))?;
    let rows = certificates::Entity::find()
        .filter(certificates::Column::UserId.eq(user))
        .order_by_desc(certificates::Column::IssuedAt)
        .all(&state.db)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push(describe(state, &state.db, row).await?);
    }
    Ok(out)
}

/// A certificate's PDF: the stored one, or rendered and stored now.
pub async fn pdf_of(
    state: &AppState,
    _auth: &Authorized<resource::Certificate, action::Read>,
    code: &str,
) -> AppResult<Vec<u8>> {
    let row = by_code(&state.db, code).await?;
    stored_pdf(state, row).await
}

/// The PDF of the certificate an outbox row is about, for its e-mail.
pub async fn pdf_for_outbox(state: &AppState, certificate: CertificateId) -> AppResult<Vec<u8>> {
    let row = certificates::Entity::find_by_id(certificate)
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("certificate"))?;
    stored_pdf(state, row).await
}

async fn stored_pdf(state: &AppState, row: certificates::Model) -> AppResult<Vec<u8>> {
    if let Some(key) = &row.pdf_key {
        match state.assets.get(&Path::from(key.as_str())).await {
            Ok(found) => return Ok(found.bytes().await?.to_vec()),
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let verified = describe(state, &state.db, &row).await?;
    let bytes = pdf::render(&pdf::CertificateDoc {
        student: &verified.student,
        course: &verified.course,
        storefront: &verified.storefront,
        brand_colour: None,
        issued_on: &verified.issued_at.format("%-d %B %Y").to_string(),
        code: &verified.code,
        verify_url: &verified.url,
    })
    .map_err(|e| AppError::Io {
        context: "rendering a certificate failed".into(),
        source: std::io::Error::other(e),
    })?;
    let key = format!("certificates/{}/{}.pdf", row.tenant_id, row.id);
    state
        .assets
        .put(&Path::from(key.as_str()), bytes.clone().into())
        .await?;
    let mut active: certificates::ActiveModel = row.into();
    active.pdf_key = Set(Some(key));
    active.update(&state.db).await?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_readable_and_distinct() {
        let a = new_code();
        let b = new_code();
        assert_ne!(a, b);
        assert_eq!(a.len(), 23);
        assert!(a.starts_with("LYC-"));
        assert!(
            a[4..]
                .chars()
                .all(|c| c == '-' || ALPHABET.contains(&(c as u8)))
        );
        assert_eq!(normalize(&format!("  {}  ", a.to_lowercase())), a);
    }
}
