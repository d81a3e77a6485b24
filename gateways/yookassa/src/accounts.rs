//! A storefront's YooKassa account, in one of two modes:
//!
//! - **its own shop** (`shop_id` + `secret_key`): payments go to the storefront's shop, made
//!   with its credentials; the platform's fee is settled elsewhere (the ledger);
//! - **split payments** (`account_id`): the storefront is a seller inside the platform's own
//!   shop (YooKassa's marketplace "split"); payments are made with the platform's credentials
//!   and `transfers` pay the seller the order's total minus the platform's fee.

use std::collections::BTreeMap;

use lyceum_gateway_core::receipt::{self, ReceiptSettings};
use lyceum_gateway_core::{
    AccountInputError, AccountSetup, AccountStatus, GatewayError, Settlement, TenantAccount,
};
use reqwest::Method;
use secrecy::SecretString;
use serde_json::{Map, Value};

use crate::Yookassa;
use crate::api::WireMe;
use crate::config::ShopCredentials;

/// The setting that names the mode.
const MODE: &str = "mode";
const OWN_SHOP: &str = "own_shop";
const SPLIT: &str = "split";
/// The sealed credential of an own shop.
const SECRET_KEY: &str = "secret_key";

/// Whom a call for a storefront is made as.
pub(crate) enum Shop<'a> {
    /// The storefront's own shop.
    Own(ShopCredentials),
    /// The platform's shop, paying the storefront's seller account.
    Split {
        platform: &'a ShopCredentials,
        seller: String,
    },
}

impl Shop<'_> {
    pub fn credentials(&self) -> &ShopCredentials {
        match self {
            Self::Own(own) => own,
            Self::Split { platform, .. } => platform,
        }
    }

    pub fn seller(&self) -> Option<&str> {
        match self {
            Self::Own(_) => None,
            Self::Split { seller, .. } => Some(seller),
        }
    }
}

impl Yookassa {
    /// The shop calls for `account` are made as: its own when it has a secret key, else the
    /// platform's paying its seller account; the empty account is the platform's shop itself.
    pub(crate) fn shop<'a>(&'a self, account: &TenantAccount) -> Result<Shop<'a>, GatewayError> {
        let platform = || {
            self.config().platform_shop.as_ref().ok_or_else(|| {
                GatewayError::Rejected(
                    "the platform has no YooKassa shop of its own (YOOKASSA_SHOP_ID, YOOKASSA_SECRET_KEY)"
                        .into(),
                )
            })
        };
        let Some(id) = &account.provider_account_id else {
            return Ok(Shop::Own(platform()?.clone()));
        };
        if account.setting(MODE) == Some(SPLIT) {
            return Ok(Shop::Split {
                platform: platform()?,
                seller: id.clone(),
            });
        }
        let secret = account.credential(SECRET_KEY).ok_or_else(|| {
            GatewayError::Rejected("the storefront's shop has no secret key on file".into())
        })?;
        Ok(Shop::Own(ShopCredentials {
            shop_id: id.clone(),
            secret_key: SecretString::from(secret.to_owned()),
        }))
    }
}

/// Whom a payment of `account`'s storefront goes to: its own shop takes all of it, a split
/// seller gets it minus the platform's fee, and the platform's shop (the empty account) keeps it.
pub(crate) fn settlement(account: &TenantAccount) -> Settlement {
    match (&account.provider_account_id, account.setting(MODE)) {
        (None, _) => Settlement::Platform,
        (Some(_), Some(SPLIT)) => Settlement::Split,
        (Some(_), _) => Settlement::Seller,
    }
}

/// Checks an owner's fields: either `shop_id` and `secret_key`, or `account_id`; and
/// `receipt`. A split-payment seller must name the supplier its receipts print.
pub(crate) fn parse(fields: &Map<String, Value>) -> Result<AccountSetup, AccountInputError> {
    for key in fields.keys() {
        if !matches!(
            key.as_str(),
            "shop_id" | "secret_key" | "account_id" | receipt::FIELD
        ) {
            return Err(AccountInputError::new(
                key.as_str(),
                "YooKassa takes shop_id and secret_key (an own shop), or account_id (split payments), and receipt",
            ));
        }
    }
    let text = |name: &str| -> Result<Option<&str>, AccountInputError> {
        match fields.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim())),
            Some(_) => Err(AccountInputError::new(name, "must be a string")),
        }
    };
    let receipts = receipt::from_fields(fields)?;
    let mut settings = receipts.to_settings();
    let (account_id, test_mode, credentials) = match (
        text("shop_id")?,
        text(SECRET_KEY)?,
        text("account_id")?,
    ) {
        (Some(shop_id), Some(secret), None) => {
            let shop_id = shop_number("shop_id", shop_id)?;
            let test = secret_key(secret)?;
            settings.insert(MODE.to_owned(), OWN_SHOP.to_owned());
            let sealed =
                BTreeMap::from([(SECRET_KEY.to_owned(), SecretString::from(secret.to_owned()))]);
            (shop_id, test, sealed)
        }
        (None, None, Some(account_id)) => {
            let seller = shop_number("account_id", account_id)?;
            split_receipts(&receipts)?;
            settings.insert(MODE.to_owned(), SPLIT.to_owned());
            (seller, false, BTreeMap::new())
        }
        (Some(_), None, _) => {
            return Err(AccountInputError::new(
                SECRET_KEY,
                "an own shop needs its secret key",
            ));
        }
        (None, Some(_), _) => {
            return Err(AccountInputError::new(
                "shop_id",
                "the secret key needs its shop_id",
            ));
        }
        (Some(_), Some(_), Some(_)) => {
            return Err(AccountInputError::new(
                "account_id",
                "either an own shop (shop_id, secret_key) or split payments (account_id), not both",
            ));
        }
        (None, None, None) => {
            return Err(AccountInputError::new(
                "shop_id",
                "give shop_id and secret_key (an own shop) or account_id (split payments)",
            ));
        }
    };
    let split = settings.get(MODE).map(String::as_str) == Some(SPLIT);
    Ok(AccountSetup {
        provider_account_id: Some(account_id),
        test_mode,
        settings,
        credentials,
        needs_platform_approval: split,
    })
}

