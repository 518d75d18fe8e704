//! IP subnets (`192.168.10.0/24`, `2001:db8::/32`) as written in configs and route commands.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An IPv4 or IPv6 network: an address with its host bits cleared and a prefix length.
///
/// Parsing accepts `addr/prefix` and a bare address (a host: /32 or /128). Host bits in the
/// address are cleared (`192.168.10.7/24` is `192.168.10.0/24`), as strongSwan does with
/// `leftsubnet`, so a classic config means the same network here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Subnet {
    addr: IpAddr,
    prefix: u8,
}

/// A subnet string that is not `address[/prefix]` with a prefix the family allows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubnetError {
    /// The text that was rejected.
    pub input: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl fmt::Display for SubnetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid subnet {:?}: {}", self.input, self.reason)
    }
}

impl std::error::Error for SubnetError {}

impl Subnet {
    /// The network `addr/prefix`, host bits cleared.
    ///
    /// # Errors
    /// A prefix longer than 32 (IPv4) or 128 (IPv6).
    pub fn new(addr: IpAddr, prefix: u8) -> Result<Self, SubnetError> {
        let max = if addr.is_ipv6() { 128 } else { 32 };
        if prefix > max {
            return Err(SubnetError {
                input: format!("{addr}/{prefix}"),
                reason: "prefix length too long",
            });
        }
        let addr = match addr {
            IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from(u32::from(a) & v4_mask(prefix))),
            IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(u128::from(a) & v6_mask(prefix))),
        };
        Ok(Self { addr, prefix })
    }

    /// The subnet holding exactly `addr` (/32 or /128).
    #[must_use]
    pub fn host(addr: IpAddr) -> Self {
        Self {
            addr,
            prefix: if addr.is_ipv6() { 128 } else { 32 },
        }
    }

    /// The network address (host bits zero).
    #[must_use]
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length.
    #[must_use]
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// True for an IPv6 subnet.
    #[must_use]
    pub fn is_ipv6(&self) -> bool {
        self.addr.is_ipv6()
    }

    /// True if `ip` lies inside this subnet (never across families).
    #[must_use]
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => u32::from(ip) & v4_mask(self.prefix) == u32::from(net),
            (IpAddr::V6(net), IpAddr::V6(ip)) => u128::from(ip) & v6_mask(self.prefix) == u128::from(net),
            _ => false,
        }
    }

    /// The first and last address of the subnet (for IKE traffic selectors, RFC 7296 §3.13.1).
    #[must_use]
    pub fn range(&self) -> (IpAddr, IpAddr) {
        match self.addr {
            IpAddr::V4(net) => (
                self.addr,
                IpAddr::V4(Ipv4Addr::from(u32::from(net) | !v4_mask(self.prefix))),
            ),
            IpAddr::V6(net) => (
                self.addr,
                IpAddr::V6(Ipv6Addr::from(u128::from(net) | !v6_mask(self.prefix))),
            ),
        }
    }
}

fn v4_mask(prefix: u8) -> u32 {
    // prefix <= 32 is checked by the callers; 0 shifts out every bit.
    u32::MAX
        .checked_shl(32u32.saturating_sub(u32::from(prefix)))
        .unwrap_or(0)
}

fn v6_mask(prefix: u8) -> u128 {
    u128::MAX
        .checked_shl(128u32.saturating_sub(u32::from(prefix)))
        .unwrap_or(0)
}

impl FromStr for Subnet {
    type Err = SubnetError;

    fn from_str(s: &str) -> Result<Self, SubnetError> {
        let err = |reason| SubnetError {
            input: s.to_owned(),
            reason,
        };
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr.trim().parse().map_err(|_| err("not an IP address"))?;
        match prefix {
            None => Ok(Self::host(addr)),
            Some(p) => {
                let p = p.trim();
                if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(err("prefix length is not a number"));
                }
                let prefix: u8 = p.parse().map_err(|_| err("prefix length too long"))?;
                Self::new(addr, prefix).map_err(|e| err(e.reason))
            }
        }
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl Serialize for Subnet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Subnet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_networks_hosts_and_both_families() {
        let s: Subnet = "192.168.10.0/24".parse().unwrap();
        assert_eq!((s.addr(), s.prefix()), ("192.168.10.0".parse().unwrap(), 24));
        assert_eq!(s.to_string(), "192.168.10.0/24");
        let h: Subnet = "10.1.2.3".parse().unwrap();
        assert_eq!(h.to_string(), "10.1.2.3/32");
        let v6: Subnet = "2001:db8:1::/48".parse().unwrap();
        assert!(v6.is_ipv6());
        assert_eq!(v6.to_string(), "2001:db8:1::/48");
        assert_eq!("::1".parse::<Subnet>().unwrap().prefix(), 128);
        assert_eq!("0.0.0.0/0".parse::<Subnet>().unwrap().prefix(), 0);
    }

    #[test]
    fn clears_host_bits_like_strongswan() {
        assert_eq!(
            "192.168.10.7/24".parse::<Subnet>().unwrap().to_string(),
            "192.168.10.0/24"
        );
        assert_eq!(
            "2001:db8::1/64".parse::<Subnet>().unwrap().to_string(),
            "2001:db8::/64"
        );
        assert_eq!("10.9.9.9/0".parse::<Subnet>().unwrap().to_string(), "0.0.0.0/0");
    }

    #[test]
    fn rejects_bad_input_with_a_reason() {
        for (bad, why) in [
            ("192.168.10.0/33", "prefix length too long"),
            ("::/129", "prefix length too long"),
            ("10.0.0.0/300", "prefix length too long"),
            ("10.0.0.0/", "prefix length is not a number"),
            ("10.0.0.0/-1", "prefix length is not a number"),
            ("10.0.0/8", "not an IP address"),
            ("example.com/24", "not an IP address"),
            ("", "not an IP address"),
        ] {
            let e = bad.parse::<Subnet>().unwrap_err();
            assert_eq!(e.reason, why, "{bad}");
            assert_eq!(e.input, bad);
        }
    }

    #[test]
    fn contains_and_range() {
        let s: Subnet = "192.168.20.0/24".parse().unwrap();
        assert!(s.contains("192.168.20.255".parse().unwrap()));
        assert!(!s.contains("192.168.21.0".parse().unwrap()));
        assert!(!s.contains("::1".parse().unwrap()));
        assert_eq!(
            s.range(),
            ("192.168.20.0".parse().unwrap(), "192.168.20.255".parse().unwrap())
        );
        let all: Subnet = "::/0".parse().unwrap();
        assert!(all.contains("2001:db8::5".parse().unwrap()));
        assert_eq!(all.range().1, IpAddr::V6(Ipv6Addr::from(u128::MAX)));
    }
}
