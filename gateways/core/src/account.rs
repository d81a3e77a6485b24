//! A seller's account at a provider, as the gateway calls take it.

use std::collections::BTreeMap;
use std::fmt;

use secrecy::{ExposeSecret, SecretString};

/// The tenant's own account at one provider, as the platform stored it: the provider's id of
/// the account, its credentials (already decrypted by the platform) and whether they are the
/// provider's test-mode ones.
///
/// Every call that acts for a tenant takes one, so a gateway never reads a seller's secrets
/// from anywhere else. The empty account ([`TenantAccount::default`]) means the tenant has no
/// account of its own and the gateway uses the platform's, from its configuration.
///
/// The credentials never print: `Debug` shows their names only, and the values are
/// [`SecretString`]s, wiped when dropped.
#[derive(Clone, Default)]
pub struct TenantAccount {
    /// The provider's id of the seller's account (a Stripe `acct_…`, a YooKassa shop id).
    pub provider_account_id: Option<String>,
    /// Whether these are the provider's test-mode credentials; a gateway must not mix test and
    /// live objects.
    pub test_mode: bool,
    /// Settings that are not secret (a hash algorithm, receipt settings), as the provider's
    /// crate wrote them in [`AccountSetup::settings`].
    pub settings: BTreeMap<String, String>,
    credentials: BTreeMap<String, SecretString>,
}

impl TenantAccount {
    /// An account with the given credentials, by the names the provider's crate documents
    /// (e.g. `secret_key`, `password_2`).
    pub fn new(
        provider_account_id: Option<String>,
        test_mode: bool,
        credentials: impl IntoIterator<Item = (String, SecretString)>,
    ) -> Self {
        Self {
            provider_account_id,
            test_mode,
            settings: BTreeMap::new(),
            credentials: credentials.into_iter().collect(),
        }
    }

    /// The same account with its non-secret settings.
    pub fn with_settings(mut self, settings: BTreeMap<String, String>) -> Self {
        self.settings = settings;
        self
    }

    /// The setting called `name`, if the account has it.
    pub fn setting(&self, name: &str) -> Option<&str> {
        self.settings.get(name).map(String::as_str)
    }

    /// Whether the tenant has no account of its own (no id, no credentials).
    pub fn is_empty(&self) -> bool {
        self.provider_account_id.is_none() && self.credentials.is_empty()
    }

    /// The credential called `name`, if the account has it.
    pub fn credential(&self, name: &str) -> Option<&str> {
        self.credentials.get(name).map(|s| s.expose_secret())
    }

    /// The names of the credentials the account has, in order.
    pub fn credential_names(&self) -> impl Iterator<Item = &str> {
        self.credentials.keys().map(String::as_str)
    }
}

impl fmt::Debug for TenantAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TenantAccount")
            .field("provider_account_id", &self.provider_account_id)
            .field("test_mode", &self.test_mode)
            .field("settings", &self.settings)
            .field("credentials", &self.credentials.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// A tenant's account at a provider as the owner configures it (`PUT …/gateways/{gateway}`),
/// once the provider's crate has checked the fields: what may be shown back, and what is
/// sealed at rest and never shown.
#[derive(Clone, Default)]
pub struct AccountSetup {
    /// The provider's id of the seller's account (a Stripe `acct_…`, a YooKassa shop id).
    pub provider_account_id: Option<String>,
    pub test_mode: bool,
    /// Settings that are not secret (a hash algorithm, a tax system), shown back as they are.
    pub settings: BTreeMap<String, String>,
    /// Secrets (a secret key, a password): write-only.
    pub credentials: BTreeMap<String, SecretString>,
    /// The account is a seller inside the platform's own account at the provider (YooKassa's
    /// split payments), which the provider offers no way to check: the platform's operator
    /// confirms it belongs to the storefront before the storefront sells through it.
    pub needs_platform_approval: bool,
}

impl fmt::Debug for AccountSetup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountSetup")
            .field("provider_account_id", &self.provider_account_id)
            .field("test_mode", &self.test_mode)
            .field("settings", &self.settings)
            .field("credentials", &self.credentials.keys().collect::<Vec<_>>())
            .field("needs_platform_approval", &self.needs_platform_approval)
            .finish()
    }
}

/// A field of an account's configuration that the provider's crate refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct AccountInputError {
    /// The JSON field, as the request named it.
    pub field: String,
    pub message: String,
}

impl AccountInputError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// What a provider says of a seller account: whether it can take payments and be paid out,
/// and what the provider still asks of the seller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountStatus {
    pub provider_account_id: String,
    pub charges_enabled: bool,
    pub payouts_enabled: bool,
    /// Requirements the seller has not met yet (the provider's names, e.g.
    /// `individual.verification.document`), due now or past due.
    pub requirements: Vec<String>,
    /// The storefront the provider's records say the account was opened for (Lyceum's
    /// onboarding writes it; Stripe's `metadata.tenant_id`), if they say.
    pub opened_for: Option<uuid::Uuid>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> TenantAccount {
        TenantAccount::new(
            Some("acct_123".into()),
            true,
            [
                (
                    "secret_key".to_owned(),
                    SecretString::from("sk_test_hunter2"),
                ),
                (
                    "webhook_secret".to_owned(),
                    SecretString::from("whsec_swordfish"),
                ),
            ],
        )
    }

    #[test]
    fn debug_shows_the_names_and_never_the_secrets() {
        let shown = format!("{:?} {:#?}", account(), account());
        assert!(shown.contains("secret_key") && shown.contains("webhook_secret"));
        assert!(shown.contains("acct_123"));
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("swordfish"), "{shown}");
    }

    #[test]
    fn credentials_are_found_by_name() {
        let account = account();
        assert_eq!(account.credential("secret_key"), Some("sk_test_hunter2"));
        assert_eq!(account.credential("password_2"), None);
        assert_eq!(
            account.credential_names().collect::<Vec<_>>(),
            ["secret_key", "webhook_secret"]
        );
        assert!(!account.is_empty());
        assert!(TenantAccount::default().is_empty());
    }
}