/// A shop or seller id: YooKassa's are numbers.
fn shop_number(field: &str, value: &str) -> Result<String, AccountInputError> {
    if value.is_empty() || value.len() > 20 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AccountInputError::new(
            field,
            "must be YooKassa's shop id: up to 20 digits",
        ));
    }
    Ok(value.to_owned())
}

/// A secret key: `test_…` or `live_…`; returns whether it is a test key.
fn secret_key(value: &str) -> Result<bool, AccountInputError> {
    let test = value.starts_with("test_");
    let well_formed = (test || value.starts_with("live_"))
        && value.len() > 5
        && value.len() <= 200
        && value.bytes().all(|b| b.is_ascii_graphic());
    if !well_formed {
        return Err(AccountInputError::new(
            SECRET_KEY,
            "must be a YooKassa secret key (test_… or live_…)",
        ));
    }
    Ok(test)
}

/// Receipts the platform's shop issues for a seller name the seller as supplier (54-FZ).
fn split_receipts(receipts: &ReceiptSettings) -> Result<(), AccountInputError> {
    if receipts.enabled && receipts.supplier.is_none() {
        return Err(AccountInputError::new(
            "receipt.supplier_inn",
            "with split payments the platform's receipts name the seller as supplier: give receipt.supplier_name and receipt.supplier_inn",
        ));
    }
    Ok(())
}

/// Asks YooKassa about the shop: an own shop's credentials must open that shop (`GET /me`)
/// and be of the mode they claim. A split-payment seller is known to the platform's shop only
/// through its contract with YooKassa; it is taken as given while the platform has a shop.
pub(crate) async fn check(
    yookassa: &Yookassa,
    account: &TenantAccount,
) -> Result<AccountStatus, GatewayError> {
    let shop = yookassa.shop(account)?;
    let (id, enabled) = match &shop {
        Shop::Own(credentials) => {
            let me: WireMe = yookassa
                .call(credentials, Method::GET, "/me", None, None)
                .await?;
            if me.account_id != credentials.shop_id {
                return Err(GatewayError::Rejected(format!(
                    "the secret key opens shop {}, not {}",
                    me.account_id, credentials.shop_id
                )));
            }
            if me.test != account.test_mode {
                return Err(GatewayError::Rejected(
                    "the key's mode (test or live) is not the shop's".into(),
                ));
            }
            (me.account_id, me.status.as_deref() != Some("disabled"))
        }
        Shop::Split { seller, .. } => (seller.clone(), true),
    };
    Ok(AccountStatus {
        provider_account_id: id,
        charges_enabled: enabled,
        payouts_enabled: enabled,
        requirements: if enabled {
            Vec::new()
        } else {
            vec!["shop.enabled".to_owned()]
        },
        opened_for: None,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn an_own_shop_seals_its_key_and_shows_its_id() {
        let setup = parse(&fields(
            json!({"shop_id": "506751", "secret_key": "test_abc"}),
        ))
        .unwrap();
        assert_eq!(setup.provider_account_id.as_deref(), Some("506751"));
        assert!(setup.test_mode);
        assert_eq!(setup.settings.get(MODE).map(String::as_str), Some(OWN_SHOP));
        assert!(setup.credentials.contains_key(SECRET_KEY));
        assert!(
            !setup.needs_platform_approval,
            "checked against the shop itself"
        );
        assert!(!format!("{setup:?}").contains("test_abc"));
        let live = parse(&fields(json!({"shop_id": "1", "secret_key": "live_x"}))).unwrap();
        assert!(!live.test_mode);
    }

    #[test]
    fn a_split_seller_needs_a_supplier_unless_receipts_are_off() {
        let err = parse(&fields(json!({"account_id": "42"}))).unwrap_err();
        assert_eq!(err.field, "receipt.supplier_inn");
        let setup = parse(&fields(json!({
            "account_id": "42",
            "receipt": {"supplier_name": "ИП Петров", "supplier_inn": "123456789012"}
        })))
        .unwrap();
        assert_eq!(setup.settings.get(MODE).map(String::as_str), Some(SPLIT));
        assert!(setup.credentials.is_empty());
        assert!(
            setup.needs_platform_approval,
            "anyone could name any seller id"
        );
        assert!(
            parse(&fields(
                json!({"account_id": "42", "receipt": {"enabled": false}})
            ))
            .is_ok()
        );
    }

    #[test]
    fn bad_fields_are_named() {
        for (body, field) in [
            (json!({"shop_id": "1"}), "secret_key"),
            (json!({"secret_key": "test_1"}), "shop_id"),
            (json!({"shop_id": "abc", "secret_key": "test_1"}), "shop_id"),
            (
                json!({"shop_id": "1", "secret_key": "sk_test_1"}),
                "secret_key",
            ),
            (
                json!({"shop_id": "1", "secret_key": "test_1", "account_id": "2"}),
                "account_id",
            ),
            (json!({}), "shop_id"),
            (json!({"merchant_login": "x"}), "merchant_login"),
            (json!({"shop_id": 1, "secret_key": "test_1"}), "shop_id"),
        ] {
            assert_eq!(
                parse(&fields(body.clone())).unwrap_err().field,
                field,
                "{body}"
            );
        }
    }
}
