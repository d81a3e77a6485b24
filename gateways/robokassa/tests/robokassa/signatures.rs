//! Our signatures against the vectors the `robokassa` PyPI library computed
//! (`tests/fixtures/robokassa/signatures.json`, made by `make_signatures.py` beside it), for
//! every hash algorithm: payment links with a receipt, return URLs and `Shp_` parameters given
//! out of order; ResultURL (including the documentation's own example); OpStateExt; Refund
//! API tokens.

use lyceum_gateway_robokassa::signature::{
    self, LinkFields, ReturnUrls, ShopParam, op_state_signature, result_signature, url_encode,
};
use lyceum_gateway_robokassa::{HashAlgorithm, jwt};
use serde_json::Value;

const FIXTURE: &str = include_str!("../../../../tests/fixtures/robokassa/signatures.json");

fn fixture() -> Value {
    serde_json::from_str(FIXTURE).unwrap()
}

fn s<'v>(v: &'v Value, key: &str) -> &'v str {
    v[key].as_str().unwrap_or_else(|| panic!("{key} in {v}"))
}

fn hash(v: &Value) -> HashAlgorithm {
    HashAlgorithm::parse(s(v, "hash")).unwrap()
}

fn shp(v: &Value) -> Vec<ShopParam> {
    v["shp"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| ShopParam::new(p[0].as_str().unwrap(), p[1].as_str().unwrap()))
        .collect()
}

#[test]
fn every_algorithm_is_covered() {
    let doc = fixture();
    for section in ["links", "plain_links", "op_state"] {
        let algorithms: Vec<HashAlgorithm> =
            doc[section].as_array().unwrap().iter().map(hash).collect();
        assert_eq!(algorithms, HashAlgorithm::ALL, "{section}");
    }
}

#[test]
fn payment_links_sign_as_the_library_does() {
    for v in fixture()["links"].as_array().unwrap() {
        let encoded = url_encode(s(v, "receipt_json"));
        assert_eq!(
            encoded,
            s(v, "receipt_encoded"),
            "the receipt encodes as quote(…, safe='')"
        );
        let urls = ReturnUrls {
            success_url: s(v, "success_url").to_owned(),
            success_method: "GET",
            fail_url: s(v, "fail_url").to_owned(),
            fail_method: "GET",
        };
        let shp = shp(v);
        let fields = LinkFields {
            merchant_login: s(v, "merchant_login"),
            out_sum: s(v, "out_sum"),
            inv_id: s(v, "inv_id"),
            receipt: Some(&encoded),
            return_urls: Some(&urls),
            password1: s(v, "password1"),
            shp: &shp,
        };
        assert_eq!(
            signature::link_signature(hash(v), &fields),
            s(v, "signature"),
            "{}",
            s(v, "hash")
        );
    }
    for v in fixture()["plain_links"].as_array().unwrap() {
        let shp = shp(v);
        let fields = LinkFields {
            merchant_login: s(v, "merchant_login"),
            out_sum: s(v, "out_sum"),
            inv_id: s(v, "inv_id"),
            receipt: None,
            return_urls: None,
            password1: s(v, "password1"),
            shp: &shp,
        };
        assert_eq!(
            signature::link_signature(hash(v), &fields),
            s(v, "signature")
        );
    }
}

#[test]
fn result_notifications_sign_as_the_library_does() {
    let doc = fixture();
    let results = doc["results"].as_array().unwrap();
    assert!(
        results
            .iter()
            .any(|v| s(v, "out_sum") == "100.000000" && s(v, "inv_id") == "450009")
    );
    for v in results {
        let shp = shp(v);
        let ours = result_signature(
            hash(v),
            s(v, "out_sum"),
            s(v, "inv_id"),
            s(v, "password2"),
            &shp,
        );
        assert_eq!(ours, s(v, "signature"), "{}", s(v, "hash"));
        assert!(v["library_accepts_upper_case"].as_bool().unwrap());
        assert!(signature::matches(&ours.to_uppercase(), s(v, "signature")));
    }
}

#[test]
fn op_state_and_refund_tokens_sign_as_the_library_does() {
    for v in fixture()["op_state"].as_array().unwrap() {
        assert_eq!(
            op_state_signature(
                hash(v),
                s(v, "merchant_login"),
                s(v, "inv_id"),
                s(v, "password2")
            ),
            s(v, "signature")
        );
    }
    for v in fixture()["jwt"].as_array().unwrap() {
        assert_eq!(
            jwt(hash(v), s(v, "key"), s(v, "payload_json")),
            s(v, "token"),
            "{}",
            s(v, "hash")
        );
    }
}
