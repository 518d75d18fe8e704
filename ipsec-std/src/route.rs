//! Routes into the TUN device for the protected subnets, and the default-route lookup behind
//! `left=%defaultroute`.
//!
//! Both go through iproute2's `ip` command (`ip route add/del`, `ip -j route show default`,
//! `ip -j addr show`): it is on every Linux gateway, its JSON output is stable, and a failed
//! command's stderr is the clearest error a user can get. The routes are few and change only
//! when a CHILD SA comes or goes, so a process per change costs nothing that matters. (Netlink
//! through a crate would save the fork but add a dependency tree for no user-visible gain.)
//!
//! [`add_route`] registers the matching `ip route del` with a [`Cleanup`], so every route we
//! add is removed again on exit, on SIGTERM (via [`crate::shutdown`]) and on panic.

use std::fmt;
use std::io;
use std::net::IpAddr;
use std::process::Command;

use serde_json::Value;

use crate::cleanup::{Cleanup, CleanupId};
use crate::subnet::Subnet;

/// The `ip` program (iproute2). Found through `PATH`.
pub const IP_COMMAND: &str = "ip";

/// A route to a protected subnet through a device (normally our TUN device).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// The destination network.
    pub destination: Subnet,
    /// The outgoing device, e.g. `ipsec0`.
    pub device: String,
    /// Preferred source address for locally originated traffic (`src`), normally our own
    /// address inside the local protected subnet, so the host's own packets match the policy.
    pub source: Option<IpAddr>,
    /// Route metric; `None` leaves the kernel default.
    pub metric: Option<u32>,
    /// Routing table; `None` is the main table.
    pub table: Option<u32>,
}

impl Route {
    /// A plain route to `destination` via `device`.
    #[must_use]
    pub fn new(destination: Subnet, device: impl Into<String>) -> Self {
        Self {
            destination,
            device: device.into(),
            source: None,
            metric: None,
            table: None,
        }
    }

    /// The arguments after `ip route add|del`.
    fn args(&self) -> Vec<String> {
        let mut a = vec![
            self.destination.to_string(),
            "dev".to_owned(),
            self.device.clone(),
        ];
        if let Some(src) = self.source {
            a.extend(["src".to_owned(), src.to_string()]);
        }
        if let Some(m) = self.metric {
            a.extend(["metric".to_owned(), m.to_string()]);
        }
        if let Some(t) = self.table {
            a.extend(["table".to_owned(), t.to_string()]);
        }
        a
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "route {}", self.args().join(" "))
    }
}

/// A route or address command failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum RouteError {
    /// `ip` could not be started (not installed?).
    Spawn {
        /// The command line.
        command: String,
        /// The OS error.
        source: io::Error,
    },
    /// `ip` ran and failed.
    Failed {
        /// The command line.
        command: String,
        /// Its exit code (`None`: killed by a signal).
        status: Option<i32>,
        /// What it printed on stderr, trimmed.
        stderr: String,
    },
    /// `ip` printed something we could not read.
    Parse {
        /// The command line.
        command: String,
        /// What was missing or wrong.
        reason: &'static str,
    },
}

impl fmt::Display for RouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Spawn { command, source } => write!(f, "cannot run `{command}`: {source}"),
            Self::Failed {
                command,
                status: Some(code),
                stderr,
            } => {
                write!(f, "`{command}` failed with exit code {code}: {stderr}")
            }
            Self::Failed {
                command,
                status: None,
                stderr,
            } => write!(f, "`{command}` was killed: {stderr}"),
            Self::Parse { command, reason } => write!(f, "cannot read the output of `{command}`: {reason}"),
        }
    }
}

