//! The storefront's money and settings in the studio: its payment gateways (connecting an
//! account, Stripe's onboarding, YooKassa's and Robokassa's credentials, disabling one), its
//! balance, revenue, payouts and payees' schedules, and its name and colour.
//!
//! The same services and proofs as the API's `list_gateways`, `configure_gateway`,
//! `start_gateway_onboarding`, `disable_gateway`, `get_balance`, `get_revenue`,
//! `set_payout_schedule` and `update_tenant`. Credentials are write-only: no page shows them
//! again, only their names.

use std::sync::Arc;

use chrono::{Duration, Utc};
use lyceum_gateway_core::GatewayId;
use lyceum_tenants::rbac::{action, resource};
use minijinja::{Value, context};
use poem::web::{Data, Form, Path, Query};
use poem::{Request, Response, handler};
use serde::Deserialize;
use serde_json::{Map, Value as Json};

use super::courses::Plain;
use super::{
    Done, Flash, Studio, day, in_tenant, parse_price, poster, refused, see_other, signed, when,
};
use crate::frame::{Frame, Section, signed_in};
use crate::render::page;
use crate::shop::Viewer;
use lyceum_domain::error::{AppError, AppResult};
use lyceum_domain::ids::UserId;
use lyceum_domain::services::gateway_accounts;
use lyceum_domain::services::ledger::payouts::{self, PayeeSchedule, Schedule};
use lyceum_domain::services::ledger::reports::{self, Period};
use lyceum_domain::services::tenancy::tenants::{self, TenantName, TenantPatch};
use lyceum_domain::state::AppState;

// ---------------------------------------------------------------------------------------------
// Gateways.

/// The gateways the platform offers and the storefront's account at each (`gateway_account,
/// read`): state, account, what the provider still asks for; never a secret.
#[handler]
pub(super) async fn list_gateways(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path(slug): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    let (frame, viewer) = match signed_in(state, req, None, Section::Studio).await {
        Ok(found) => found,
        Err(redirect) => return redirect,
    };
    page(gateways_page(state, &frame, &viewer, &slug, &Flash::from_query(&done)).await)
}

async fn gateways_page(
    state: &AppState,
    frame: &Frame,
    viewer: &Viewer,
    slug: &str,
    flash: &Flash,
) -> AppResult<String> {
    let (tenant, proof) =
        in_tenant::<resource::GatewayAccount, action::Read>(state, viewer.user.id, slug).await?;
    let accounts = gateway_accounts::list(state, &proof, &tenant).await?;
    let studio = Studio::load(state, viewer, tenant.clone()).await;
    let rows: Vec<Value> = accounts
        .iter()
        .map(|a| {
            let state = a.state();
            context! {
                gateway => a.gateway.as_str(),
                name => gateway_name(a.gateway),
                state,
                tone => match state {
                    "active" => "ok",
                    "restricted" | "pending_approval" | "not_connected" => "warn",
                    _ => "",
                },
                enabled => a.enabled,
                account_id => &a.provider_account_id,
                test_mode => a.test_mode,
                settings => a.settings.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>(),
                credentials => a.credentials.join(", "),
                charges_enabled => a.charges_enabled,
                payouts_enabled => a.payouts_enabled,
                requirements => &a.requirements,
                checked_at => a.checked_at.map(when),
            }
        })
        .collect();
    frame.render(
        "studio/gateways.html",
        context! {
            title => format!("Payments · {}", tenant.name),
            studio => studio.value("gateways"),
            flash => flash.value(),
            gateways => rows,
        },
    )
}

fn gateway_name(gateway: GatewayId) -> &'static str {
    match gateway {
        GatewayId::Stripe => "Stripe",
        GatewayId::Yookassa => "YooKassa",
        GatewayId::Robokassa => "Robokassa",
        GatewayId::Sandbox => "Sandbox (test payments)",
    }
}

fn gateway_named(name: &str) -> AppResult<GatewayId> {
    name.parse().map_err(|_| AppError::NotFound("gateway"))
}

/// A gateway's settings as a form sends them; which apply depends on the gateway, which
/// refuses the others.
#[derive(Debug, Deserialize)]
pub(super) struct GatewayForm {
    csrf: String,
    account_id: Option<String>,
    shop_id: Option<String>,
    secret_key: Option<String>,
    merchant_login: Option<String>,
    password1: Option<String>,
    password2: Option<String>,
    password3: Option<String>,
    hash: Option<String>,
    test: Option<String>,
}

