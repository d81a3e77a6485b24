//! The marketplace's books: who is owed what, from the first sale to the payout.
//!
//! - [`books`]: the rule. What an order's money implies for every account (the provider's
//!   clearing account, disputes, the platform's fee revenue, each payee's pending and
//!   available balance, what the provider paid a seller directly and what the seller owes its
//!   co-instructors for it), as a pure function of what the order was priced with and where
//!   its money stands.
//! - [`posting`]: writes the difference between that and what is already posted, as one
//!   balanced transaction, inside the transaction that changes the order (the payment
//!   pipeline, for every provider and the zero-total path alike); money given back passes
//!   through `refunds`. Replays post nothing; events arriving in any order end in the same
//!   books.
//! - [`shares`]: co-instructors' parts of a course, and the snapshot an order keeps of them.
//! - [`holds`]: a sale's sellers' part moves from pending to available once its hold ends.
//! - [`payouts`]: schedules, runs that move available balances to payouts, and their end
//!   (paid, or failed and returned).
//! - [`reports`]: balances, the ledger's totals, revenue by day and month, CSV for accountants.
//! - [`reconcile`]: the clearing account against each provider's own record of payments.
//! - [`backfill`]: orders paid before the ledger existed get their books on the next start.
//!
//! Amounts are minor units; an entry's amount is positive for a debit, negative for a credit,
//! and the entries of a transaction sum to zero.

pub mod backfill;
pub mod books;
pub mod holds;
pub mod payouts;
pub mod posting;
pub mod reconcile;
pub mod reports;
pub mod shares;

#[cfg(test)]
mod property;

use lyceum_gateway_core::Settlement;
use sea_orm::sea_query::StringLen;
use sea_orm::{DeriveActiveEnum, EnumIter};

/// The longest hold a storefront may have, in days.
pub const MAX_HOLD_DAYS: u16 = 365;

/// A kind of ledger account; each exists once per currency, and the payee accounts once per
/// (storefront, payee) as well.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Account {
    /// Money a provider holds for the platform from payments (an asset): payments in, refunds
    /// and chargebacks out. One per provider (the entry's `gateway`).
    #[sea_orm(string_value = "clearing")]
    Clearing,
    /// Money a provider withdrew while a dispute is open (an asset until the dispute ends).
    #[sea_orm(string_value = "disputes")]
    Disputes,
    /// Money given back to buyers, by refunds and lost disputes: each is debited here as it
    /// leaves clearing and credited as the fee and the shares it takes back, in the same
    /// transaction — its balance is always zero, its turnover is what buyers got back.
    #[sea_orm(string_value = "refunds")]
    Refunds,
    /// The platform's fee revenue.
    #[sea_orm(string_value = "platform_fees")]
    PlatformFees,
    /// Owed to a payee, still within the sale's hold.
    #[sea_orm(string_value = "pending")]
    Pending,
    /// Owed to a payee and payable; negative when a refund took back money already paid out.
    #[sea_orm(string_value = "available")]
    Available,
    /// Taken from a payee's available balance for a payout not yet confirmed.
    #[sea_orm(string_value = "in_transit")]
    InTransit,
    /// Delivered to a payee: by a confirmed payout, or by the provider itself (split and
    /// seller settlement). A credit: it closes the payee's claim without touching clearing,
    /// which keeps to what the provider reports.
    #[sea_orm(string_value = "paid_out")]
    PaidOut,
    /// Owed between payees, outside the platform's payouts: a co-instructor's part of a sale
    /// the provider paid to the storefront's owner directly (split and seller settlement) —
    /// a credit for the co-instructor, a debit for the owner, settled between them.
    #[sea_orm(string_value = "seller_due")]
    SellerDue,
}

impl Account {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Clearing => "clearing",
            Self::Disputes => "disputes",
            Self::Refunds => "refunds",
            Self::PlatformFees => "platform_fees",
            Self::Pending => "pending",
            Self::Available => "available",
            Self::InTransit => "in_transit",
            Self::PaidOut => "paid_out",
            Self::SellerDue => "seller_due",
        }
    }

    /// Whether the account belongs to one payee.
    pub fn is_payee(self) -> bool {
        match self {
            Self::Pending | Self::Available | Self::InTransit | Self::PaidOut | Self::SellerDue => {
                true
            }
            Self::Clearing | Self::Disputes | Self::Refunds | Self::PlatformFees => false,
        }
    }
}

/// What caused a ledger transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum TransactionKind {
    /// A payment was captured.
    #[sea_orm(string_value = "sale")]
    Sale,
    /// Money went back to the buyer.
    #[sea_orm(string_value = "refund")]
    Refund,
    /// A dispute opened, was won or was lost.
    #[sea_orm(string_value = "dispute")]
    Dispute,
    /// Another fact about the order's payment (a late failure, an expiry).
    #[sea_orm(string_value = "adjustment")]
    Adjustment,
    /// A sale's hold ended.
    #[sea_orm(string_value = "release")]
    Release,
    /// A payout was created.
    #[sea_orm(string_value = "payout")]
    Payout,
    /// A payout was confirmed.
    #[sea_orm(string_value = "payout_paid")]
    PayoutPaid,
    /// A payout failed and its money went back.
    #[sea_orm(string_value = "payout_failed")]
    PayoutFailed,
    /// An order paid before the ledger existed.
    #[sea_orm(string_value = "backfill")]
    Backfill,
}

impl TransactionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sale => "sale",
            Self::Refund => "refund",
            Self::Dispute => "dispute",
            Self::Adjustment => "adjustment",
            Self::Release => "release",
            Self::Payout => "payout",
            Self::PayoutPaid => "payout_paid",
            Self::PayoutFailed => "payout_failed",
            Self::Backfill => "backfill",
        }
    }
}

/// The stored form of a [`Settlement`] (`orders.settlement`), converted both ways by
/// exhaustive matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum StoredSettlement {
    #[sea_orm(string_value = "platform")]
    Platform,
    #[sea_orm(string_value = "split")]
    Split,
    #[sea_orm(string_value = "seller")]
    Seller,
}

impl From<Settlement> for StoredSettlement {
    fn from(s: Settlement) -> Self {
        match s {
            Settlement::Platform => Self::Platform,
            Settlement::Split => Self::Split,
            Settlement::Seller => Self::Seller,
        }
    }
}

impl From<StoredSettlement> for Settlement {
    fn from(s: StoredSettlement) -> Self {
        match s {
            StoredSettlement::Platform => Self::Platform,
            StoredSettlement::Split => Self::Split,
            StoredSettlement::Seller => Self::Seller,
        }
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{ActiveEnum, Iterable};

    use super::*;

    /// Shown and stored names are one name, for every enum the ledger stores.
    #[test]
    fn shown_and_stored_names_agree() {
        for account in Account::iter() {
            assert_eq!(account.to_value(), account.as_str());
        }
        for kind in TransactionKind::iter() {
            assert_eq!(kind.to_value(), kind.as_str());
        }
        for settlement in StoredSettlement::iter() {
            assert_eq!(settlement.to_value(), Settlement::from(settlement).as_str());
            assert_eq!(
                StoredSettlement::from(Settlement::from(settlement)),
                settlement
            );
        }
    }
}
