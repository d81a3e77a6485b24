//! Custom domains: a storefront is served on a domain only after its owner proves control of
//! it, by publishing a DNS TXT record `_lyceum-challenge.{domain}` whose value is
//! `lyceum-domain-verification={token}`. The look-up goes through a [`DnsProbe`], so tests can
//! drive the check without a DNS server.

use std::fmt;

use futures_util::future::BoxFuture;
use lyceum_tenants::rbac::{Authorized, action, resource};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, TransactionTrait};

use super::tenants::{Tenant, ensure_covers};
use crate::entities::tenants;
use crate::error::{AppError, AppResult, is_unique_violation};
use crate::services::invalidation::Invalidations;
use crate::services::now;
use crate::state::AppState;

/// The label the TXT record is published under, below the domain.
pub const RECORD_LABEL: &str = "_lyceum-challenge";
/// What the TXT record's value starts with; the token follows.
pub const RECORD_PREFIX: &str = "lyceum-domain-verification=";

/// Reads TXT records.
pub trait DnsProbe: Send + Sync + fmt::Debug {
    /// Every TXT record of `name`, each as one string (its character-strings joined).
    fn txt_records<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Vec<String>, String>>;
}

/// The system's resolver (`/etc/resolv.conf`).
pub struct SystemDns(hickory_resolver::TokioResolver);

impl fmt::Debug for SystemDns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SystemDns")
    }
}

impl SystemDns {
    pub fn new() -> Result<Self, String> {
        let resolver = hickory_resolver::TokioResolver::builder_tokio()
            .map_err(|e| e.to_string())?
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self(resolver))
    }
}

impl DnsProbe for SystemDns {
    fn txt_records<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Vec<String>, String>> {
        Box::pin(async move {
            let fqdn = format!("{}.", name.trim_end_matches('.'));
            let lookup = match self.0.txt_lookup(fqdn).await {
                Ok(lookup) => lookup,
                Err(e) if e.is_no_records_found() => return Ok(Vec::new()),
                Err(e) => return Err(e.to_string()),
            };
            Ok(lookup
                .answers()
                .iter()
                .filter_map(|record| match &record.data {
                    hickory_resolver::proto::rr::RData::TXT(txt) => Some(
                        txt.txt_data
                            .iter()
                            .map(|part| String::from_utf8_lossy(part))
                            .collect::<String>(),
                    ),
                    _ => None,
                })
                .collect())
        })
    }
}

/// Checks the pending domain's TXT record and, when it holds the token, serves the storefront
/// on that domain from now on (owner).
pub async fn verify(
    state: &AppState,
    auth: &Authorized<resource::Tenant, action::Update>,
    tenant: &Tenant,
    probe: &dyn DnsProbe,
) -> AppResult<Tenant> {
    ensure_covers(auth, tenant)?;
    let Some(pending) = &tenant.pending_domain else {
        return Err(AppError::invalid(
            "custom_domain",
            "no domain is waiting for verification; set `custom_domain` first",
        ));
    };
    let name = pending.record_name();
    let wanted = pending.record_value();
    let records = probe.txt_records(&name).await.map_err(|e| {
        tracing::warn!(tenant.id = %tenant.id, error = %e, "DNS look-up failed");
        AppError::invalid(
            "custom_domain",
            format!("the DNS look-up of {name} failed; try again later"),
        )
    })?;
    if !records.iter().any(|r| r.trim() == wanted) {
        return Err(AppError::invalid(
            "custom_domain",
            format!("no TXT record {name} with the value {wanted} was found"),
        ));
    }
    let txn = state.db.begin().await?;
    let updated = tenants::ActiveModel {
        id: Set(tenant.id),
        custom_domain: Set(Some(pending.domain.clone())),
        domain_verified_at: Set(Some(now())),
        pending_domain: Set(None),
        domain_token: Set(None),
        ..Default::default()
    }
    .update(&txn)
    .await;
    let updated = match updated {
        Ok(row) => row,
        Err(e) if is_unique_violation(&e) => {
            return Err(AppError::conflict(
                "another storefront is served on this domain",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    // Sessions some earlier holder of the domain handed out there are not this storefront's.
    crate::services::accounts::end_sessions_on_host(&txn, &pending.domain).await?;
    state.commit(txn, Invalidations::tenant(tenant)).await?;
    tracing::info!(tenant.id = %tenant.id, "custom domain verified");
    Tenant::from_row(updated, tenant.fee_plan.clone())
}
