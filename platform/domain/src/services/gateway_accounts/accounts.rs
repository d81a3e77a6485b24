//! The `gateway_accounts` rows and everything done with them; see the module doc.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use lyceum_gateway_core::{
    AccountSetup, AccountStatus, GatewayError, GatewayId, Onboarding, OnboardingRequest,
    TenantAccount,
};
use lyceum_tenants::rbac::{Authorized, action, resource};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter,
};
use secrecy::{ExposeSecret, SecretString};

use crate::entities::gateway_accounts as rows;
use crate::error::{AppError, AppResult, is_unique_violation};
use crate::gateways::Gateway;
use crate::ids::{GatewayAccountId, TenantId};
use crate::services::now;
use crate::services::tenancy::tenants::{Tenant, ensure_covers};
use crate::state::AppState;

/// A storefront's account at one provider, as its owner sees it: never a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayAccount {
    pub gateway: GatewayId,
    /// Whether the storefront offers this provider to its buyers (when the platform does).
    pub enabled: bool,
    /// Whether the provider needs an account of the storefront's own before it can sell.
    pub seller_account_required: bool,
    pub provider_account_id: Option<String>,
    pub test_mode: bool,
    pub settings: BTreeMap<String, String>,
    /// The names of the secrets on file; their values are never shown.
    pub credentials: Vec<String>,
    pub charges_enabled: bool,
    pub payouts_enabled: bool,
    /// What the provider still asks of the seller before it can take payments or pay out.
    pub requirements: Vec<String>,
    /// When the provider last told us about the account.
    pub checked_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl GatewayAccount {
    /// `disabled`, `not_connected` (the provider needs an account and has none), `restricted`
    /// (connected, but the provider does not let it take payments yet) or `active`.
    pub fn state(&self) -> &'static str {
        if !self.enabled {
            "disabled"
        } else if self.seller_account_required && self.provider_account_id.is_none() {
            if self.settings.contains_key(PENDING_ACCOUNT) {
                "pending_approval"
            } else {
                "not_connected"
            }
        } else if !self.charges_enabled {
            "restricted"
        } else {
            "active"
        }
    }

    fn from_row(row: &rows::Model, required: bool) -> AppResult<Self> {
        let corrupt = |field, e: Box<dyn std::error::Error + Send + Sync>| {
            AppError::corrupt_field("gateway account", row.id, field, e)
        };
        Ok(Self {
            gateway: row
                .gateway
                .parse()
                .map_err(|e| corrupt("gateway", Box::new(e)))?,
            enabled: row.enabled,
            seller_account_required: required,
            provider_account_id: row.provider_account_id.clone(),
            test_mode: row.test_mode,
            settings: serde_json::from_str(&row.settings)
                .map_err(|e| corrupt("settings", Box::new(e)))?,
            credentials: serde_json::from_str(&row.credential_names)
                .map_err(|e| corrupt("credential_names", Box::new(e)))?,
            charges_enabled: row.charges_enabled,
            payouts_enabled: row.payouts_enabled,
            requirements: serde_json::from_str(&row.requirements)
                .map_err(|e| corrupt("requirements", Box::new(e)))?,
            checked_at: row.checked_at,
            updated_at: Some(row.updated_at),
        })
    }

    /// A provider the storefront has not configured: on when it needs no account of the
    /// storefront's own, else waiting for one.
    fn unconfigured(gateway: GatewayId, required: bool) -> Self {
        Self {
            gateway,
            enabled: true,
            seller_account_required: required,
            provider_account_id: None,
            test_mode: false,
            settings: BTreeMap::new(),
            credentials: Vec::new(),
            charges_enabled: !required,
            payouts_enabled: !required,
            requirements: Vec::new(),
            checked_at: None,
            updated_at: None,
        }
    }
}

/// The setting that holds a seller account the platform's operator has yet to confirm (see
/// `AccountSetup::needs_platform_approval`); it becomes the provider account on approval.
pub const PENDING_ACCOUNT: &str = "pending_account_id";
/// The requirement shown while it waits.
const PLATFORM_APPROVAL: &str = "platform_approval";

