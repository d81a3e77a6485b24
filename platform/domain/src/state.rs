//! What every request handler shares.

use std::borrow::Borrow;
use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use moka::future::Cache;
use object_store::ObjectStore;
use sea_orm::DatabaseConnection;

use secrecy::SecretString;

use crate::config::Settings;
use crate::error::{AppError, AppResult};
use crate::gateways::{GatewaySecrets, Gateways};
use crate::metrics::Metrics;
use crate::services::access::{AccessKey, Decision};
use crate::services::accounts::limits::Limits;
use crate::services::accounts::passwords::PasswordHashing;
use crate::services::accounts::{TokenDigest, TokenEntry};
use crate::services::catalog::public::{Page, PageKey};
use crate::services::notify::mail::Mailer;
use crate::services::tenancy::policy::Policy;
use crate::services::tenancy::tenants::Tenant;

/// The application: configuration, database, policy, asset store, caches and metrics.
#[derive(Debug)]
pub struct AppState {
    pub settings: Settings,
    pub db: DatabaseConnection,
    pub policy: Policy,
    pub assets: Arc<dyn ObjectStore>,
    pub caches: Caches,
    pub metrics: Metrics,
    pub gateways: Gateways,
    /// Signs content URLs.
    pub content_key: SecretString,
    /// Seals and opens tenants' gateway credentials.
    pub sealing: crate::sealing::KeyRing,
    pub mailer: Mailer,
    /// Reads the DNS records that prove control of custom domains.
    pub dns: Arc<dyn crate::services::tenancy::domains::DnsProbe>,
    /// Sign-in, registration and coupon limits of this instance.
    pub limits: Limits,
    /// argon2, a bounded number at a time.
    pub hashing: PasswordHashing,
}

/// What the cached catalog pages may hold in all, in bytes (see [`Page::weight`]).
const CATALOG_BYTES: u64 = 64 << 20;

/// Named, bounded caches with a time to live; keys that belong to a tenant include it.
#[derive(Debug, Clone)]
pub struct Caches {
    /// Bearer-token digest → its user and expiry (`None`: no such live token).
    pub tokens: Cache<TokenDigest, TokenEntry>,
    /// Tenant slug → tenant. Invalidated by every tenant change in this process. Every cache is
    /// invalidated only through `services::invalidation`, after the write commits.
    pub tenants: Cache<String, Arc<Tenant>>,
    /// `(tenant, user, course)` → access decision. The code that changes entitlements returns
    /// the keys it touched; they are dropped right after it commits.
    pub access: Cache<AccessKey, Decision>,
    /// Bumped by every access invalidation, before it drops keys; see `access::decide`.
    pub access_epoch: Arc<AtomicU64>,
    /// `(tenant, course slug)` → course, briefly (price and publication change rarely).
    pub courses: Cache<(crate::ids::TenantId, String), Arc<crate::services::catalog::Course>>,
    /// `(tenant, query)` → a page of the public catalog. Every change to a tenant's courses or
    /// curriculum drops all of the tenant's pages and outlines (`Invalidation::Catalog`).
    pub catalog: Cache<(crate::ids::TenantId, PageKey), Arc<Page>>,
    /// `(tenant, course slug)` → a published course's outline, as the public sees it.
    pub outlines: Cache<(crate::ids::TenantId, String), Arc<crate::services::catalog::Curriculum>>,
    /// Bumped by every catalog invalidation, before it drops entries: a page or outline loaded
    /// across one is returned but not kept (see [`cached_unless_changed`]).
    pub catalog_epoch: Arc<AtomicU64>,
    /// Names these caches in the messages instances send each other, so that an instance
    /// skips its own (`services::invalidation::broadcast`).
    pub instance: uuid::Uuid,
}

