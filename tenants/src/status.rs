//! The lifecycle of a tenant.

use std::fmt;
use std::str::FromStr;

/// `pending` (applied, waiting for a platform admin) → `active` ⇄ `suspended`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TenantStatus {
    Pending,
    Active,
    Suspended,
}

impl TenantStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Suspended => "suspended",
        }
    }

    /// Only an active tenant shows a public catalog and takes orders.
    pub fn sells(self) -> bool {
        match self {
            Self::Active => true,
            Self::Pending | Self::Suspended => false,
        }
    }
}

impl fmt::Display for TenantStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored status this build does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown tenant status `{0}`")]
pub struct UnknownStatus(pub String);

impl FromStr for TenantStatus {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pending" => Ok(Self::Pending),
            "active" => Ok(Self::Active),
            "suspended" => Ok(Self::Suspended),
            other => Err(UnknownStatus(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_only_active_sells() {
        for s in [
            TenantStatus::Pending,
            TenantStatus::Active,
            TenantStatus::Suspended,
        ] {
            assert_eq!(s.as_str().parse::<TenantStatus>().unwrap(), s);
            assert_eq!(s.sells(), s == TenantStatus::Active);
        }
        assert!("deleted".parse::<TenantStatus>().is_err());
    }
}
