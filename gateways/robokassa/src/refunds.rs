//! Refunds. With the shop's Password #3, through Robokassa's Refund API: the operation's
//! `OpKey` (from OpStateExt), then `POST {refund_base}/Refund/Create` with a JWT signed with
//! Password #3 by the shop's hash (`RefundSum` only for part of the payment), answered with a
//! `requestId` whose `GET …/Refund/GetState?id=` says `finished` once the money went back.
//! Without Password #3 the refund is manual: the buyer's access ends now and the seller
//! returns the money in Robokassa's cabinet.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use lyceum_gateway_core::{
    EventKind, GatewayError, GatewayEvent, Money, RefundAccepted, RefundLookup, RefundRequest,
    TenantAccount,
};
use serde::Deserialize;
use uuid::Uuid;

use crate::Robokassa;
use crate::accounts::Shop;

/// The prefix of a manual refund's id.
const MANUAL: &str = "manual-";

pub(crate) async fn refund(
    gateway: &Robokassa,
    account: &TenantAccount,
    request: &RefundRequest,
) -> Result<RefundAccepted, GatewayError> {
    let shop = Shop::of(account)?;
    let inv_id = request
        .order
        .session_ref
        .clone()
        .unwrap_or_else(|| request.provider_payment_id.clone());
    let Some(password3) = shop.password3 else {
        let id = format!("{MANUAL}{}", request.idempotency_key);
        let event = refunded(
            request.order_id,
            request.tenant_id,
            &inv_id,
            &request.provider_payment_id,
            &id,
            request.amount,
        );
        return Ok(RefundAccepted {
            provider_refund_id: id,
            settled: vec![event],
            manual: true,
        });
    };
    let state = crate::payments::op_state(gateway, &shop, &inv_id).await?;
    let op_key = match (state.state, state.op_key) {
        (Some(100), Some(key)) => key,
        (None, _) => return Err(GatewayError::UnknownPayment),
        _ => {
            return Err(GatewayError::Rejected(
                "Robokassa does not show this invoice as paid".into(),
            ));
        }
    };
    let mut payload = serde_json::Map::new();
    payload.insert("OpKey".into(), serde_json::Value::String(op_key));
    let json = if request.amount == request.order.total {
        serde_json::Value::Object(payload).to_string()
    } else {
        // A decimal number in rubles, written from kopecks (not through a float).
        let sum = crate::amount::out_sum(request.amount)?;
        let head = serde_json::Value::Object(payload).to_string();
        format!("{},\"RefundSum\":{sum}}}", head.trim_end_matches('}'))
    };
    let token = jwt(shop.hash, password3, &json);
    let url = format!(
        "{}/Refund/Create",
        gateway.config().refund_base.trim_end_matches('/')
    );
    let response = gateway
        .http()
        .post(url)
        .header("content-type", "application/json")
        .body(token)
        .send()
        .await
        .map_err(|e| GatewayError::Unavailable(format!("Refund/Create: {}", e.without_url())))?;
    let status = response.status();
    if status.is_server_error() || status.as_u16() == 429 {
        return Err(GatewayError::Unavailable(format!(
            "Refund/Create answered {status}"
        )));
    }
    let text = response
        .text()
        .await
        .map_err(|e| GatewayError::Unavailable(format!("Refund/Create: {}", e.without_url())))?;
    let answer: CreateAnswer = match serde_json::from_str(&text) {
        Ok(answer) => answer,
        // A refusal in another shape (the API not enabled, a bad token) is still a refusal.
        Err(_) if status.is_client_error() => {
            return Err(GatewayError::Rejected(format!(
                "Robokassa refused the refund (status {status})"
            )));
        }
        Err(e) => {
            return Err(GatewayError::Unavailable(format!(
                "Refund/Create's answer does not parse: {e}"
            )));
        }
    };
    match (answer.success, answer.request_id) {
        (true, Some(id)) if !id.is_empty() => Ok(RefundAccepted::pending(id)),
        _ => Err(GatewayError::Rejected(format!(
            "Robokassa refused the refund: {}",
            answer.message.unwrap_or_else(|| format!("status {status}"))
        ))),
    }
}

pub(crate) async fn fetch(
    gateway: &Robokassa,
    account: &TenantAccount,
    lookup: &RefundLookup,
) -> Result<Vec<GatewayEvent>, GatewayError> {
    if lookup.provider_refund_id.starts_with(MANUAL) || lookup.provider_refund_id.is_empty() {
        // A manual refund was settled when it was recorded.
        return Ok(Vec::new());
    }
    Shop::of(account)?;
    let url = format!(
        "{}/Refund/GetState",
        gateway.config().refund_base.trim_end_matches('/')
    );
    let response = gateway
        .http()
        .get(url)
        .query(&[("id", lookup.provider_refund_id.as_str())])
        .send()
        .await
        .map_err(|e| GatewayError::Unavailable(format!("Refund/GetState: {}", e.without_url())))?;
    if !response.status().is_success() {
        return Err(GatewayError::Unavailable(format!(
            "Refund/GetState answered {}",
            response.status()
        )));
    }
    let state: StateAnswer = response.json().await.map_err(|e| {
        GatewayError::Unavailable(format!("Refund/GetState's answer: {}", e.without_url()))
    })?;
    Ok(match state.label.as_deref() {
        Some("finished") => vec![refunded(
            lookup.order_id,
            lookup.tenant_id,
            &lookup.provider_payment_id,
            &lookup.provider_payment_id,
            &lookup.provider_refund_id,
            lookup.amount,
        )],
        // Final: Robokassa will not make it; the request fails and its amount is free again.
        Some("canceled") => {
            return Err(GatewayError::Rejected(
                "Robokassa cancelled the refund".into(),
            ));
        }
        // `processing`, and anything new: nothing happened to the money yet.
        _ => Vec::new(),
    })
}

fn refunded(
    order_id: Uuid,
    tenant_id: Uuid,
    inv_id: &str,
    payment_id: &str,
    refund_id: &str,
    amount: Money,
) -> GatewayEvent {
    GatewayEvent {
        provider_event_id: format!("refund:{refund_id}"),
        kind: EventKind::RefundSucceeded,
        order_id,
        tenant_id: Some(tenant_id),
        session_ref: Some(inv_id.to_owned()),
        provider_payment_id: payment_id.to_owned(),
        refund_id: Some(refund_id.to_owned()),
        dispute_id: None,
        amount,
        occurred_at: Utc::now(),
    }
}

/// A JWT: base64url(header).base64url(payload).base64url(HMAC), the header naming the shop's
/// hash as Robokassa's token services take it.
pub fn jwt(hash: crate::HashAlgorithm, key: &str, payload_json: &str) -> String {
    let header = format!(r#"{{"typ":"JWT","alg":"{}"}}"#, hash.jwt_alg());
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload_json)
    );
    let mac = hash.hmac(key.as_bytes(), message.as_bytes());
    format!("{message}.{}", URL_SAFE_NO_PAD.encode(mac))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateAnswer {
    #[serde(default)]
    success: bool,
    message: Option<String>,
    request_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct StateAnswer {
    label: Option<String>,
}
