//! The fake Stripe API against the real async-stripe client: it must speak what the client
//! expects (every answer deserializes in the client's models, errors arrive as
//! `StripeError::Stripe`), follow Stripe's documented rules, and sign its events the way
//! stripe-python does (the recorded vectors). Nothing here needs a database.

mod api;
mod events;
mod payments;
mod recorded;
mod signatures;

use std::collections::HashMap;

use lyceum_e2e::stripe::FakeStripe;
use stripe::{ClientBuilder, StripeError};
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionLineItemsPriceData,
    CreateCheckoutSessionPaymentIntentData, CreateCheckoutSessionPaymentIntentDataTransferData,
    ProductData,
};
use stripe_connect::account::{
    CreateAccount, CreateAccountCapabilities, CreateAccountCapabilitiesCardPayments,
    CreateAccountCapabilitiesTransfers, CreateAccountType,
};
use stripe_shared::{ApiErrors, CheckoutSessionMode};
use stripe_types::Currency;

pub const KEY: &str = "sk_test_fake_51Lyceum0123456789";
pub const WHSEC: &str = "whsec_fake_0123456789abcdef0123456789";
pub const ORDER: &str = "0191c8a2-1111-7000-8000-00000000a001";
pub const TENANT: &str = "0191c8a2-2222-7000-8000-00000000b002";

pub async fn fake() -> FakeStripe {
    FakeStripe::start(KEY, vec![WHSEC.to_owned()]).await
}

pub fn client(fake: &FakeStripe) -> stripe::Client {
    ClientBuilder::new(KEY)
        .url(fake.base_url())
        .build()
        .unwrap()
}

/// The Stripe error of a failed call, with its HTTP status.
#[track_caller]
pub fn stripe_error<T: std::fmt::Debug>(result: Result<T, StripeError>) -> (u16, Box<ApiErrors>) {
    match result {
        Err(StripeError::Stripe(error, status)) => (status, error),
        other => panic!("expected a Stripe error, got {other:?}"),
    }
}

pub fn metadata(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// An Express account as the platform creates it.
pub fn create_account(email: &str) -> CreateAccount {
    let mut capabilities = CreateAccountCapabilities::new();
    let mut card = CreateAccountCapabilitiesCardPayments::new();
    card.requested = Some(true);
    let mut transfers = CreateAccountCapabilitiesTransfers::new();
    transfers.requested = Some(true);
    capabilities.card_payments = Some(card);
    capabilities.transfers = Some(transfers);
    CreateAccount::new()
        .type_(CreateAccountType::Express)
        .email(email)
        .country("US")
        .capabilities(capabilities)
        .metadata(metadata(&[("tenant_id", TENANT)]))
}

/// A connected account that finished onboarding.
pub async fn onboarded(fake: &FakeStripe, client: &stripe::Client) -> String {
    let account = create_account("teacher@example.com")
        .send(client)
        .await
        .unwrap();
    fake.complete_onboarding(account.id.as_str()).await;
    account.id.to_string()
}

pub fn line(
    currency: Currency,
    unit_amount: i64,
    quantity: u64,
    name: &str,
) -> CreateCheckoutSessionLineItems {
    let mut price = CreateCheckoutSessionLineItemsPriceData::new(currency);
    price.unit_amount = Some(unit_amount);
    price.product_data = Some(ProductData::new(name));
    let mut line = CreateCheckoutSessionLineItems::new();
    line.price_data = Some(price);
    line.quantity = Some(quantity);
    line
}

/// A session as the platform creates it: our order in `client_reference_id` and metadata,
/// a destination charge to `account` with `fee` for the platform.
pub fn session(
    lines: Vec<CreateCheckoutSessionLineItems>,
    account: &str,
    fee: i64,
) -> CreateCheckoutSession {
    let ids = metadata(&[("order_id", ORDER), ("tenant_id", TENANT)]);
    let mut intent = CreateCheckoutSessionPaymentIntentData::new();
    intent.application_fee_amount = Some(fee);
    intent.transfer_data = Some(CreateCheckoutSessionPaymentIntentDataTransferData::new(
        account,
    ));
    intent.metadata = Some(ids.clone());
    CreateCheckoutSession::new()
        .mode(CheckoutSessionMode::Payment)
        .line_items(lines)
        .client_reference_id(ORDER)
        .metadata(ids)
        .customer_email("student@example.com")
        .success_url("https://shop.lyceum.test/orders/done?session={CHECKOUT_SESSION_ID}")
        .cancel_url("https://shop.lyceum.test/cart")
        .expires_at(chrono::Utc::now().timestamp() + 3600)
        .payment_intent_data(intent)
}