impl GatewayForm {
    /// The fields filled in, as the gateway reads them (as the API's body becomes them).
    fn fields(&self, gateway: GatewayId) -> Map<String, Json> {
        let strings = [
            ("account_id", &self.account_id),
            ("shop_id", &self.shop_id),
            ("secret_key", &self.secret_key),
            ("merchant_login", &self.merchant_login),
            ("password1", &self.password1),
            ("password2", &self.password2),
            ("password3", &self.password3),
            ("hash", &self.hash),
        ];
        let mut fields: Map<String, Json> = strings
            .into_iter()
            .filter_map(|(name, value)| {
                let value = value.as_deref()?.trim();
                (!value.is_empty()).then(|| (name.to_owned(), Json::String(value.to_owned())))
            })
            .collect();
        if gateway == GatewayId::Robokassa {
            fields.insert(
                "test".to_owned(),
                Json::Bool(super::ticked(self.test.as_deref())),
            );
        }
        fields
    }
}

/// Connects the storefront's account at a gateway, or replaces its settings, and offers it
/// to buyers (`gateway_account, update`); the provider is asked about the account.
#[handler]
pub(super) async fn configure_gateway(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path((slug, gateway)): Path<(String, String)>,
    Form(form): Form<GatewayForm>,
) -> Response {
    let result = async {
        let user = poster(state, req, &form.csrf).await?;
        let (tenant, proof) =
            in_tenant::<resource::GatewayAccount, action::Update>(state, user.id, &slug).await?;
        let gateway = gateway_named(&gateway)?;
        let fields = form.fields(gateway);
        gateway_accounts::configure(state, &proof, &tenant, gateway, &fields).await
    }
    .await;
    match result {
        Ok(_) => see_other(format!("/studio/{slug}/gateways?done=connected")),
        Err(e) => {
            refused(state, req, e, |frame, viewer, flash| async move {
                gateways_page(state, &frame, &viewer, &slug, &flash).await
            })
            .await
        }
    }
}

/// Opens (or continues) the storefront's seller account at a gateway that onboards sellers
/// (Stripe) and sends the owner to the provider's page (`gateway_account, update`).
#[handler]
pub(super) async fn start_onboarding(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path((slug, gateway)): Path<(String, String)>,
    Form(form): Form<Plain>,
) -> Response {
    let result = async {
        let user = poster(state, req, &form.csrf).await?;
        let (tenant, proof) =
            in_tenant::<resource::GatewayAccount, action::Update>(state, user.id, &slug).await?;
        let gateway = gateway_named(&gateway)?;
        gateway_accounts::onboarding(state, &proof, &tenant, &user.email, gateway).await
    }
    .await;
    match result {
        // The provider's own page, from the provider's answer: not a visitor's input.
        Ok(started) => see_other(started.url),
        Err(e) => {
            refused(state, req, e, |frame, viewer, flash| async move {
                gateways_page(state, &frame, &viewer, &slug, &flash).await
            })
            .await
        }
    }
}

