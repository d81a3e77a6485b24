//! Typed configuration: an optional TOML file, then environment variables on top.
//!
//! Every key has one environment variable (see [`KEYS`]); the TOML file uses the key names.
//! Secrets are [`SecretString`]s, so they never show in `Debug` output or logs.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::num::{NonZeroU32, NonZeroUsize};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;
use secrecy::SecretString;
use url::Url;

/// `(TOML key, environment variable)` for every setting.
pub const KEYS: &[(&str, &str)] = &[
    ("addr", "LYCEUM_ADDR"),
    ("data_dir", "LYCEUM_DATA_DIR"),
    ("database_url", "DATABASE_URL"),
    ("public_url", "LYCEUM_PUBLIC_URL"),
    ("content_url", "LYCEUM_CONTENT_URL"),
    ("base_domain", "LYCEUM_BASE_DOMAIN"),
    ("default_fee_bps", "LYCEUM_DEFAULT_FEE_BPS"),
    ("default_fee_fixed", "LYCEUM_DEFAULT_FEE_FIXED"),
    ("payout_hold_days", "LYCEUM_PAYOUT_HOLD_DAYS"),
    ("log_format", "LYCEUM_LOG_FORMAT"),
    ("log", "LYCEUM_LOG"),
    ("assets_url", "LYCEUM_ASSETS_URL"),
    ("max_body_bytes", "LYCEUM_MAX_BODY_BYTES"),
    ("max_upload_bytes", "LYCEUM_MAX_UPLOAD_BYTES"),
    ("token_ttl_days", "LYCEUM_TOKEN_TTL_DAYS"),
    ("sandbox", "LYCEUM_SANDBOX"),
    ("sandbox_webhook_secret", "LYCEUM_SANDBOX_WEBHOOK_SECRET"),
    ("stripe_api_base", "LYCEUM_STRIPE_API_BASE"),
    ("stripe_secret_key", "STRIPE_SECRET_KEY"),
    ("stripe_webhook_secret", "STRIPE_WEBHOOK_SECRET"),
    ("yookassa_api_base", "LYCEUM_YOOKASSA_API_BASE"),
    (
        "yookassa_trusted_sources",
        "LYCEUM_YOOKASSA_TRUSTED_SOURCES",
    ),
    ("yookassa_shop_id", "YOOKASSA_SHOP_ID"),
    ("yookassa_secret_key", "YOOKASSA_SECRET_KEY"),
    ("robokassa_pay_url", "LYCEUM_ROBOKASSA_PAY_URL"),
    ("robokassa_api_base", "LYCEUM_ROBOKASSA_API_BASE"),
    (
        "robokassa_refund_api_base",
        "LYCEUM_ROBOKASSA_REFUND_API_BASE",
    ),
    ("content_key", "LYCEUM_CONTENT_KEY"),
    ("secrets_key", "LYCEUM_SECRETS_KEY"),
    ("secrets_previous_keys", "LYCEUM_SECRETS_PREVIOUS_KEYS"),
    ("smtp_url", "LYCEUM_SMTP_URL"),
    ("mail_from", "LYCEUM_MAIL_FROM"),
    ("order_ttl_minutes", "LYCEUM_ORDER_TTL_MINUTES"),
    ("reconcile_after_minutes", "LYCEUM_RECONCILE_AFTER_MINUTES"),
    ("trusted_proxies", "LYCEUM_TRUSTED_PROXIES"),
    (
        "metrics_allowed_networks",
        "LYCEUM_METRICS_ALLOWED_NETWORKS",
    ),
    ("metrics_token", "LYCEUM_METRICS_TOKEN"),
    (
        "rate_limit_signin_per_address",
        "LYCEUM_RATE_LIMIT_SIGNIN_PER_ADDRESS",
    ),
    (
        "rate_limit_signin_per_account",
        "LYCEUM_RATE_LIMIT_SIGNIN_PER_ACCOUNT",
    ),
    (
        "rate_limit_register_per_address",
        "LYCEUM_RATE_LIMIT_REGISTER_PER_ADDRESS",
    ),
    (
        "rate_limit_coupon_per_address",
        "LYCEUM_RATE_LIMIT_COUPON_PER_ADDRESS",
    ),
    (
        "rate_limit_coupon_per_user",
        "LYCEUM_RATE_LIMIT_COUPON_PER_USER",
    ),
    (
        "password_hash_concurrency",
        "LYCEUM_PASSWORD_HASH_CONCURRENCY",
    ),
];

