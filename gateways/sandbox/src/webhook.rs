//! Verifying a sandbox delivery and normalizing it: the `Sandbox-Signature` header is checked
//! on the raw bytes with any configured secret (rotation) before a byte of the body is parsed.

use lyceum_gateway_core::signature::{self, TOLERANCE_SECS};
use lyceum_gateway_core::{GatewayEvent, WebhookError, WebhookRequest};

use crate::transformers::{Unmapped, WireEnvelope, WireEvent, WireType};

/// The events in a delivery: one, or none for a type this build does not know.
pub(crate) fn verify(
    request: &WebhookRequest<'_>,
    secrets: &[String],
) -> Result<Vec<GatewayEvent>, WebhookError> {
    let secrets: Vec<&[u8]> = secrets.iter().map(|s| s.as_bytes()).collect();
    signature::verify(
        request.header("sandbox-signature"),
        request.body,
        &secrets,
        request.now.timestamp(),
        TOLERANCE_SECS,
    )?;
    normalize(request.body)
}

/// Parses a verified body. The type is read first, so an unknown type is ignored whatever
/// its `data` looks like.
fn normalize(body: &[u8]) -> Result<Vec<GatewayEvent>, WebhookError> {
    let malformed = |e: serde_json::Error| WebhookError::MalformedBody(e.to_string());
    let envelope: WireEnvelope = serde_json::from_slice(body).map_err(malformed)?;
    if envelope.kind == WireType::Unknown {
        tracing::info!("ignoring a sandbox event of an unknown type");
        return Ok(Vec::new());
    }
    let wire: WireEvent = serde_json::from_slice(body).map_err(malformed)?;
    match GatewayEvent::try_from(wire) {
        Ok(event) => Ok(vec![event]),
        Err(Unmapped::UnknownType) => Ok(Vec::new()),
        Err(Unmapped::Malformed(reason)) => Err(WebhookError::MalformedBody(reason)),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use lyceum_gateway_core::EventKind;

    use super::*;

    const BODY: &[u8] = include_bytes!("../tests/fixtures/payment_succeeded.json");
    const NOW: i64 = 1_800_000_000;

    fn check(
        header: Option<String>,
        body: &[u8],
        now: i64,
        secrets: &[&str],
    ) -> Result<Vec<GatewayEvent>, WebhookError> {
        let headers: Vec<(String, String)> = header
            .map(|h| ("sandbox-signature".to_owned(), h))
            .into_iter()
            .collect();
        let request = WebhookRequest {
            headers: &headers,
            body,
            peer: None,
            now: DateTime::<Utc>::from_timestamp(now, 0).unwrap(),
        };
        let secrets: Vec<String> = secrets.iter().map(|s| (*s).to_owned()).collect();
        verify(&request, &secrets)
    }

    fn signed(secret: &str, at: i64, body: &[u8]) -> Option<String> {
        signature::sign(&[secret.as_bytes()], at, body).ok()
    }

    #[test]
    fn a_signed_delivery_becomes_one_event() {
        let events = check(signed("whsec_a", NOW, BODY), BODY, NOW + 5, &["whsec_a"]).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, EventKind::PaymentSucceeded);
        assert_eq!(
            events[0].provider_event_id,
            "evt_a1b2c3d4e5f60718293a4b5c6d7e8f90"
        );
    }

    #[test]
    fn forged_altered_stale_and_unsigned_deliveries_are_refused() {
        assert_eq!(
            check(signed("whsec_forged", NOW, BODY), BODY, NOW, &["whsec_a"]),
            Err(WebhookError::BadSignature)
        );
        let altered = String::from_utf8_lossy(BODY).replace("1999", "1");
        assert_eq!(
            check(
                signed("whsec_a", NOW, BODY),
                altered.as_bytes(),
                NOW,
                &["whsec_a"]
            ),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            check(
                signed("whsec_a", NOW, BODY),
                BODY,
                NOW + TOLERANCE_SECS + 1,
                &["whsec_a"]
            ),
            Err(WebhookError::StaleTimestamp)
        );
        assert_eq!(
            check(None, BODY, NOW, &["whsec_a"]),
            Err(WebhookError::MissingSignature)
        );
        assert_eq!(
            check(signed("whsec_a", NOW, BODY), BODY, NOW, &[]),
            Err(WebhookError::NotConfigured)
        );
    }

    #[test]
    fn any_configured_secret_verifies_during_rotation() {
        let secrets = ["whsec_new", "whsec_old"];
        assert!(check(signed("whsec_old", NOW, BODY), BODY, NOW, &secrets).is_ok());
        assert!(check(signed("whsec_new", NOW, BODY), BODY, NOW, &secrets).is_ok());
    }

    #[test]
    fn unknown_types_are_ignored_and_bad_bodies_refused() {
        let unknown = include_bytes!("../tests/fixtures/unknown_type.json");
        assert_eq!(
            check(signed("k", NOW, unknown), unknown, NOW, &["k"]),
            Ok(vec![])
        );
        // An unknown type with a data shape of its own is still just ignored.
        let odd = br#"{"id":"evt_1","type":"payout.paid","created":1,"data":{"payout":7}}"#;
        assert_eq!(check(signed("k", NOW, odd), odd, NOW, &["k"]), Ok(vec![]));
        for bad in [
            &br#"not json"#[..],
            br#"{"id":"evt_1","type":"payment.succeeded","created":1,"data":{}}"#,
        ] {
            assert!(matches!(
                check(signed("k", NOW, bad), bad, NOW, &["k"]),
                Err(WebhookError::MalformedBody(_))
            ));
        }
        let bad_order = String::from_utf8_lossy(BODY).replace("0190a6f2-7c1e", "zzzz");
        assert!(matches!(
            check(
                signed("k", NOW, bad_order.as_bytes()),
                bad_order.as_bytes(),
                NOW,
                &["k"]
            ),
            Err(WebhookError::MalformedBody(_))
        ));
    }
}
