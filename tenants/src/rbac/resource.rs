//! Resource types, as zero-sized markers so an [`Authorized`](super::Authorized) proof names
//! the resource in its type.

/// A kind of thing a permission is about; `NAME` is the casbin object.
pub trait Resource {
    const NAME: &'static str;
}

macro_rules! resources {
    ($($(#[$doc:meta])* $ty:ident => $name:literal,)*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy)]
            pub struct $ty;
            impl Resource for $ty {
                const NAME: &'static str = $name;
            }
        )*
        /// Every casbin object name, for tests that walk them all.
        pub const ALL: &[&str] = &[$($name),*];
    };
}

resources! {
    /// The platform itself: approving tenants, fee plans, the ledger.
    Platform => "platform",
    /// A storefront's settings and status.
    Tenant => "tenant",
    /// Staff of a tenant (editors, graders).
    Member => "member",
    /// Courses and their curriculum and assets, as their authors see them.
    Course => "course",
    /// The public catalog of an active tenant.
    Catalog => "catalog",
    /// Discount codes.
    Coupon => "coupon",
    /// Orders (a buyer sees their own; staff see the tenant's).
    Order => "order",
    /// Refunds of orders.
    Refund => "refund",
    /// Starting a purchase.
    Checkout => "checkout",
    /// Asking whether one has access to a course.
    Access => "access",
    /// Lesson content.
    Content => "content",
    /// A tenant's credentials with a payment provider.
    GatewayAccount => "gateway_account",
    /// A tenant's balance, revenue and payouts.
    Balance => "balance",
    /// Who is paid from a storefront's sales: co-instructors' shares, payout schedules.
    Payee => "payee",
    /// One's own account and purchases.
    Account => "account",
    /// Teams and their rosters.
    Team => "team",
    /// A team's seats: its pools, assignments and invitations (a team's managers, in the
    /// team's domain); the pools of a storefront's courses (its staff, counts only).
    Seat => "seat",
    /// One's own study in a storefront: lesson pages, progress, quiz attempts.
    Learning => "learning",
    /// Course-completion certificates: verified by anyone who has the code.
    Certificate => "certificate",
    /// The webhook log: every provider delivery and its outcome (`read`), and replaying a
    /// stored verified one through the payment pipeline (`update`); platform admins only.
    WebhookLog => "webhook_log",
}

mod sealed {
    /// Keeps [`ReadsCourses`](super::ReadsCourses) closed to the four markers below.
    pub trait Sealed {}
}

/// A resource whose proof lets a learner's use of a course go ahead: asking whether one may
/// study it ([`Access`]), opening its lessons ([`Content`]), browsing the storefront
/// ([`Catalog`]), studying it ([`Learning`]: progress, quizzes). The access decision takes a
/// proof of any action on such an `R`; the cached course lookup a `Read`. Sealed: a staff proof (`Course`), or a proof
/// for anything else, is not one and does not compile there:
///
/// ```compile_fail
/// use lyceum_tenants::rbac::resource::{self, ReadsCourses};
///
/// fn decide<R: ReadsCourses>() {}
///
/// decide::<resource::Course>(); // error: `Course` does not implement `ReadsCourses`
/// ```
///
/// ```
/// use lyceum_tenants::rbac::resource::{self, ReadsCourses};
///
/// fn decide<R: ReadsCourses>() {}
///
/// decide::<resource::Access>();
/// decide::<resource::Content>();
/// decide::<resource::Catalog>();
/// decide::<resource::Learning>();
/// ```
pub trait ReadsCourses: Resource + sealed::Sealed {}

macro_rules! reads_courses {
    ($($ty:ident),*) => {
        $(
            impl sealed::Sealed for $ty {}
            impl ReadsCourses for $ty {}
        )*
    };
}

reads_courses!(Access, Content, Catalog, Learning);