impl std::error::Error for RouteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Spawn { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Runs `ip <args>` and returns its stdout.
fn run_ip<S: AsRef<str>>(args: &[S]) -> Result<String, RouteError> {
    let command = std::iter::once(IP_COMMAND)
        .chain(args.iter().map(AsRef::as_ref))
        .collect::<Vec<_>>()
        .join(" ");
    let out = Command::new(IP_COMMAND)
        .args(args.iter().map(AsRef::as_ref))
        .output()
        .map_err(|source| RouteError::Spawn {
            command: command.clone(),
            source,
        })?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(RouteError::Failed {
            command,
            status: out.status.code(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        })
    }
}

/// Adds `route` (`ip route add`, which refuses to replace an existing route) and registers its
/// removal with `cleanup`.
///
/// # Errors
/// [`RouteError`] with `ip`'s message (e.g. "File exists" if the route is already there,
/// "Cannot find device" if the device is gone). Nothing is registered then.
pub fn add_route(route: &Route, cleanup: &mut Cleanup) -> Result<CleanupId, RouteError> {
    let mut args = vec!["route".to_owned(), "add".to_owned()];
    args.extend(route.args());
    run_ip(&args)?;
    tracing::info!(%route, "added");
    let undo = route.clone();
    Ok(cleanup.push(route.to_string(), move || {
        delete_route(&undo).map_err(io::Error::other)
    }))
}

/// Adds `addr` as a host address of `device` (`ip addr add <addr>/32 dev <device>`, /128 for
/// IPv6), e.g. the virtual IP a gateway assigned us, and registers its removal with `cleanup`.
///
/// # Errors
/// [`RouteError`] with `ip`'s message. Nothing is registered then.
pub fn add_address(addr: IpAddr, device: &str, cleanup: &mut Cleanup) -> Result<CleanupId, RouteError> {
    let spec = format!("{addr}/{}", if addr.is_ipv6() { 128 } else { 32 });
    run_ip(&["addr", "add", spec.as_str(), "dev", device])?;
    tracing::info!(address = %spec, device, "added");
    let device = device.to_owned();
    Ok(cleanup.push(format!("address {spec} on {device}"), move || {
        run_ip(&["addr", "del", spec.as_str(), "dev", device.as_str()])
            .map(|_| ())
            .map_err(io::Error::other)
    }))
}

/// Deletes `route` (`ip route del`).
///
/// # Errors
/// [`RouteError`] with `ip`'s message ("No such process" if the route is not there).
pub fn delete_route(route: &Route) -> Result<(), RouteError> {
    let mut args = vec!["route".to_owned(), "del".to_owned()];
    args.extend(route.args());
    run_ip(&args).map(|_| ())
}

/// Where `%defaultroute` comes from: the host's routing table, or a fixed answer in tests.
pub trait RouteLookup {
    /// The local address of the interface that carries the default route of the family
    /// (IPv6 if `ipv6`), `None` if there is no default route.
    ///
    /// # Errors
    /// The routing table could not be read.
    fn default_source(&self, ipv6: bool) -> Result<Option<IpAddr>, RouteError>;

    /// True if `ip` is an address of this host (decides which end of an `ipsec.conf`
    /// connection is ours).
    ///
    /// # Errors
    /// The addresses could not be read.
    fn is_local_address(&self, ip: IpAddr) -> Result<bool, RouteError>;
}

/// Reads the host's routing table with `ip -j route show default` and `ip -j addr show`.
///
/// Picks the default route with the lowest metric; its `prefsrc` if it has one, else the first
/// global-scope address of its device (what strongSwan's `%defaultroute` means).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemRoutes;

impl RouteLookup for SystemRoutes {
    fn default_source(&self, ipv6: bool) -> Result<Option<IpAddr>, RouteError> {
        let family = if ipv6 { "-6" } else { "-4" };
        let routes = run_ip(&["-j", family, "route", "show", "default"])?;
        let Some((dev, prefsrc)) = parse_default_route(&routes).map_err(|reason| RouteError::Parse {
            command: format!("{IP_COMMAND} -j {family} route show default"),
            reason,
        })?
        else {
            return Ok(None);
        };
        if prefsrc.is_some() {
            return Ok(prefsrc);
        }
        let addrs = run_ip(&["-j", family, "addr", "show", "dev", dev.as_str()])?;
        parse_global_address(&addrs, ipv6).map_err(|reason| RouteError::Parse {
            command: format!("{IP_COMMAND} -j {family} addr show dev {dev}"),
            reason,
        })
    }

