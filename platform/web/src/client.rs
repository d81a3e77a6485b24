//! Who is asking: the client address that rate limits count by.
//!
//! The TCP peer is the client, unless the peer is one of the operator's trusted reverse
//! proxies (`LYCEUM_TRUSTED_PROXIES`). Then, and only then, `X-Forwarded-For` is read from
//! the right: each trusted hop appended the address it saw, so the right-most address that
//! is not itself a trusted proxy is the client. Anything left of it was written by the
//! client and proves nothing; a header from an untrusted peer is ignored whole.

use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;
use poem::Request;

use lyceum_domain::config::Settings;

/// The address of the client that sent `req`, as far as the trusted proxies vouch for it.
/// A peer without an IP address (a Unix socket) counts as `0.0.0.0`.
pub fn client_ip(req: &Request, settings: &Settings) -> IpAddr {
    let peer = req
        .remote_addr()
        .as_socket_addr()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok());
    resolve(peer, forwarded, &settings.trusted_proxies)
}

/// [`client_ip`] on its parts: the peer, the `X-Forwarded-For` header lines in the order
/// received, and the trusted networks.
fn resolve<'a>(
    peer: IpAddr,
    forwarded: impl DoubleEndedIterator<Item = &'a str>,
    trusted: &[IpNet],
) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(&ip));
    let mut client = peer.to_canonical();
    if !is_trusted(client) {
        return client;
    }
    for line in forwarded.rev() {
        for hop in line.rsplit(',') {
            // A hop that does not parse was not written by a proxy we trust: stop at the
            // last address one of them vouched for.
            let Some(ip) = parse_hop(hop) else {
                return client;
            };
            client = ip;
            if !is_trusted(ip) {
                return ip;
            }
        }
    }
    client
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`192.0.2.1:4711`,
/// `[2001:db8::1]:4711`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_the_header_says() {
        let got = resolve(ip("203.0.113.9"), ["198.51.100.1"].into_iter(), &[]);
        assert_eq!(got, ip("203.0.113.9"));
        let got = resolve(
            ip("203.0.113.9"),
            ["198.51.100.1"].into_iter(),
            &nets(&["10.0.0.0/8"]),
        );
        assert_eq!(got, ip("203.0.113.9"));
    }

    #[test]
    fn behind_trusted_proxies_the_right_most_untrusted_hop_is_the_client() {
        let trusted = nets(&["10.0.0.0/8", "127.0.0.1/32"]);
        // The client forged the first entry; 10.1.1.1 is a trusted inner proxy.
        let got = resolve(
            ip("127.0.0.1"),
            ["6.6.6.6, 198.51.100.7", "10.1.1.1"].into_iter(),
            &trusted,
        );
        assert_eq!(got, ip("198.51.100.7"));
        let got = resolve(ip("10.0.0.2"), ["[2001:db8::5]:4711"].into_iter(), &trusted);
        assert_eq!(got, ip("2001:db8::5"));
    }

    #[test]
    fn a_trusted_peer_without_a_usable_header_is_the_client() {
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(
            resolve(ip("10.0.0.2"), std::iter::empty(), &trusted),
            ip("10.0.0.2")
        );
        // Garbage right of any real address: nothing past the last trusted hop counts.
        assert_eq!(
            resolve(ip("10.0.0.2"), ["198.51.100.7, junk"].into_iter(), &trusted),
            ip("10.0.0.2")
        );
        // Every hop trusted: the left-most one is as far as we can see.
        assert_eq!(
            resolve(ip("10.0.0.2"), ["10.9.9.9, 10.0.0.3"].into_iter(), &trusted),
            ip("10.9.9.9")
        );
    }

    #[test]
    fn mapped_ipv4_peers_match_ipv4_networks() {
        let trusted = nets(&["127.0.0.1/32"]);
        let got = resolve(ip("::ffff:127.0.0.1"), ["192.0.2.4"].into_iter(), &trusted);
        assert_eq!(got, ip("192.0.2.4"));
    }
}