impl Caches {
    pub(crate) fn new() -> Self {
        Self {
            tokens: Cache::builder()
                .name("tokens")
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(60))
                .build(),
            tenants: Cache::builder()
                .name("tenants")
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(30))
                .build(),
            courses: Cache::builder()
                .name("courses")
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(10))
                .build(),
            catalog: Cache::builder()
                .name("catalog")
                .weigher(|_, page: &Arc<Page>| page.weight())
                .max_capacity(CATALOG_BYTES)
                .time_to_live(Duration::from_secs(60))
                .support_invalidation_closures()
                .build(),
            outlines: Cache::builder()
                .name("outlines")
                .max_capacity(50_000)
                .time_to_live(Duration::from_secs(60))
                .support_invalidation_closures()
                .build(),
            catalog_epoch: Arc::new(AtomicU64::new(0)),
            access: Cache::builder()
                .name("access")
                .max_capacity(1_000_000)
                .time_to_live(Duration::from_secs(300))
                .build(),
            access_epoch: Arc::new(AtomicU64::new(0)),
            instance: uuid::Uuid::new_v4(),
        }
    }

    /// Drops every entry (after invalidations may have been missed); the access epoch first,
    /// as for any access invalidation.
    pub fn flush(&self) {
        self.access_epoch
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        self.catalog_epoch
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        self.access.invalidate_all();
        self.catalog.invalidate_all();
        self.outlines.invalidate_all();
        self.tenants.invalidate_all();
        self.courses.invalidate_all();
        self.tokens.invalidate_all();
    }
}

/// Reads `key` from `cache`, or loads it with `load` on a miss (one load per key at a time;
/// concurrent callers wait for it). Failed loads are not cached.
///
/// The hit is the hot path of every authenticated request. The loader's future — database
/// queries, several kilobytes — is only built, and boxed, on a miss, so the callers' futures
/// stay small: poem moves request futures into boxes at every layer, and their size is paid
/// in copies on every request.
pub async fn cached<K, Q, V, F, Fut>(cache: &Cache<K, V>, key: &Q, load: F) -> AppResult<V>
where
    K: Borrow<Q> + Clone + Hash + Eq + Send + Sync + 'static,
    Q: ToOwned<Owned = K> + Hash + Eq + ?Sized,
    V: Clone + Send + Sync + 'static,
    F: FnOnce(K) -> Fut,
    Fut: Future<Output = AppResult<V>> + Send,
{
    if let Some(hit) = cache.get(key).await {
        return Ok(hit);
    }
    let key = key.to_owned();
    let miss = Box::pin(cache.try_get_with(key.clone(), load(key)));
    miss.await.map_err(unshare)
}

/// Reads `key` from `cache`, or loads it with `load` on a miss and keeps it — unless `epoch`
/// moved while it loaded: an invalidation committed meanwhile may have dropped what `load`
/// read, so the value is returned but not kept. The applier bumps the epoch before it drops
/// keys. Failed loads are not kept.
pub async fn cached_unless_changed<K, V, Fut>(
    cache: &Cache<K, V>,
    epoch: &AtomicU64,
    key: K,
    load: impl FnOnce() -> Fut,
) -> AppResult<V>
where
    K: Clone + Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    Fut: Future<Output = AppResult<V>>,
{
    if let Some(hit) = cache.get(&key).await {
        return Ok(hit);
    }
    remember_unless_changed(cache, epoch, key, load).await
}

/// The miss half of [`cached_unless_changed`], for callers that looked `key` up themselves:
/// loads it and keeps it unless `epoch` moved meanwhile.
pub async fn remember_unless_changed<K, V, Fut>(
    cache: &Cache<K, V>,
    epoch: &AtomicU64,
    key: K,
    load: impl FnOnce() -> Fut,
) -> AppResult<V>
where
    K: Clone + Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    Fut: Future<Output = AppResult<V>>,
{
    use std::sync::atomic::Ordering;
    let before = epoch.load(Ordering::Acquire);
    let value = Box::pin(load()).await?;
    if epoch.load(Ordering::Acquire) == before {
        cache.insert(key, value.clone()).await;
    }
    Ok(value)
}

/// A cached value's served form — its JSON body, say — made once by whoever serves it and
/// kept beside the value, so that it is dropped with it: the invalidation that empties the
/// cache empties the rendering too, and nothing else has to know of it.
#[derive(Debug, Clone, Default)]
pub struct Rendered(std::sync::OnceLock<bytes::Bytes>);