/// What a tenant's sealed credentials at `gateway` are bound to (the associated data): a
/// value sealed for one storefront and provider opens for no other.
pub fn credentials_context(tenant: TenantId, gateway: GatewayId) -> String {
    format!("gateway_account:{tenant}:{gateway}")
}

/// A row of `tenant` at `gateway` with nothing configured: off, no account, no settings, no
/// secrets, unable to take payments. It keeps `existing`'s id and creation time (replacing
/// it), or gets new ones.
fn fresh_row(
    existing: Option<&rows::Model>,
    tenant: TenantId,
    gateway: GatewayId,
    at: DateTime<Utc>,
) -> rows::ActiveModel {
    rows::ActiveModel {
        id: Set(existing.map_or_else(GatewayAccountId::new_v7, |r| r.id)),
        tenant_id: Set(tenant),
        gateway: Set(gateway.as_str().to_owned()),
        enabled: Set(false),
        provider_account_id: Set(None),
        test_mode: Set(false),
        settings: Set("{}".to_owned()),
        sealed_credentials: Set(None),
        credential_names: Set("[]".to_owned()),
        charges_enabled: Set(false),
        payouts_enabled: Set(false),
        requirements: Set("[]".to_owned()),
        checked_at: Set(None),
        created_at: Set(existing.map_or(at, |r| r.created_at)),
        updated_at: Set(at),
    }
}

/// Writes a row over the existing one (`replace`) or as a new one; a conflict when the
/// provider's account is already another storefront's.
async fn save(
    db: &DatabaseConnection,
    replace: bool,
    row: rows::ActiveModel,
    gateway: GatewayId,
) -> AppResult<rows::Model> {
    let saved = if replace {
        row.update(db).await
    } else {
        row.insert(db).await
    };
    saved.map_err(|e| {
        if is_unique_violation(&e) {
            AppError::conflict(format!(
                "this {gateway} account is connected to another storefront"
            ))
        } else {
            e.into()
        }
    })
}

fn platform_gateway(state: &AppState, gateway: GatewayId) -> AppResult<&Gateway> {
    state
        .gateways
        .get(gateway)
        .ok_or(AppError::NotFound("gateway"))
}

async fn find(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    gateway: GatewayId,
) -> AppResult<Option<rows::Model>> {
    Ok(rows::Entity::find()
        .filter(rows::Column::TenantId.eq(tenant))
        .filter(rows::Column::Gateway.eq(gateway.as_str()))
        .one(conn)
        .await?)
}

/// Connects the storefront to `gateway` with the owner's fields (a JSON object), checked by
/// the provider's crate and by the provider itself; replaces what was there and enables it.
#[tracing::instrument(skip_all, fields(tenant.id = %tenant.id, gateway = %gateway))]
pub async fn configure(
    state: &AppState,
    auth: &Authorized<resource::GatewayAccount, action::Update>,
    tenant: &Tenant,
    gateway: GatewayId,
    fields: &serde_json::Map<String, serde_json::Value>,
) -> AppResult<GatewayAccount> {
    ensure_covers(auth, tenant)?;
    let provider = platform_gateway(state, gateway)?;
    let setup = provider
        .parse_account(fields)
        .map_err(|e| AppError::invalid(&e.field, e.message))?;
    let account = TenantAccount::new(
        setup.provider_account_id.clone(),
        setup.test_mode,
        setup
            .credentials
            .iter()
            .map(|(k, v)| (k.clone(), v.clone())),
    )
    .with_settings(setup.settings.clone());
    let status = provider
        .check_account(&account)
        .await
        .map_err(|e| match e {
            GatewayError::Rejected(why) => {
                // The provider's words stay in the log: they may describe the platform's own
                // account and keys.
                tracing::info!(why, "the provider refused the account");
                AppError::invalid(
                    "account",
                    format!(
                        "{gateway} does not know this account, or it is not connected to this platform"
                    ),
                )
            }
            other => AppError::Gateway(other),
        })?;
    if status
        .opened_for
        .is_some_and(|opened_for| opened_for != tenant.id.into_uuid())
    {
        return Err(AppError::conflict(format!(
            "this {gateway} account was opened for another storefront"
        )));
    }
    let sealed = seal(state, tenant.id, gateway, &setup)?;
    let names: Vec<&String> = setup.credentials.keys().collect();
    let at = now();
    let existing = find(&state.db, tenant.id, gateway).await?;
    let mut row = fresh_row(existing.as_ref(), tenant.id, gateway, at);
    let mut settings = setup.settings.clone();
    let mut account_id = setup.provider_account_id.clone();
    let mut status = status;
    // A seller account nobody can check waits for the operator, unless it is the one the
    // operator already confirmed for this storefront.
    let approved = existing
        .as_ref()
        .is_some_and(|r| r.provider_account_id.is_some() && r.provider_account_id == account_id);
    if setup.needs_platform_approval && !approved {
        if let Some(id) = account_id.take() {
            settings.insert(PENDING_ACCOUNT.to_owned(), id);
        }
        status.charges_enabled = false;
        status.payouts_enabled = false;
        status.requirements = vec![PLATFORM_APPROVAL.to_owned()];
    }
    row.enabled = Set(true);
    row.provider_account_id = Set(account_id);
    row.test_mode = Set(setup.test_mode);
    row.settings = Set(serde_json::to_string(&settings)?);
    row.sealed_credentials = Set(sealed);
    row.credential_names = Set(serde_json::to_string(&names)?);
    row.charges_enabled = Set(status.charges_enabled);
    row.payouts_enabled = Set(status.payouts_enabled);
    row.requirements = Set(serde_json::to_string(&status.requirements)?);
    row.checked_at = Set(Some(at));
    let saved = save(&state.db, existing.is_some(), row, gateway).await?;
    tracing::info!(state = ?status.charges_enabled, "gateway account configured");
    GatewayAccount::from_row(&saved, provider.capabilities().seller_account_required)
}

