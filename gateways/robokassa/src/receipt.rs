//! The 54-FZ `Receipt` of a payment link: Robokassa's JSON (`sno`, `items[]` with `name`,
//! `quantity`, `sum`, `payment_method`, `payment_object`, `tax`), made from core's receipt
//! settings, whose names are Robokassa's own. Item sums are the order's lines as charged (the
//! discount spread over them), so they add up to `OutSum` exactly; they are written as decimal
//! numbers from integer kopecks, never through a float.
//!
//! The supplier settings are not sent: a Robokassa shop is the storefront's own, so the
//! storefront is the seller on its receipts.

use lyceum_gateway_core::{CheckoutRequest, GatewayError, ReceiptSettings};

/// The most characters of an item's name Robokassa prints.
const NAME_CHARS: usize = 128;

/// The receipt's JSON for a checkout, or `None` when the shop fiscalizes elsewhere.
pub(crate) fn for_checkout(
    settings: &ReceiptSettings,
    request: &CheckoutRequest,
) -> Result<Option<String>, GatewayError> {
    if !settings.enabled {
        return Ok(None);
    }
    let amounts = request.charged_amounts(1)?;
    let mut items = Vec::with_capacity(amounts.len());
    for (line, amount) in request.lines.iter().zip(amounts) {
        let name: String = line.title.chars().take(NAME_CHARS).collect();
        let name = serde_json::to_string(&name)
            .map_err(|e| GatewayError::Rejected(format!("a receipt item: {e}")))?;
        items.push(format!(
            r#"{{"name":{name},"quantity":{},"sum":{},"payment_method":"{}","payment_object":"{}","tax":"{}"}}"#,
            line.quantity,
            crate::amount::out_sum(amount)?,
            settings.payment_mode.as_str(),
            settings.payment_subject.as_str(),
            settings.vat.as_str(),
        ));
    }
    let sno = settings
        .tax_system
        .map(|t| format!(r#""sno":"{}","#, t.as_str()))
        .unwrap_or_default();
    Ok(Some(format!(r#"{{{sno}"items":[{}]}}"#, items.join(","))))
}
