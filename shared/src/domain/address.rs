//! Which network addresses the service may call on a merchant's behalf. A webhook URL is
//! chosen by the merchant, so without this rule it could make us reach our own metadata
//! service or private network (SSRF). Checked when the URL is registered and again at every
//! connection, because a name can resolve differently later (DNS rebinding).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether a webhook may reach `ip`: a public address; with private webhooks allowed (local
/// development: loopback and private test receivers) any address but link-local and metadata.
pub fn webhook_may_reach(ip: IpAddr, allow_private: bool) -> bool {
    !is_link_local_or_metadata(ip) && (allow_private || is_public(ip))
}

/// `true` for what no webhook may reach, whatever the settings: link-local addresses (the
/// cloud metadata service answers at 169.254.169.254) and the metadata services' other
/// addresses (AWS's `fd00:ec2::254`, Alibaba's `100.100.100.200`). Nothing a developer tests
/// against lives there, and a credential endpoint must never be one request away.
pub fn is_link_local_or_metadata(ip: IpAddr) -> bool {
    let v4 = |v4: Ipv4Addr| v4.is_link_local() || v4 == Ipv4Addr::new(100, 100, 100, 200);
    match ip {
        IpAddr::V4(ip) => v4(ip),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(ip) => v4(ip),
            None => (v6.segments()[0] & 0xffc0) == 0xfe80 || v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254),
        },
    }
}

/// `true` for a public unicast address; `false` for loopback, private, link-local (which
/// holds the cloud metadata service 169.254.169.254), shared/carrier-grade NAT, unspecified,
/// multicast, broadcast, documentation, relay and tunnel prefixes and other reserved ranges.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let reserved = ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 88 && c == 99) // former 6to4 relay anycast: a relay forwards for us
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240; // reserved for future use
    !reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    let reserved = ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local, includes the EC2 metadata fd00:ec2::254
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
        || first == 0x2001 && ip.segments()[1] == 0x0db8 // documentation
        || first == 0x0064 && ip.segments()[1] == 0xff9b // NAT64 can reach IPv4 private space
        || first == 0x2002 // 6to4: embeds any IPv4 address, private ones included
        || first == 0x2001 && ip.segments()[1] == 0x0000 // Teredo: tunnels to an embedded IPv4 address
        || ip.segments()[..6] == [0, 0, 0, 0, 0, 0]; // IPv4-compatible (deprecated)
    !reserved
}

#[cfg(test)]
mod tests {
    use super::{is_link_local_or_metadata, is_public, webhook_may_reach};

    #[test]
    fn internal_and_metadata_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "240.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip} must be refused");
        }
    }

    #[test]
    fn relay_and_tunnel_prefixes_are_not_public() {
        // 6to4 and Teredo embed an IPv4 address (private ones included) that a relay reaches
        // for us; 192.88.99.0/24 is the former 6to4 anycast relay range.
        for ip in ["2002:c0a8:0101::1", "2002:7f00:1::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001::1", "192.88.99.1", "::ffff:192.88.99.7"] {
            assert!(!is_public(ip.parse().unwrap()), "{ip} must be refused");
        }
        assert!(is_public("2001:4860:4860::8888".parse().unwrap()), "other 2001:: space stays public");
    }

    #[test]
    fn private_webhooks_reach_test_receivers_but_never_metadata() {
        for ip in ["127.0.0.1", "10.0.0.8", "192.168.1.1", "::1", "fd12::1"] {
            assert!(webhook_may_reach(ip.parse().unwrap(), true) && !webhook_may_reach(ip.parse().unwrap(), false), "{ip}");
        }
        for ip in ["169.254.169.254", "169.254.0.1", "100.100.100.200", "fe80::1", "fd00:ec2::254", "::ffff:169.254.169.254"] {
            assert!(is_link_local_or_metadata(ip.parse().unwrap()), "{ip}");
            assert!(!webhook_may_reach(ip.parse().unwrap(), true), "{ip} even with private allowed");
        }
    }

    #[test]
    fn ordinary_internet_addresses_are_public() {
        for ip in ["8.8.8.8", "1.1.1.1", "211.45.27.1", "2600:1f18::1", "::ffff:8.8.8.8"] {
            assert!(is_public(ip.parse().unwrap()), "{ip} must be allowed");
        }
    }
}