impl Rendered {
    /// The rendering, made by `render` on first use. Callers that arrive while it is being
    /// made render too rather than wait (a worker thread must not block); the first one kept
    /// is served from then on.
    pub fn get_or_init(&self, render: impl FnOnce() -> bytes::Bytes) -> bytes::Bytes {
        if let Some(kept) = self.0.get() {
            return kept.clone();
        }
        let made = render();
        match self.0.set(made.clone()) {
            Ok(()) => made,
            Err(_) => self.0.get().cloned().unwrap_or(made),
        }
    }
}

/// A rendering is derived from its value: it never makes two values differ.
impl PartialEq for Rendered {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Rendered {}

/// A loader's error as seen by every caller that waited for it: "not found" stays itself,
/// anything else becomes an internal error that keeps the loader's error as its cause.
fn unshare(err: Arc<AppError>) -> AppError {
    match &*err {
        AppError::NotFound(what) => AppError::NotFound(what),
        _ => AppError::Shared(err),
    }
}

/// The system's resolver, or, where it cannot be built, a probe that says why on each look-up.
fn system_dns() -> Arc<dyn crate::services::tenancy::domains::DnsProbe> {
    use crate::services::tenancy::domains::{DnsProbe, SystemDns};
    #[derive(Debug)]
    struct Unavailable(String);
    impl DnsProbe for Unavailable {
        fn txt_records<'a>(
            &'a self,
            _name: &'a str,
        ) -> futures_util::future::BoxFuture<'a, Result<Vec<String>, String>> {
            Box::pin(async move { Err(self.0.clone()) })
        }
    }
    match SystemDns::new() {
        Ok(dns) => Arc::new(dns),
        Err(e) => {
            tracing::warn!(error = %e, "no DNS resolver: custom domains cannot be verified");
            Arc::new(Unavailable(format!("no DNS resolver: {e}")))
        }
    }
}

impl AppState {
    /// Connects, migrates, loads the policy and opens the asset store.
    pub async fn build(settings: Settings) -> AppResult<Arc<Self>> {
        let settings_dns = settings.dns_probe.clone();
        let db = crate::db::connect(&settings.database).await?;
        crate::db::migrate(&db).await?;
        let policy = Policy::load(&db).await?;
        let assets = crate::storage::open(&settings.assets_url)?;
        let sealing = crate::sealing::KeyRing::from_settings(&settings)?;
        let content_key = match &settings.content_key {
            Some(key) => key.clone(),
            None => SecretString::from(
                crate::services::secrets::signing_secret(
                    &db,
                    "content_signing_key",
                    "LYCEUM_CONTENT_KEY",
                    false,
                )
                .await?,
            ),
        };
        let sandbox_webhook = match &settings.sandbox_webhook_secret {
            Some(secret) => secrecy::ExposeSecret::expose_secret(secret).to_owned(),
            None => {
                crate::services::secrets::signing_secret(
                    &db,
                    "sandbox_webhook_secret",
                    "LYCEUM_SANDBOX_WEBHOOK_SECRET",
                    true,
                )
                .await?
            }
        };
        let gateways = Gateways::from_settings(
            &settings,
            &GatewaySecrets {
                // Several comma-separated secrets: the first signs, all verify (rotation).
                sandbox_webhook: sandbox_webhook
                    .split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect(),
            },
            settings.sandbox_delivery.clone(),
        )?;
        let mailer = Mailer::new(
            settings.smtp_url.as_ref(),
            &settings.mail_from,
            &settings.data_dir,
        )?;
        let metrics = Metrics::new()?;
        let hashing = PasswordHashing::new(
            settings.password_hash_concurrency,
            Some(metrics.hash_gauges()),
        );
        Ok(Arc::new(Self {
            limits: Limits::new(settings.rate_limits),
            hashing,
            settings,
            db,
            policy,
            assets,
            caches: Caches::new(),
            metrics,
            gateways,
            content_key,
            sealing,
            mailer,
            dns: match &settings_dns {
                Some(probe) => probe.clone(),
                None => system_dns(),
            },
        }))
    }
}