/// The fewest characters a signing secret (the content key, each webhook secret) may have:
/// a short or empty key makes every signature it protects guessable.
pub const MIN_SECRET_CHARS: usize = 32;

/// Why `value` is refused as a signing secret, or `None` when it is long enough.
pub fn weak_secret(value: &str) -> Option<String> {
    let chars = value.trim().chars().count();
    (chars < MIN_SECRET_CHARS).then(|| {
        format!("a signing secret must be at least {MIN_SECRET_CHARS} characters long, got {chars}")
    })
}

/// Why a comma-separated list of signing secrets (the first signs, all verify) is refused:
/// an empty list, or any entry that is empty or short.
pub fn weak_secret_list(value: &str) -> Option<String> {
    value
        .split(',')
        .enumerate()
        .find_map(|(i, entry)| weak_secret(entry).map(|why| format!("entry {}: {why}", i + 1)))
}

/// A setting that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the configuration file {path} is not valid TOML: {source}")]
    Toml {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error("unknown key `{0}` in the configuration file")]
    UnknownKey(String),
    #[error("`{key}` ({env}): {message}")]
    Invalid {
        key: &'static str,
        env: &'static str,
        message: String,
    },
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Where the SQL database lives.
#[derive(Debug, Clone)]
pub enum DatabaseTarget {
    /// The embedded default: a SQLite file, created and migrated on first start.
    Sqlite(PathBuf),
    /// A server URL such as `postgres://…` (may hold a password).
    Url(SecretString),
}

/// Everything the server reads at start.
#[derive(Debug, Clone)]
pub struct Settings {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    pub database: DatabaseTarget,
    /// Used to build links, redirect and webhook URLs.
    pub public_url: Url,
    /// A separate origin for lesson content (signed URLs are built on it, and its host answers
    /// nothing else); `None` serves content from the public URL.
    pub content_url: Option<Url>,
    /// Storefronts are served at `{slug}.{base_domain}` when set.
    pub base_domain: Option<String>,
    /// Platform fee for tenants without a fee plan of their own, in basis points.
    pub default_fee_bps: u16,
    /// Fixed platform fee per paid order for tenants without a fee plan of their own, in minor
    /// units of each storefront's currency (so 30 is 0.30 USD, 30 JPY, 0.030 KWD).
    pub default_fee_fixed: i64,
    /// Days a sale stays pending before its sellers may be paid, for storefronts without a
    /// hold of their own: the refund window.
    pub payout_hold_days: u16,
    pub log_format: LogFormat,
    /// `tracing` filter directives, e.g. `info,lyceum=debug`.
    pub log_filter: String,
    /// Where lesson assets are kept: a directory (default `{data_dir}/assets`) or `s3://bucket/prefix`.
    pub assets_url: String,
    /// The largest JSON request body accepted.
    pub max_body_bytes: usize,
    /// The largest lesson asset accepted.
    pub max_upload_bytes: usize,
    /// How long an API token lives.
    pub token_ttl: Duration,
    pub sandbox_enabled: bool,
    /// Demo and test mode (`LYCEUM_SANDBOX=all`, and `serve --demo`): the sandbox is offered
    /// to every storefront, even one that takes real payments; otherwise only to storefronts
    /// without a real gateway.
    pub sandbox_everywhere: bool,
    pub sandbox_webhook_secret: Option<SecretString>,
    /// How the sandbox delivers its webhooks (tests make it duplicate, delay, reorder).
    pub sandbox_delivery: lyceum_gateway_sandbox::DeliveryOptions,
    /// Reads the DNS records that prove control of custom domains; the system's resolver when
    /// `None` (tests and embedders put their own here).
    pub dns_probe: Option<std::sync::Arc<dyn crate::services::tenancy::domains::DnsProbe>>,
    pub gateways: GatewayEndpoints,
    /// Signs content URLs; generated and stored in the database when unset.
    pub content_key: Option<SecretString>,
    /// Seals tenants' gateway credentials (base64 of 32 bytes); generated into
    /// `{data_dir}/secrets.key` when unset (see `sealing`).
    pub secrets_key: Option<SecretString>,
    /// Keys that sealed values before the current one, still accepted to open them until
    /// `lyceum secrets rotate` has resealed everything.
    pub secrets_previous_keys: Vec<SecretString>,
    /// `smtp://user:pass@host:587` or `smtps://…`; without it mail is written to `{data_dir}/mail`.
    pub smtp_url: Option<SecretString>,
    pub mail_from: String,
    /// How long an unpaid order stays open.
    pub order_ttl_minutes: u32,
    /// Pending orders older than this are asked about at their gateway.
    pub reconcile_after_minutes: u32,
    /// Reverse proxies whose `X-Forwarded-For` names the client (empty: trust no header).
    pub trusted_proxies: Vec<IpNet>,
    /// Who may read `/metrics`.
    pub metrics: MetricsAccess,
    /// How many sign-ins, registrations and coupon tries this instance accepts per minute.
    pub rate_limits: RateLimits,
    /// How many argon2 hashes run at once (each takes ~19 MiB); the rest wait their turn.
    pub password_hash_concurrency: NonZeroUsize,
}

