//! Team seats: a course bought N times for a team, and who holds each seat.
//!
//! This area owns `seat_pools`, `seat_assignments` and `seat_events`.
//!
//! - **Pools** ([`pools`]): one per (storefront, team, course). The payment pipeline calls
//!   [`follow_order`] for every event of a team's order, in the order's transaction; the pool's
//!   size is then recomputed from all of the team's orders of that course — each line's seats
//!   still paid for in full (a refund of part of an order takes back the seats it no longer
//!   pays for; a lost dispute, all of them), usable while its order grants access, held while
//!   a dispute is open — and the assignments are fitted to it: the earliest assigned keep
//!   their seats, those beyond the usable seats are suspended, those beyond the held ones end
//!   (most recently assigned first) and the team's managers are told whom they lost.
//! - **Assignments** ([`assign`], [`revoke`], [`cancel`], [`accept`]): a manager gives a seat
//!   to an address. Someone registered with it gets access at once (a `seat` entitlement);
//!   otherwise the invitation itself holds the seat and its link is e-mailed: whoever then
//!   signs in with the address and opens the link takes the seat (the link proves the
//!   mailbox, as addresses are not verified at registration). Every change locks the pool's row first and counts under the lock,
//!   so no more seats are given than were bought, however many requests race.
//! - **Volume prices** ([`tiers`]): a course may sell seats cheaper from so many in one order;
//!   the checkout prices them on the server.
//! - **Views** ([`team_pools`], [`audit`], [`mine`], [`tenant_pools`]): what a team's managers,
//!   a seat's holder and a storefront's staff (counts only) may see.
//!
//! Access itself is the access area's: a seat's entitlement is written only through
//! [`access::reconcile_seat`](crate::services::access::reconcile_seat).

mod assignments;
mod pools;
pub mod tiers;
mod views;

use sea_orm::sea_query::StringLen;
use sea_orm::{DeriveActiveEnum, EnumIter};

pub use assignments::{Assignment, accept, assign, cancel, revoke};
pub use pools::{MAX_SEATS, follow_order, kept_seats, over_paid, seats_to_refund, stray_access};
pub use views::{
    AuditLine, MySeat, PoolOrder, PoolView, SeatView, TenantPool, audit, mine, team_pools,
    tenant_pools,
};

/// Where an assignment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum AssignmentStatus {
    /// Nobody has registered with the address yet; the invitation holds the seat.
    #[sea_orm(string_value = "invited")]
    Invited,
    /// Held by a user (whose access may be suspended while a dispute is open).
    #[sea_orm(string_value = "active")]
    Active,
    /// Over: the seat is free again (or gone, when a refund took it back).
    #[sea_orm(string_value = "ended")]
    Ended,
}

/// Why an assignment ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum EndReason {
    /// A manager took the seat back from its holder.
    #[sea_orm(string_value = "revoked")]
    Revoked,
    /// A manager cancelled the invitation.
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
    /// A refund or a lost dispute took the seat itself back.
    #[sea_orm(string_value = "refunded")]
    Refunded,
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Revoked => "revoked",
            Self::Cancelled => "cancelled",
            Self::Refunded => "refunded",
        }
    }
}

/// What an audit line records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum SeatAction {
    /// A seat went to a registered address.
    #[sea_orm(string_value = "assigned")]
    Assigned,
    /// A seat went to an address nobody has registered with: an invitation.
    #[sea_orm(string_value = "invited")]
    Invited,
    /// Someone registered with an invited address and took the seat.
    #[sea_orm(string_value = "claimed")]
    Claimed,
    #[sea_orm(string_value = "revoked")]
    Revoked,
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
    /// A refund or a lost dispute took the seat back.
    #[sea_orm(string_value = "refunded")]
    Refunded,
    /// An open dispute froze the seat's access.
    #[sea_orm(string_value = "suspended")]
    Suspended,
    /// The dispute was won: access is back.
    #[sea_orm(string_value = "restored")]
    Restored,
}

impl SeatAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Assigned => "assigned",
            Self::Invited => "invited",
            Self::Claimed => "claimed",
            Self::Revoked => "revoked",
            Self::Cancelled => "cancelled",
            Self::Refunded => "refunded",
            Self::Suspended => "suspended",
            Self::Restored => "restored",
        }
    }
}

impl AssignmentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invited => "invited",
            Self::Active => "active",
            Self::Ended => "ended",
        }
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{ActiveEnum, Iterable};

    use super::*;

    #[test]
    fn stored_names_are_the_shown_ones() {
        for s in AssignmentStatus::iter() {
            assert_eq!(s.to_value(), s.as_str());
        }
        for r in EndReason::iter() {
            assert_eq!(r.to_value(), r.as_str());
        }
        for a in SeatAction::iter() {
            assert_eq!(a.to_value(), a.as_str());
        }
    }
}