/// The operator confirms the seller account a storefront named at `gateway` (one inside the
/// platform's own account there, which the provider cannot check): it becomes the storefront's
/// account and can take payments. A conflict when another storefront holds that account.
#[tracing::instrument(skip_all, fields(tenant.id = %tenant.id, gateway = %gateway))]
pub async fn approve_seller(
    state: &AppState,
    _auth: &Authorized<resource::Platform, action::Approve>,
    tenant: &Tenant,
    gateway: GatewayId,
) -> AppResult<GatewayAccount> {
    let provider = platform_gateway(state, gateway)?;
    let existing = find(&state.db, tenant.id, gateway)
        .await?
        .ok_or(AppError::NotFound("gateway account"))?;
    let mut settings: BTreeMap<String, String> =
        serde_json::from_str(&existing.settings).map_err(|e| {
            AppError::corrupt_field("gateway account", existing.id, "settings", Box::new(e))
        })?;
    let Some(account_id) = settings.remove(PENDING_ACCOUNT) else {
        return Err(AppError::conflict(format!(
            "this storefront's {gateway} account waits for no approval"
        )));
    };
    let mut row: rows::ActiveModel = existing.into();
    row.provider_account_id = Set(Some(account_id));
    row.settings = Set(serde_json::to_string(&settings)?);
    row.charges_enabled = Set(true);
    row.payouts_enabled = Set(true);
    row.requirements = Set("[]".to_owned());
    row.checked_at = Set(Some(now()));
    let saved = save(&state.db, true, row, gateway).await?;
    tracing::info!("seller account approved by the platform");
    GatewayAccount::from_row(&saved, provider.capabilities().seller_account_required)
}

/// Seals the setup's secrets (a JSON object), or `None` when it has none.
fn seal(
    state: &AppState,
    tenant: TenantId,
    gateway: GatewayId,
    setup: &AccountSetup,
) -> AppResult<Option<String>> {
    if setup.credentials.is_empty() {
        return Ok(None);
    }
    let clear: BTreeMap<&str, &str> = setup
        .credentials
        .iter()
        .map(|(k, v)| (k.as_str(), v.expose_secret()))
        .collect();
    let clear = zeroize::Zeroizing::new(serde_json::to_vec(&clear)?);
    Ok(Some(
        state
            .sealing
            .seal(&clear, &credentials_context(tenant, gateway)),
    ))
}