/// Who may read `/metrics`: a client whose address (as the trusted proxies vouch for it) is in
/// one of `allowed_networks`, or a request that carries `token` as its bearer token.
#[derive(Debug, Clone)]
pub struct MetricsAccess {
    /// Loopback only unless configured; `none` configures no network (the token only).
    pub allowed_networks: Vec<IpNet>,
    /// At least [`MIN_SECRET_CHARS`] characters; `None`: no token opens `/metrics`.
    pub token: Option<SecretString>,
}

impl MetricsAccess {
    /// The networks allowed when none are configured: loopback, IPv4 and IPv6.
    pub fn loopback() -> Vec<IpNet> {
        ["127.0.0.0/8", "::1/128"]
            .iter()
            .filter_map(|net| net.parse().ok())
            .collect()
    }
}

/// Attempts allowed per minute and key, in one instance (each instance counts on its own).
/// A burst of the whole allowance is accepted, then one more every `60 s / n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Sign-ins (token or session, API or form) from one client address.
    pub signin_per_address: NonZeroU32,
    /// Sign-ins to one account (its normalized e-mail address), from anywhere.
    pub signin_per_account: NonZeroU32,
    /// Registrations from one client address.
    pub register_per_address: NonZeroU32,
    /// Checkouts that carry a coupon code, from one client address.
    pub coupon_per_address: NonZeroU32,
    /// Checkouts that carry a coupon code, by one signed-in user.
    pub coupon_per_user: NonZeroU32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            signin_per_address: per_minute(50),
            signin_per_account: per_minute(10),
            register_per_address: per_minute(20),
            coupon_per_address: per_minute(30),
            coupon_per_user: per_minute(10),
        }
    }
}

const fn per_minute(n: u32) -> NonZeroU32 {
    match NonZeroU32::new(n) {
        Some(n) => n,
        None => NonZeroU32::MIN,
    }
}

/// The default hashing concurrency: one argon2 per core, and at least two.
fn default_hash_concurrency() -> NonZeroUsize {
    let cores = std::thread::available_parallelism().map_or(2, NonZeroUsize::get);
    NonZeroUsize::new(cores.max(2)).unwrap_or(NonZeroUsize::MIN)
}

/// Provider endpoints and platform credentials; each `None` means the provider's own default.
#[derive(Debug, Clone, Default)]
pub struct GatewayEndpoints {
    pub stripe_api_base: Option<Url>,
    pub stripe_secret_key: Option<SecretString>,
    pub stripe_webhook_secret: Option<SecretString>,
    pub yookassa_api_base: Option<Url>,
    /// Where YooKassa notifications may come from; `None` is YooKassa's published networks.
    pub yookassa_trusted_sources: Option<Vec<IpNet>>,
    /// The platform's own YooKassa shop, for split payments.
    pub yookassa_shop_id: Option<String>,
    pub yookassa_secret_key: Option<SecretString>,
    pub robokassa_pay_url: Option<Url>,
    pub robokassa_api_base: Option<Url>,
    pub robokassa_refund_api_base: Option<Url>,
}

