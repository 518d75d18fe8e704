//! IKE identities as written in configs (`leftid=`, secrets selectors), RFC 7296 §3.5.
//!
//! The string rules are strongSwan's (ipsec.conf(5), "IDENTITY PARSING"), so a classic config
//! means the same identity here:
//! - contains `=`: a Distinguished Name (kept as text; matched against certificates later);
//! - `@#hex`: KEY_ID; `@@x`: RFC822 (user FQDN); `@x`: FQDN; other strings with `@`: RFC822;
//! - empty, `%any`, `%any6`, `0.0.0.0`, `::`, `*`: any identity;
//! - an IPv4 or IPv6 address: ID_IPV4_ADDR / ID_IPV6_ADDR;
//! - anything else: FQDN.
//!
//! Explicit prefixes `fqdn:`/`dns:`, `email:`/`rfc822:`/`userfqdn:`, `keyid:` (hex after `#`),
//! `asn1dn:`, `ipv4:`/`ipv6:` (an address in text) are accepted too. strongSwan's strings that
//! do not convert (an unparsable DN or IPv6 literal, which it silently turns into KEY_IDs) are
//! errors here.

use std::fmt;
use std::net::IpAddr;

/// An IKE identity (ID payload types, RFC 7296 §3.5).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Identity {
    /// Matches any identity (`%any`).
    Any,
    /// ID_IPV4_ADDR / ID_IPV6_ADDR.
    Ip(IpAddr),
    /// ID_FQDN, without the `@` prefix.
    Fqdn(String),
    /// ID_RFC822_ADDR (user@domain).
    Email(String),
    /// ID_DER_ASN1_DN, as text (`C=CH, O=Example, CN=gw`).
    Dn(String),
    /// ID_KEY_ID: opaque bytes.
    KeyId(Vec<u8>),
}

/// Why an identity string was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityError {
    /// The text.
    pub input: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl fmt::Display for IdentityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid identity {:?}: {}", self.input, self.reason)
    }
}

impl std::error::Error for IdentityError {}

fn hex(s: &str) -> Option<Vec<u8>> {
    let s = s.strip_prefix("0x").unwrap_or(s);
    if s.is_empty() || s.len() % 2 != 0 {
        return None;
    }
    s.as_bytes()
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
        })
        .collect()
}

impl Identity {
    /// Parses an identity string by the rules in the module docs.
    ///
    /// # Errors
    /// [`IdentityError`] for bad hex, an empty FQDN/e-mail, a malformed DN or IPv6 address.
    pub fn parse(s: &str) -> Result<Self, IdentityError> {
        let err = |reason| IdentityError {
            input: s.to_owned(),
            reason,
        };
        let s = s.trim();
        if let Some((prefix, rest)) = s.split_once(':') {
            let typed = match prefix {
                "fqdn" | "dns" => Some(Self::Fqdn(rest.to_owned())),
                "email" | "rfc822" | "userfqdn" => Some(Self::Email(rest.to_owned())),
                "asn1dn" => Some(Self::Dn(rest.to_owned())),
                "keyid" => Some(Self::KeyId(match rest.strip_prefix('#') {
                    Some(h) => hex(h).ok_or(err("keyid:# needs an even number of hex digits"))?,
                    None => rest.as_bytes().to_vec(),
                })),
                "ipv4" | "ipv6" => {
                    let ip: IpAddr = rest.parse().map_err(|_| err("not an IP address"))?;
                    if ip.is_ipv6() != (prefix == "ipv6") {
                        return Err(err("address family does not match the prefix"));
                    }
                    Some(Self::Ip(ip))
                }
                _ => None,
            };
            if let Some(id) = typed {
                return match &id {
                    Self::Fqdn(v) | Self::Email(v) | Self::Dn(v) if v.is_empty() => Err(err("empty value")),
                    _ => Ok(id),
                };
            }
        }
        if s.contains('=') {
            return Self::dn(s).ok_or(err("not a Distinguished Name (expected `C=.., O=.., CN=..`)"));
        }
        if let Some(h) = s.strip_prefix("@#") {
            return hex(h)
                .map(Self::KeyId)
                .ok_or(err("@# needs an even number of hex digits"));
        }
        if let Some(e) = s.strip_prefix("@@") {
            return if e.is_empty() {
                Err(err("empty e-mail identity"))
            } else {
                Ok(Self::Email(e.to_owned()))
            };
        }
        if let Some(f) = s.strip_prefix('@') {
            return if f.is_empty() {
                Err(err("empty FQDN identity"))
            } else {
                Ok(Self::Fqdn(f.to_owned()))
            };
        }
        if s.contains('@') {
            return Ok(Self::Email(s.to_owned()));
        }
        if matches!(s, "" | "%any" | "%any6" | "0.0.0.0" | "::" | "*") {
            return Ok(Self::Any);
        }
        if s.contains(':') {
            return s
                .parse()
                .map(Self::Ip)
                .map_err(|_| err("contains `:` but is not an IPv6 address"));
        }
        if let Ok(ip) = s.parse() {
            return Ok(Self::Ip(ip));
        }
        if s.chars().any(char::is_whitespace) {
            return Err(err("an FQDN cannot contain spaces"));
        }
        Ok(Self::Fqdn(s.to_owned()))
    }

