//! Connected accounts: connecting an existing `acct_…`, asking Stripe what it can do, and
//! Express onboarding through an Account Link.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use lyceum_gateway_core::{
    AccountInputError, AccountSetup, AccountStatus, GatewayError, Onboarding, OnboardingRequest,
    TenantAccount,
};
use stripe::{IdempotencyKey, RequestStrategy, StripeRequest};
use stripe_connect::account::{
    CreateAccount, CreateAccountCapabilities, CreateAccountCapabilitiesCardPayments,
    CreateAccountCapabilitiesTransfers, CreateAccountType, RetrieveAccount,
};
use stripe_connect::account_link::{CreateAccountLink, CreateAccountLinkType};

use crate::Stripe;
use crate::error::gateway_error;

/// The one field `PUT …/gateways/stripe` takes: the connected account's id.
const ACCOUNT_ID: &str = "account_id";

/// Checks the owner's fields: `{"account_id": "acct_…"}` and nothing else. Stripe account ids
/// are not secret; test mode follows the platform's key.
pub(crate) fn parse(
    fields: &serde_json::Map<String, serde_json::Value>,
    live: bool,
) -> Result<AccountSetup, AccountInputError> {
    if let Some(other) = fields.keys().find(|k| *k != ACCOUNT_ID) {
        return Err(AccountInputError::new(
            other.as_str(),
            "unknown field; Stripe takes only `account_id`",
        ));
    }
    let id = match fields.get(ACCOUNT_ID) {
        Some(serde_json::Value::String(id)) => id.trim(),
        Some(_) => return Err(AccountInputError::new(ACCOUNT_ID, "must be a string")),
        None => {
            return Err(AccountInputError::new(
                ACCOUNT_ID,
                "is required: the connected account's id (`acct_…`), or start onboarding instead",
            ));
        }
    };
    if !is_account_id(id) {
        return Err(AccountInputError::new(
            ACCOUNT_ID,
            "must look like `acct_` followed by letters and digits",
        ));
    }
    Ok(AccountSetup {
        provider_account_id: Some(id.to_owned()),
        test_mode: !live,
        ..AccountSetup::default()
    })
}

fn is_account_id(id: &str) -> bool {
    id.strip_prefix("acct_").is_some_and(|rest| {
        (1..=64).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

/// What Stripe says of a connected account.
pub(crate) async fn check(
    stripe: &Stripe,
    account: &TenantAccount,
) -> Result<AccountStatus, GatewayError> {
    let id = account
        .provider_account_id
        .as_deref()
        .ok_or_else(|| GatewayError::Rejected("no connected account".into()))?;
    let found = RetrieveAccount::new(id)
        .send(stripe.client())
        .await
        .map_err(gateway_error)?;
    Ok(status_of(&found))
}

fn status_of(account: &stripe_shared::Account) -> AccountStatus {
    let requirements = account
        .requirements
        .as_ref()
        .map(|r| {
            let mut due: Vec<String> = r.past_due.clone().unwrap_or_default();
            due.extend(r.currently_due.clone().unwrap_or_default());
            due.sort();
            due.dedup();
            due
        })
        .unwrap_or_default();
    AccountStatus {
        provider_account_id: account.id.as_str().to_owned(),
        charges_enabled: account.charges_enabled.unwrap_or(false),
        payouts_enabled: account.payouts_enabled.unwrap_or(false),
        requirements,
        opened_for: account
            .metadata
            .as_ref()
            .and_then(|m| m.get("tenant_id"))
            .and_then(|t| t.parse().ok()),
    }
}

/// Opens an Express account (unless the storefront has one) and an onboarding link to it.
pub(crate) async fn onboard(
    stripe: &Stripe,
    account: &TenantAccount,
    request: &OnboardingRequest,
) -> Result<Onboarding, GatewayError> {
    let account_id = match &account.provider_account_id {
        Some(id) => id.clone(),
        None => {
            let mut capabilities = CreateAccountCapabilities::new();
            capabilities.card_payments = Some(CreateAccountCapabilitiesCardPayments {
                requested: Some(true),
            });
            capabilities.transfers = Some(CreateAccountCapabilitiesTransfers {
                requested: Some(true),
            });
            let key = IdempotencyKey::new(&request.idempotency_key)
                .map_err(|e| GatewayError::Rejected(format!("idempotency key: {e}")))?;
            let created = CreateAccount::new()
                .type_(CreateAccountType::Express)
                .email(request.email.as_str())
                .capabilities(capabilities)
                .metadata(HashMap::from([
                    ("tenant_id".to_owned(), request.tenant_id.to_string()),
                    ("storefront".to_owned(), request.tenant_name.clone()),
                ]))
                .customize()
                .request_strategy(RequestStrategy::Idempotent(key))
                .send(stripe.client())
                .await
                .map_err(gateway_error)?;
            tracing::info!(tenant.id = %request.tenant_id, account = %created.id.as_str(), "Stripe Express account opened");
            created.id.as_str().to_owned()
        }
    };
    let link = CreateAccountLink::new(
        account_id.as_str(),
        CreateAccountLinkType::AccountOnboarding,
    )
    .refresh_url(request.refresh_url.as_str())
    .return_url(request.return_url.as_str())
    .send(stripe.client())
    .await
    .map_err(gateway_error)?;
    Ok(Onboarding {
        provider_account_id: account_id,
        url: link.url,
        expires_at: DateTime::<Utc>::from_timestamp(link.expires_at, 0).unwrap_or_else(Utc::now),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn an_account_id_is_all_it_takes() {
        let setup = parse(&fields(json!({"account_id": "acct_1Abc"})), false).unwrap();
        assert_eq!(setup.provider_account_id.as_deref(), Some("acct_1Abc"));
        assert!(setup.test_mode);
        assert!(setup.credentials.is_empty());
        assert!(
            !parse(&fields(json!({"account_id": "acct_1Abc"})), true)
                .unwrap()
                .test_mode
        );
    }

    #[test]
    fn anything_else_is_refused_by_field() {
        for (input, field) in [
            (json!({}), "account_id"),
            (json!({"account_id": 5}), "account_id"),
            (json!({"account_id": "cus_123"}), "account_id"),
            (json!({"account_id": "acct_"}), "account_id"),
            (json!({"account_id": "acct_a/b"}), "account_id"),
            (
                json!({"account_id": "acct_1", "secret_key": "sk"}),
                "secret_key",
            ),
        ] {
            let err = parse(&fields(input.clone()), false).unwrap_err();
            assert_eq!(err.field, field, "{input}");
        }
    }
}
