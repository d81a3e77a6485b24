//! Rate limits on what an attacker repeats: guessing passwords, opening accounts, trying
//! coupon codes. Each is counted per client address (IPv6 per /64, the block one subscriber
//! usually holds) and, where there is one, per account, so neither many addresses against
//! one account nor one address against many accounts gets far.
//!
//! The check comes before any work: a refused request hashes nothing and writes nothing.
//! Counts live in this process (GCRA cells in memory): with N instances behind a balancer a
//! client gets up to N times the allowance. Idle keys are dropped every minute.

use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use sha2::{Digest, Sha256};

use crate::config::RateLimits;
use crate::error::{AppError, AppResult};
use crate::ids::UserId;

/// A client address as counted: IPv4 whole, IPv6 down to its /64.
type Address = IpAddr;

/// An account as counted: the SHA-256 of its normalized e-mail address, so the limiter
/// keeps neither addresses nor unbounded keys in memory.
type Account = [u8; 32];

/// The limiters of one instance.
pub struct Limits {
    signin_address: DefaultKeyedRateLimiter<Address>,
    /// Per account *and* address: the strict limit, so that one attacker cannot lock an
    /// account's owner out by failing on purpose from elsewhere.
    signin_account: DefaultKeyedRateLimiter<(Account, Address)>,
    /// Per account from anywhere: a ceiling ten times as loose, against guessing one
    /// account's password from many addresses.
    signin_account_total: DefaultKeyedRateLimiter<Account>,
    register_address: DefaultKeyedRateLimiter<Address>,
    coupon_address: DefaultKeyedRateLimiter<Address>,
    coupon_user: DefaultKeyedRateLimiter<UserId>,
    config: RateLimits,
}

impl std::fmt::Debug for Limits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limits")
            .field("per_minute", &self.config)
            .field("tracked", &self.tracked())
            .finish_non_exhaustive()
    }
}

impl Limits {
    pub fn new(config: RateLimits) -> Self {
        fn limiter<K: Hash + Eq + Clone>(n: NonZeroU32) -> DefaultKeyedRateLimiter<K> {
            DefaultKeyedRateLimiter::keyed(Quota::per_minute(n))
        }
        Self {
            signin_address: limiter(config.signin_per_address),
            signin_account: limiter(config.signin_per_account),
            signin_account_total: limiter(
                config
                    .signin_per_account
                    .saturating_mul(NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN)),
            ),
            register_address: limiter(config.register_per_address),
            coupon_address: limiter(config.coupon_per_address),
            coupon_user: limiter(config.coupon_per_user),
            config,
        }
    }

    /// One sign-in attempt (token, session or form) for `email` from `client`.
    pub fn sign_in(&self, client: IpAddr, email: &str) -> AppResult<()> {
        let client = address(client);
        let account = account(email);
        check(&self.signin_address, &client, "signin_per_address")?;
        check(
            &self.signin_account,
            &(account, client),
            "signin_per_account",
        )?;
        check(
            &self.signin_account_total,
            &account,
            "signin_per_account_total",
        )
    }

    /// One registration from `client`.
    pub fn register(&self, client: IpAddr) -> AppResult<()> {
        check(
            &self.register_address,
            &address(client),
            "register_per_address",
        )
    }

    /// One checkout carrying a coupon code, by `user` from `client`.
    pub fn coupon(&self, client: IpAddr, user: UserId) -> AppResult<()> {
        check(&self.coupon_address, &address(client), "coupon_per_address")?;
        check(&self.coupon_user, &user, "coupon_per_user")
    }

    /// Keys (addresses, accounts, users) held right now, over all limiters: their memory.
    pub fn tracked(&self) -> usize {
        self.signin_address.len()
            + self.signin_account.len()
            + self.signin_account_total.len()
            + self.register_address.len()
            + self.coupon_address.len()
            + self.coupon_user.len()
    }

    /// Forgets keys whose allowance is whole again (run every minute).
    pub fn retain_recent(&self) {
        self.signin_address.retain_recent();
        self.signin_account.retain_recent();
        self.signin_account_total.retain_recent();
        self.register_address.retain_recent();
        self.coupon_address.retain_recent();
        self.coupon_user.retain_recent();
    }
}

fn check<K: Hash + Eq + Clone>(
    limiter: &DefaultKeyedRateLimiter<K>,
    key: &K,
    limit: &'static str,
) -> AppResult<()> {
    limiter.check_key(key).map_err(|not_until| {
        let retry_after = whole_seconds(not_until.wait_time_from(DefaultClock::default().now()));
        tracing::info!(limit, retry_after, "rate limit reached");
        AppError::RateLimited { retry_after }
    })
}

/// A wait as `Retry-After` says it: whole seconds, rounded up, at least one.
fn whole_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

fn address(ip: IpAddr) -> Address {
    match ip.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & !0 << 64)),
        v4 => v4,
    }
}

/// The account an attempt names, normalized as sign-in looks it up.
fn account(email: &str) -> Account {
    Sha256::digest(email.trim().to_lowercase().as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits_with(per_account: u32, per_address: u32) -> Limits {
        Limits::new(RateLimits {
            signin_per_account: NonZeroU32::new(per_account).unwrap(),
            signin_per_address: NonZeroU32::new(per_address).unwrap(),
            ..RateLimits::default()
        })
    }

    fn limits(per_minute: u32) -> Limits {
        let n = NonZeroU32::new(per_minute).unwrap();
        Limits::new(RateLimits {
            signin_per_address: n,
            signin_per_account: n,
            register_per_address: n,
            coupon_per_address: n,
            coupon_per_user: n,
        })
    }

    #[test]
    fn an_ipv6_slash_64_is_one_client() {
        let limits = limits(2);
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        limits.register(a).unwrap();
        limits.register(b).unwrap();
        let Err(AppError::RateLimited { retry_after }) = limits.register(a) else {
            panic!("the third registration from one /64 is refused");
        };
        assert!((1..=30).contains(&retry_after), "{retry_after}");
        limits.register(other).unwrap();
        assert_eq!(limits.tracked(), 2, "one key per /64");
        limits.retain_recent();
        assert_eq!(limits.tracked(), 2, "keys still counting are kept");
    }

    #[test]
    fn accounts_are_counted_by_their_normalized_address() {
        let limits = limits_with(1, 100);
        limits
            .sign_in("192.0.2.1".parse().unwrap(), "Ann@Example.com")
            .unwrap();
        assert!(matches!(
            limits.sign_in("192.0.2.1".parse().unwrap(), " ann@example.com "),
            Err(AppError::RateLimited { .. })
        ));
        limits
            .sign_in("192.0.2.1".parse().unwrap(), "bob@example.com")
            .unwrap();
        // From elsewhere the account is not locked for its owner, up to the looser ceiling
        // of ten times the per-address allowance.
        let limits = limits_with(1, 100);
        for i in 1..=10 {
            let from: IpAddr = format!("192.0.2.{i}").parse().unwrap();
            limits.sign_in(from, "ann@example.com").unwrap();
        }
        assert!(matches!(
            limits.sign_in("192.0.2.11".parse().unwrap(), "ann@example.com"),
            Err(AppError::RateLimited { .. })
        ));
    }

    #[test]
    fn retry_after_is_whole_seconds_rounded_up() {
        assert_eq!(whole_seconds(Duration::ZERO), 1);
        assert_eq!(whole_seconds(Duration::from_millis(1200)), 2);
        assert_eq!(whole_seconds(Duration::from_secs(6)), 6);
    }
}
