//! Cache invalidation: what a committed write makes stale, and the one place that drops it.
//!
//! A write does not touch the caches itself. It describes what it changed as
//! [`Invalidations`] — built inside its transaction, `#[must_use]`, so one that is dropped on
//! the floor is a compiler warning (denied in CI) — and commits through
//! [`AppState::commit`], the single applier. Entitlements written by seats, grants or
//! subscriptions thus cannot forget the access cache: they return the keys they touched, like
//! the payment pipeline does.
//!
//! It is also where the other instances hear of a change: `commit` sends the invalidations
//! with PostgreSQL `NOTIFY` inside the write's transaction — PostgreSQL delivers a
//! notification when, and only if, its transaction commits, so no instance hears of a change
//! that rolled back and none misses one that committed, even if this process dies right after
//! the commit. Every instance `LISTEN`s and feeds what it hears to the same applier
//! ([`broadcast`]). Role grants go through it too: the running casbin enforcer is a copy of
//! the stored grants, brought up to date here; other instances reload the stored policy when
//! told, and whenever their listening connection is (re)made.
//!
//! Order matters for the access cache: the applier bumps the access epoch before it drops any
//! key, so a decision loaded from before the commit is never cached after it (see
//! `access::load_and_remember`).

pub mod broadcast;

use std::sync::atomic::Ordering;

use lyceum_tenants::rbac::Grant;

use sea_orm::DatabaseTransaction;

use crate::error::AppResult;
use crate::ids::TenantId;
use crate::services::access::AccessKey;
use crate::services::accounts::TokenDigest;
use crate::services::tenancy::tenants::Tenant;
use crate::state::{AppState, Caches};

/// One cached thing a committed write made stale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalidation {
    /// A user's access decision for a course: an entitlement changed.
    Access(AccessKey),
    /// A storefront, cached by slug and by its verified custom domain.
    Tenant {
        slug: String,
        domain: Option<String>,
    },
    /// A course, cached by `(tenant, slug)`.
    Course { tenant: TenantId, slug: String },
    /// A tenant's public catalog pages and course outlines: a course or its curriculum changed.
    Catalog(TenantId),
    /// A bearer token (by digest): revoked.
    Token(TokenDigest),
    /// A role grant was stored or deleted: the running enforcer follows.
    Grant(GrantChange, Grant),
}

/// Whether a grant was stored or deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantChange {
    Granted,
    Revoked,
}

/// What a write made stale, committed with it by [`AppState::commit`].
#[must_use = "a write's invalidations must be committed with it: `state.commit(txn, ..)`"]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Invalidations {
    events: Vec<Invalidation>,
}

impl Invalidations {
    /// Nothing became stale.
    pub fn none() -> Self {
        Self::default()
    }

    /// Access decisions of these `(tenant, user, course)` keys.
    pub fn access(keys: impl IntoIterator<Item = AccessKey>) -> Self {
        Self {
            events: keys.into_iter().map(Invalidation::Access).collect(),
        }
    }

    /// A storefront as it was cached before the change: by its slug and its served domain.
    pub fn tenant(tenant: &Tenant) -> Self {
        Self::one(Invalidation::Tenant {
            slug: tenant.slug.as_str().to_owned(),
            domain: tenant.custom_domain.clone(),
        })
    }

    /// A course of a tenant, by the slug it is cached under, and the catalog it is listed in.
    pub fn course(tenant: TenantId, slug: &str) -> Self {
        Self {
            events: vec![
                Invalidation::Course {
                    tenant,
                    slug: slug.to_owned(),
                },
                Invalidation::Catalog(tenant),
            ],
        }
    }

    /// A tenant's catalog and course outlines: a section, lesson or asset changed.
    pub fn catalog(tenant: TenantId) -> Self {
        Self::one(Invalidation::Catalog(tenant))
    }

    /// A bearer token's cached answer.
    pub fn token(digest: TokenDigest) -> Self {
        Self::one(Invalidation::Token(digest))
    }

    /// A role grant stored by the write (see `Policy::store_grant`).
    pub fn granted(grant: Grant) -> Self {
        Self::one(Invalidation::Grant(GrantChange::Granted, grant))
    }

    /// A role grant deleted by the write (see `Policy::delete_grant`).
    pub fn revoked(grant: Grant) -> Self {
        Self::one(Invalidation::Grant(GrantChange::Revoked, grant))
    }

    fn one(event: Invalidation) -> Self {
        Self {
            events: vec![event],
        }
    }

    /// These and `more`, for a write that changes several things.
    pub fn and(mut self, more: Self) -> Self {
        self.events.extend(more.events);
        self
    }

