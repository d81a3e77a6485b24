//! The payment link: `pay_url?MerchantLogin=…&OutSum=…&InvId=…&…&SignatureValue=…`, signed
//! with the shop's Password #1. Robokassa keeps no session: the link is the checkout, the
//! order's number (`InvId`) its reference, and `Shp_order`/`Shp_tenant` come back in the
//! ResultURL notification. `SuccessUrl2`/`FailUrl2` send the buyer back to the storefront's
//! order page, whatever the cabinet says.

use lyceum_gateway_core::{CheckoutRequest, CheckoutSession, GatewayError, TenantAccount};
use url::form_urlencoded;

use crate::accounts::Shop;
use crate::signature::{self, LinkFields, ReturnUrls, ShopParam};
use crate::{Robokassa, receipt};

/// `Description`'s limit.
const DESCRIPTION_CHARS: usize = 100;

/// The `Shp_` parameter carrying our order id.
pub const SHP_ORDER: &str = "Shp_order";
/// The `Shp_` parameter carrying our tenant id.
pub const SHP_TENANT: &str = "Shp_tenant";

pub(crate) fn create(
    gateway: &Robokassa,
    account: &TenantAccount,
    request: &CheckoutRequest,
) -> Result<CheckoutSession, GatewayError> {
    let shop = Shop::of(account)?;
    if request.invoice_number <= 0 {
        return Err(GatewayError::Rejected("the order has no number".into()));
    }
    let out_sum = crate::amount::out_sum(request.total)?;
    let inv_id = request.invoice_number.to_string();
    let receipt =
        receipt::for_checkout(&shop.receipt, request)?.map(|json| signature::url_encode(&json));
    let return_urls = ReturnUrls {
        success_url: request.success_url.clone(),
        success_method: "GET",
        fail_url: request.cancel_url.clone(),
        fail_method: "GET",
    };
    let shp = [
        ShopParam::new(SHP_ORDER, request.order_id.to_string()),
        ShopParam::new(SHP_TENANT, request.tenant_id.to_string()),
    ];
    let signature_value = signature::link_signature(
        shop.hash,
        &LinkFields {
            merchant_login: shop.login,
            out_sum: &out_sum,
            inv_id: &inv_id,
            receipt: receipt.as_deref(),
            return_urls: Some(&return_urls),
            password1: shop.password1,
            shp: &shp,
        },
    );
    let description = description(request);
    let expires = request
        .expires_at
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("MerchantLogin", shop.login)
        .append_pair("OutSum", &out_sum)
        .append_pair("InvId", &inv_id)
        .append_pair("Description", &description)
        .append_pair("Culture", "ru")
        .append_pair("Encoding", "utf-8")
        .append_pair("Email", &request.buyer_email)
        .append_pair("ExpirationDate", &expires);
    if let Some(receipt) = &receipt {
        // The URL-encoded JSON, encoded once more as a query value: Robokassa reads back the
        // URL-encoded text it signs.
        query.append_pair("Receipt", receipt);
    }
    query
        .append_pair("SuccessUrl2", &return_urls.success_url)
        .append_pair("SuccessUrl2Method", return_urls.success_method)
        .append_pair("FailUrl2", &return_urls.fail_url)
        .append_pair("FailUrl2Method", return_urls.fail_method);
    for p in &shp {
        query.append_pair(&p.name, &p.value);
    }
    query.append_pair("SignatureValue", &signature_value);
    if shop.test {
        query.append_pair("IsTest", "1");
    }
    let base = &gateway.config().pay_url;
    let separator = if base.contains('?') { '&' } else { '?' };
    Ok(CheckoutSession {
        redirect_url: format!("{base}{separator}{}", query.finish()),
        provider_reference: inv_id,
        expires_at: request.expires_at,
    })
}

/// What the buyer sees they pay for, at most 100 characters.
fn description(request: &CheckoutRequest) -> String {
    let titles: Vec<&str> = request.lines.iter().map(|l| l.title.as_str()).collect();
    let text = format!("Order {}: {}", request.invoice_number, titles.join(", "));
    text.chars().take(DESCRIPTION_CHARS).collect()
}
