//! 54-FZ receipts as YooKassa takes them: the buyer's e-mail, one item per order line whose
//! amounts add up to the payment (or refund) to the kopeck, each with its VAT code, subject and
//! mode; the shop's tax system; and, when the platform's shop sells for a seller (split
//! payments), the seller as supplier with the platform as its agent.

use lyceum_gateway_core::receipt::{ReceiptSettings, TaxSystem, Vat};
use lyceum_gateway_core::{CheckoutLine, GatewayError, Itemised, Money, charged_amounts};
use serde_json::{Value, json};

use crate::api::amount;

/// YooKassa's `vat_code` for a rate.
fn vat_code(vat: Vat) -> u8 {
    match vat {
        Vat::None => 1,
        Vat::Vat0 => 2,
        Vat::Vat10 => 3,
        Vat::Vat20 => 4,
        Vat::Vat110 => 5,
        Vat::Vat120 => 6,
        Vat::Vat5 => 7,
        Vat::Vat7 => 8,
        Vat::Vat105 => 9,
        Vat::Vat107 => 10,
        Vat::Vat22 => 11,
        Vat::Vat122 => 12,
    }
}

/// YooKassa's `tax_system_code` for a tax system.
fn tax_system_code(tax: TaxSystem) -> u8 {
    match tax {
        TaxSystem::Osn => 1,
        TaxSystem::UsnIncome => 2,
        TaxSystem::UsnIncomeOutcome => 3,
        TaxSystem::Envd => 4,
        TaxSystem::Esn => 5,
        TaxSystem::Patent => 6,
    }
}

/// YooKassa caps an item's description at 128 characters.
fn description(title: &str) -> String {
    title.chars().take(128).collect()
}

/// The receipt for `total` spread over `lines` (a payment: its total; a refund: the amount
/// returned), or `None` when the storefront turned receipts off. `for_seller` is a split
/// payment's: the platform sells as the seller's agent.
pub(crate) fn receipt(
    settings: &ReceiptSettings,
    email: &str,
    lines: &[CheckoutLine],
    total: Money,
    for_seller: bool,
) -> Result<Option<Value>, GatewayError> {
    if !settings.enabled {
        return Ok(None);
    }
    let shares = charged_amounts(lines, total, 1)?;
    let mut items = Vec::with_capacity(lines.len());
    for (line, share) in lines.iter().zip(shares) {
        if share.is_zero() {
            continue;
        }
        let itemised = Itemised::new(share.amount.get(), line.quantity);
        let unit = Money::new(itemised.unit, share.currency)
            .map_err(|e| GatewayError::Rejected(e.to_string()))?;
        let (title, quantity) = (itemised.title(&line.title), itemised.count);
        let mut item = json!({
            "description": description(&title),
            "quantity": quantity,
            "amount": amount(unit),
            "vat_code": vat_code(settings.vat),
            "payment_subject": settings.payment_subject.as_str(),
            "payment_mode": settings.payment_mode.as_str(),
        });
        if for_seller {
            let supplier = settings.supplier.as_ref().ok_or_else(|| {
                GatewayError::Rejected(
                    "split-payment receipts need the seller as supplier (receipt.supplier_inn)"
                        .into(),
                )
            })?;
            item["agent_type"] = json!("agent");
            let mut who = json!({"name": supplier.name, "inn": supplier.inn});
            if let Some(phone) = &supplier.phone {
                who["phone"] = json!(phone);
            }
            item["supplier"] = who;
        }
        items.push(item);
    }
    let mut receipt = json!({
        "customer": {"email": email},
        "items": items,
    });
    if let Some(tax) = settings.tax_system {
        receipt["tax_system_code"] = json!(tax_system_code(tax));
    }
    Ok(Some(receipt))
}

#[cfg(test)]
mod tests {
    use lyceum_gateway_core::Currency;
    use lyceum_gateway_core::receipt::Supplier;
    use uuid::Uuid;

    use super::*;

    fn rub(amount: i64) -> Money {
        Money::new(amount, Currency::parse("RUB").unwrap()).unwrap()
    }

    fn line(title: &str, price: i64, quantity: u32) -> CheckoutLine {
        CheckoutLine {
            course_id: Uuid::now_v7(),
            title: title.into(),
            quantity,
            unit_price: rub(price),
        }
    }

    /// Σ quantity × amount of the items, in kopecks.
    fn sum(receipt: &Value) -> i64 {
        receipt["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                let value = i["amount"]["value"].as_str().unwrap();
                let each = Money::parse_decimal(value, Currency::parse("RUB").unwrap()).unwrap();
                each.amount.get() * i["quantity"].as_i64().unwrap()
            })
            .sum()
    }

    #[test]
    fn items_add_up_to_the_total_to_the_kopeck() {
        let settings = ReceiptSettings::default();
        let lines = [
            line("Rust", 149_000, 1),
            line("Go", 99_900, 3),
            line("C", 1, 1),
        ];
        for total in [448_701, 400_000, 1, 333_333] {
            let r = receipt(&settings, "b@example.com", &lines, rub(total), false)
                .unwrap()
                .unwrap();
            assert_eq!(sum(&r), total, "{r}");
            assert_eq!(r["customer"]["email"], "b@example.com");
            assert!(r.get("tax_system_code").is_none());
            for item in r["items"].as_array().unwrap() {
                assert_eq!(item["vat_code"], 1);
                assert_eq!(item["payment_subject"], "service");
                assert_eq!(item["payment_mode"], "full_payment");
                assert!(item.get("supplier").is_none());
            }
        }
    }

    #[test]
    fn split_receipts_name_the_seller_and_the_agent() {
        let settings = ReceiptSettings {
            tax_system: Some(TaxSystem::UsnIncome),
            vat: Vat::Vat20,
            supplier: Some(Supplier {
                name: "ИП Петров".into(),
                inn: "123456789012".into(),
                phone: Some("+79001234567".into()),
            }),
            ..ReceiptSettings::default()
        };
        let r = receipt(
            &settings,
            "b@example.com",
            &[line("Rust", 1, 1)],
            rub(1),
            true,
        )
        .unwrap()
        .unwrap();
        assert_eq!(r["tax_system_code"], 2);
        let item = &r["items"][0];
        assert_eq!(item["amount"], json!({"value": "0.01", "currency": "RUB"}));
        assert_eq!(item["vat_code"], 4);
        assert_eq!(item["agent_type"], "agent");
        assert_eq!(item["supplier"]["inn"], "123456789012");
        assert_eq!(item["supplier"]["phone"], "+79001234567");
    }

    #[test]
    fn receipts_can_be_off() {
        let off = ReceiptSettings {
            enabled: false,
            ..ReceiptSettings::default()
        };
        assert_eq!(
            receipt(&off, "b@example.com", &[line("x", 1, 1)], rub(1), false),
            Ok(None)
        );
    }
}
