//! Value parsers shared by the `ipsec.conf` importer and the TOML loader. Each returns the
//! model value or a [`ConfigErrorKind`]; the caller adds file, line and key.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::duration::parse_duration;
use super::proposals::{self, EspProposal, IkeProposal, ProposalList};
use super::{
    AuthMethod, Auto, ConfigErrorKind, DpdAction, EndAddress, Fragmentation, Identity, KeyingTries, Mode,
};
use crate::subnet::Subnet;

pub(crate) fn invalid(value: &str, reason: impl Into<String>) -> ConfigErrorKind {
    ConfigErrorKind::InvalidValue {
        value: value.to_owned(),
        reason: reason.into(),
    }
}

/// `left=`/`right=`: an address, `%any`, `%any4`, `%any6`, a DNS name, or `%defaultroute`
/// (returned as `None`, for the caller to resolve).
pub(crate) fn address(v: &str) -> Result<Option<EndAddress>, ConfigErrorKind> {
    match v {
        "%defaultroute" => return Ok(None),
        "%any" | "" => return Ok(Some(EndAddress::Any)),
        "%any4" => return Ok(Some(EndAddress::AnyV4)),
        "%any6" => return Ok(Some(EndAddress::AnyV6)),
        _ => {}
    }
    if v.contains(',') {
        return Err(ConfigErrorKind::Unsupported(format!(
            "several addresses in one end ({v:?})"
        )));
    }
    if v.starts_with('%') {
        return Err(ConfigErrorKind::Unsupported(format!(
            "{v:?}: only %any, %any4, %any6 and %defaultroute are"
        )));
    }
    if v.contains('/') || (v.contains('-') && !is_hostname(v)) {
        return Err(ConfigErrorKind::Unsupported(format!(
            "address ranges and subnets as an end ({v:?})"
        )));
    }
    if let Ok(ip) = v.parse() {
        return Ok(Some(EndAddress::Ip(ip)));
    }
    if is_hostname(v) {
        return Ok(Some(EndAddress::Host(v.to_owned())));
    }
    Err(invalid(v, "not an IP address, DNS name, %any or %defaultroute"))
}

fn is_hostname(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 253
        && v.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        && v.bytes().any(|b| b.is_ascii_alphabetic())
}

/// `leftsubnet=`: comma-separated subnets.
pub(crate) fn subnets(v: &str) -> Result<Vec<Subnet>, ConfigErrorKind> {
    let mut out = Vec::new();
    for part in v.split(',').map(str::trim) {
        if part.contains('[') {
            return Err(ConfigErrorKind::Unsupported(format!(
                "protocol/port selectors ({part:?})"
            )));
        }
        if part.starts_with('%') {
            return Err(ConfigErrorKind::Unsupported(format!("{part:?} as a subnet")));
        }
        if part.contains('-') {
            return Err(ConfigErrorKind::Unsupported(format!("address ranges ({part:?})")));
        }
        let s: Subnet = part
            .parse()
            .map_err(|e: crate::subnet::SubnetError| invalid(part, e.reason))?;
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out)
}

/// `leftsourceip=`/`rightsourceip=`: ask for an address (`%config`, `%cfg`, `%modeconfig`)
/// or one subnet to hand addresses out of. Static addresses, ranges and named pools are not
/// supported.
pub(crate) fn source_ip(v: &str) -> Result<SourceIp, ConfigErrorKind> {
    if matches!(v, "%config" | "%cfg" | "%modeconfig") {
        return Ok(SourceIp::Request);
    }
    if v.starts_with('%') {
        return Err(ConfigErrorKind::Unsupported(format!("{v:?} as a source IP")));
    }
    match subnets(v)?.as_slice() {
        [one] => Ok(SourceIp::Pool(*one)),
        _ => Err(invalid(v, "%config, or one subnet to hand addresses out of")),
    }
}

/// A `sourceip=` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SourceIp {
    /// `%config`: ask for an address.
    Request,
    /// Hand addresses out of this subnet.
    Pool(Subnet),
}

/// The TOML `pool = "<subnet>"` value: [`source_ip`] without `%config`.
pub(crate) fn pool(v: &str) -> Result<Subnet, ConfigErrorKind> {
    match source_ip(v)? {
        SourceIp::Pool(s) => Ok(s),
        SourceIp::Request => Err(invalid(v, "a subnet (ask for an address with request_address)")),
    }
}

/// `rightdns=`: comma-separated IP addresses.
pub(crate) fn addresses(v: &str) -> Result<Vec<IpAddr>, ConfigErrorKind> {
    v.split(',')
        .map(str::trim)
        .map(|a| a.parse().map_err(|_| invalid(a, "an IP address")))
        .collect()
}

pub(crate) fn identity(v: &str) -> Result<Identity, ConfigErrorKind> {
    Identity::parse(v).map_err(|e| invalid(v, e.reason))
}

