//! ResultURL: Robokassa's server-to-server notification that an invoice was paid, as a POST
//! form or a GET query (the platform passes either as the body).
//!
//! It is signed with the shop's Password #2 over the **received** `OutSum` text, `InvId` and
//! every received `Shp_` parameter sorted by name; the hex signature may come in any case and
//! is compared in constant time. A verified notification is one `PaymentSucceeded` event with
//! a stable id per invoice (`result:{InvId}`, the same one OpStateExt reconciliation makes), so
//! duplicates change nothing; the acknowledgement echoes `OK{InvId}`.

use chrono::{DateTime, Utc};
use lyceum_gateway_core::{
    Acknowledgement, Delivery, EventKind, GatewayEvent, TenantAccount, WebhookError, WebhookRequest,
};
use url::form_urlencoded;
use uuid::Uuid;

use crate::accounts::Shop;
use crate::checkout::{SHP_ORDER, SHP_TENANT};
use crate::signature::{self, ShopParam};

/// A verified notification.
pub(crate) fn receive(
    account: &TenantAccount,
    request: &WebhookRequest<'_>,
) -> Result<Delivery, WebhookError> {
    let shop = Shop::of(account).map_err(|_| WebhookError::NotConfigured)?;
    let params: Vec<(String, String)> = form_urlencoded::parse(request.body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let one = |name: &str| -> Result<&str, WebhookError> {
        let mut found = params.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name));
        match (found.next(), found.next()) {
            (Some((_, v)), None) => Ok(v.as_str()),
            (None, _) => Err(WebhookError::MalformedBody(format!("no {name}"))),
            (Some(_), Some(_)) => Err(WebhookError::MalformedBody(format!("{name} twice"))),
        }
    };
    let received = one("SignatureValue").map_err(|_| WebhookError::MissingSignature)?;
    let out_sum = one("OutSum")?;
    let inv_id = one("InvId")?;
    let shp: Vec<ShopParam> = params
        .iter()
        .filter(|(k, _)| k.len() > 4 && k.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("shp_")))
        .map(|(k, v)| ShopParam::new(k.clone(), v.clone()))
        .collect();
    let expected = signature::result_signature(shop.hash, out_sum, inv_id, shop.password2, &shp);
    if !signature::matches(received, &expected) {
        return Err(WebhookError::BadSignature);
    }
    // Verified: from here on a malformed field is Robokassa echoing what we sent, wrongly.
    if inv_id.is_empty() || !inv_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(WebhookError::MalformedBody("InvId is not a number".into()));
    }
    let amount = crate::amount::money(out_sum).ok_or_else(|| {
        WebhookError::MalformedBody(format!("OutSum `{out_sum}` is not an amount in kopecks"))
    })?;
    let uuid_of = |name: &str| -> Result<Uuid, WebhookError> {
        let value = shp
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.value.as_str())
            .ok_or_else(|| WebhookError::MalformedBody(format!("no {name}")))?;
        Uuid::parse_str(value)
            .map_err(|_| WebhookError::MalformedBody(format!("{name} is not an id")))
    };
    let event = paid(
        inv_id,
        uuid_of(SHP_ORDER)?,
        Some(uuid_of(SHP_TENANT)?),
        amount,
        request.now,
    );
    Ok(Delivery {
        events: vec![event],
        accounts: Vec::new(),
        reference: Some(inv_id.to_owned()),
    })
}

/// The one `PaymentSucceeded` event of an invoice, however Robokassa told it (ResultURL or
/// OpStateExt): one id, so one entitlement.
pub(crate) fn paid(
    inv_id: &str,
    order_id: Uuid,
    tenant_id: Option<Uuid>,
    amount: lyceum_gateway_core::Money,
    at: DateTime<Utc>,
) -> GatewayEvent {
    GatewayEvent {
        provider_event_id: format!("result:{inv_id}"),
        kind: EventKind::PaymentSucceeded,
        order_id,
        tenant_id,
        session_ref: Some(inv_id.to_owned()),
        // Robokassa knows a payment by the shop's invoice number; refunds name it the same.
        provider_payment_id: inv_id.to_owned(),
        refund_id: None,
        dispute_id: None,
        amount,
        occurred_at: at,
    }
}

/// `OK{InvId}` as plain text: anything else, Robokassa counts as not received.
pub(crate) fn acknowledge(delivery: &Delivery) -> Acknowledgement {
    Acknowledgement {
        status: 200,
        content_type: "text/plain; charset=utf-8",
        body: format!("OK{}", delivery.reference.as_deref().unwrap_or_default()),
    }
}
