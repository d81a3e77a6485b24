//! The trait every payment provider implements, and its normalized requests.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    AccountInputError, AccountSetup, AccountStatus, Currency, Delivery, GatewayEvent, GatewayId,
    Money, TenantAccount,
};

/// What a provider supports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// Paying a connected seller account minus a platform fee in one payment.
    pub split_payments: bool,
    /// Refunding part of a payment.
    pub partial_refunds: bool,
    pub subscriptions: bool,
    /// The currencies it takes; `None` is any.
    pub currencies: Option<Vec<Currency>>,
    /// Whether a storefront must connect an account of its own before it can sell through
    /// this provider (the sandbox needs none; Stripe Connect needs the seller's `acct_…`).
    pub seller_account_required: bool,
    /// Whether a payment must be for exactly the order's total: the provider has no partial
    /// or over-payments, so a `PaymentSucceeded` for any other amount (Robokassa's `OutSum`
    /// differing from the order's) is refused by the platform and changes nothing, rather
    /// than recorded as a part payment.
    pub exact_amounts: bool,
    /// Whether asking for the same refund again (same idempotency key) is safe: the provider
    /// makes it once. Where it is not (Robokassa's Refund API takes no key), a refund whose
    /// answer was lost is never asked again: the seller checks it in the provider's cabinet.
    pub idempotent_refunds: bool,
}

/// One line of an order, as the provider shows it to the buyer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutLine {
    pub course_id: Uuid,
    pub title: String,
    pub quantity: u32,
    pub unit_price: Money,
}

/// Whom a provider pays an order's money to: the platform's ledger books the sale the same
/// way for all three and then records what the provider handed the seller directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Settlement {
    /// To the platform's own account: the platform owes the sellers their part and pays it
    /// out (the sandbox).
    Platform,
    /// Split by the provider: the seller's account gets the payment minus the platform's fee
    /// (Stripe Connect destination charges, YooKassa split payments).
    Split,
    /// All of it to the seller's own account: the seller owes the platform its fee (a
    /// storefront's own YooKassa shop, Robokassa).
    Seller,
}

impl Settlement {
    pub const ALL: [Settlement; 3] = [Self::Platform, Self::Split, Self::Seller];

    /// The stored name (`orders.settlement`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Platform => "platform",
            Self::Split => "split",
            Self::Seller => "seller",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// How a payment is split between the platform and the seller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// The platform's share.
    pub platform_fee: Money,
    /// The seller's account at the provider, when payments go straight to it.
    pub payee_account: Option<String>,
}

/// A request for a hosted checkout page. Prices come from our catalog, never from the buyer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutRequest {
    pub order_id: Uuid,
    pub tenant_id: Uuid,
    pub lines: Vec<CheckoutLine>,
    pub total: Money,
    pub buyer_id: Uuid,
    pub buyer_email: String,
    /// Where the provider sends the buyer after paying; it shows status only.
    pub success_url: String,
    pub cancel_url: String,
    pub split: Split,
    /// When the order stops taking payment; the provider's session must not outlive it.
    pub expires_at: DateTime<Utc>,
    /// Sent to providers that honour one, so a retried request makes one session.
    pub idempotency_key: String,
    /// The order's number: positive and unique on the platform, for providers that know a
    /// payment by a number of the shop's (Robokassa's `InvId`).
    pub invoice_number: i64,
}

impl CheckoutRequest {
    /// What each line is charged once the order's discount is spread over the lines in
    /// proportion to their full price, in multiples of `step` minor units; the amounts sum to
    /// the total exactly (what a provider's line items and a 54-FZ receipt must show).
    pub fn charged_amounts(&self, step: i64) -> Result<Vec<Money>, GatewayError> {
        charged_amounts(&self.lines, self.total, step)
    }
}

