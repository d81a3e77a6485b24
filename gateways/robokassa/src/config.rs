//! Where Robokassa is: the payment page, the XML web service (OpStateExt) and the Refund API.
//! Nothing here is secret: every shop's passwords come with its account, per call.

use std::time::Duration;

/// Robokassa's payment page.
pub const DEFAULT_PAY_URL: &str = "https://auth.robokassa.ru/Merchant/Index.aspx";
/// Robokassa's XML web service (`…/OpStateExt`).
pub const DEFAULT_API_BASE: &str = "https://auth.robokassa.ru/Merchant/WebService/Service.asmx";
/// Robokassa's Refund API (`…/Refund/Create`, `…/Refund/GetState`).
pub const DEFAULT_REFUND_BASE: &str = "https://services.robokassa.ru/RefundService";

/// The platform's Robokassa settings.
#[derive(Clone, PartialEq, Eq)]
pub struct RobokassaConfig {
    /// The payment page buyers are sent to (`LYCEUM_ROBOKASSA_PAY_URL`).
    pub pay_url: String,
    /// The web service, without `/OpStateExt` (`LYCEUM_ROBOKASSA_API_BASE`).
    pub api_base: String,
    /// The Refund API, without `/Refund/…` (`LYCEUM_ROBOKASSA_REFUND_API_BASE`).
    pub refund_base: String,
    /// Per-request timeout of calls to Robokassa.
    pub timeout: Duration,
}

impl Default for RobokassaConfig {
    fn default() -> Self {
        Self {
            pay_url: DEFAULT_PAY_URL.to_owned(),
            api_base: DEFAULT_API_BASE.to_owned(),
            refund_base: DEFAULT_REFUND_BASE.to_owned(),
            timeout: Duration::from_secs(20),
        }
    }
}

impl std::fmt::Debug for RobokassaConfig {
    // Written out so that a secret added here later cannot show by accident.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RobokassaConfig")
            .field("pay_url", &self.pay_url)
            .field("api_base", &self.api_base)
            .field("refund_base", &self.refund_base)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A Robokassa configuration that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RobokassaConfigError {
    #[error("{0} must be an http(s) URL")]
    BadUrl(&'static str),
    #[error("the HTTP client could not be built: {0}")]
    Client(String),
}

impl RobokassaConfig {
    pub(crate) fn check(&self) -> Result<(), RobokassaConfigError> {
        for (name, value) in [
            ("the payment page", &self.pay_url),
            ("the web service base", &self.api_base),
            ("the Refund API base", &self.refund_base),
        ] {
            let ok = url::Url::parse(value)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host());
            if !ok {
                return Err(RobokassaConfigError::BadUrl(name));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_robokassa_and_check() {
        let config = RobokassaConfig::default();
        assert_eq!(config.check(), Ok(()));
        let bad = RobokassaConfig {
            pay_url: "ftp://x".into(),
            ..RobokassaConfig::default()
        };
        assert!(bad.check().is_err());
        assert!(format!("{config:?}").contains("auth.robokassa.ru"));
    }
}
