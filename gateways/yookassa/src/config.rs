//! What the YooKassa gateway is built from: where the API is, the platform's own shop (for
//! split payments), and the addresses notifications may come from.

use std::time::Duration;

use ipnet::IpNet;
use secrecy::SecretString;

/// YooKassa's API, version included, when no other base is configured.
pub const DEFAULT_API_BASE: &str = "https://api.yookassa.ru/v3";

/// The networks YooKassa sends notifications from, as it publishes them (the IPv4 set of its
/// SDK and documentation; the documentation's IPv6 range, which covers the SDK's).
pub const PUBLISHED_SOURCES: [&str; 7] = [
    "185.71.76.0/27",
    "185.71.77.0/27",
    "77.75.153.0/25",
    "77.75.156.11/32",
    "77.75.156.35/32",
    "77.75.154.128/25",
    "2a02:5180::/32",
];

/// The published networks, parsed.
pub fn published_sources() -> Vec<IpNet> {
    PUBLISHED_SOURCES
        .iter()
        .filter_map(|net| net.parse().ok())
        .collect()
}

/// A shop's API credentials: HTTP Basic with the shop id and its secret key.
#[derive(Clone)]
pub struct ShopCredentials {
    pub shop_id: String,
    pub secret_key: SecretString,
}

impl std::fmt::Debug for ShopCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShopCredentials")
            .field("shop_id", &self.shop_id)
            .finish_non_exhaustive()
    }
}

/// The platform's YooKassa settings.
#[derive(Debug, Clone)]
pub struct YookassaConfig {
    /// With the version: `https://api.yookassa.ru/v3`, or a test double's address.
    pub api_base: String,
    /// The platform's own shop, through which storefronts without a shop of their own sell
    /// with split payments; `None` when the platform has none.
    pub platform_shop: Option<ShopCredentials>,
    /// The networks notifications are taken from; anything else is refused unread.
    pub trusted_sources: Vec<IpNet>,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl Default for YookassaConfig {
    fn default() -> Self {
        Self {
            api_base: DEFAULT_API_BASE.to_owned(),
            platform_shop: None,
            trusted_sources: published_sources(),
            timeout: Duration::from_secs(20),
        }
    }
}

/// A YooKassa configuration that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum YookassaConfigError {
    #[error("YOOKASSA_SHOP_ID and YOOKASSA_SECRET_KEY go together: set both or neither")]
    HalfAShop,
    #[error("the YooKassa client could not be built: {0}")]
    Client(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_sources_all_parse() {
        assert_eq!(published_sources().len(), PUBLISHED_SOURCES.len());
        let sdk_checked: std::net::IpAddr = "185.71.76.5".parse().unwrap();
        assert!(published_sources().iter().any(|n| n.contains(&sdk_checked)));
    }

    #[test]
    fn debug_never_shows_the_key() {
        let shop = ShopCredentials {
            shop_id: "123".into(),
            secret_key: SecretString::from("live_hunter2"),
        };
        let shown = format!("{shop:?}");
        assert!(
            shown.contains("123") && !shown.contains("hunter2"),
            "{shown}"
        );
    }
}