/// `total` spread over `lines` in proportion to their full price (unit price × quantity), in
/// multiples of `step` minor units, remainders to the largest lines first.
pub fn charged_amounts(
    lines: &[CheckoutLine],
    total: Money,
    step: i64,
) -> Result<Vec<Money>, GatewayError> {
    let full: Vec<i64> = lines
        .iter()
        .map(|l| {
            l.unit_price
                .checked_mul(l.quantity)
                .map(|m| m.amount.get())
                .map_err(|_| GatewayError::Rejected("a line's amount overflows".into()))
        })
        .collect::<Result<_, _>>()?;
    let shares = crate::money::allocate(&full, total.amount.get(), step).ok_or_else(|| {
        GatewayError::Rejected("the order's total cannot be split over its lines".into())
    })?;
    shares
        .into_iter()
        .map(|share| {
            Money::new(share, total.currency)
                .map_err(|e| GatewayError::Rejected(format!("a line's share: {e}")))
        })
        .collect()
}

/// A line's charged share shown as a unit amount times a count, as line items and receipt
/// items are: the line's own quantity when the share divides by it, otherwise one item of the
/// whole share titled `n × course`. Either way `unit × count` is the share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Itemised {
    pub unit: i64,
    pub count: u32,
    /// The quantity folded into one item (its title says how many).
    lumped: Option<u32>,
}

impl Itemised {
    /// `share` (in any integer units) of a line of `quantity`.
    pub fn new(share: i64, quantity: u32) -> Self {
        let n = quantity.max(1);
        if n == 1 || share % i64::from(n) == 0 {
            Self {
                unit: share / i64::from(n),
                count: n,
                lumped: None,
            }
        } else {
            Self {
                unit: share,
                count: 1,
                lumped: Some(n),
            }
        }
    }

    /// The item's title for a line titled `title`.
    pub fn title(&self, title: &str) -> String {
        match self.lumped {
            Some(n) => format!("{n} × {title}"),
            None => title.to_owned(),
        }
    }
}

/// A hosted checkout the buyer is redirected to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutSession {
    pub redirect_url: String,
    /// The provider's id of the session (or invoice).
    pub provider_reference: String,
    pub expires_at: DateTime<Utc>,
}

/// A webhook delivery as received, before anything is trusted.
#[derive(Debug, Clone, Copy)]
pub struct WebhookRequest<'a> {
    /// Header names in lower case.
    pub headers: &'a [(String, String)],
    /// The exact bytes received.
    pub body: &'a [u8],
    pub peer: Option<IpAddr>,
    pub now: DateTime<Utc>,
}

impl WebhookRequest<'_> {
    /// The first value of a header, by lower-case name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What to look up when asking a provider about a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentLookup {
    pub order_id: Uuid,
    pub tenant_id: Uuid,
    pub session_ref: Option<String>,
    pub provider_payment_id: Option<String>,
}

/// A refund to ask the provider for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    pub order_id: Uuid,
    pub tenant_id: Uuid,
    pub provider_payment_id: String,
    pub amount: Money,
    /// Our refund id: the same refund asked twice is one refund.
    pub idempotency_key: String,
    /// The order as it was paid, for providers that return the platform's fee in proportion
    /// or print a refund receipt: its lines, its total, the fee it was priced with, the
    /// buyer's e-mail and its number.
    pub order: RefundedOrder,
}

/// What a refund needs to know of the order it returns money of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundedOrder {
    pub lines: Vec<CheckoutLine>,
    pub total: Money,
    pub platform_fee: Money,
    pub buyer_email: String,
    pub invoice_number: i64,
    /// The provider's reference of the order's checkout (a Robokassa `InvId`).
    pub session_ref: Option<String>,
}

impl From<&CheckoutRequest> for RefundedOrder {
    /// The order as its checkout asked for it.
    fn from(request: &CheckoutRequest) -> Self {
        Self {
            lines: request.lines.clone(),
            total: request.total,
            platform_fee: request.split.platform_fee,
            buyer_email: request.buyer_email.clone(),
            invoice_number: request.invoice_number,
            session_ref: None,
        }
    }
}