/// Opens a row's sealed secrets.
fn open(state: &AppState, row: &rows::Model) -> AppResult<BTreeMap<String, SecretString>> {
    let Some(sealed) = &row.sealed_credentials else {
        return Ok(BTreeMap::new());
    };
    let gateway: GatewayId = row
        .gateway
        .parse()
        .map_err(|e| AppError::corrupt_field("gateway account", row.id, "gateway", e))?;
    let clear = state
        .sealing
        .open(sealed, &credentials_context(row.tenant_id, gateway))?;
    let map: BTreeMap<String, String> = serde_json::from_slice(&clear)
        .map_err(|e| AppError::corrupt_field("gateway account", row.id, "sealed_credentials", e))?;
    Ok(map
        .into_iter()
        .map(|(k, v)| (k, SecretString::from(v)))
        .collect())
}

/// Every provider the platform enables, as this storefront has it.
pub async fn list(
    state: &AppState,
    auth: &Authorized<resource::GatewayAccount, action::Read>,
    tenant: &Tenant,
) -> AppResult<Vec<GatewayAccount>> {
    ensure_covers(auth, tenant)?;
    let stored = rows::Entity::find()
        .filter(rows::Column::TenantId.eq(tenant.id))
        .all(&state.db)
        .await?;
    state
        .gateways
        .iter()
        .map(|provider| {
            let required = provider.capabilities().seller_account_required;
            match stored.iter().find(|r| r.gateway == provider.id().as_str()) {
                Some(row) => GatewayAccount::from_row(row, required),
                None => Ok(GatewayAccount::unconfigured(provider.id(), required)),
            }
        })
        .collect()
}