pub(crate) fn yes_no(v: &str) -> Result<bool, ConfigErrorKind> {
    match v {
        "yes" | "true" => Ok(true),
        "no" | "false" => Ok(false),
        _ => Err(invalid(v, "expected yes or no")),
    }
}

pub(crate) fn mode(v: &str) -> Result<Mode, ConfigErrorKind> {
    match v {
        "tunnel" => Ok(Mode::Tunnel),
        "transport" => Ok(Mode::Transport),
        "transport_proxy" | "passthrough" | "pass" | "drop" | "reject" => Err(ConfigErrorKind::Unsupported(
            format!("type={v} (only tunnel and transport)"),
        )),
        _ => Err(invalid(v, "expected tunnel or transport")),
    }
}

/// `authby=` (both ends).
pub(crate) fn authby(v: &str) -> Result<AuthMethod, ConfigErrorKind> {
    match v {
        "secret" | "psk" => Ok(AuthMethod::Psk),
        "pubkey" | "rsasig" | "ecdsasig" => Ok(AuthMethod::PubKey),
        "never" | "xauthpsk" | "xauthrsasig" => Err(ConfigErrorKind::Unsupported(format!("authby={v}"))),
        _ => Err(invalid(v, "expected secret, psk, pubkey, rsasig or ecdsasig")),
    }
}

/// `leftauth=` / TOML `auth` (one end).
pub(crate) fn end_auth(v: &str) -> Result<AuthMethod, ConfigErrorKind> {
    match v {
        "psk" | "secret" => Ok(AuthMethod::Psk),
        "pubkey" | "rsa" | "ecdsa" => Ok(AuthMethod::PubKey),
        _ if v.starts_with("eap") || v.starts_with("xauth") || v.contains('-') || v.starts_with("ike:") => {
            Err(ConfigErrorKind::Unsupported(format!(
                "authentication {v:?} (psk and pubkey are)"
            )))
        }
        _ => Err(invalid(v, "expected psk or pubkey")),
    }
}

pub(crate) fn auto(v: &str) -> Result<Auto, ConfigErrorKind> {
    match v {
        "ignore" => Ok(Auto::Ignore),
        "add" => Ok(Auto::Add),
        "route" => Ok(Auto::Route),
        "start" => Ok(Auto::Start),
        _ => Err(invalid(v, "expected ignore, add, route or start")),
    }
}

pub(crate) fn dpd_action(v: &str) -> Result<DpdAction, ConfigErrorKind> {
    match v {
        "none" => Ok(DpdAction::None),
        "clear" => Ok(DpdAction::Clear),
        "hold" => Ok(DpdAction::Hold),
        "restart" => Ok(DpdAction::Restart),
        _ => Err(invalid(v, "expected none, clear, hold or restart")),
    }
}

pub(crate) fn fragmentation(v: &str) -> Result<Fragmentation, ConfigErrorKind> {
    match v {
        "yes" => Ok(Fragmentation::Yes),
        "accept" => Ok(Fragmentation::Accept),
        "force" => Ok(Fragmentation::Force),
        "no" => Ok(Fragmentation::No),
        _ => Err(invalid(v, "expected yes, accept, force or no")),
    }
}

/// `keyingtries=`: a count, `%forever`, or 0 (= forever, as strongSwan reads it).
pub(crate) fn keying_tries(v: &str) -> Result<KeyingTries, ConfigErrorKind> {
    if v == "%forever" || v == "forever" {
        return Ok(KeyingTries::Forever);
    }
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(v, "expected a whole number or %forever"));
    }
    let n: u32 = v.parse().map_err(|_| invalid(v, "too large"))?;
    Ok(NonZeroU32::new(n).map_or(KeyingTries::Forever, KeyingTries::Limited))
}

/// `rekeyfuzz=`: a percentage (`100%`; the `%` is optional in TOML).
pub(crate) fn percent(v: &str) -> Result<u32, ConfigErrorKind> {
    let digits = v.strip_suffix('%').unwrap_or(v);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(v, "expected a percentage such as 100%"));
    }
    digits.parse().map_err(|_| invalid(v, "too large"))
}

pub(crate) fn time(v: &str) -> Result<Duration, ConfigErrorKind> {
    parse_duration(v).map_err(|e| invalid(v, e.0))
}

pub(crate) fn ike(v: &str) -> Result<ProposalList<IkeProposal>, ConfigErrorKind> {
    proposals::parse_ike_proposals(v).map_err(|e| invalid(v, e.to_string()))
}

pub(crate) fn esp(v: &str) -> Result<ProposalList<EspProposal>, ConfigErrorKind> {
    proposals::parse_esp_proposals(v).map_err(|e| invalid(v, e.to_string()))
}

