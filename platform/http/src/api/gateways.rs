//! A storefront's payment gateways (owner): connecting its accounts, seeing their state
//! (never a secret), disabling one, and opening a seller account through a provider's
//! onboarding (Stripe Connect Express).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use lyceum_gateway_core::GatewayId;
use lyceum_tenants::rbac::{action, resource};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::{Map, Value};

use super::types::{Created, NoContent};
use super::{ApiTags, in_tenant};
use crate::auth::Auth;
use crate::problem::ApiResult;
use lyceum_domain::error::AppError;
use lyceum_domain::services::gateway_accounts::{self, GatewayAccount};
use lyceum_domain::state::AppState;

/// A gateway's settings. Which fields apply depends on the gateway, and a gateway refuses the
/// fields it does not take: `stripe` takes `account_id`; `yookassa` either `shop_id` and
/// `secret_key` (the storefront's own shop) or `account_id` (the storefront's shop inside the
/// platform's, for split payments), and `receipt`; `robokassa` `merchant_login`, `password1`,
/// `password2`, `password3`, `hash`, `test` and `receipt`. Secrets are write-only: stored
/// sealed, never shown again.
#[derive(Debug, Default, Object)]
#[oai(rename = "GatewaySettings")]
pub struct GatewaySettingsBody {
    /// Stripe: the storefront's connected account (`acct_…`). YooKassa: the storefront's
    /// shop id inside the platform's split-payment shop.
    account_id: Option<String>,
    /// YooKassa: the shop's id.
    shop_id: Option<String>,
    /// YooKassa: the shop's secret key (write-only).
    secret_key: Option<String>,
    /// Robokassa: the shop's login.
    merchant_login: Option<String>,
    /// Robokassa: Password #1 (write-only).
    password1: Option<String>,
    /// Robokassa: Password #2 (write-only).
    password2: Option<String>,
    /// Robokassa: Password #3, for refunds (write-only).
    password3: Option<String>,
    /// Robokassa: the signature's hash algorithm.
    hash: Option<String>,
    /// Robokassa: whether these are test-mode passwords.
    test: Option<bool>,
    /// YooKassa and Robokassa: the 54-FZ receipts sent with payments and refunds.
    receipt: Option<ReceiptSettingsBody>,
}

/// A storefront's 54-FZ receipt settings. Shown back in the account's `settings` as
/// `receipt.*`.
#[derive(Debug, Default, Object)]
#[oai(rename = "ReceiptSettings")]
pub struct ReceiptSettingsBody {
    /// Whether receipts are sent (default true; off for a shop that fiscalizes elsewhere).
    enabled: Option<bool>,
    /// `osn`, `usn_income`, `usn_income_outcome`, `envd`, `esn` or `patent`.
    tax_system: Option<String>,
    /// The courses' VAT rate: `none` (default), `vat0`, `vat5`, `vat7`, `vat10`, `vat20`,
    /// `vat22`, `vat105`, `vat107`, `vat110`, `vat120` or `vat122`.
    vat: Option<String>,
    /// What is sold: `service` (default), `intellectual_activity`, `commodity`, `job`,
    /// `payment`, `agent_commission`, `property_right`, `composite` or `another`.
    payment_subject: Option<String>,
    /// How it is paid: `full_payment` (default), `full_prepayment`, `prepayment`, `advance`,
    /// `partial_payment`, `credit` or `credit_payment`.
    payment_mode: Option<String>,
    /// The seller the platform sells for, printed on the platform's receipts (split payments).
    supplier_name: Option<String>,
    /// The seller's INN: 10 or 12 digits.
    supplier_inn: Option<String>,
    /// The seller's phone, `+` and digits.
    supplier_phone: Option<String>,
}

