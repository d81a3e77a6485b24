//! The payment-gateway contract shared by the platform and every gateway crate.
//!
//! This crate owns the normalized vocabulary that crosses the boundary between the platform
//! and a payment provider:
//!
//! - [`Money`]: integer minor units plus an ISO 4217 [`Currency`] that knows its exponent;
//! - [`PaymentGateway`]: the one trait every provider crate implements — create a hosted
//!   checkout, verify and normalize webhooks, fetch a payment, refund;
//! - [`TenantAccount`]: the seller's own account at a provider (id, decrypted credentials,
//!   test mode), which every call made for a tenant takes;
//! - [`GatewayId`]: the closed set of providers, generated from one list;
//! - [`GatewayEvent`]: our own enum of what a provider can tell us, whatever its wire format;
//! - [`signature`]: the `t=…,v1=…` HMAC-SHA256 header scheme (Stripe's, and the sandbox's);
//! - [`receipt`]: a storefront's 54-FZ receipt settings, in one vocabulary every Russian
//!   provider maps to its own codes.
//!
//! It depends on no provider, no database and no web framework: a gateway crate depends on
//! this crate only, and the platform never imports a gateway's internals.

mod account;
mod event;
mod gateway;
mod id;
mod money;
pub mod receipt;
pub mod signature;

pub use account::{AccountInputError, AccountSetup, AccountStatus, TenantAccount};
pub use event::{Delivery, EventKind, GatewayEvent};
pub use gateway::{
    Acknowledgement, Capabilities, CheckoutLine, CheckoutRequest, CheckoutSession, GatewayError,
    Itemised, Onboarding, OnboardingRequest, PaymentGateway, PaymentLookup, RefundAccepted,
    RefundLookup, RefundRequest, RefundedOrder, Settlement, Split, WebhookError, WebhookRequest,
    charged_amounts,
};
pub use id::{GatewayId, UnknownGateway};
pub use money::{Currency, MinorUnits, Money, MoneyError, allocate};
pub use receipt::{PaymentMode, PaymentSubject, ReceiptSettings, Supplier, TaxSystem, Vat};
