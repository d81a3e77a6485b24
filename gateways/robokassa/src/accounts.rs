//! A storefront's Robokassa shop: the fields of `PUT …/gateways/robokassa` and the account the
//! platform hands back on every call.
//!
//! `merchant_login` is the account's id; `password1`, `password2` and the optional
//! `password3` are sealed credentials (write-only); `hash` and the `receipt` settings are
//! shown back. `test: true` means the passwords are the shop's test ones and links carry
//! `IsTest=1`.

use std::collections::BTreeMap;

use lyceum_gateway_core::receipt::{self, ReceiptSettings};
use lyceum_gateway_core::{AccountInputError, AccountSetup, GatewayError, TenantAccount};
use secrecy::SecretString;
use serde_json::{Map, Value};

use crate::HashAlgorithm;

/// The credential names the account stores.
pub(crate) const PASSWORD1: &str = "password1";
pub(crate) const PASSWORD2: &str = "password2";
pub(crate) const PASSWORD3: &str = "password3";
/// The setting the hash algorithm is stored under.
pub(crate) const HASH: &str = "hash";

const FIELDS: &str = "merchant_login, password1, password2, password3, hash, test and receipt";

/// Checks an owner's fields.
pub(crate) fn parse(fields: &Map<String, Value>) -> Result<AccountSetup, AccountInputError> {
    if let Some(unknown) = fields.keys().find(|k| {
        !matches!(
            k.as_str(),
            "merchant_login" | "password1" | "password2" | "password3" | "hash" | "test"
        ) && k.as_str() != receipt::FIELD
    }) {
        return Err(AccountInputError::new(
            unknown.as_str(),
            format!("unknown field; Robokassa takes {FIELDS}"),
        ));
    }
    let login = text(fields, "merchant_login")?
        .ok_or_else(|| AccountInputError::new("merchant_login", "is required"))?;
    if login.is_empty()
        || login.chars().count() > 100
        || login
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == ':')
    {
        return Err(AccountInputError::new(
            "merchant_login",
            "must be the shop's identifier from Robokassa's cabinet",
        ));
    }
    let mut credentials = BTreeMap::new();
    for (name, required) in [(PASSWORD1, true), (PASSWORD2, true), (PASSWORD3, false)] {
        match text(fields, name)? {
            Some(value) => {
                if value.is_empty() || value.chars().count() > 256 {
                    return Err(AccountInputError::new(name, "must be 1 to 256 characters"));
                }
                credentials.insert(name.to_owned(), SecretString::from(value.to_owned()));
            }
            None if required => return Err(AccountInputError::new(name, "is required")),
            None => {}
        }
    }
    let hash = match text(fields, "hash")? {
        Some(name) => HashAlgorithm::parse(name).ok_or_else(|| {
            AccountInputError::new(
                "hash",
                "must be one of md5, ripemd160, sha1, sha256, sha384, sha512",
            )
        })?,
        None => HashAlgorithm::default(),
    };
    let test = match fields.get("test") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(AccountInputError::new("test", "must be true or false")),
    };
    let receipt = receipt::from_fields(fields)?;
    let mut settings = receipt.to_settings();
    settings.insert(HASH.to_owned(), hash.as_str().to_owned());
    Ok(AccountSetup {
        provider_account_id: Some(login.to_owned()),
        test_mode: test,
        settings,
        credentials,
        // The storefront's own shop: its passwords prove it is the storefront's.
        needs_platform_approval: false,
    })
}

fn text<'f>(
    fields: &'f Map<String, Value>,
    name: &str,
) -> Result<Option<&'f str>, AccountInputError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim())),
        Some(_) => Err(AccountInputError::new(name, "must be a string")),
    }
}

/// A shop as a call needs it, read from the storefront's account.
pub(crate) struct Shop<'a> {
    pub login: &'a str,
    pub password1: &'a str,
    pub password2: &'a str,
    pub password3: Option<&'a str>,
    pub hash: HashAlgorithm,
    pub test: bool,
    pub receipt: ReceiptSettings,
}

impl<'a> Shop<'a> {
    /// The storefront's shop; the platform has none of its own at Robokassa, so an account
    /// without a login or passwords cannot be used.
    pub(crate) fn of(account: &'a TenantAccount) -> Result<Self, GatewayError> {
        let missing = |what: &str| {
            GatewayError::Rejected(format!(
                "the storefront's Robokassa shop has no {what}; configure it again"
            ))
        };
        Ok(Self {
            login: account
                .provider_account_id
                .as_deref()
                .filter(|l| !l.is_empty())
                .ok_or_else(|| missing("merchant login"))?,
            password1: account
                .credential(PASSWORD1)
                .ok_or_else(|| missing("Password #1"))?,
            password2: account
                .credential(PASSWORD2)
                .ok_or_else(|| missing("Password #2"))?,
            password3: account.credential(PASSWORD3).filter(|p| !p.is_empty()),
            hash: account
                .setting(HASH)
                .and_then(HashAlgorithm::parse)
                .unwrap_or_default(),
            test: account.test_mode,
            receipt: ReceiptSettings::from_settings(&account.settings),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn a_shop_splits_into_id_secrets_and_settings() {
        let setup = parse(&fields(json!({
            "merchant_login": "lyceum-shop",
            "password1": "p1-secret",
            "password2": "p2-secret",
            "hash": "SHA256",
            "test": true,
            "receipt": {"tax_system": "usn_income", "vat": "none"},
        })))
        .unwrap();
        assert_eq!(setup.provider_account_id.as_deref(), Some("lyceum-shop"));
        assert!(setup.test_mode);
        assert_eq!(setup.settings["hash"], "sha256");
        assert_eq!(setup.settings["receipt.tax_system"], "usn_income");
        assert_eq!(
            setup.credentials.keys().collect::<Vec<_>>(),
            ["password1", "password2"]
        );
        let shown = format!("{setup:?}");
        assert!(
            !shown.contains("p1-secret") && !shown.contains("p2-secret"),
            "{shown}"
        );
    }

    #[test]
    fn bad_fields_are_named() {
        let base = json!({"merchant_login": "shop", "password1": "a", "password2": "b"});
        for (change, field) in [
            (json!({"colour": "red"}), "colour"),
            (json!({"hash": "sha3"}), "hash"),
            (json!({"test": "yes"}), "test"),
            (json!({"merchant_login": "a shop"}), "merchant_login"),
            (json!({"password2": null}), "password2"),
            (json!({"password3": 3}), "password3"),
            (json!({"receipt": {"vat": "vat18"}}), "receipt.vat"),
        ] {
            let mut body = fields(base.clone());
            for (k, v) in change.as_object().unwrap() {
                body.insert(k.clone(), v.clone());
            }
            assert_eq!(parse(&body).unwrap_err().field, field, "{change}");
        }
    }
}