/// Stops offering a gateway to buyers (`gateway_account, delete`); its settings are kept.
#[handler]
pub(super) async fn disable_gateway(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path((slug, gateway)): Path<(String, String)>,
    Form(form): Form<Plain>,
) -> Response {
    let result = async {
        let user = poster(state, req, &form.csrf).await?;
        let (tenant, proof) =
            in_tenant::<resource::GatewayAccount, action::Delete>(state, user.id, &slug).await?;
        let gateway = gateway_named(&gateway)?;
        gateway_accounts::disable(state, &proof, &tenant, gateway).await
    }
    .await;
    match result {
        Ok(()) => see_other(format!("/studio/{slug}/gateways?done=disabled")),
        Err(e) => {
            refused(state, req, e, |frame, viewer, flash| async move {
                gateways_page(state, &frame, &viewer, &slug, &flash).await
            })
            .await
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Balance, revenue, payouts.

/// Months of revenue the balance page lists.
const MONTHS: i64 = 12;
/// Payouts the balance page lists.
const PAYOUTS: u64 = 50;

/// The storefront's balances per currency and per payee, revenue by month and payouts
/// (`balance, read`), with each payee's schedule (`payee, read`).
#[handler]
pub(super) async fn show_balance(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path(slug): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    let (frame, viewer) = match signed_in(state, req, None, Section::Studio).await {
        Ok(found) => found,
        Err(redirect) => return redirect,
    };
    page(balance_page(state, &frame, &viewer, &slug, &Flash::from_query(&done)).await)
}

async fn balance_page(
    state: &AppState,
    frame: &Frame,
    viewer: &Viewer,
    slug: &str,
    flash: &Flash,
) -> AppResult<String> {
    let (tenant, proof) =
        in_tenant::<resource::Balance, action::Read>(state, viewer.user.id, slug).await?;
    let balance = reports::tenant_balance(state, &proof, &tenant).await?;
    let now = Utc::now();
    let revenue = reports::tenant_revenue(
        state,
        &proof,
        &tenant,
        Period::Month,
        now - Duration::days(MONTHS * 31),
        now,
    )
    .await?;
    let paid = payouts::list_for_tenant(state, &proof, &tenant, PAYOUTS).await?;
    let studio = Studio::load(state, viewer, tenant.clone()).await;
    let schedules = if studio.can.payees {
        let (_, read) =
            in_tenant::<resource::Payee, action::Read>(state, viewer.user.id, slug).await?;
        payouts::schedules(state, &read, &tenant).await?
    } else {
        Default::default()
    };
    let totals: Vec<Value> = balance
        .totals
        .iter()
        .map(|b| {
            context! {
                currency => b.currency.code(),
                pending => signed(b.pending, b.currency),
                available => signed(b.available, b.currency),
                in_transit => signed(b.in_transit, b.currency),
                paid_out => signed(b.paid_out, b.currency),
                seller_due => (b.seller_due != 0).then(|| signed(b.seller_due, b.currency)),
            }
        })
        .collect();
    let payees: Vec<Value> = balance
        .payees
        .iter()
        .map(|p| {
            let b = &p.balance;
            let schedule = schedules.get(&p.user_id).copied().unwrap_or_default();
            context! {
                user_id => p.user_id.to_string(),
                name => &p.name,
                email => &p.email,
                owner => p.user_id == tenant.owner_id,
                currency => b.currency.code(),
                pending => signed(b.pending, b.currency),
                available => signed(b.available, b.currency),
                in_transit => signed(b.in_transit, b.currency),
                paid_out => signed(b.paid_out, b.currency),
                seller_due => (b.seller_due != 0).then(|| signed(b.seller_due, b.currency)),
                schedule => schedule.schedule.as_str(),
                threshold => schedule.threshold.and_then(|t| lyceum_domain::domain::Money::new(t, tenant.currency).ok()).map(|m| m.to_decimal_string()).unwrap_or_default(),
            }
        })
        .collect();
    let months: Vec<Value> = revenue
        .iter()
        .rev()
        .filter_map(|r| {
            let currency = lyceum_gateway_core::Currency::parse(&r.currency).ok()?;
            Some(context! {
                period => &r.period,
                gross => signed(r.gross, currency),
                refunds => signed(r.refunds, currency),
                fees => signed(r.fees, currency),
                net => signed(r.net, currency),
            })
        })
        .collect();
    let payout_rows: Vec<Value> = paid
        .iter()
        .filter_map(|p| {
            let currency = lyceum_gateway_core::Currency::parse(&p.currency).ok()?;
            Some(context! {
                created => day(p.created_at),
                payee => &p.payee_email,
                period => &p.period,
                amount => signed(p.amount, currency),
                status => p.status.as_str(),
                tone => match p.status.as_str() { "paid" => "ok", "failed" => "bad", _ => "warn" },
                reference => &p.reference,
                failure => &p.failure,
            })
        })
        .collect();
    frame.render(
        "studio/balance.html",
        context! {
            title => format!("Balance · {}", tenant.name),
            studio => studio.value("balance"),
            flash => flash.value(),
            totals,
            payees,
            months,
            payouts => payout_rows,
            currency => tenant.currency.code(),
        },
    )
}

/// A payee's payout schedule.
#[derive(Debug, Deserialize)]
pub(super) struct ScheduleForm {
    csrf: String,
    #[serde(default)]
    schedule: String,
    threshold: Option<String>,
}

/// Sets when a payee of the storefront is paid (`payee, update`).
#[handler]
pub(super) async fn set_schedule(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path((slug, payee)): Path<(String, String)>,
    Form(form): Form<ScheduleForm>,
) -> Response {
    let result = async {
        let user = poster(state, req, &form.csrf).await?;
        let (tenant, proof) =
            in_tenant::<resource::Payee, action::Update>(state, user.id, &slug).await?;
        let payee: UserId = payee.parse().map_err(|_| AppError::NotFound("payee"))?;
        let schedule = Schedule::parse(&form.schedule)
            .ok_or_else(|| AppError::invalid("schedule", "must be weekly, monthly or threshold"))?;
        let threshold = match form.threshold.as_deref().map(str::trim) {
            Some(t) if !t.is_empty() && schedule == Schedule::Threshold => {
                Some(parse_price("threshold", t, tenant.currency)?.amount.get())
            }
            _ => None,
        };
        payouts::set_schedule(
            state,
            &proof,
            &tenant,
            payee,
            PayeeSchedule {
                schedule,
                threshold,
            },
        )
        .await
    }
    .await;
    match result {
        Ok(_) => see_other(format!("/studio/{slug}/balance?done=schedule")),
        Err(e) => {
            refused(state, req, e, |frame, viewer, flash| async move {
                balance_page(state, &frame, &viewer, &slug, &flash).await
            })
            .await
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Settings.

/// The storefront's name and colour (`tenant, update`: the owner's).
#[handler]
pub(super) async fn show_settings(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path(slug): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    let (frame, viewer) = match signed_in(state, req, None, Section::Studio).await {
        Ok(found) => found,
        Err(redirect) => return redirect,
    };
    page(
        settings_page(
            state,
            &frame,
            &viewer,
            &slug,
            &Flash::from_query(&done),
            None,
        )
        .await,
    )
}

async fn settings_page(
    state: &AppState,
    frame: &Frame,
    viewer: &Viewer,
    slug: &str,
    flash: &Flash,
    draft: Option<&SettingsForm>,
) -> AppResult<String> {
    let (tenant, _) =
        in_tenant::<resource::Tenant, action::Update>(state, viewer.user.id, slug).await?;
    let studio = Studio::load(state, viewer, tenant.clone()).await;
    let color = tenant
        .brand_color
        .clone()
        .unwrap_or_else(|| crate::frame::DEFAULT_ACCENT.to_owned());
    frame.render(
        "studio/settings.html",
        context! {
            title => format!("Settings · {}", tenant.name),
            studio => studio.value("settings"),
            flash => flash.value(),
            name => draft.map_or(tenant.name.as_str(), |d| d.name.as_str()),
            color => draft.map_or(color.as_str(), |d| d.brand_color.as_str()),
            own_color => tenant.brand_color.is_some(),
            slug => tenant.slug.as_str(),
            currency => tenant.currency.code(),
            status => tenant.status.as_str(),
            domain => &tenant.custom_domain,
            storefront => format!("/s/{}", tenant.slug),
        },
    )
}

/// The settings form.
#[derive(Debug, Deserialize)]
pub(super) struct SettingsForm {
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    brand_color: String,
    /// Back to the platform's colour.
    default_color: Option<String>,
}

/// Saves the storefront's name and colour (`tenant, update`).
#[handler]
pub(super) async fn save_settings(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path(slug): Path<String>,
    Form(form): Form<SettingsForm>,
) -> Response {
    let result = async {
        let user = poster(state, req, &form.csrf).await?;
        let (tenant, proof) =
            in_tenant::<resource::Tenant, action::Update>(state, user.id, &slug).await?;
        let brand_color = if super::ticked(form.default_color.as_deref()) {
            None
        } else {
            Some(tenants::parse_brand_color(form.brand_color.trim())?)
        };
        let patch = TenantPatch {
            name: Some(TenantName::parse("name", form.name.trim())?),
            brand_color: Some(brand_color),
            ..TenantPatch::default()
        };
        tenants::update(state, &proof, &tenant, patch).await
    }
    .await;
    match result {
        Ok(_) => see_other(format!("/studio/{slug}/settings?done=saved")),
        Err(e) => {
            refused(state, req, e, |frame, viewer, flash| async move {
                settings_page(state, &frame, &viewer, &slug, &flash, Some(&form)).await
            })
            .await
        }
    }
}
