//! Typed ids: one newtype per entity, so a user's id cannot be passed where a course's is
//! expected (the compiler catches a swapped `(tenant, user, course)`), at no cost — each is a
//! `Copy` 16-byte `Uuid` underneath, hashed and compared exactly like one.
//!
//! The field is private: an id is made fresh ([`TenantId::new_v7`] and friends) or converted
//! at a boundary from a bare `Uuid` (a row, a path parameter) with `From`. Each also is a
//! sea-orm value type, so a query filter can take it as it is.

use uuid::Uuid;

/// Defines a typed id wrapping a `Uuid`.
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, sea_orm::DeriveValueType,
        )]
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

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

id_type!(
    /// A tenant (a storefront).
    TenantId
);
id_type!(
    /// A user account.
    UserId
);
id_type!(
    /// A course of a tenant.
    CourseId
);
id_type!(
    /// A lesson of a course.
    LessonId
);
id_type!(
    /// An order.
    OrderId
);
id_type!(
    /// An entitlement (one user's access to one course).
    EntitlementId
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
    fn costs_no_more_than_a_uuid() {
        assert_eq!(size_of::<TenantId>(), size_of::<Uuid>());
        assert_eq!(size_of::<(TenantId, UserId, CourseId)>(), 48);
    }
}
