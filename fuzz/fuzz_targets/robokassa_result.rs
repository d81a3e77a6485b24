//! Robokassa's ResultURL notification (`/webhooks/robokassa/{tenant}`, a form POST or a GET
//! query): the form is the fuzzer's, checked against a storefront's shop as the platform does,
//! once as received, and once signed with the shop's Password #2 over what it carries, so that
//! what lies behind the signature (`InvId`, `OutSum`, `Shp_order`, `Shp_tenant`) is read too.
//!
//! Input: the form (`OutSum=…&InvId=…&SignatureValue=…&Shp_…`).
//!
//! Checked: no panic; a verified notification is one payment, acknowledged `OK{InvId}` with
//! the invoice number it named.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use lyceum_fuzz::gateways::{self, ROBOKASSA_PASSWORD2};
use lyceum_fuzz::{now, run};
use lyceum_gateway_core::{PaymentGateway, TenantAccount, WebhookRequest};
use lyceum_gateway_robokassa::signature::{ShopParam, result_signature};
use lyceum_gateway_robokassa::{HashAlgorithm, Robokassa};
use url::form_urlencoded;

/// The hashes the shops sign with: Robokassa's default, and the longest.
const HASHES: [HashAlgorithm; 2] = [HashAlgorithm::Md5, HashAlgorithm::Sha512];

/// `form` without its `SignatureValue`, signed again as Robokassa would sign what it carries
/// with `hash` and the shop's Password #2 (its first `OutSum` and `InvId`, its `Shp_` fields).
fn signed(form: &[u8], hash: HashAlgorithm) -> Vec<u8> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(form)
        .into_owned()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("SignatureValue"))
        .collect();
    let first = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map_or("", |(_, v)| v.as_str())
    };
    let shp: Vec<ShopParam> = pairs
        .iter()
        .filter(|(k, _)| k.len() > 4 && k.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("shp_")))
        .map(|(k, v)| ShopParam::new(k.clone(), v.clone()))
        .collect();
    let signature = result_signature(
        hash,
        first("OutSum"),
        first("InvId"),
        ROBOKASSA_PASSWORD2,
        &shp,
    );
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&pairs)
        .append_pair("SignatureValue", &signature)
        .finish()
        .into_bytes()
}

fuzz_target!(|form: &[u8]| {
    static ROBOKASSA: OnceLock<(Robokassa, Vec<TenantAccount>)> = OnceLock::new();
    let (robokassa, shops) = ROBOKASSA.get_or_init(|| {
        let robokassa = gateways::robokassa_offline();
        let shops = HASHES
            .iter()
            .map(|&hash| gateways::robokassa_shop(&robokassa, hash))
            .collect();
        (robokassa, shops)
    });
    let received = |body: &[u8], shop: &TenantAccount| {
        let request = WebhookRequest {
            headers: &[],
            body,
            peer: None,
            now: now(),
        };
        run(robokassa.verify_webhook(shop, &request))
    };
    let _ = received(form, &shops[0]);
    for (shop, hash) in shops.iter().zip(HASHES) {
        let Ok(delivery) = received(&signed(form, hash), shop) else {
            continue;
        };
        assert_eq!(delivery.events.len(), 1, "{delivery:?}");
        let inv_id = delivery.reference.clone().unwrap_or_default();
        assert!(
            !inv_id.is_empty() && inv_id.bytes().all(|b| b.is_ascii_digit()),
            "{delivery:?}"
        );
        assert_eq!(robokassa.acknowledge(&delivery).body, format!("OK{inv_id}"));
    }
});