    fn is_local_address(&self, ip: IpAddr) -> Result<bool, RouteError> {
        let addrs = run_ip(&["-j", "addr", "show"])?;
        all_addresses(&addrs)
            .map(|all| all.contains(&ip))
            .map_err(|reason| RouteError::Parse {
                command: format!("{IP_COMMAND} -j addr show"),
                reason,
            })
    }
}

/// A fixed answer, for tests and for hosts where the caller knows better.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StaticRoutes {
    /// Default-route source address for IPv4.
    pub v4: Option<IpAddr>,
    /// Default-route source address for IPv6.
    pub v6: Option<IpAddr>,
    /// Further addresses of "this host" (the two above count as local too).
    pub local: Vec<IpAddr>,
}

impl RouteLookup for StaticRoutes {
    fn default_source(&self, ipv6: bool) -> Result<Option<IpAddr>, RouteError> {
        Ok(if ipv6 { self.v6 } else { self.v4 })
    }

    fn is_local_address(&self, ip: IpAddr) -> Result<bool, RouteError> {
        Ok(self.v4 == Some(ip) || self.v6 == Some(ip) || self.local.contains(&ip))
    }
}

/// From `ip -j addr show`: every address of every interface.
fn all_addresses(json: &str) -> Result<Vec<IpAddr>, &'static str> {
    let v: Value = serde_json::from_str(json).map_err(|_| "not JSON")?;
    let mut out = Vec::new();
    for link in v.as_array().ok_or("not a JSON array")? {
        for info in link
            .get("addr_info")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(ip) = info
                .get("local")
                .and_then(Value::as_str)
                .and_then(|s| s.parse().ok())
            {
                out.push(ip);
            }
        }
    }
    Ok(out)
}

/// From `ip -j route show default`: (device, prefsrc) of the lowest-metric default route.
fn parse_default_route(json: &str) -> Result<Option<(String, Option<IpAddr>)>, &'static str> {
    let v: Value = serde_json::from_str(json).map_err(|_| "not JSON")?;
    let routes = v.as_array().ok_or("not a JSON array")?;
    let best = routes
        .iter()
        .filter(|r| r.get("dst").and_then(Value::as_str) == Some("default"))
        .min_by_key(|r| r.get("metric").and_then(Value::as_u64).unwrap_or(0));
    let Some(best) = best else { return Ok(None) };
    let dev = best
        .get("dev")
        .and_then(Value::as_str)
        .ok_or("default route without a device")?;
    let prefsrc = match best.get("prefsrc").and_then(Value::as_str) {
        Some(s) => Some(s.parse().map_err(|_| "prefsrc is not an IP address")?),
        None => None,
    };
    Ok(Some((dev.to_owned(), prefsrc)))
}