impl Settings {
    /// Reads the optional TOML file, then the process environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::from_sources(file, |name| std::env::var(name).ok())
    }

    /// Reads the optional TOML file, then variables from `env`; the environment wins.
    pub fn from_sources(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let mut values = match file {
            Some(path) => read_file(path)?,
            None => BTreeMap::new(),
        };
        for (key, var) in KEYS {
            if let Some(value) = env(var).filter(|v| !v.is_empty()) {
                values.insert((*key).to_owned(), value);
            }
        }
        Raw(values).parse()
    }

    /// Settings for tests and embedding: everything default, data under `data_dir`.
    pub fn for_data_dir(data_dir: PathBuf) -> Result<Self, ConfigError> {
        let mut values = BTreeMap::new();
        values.insert("data_dir".to_owned(), data_dir.display().to_string());
        Raw(values).parse()
    }
}

fn read_file(path: &Path) -> Result<BTreeMap<String, String>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    let table: toml::Table = text.parse().map_err(|source| ConfigError::Toml {
        path: path.to_owned(),
        source: Box::new(source),
    })?;
    let mut values = BTreeMap::new();
    for (key, value) in table {
        if !KEYS.iter().any(|(k, _)| *k == key) {
            return Err(ConfigError::UnknownKey(key));
        }
        let value = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Datetime(_) | toml::Value::Array(_) | toml::Value::Table(_) => {
                return Err(invalid_file_value(&key));
            }
        };
        values.insert(key, value);
    }
    Ok(values)
}

fn invalid_file_value(key: &str) -> ConfigError {
    let (key, env) = KEYS
        .iter()
        .find(|(k, _)| *k == key)
        .copied()
        .unwrap_or(("?", "?"));
    ConfigError::Invalid {
        key,
        env,
        message: "must be a string, number or boolean".into(),
    }
}

struct Raw(BTreeMap<String, String>);

