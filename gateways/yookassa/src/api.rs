//! The HTTP side of YooKassa's API v3: Basic auth with a shop's credentials, the
//! `Idempotence-Key` header on every POST, JSON both ways, and errors in YooKassa's shape
//! (`{"type": "error", "code", "description"}`) turned into [`GatewayError`]s. Only the
//! fields Lyceum reads are modelled; everything else in an answer is ignored.

use lyceum_gateway_core::{Currency, GatewayError, Money};
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::Yookassa;
use crate::config::ShopCredentials;

/// An amount as YooKassa writes it: a decimal string and an ISO code.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct WireAmount {
    pub value: String,
    pub currency: String,
}

impl WireAmount {
    /// The amount, exactly; a malformed one is the provider's error, never rounded.
    pub fn money(&self) -> Result<Money, String> {
        let currency = Currency::parse(&self.currency).map_err(|e| e.to_string())?;
        Money::parse_decimal(&self.value, currency).map_err(|e| e.to_string())
    }
}

/// YooKassa's JSON for an amount.
pub(crate) fn amount(money: Money) -> Value {
    serde_json::json!({"value": money.to_decimal_string(), "currency": money.currency.code()})
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct WireConfirmation {
    pub confirmation_url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct WireCancellation {
    pub reason: Option<String>,
}

/// A payment (`/payments/{id}`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct WirePayment {
    pub id: String,
    pub status: String,
    #[serde(default)]
    pub paid: bool,
    pub amount: WireAmount,
    pub confirmation: Option<WireConfirmation>,
    #[serde(default)]
    pub metadata: serde_json::Map<String, Value>,
    pub created_at: Option<String>,
    pub captured_at: Option<String>,
}

/// A refund (`/refunds/{id}`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct WireRefund {
    pub id: String,
    pub payment_id: String,
    pub status: String,
    pub amount: WireAmount,
    pub created_at: Option<String>,
    pub cancellation_details: Option<WireCancellation>,
    #[serde(default)]
    pub metadata: serde_json::Map<String, Value>,
}

/// A list (`GET /refunds?payment_id=…`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct WireList<T> {
    pub items: Vec<T>,
}

/// The shop the credentials open (`/me`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct WireMe {
    pub account_id: String,
    pub status: Option<String>,
    #[serde(default)]
    pub test: bool,
}

#[derive(Debug, Deserialize)]
struct WireError {
    code: Option<String>,
    description: Option<String>,
}

/// A call that failed: the provider's answer as a [`GatewayError`].
fn error(status: StatusCode, body: &str) -> GatewayError {
    let said = serde_json::from_str::<WireError>(body)
        .ok()
        .map(|e| {
            format!(
                "{}: {}",
                e.code.unwrap_or_default(),
                e.description.unwrap_or_default()
            )
        })
        .unwrap_or_else(|| format!("HTTP {status}"));
    match status {
        StatusCode::NOT_FOUND => GatewayError::UnknownPayment,
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
            GatewayError::Rejected(format!("YooKassa refused the shop's credentials ({said})"))
        }
        s if s.is_server_error() || s == StatusCode::TOO_MANY_REQUESTS => {
            GatewayError::Unavailable(format!("YooKassa answered {status} ({said})"))
        }
        _ => GatewayError::Rejected(said),
    }
}

impl Yookassa {
    /// One API call as `shop`: `path` is below the base (`/payments`); POSTs carry
    /// `idempotence_key`, so a retried call does one thing.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        shop: &ShopCredentials,
        method: Method,
        path: &str,
        idempotence_key: Option<&str>,
        body: Option<&Value>,
    ) -> Result<T, GatewayError> {
        let url = format!("{}{path}", self.config().api_base.trim_end_matches('/'));
        let mut request = self
            .http()
            .request(method, &url)
            .basic_auth(&shop.shop_id, Some(shop.secret_key.expose_secret()));
        if let Some(key) = idempotence_key {
            request = request.header("Idempotence-Key", key);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            // The error names the URL, never the credentials (they travel in a header).
            .map_err(|e| GatewayError::Unavailable(format!("YooKassa: {e}")))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| GatewayError::Unavailable(format!("YooKassa: {e}")))?;
        if !status.is_success() {
            return Err(error(status, &text));
        }
        serde_json::from_str(&text)
            .map_err(|e| GatewayError::Rejected(format!("YooKassa's answer is unreadable: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_keep_yookassas_words_and_their_kind() {
        let body =
            r#"{"type":"error","code":"invalid_request","description":"Receipt is missing"}"#;
        assert_eq!(
            error(StatusCode::BAD_REQUEST, body),
            GatewayError::Rejected("invalid_request: Receipt is missing".into())
        );
        assert_eq!(
            error(StatusCode::NOT_FOUND, ""),
            GatewayError::UnknownPayment
        );
        assert!(matches!(
            error(StatusCode::INTERNAL_SERVER_ERROR, "oops"),
            GatewayError::Unavailable(_)
        ));
        assert!(matches!(
            error(StatusCode::UNAUTHORIZED, ""),
            GatewayError::Rejected(_)
        ));
    }

    #[test]
    fn amounts_are_exact_decimal_strings() {
        let rub = Currency::parse("RUB").unwrap();
        assert_eq!(
            amount(Money::new(149_000, rub).unwrap()),
            serde_json::json!({"value": "1490.00", "currency": "RUB"})
        );
        assert_eq!(
            amount(Money::new(1, rub).unwrap()),
            serde_json::json!({"value": "0.01", "currency": "RUB"})
        );
        let wire = WireAmount {
            value: "0.01".into(),
            currency: "RUB".into(),
        };
        assert_eq!(wire.money(), Ok(Money::new(1, rub).unwrap()));
    }
}