/// From `ip -j addr show dev X`: the first global-scope address of the family.
fn parse_global_address(json: &str, ipv6: bool) -> Result<Option<IpAddr>, &'static str> {
    let v: Value = serde_json::from_str(json).map_err(|_| "not JSON")?;
    let family = if ipv6 { "inet6" } else { "inet" };
    for link in v.as_array().ok_or("not a JSON array")? {
        let Some(infos) = link.get("addr_info").and_then(Value::as_array) else {
            continue;
        };
        for info in infos {
            if info.get("family").and_then(Value::as_str) != Some(family)
                || info.get("scope").and_then(Value::as_str) != Some("global")
                || info.get("tentative").is_some()
                || info.get("deprecated").is_some()
            {
                continue;
            }
            let local = info
                .get("local")
                .and_then(Value::as_str)
                .ok_or("address without `local`")?;
            return local
                .parse()
                .map(Some)
                .map_err(|_| "`local` is not an IP address");
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_arguments() {
        let mut r = Route::new("192.168.20.0/24".parse().unwrap(), "ipsec0");
        assert_eq!(r.to_string(), "route 192.168.20.0/24 dev ipsec0");
        r.source = Some("192.168.10.1".parse().unwrap());
        r.metric = Some(50);
        r.table = Some(220);
        assert_eq!(
            r.to_string(),
            "route 192.168.20.0/24 dev ipsec0 src 192.168.10.1 metric 50 table 220"
        );
    }

    #[test]
    fn default_route_with_and_without_prefsrc() {
        let plain = r#"[{"dst":"default","gateway":"192.0.2.1","dev":"eth0","flags":[]}]"#;
        assert_eq!(parse_default_route(plain), Ok(Some(("eth0".to_owned(), None))));
        let two = r#"[{"dst":"default","gateway":"10.0.0.1","dev":"wlan0","metric":600,"flags":[]},
                      {"dst":"default","gateway":"10.1.0.1","dev":"eth1","metric":100,"prefsrc":"10.1.0.7","flags":[]}]"#;
        assert_eq!(
            parse_default_route(two),
            Ok(Some(("eth1".to_owned(), Some("10.1.0.7".parse().unwrap()))))
        );
        assert_eq!(parse_default_route("[]"), Ok(None));
        assert_eq!(parse_default_route("{}"), Err("not a JSON array"));
        assert_eq!(parse_default_route("garbage"), Err("not JSON"));
        assert_eq!(
            parse_default_route(r#"[{"dst":"default"}]"#),
            Err("default route without a device")
        );
    }

    #[test]
    fn first_global_address_of_the_family() {
        let json = r#"[{"ifindex":2,"ifname":"eth0","addr_info":[
            {"family":"inet6","local":"fe80::1","prefixlen":64,"scope":"link"},
            {"family":"inet6","local":"2001:db8::9","prefixlen":64,"scope":"global","tentative":true},
            {"family":"inet6","local":"2001:db8::2","prefixlen":64,"scope":"global"},
            {"family":"inet","local":"192.0.2.2","prefixlen":24,"scope":"global"}]}]"#;
        assert_eq!(
            parse_global_address(json, false),
            Ok(Some("192.0.2.2".parse().unwrap()))
        );
        assert_eq!(
            parse_global_address(json, true),
            Ok(Some("2001:db8::2".parse().unwrap()))
        );
        assert_eq!(parse_global_address("[]", false), Ok(None));
    }

    #[test]
    fn static_lookup_answers_per_family() {
        let s = StaticRoutes {
            v4: Some("198.51.100.7".parse().unwrap()),
            v6: None,
            local: vec!["10.0.0.1".parse().unwrap()],
        };
        assert_eq!(
            s.default_source(false).unwrap(),
            Some("198.51.100.7".parse().unwrap())
        );
        assert_eq!(s.default_source(true).unwrap(), None);
        assert!(s.is_local_address("198.51.100.7".parse().unwrap()).unwrap());
        assert!(s.is_local_address("10.0.0.1".parse().unwrap()).unwrap());
        assert!(!s.is_local_address("10.0.0.2".parse().unwrap()).unwrap());
    }

    #[test]
    fn system_lookup_reads_this_host() {
        // Whatever this host has, the lookup must succeed and, if it finds an address, give one
        // of the right family. (Every machine these tests run on has iproute2.)
        for ipv6 in [false, true] {
            match SystemRoutes.default_source(ipv6) {
                Ok(Some(ip)) => assert_eq!(ip.is_ipv6(), ipv6),
                Ok(None) => {}
                Err(e) => panic!("{e}"),
            }
        }
        // Loopback is an address of every host.
        assert!(
            SystemRoutes
                .is_local_address("127.0.0.1".parse().unwrap())
                .unwrap()
        );
        assert!(
            !SystemRoutes
                .is_local_address("203.0.113.254".parse().unwrap())
                .unwrap()
        );
    }

    #[test]
    fn every_address_of_every_link() {
        let json = r#"[{"ifname":"lo","addr_info":[{"family":"inet","local":"127.0.0.1"}]},
                       {"ifname":"eth0","addr_info":[{"family":"inet6","local":"fd00::2"},{"family":"inet"}]},
                       {"ifname":"tun0"}]"#;
        let want: Vec<IpAddr> = vec!["127.0.0.1".parse().unwrap(), "fd00::2".parse().unwrap()];
        assert_eq!(all_addresses(json), Ok(want));
    }
}