/// A file named in a config: absolute as given, else relative to `base`.
pub(crate) fn path_under(base: &Path, v: &str) -> Result<PathBuf, ConfigErrorKind> {
    if v.is_empty() {
        return Err(invalid(v, "empty path"));
    }
    if v.starts_with('%') {
        return Err(ConfigErrorKind::Unsupported(format!(
            "{v:?} (smartcards); give a file"
        )));
    }
    let p = Path::new(v);
    Ok(if p.is_absolute() {
        p.to_owned()
    } else {
        base.join(p)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert!(matches!(address("%defaultroute"), Ok(None)));
        assert!(matches!(address("%any"), Ok(Some(EndAddress::Any))));
        assert!(matches!(address("%any6"), Ok(Some(EndAddress::AnyV6))));
        assert!(matches!(address("192.0.2.1"), Ok(Some(EndAddress::Ip(_)))));
        assert!(matches!(address("2001:db8::1"), Ok(Some(EndAddress::Ip(_)))));
        assert!(
            matches!(address("vpn-b.example.net"), Ok(Some(EndAddress::Host(ref h))) if h == "vpn-b.example.net")
        );
        assert!(matches!(
            address("10.0.0.0/8"),
            Err(ConfigErrorKind::Unsupported(_))
        ));
        assert!(matches!(
            address("10.0.0.1-10.0.0.9"),
            Err(ConfigErrorKind::Unsupported(_))
        ));
        assert!(matches!(
            address("1.2.3.4,5.6.7.8"),
            Err(ConfigErrorKind::Unsupported(_))
        ));
        assert!(matches!(
            address("%192.0.2.1"),
            Err(ConfigErrorKind::Unsupported(_))
        ));
        assert!(matches!(
            address("not an address"),
            Err(ConfigErrorKind::InvalidValue { .. })
        ));
        assert!(matches!(
            address("300.1.1.1"),
            Err(ConfigErrorKind::InvalidValue { .. })
        ));
    }

    #[test]
    fn subnet_lists() {
        let s = subnets("192.168.10.0/24, 10.1.0.0/16,2001:db8::/64").unwrap();
        assert_eq!(s.len(), 3);
        assert_eq!(s[1].to_string(), "10.1.0.0/16");
        assert!(matches!(
            subnets("10.0.0.1[tcp/http]"),
            Err(ConfigErrorKind::Unsupported(_))
        ));
        assert!(matches!(
            subnets("10.0.0.1-10.0.0.5"),
            Err(ConfigErrorKind::Unsupported(_))
        ));
        assert!(matches!(
            subnets("%dynamic"),
            Err(ConfigErrorKind::Unsupported(_))
        ));
        assert!(matches!(
            subnets("10.0.0.0/40"),
            Err(ConfigErrorKind::InvalidValue { .. })
        ));
        assert!(matches!(
            subnets("10.0.0.0/8,"),
            Err(ConfigErrorKind::InvalidValue { .. })
        ));
    }

    #[test]
    fn small_enums_and_numbers() {
        assert!(matches!(keying_tries("0"), Ok(KeyingTries::Forever)));
        assert!(matches!(keying_tries("%forever"), Ok(KeyingTries::Forever)));
        assert!(matches!(keying_tries("5"), Ok(KeyingTries::Limited(n)) if n.get() == 5));
        assert!(
            keying_tries("-1").is_err()
                && keying_tries("many").is_err()
                && keying_tries("99999999999").is_err()
        );
        assert_eq!(percent("100%").ok(), Some(100));
        assert_eq!(percent("250").ok(), Some(250));
        assert!(percent("1.5%").is_err());
        assert!(matches!(authby("secret"), Ok(AuthMethod::Psk)));
        assert!(matches!(authby("ecdsasig"), Ok(AuthMethod::PubKey)));
        assert!(matches!(authby("xauthpsk"), Err(ConfigErrorKind::Unsupported(_))));
        assert!(matches!(
            end_auth("eap-mschapv2"),
            Err(ConfigErrorKind::Unsupported(_))
        ));
        assert!(matches!(
            mode("passthrough"),
            Err(ConfigErrorKind::Unsupported(_))
        ));
        assert!(matches!(fragmentation("accept"), Ok(Fragmentation::Accept)));
        assert!(matches!(dpd_action("restart"), Ok(DpdAction::Restart)));
        assert!(matches!(auto("start"), Ok(Auto::Start)));
        assert!(auto("later").is_err() && yes_no("maybe").is_err());
        assert_eq!(
            path_under(Path::new("/etc/ipsec.d/certs"), "a.pem").ok(),
            Some(PathBuf::from("/etc/ipsec.d/certs/a.pem"))
        );
        assert_eq!(
            path_under(Path::new("/x"), "/abs/a.pem").ok(),
            Some(PathBuf::from("/abs/a.pem"))
        );
    }
}