impl Raw {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    fn parsed<T: std::str::FromStr>(&self, key: &'static str, default: T) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse()
                .map_err(|e: T::Err| invalid(key, e.to_string())),
        }
    }

    fn url(&self, key: &'static str) -> Result<Option<Url>, ConfigError> {
        self.get(key)
            .map(|v| Url::parse(v).map_err(|e| invalid(key, e.to_string())))
            .transpose()
    }

    /// Comma-separated CIDRs (`10.0.0.0/8, ::1`); a bare address is a single-host network.
    fn networks(&self, key: &'static str) -> Result<Vec<IpNet>, ConfigError> {
        let Some(list) = self.get(key) else {
            return Ok(Vec::new());
        };
        list.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| {
                item.parse::<IpNet>()
                    .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| invalid(key, format!("`{item}` is not an address or CIDR")))
            })
            .collect()
    }

    fn metrics_access(&self) -> Result<MetricsAccess, ConfigError> {
        let allowed_networks = match self.get("metrics_allowed_networks").map(str::trim) {
            None => MetricsAccess::loopback(),
            Some("none") => Vec::new(),
            Some(_) => self.networks("metrics_allowed_networks")?,
        };
        let token = match self.get("metrics_token") {
            None => None,
            Some(token) if token.trim().chars().count() < MIN_SECRET_CHARS => {
                return Err(invalid(
                    "metrics_token",
                    format!("must be at least {MIN_SECRET_CHARS} characters long"),
                ));
            }
            Some(token) => Some(SecretString::from(token.trim().to_owned())),
        };
        Ok(MetricsAccess {
            allowed_networks,
            token,
        })
    }

    fn rate_limits(&self) -> Result<RateLimits, ConfigError> {
        let d = RateLimits::default();
        Ok(RateLimits {
            signin_per_address: self
                .parsed("rate_limit_signin_per_address", d.signin_per_address)?,
            signin_per_account: self
                .parsed("rate_limit_signin_per_account", d.signin_per_account)?,
            register_per_address: self
                .parsed("rate_limit_register_per_address", d.register_per_address)?,
            coupon_per_address: self
                .parsed("rate_limit_coupon_per_address", d.coupon_per_address)?,
            coupon_per_user: self.parsed("rate_limit_coupon_per_user", d.coupon_per_user)?,
        })
    }

    fn secret(&self, key: &str) -> Option<SecretString> {
        self.get(key).map(|v| SecretString::from(v.to_owned()))
    }

    /// A secret that signs: refused when shorter than [`MIN_SECRET_CHARS`], whatever the
    /// source (an empty TOML string included). With `list`, each comma-separated entry is.
    fn signing_secret(
        &self,
        key: &'static str,
        list: bool,
    ) -> Result<Option<SecretString>, ConfigError> {
        let Some(value) = self.get(key) else {
            return Ok(None);
        };
        let weak = if list {
            weak_secret_list(value)
        } else {
            weak_secret(value)
        };
        match weak {
            Some(why) => Err(invalid(key, why)),
            None => Ok(Some(SecretString::from(value.to_owned()))),
        }
    }

    fn parse(self) -> Result<Settings, ConfigError> {
        let addr: SocketAddr = self.parsed("addr", SocketAddr::from(([127, 0, 0, 1], 8080)))?;
        let data_dir = PathBuf::from(self.get("data_dir").unwrap_or("./data"));
        let database = match self.get("database_url") {
            Some(url) => DatabaseTarget::Url(SecretString::from(url.to_owned())),
            None => DatabaseTarget::Sqlite(data_dir.join("lyceum.db")),
        };
        let public_url = match self.url("public_url")? {
            Some(url) => url,
            None => Url::parse(&format!("http://{addr}"))
                .map_err(|e| invalid("public_url", e.to_string()))?,
        };
        let content_url = self.url("content_url")?;
        if let Some(url) = &content_url {
            let separate = url.host_str().is_some_and(|h| {
                public_url
                    .host_str()
                    .is_none_or(|p| !p.eq_ignore_ascii_case(h))
            });
            if !separate || !matches!(url.scheme(), "http" | "https") {
                return Err(invalid(
                    "content_url",
                    "must be an http(s) URL on a host other than the public URL's".into(),
                ));
            }
        }
        let default_fee_bps: u16 = self.parsed("default_fee_bps", 1000)?;
        if default_fee_bps > 10_000 {
            return Err(invalid(
                "default_fee_bps",
                "must be between 0 and 10000".into(),
            ));
        }
        let default_fee_fixed: i64 = self.parsed("default_fee_fixed", 0)?;
        if !(0..=crate::domain::MAX_PRICE_MINOR_UNITS).contains(&default_fee_fixed) {
            return Err(invalid(
                "default_fee_fixed",
                format!(
                    "must be between 0 and {} minor units",
                    crate::domain::MAX_PRICE_MINOR_UNITS
                ),
            ));
        }
        let payout_hold_days: u16 = self.parsed("payout_hold_days", 14)?;
        if payout_hold_days > crate::services::ledger::MAX_HOLD_DAYS {
            return Err(invalid(
                "payout_hold_days",
                format!(
                    "must be between 0 and {} days",
                    crate::services::ledger::MAX_HOLD_DAYS
                ),
            ));
        }
        let log_format = match self.get("log_format").unwrap_or("text") {
            "text" | "pretty" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(invalid(
                    "log_format",
                    format!("`{other}` is neither `text` nor `json`"),
                ));
            }
        };
        let (sandbox_enabled, sandbox_everywhere) = match self.get("sandbox").unwrap_or("on") {
            "on" | "true" | "1" => (true, false),
            "all" => (true, true),
            "off" | "false" | "0" => (false, false),
            other => {
                return Err(invalid(
                    "sandbox",
                    format!("`{other}` is neither `on`, `all` nor `off`"),
                ));
            }
        };
        let token_ttl_days: u64 = self.parsed("token_ttl_days", 30)?;
        if token_ttl_days == 0 {
            return Err(invalid("token_ttl_days", "must be at least 1".into()));
        }
        Ok(Settings {
            addr,
            assets_url: self.get("assets_url").map_or_else(
                || data_dir.join("assets").display().to_string(),
                str::to_owned,
            ),
            data_dir,
            database,
            public_url,
            content_url,
            base_domain: self.get("base_domain").map(str::to_owned),
            default_fee_bps,
            default_fee_fixed,
            payout_hold_days,
            log_format,
            log_filter: self
                .get("log")
                .unwrap_or("info,sqlx=warn,sea_orm=warn")
                .to_owned(),
            max_body_bytes: self.parsed("max_body_bytes", 1024 * 1024)?,
            max_upload_bytes: self.parsed("max_upload_bytes", 512 * 1024 * 1024)?,
            token_ttl: Duration::from_secs(token_ttl_days * 24 * 3600),
            sandbox_enabled,
            sandbox_everywhere,
            sandbox_webhook_secret: self.signing_secret("sandbox_webhook_secret", true)?,
            sandbox_delivery: lyceum_gateway_sandbox::DeliveryOptions::default(),
            dns_probe: None,
            content_key: self.signing_secret("content_key", false)?,
            secrets_key: self.secret("secrets_key"),
            secrets_previous_keys: self
                .get("secrets_previous_keys")
                .map(|list| {
                    list.split(',')
                        .map(str::trim)
                        .filter(|k| !k.is_empty())
                        .map(|k| SecretString::from(k.to_owned()))
                        .collect()
                })
                .unwrap_or_default(),
            smtp_url: self.secret("smtp_url"),
            mail_from: self
                .get("mail_from")
                .unwrap_or("Lyceum <no-reply@lyceum.localhost>")
                .to_owned(),
            order_ttl_minutes: self.parsed("order_ttl_minutes", 60)?,
            reconcile_after_minutes: self.parsed("reconcile_after_minutes", 15)?,
            trusted_proxies: self.networks("trusted_proxies")?,
            metrics: self.metrics_access()?,
            rate_limits: self.rate_limits()?,
            password_hash_concurrency: self
                .parsed("password_hash_concurrency", default_hash_concurrency())?,
            gateways: GatewayEndpoints {
                stripe_api_base: self.url("stripe_api_base")?,
                stripe_secret_key: self.secret("stripe_secret_key"),
                stripe_webhook_secret: self.secret("stripe_webhook_secret"),
                yookassa_api_base: self.url("yookassa_api_base")?,
                yookassa_trusted_sources: match self.get("yookassa_trusted_sources") {
                    Some(_) => Some(self.networks("yookassa_trusted_sources")?),
                    None => None,
                },
                yookassa_shop_id: self.get("yookassa_shop_id").map(str::to_owned),
                yookassa_secret_key: self.secret("yookassa_secret_key"),
                robokassa_pay_url: self.url("robokassa_pay_url")?,
                robokassa_api_base: self.url("robokassa_api_base")?,
                robokassa_refund_api_base: self.url("robokassa_refund_api_base")?,
            },
        })
    }
}

