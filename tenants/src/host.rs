//! Finding the storefront a browser asked for from its `Host` header.
//!
//! `school.example.com` with base domain `example.com` names the tenant `school`;
//! any other host that is not the base domain itself is looked up as a custom domain.

use crate::Slug;

/// What a `Host` header points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostTarget {
    /// The platform itself (the base domain, an IP address, `localhost`, or no base domain set).
    Platform,
    /// `{slug}.{base domain}`.
    Subdomain(Slug),
    /// A domain an instructor pointed at the platform; look it up by name.
    CustomDomain(String),
}

/// Resolves a `Host` header value (port allowed) against the configured base domain.
pub fn resolve(host: &str, base_domain: Option<&str>) -> HostTarget {
    let host = strip_port(host).trim_end_matches('.').to_ascii_lowercase();
    let Some(base) = base_domain.map(|b| b.trim_end_matches('.').to_ascii_lowercase()) else {
        return HostTarget::Platform;
    };
    if host.is_empty()
        || host == base
        || host == "localhost"
        || host.parse::<std::net::IpAddr>().is_ok()
    {
        return HostTarget::Platform;
    }
    if let Some(label) = host
        .strip_suffix(&base)
        .and_then(|rest| rest.strip_suffix('.'))
    {
        return match Slug::parse_storefront(label) {
            Ok(slug) => HostTarget::Subdomain(slug),
            // A reserved name (`www.`, `api.`, `mail.` …) or a nested name under our own
            // domain is the platform, never a tenant.
            Err(_) => HostTarget::Platform,
        };
    }
    HostTarget::CustomDomain(host)
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        // An IPv6 literal: `[::1]:8080`.
        return host
            .split(']')
            .next()
            .map_or(host, |h| h.trim_start_matches('['));
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: Option<&str> = Some("lyceum.test");

    #[test]
    fn subdomains_name_tenants() {
        assert_eq!(
            resolve("rust-school.lyceum.test:8080", BASE),
            HostTarget::Subdomain(Slug::parse("rust-school").unwrap())
        );
        assert_eq!(
            resolve("Rust-School.LYCEUM.test.", BASE),
            HostTarget::Subdomain(Slug::parse("rust-school").unwrap())
        );
    }

    #[test]
    fn the_base_domain_and_addresses_are_the_platform() {
        assert_eq!(resolve("lyceum.test", BASE), HostTarget::Platform);
        assert_eq!(resolve("127.0.0.1:8080", BASE), HostTarget::Platform);
        assert_eq!(resolve("[::1]:8080", BASE), HostTarget::Platform);
        assert_eq!(resolve("a.b.lyceum.test", BASE), HostTarget::Platform);
        assert_eq!(resolve("anything.example", None), HostTarget::Platform);
    }

    #[test]
    fn reserved_subdomains_are_the_platform() {
        for host in [
            "www.lyceum.test",
            "API.lyceum.test:8080",
            "mail.lyceum.test",
            "login.lyceum.test.",
            "s.lyceum.test",
        ] {
            assert_eq!(resolve(host, BASE), HostTarget::Platform, "{host}");
        }
    }

    #[test]
    fn other_hosts_are_custom_domains() {
        assert_eq!(
            resolve("courses.example.org:443", BASE),
            HostTarget::CustomDomain("courses.example.org".into())
        );
        // A look-alike suffix is not our subdomain.
        assert_eq!(
            resolve("evillyceum.test", BASE),
            HostTarget::CustomDomain("evillyceum.test".into())
        );
    }
}