impl ReceiptSettingsBody {
    fn into_value(self) -> Value {
        let mut object = Map::new();
        if let Some(enabled) = self.enabled {
            object.insert("enabled".to_owned(), Value::Bool(enabled));
        }
        for (name, value) in [
            ("tax_system", self.tax_system),
            ("vat", self.vat),
            ("payment_subject", self.payment_subject),
            ("payment_mode", self.payment_mode),
            ("supplier_name", self.supplier_name),
            ("supplier_inn", self.supplier_inn),
            ("supplier_phone", self.supplier_phone),
        ] {
            if let Some(value) = value {
                object.insert(name.to_owned(), Value::String(value));
            }
        }
        Value::Object(object)
    }
}

impl GatewaySettingsBody {
    /// The fields the owner sent, as the gateway reads them.
    fn into_fields(self) -> Map<String, Value> {
        let strings = [
            ("account_id", self.account_id),
            ("shop_id", self.shop_id),
            ("secret_key", self.secret_key),
            ("merchant_login", self.merchant_login),
            ("password1", self.password1),
            ("password2", self.password2),
            ("password3", self.password3),
            ("hash", self.hash),
        ];
        let mut fields: Map<String, Value> = strings
            .into_iter()
            .filter_map(|(name, value)| Some((name.to_owned(), Value::String(value?))))
            .collect();
        if let Some(test) = self.test {
            fields.insert("test".to_owned(), Value::Bool(test));
        }
        if let Some(receipt) = self.receipt {
            fields.insert("receipt".to_owned(), receipt.into_value());
        }
        fields
    }
}

/// A storefront's account at one gateway; secrets are never shown, only their names.
#[derive(Debug, Object)]
#[oai(rename = "GatewayAccount")]
pub struct GatewayAccountBody {
    pub gateway: String,
    /// `active`, `restricted` (connected, but the provider does not let it take payments
    /// yet), `pending_approval` (a seller account inside the platform's own account at the
    /// provider, which the platform's operator has yet to confirm), `not_connected` or
    /// `disabled`.
    pub state: String,
    /// Whether the storefront offers this gateway to its buyers.
    pub enabled: bool,
    /// Whether the gateway needs an account of the storefront's own.
    pub seller_account_required: bool,
    /// The provider's id of the storefront's account.
    #[oai(skip_serializing_if_is_none)]
    pub account_id: Option<String>,
    pub test_mode: bool,
    /// Settings that are not secret.
    pub settings: BTreeMap<String, String>,
    /// The names of the secrets on file.
    pub credentials: Vec<String>,
    pub charges_enabled: bool,
    pub payouts_enabled: bool,
    /// What the provider still asks of the seller.
    pub requirements: Vec<String>,
    #[oai(skip_serializing_if_is_none)]
    pub checked_at: Option<DateTime<Utc>>,
    #[oai(skip_serializing_if_is_none)]
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<GatewayAccount> for GatewayAccountBody {
    fn from(a: GatewayAccount) -> Self {
        Self {
            gateway: a.gateway.as_str().to_owned(),
            state: a.state().to_owned(),
            enabled: a.enabled,
            seller_account_required: a.seller_account_required,
            account_id: a.provider_account_id,
            test_mode: a.test_mode,
            settings: a.settings,
            credentials: a.credentials,
            charges_enabled: a.charges_enabled,
            payouts_enabled: a.payouts_enabled,
            requirements: a.requirements,
            checked_at: a.checked_at,
            updated_at: a.updated_at,
        }
    }
}

/// A provider's onboarding page for the storefront's seller account.
#[derive(Debug, Object)]
#[oai(rename = "Onboarding")]
pub struct OnboardingBody {
    /// Send the owner here; it works once and expires.
    pub url: String,
    /// The seller account being onboarded.
    pub account_id: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, ApiResponse)]
enum Configured {
    /// The gateway's settings, as stored.
    #[oai(status = 200)]
    Ok(Json<GatewayAccountBody>),
}