fn invalid(key: &'static str, message: String) -> ConfigError {
    let env = KEYS.iter().find(|(k, _)| *k == key).map_or("", |(_, e)| *e);
    ConfigError::Invalid { key, env, message }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn defaults_need_no_configuration() {
        let s = Settings::from_sources(None, env(&[])).unwrap();
        assert_eq!(s.addr.to_string(), "127.0.0.1:8080");
        assert_eq!(s.public_url.as_str(), "http://127.0.0.1:8080/");
        assert!(
            matches!(s.database, DatabaseTarget::Sqlite(ref p) if p.ends_with("data/lyceum.db"))
        );
        assert_eq!(s.default_fee_bps, 1000);
        assert_eq!(s.default_fee_fixed, 0);
        assert!(s.sandbox_enabled);
    }

    #[test]
    fn the_environment_overrides_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lyceum.toml");
        std::fs::write(
            &path,
            "addr = \"0.0.0.0:9000\"\ndefault_fee_bps = 500\nlog_format = \"json\"\n",
        )
        .unwrap();
        let s = Settings::from_sources(
            Some(&path),
            env(&[
                ("LYCEUM_DEFAULT_FEE_BPS", "250"),
                ("LYCEUM_DEFAULT_FEE_FIXED", "30"),
                ("DATABASE_URL", "postgres://x"),
            ]),
        )
        .unwrap();
        assert_eq!(s.addr.port(), 9000);
        assert_eq!(s.default_fee_bps, 250);
        assert_eq!(s.default_fee_fixed, 30);
        assert_eq!(s.log_format, LogFormat::Json);
        assert!(
            matches!(s.database, DatabaseTarget::Url(ref u) if u.expose_secret() == "postgres://x")
        );
    }

    #[test]
    fn bad_values_name_their_variable() {
        let err =
            Settings::from_sources(None, env(&[("LYCEUM_DEFAULT_FEE_BPS", "20000")])).unwrap_err();
        assert!(err.to_string().contains("LYCEUM_DEFAULT_FEE_BPS"), "{err}");
        let err =
            Settings::from_sources(None, env(&[("LYCEUM_DEFAULT_FEE_FIXED", "-1")])).unwrap_err();
        assert!(
            err.to_string().contains("LYCEUM_DEFAULT_FEE_FIXED"),
            "{err}"
        );
        let err = Settings::from_sources(None, env(&[("LYCEUM_ADDR", "nowhere")])).unwrap_err();
        assert!(err.to_string().contains("LYCEUM_ADDR"), "{err}");
    }

    #[test]
    fn the_content_origin_must_be_another_host() {
        let s = Settings::from_sources(
            None,
            env(&[
                ("LYCEUM_PUBLIC_URL", "https://lyceum.example"),
                (
                    "LYCEUM_CONTENT_URL",
                    "https://content.lyceum-usercontent.example",
                ),
            ]),
        )
        .unwrap();
        assert_eq!(
            s.content_url.unwrap().host_str(),
            Some("content.lyceum-usercontent.example")
        );
        for same in ["https://LYCEUM.example:8443", "file:///tmp/x"] {
            let err = Settings::from_sources(None, |name| match name {
                "LYCEUM_PUBLIC_URL" => Some("https://lyceum.example".to_owned()),
                "LYCEUM_CONTENT_URL" => Some(same.to_owned()),
                _ => None,
            })
            .unwrap_err();
            assert!(err.to_string().contains("LYCEUM_CONTENT_URL"), "{err}");
        }
    }

    #[test]
    fn yookassa_sources_and_shop_are_read() {
        let s = Settings::from_sources(None, env(&[])).unwrap();
        assert_eq!(
            s.gateways.yookassa_trusted_sources, None,
            "unset: YooKassa's own list"
        );
        let s = Settings::from_sources(
            None,
            env(&[
                (
                    "LYCEUM_YOOKASSA_TRUSTED_SOURCES",
                    "127.0.0.1/32, 2a02:5180::/32",
                ),
                ("YOOKASSA_SHOP_ID", "100500"),
                ("YOOKASSA_SECRET_KEY", "live_x"),
            ]),
        )
        .unwrap();
        let nets: Vec<String> = s
            .gateways
            .yookassa_trusted_sources
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(nets, ["127.0.0.1/32", "2a02:5180::/32"]);
        assert_eq!(s.gateways.yookassa_shop_id.as_deref(), Some("100500"));
        let err = Settings::from_sources(
            None,
            env(&[("LYCEUM_YOOKASSA_TRUSTED_SOURCES", "185.71.76.0/33")]),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("LYCEUM_YOOKASSA_TRUSTED_SOURCES"),
            "{err}"
        );
    }

    #[test]
    fn limits_and_trusted_proxies_are_read() {
        let s = Settings::from_sources(None, env(&[])).unwrap();
        assert_eq!(s.rate_limits, RateLimits::default());
        assert_eq!(s.rate_limits.signin_per_address.get(), 50);
        assert!(s.trusted_proxies.is_empty());
        assert!(s.password_hash_concurrency.get() >= 2);
        let s = Settings::from_sources(
            None,
            env(&[
                ("LYCEUM_TRUSTED_PROXIES", "10.0.0.0/8, ::1 ,192.0.2.7"),
                ("LYCEUM_RATE_LIMIT_SIGNIN_PER_ACCOUNT", "3"),
                ("LYCEUM_PASSWORD_HASH_CONCURRENCY", "1"),
            ]),
        )
        .unwrap();
        let nets: Vec<String> = s.trusted_proxies.iter().map(ToString::to_string).collect();
        assert_eq!(nets, ["10.0.0.0/8", "::1/128", "192.0.2.7/32"]);
        assert_eq!(s.rate_limits.signin_per_account.get(), 3);
        assert_eq!(s.password_hash_concurrency.get(), 1);
        for (var, value) in [
            ("LYCEUM_TRUSTED_PROXIES", "10.0.0.0/33"),
            ("LYCEUM_RATE_LIMIT_COUPON_PER_USER", "0"),
            ("LYCEUM_PASSWORD_HASH_CONCURRENCY", "0"),
        ] {
            let pairs: &'static [(&'static str, &'static str)] =
                Box::leak(Box::new([(var, value)]));
            let err = Settings::from_sources(None, env(pairs)).unwrap_err();
            assert!(err.to_string().contains(var), "{err}");
        }
    }

    #[test]
    fn metrics_are_for_loopback_unless_configured() {
        let s = Settings::from_sources(None, env(&[])).unwrap();
        let nets: Vec<String> = s
            .metrics
            .allowed_networks
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(nets, ["127.0.0.0/8", "::1/128"]);
        assert!(s.metrics.token.is_none());
        let token = "t".repeat(MIN_SECRET_CHARS);
        let s = Settings::from_sources(None, |name| match name {
            "LYCEUM_METRICS_ALLOWED_NETWORKS" => Some("none".to_owned()),
            "LYCEUM_METRICS_TOKEN" => Some(token.clone()),
            _ => None,
        })
        .unwrap();
        assert!(s.metrics.allowed_networks.is_empty());
        assert_eq!(s.metrics.token.unwrap().expose_secret(), token);
        let s = Settings::from_sources(
            None,
            env(&[("LYCEUM_METRICS_ALLOWED_NETWORKS", "10.2.0.0/16, 192.0.2.9")]),
        )
        .unwrap();
        assert_eq!(s.metrics.allowed_networks.len(), 2);
        for (var, value) in [
            ("LYCEUM_METRICS_TOKEN", "short"),
            ("LYCEUM_METRICS_ALLOWED_NETWORKS", "everyone"),
        ] {
            let pairs: &'static [(&'static str, &'static str)] =
                Box::leak(Box::new([(var, value)]));
            let err = Settings::from_sources(None, env(pairs)).unwrap_err();
            assert!(err.to_string().contains(var), "{err}");
            assert!(!err.to_string().contains("short\""), "{err}");
        }
    }

    #[test]
    fn short_signing_secrets_are_refused_from_any_source() {
        let long = "k".repeat(MIN_SECRET_CHARS);
        let err = Settings::from_sources(None, |name| {
            (name == "LYCEUM_CONTENT_KEY").then(|| "k".repeat(MIN_SECRET_CHARS - 1))
        })
        .unwrap_err();
        assert!(err.to_string().contains("LYCEUM_CONTENT_KEY"), "{err}");
        assert!(err.to_string().contains("at least 32"), "{err}");
        let ok = Settings::from_sources(None, |name| {
            (name == "LYCEUM_CONTENT_KEY").then(|| long.clone())
        })
        .unwrap();
        assert_eq!(ok.content_key.unwrap().expose_secret(), long);

        // Each webhook secret of a rotation list counts, and an empty entry is no secret.
        for bad in [
            format!("{long},short"),
            format!("{long},"),
            format!("{long}, ,{long}"),
        ] {
            let err = Settings::from_sources(None, |name| {
                (name == "LYCEUM_SANDBOX_WEBHOOK_SECRET").then(|| bad.clone())
            })
            .unwrap_err();
            assert!(
                err.to_string().contains("LYCEUM_SANDBOX_WEBHOOK_SECRET"),
                "{bad}: {err}"
            );
        }
        let two = format!("{long}, {long}");
        assert!(
            Settings::from_sources(None, |name| (name == "LYCEUM_SANDBOX_WEBHOOK_SECRET")
                .then(|| two.clone()))
            .is_ok()
        );

        // The file is a source too: an empty string there is not "unset".
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lyceum.toml");
        std::fs::write(&path, "content_key = \"\"\n").unwrap();
        let err = Settings::from_sources(Some(&path), env(&[])).unwrap_err();
        assert!(err.to_string().contains("content_key"), "{err}");
    }

    #[test]
    fn unknown_file_keys_are_refused_and_secrets_are_redacted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lyceum.toml");
        std::fs::write(&path, "adress = \"typo\"\n").unwrap();
        assert!(matches!(
            Settings::from_sources(Some(&path), env(&[])),
            Err(ConfigError::UnknownKey(_))
        ));
        let s =
            Settings::from_sources(None, env(&[("STRIPE_SECRET_KEY", "sk_live_secret")])).unwrap();
        assert!(!format!("{s:?}").contains("sk_live_secret"));
    }
}
