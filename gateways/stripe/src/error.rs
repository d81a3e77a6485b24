//! Stripe's failures as the platform's [`GatewayError`]s.

use lyceum_gateway_core::GatewayError;
use stripe::StripeError;

/// A failed call: Stripe's refusals (4xx) are final, the rest (network, 429, 409, 5xx, an
/// answer that does not parse) may be retried. Stripe's message is kept; the key never is.
pub(crate) fn gateway_error(err: StripeError) -> GatewayError {
    match err {
        StripeError::Stripe(api, status) => {
            let message = api
                .message
                .clone()
                .unwrap_or_else(|| "no message".to_owned());
            match status {
                404 => GatewayError::Rejected(format!("not found: {message}")),
                409 | 429 | 500.. => {
                    GatewayError::Unavailable(format!("Stripe answered {status}: {message}"))
                }
                _ => GatewayError::Rejected(message),
            }
        }
        StripeError::JSONDeserialize(why) => {
            GatewayError::Unavailable(format!("Stripe's answer did not parse: {why}"))
        }
        StripeError::ClientError(why) => GatewayError::Unavailable(why),
        StripeError::Timeout => GatewayError::Unavailable("Stripe did not answer in time".into()),
        StripeError::ConfigError(why) => GatewayError::Rejected(format!("configuration: {why}")),
    }
}

/// Whether Stripe refused because the object is not in a state for it (e.g. expiring a
/// session that is already complete): a 400 that changes nothing.
pub(crate) fn is_state_conflict(err: &StripeError) -> bool {
    matches!(err, StripeError::Stripe(_, 400))
}