/// Stops offering `gateway` to the storefront's buyers; its settings stay until replaced.
#[tracing::instrument(skip_all, fields(tenant.id = %tenant.id, gateway = %gateway))]
pub async fn disable(
    state: &AppState,
    auth: &Authorized<resource::GatewayAccount, action::Delete>,
    tenant: &Tenant,
    gateway: GatewayId,
) -> AppResult<()> {
    ensure_covers(auth, tenant)?;
    platform_gateway(state, gateway)?;
    let at = now();
    match find(&state.db, tenant.id, gateway).await? {
        Some(row) => {
            let mut row: rows::ActiveModel = row.into();
            row.enabled = Set(false);
            row.updated_at = Set(at);
            row.update(&state.db).await?;
        }
        None => {
            let inserted = fresh_row(None, tenant.id, gateway, at)
                .insert(&state.db)
                .await;
            match inserted {
                Ok(_) => {}
                // Disabled at the same moment by another request: the same outcome.
                Err(e) if is_unique_violation(&e) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    tracing::info!("gateway disabled for the storefront");
    Ok(())
}

/// The gateways a storefront's buyers may pick, in the platform's order.
pub async fn offered(state: &AppState, tenant: &Tenant) -> AppResult<Vec<GatewayId>> {
    let stored = rows::Entity::find()
        .filter(rows::Column::TenantId.eq(tenant.id))
        .all(&state.db)
        .await?;
    let setting = |id: GatewayId| stored.iter().find(|r| r.gateway == id.as_str());
    let connected: Vec<GatewayId> = state
        .gateways
        .iter()
        .map(Gateway::id)
        .filter(|id| setting(*id).is_some_and(|r| r.enabled && r.provider_account_id.is_some()))
        .collect();
    let disabled: Vec<GatewayId> = stored
        .iter()
        .filter(|r| !r.enabled)
        .filter_map(|r| r.gateway.parse().ok())
        .collect();
    Ok(offered_gateways(
        state.gateways.iter().map(Gateway::id),
        &connected,
        &disabled,
        state.settings.sandbox_everywhere,
    ))
}

/// Of the gateways the platform enabled (in its order), those a storefront offers: each real
/// provider once the storefront connected its account there, and the sandbox — only while the
/// storefront has no real provider (a buyer must never "pay" a real seller with a test card),
/// unless the platform runs in demo or test mode (`everywhere`). A provider the storefront
/// disabled is never offered.
pub fn offered_gateways(
    enabled: impl IntoIterator<Item = GatewayId>,
    connected: &[GatewayId],
    disabled: &[GatewayId],
    everywhere: bool,
) -> Vec<GatewayId> {
    let real_connected = connected.iter().any(|g| *g != GatewayId::Sandbox);
    enabled
        .into_iter()
        .filter(|id| !disabled.contains(id))
        .filter(|id| match id {
            GatewayId::Sandbox => everywhere || !real_connected,
            GatewayId::Stripe | GatewayId::Yookassa | GatewayId::Robokassa => {
                connected.contains(id)
            }
        })
        .collect()
}

/// The seller account a gateway call for `tenant` acts for, credentials opened: the
/// storefront's own when it has one, else the empty account (the platform's, from the
/// gateway's configuration). Every call a gateway makes for a tenant takes its account here.
pub async fn account_for(
    state: &AppState,
    gateway: GatewayId,
    tenant: TenantId,
) -> AppResult<TenantAccount> {
    match find(&state.db, tenant, gateway).await? {
        Some(row) => to_tenant_account(state, &row),
        None => Ok(TenantAccount::default()),
    }
}

fn to_tenant_account(state: &AppState, row: &rows::Model) -> AppResult<TenantAccount> {
    let settings = serde_json::from_str(&row.settings)
        .map_err(|e| AppError::corrupt_field("gateway account", row.id, "settings", Box::new(e)))?;
    Ok(TenantAccount::new(
        row.provider_account_id.clone(),
        row.test_mode,
        open(state, row)?,
    )
    .with_settings(settings))
}

/// The account a new checkout at `provider` acts for; a conflict, saying what is missing,
/// when the storefront's account there cannot take payments.
pub async fn checkout_account(
    state: &AppState,
    tenant: &Tenant,
    provider: &Gateway,
) -> AppResult<TenantAccount> {
    let row = find(&state.db, tenant.id, provider.id()).await?;
    if provider.capabilities().seller_account_required {
        let gateway = provider.id();
        let Some(row) = row.as_ref().filter(|r| r.provider_account_id.is_some()) else {
            return Err(AppError::conflict(format!(
                "this storefront has not connected a {gateway} account yet"
            )));
        };
        if !row.enabled {
            return Err(AppError::conflict(format!(
                "this storefront does not take payments through {gateway}"
            )));
        }
        if !row.charges_enabled {
            let requirements: Vec<String> =
                serde_json::from_str(&row.requirements).unwrap_or_default();
            let missing = if requirements.is_empty() {
                String::new()
            } else {
                format!("; {gateway} still asks for: {}", requirements.join(", "))
            };
            return Err(AppError::conflict(format!(
                "this storefront's {gateway} account cannot take payments yet{missing}"
            )));
        }
    }
    match row {
        Some(row) => to_tenant_account(state, &row),
        None => Ok(TenantAccount::default()),
    }
}

/// Records a delivery's news of a seller account as the provider tells it now: deliveries
/// arrive in any order, so the account is looked up afresh rather than an older snapshot
/// written over a newer one. False when no storefront has the account.
pub async fn record_news(
    state: &AppState,
    gateway: GatewayId,
    told: &AccountStatus,
) -> AppResult<bool> {
    let known = rows::Entity::find()
        .filter(rows::Column::Gateway.eq(gateway.as_str()))
        .filter(rows::Column::ProviderAccountId.eq(told.provider_account_id.as_str()))
        .one(&state.db)
        .await?;
    let Some(row) = known else {
        tracing::info!(gateway = %gateway, account = %told.provider_account_id, "news of a seller account no storefront has");
        return Ok(false);
    };
    let provider = platform_gateway(state, gateway)?;
    let fresh = provider
        .check_account(&to_tenant_account(state, &row)?)
        .await
        .map_err(AppError::Gateway)?;
    record_status(&state.db, gateway, &fresh).await
}

/// Records what a provider says of a seller account (from a fresh look-up); false when no
/// storefront has that account.
#[tracing::instrument(skip_all, fields(gateway = %gateway, account = %status.provider_account_id))]
pub async fn record_status(
    db: &DatabaseConnection,
    gateway: GatewayId,
    status: &AccountStatus,
) -> AppResult<bool> {
    let updated = rows::Entity::update_many()
        .col_expr(
            rows::Column::ChargesEnabled,
            sea_orm::sea_query::Expr::value(status.charges_enabled),
        )
        .col_expr(
            rows::Column::PayoutsEnabled,
            sea_orm::sea_query::Expr::value(status.payouts_enabled),
        )
        .col_expr(
            rows::Column::Requirements,
            sea_orm::sea_query::Expr::value(serde_json::to_string(&status.requirements)?),
        )
        .col_expr(
            rows::Column::CheckedAt,
            sea_orm::sea_query::Expr::value(Some(now())),
        )
        .filter(rows::Column::Gateway.eq(gateway.as_str()))
        .filter(rows::Column::ProviderAccountId.eq(status.provider_account_id.as_str()))
        .exec(db)
        .await?;
    let found = updated.rows_affected > 0;
    if found {
        tracing::info!(
            charges_enabled = status.charges_enabled,
            payouts_enabled = status.payouts_enabled,
            requirements = status.requirements.len(),
            "seller account status recorded"
        );
    } else {
        tracing::warn!("news of a seller account no storefront has; nothing recorded");
    }
    Ok(found)
}

/// A fresh onboarding link for the storefront's existing seller account at `gateway`; never
/// opens a new account (a link followed from elsewhere must not make one).
pub async fn continue_onboarding(
    state: &AppState,
    auth: &Authorized<resource::GatewayAccount, action::Update>,
    tenant: &Tenant,
    owner_email: &str,
    gateway: GatewayId,
) -> AppResult<Onboarding> {
    ensure_covers(auth, tenant)?;
    let has_account = find(&state.db, tenant.id, gateway)
        .await?
        .is_some_and(|r| r.provider_account_id.is_some());
    if !has_account {
        return Err(AppError::NotFound("gateway account"));
    }
    onboarding(state, auth, tenant, owner_email, gateway).await
}

/// Asks the provider about the storefront's account now (the owner came back from its
/// onboarding) and records what it says.
#[tracing::instrument(skip_all, fields(tenant.id = %tenant.id, gateway = %gateway))]
pub async fn refresh_status(
    state: &AppState,
    auth: &Authorized<resource::GatewayAccount, action::Read>,
    tenant: &Tenant,
    gateway: GatewayId,
) -> AppResult<GatewayAccount> {
    ensure_covers(auth, tenant)?;
    let provider = platform_gateway(state, gateway)?;
    let row = find(&state.db, tenant.id, gateway)
        .await?
        .filter(|r| r.provider_account_id.is_some())
        .ok_or(AppError::NotFound("gateway account"))?;
    let status = provider
        .check_account(&to_tenant_account(state, &row)?)
        .await
        .map_err(AppError::Gateway)?;
    record_status(&state.db, gateway, &status).await?;
    let row = find(&state.db, tenant.id, gateway)
        .await?
        .ok_or(AppError::NotFound("gateway account"))?;
    GatewayAccount::from_row(&row, provider.capabilities().seller_account_required)
}

/// Opens (or continues) the storefront's seller account at `gateway` and returns the
/// provider's onboarding page; the account is on file, not yet able to take payments, until
/// the provider says it is.
#[tracing::instrument(skip_all, fields(tenant.id = %tenant.id, gateway = %gateway))]
pub async fn onboarding(
    state: &AppState,
    auth: &Authorized<resource::GatewayAccount, action::Update>,
    tenant: &Tenant,
    owner_email: &str,
    gateway: GatewayId,
) -> AppResult<Onboarding> {
    ensure_covers(auth, tenant)?;
    let provider = platform_gateway(state, gateway)?;
    let existing = find(&state.db, tenant.id, gateway).await?;
    let account = match &existing {
        Some(row) => to_tenant_account(state, row)?,
        None => TenantAccount::default(),
    };
    let base = state.settings.public_url.as_str().trim_end_matches('/');
    let page = |what: &str| {
        format!(
            "{base}/gateways/{gateway}/onboarding/{what}?tenant={}",
            tenant.slug
        )
    };
    let request = OnboardingRequest {
        tenant_id: tenant.id.into_uuid(),
        tenant_name: tenant.name.clone(),
        email: owner_email.to_owned(),
        return_url: page("return"),
        refresh_url: page("refresh"),
        idempotency_key: format!("onboarding:{}:{gateway}", tenant.id),
    };
    let started = provider
        .start_onboarding(&account, &request)
        .await
        .map_err(|e| match e {
            GatewayError::Unsupported(_) => AppError::invalid(
                "gateway",
                format!(
                    "{gateway} has no onboarding; connect an account with PUT /api/v1/tenants/{}/gateways/{gateway}",
                    tenant.slug
                ),
            ),
            other => AppError::Gateway(other),
        })?;
    let same_account = existing
        .as_ref()
        .and_then(|r| r.provider_account_id.as_deref())
        == Some(started.provider_account_id.as_str());
    if !same_account {
        let at = now();
        let mut row = fresh_row(existing.as_ref(), tenant.id, gateway, at);
        row.enabled = Set(true);
        row.provider_account_id = Set(Some(started.provider_account_id.clone()));
        save(&state.db, existing.is_some(), row, gateway).await?;
        tracing::info!(account = %started.provider_account_id, "seller account opened");
    }
    Ok(started)
}

/// What `reseal_all` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resealed {
    /// Values sealed by an older key, now sealed by the current one.
    pub resealed: usize,
    /// Values already sealed by the current key.
    pub current: usize,
    /// Rows whose value opens with no key of the ring (sealed by a key no longer configured,
    /// or altered): left as they are, for an operator to look at.
    pub failed: Vec<GatewayAccountId>,
}

/// Reseals every stored credential under the current key (after a key rotation). A value
/// that does not open is reported, not fatal: the others are still resealed.
pub async fn reseal_all(state: &AppState) -> AppResult<Resealed> {
    let sealed = rows::Entity::find()
        .filter(rows::Column::SealedCredentials.is_not_null())
        .all(&state.db)
        .await?;
    let mut outcome = Resealed::default();
    for row in sealed {
        let Some(value) = &row.sealed_credentials else {
            continue;
        };
        if state.sealing.is_current(value) {
            outcome.current += 1;
            continue;
        }
        let gateway: GatewayId = row
            .gateway
            .parse()
            .map_err(|e| AppError::corrupt_field("gateway account", row.id, "gateway", e))?;
        let context = credentials_context(row.tenant_id, gateway);
        let clear = match state.sealing.open(value, &context) {
            Ok(clear) => clear,
            Err(e) => {
                tracing::error!(row = %row.id, error = %crate::error::report(&e), "a sealed credential does not open; left as it is");
                outcome.failed.push(row.id);
                continue;
            }
        };
        let mut active: rows::ActiveModel = row.into();
        active.sealed_credentials = Set(Some(state.sealing.seal(&clear, &context)));
        active.update(&state.db).await?;
        outcome.resealed += 1;
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SANDBOX: GatewayId = GatewayId::Sandbox;
    const STRIPE: GatewayId = GatewayId::Stripe;

    #[test]
    fn the_sandbox_is_offered_only_until_a_real_provider_is_connected() {
        let enabled = [SANDBOX, STRIPE];
        assert_eq!(offered_gateways(enabled, &[], &[], false), [SANDBOX]);
        assert_eq!(offered_gateways(enabled, &[STRIPE], &[], false), [STRIPE]);
        assert_eq!(
            offered_gateways(enabled, &[STRIPE], &[], true),
            [SANDBOX, STRIPE]
        );
        assert!(offered_gateways([], &[STRIPE], &[], true).is_empty());
    }

    #[test]
    fn a_disabled_provider_is_never_offered() {
        let enabled = [SANDBOX, STRIPE];
        assert!(offered_gateways(enabled, &[], &[SANDBOX], true).is_empty());
        assert_eq!(
            offered_gateways(enabled, &[STRIPE], &[STRIPE], true),
            [SANDBOX]
        );
    }

    #[test]
    fn an_account_shows_its_state() {
        let mut account = GatewayAccount::unconfigured(STRIPE, true);
        assert_eq!(account.state(), "not_connected");
        account.provider_account_id = Some("acct_1".into());
        assert_eq!(account.state(), "restricted");
        account.charges_enabled = true;
        assert_eq!(account.state(), "active");
        account.enabled = false;
        assert_eq!(account.state(), "disabled");
        assert_eq!(
            GatewayAccount::unconfigured(SANDBOX, false).state(),
            "active"
        );
    }
}
