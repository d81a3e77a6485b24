//! The closed set of gateways this build knows, generated from one list.
//!
//! The variants, [`GatewayId::ALL`], the names and their parsing all come from the one
//! `gateway_ids!` invocation below, so a provider cannot be added to the enum and left out of
//! `ALL` (whose webhooks would then answer 404): there is nothing to forget.

use std::fmt;
use std::str::FromStr;

/// Declares [`GatewayId`] from `Variant => "name"` pairs: the enum, `ALL` in declaration order
/// (the registry's preference order), `as_str` and `FromStr`. A duplicated variant does not
/// compile; a duplicated name is caught by this module's tests.
macro_rules! gateway_ids {
    ($($(#[$attr:meta])* $variant:ident => $name:literal),+ $(,)?) => {
        /// The gateways this build knows. Adding a provider is one line in this module's
        /// `gateway_ids!` list; every exhaustive `match` on it (the registry that builds
        /// gateways from configuration) then stops compiling until it is wired.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum GatewayId {
            $($(#[$attr])* $variant,)+
        }

        impl GatewayId {
            /// Every gateway, in declaration order.
            pub const ALL: [GatewayId; [$(GatewayId::$variant),+].len()] =
                [$(GatewayId::$variant),+];

            /// The name used in URLs (`/webhooks/{name}`), configuration and stored orders.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)+
                }
            }
        }

        impl FromStr for GatewayId {
            type Err = UnknownGateway;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($name => Ok(Self::$variant),)+
                    _ => Err(UnknownGateway(s.to_owned())),
                }
            }
        }
    };
}

gateway_ids! {
    /// Stripe Connect (destination charges to the storefront's connected account).
    Stripe => "stripe",
    /// YooKassa (API v3): a storefront's own shop, or split payments through the platform's.
    Yookassa => "yookassa",
    /// Robokassa: signed payment links and ResultURL callbacks, per storefront shop.
    Robokassa => "robokassa",
    /// The offline test provider built into Lyceum.
    Sandbox => "sandbox",
}

impl fmt::Display for GatewayId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A gateway name this build does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown payment gateway `{0}`")]
pub struct UnknownGateway(pub String);

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn every_id_round_trips_through_its_name() {
        for id in GatewayId::ALL {
            assert_eq!(id.as_str().parse::<GatewayId>(), Ok(id));
            assert_eq!(id.to_string(), id.as_str());
        }
    }

    #[test]
    fn ids_and_names_are_unique() {
        let ids: BTreeSet<_> = GatewayId::ALL.into_iter().collect();
        assert_eq!(ids.len(), GatewayId::ALL.len(), "an id is listed twice");
        let names: BTreeSet<_> = GatewayId::ALL.into_iter().map(GatewayId::as_str).collect();
        assert_eq!(names.len(), GatewayId::ALL.len(), "a name is used twice");
    }

    #[test]
    fn unknown_and_differently_cased_names_are_refused() {
        assert_eq!(
            "Sandbox".parse::<GatewayId>(),
            Err(UnknownGateway("Sandbox".into()))
        );
        assert_eq!("".parse::<GatewayId>(), Err(UnknownGateway(String::new())));
    }
}
