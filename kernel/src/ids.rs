//! Typed ids: one newtype per entity, so a user's id cannot be passed where a course's is
//! expected (the compiler catches a swapped `(tenant, user, course)`), at no cost — each is a
//! `Copy` 16-byte `Uuid` underneath, hashed and compared exactly like one.
//!
//! The field is private: an id is made fresh ([`TenantId::new_v7`] and friends) or converted
//! at a boundary from a bare `Uuid` (a path parameter, a wire format, a casbin subject) with
//! `From`. Each also is a sea-orm value type stored as the `uuid` column it always was, so an
//! entity's fields are typed, a query filter takes an id as it is, and a primary key may be one;
//! and it (de)serializes as its bare uuid string, so a JSON column or payload holding ids reads
//! and writes exactly what it did before they were typed.

use uuid::Uuid;

/// Defines a typed id wrapping a `Uuid`.
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug,
            Clone,
            Copy,
            PartialEq,
            Eq,
            PartialOrd,
            Ord,
            Hash,
            sea_orm::DeriveValueType,
            serde::Serialize,
            serde::Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered id (UUID v7), as every row of ours gets.
            pub fn new_v7() -> Self {
                Self(Uuid::now_v7())
            }

            /// The id of an existing row, from its bare `Uuid`.
            pub const fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }

            /// The bare `Uuid`, for a column or a wire format.
            pub const fn into_uuid(self) -> Uuid {
                self.0
            }
        }

        /// sea-orm asks every primary-key type for this, for keys the database generates;
        /// ours are made by us (UUID v7), so a number is never one.
        impl sea_orm::TryFromU64 for $name {
            fn try_from_u64(_: u64) -> Result<Self, sea_orm::DbErr> {
                Err(sea_orm::DbErr::ConvertFromU64(stringify!($name)))
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        /// Parses the hyphenated (or any other uuid crate) form, as a path segment or a
        /// stored string carries it.
        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

id_type!(
    /// A tenant (a storefront): `tenants.id`.
    TenantId
);
id_type!(
    /// A user account: `users.id`.
    UserId
);
id_type!(
    /// A course of a tenant: `courses.id`.
    CourseId
);
id_type!(
    /// A section of a course's curriculum: `sections.id`.
    SectionId
);
id_type!(
    /// A lesson of a course: `lessons.id`.
    LessonId
);
id_type!(
    /// An order: `orders.id`.
    OrderId
);
id_type!(
    /// One course bought by an order: `order_lines.id`.
    OrderLineId
);
id_type!(
    /// An entitlement (one user's access to one course): `entitlements.id`.
    EntitlementId
);
id_type!(
    /// A discount code of a tenant: `coupons.id`.
    CouponId
);
id_type!(
    /// One order's use of a coupon: `coupon_redemptions.id`.
    CouponRedemptionId
);
id_type!(
    /// A refund request of an order: `refunds.id`.
    RefundId
);
id_type!(
    /// A balanced set of ledger entries: `ledger_transactions.id`.
    LedgerTransactionId
);
id_type!(
    /// One line of the ledger: `ledger_entries.id`.
    LedgerEntryId
);
id_type!(
    /// Money sent to a payee: `payouts.id`.
    PayoutId
);
id_type!(
    /// A team of learners a manager buys seats for: `teams.id`.
    TeamId
);
id_type!(
    /// A team's seats of one course: `seat_pools.id`.
    SeatPoolId
);
id_type!(
    /// An address given a seat of a pool: `seat_assignments.id`.
    SeatAssignmentId
);
id_type!(
    /// One line of a pool's audit trail: `seat_events.id`.
    SeatEventId
);
id_type!(
    /// A provider event recorded against an order: `payment_events.id`.
    PaymentEventId
);
id_type!(
    /// One recorded change of an order's status: `order_audit.id`.
    OrderAuditId
);
id_type!(
    /// An invitation to a tenant's staff: `staff_invitations.id`.
    InvitationId
);
id_type!(
    /// A side effect waiting in the outbox: `outbox.id`.
    OutboxMessageId
);
id_type!(
    /// A learner's progress in one lesson: `lesson_progress.id`.
    LessonProgressId
);
id_type!(
    /// A learner's progress in one course: `course_progress.id`.
    CourseProgressId
);
id_type!(
    /// A titled point in a video lesson: `lesson_chapters.id`.
    ChapterId
);
id_type!(
    /// A lesson video's transcode into HLS: `transcodes.id`.
    TranscodeId
);
id_type!(
    /// A quiz attached to a lesson: `quizzes.id`.
    QuizId
);
id_type!(
    /// A question of a quiz's pool: `quiz_questions.id`.
    QuizQuestionId
);
id_type!(
    /// One learner's attempt at a quiz: `quiz_attempts.id`.
    QuizAttemptId
);
id_type!(
    /// A course-completion certificate: `certificates.id`.
    CertificateId
);
id_type!(
    /// A bearer token: `api_tokens.id`.
    ApiTokenId
);
id_type!(
    /// A browser session: `web_sessions.id`.
    WebSessionId
);
id_type!(
    /// A one-time sign-in handoff to a storefront host: `session_handoffs.id`.
    SessionHandoffId
);
id_type!(
    /// One logged fetch of lesson content: `content_fetches.id`.
    ContentFetchId
);
id_type!(
    /// A storefront's account at one payment provider: `gateway_accounts.id`.
    GatewayAccountId
);
id_type!(
    /// One version of a storefront's fee plan: `fee_plans.id`.
    FeePlanId
);
id_type!(
    /// One logged webhook delivery (or replay of one): `webhook_deliveries.id`.
    WebhookDeliveryId
);

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use sea_orm::Value;

    use super::*;

    #[test]
    fn round_trips_through_uuid_unchanged() {
        let raw = Uuid::now_v7();
        let id = CourseId::from_uuid(raw);
        assert_eq!(id.into_uuid(), raw);
        assert_eq!(Uuid::from(CourseId::from(raw)), raw);
        assert_eq!(
            raw.to_string().parse::<CourseId>().unwrap(),
            CourseId::from(raw)
        );
        assert!("not-a-uuid".parse::<CourseId>().is_err());
    }

    #[test]
    fn displays_and_orders_like_the_uuid_it_wraps() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(UserId::from(a).to_string(), a.to_string());
        assert_eq!(UserId::from(a).cmp(&UserId::from(b)), a.cmp(&b));
        assert!(OrderId::new_v7() != OrderId::new_v7());
        let set: HashSet<TenantId> = [TenantId::from(a), TenantId::from(a)].into();
        assert_eq!(set.len(), 1);
    }

    #[test]
    fn is_a_database_value_identical_to_its_uuid() {
        let raw = Uuid::now_v7();
        assert_eq!(Value::from(LessonId::from(raw)), Value::from(raw));
    }

    #[test]
    fn is_stored_in_a_uuid_column() {
        use sea_orm::TryFromU64;
        use sea_orm::sea_query::{ColumnType, Nullable, ValueType};

        assert_eq!(<OrderLineId as ValueType>::column_type(), ColumnType::Uuid);
        assert_eq!(
            <OrderLineId as Nullable>::null(),
            <Uuid as Nullable>::null()
        );
        assert!(RefundId::try_from_u64(1).is_err());
    }

    #[test]
    fn serializes_as_the_bare_uuid() {
        let raw = Uuid::now_v7();
        let json = serde_json::to_string(&[CourseId::from(raw)]).unwrap();
        assert_eq!(json, serde_json::to_string(&[raw]).unwrap());
        let back: Vec<CourseId> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, vec![CourseId::from(raw)]);
    }

    #[test]
    fn costs_no_more_than_a_uuid() {
        assert_eq!(size_of::<TenantId>(), size_of::<Uuid>());
        assert_eq!(size_of::<(TenantId, UserId, CourseId)>(), 48);
    }
}