#[derive(Debug, ApiResponse)]
enum Listed {
    /// Every gateway the platform offers, as this storefront has it.
    #[oai(status = 200)]
    Ok(Json<Vec<GatewayAccountBody>>),
}

pub(super) fn gateway_named(name: &str) -> Result<GatewayId, AppError> {
    name.parse().map_err(|_| AppError::NotFound("gateway"))
}

/// Payment gateways of a storefront.
#[derive(Debug)]
pub struct GatewaysApi;

#[OpenApi(prefix_path = "/api/v1/tenants", tag = "ApiTags::Studio")]
impl GatewaysApi {
    /// The gateways the platform offers and this storefront's account at each: state, the
    /// provider's account id, whether it can take payments and be paid out, what the provider
    /// still asks for. Never a secret (owner).
    #[oai(
        path = "/:tenant/gateways",
        method = "get",
        operation_id = "list_gateways"
    )]
    async fn list_gateways(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
    ) -> ApiResult<Listed> {
        let (tenant, proof) =
            in_tenant::<resource::GatewayAccount, action::Read>(state, &auth.principal(), &tenant)
                .await?;
        let accounts = gateway_accounts::list(state, &proof, &tenant).await?;
        Ok(Listed::Ok(Json(
            accounts.into_iter().map(Into::into).collect(),
        )))
    }

    /// Connect the storefront's account at a gateway, or replace its settings, and offer the
    /// gateway to buyers (owner). The gateway checks the fields and the provider is asked about
    /// the account; secrets are stored sealed and never shown again.
    #[oai(
        path = "/:tenant/gateways/:gateway",
        method = "put",
        operation_id = "configure_gateway"
    )]
    async fn configure_gateway(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        gateway: Path<String>,
        body: Json<GatewaySettingsBody>,
    ) -> ApiResult<Configured> {
        let (tenant, proof) = in_tenant::<resource::GatewayAccount, action::Update>(
            state,
            &auth.principal(),
            &tenant,
        )
        .await?;
        let gateway = gateway_named(&gateway)?;
        let fields = body.0.into_fields();
        let account = gateway_accounts::configure(state, &proof, &tenant, gateway, &fields).await?;
        Ok(Configured::Ok(Json(account.into())))
    }

    /// Stop offering a gateway to the storefront's buyers (owner). Its settings are kept until
    /// replaced; orders already paid through it can still be refunded.
    #[oai(
        path = "/:tenant/gateways/:gateway",
        method = "delete",
        operation_id = "disable_gateway"
    )]
    async fn disable_gateway(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        gateway: Path<String>,
    ) -> ApiResult<NoContent> {
        let (tenant, proof) = in_tenant::<resource::GatewayAccount, action::Delete>(
            state,
            &auth.principal(),
            &tenant,
        )
        .await?;
        let gateway = gateway_named(&gateway)?;
        gateway_accounts::disable(state, &proof, &tenant, gateway).await?;
        Ok(NoContent::NoContent)
    }

    /// Open (or continue) the storefront's seller account at a gateway that onboards sellers
    /// (Stripe: an Express account) and get the provider's onboarding page for the owner
    /// (owner). The account takes payments once the provider says so.
    #[oai(
        path = "/:tenant/gateways/:gateway/onboarding",
        method = "post",
        operation_id = "start_gateway_onboarding"
    )]
    async fn start_gateway_onboarding(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        gateway: Path<String>,
    ) -> ApiResult<Created<OnboardingBody>> {
        let (tenant, proof) = in_tenant::<resource::GatewayAccount, action::Update>(
            state,
            &auth.principal(),
            &tenant,
        )
        .await?;
        let gateway = gateway_named(&gateway)?;
        let started =
            gateway_accounts::onboarding(state, &proof, &tenant, &auth.user().email, gateway)
                .await?;
        Ok(Created::Created(Json(OnboardingBody {
            url: started.url,
            account_id: started.provider_account_id,
            expires_at: started.expires_at,
        })))
    }
}
