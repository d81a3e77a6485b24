//! Names the platform keeps for itself: no storefront may take them as its slug.
//!
//! A storefront's slug is also its subdomain (`{slug}.{base domain}`), so a storefront called
//! `www`, `login` or `mail` would sit at an address people trust as the platform's own — a
//! phishing page with the platform's name in the address bar, or a host that receives mail
//! or cookies meant for the platform. These names are refused when someone applies for a
//! storefront ([`Slug::parse_storefront`](crate::Slug::parse_storefront)), and
//! [`host::resolve`](crate::host::resolve) never reads them as a tenant, so even a
//! storefront created before a name was reserved is not served under it.
//!
//! The list is deliberately broad; adding a name later only blocks new applications.

/// Subdomain labels that never name a storefront, sorted.
pub const RESERVED_SLUGS: &[&str] = &[
    "account",
    "accounts",
    "admin",
    "administrator",
    "api",
    "app",
    "apps",
    "assets",
    "auth",
    "autoconfig",
    "autodiscover",
    "billing",
    "blog",
    "cdn",
    "checkout",
    "content",
    "dashboard",
    "dev",
    "docs",
    "email",
    "ftp",
    "help",
    "imap",
    "login",
    "logout",
    "lyceum",
    "mail",
    "metrics",
    "mx",
    "ns1",
    "ns2",
    "oauth",
    "pay",
    "payments",
    "platform",
    "pop",
    "pop3",
    "root",
    "s",
    "sandbox",
    "security",
    "signin",
    "signup",
    "smtp",
    "sso",
    "staging",
    "static",
    "status",
    "studio",
    "support",
    "team",
    "teams",
    "test",
    "webhooks",
    "webmail",
    "www",
];

/// Whether `label` (compared without regard to ASCII case) is kept for the platform.
pub fn is_reserved(label: &str) -> bool {
    let label = label.to_ascii_lowercase();
    RESERVED_SLUGS.binary_search(&label.as_str()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_sorted_unique_and_lower_case() {
        // `binary_search` needs the order; a duplicate or an upper-case entry is a typo.
        assert!(RESERVED_SLUGS.windows(2).all(|w| w[0] < w[1]));
        assert!(RESERVED_SLUGS.iter().all(|s| {
            s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        }));
    }

    #[test]
    fn the_platforms_own_names_are_reserved() {
        for name in [
            "www", "api", "admin", "app", "static", "assets", "cdn", "content", "mail", "smtp",
            "imap", "status", "help", "support", "docs", "blog", "login", "auth", "account",
            "billing", "pay", "checkout", "webhooks", "sandbox", "studio", "team", "teams",
            "platform", "lyceum", "metrics", "s", "WWW",
        ] {
            assert!(is_reserved(name), "{name} should be reserved");
        }
        for name in ["school", "rust-101", "www2", "apis", "my-blog"] {
            assert!(!is_reserved(name), "{name} should be free");
        }
    }
}