/// The provider took the refund request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundAccepted {
    pub provider_refund_id: String,
    /// Events about the refund the provider's answer already settles (a refund it made at
    /// once): the platform applies them as if delivered. Empty when an event (or
    /// reconciliation through [`PaymentGateway::fetch_refund`]) will tell.
    pub settled: Vec<GatewayEvent>,
    /// The provider cannot return the money through its API: the seller must do it by hand in
    /// the provider's cabinet. `settled` then holds the refund event that ends the buyer's
    /// access at once.
    pub manual: bool,
}

impl RefundAccepted {
    /// A refund the provider took and will confirm with an event.
    pub fn pending(provider_refund_id: impl Into<String>) -> Self {
        Self {
            provider_refund_id: provider_refund_id.into(),
            settled: Vec::new(),
            manual: false,
        }
    }
}

/// A refund to ask the provider about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundLookup {
    pub order_id: Uuid,
    pub tenant_id: Uuid,
    pub provider_payment_id: String,
    pub provider_refund_id: String,
    pub amount: Money,
}

/// A seller account to open at the provider and the page where its owner completes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnboardingRequest {
    pub tenant_id: Uuid,
    /// The storefront's name, shown to the seller by the provider.
    pub tenant_name: String,
    /// The owner's e-mail address, to prefill the provider's form.
    pub email: String,
    /// Where the provider sends the owner when they are done (it shows status only).
    pub return_url: String,
    /// Where the provider sends the owner when the link expired or was used: it makes a new one.
    pub refresh_url: String,
    /// Sent to providers that honour one, so a retried request opens one account.
    pub idempotency_key: String,
}

/// The provider's onboarding page for a seller account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Onboarding {
    /// The account, new or the tenant's existing one.
    pub provider_account_id: String,
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

/// The body a provider expects back from a webhook once it is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledgement {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

/// A delivery that could not be trusted. Nothing of it is stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("the signature header is missing")]
    MissingSignature,
    #[error("the signature header is malformed")]
    MalformedSignature,
    #[error("no signature matches the body")]
    BadSignature,
    #[error("the signature timestamp is outside the tolerance")]
    StaleTimestamp,
    #[error("the body is not a valid event: {0}")]
    MalformedBody(String),
    #[error("no webhook secret is configured")]
    NotConfigured,
    /// The delivery came from an address the provider does not send from (a provider that
    /// signs nothing, like YooKassa, is trusted by its networks and a re-fetch).
    #[error("the delivery came from an address the provider does not send from")]
    UntrustedSource,
    /// The delivery verified, but reading it needs the provider, which did not answer: the
    /// provider should deliver again later.
    #[error("the provider could not be asked about the delivery: {0}")]
    Unavailable(String),
}

/// A call to the provider that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    #[error("the provider refused the request: {0}")]
    Rejected(String),
    #[error("the provider could not be reached: {0}")]
    Unavailable(String),
    #[error("the provider does not know this payment")]
    UnknownPayment,
    #[error("the provider does not support {0}")]
    Unsupported(&'static str),
}

/// A payment provider. Implementations talk to a configurable base URL so tests can point
/// them at local fakes, and never hold any of the platform's database state.
///
/// Every call made for a tenant takes the tenant's [`TenantAccount`] at this provider, as the
/// platform stored it; an empty account means the platform's own, from the gateway's
/// configuration. A gateway reads a seller's credentials from that argument only.
pub trait PaymentGateway: Send + Sync {
    fn id(&self) -> GatewayId;

    fn capabilities(&self) -> Capabilities;

