//! Asking Robokassa about an invoice: OpStateExt (`{api_base}/OpStateExt`, signed with
//! Password #2, answered in XML). State 100 is the same `PaymentSucceeded` event the ResultURL
//! makes (one id per invoice); 10 (cancelled) and 60 (failed) are `PaymentFailed`; every other
//! state is still open, and an invoice Robokassa does not know (result 3) was never paid.

use chrono::Utc;
use lyceum_gateway_core::{EventKind, GatewayError, GatewayEvent, PaymentLookup, TenantAccount};

use crate::Robokassa;
use crate::accounts::Shop;
use crate::signature;

/// What OpStateExt told of an invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OpState {
    /// `State/Code`; `None` when Robokassa does not know the invoice.
    pub state: Option<u32>,
    /// `Info/OutSum`, as sent.
    pub out_sum: Option<String>,
    /// `Info/OpKey`: the operation a refund names.
    pub op_key: Option<String>,
}

/// Asks OpStateExt about invoice `inv_id`.
pub(crate) async fn op_state(
    gateway: &Robokassa,
    shop: &Shop<'_>,
    inv_id: &str,
) -> Result<OpState, GatewayError> {
    let signature = signature::op_state_signature(shop.hash, shop.login, inv_id, shop.password2);
    let url = format!(
        "{}/OpStateExt",
        gateway.config().api_base.trim_end_matches('/')
    );
    let response = gateway
        .http()
        .get(url)
        .query(&[
            ("MerchantLogin", shop.login),
            ("InvoiceID", inv_id),
            ("Signature", signature.as_str()),
        ])
        .send()
        .await
        .map_err(|e| GatewayError::Unavailable(format!("OpStateExt: {}", e.without_url())))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| GatewayError::Unavailable(format!("OpStateExt: {}", e.without_url())))?;
    if !status.is_success() {
        return Err(GatewayError::Unavailable(format!(
            "OpStateExt answered {status}"
        )));
    }
    parse_op_state(&text)
}

/// Reads OpStateExt's XML (namespace `http://merchant.roboxchange.com/WebService/`, read by
/// local names).
pub(crate) fn parse_op_state(xml: &str) -> Result<OpState, GatewayError> {
    let doc = roxmltree::Document::parse(xml.trim())
        .map_err(|e| GatewayError::Unavailable(format!("OpStateExt's answer is not XML: {e}")))?;
    let root = doc.root_element();
    let at = |path: &[&str]| -> Option<String> {
        let mut node = root;
        for name in path {
            node = node
                .children()
                .find(|n| n.is_element() && n.tag_name().name() == *name)?;
        }
        node.text().map(|t| t.trim().to_owned())
    };
    let code: u32 = at(&["Result", "Code"])
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| {
            GatewayError::Unavailable("OpStateExt's answer has no result code".into())
        })?;
    match code {
        0 => {}
        3 => {
            return Ok(OpState {
                state: None,
                out_sum: None,
                op_key: None,
            });
        }
        1 => {
            return Err(GatewayError::Rejected(
                "OpStateExt: the signature is wrong (check Password #2 and the hash algorithm)"
                    .into(),
            ));
        }
        2 => {
            return Err(GatewayError::Rejected(
                "OpStateExt: the shop is unknown or not activated".into(),
            ));
        }
        4 => {
            return Err(GatewayError::Rejected(
                "OpStateExt: two operations have this invoice number".into(),
            ));
        }
        other => {
            return Err(GatewayError::Unavailable(format!(
                "OpStateExt answered result {other}"
            )));
        }
    }
    let state = at(&["State", "Code"])
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| GatewayError::Unavailable("OpStateExt's answer has no state".into()))?;
    Ok(OpState {
        state: Some(state),
        out_sum: at(&["Info", "OutSum"]),
        op_key: at(&["Info", "OpKey"]).filter(|k| !k.is_empty()),
    })
}

/// The events an invoice's state makes.
pub(crate) async fn fetch(
    gateway: &Robokassa,
    account: &TenantAccount,
    lookup: &PaymentLookup,
) -> Result<Vec<GatewayEvent>, GatewayError> {
    let shop = Shop::of(account)?;
    let Some(inv_id) = lookup
        .session_ref
        .as_deref()
        .or(lookup.provider_payment_id.as_deref())
    else {
        return Ok(Vec::new());
    };
    let state = op_state(gateway, &shop, inv_id).await?;
    let now = Utc::now();
    let Some(code) = state.state else {
        return Ok(Vec::new());
    };
    let amount = || {
        state
            .out_sum
            .as_deref()
            .and_then(crate::amount::money)
            .ok_or_else(|| GatewayError::Unavailable("OpStateExt's OutSum is not an amount".into()))
    };
    Ok(match code {
        100 => vec![crate::webhook::paid(
            inv_id,
            lookup.order_id,
            Some(lookup.tenant_id),
            amount()?,
            now,
        )],
        10 | 60 => vec![GatewayEvent {
            provider_event_id: format!("state:{inv_id}:{code}"),
            kind: EventKind::PaymentFailed,
            order_id: lookup.order_id,
            tenant_id: Some(lookup.tenant_id),
            session_ref: Some(inv_id.to_owned()),
            provider_payment_id: inv_id.to_owned(),
            refund_id: None,
            dispute_id: None,
            // A cancelled invoice may show no sum; the event's amount is not used for a failure.
            amount: amount().or_else(|_| {
                crate::amount::rub()
                    .map(lyceum_gateway_core::Money::zero)
                    .ok_or_else(|| GatewayError::Unavailable("no RUB".into()))
            })?,
            occurred_at: now,
        }],
        // 5 initiated, 20 on hold, 50 pending, 80 suspended, and anything new: still open.
        _ => Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAID: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<OperationStateResponse xmlns="http://merchant.roboxchange.com/WebService/">
  <Result><Code>0</Code></Result>
  <State><Code>100</Code><RequestDate>2026-11-29T10:00:00+03:00</RequestDate><StateDate>2026-11-29T10:01:00+03:00</StateDate></State>
  <Info><IncCurrLabel>BankCardPSR</IncCurrLabel><IncSum>1490.00</IncSum><OutCurrLabel>BankCardPSR</OutCurrLabel><OutSum>1490.000000</OutSum><OpKey>ABC-123</OpKey></Info>
</OperationStateResponse>"#;

    #[test]
    fn a_paid_invoice_reads() {
        assert_eq!(
            parse_op_state(PAID).unwrap(),
            OpState {
                state: Some(100),
                out_sum: Some("1490.000000".into()),
                op_key: Some("ABC-123".into()),
            }
        );
    }

    #[test]
    fn result_codes_map() {
        let with = |code: u32| {
            parse_op_state(&format!(
                r#"<OperationStateResponse xmlns="http://merchant.roboxchange.com/WebService/"><Result><Code>{code}</Code></Result></OperationStateResponse>"#
            ))
        };
        assert_eq!(with(3).unwrap().state, None);
        assert!(matches!(with(1), Err(GatewayError::Rejected(_))));
        assert!(matches!(with(1000), Err(GatewayError::Unavailable(_))));
        assert!(parse_op_state("not xml").is_err());
    }
}
