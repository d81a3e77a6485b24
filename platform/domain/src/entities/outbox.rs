use sea_orm::entity::prelude::*;

use crate::ids::{OutboxMessageId, TenantId};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: OutboxMessageId,
    pub tenant_id: Option<TenantId>,
    /// What to do.
    pub kind: OutboxKind,
    /// Makes the same side effect impossible to enqueue twice.
    pub dedupe_key: String,
    pub payload: Json,
    pub status: OutboxStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
}

/// The side effect a row asks for; each is one kind of e-mail, composed by `services::mail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum OutboxKind {
    /// The buyer paid an order with a total above zero.
    #[sea_orm(string_value = "purchase_receipt")]
    PurchaseReceipt,
    /// Money went back to the buyer (in full or in part).
    #[sea_orm(string_value = "refund_notice")]
    RefundNotice,
    /// An owner invited an address to the staff.
    #[sea_orm(string_value = "staff_invitation")]
    StaffInvitation,
    /// A team's manager gave a seat to an address nobody has registered with.
    #[sea_orm(string_value = "seat_invitation")]
    SeatInvitation,
    /// A refund or a lost dispute took seats back from people who held them: their team's
    /// managers are told whom.
    #[sea_orm(string_value = "seats_taken_back")]
    SeatsTakenBack,
    /// A learner completed a course: their certificate, as a PDF attachment.
    #[sea_orm(string_value = "certificate_issued")]
    CertificateIssued,
}

impl OutboxKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PurchaseReceipt => "purchase_receipt",
            Self::RefundNotice => "refund_notice",
            Self::StaffInvitation => "staff_invitation",
            Self::SeatInvitation => "seat_invitation",
            Self::SeatsTakenBack => "seats_taken_back",
            Self::CertificateIssued => "certificate_issued",
        }
    }
}

/// Where a row stands: `pending` until delivered (retried with backoff), then `sent`, or
/// `dead` once the worker gave up on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum OutboxStatus {
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "sent")]
    Sent,
    #[sea_orm(string_value = "dead")]
    Dead,
}

impl OutboxStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Dead => "dead",
        }
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

#[cfg(test)]
mod tests {
    use sea_orm::{ActiveEnum, Iterable};

    use super::*;

    /// `as_str` and the stored value are one name, for kinds and statuses.
    #[test]
    fn shown_and_stored_names_agree() {
        for kind in OutboxKind::iter() {
            assert_eq!(kind.to_value(), kind.as_str());
        }
        for status in OutboxStatus::iter() {
            assert_eq!(status.to_value(), status.as_str());
        }
    }
}
