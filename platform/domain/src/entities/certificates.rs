use sea_orm::entity::prelude::*;

use crate::ids::{CertificateId, CourseId, EntitlementId, TenantId, UserId};

/// A course-completion certificate.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "certificates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: CertificateId,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub course_id: CourseId,
    /// The access it was earned under; `None` for a free course.
    pub entitlement_id: Option<EntitlementId>,
    /// The public verification code.
    pub code: String,
    pub student_name: String,
    pub course_title: String,
    pub issued_at: DateTimeUtc,
    /// Object-store key of the rendered PDF, once rendered.
    pub pdf_key: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