    pub fn events(&self) -> &[Invalidation] {
        &self.events
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

impl AppState {
    /// Commits a write's transaction together with what it made stale: the other instances
    /// are told inside the transaction (a `NOTIFY`, delivered at commit), and this instance's
    /// caches drop it right after the commit — never before: a load between an early drop and
    /// the commit would cache the old value again.
    pub async fn commit(
        &self,
        txn: DatabaseTransaction,
        invalidations: Invalidations,
    ) -> AppResult<()> {
        broadcast::announce(&txn, self.caches.instance, &invalidations).await?;
        txn.commit().await?;
        for event in invalidations.events() {
            if let Invalidation::Grant(change, grant) = event {
                self.policy.apply(*change, grant).await;
            }
        }
        apply(&self.caches, &invalidations).await;
        Ok(())
    }
}

/// Commits a write made by a process that serves nothing and caches nothing (the CLI): the
/// running instances are told inside the transaction, as by [`AppState::commit`]. On SQLite,
/// where nothing is told, the server notices grants through its policy poll.
pub async fn commit_elsewhere(
    txn: DatabaseTransaction,
    invalidations: Invalidations,
) -> AppResult<()> {
    broadcast::announce(&txn, uuid::Uuid::nil(), &invalidations).await?;
    txn.commit().await?;
    Ok(())
}

/// The cache half of the applier: bumps the access epoch first (when any decision is
/// dropped), then drops every key. Grant changes are the policy's (see
/// [`AppState::commit`]).
pub(crate) async fn apply(caches: &Caches, invalidations: &Invalidations) {
    if invalidations.is_empty() {
        return;
    }
    let touches_access = invalidations
        .events
        .iter()
        .any(|e| matches!(e, Invalidation::Access(_)));
    if touches_access {
        // First, so that loads already under way do not cache what they read before the commit.
        caches.access_epoch.fetch_add(1, Ordering::AcqRel);
    }
    let touches_catalog = invalidations
        .events
        .iter()
        .any(|e| matches!(e, Invalidation::Catalog(_)));
    if touches_catalog {
        caches.catalog_epoch.fetch_add(1, Ordering::AcqRel);
    }
    for event in &invalidations.events {
        match event {
            Invalidation::Access(key) => caches.access.invalidate(key).await,
            Invalidation::Tenant { slug, domain } => {
                caches.tenants.invalidate(slug.as_str()).await;
                if let Some(domain) = domain {
                    caches.tenants.invalidate(domain.as_str()).await;
                }
            }
            Invalidation::Course { tenant, slug } => {
                caches.courses.invalidate(&(*tenant, slug.clone())).await
            }
            Invalidation::Catalog(tenant) => {
                let tenant = *tenant;
                // Both caches are built to take predicates; an error would mean they were not,
                // and the entries then age out with their lifetime.
                let pages = caches
                    .catalog
                    .invalidate_entries_if(move |k, _| k.0 == tenant);
                let outlines = caches
                    .outlines
                    .invalidate_entries_if(move |k, _| k.0 == tenant);
                if let Err(e) = pages.and(outlines) {
                    tracing::error!(error = %e, "catalog entries not dropped");
                }
            }
            Invalidation::Token(digest) => caches.tokens.invalidate(digest).await,
            Invalidation::Grant(..) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::Utc;
    use lyceum_gateway_core::{Currency, Money};
    use lyceum_tenants::{Slug, TenantStatus};

    use super::*;
    use crate::ids::{CourseId, UserId};
    use crate::services::catalog::Course;

    fn tenant(slug: &str, domain: Option<&str>) -> Tenant {
        Tenant {
            id: TenantId::new_v7(),
            slug: Slug::parse(slug).unwrap(),
            name: slug.to_owned(),
            currency: Currency::parse("USD").unwrap(),
            status: TenantStatus::Active,
            fee_plan: None,
            custom_domain: domain.map(str::to_owned),
            pending_domain: None,
            owner_id: UserId::new_v7(),
            created_at: Utc::now(),
            approved_at: None,
            payout_hold_days: None,
            brand_color: None,
        }
    }

    fn course(tenant: TenantId, slug: &str) -> Course {
        Course {
            id: CourseId::new_v7(),
            tenant_id: tenant,
            slug: Slug::parse(slug).unwrap(),
            title: slug.to_owned(),
            description: String::new(),
            price: Money::new(100, Currency::parse("USD").unwrap()).unwrap(),
            access_days: None,
            published: true,
            published_at: None,
            complete_percent: 80,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn key() -> AccessKey {
        AccessKey {
            tenant: TenantId::new_v7(),
            user: UserId::new_v7(),
            course: CourseId::new_v7(),
        }
    }

    const YES: crate::services::access::Decision = crate::services::access::Decision {
        access: true,
        reason: None,
        expires_at: None,
        since: None,
    };

    #[tokio::test]
    async fn drops_exactly_the_collected_keys_and_bumps_the_epoch() {
        let caches = Caches::new();
        let (stale_access, kept_access) = (key(), key());
        let (acme, other) = (
            tenant("acme", Some("learn.acme.test")),
            tenant("other", None),
        );
        let (stale_course, kept_course) =
            ((acme.id, "rust".to_owned()), (acme.id, "go".to_owned()));
        let (stale_token, kept_token) = ([1u8; 32], [2u8; 32]);
        for k in [stale_access, kept_access] {
            caches.access.insert(k, YES).await;
        }
        for (name, t) in [
            ("acme", &acme),
            ("learn.acme.test", &acme),
            ("other", &other),
        ] {
            caches
                .tenants
                .insert(name.to_owned(), Arc::new(t.clone()))
                .await;
        }
        for (t, slug) in [&stale_course, &kept_course] {
            caches
                .courses
                .insert((*t, slug.clone()), Arc::new(course(*t, slug)))
                .await;
        }
        for digest in [stale_token, kept_token] {
            caches.tokens.insert(digest, None).await;
        }
        let epoch = caches.access_epoch.load(Ordering::Acquire);
        let catalog_epoch = caches.catalog_epoch.load(Ordering::Acquire);

        let invalidations = Invalidations::access([stale_access])
            .and(Invalidations::tenant(&acme))
            .and(Invalidations::course(acme.id, "rust"))
            .and(Invalidations::token(stale_token));
        // A course's change is also its storefront's catalog's.
        assert_eq!(invalidations.events().len(), 5);
        apply(&caches, &invalidations).await;

        assert_eq!(caches.access_epoch.load(Ordering::Acquire), epoch + 1);
        assert_eq!(
            caches.catalog_epoch.load(Ordering::Acquire),
            catalog_epoch + 1
        );
        assert!(caches.access.get(&stale_access).await.is_none());
        assert_eq!(caches.access.get(&kept_access).await, Some(YES));
        assert!(caches.tenants.get("acme").await.is_none());
        assert!(caches.tenants.get("learn.acme.test").await.is_none());
        assert!(caches.tenants.get("other").await.is_some());
        assert!(caches.courses.get(&stale_course).await.is_none());
        assert!(caches.courses.get(&kept_course).await.is_some());
        assert!(caches.tokens.get(&stale_token).await.is_none());
        assert!(caches.tokens.get(&kept_token).await.is_some());
    }

    #[tokio::test]
    async fn a_write_that_changed_no_entitlement_leaves_the_epoch_alone() {
        let caches = Caches::new();
        let epoch = caches.access_epoch.load(Ordering::Acquire);
        apply(&caches, &Invalidations::none()).await;
        apply(&caches, &Invalidations::token([3u8; 32])).await;
        assert_eq!(caches.access_epoch.load(Ordering::Acquire), epoch);
    }

    /// A load that read the database before the commit checks the epoch it started with; the
    /// applier must have moved it by the time any key is gone, or that load would cache again.
    /// The cache's removal listener (called synchronously by `invalidate`) sees the epoch at
    /// the moment each key is dropped.
    #[tokio::test]
    async fn the_epoch_moves_before_any_decision_is_dropped() {
        use std::sync::Mutex;
        use std::sync::atomic::AtomicU64;

        let epoch = Arc::new(AtomicU64::new(7));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let access = {
            let (epoch, seen) = (epoch.clone(), seen.clone());
            moka::future::Cache::builder()
                .eviction_listener(move |_key, _value, _cause| {
                    seen.lock().unwrap().push(epoch.load(Ordering::Acquire));
                })
                .build()
        };
        let caches = Caches {
            access,
            access_epoch: epoch.clone(),
            ..Caches::new()
        };
        let (first, second) = (key(), key());
        caches.access.insert(first, YES).await;
        caches.access.insert(second, YES).await;

        apply(&caches, &Invalidations::access([first, second])).await;

        assert_eq!(
            *seen.lock().unwrap(),
            [8, 8],
            "bumped once, before the first drop"
        );
        assert!(caches.access.get(&first).await.is_none());
        assert!(caches.access.get(&second).await.is_none());
    }
}