    /// Checks an owner's `PUT …/gateways/{id}` fields (a JSON object) and splits them into
    /// what may be shown back and what is sealed. The default takes no fields at all.
    fn parse_account(
        &self,
        fields: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<AccountSetup, AccountInputError> {
        match fields.keys().next() {
            Some(field) => Err(AccountInputError::new(
                field.as_str(),
                format!("the {} gateway takes no settings", self.id()),
            )),
            None => Ok(AccountSetup::default()),
        }
    }

    /// Asks the provider about the seller account (whether it can take payments). The default,
    /// for providers without seller accounts, answers that it can.
    fn check_account(
        &self,
        account: &TenantAccount,
    ) -> impl Future<Output = Result<AccountStatus, GatewayError>> + Send {
        let status = AccountStatus {
            provider_account_id: account.provider_account_id.clone().unwrap_or_default(),
            charges_enabled: true,
            payouts_enabled: true,
            requirements: Vec::new(),
            opened_for: None,
        };
        std::future::ready(Ok(status))
    }

    /// Opens a seller account at the provider (or continues the tenant's, when `account` has
    /// one) and returns the provider's onboarding page.
    fn start_onboarding(
        &self,
        _account: &TenantAccount,
        _request: &OnboardingRequest,
    ) -> impl Future<Output = Result<Onboarding, GatewayError>> + Send {
        std::future::ready(Err(GatewayError::Unsupported("seller onboarding")))
    }

    /// The step a platform fee takes at this provider, in minor units of `currency`: the
    /// order's fee is rounded down to it before the order stores it, so the order records
    /// exactly what the provider collects. 1 unless the provider takes coarser amounts
    /// (Stripe's three-decimal currencies: 10).
    fn fee_step(&self, _currency: Currency) -> i64 {
        1
    }

    /// Whom this provider pays an order of `account`'s storefront to. The default, for
    /// providers that collect on the platform's behalf, is the platform.
    fn settlement(&self, _account: &TenantAccount) -> Settlement {
        Settlement::Platform
    }

    /// Opens a hosted checkout for an order.
    fn create_checkout(
        &self,
        account: &TenantAccount,
        request: &CheckoutRequest,
    ) -> impl Future<Output = Result<CheckoutSession, GatewayError>> + Send;

    /// Verifies a delivery and turns it into our events (none, for event types we ignore).
    /// `account` is the account of the tenant the delivery's URL names (a provider that signs
    /// with a per-shop secret, like Robokassa's Password #2), or the empty account when the URL
    /// names none and the gateway's own configured secret verifies it.
    fn verify_webhook(
        &self,
        account: &TenantAccount,
        request: &WebhookRequest<'_>,
    ) -> impl Future<Output = Result<Delivery, WebhookError>> + Send;

    /// Closes an order's hosted checkout, so that an order the platform gave up on cannot be
    /// paid any more. A provider whose sessions cannot be closed says so (`Unsupported`).
    fn cancel_checkout(
        &self,
        _account: &TenantAccount,
        _session_ref: &str,
    ) -> impl Future<Output = Result<(), GatewayError>> + Send {
        std::future::ready(Err(GatewayError::Unsupported("closing a checkout")))
    }

    /// Asks the provider what became of an order's payment, as events (for reconciliation,
    /// and for providers that sign nothing).
    fn fetch_payment(
        &self,
        account: &TenantAccount,
        lookup: &PaymentLookup,
    ) -> impl Future<Output = Result<Vec<GatewayEvent>, GatewayError>> + Send;

    /// Asks for a refund; the state changes when the refund event arrives (or at once, for
    /// events the answer carries in [`RefundAccepted::settled`]).
    fn refund(
        &self,
        account: &TenantAccount,
        request: &RefundRequest,
    ) -> impl Future<Output = Result<RefundAccepted, GatewayError>> + Send;

    /// Asks the provider what became of a refund it took, as events (for reconciliation of
    /// refunds whose event never came). The default knows nothing: the provider's own event
    /// settles it.
    fn fetch_refund(
        &self,
        _account: &TenantAccount,
        _lookup: &RefundLookup,
    ) -> impl Future<Output = Result<Vec<GatewayEvent>, GatewayError>> + Send {
        std::future::ready(Ok(Vec::new()))
    }

    /// What to answer once the delivery's events are committed.
    fn acknowledge(&self, _delivery: &Delivery) -> Acknowledgement {
        Acknowledgement {
            status: 200,
            content_type: "application/json",
            body: "{\"received\":true}".to_owned(),
        }
    }
}