    /// A DN needs at least one `attr=value` and nothing that is not one.
    fn dn(s: &str) -> Option<Self> {
        let body = s.strip_prefix('/').unwrap_or(s);
        let sep = if s.starts_with('/') { '/' } else { ',' };
        let ok = body.split(sep).all(|rdn| {
            rdn.split_once('=').is_some_and(|(a, v)| {
                let a = a.trim();
                !a.is_empty()
                    && a.chars().all(|c| c.is_ascii_alphanumeric() || c == '.')
                    && !v.trim().is_empty()
            })
        });
        ok.then(|| Self::Dn(s.to_owned()))
    }

    /// True for [`Identity::Any`].
    #[must_use]
    pub fn is_any(&self) -> bool {
        matches!(self, Self::Any)
    }
}

/// The form [`Identity::parse`] reads back to the same value.
impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Any => f.write_str("%any"),
            Self::Ip(ip) => write!(f, "{ip}"),
            Self::Fqdn(n) => write!(f, "@{n}"),
            Self::Email(e) => write!(f, "@@{e}"),
            Self::Dn(d) => write!(f, "asn1dn:{d}"),
            Self::KeyId(k) => {
                f.write_str("@#")?;
                k.iter().try_for_each(|b| write!(f, "{b:02x}"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strongswan_identity_rules() {
        let cases: Vec<(&str, Identity)> = vec![
            ("192.0.2.10", Identity::Ip("192.0.2.10".parse().unwrap())),
            ("2001:db8::1", Identity::Ip("2001:db8::1".parse().unwrap())),
            ("@gw.example", Identity::Fqdn("gw.example".into())),
            ("gw.example", Identity::Fqdn("gw.example".into())),
            ("moon", Identity::Fqdn("moon".into())),
            ("alice@example.org", Identity::Email("alice@example.org".into())),
            ("@@alice@example.org", Identity::Email("alice@example.org".into())),
            ("@#0a0b0c", Identity::KeyId(vec![10, 11, 12])),
            (
                "C=CH, O=strongSwan, CN=moon",
                Identity::Dn("C=CH, O=strongSwan, CN=moon".into()),
            ),
            (
                "/C=CH/O=strongSwan/CN=moon",
                Identity::Dn("/C=CH/O=strongSwan/CN=moon".into()),
            ),
            ("%any", Identity::Any),
            ("%any6", Identity::Any),
            ("0.0.0.0", Identity::Any),
            ("*", Identity::Any),
            ("fqdn:192.0.2.1", Identity::Fqdn("192.0.2.1".into())),
            ("keyid:#00ff", Identity::KeyId(vec![0, 255])),
            ("keyid:abc", Identity::KeyId(b"abc".to_vec())),
            ("email:bob@example.net", Identity::Email("bob@example.net".into())),
            ("ipv4:10.0.0.1", Identity::Ip("10.0.0.1".parse().unwrap())),
        ];
        for (text, want) in cases {
            let got = Identity::parse(text).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(got, want, "{text}");
            assert_eq!(Identity::parse(&got.to_string()).unwrap(), got, "{text} -> {got}");
        }
    }

    #[test]
    fn bad_identities_are_errors() {
        for (text, why) in [
            ("@#abc", "hex digits"),
            ("@#zz", "hex digits"),
            ("@", "empty FQDN"),
            ("@@", "empty e-mail"),
            ("fe80::zz", "not an IPv6 address"),
            ("C=CH, garbage", "Distinguished Name"),
            ("=x", "Distinguished Name"),
            ("ipv6:10.0.0.1", "family"),
            ("two words", "spaces"),
            ("fqdn:", "empty value"),
        ] {
            let e = Identity::parse(text).unwrap_err();
            assert!(e.to_string().contains(why), "{text}: {e}");
        }
    }
}
