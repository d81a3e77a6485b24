//! `lyceum_gateway_core::signature` against the vectors stripe-python computed and judged
//! (`tests/fixtures/stripe/signatures.json`, made by `make_signatures.py`).

use lyceum_e2e::stripe::fixtures;
use lyceum_gateway_core::WebhookError;
use lyceum_gateway_core::signature::{TOLERANCE_SECS, sign, verify};
use serde_json::Value;

fn verdict(result: Result<i64, WebhookError>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(WebhookError::BadSignature) => "bad_signature",
        Err(WebhookError::StaleTimestamp) => "stale_timestamp",
        Err(WebhookError::MalformedSignature) => "malformed",
        Err(WebhookError::MissingSignature) => "missing",
        Err(other) => panic!("unexpected {other:?}"),
    }
}

#[test]
fn our_signatures_agree_with_stripe_python_on_every_vector() {
    let text = std::fs::read_to_string(fixtures::dir().join("signatures.json")).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["tolerance_secs"], TOLERANCE_SECS);
    let vectors = doc["vectors"].as_array().unwrap();
    assert!(vectors.len() >= 10, "the fixture lost its vectors");
    let mut signed = 0;
    for v in vectors {
        let name = v["name"].as_str().unwrap();
        let header = v["header"].as_str().unwrap();
        let timestamp = v["timestamp"].as_i64().unwrap();
        if let Some(signers) = v["signing_secrets"].as_array() {
            let keys: Vec<&[u8]> = signers
                .iter()
                .map(|s| s.as_str().unwrap().as_bytes())
                .collect();
            let ours = sign(&keys, timestamp, v["payload"].as_str().unwrap().as_bytes()).unwrap();
            assert_eq!(
                ours, header,
                "{name}: our header differs from stripe-python's"
            );
            signed += 1;
        }
        let result = verify(
            Some(header),
            v["body"].as_str().unwrap().as_bytes(),
            &[v["secret"].as_str().unwrap().as_bytes()],
            v["now"].as_i64().unwrap(),
            TOLERANCE_SECS,
        );
        let ours = verdict(result);
        assert_eq!(ours, v["lyceum"], "{name}");
        let python_valid = v["stripe_python"]["valid"].as_bool().unwrap();
        if v.get("differs").is_none() {
            assert_eq!(
                ours == "ok",
                python_valid,
                "{name}: stripe-python says {}",
                v["stripe_python"]
            );
        } else {
            assert_ne!(
                ours == "ok",
                python_valid,
                "{name}: a documented difference that no longer holds"
            );
        }
    }
    assert!(signed >= 5, "most vectors check the header itself");
}
