//! The TOML configuration format.
//!
//! ```toml
//! # One [[connection]] table per connection.
//! [[connection]]
//! name = "site-to-site-vpn"
//! mode = "tunnel"                       # "tunnel" (default) | "transport"
//! auto = "start"                        # "ignore" (default) | "add" | "route" | "start"
//! ike = "aes256-sha2_256-modp1024!"     # strongSwan proposal syntax; "!" = strict
//! esp = "aes256-sha2_256!"              # default: "aes128-sha256-modp3072" / "aes128-sha256"
//! allow_weak = ["modp1024"]             # required for every weak algorithm offered ("modp1024", "sha1")
//! keying_tries = "forever"              # a count (default 3), 0 or "forever"
//! ike_lifetime = "1h"                   # times: "30s", "9m", "1.5h", "1d", or seconds as an integer
//! lifetime = "8h"                       # CHILD SA (default 1h)
//! margin_time = "9m"                    # default 9m
//! rekey_fuzz = 100                      # percent (default 100)
//! dpd_delay = "30s"                     # default 30s; 0 = no DPD messages of our own
//! dpd_timeout = "120s"                  # default 150s
//! dpd_action = "restart"                # "none" (default) | "clear" | "hold" | "restart"
//! force_encaps = false                  # default false
//! fragmentation = "yes"                 # "yes" (default) | "accept" | "no"
//!
//! [connection.local]
//! address = "%defaultroute"             # IP, DNS name, "%any" (default), "%any4", "%any6", "%defaultroute"
//! id = "192.0.2.10"                     # strongSwan identity syntax; default: the address
//! subnets = ["192.168.10.0/24"]         # default: the address itself
//! auth = "psk"                          # "psk" | "pubkey" (default)
//! # cert = "certs/gw-a.pem"             # relative to this file's directory
//! # request_address = true              # ask the gateway for an internal address (%config)
//!
//! [connection.remote]
//! address = "198.51.100.20"
//! subnets = ["192.168.20.0/24"]
//! auth = "psk"
//! # pool = "10.3.0.0/24"                # remote end only: hand it an internal address from this
//! #                                     # subnet (configuration payload); its selector is then that
//! #                                     # address unless subnets are given
//! # dns = ["10.3.0.1"]                  # DNS servers sent along with the address
//!
//! # Driver settings (optional table; these are the defaults).
//! [driver]
//! mss_clamp = true                      # clamp the MSS of TCP SYNs through the tunnel
//! path_mtu = 1500                       # MTU of the path the ESP-in-UDP packets take
//!
//! # One [[secret]] table per secret.
//! [[secret]]
//! type = "psk"                          # "psk" | "rsa" | "ecdsa"
//! ids = ["192.0.2.10", "198.51.100.20"] # identity selectors; empty or absent: any
//! secret = "a long random secret"       # or secret_hex = "5e8f..."
//!
//! [[secret]]
//! type = "ecdsa"
//! path = "private/gw-a.pem"             # relative to this file's directory
//! # passphrase = "..."
//! ```
//!
//! The field names are the model's ([`super::Connection`], [`super::End`], [`super::Secret`]);
//! values use the same syntax and rules as `ipsec.conf` (shared parsers), so both formats load
//! into identical models. Unknown fields are errors with their line. Unlike `ipsec.conf`, a
//! weak algorithm must be listed in `allow_weak`, and `auto` defaults to `"ignore"` the same way
//! (a connection that should do something says so).

use std::ops::Range;
use std::path::Path;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::duration::format_duration;
use super::values;
use super::{
    AuthMethod, Auto, Config, ConfigError, ConfigErrorKind, Connection, DpdAction, End, EndAddress,
    Fragmentation, KeyKind, KeyingTries, Loaded, Mode, Secret, SharedKey, WeakAlgorithm, default_route,
};
use crate::route::RouteLookup;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileIn {
    driver: Option<Spanned<DriverIn>>,
    #[serde(default)]
    connection: Vec<Spanned<ConnIn>>,
    #[serde(default)]
    secret: Vec<Spanned<SecretIn>>,
}

type S = Spanned<String>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DriverIn {
    mss_clamp: Option<bool>,
    path_mtu: Option<Spanned<u16>>,
}

/// The smallest path MTU accepted: IPv4's minimum datagram size (RFC 791).
const MIN_PATH_MTU: u16 = 576;

/// A time value: a string with unit, or an integer of seconds.
#[derive(Deserialize)]
#[serde(untagged)]
enum TimeIn {
    Secs(u64),
    Text(String),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum TriesIn {
    Count(u64),
    Text(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConnIn {
    name: S,
    mode: Option<S>,
    auto: Option<S>,
    ike: Option<S>,
    esp: Option<S>,
    allow_weak: Option<Spanned<Vec<String>>>,
    keying_tries: Option<Spanned<TriesIn>>,
    ike_lifetime: Option<Spanned<TimeIn>>,
    lifetime: Option<Spanned<TimeIn>>,
    margin_time: Option<Spanned<TimeIn>>,
    rekey_fuzz: Option<Spanned<u32>>,
    dpd_delay: Option<Spanned<TimeIn>>,
    dpd_timeout: Option<Spanned<TimeIn>>,
    dpd_action: Option<S>,
    force_encaps: Option<bool>,
    fragmentation: Option<S>,
    local: Spanned<EndIn>,
    remote: Spanned<EndIn>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EndIn {
    address: Option<S>,
    id: Option<S>,
    subnets: Option<Spanned<Vec<String>>>,
    auth: Option<S>,
    cert: Option<S>,
    pool: Option<S>,
    dns: Option<Spanned<Vec<String>>>,
    request_address: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretIn {
    #[serde(rename = "type")]
    kind: S,
    ids: Option<Spanned<Vec<String>>>,
    secret: Option<S>,
    secret_hex: Option<S>,
    path: Option<S>,
    passphrase: Option<S>,
}

/// Maps byte offsets to 1-based lines.
struct Lines<'a> {
    text: &'a str,
    file: &'a Path,
}

impl Lines<'_> {
    fn line(&self, span: Range<usize>) -> usize {
        let upto = self.text.get(..span.start).unwrap_or(self.text);
        upto.bytes().filter(|b| *b == b'\n').count().saturating_add(1)
    }

    fn err<T>(&self, v: &Spanned<T>, key: &str, kind: ConfigErrorKind) -> ConfigError {
        ConfigError::new(self.file, Some(self.line(v.span())), Some(key), kind)
    }

    /// Applies a shared value parser to a spanned string.
    fn val<T>(
        &self,
        v: &S,
        key: &str,
        f: impl Fn(&str) -> Result<T, ConfigErrorKind>,
    ) -> Result<T, ConfigError> {
        f(v.get_ref()).map_err(|k| self.err(v, key, k))
    }

    fn opt<T>(
        &self,
        v: Option<&S>,
        key: &str,
        f: impl Fn(&str) -> Result<T, ConfigErrorKind>,
    ) -> Result<Option<T>, ConfigError> {
        v.map(|v| self.val(v, key, f)).transpose()
    }

    fn time(
        &self,
        v: Option<&Spanned<TimeIn>>,
        key: &str,
    ) -> Result<Option<std::time::Duration>, ConfigError> {
        v.map(|t| match t.get_ref() {
            TimeIn::Secs(s) => values::time(&s.to_string()).map_err(|k| self.err(t, key, k)),
            TimeIn::Text(s) => values::time(s).map_err(|k| self.err(t, key, k)),
        })
        .transpose()
    }
}

/// Parses TOML text (see the module docs).
pub(crate) fn parse(text: &str, file: &Path, routes: &dyn RouteLookup) -> Result<Loaded, ConfigError> {
    let raw: FileIn = toml::from_str(text).map_err(|e| {
        let lines = Lines { text, file };
        let line = e.span().map(|s| lines.line(s));
        // The key is what precedes `=` on that line (for a wrong value's type as much as for
        // an unknown or duplicate key).
        let key = line
            .and_then(|l| text.lines().nth(l.saturating_sub(1)))
            .and_then(|l| l.split_once('='))
            .map(|(k, _)| k.trim().trim_matches('"').to_owned())
            .filter(|k| !k.is_empty());
        let kind = if e.message().starts_with("unknown field") {
            ConfigErrorKind::UnknownKey
        } else {
            ConfigErrorKind::Syntax(e.message().to_owned())
        };
        ConfigError {
            file: file.to_owned(),
            line,
            key,
            kind,
        }
    })?;
    let lines = Lines { text, file };
    let base = file.parent().unwrap_or(Path::new("."));
    let mut config = Config::default();
    if let Some(d) = &raw.driver {
        let d = d.get_ref();
        if let Some(on) = d.mss_clamp {
            config.mss.enabled = on;
        }
        if let Some(mtu) = &d.path_mtu {
            if *mtu.get_ref() < MIN_PATH_MTU {
                return Err(ConfigError {
                    file: file.to_owned(),
                    line: Some(lines.line(mtu.span())),
                    key: Some("path_mtu".to_owned()),
                    kind: ConfigErrorKind::InvalidValue {
                        value: mtu.get_ref().to_string(),
                        reason: format!("a path MTU is at least {MIN_PATH_MTU} bytes"),
                    },
                });
            }
            config.mss.path_mtu = *mtu.get_ref();
        }
    }
    let mut key_lines = Vec::new();
    for c in &raw.connection {
        let r = c.get_ref();
        let at = |v: Option<&S>| v.map(|v| lines.line(v.span()));
        let conn_line = lines.line(r.name.span());
        key_lines.push([
            ("name", Some(conn_line)),
            ("ike", at(r.ike.as_ref())),
            ("esp", at(r.esp.as_ref())),
            ("auto", at(r.auto.as_ref())),
            ("fragmentation", at(r.fragmentation.as_ref())),
            (
                "margin_time",
                r.margin_time.as_ref().map(|m| lines.line(m.span())),
            ),
            ("", Some(conn_line)),
        ]);
        config.connections.push(connection(r, &lines, base, routes)?);
    }
    for s in &raw.secret {
        config.secrets.push(secret(s, &lines, base)?);
    }
    if let Err((i, key, kind)) = config.check() {
        let key = match key {
            "ikelifetime" => "ike_lifetime",
            "margintime" => "margin_time",
            k => k,
        };
        // The line of the key at fault, else of the connection's name.
        let line = key_lines.get(i).and_then(|k| {
            k.iter()
                .find(|(n, _)| *n == key)
                .and_then(|(_, l)| *l)
                .or(k.last().and_then(|(_, l)| *l))
        });
        return Err(ConfigError::new(file, line, Some(key), kind));
    }
    Ok(Loaded {
        config,
        warnings: Vec::new(),
    })
}

fn end<'e>(e: &'e EndIn, lines: &Lines<'_>, base: &Path) -> Result<(End, Option<&'e S>), ConfigError> {
    let mut out = End::default();
    let mut default = None;
    if let Some(a) = &e.address {
        match lines.val(a, "address", values::address)? {
            Some(addr) => out.address = addr,
            None => default = Some(a),
        }
    }
    out.id = lines.opt(e.id.as_ref(), "id", values::identity)?;
    if let Some(s) = &e.subnets {
        out.subnets = values::subnets(&s.get_ref().join(",")).map_err(|k| lines.err(s, "subnets", k))?;
    }
    if let Some(a) = lines.opt(e.auth.as_ref(), "auth", values::end_auth)? {
        out.auth = a;
    }
    out.cert = lines.opt(e.cert.as_ref(), "cert", |v| values::path_under(base, v))?;
    out.pool = lines.opt(e.pool.as_ref(), "pool", values::pool)?;
    if let Some(d) = &e.dns {
        out.dns = values::addresses(&d.get_ref().join(",")).map_err(|k| lines.err(d, "dns", k))?;
    }
    out.request_address = e.request_address.unwrap_or(false);
    Ok((out, default))
}

fn connection(
    c: &ConnIn,
    lines: &Lines<'_>,
    base: &Path,
    routes: &dyn RouteLookup,
) -> Result<Connection, ConfigError> {
    if c.name.get_ref().trim().is_empty() || c.name.get_ref().chars().any(char::is_whitespace) {
        return Err(lines.err(
            &c.name,
            "name",
            values::invalid(c.name.get_ref(), "a name without spaces"),
        ));
    }
    let (mut local, local_default) = end(c.local.get_ref(), lines, base)?;
    let (mut remote, remote_default) = end(c.remote.get_ref(), lines, base)?;
    let wants_v6 = |a: &EndAddress| matches!(a, EndAddress::AnyV6) || a.ip().is_some_and(|ip| ip.is_ipv6());
    let (local_v6, remote_v6) = (wants_v6(&remote.address), wants_v6(&local.address));
    for (e, d, v6) in [
        (&mut local, local_default, local_v6),
        (&mut remote, remote_default, remote_v6),
    ] {
        if let Some(span) = d {
            e.address = EndAddress::Ip(default_route(routes, v6).map_err(|k| lines.err(span, "address", k))?);
        }
    }
    let mut conn = Connection::new(c.name.get_ref().clone(), local, remote);
    if let Some(m) = lines.opt(c.mode.as_ref(), "mode", values::mode)? {
        conn.mode = m;
    }
    if let Some(a) = lines.opt(c.auto.as_ref(), "auto", values::auto)? {
        conn.auto = a;
    }
    if let Some(p) = lines.opt(c.ike.as_ref(), "ike", values::ike)? {
        conn.ike = p;
    }
    if let Some(p) = lines.opt(c.esp.as_ref(), "esp", values::esp)? {
        conn.esp = p;
    }
    if let Some(w) = &c.allow_weak {
        for name in w.get_ref() {
            let alg = WeakAlgorithm::from_name(name).ok_or_else(|| {
                lines.err(
                    w,
                    "allow_weak",
                    values::invalid(name, "expected \"modp1024\" or \"sha1\""),
                )
            })?;
            if !conn.allow_weak.contains(&alg) {
                conn.allow_weak.push(alg);
            }
        }
        conn.allow_weak.sort_unstable();
    }
    if let Some(t) = &c.keying_tries {
        conn.keying_tries = match t.get_ref() {
            TriesIn::Count(n) => values::keying_tries(&n.to_string()),
            TriesIn::Text(s) => values::keying_tries(s),
        }
        .map_err(|k| lines.err(t, "keying_tries", k))?;
    }
    if let Some(d) = lines.time(c.ike_lifetime.as_ref(), "ike_lifetime")? {
        conn.ike_lifetime = d;
    }
    if let Some(d) = lines.time(c.lifetime.as_ref(), "lifetime")? {
        conn.lifetime = d;
    }
    if let Some(d) = lines.time(c.margin_time.as_ref(), "margin_time")? {
        conn.margin_time = d;
    }
    if let Some(f) = &c.rekey_fuzz {
        conn.rekey_fuzz_percent = *f.get_ref();
    }
    if let Some(d) = lines.time(c.dpd_delay.as_ref(), "dpd_delay")? {
        conn.dpd.delay = d;
    }
    if let Some(d) = lines.time(c.dpd_timeout.as_ref(), "dpd_timeout")? {
        conn.dpd.timeout = d;
    }
    if let Some(a) = lines.opt(c.dpd_action.as_ref(), "dpd_action", values::dpd_action)? {
        conn.dpd.action = a;
    }
    if let Some(f) = c.force_encaps {
        conn.force_encaps = f;
    }
    if let Some(f) = lines.opt(c.fragmentation.as_ref(), "fragmentation", values::fragmentation)? {
        conn.fragmentation = f;
    }
    Ok(conn)
}

fn secret(s: &Spanned<SecretIn>, lines: &Lines<'_>, base: &Path) -> Result<Secret, ConfigError> {
    let r = s.get_ref();
    let ids = match &r.ids {
        Some(ids) => ids
            .get_ref()
            .iter()
            .map(|i| values::identity(i).map_err(|k| lines.err(ids, "ids", k)))
            .collect::<Result<Vec<_>, _>>()?,
        None => Vec::new(),
    };
    let hidden = |reason: &str| ConfigErrorKind::InvalidValue {
        value: "<secret>".to_owned(),
        reason: reason.to_owned(),
    };
    let only = |present: &[(&str, bool)], kind: &str| -> Result<(), ConfigError> {
        match present.iter().find(|(_, p)| *p) {
            Some((field, _)) => Err(lines.err(
                s,
                field,
                ConfigErrorKind::Syntax(format!("`{field}` does not belong to a {kind} secret")),
            )),
            None => Ok(()),
        }
    };
    match r.kind.get_ref().as_str() {
        "psk" => {
            only(
                &[("path", r.path.is_some()), ("passphrase", r.passphrase.is_some())],
                "psk",
            )?;
            let key = match (&r.secret, &r.secret_hex) {
                (Some(t), None) => t.get_ref().as_bytes().to_vec(),
                (None, Some(h)) => decode_hex(h.get_ref()).ok_or_else(|| {
                    lines.err(h, "secret_hex", hidden("expected an even number of hex digits"))
                })?,
                _ => {
                    return Err(lines.err(
                        s,
                        "secret",
                        ConfigErrorKind::Missing("exactly one of `secret` and `secret_hex`".into()),
                    ));
                }
            };
            if key.is_empty() {
                return Err(lines.err(s, "secret", hidden("empty PSK")));
            }
            Ok(Secret::Psk {
                ids,
                key: SharedKey::new(key),
            })
        }
        k @ ("rsa" | "ecdsa") => {
            only(
                &[
                    ("secret", r.secret.is_some()),
                    ("secret_hex", r.secret_hex.is_some()),
                ],
                k,
            )?;
            let path = r.path.as_ref().ok_or_else(|| {
                lines.err(
                    s,
                    "path",
                    ConfigErrorKind::Missing("`path` of the key file".into()),
                )
            })?;
            Ok(Secret::PrivateKey {
                ids,
                kind: if k == "rsa" { KeyKind::Rsa } else { KeyKind::Ecdsa },
                path: lines.val(path, "path", |v| values::path_under(base, v))?,
                passphrase: r
                    .passphrase
                    .as_ref()
                    .map(|p| SharedKey::new(p.get_ref().as_bytes().to_vec())),
            })
        }
        other => Err(lines.err(
            &r.kind,
            "type",
            values::invalid(other, "expected \"psk\", \"rsa\" or \"ecdsa\""),
        )),
    }
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.is_empty() || s.len() % 2 != 0 {
        return None;
    }
    s.as_bytes()
        .chunks(2)
        .map(|p| {
            std::str::from_utf8(p)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
        })
        .collect()
}

// ---- writing ---------------------------------------------------------------------------------

#[derive(Serialize)]
struct FileOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    driver: Option<DriverOut>,
    connection: Vec<ConnOut>,
    secret: Vec<SecretOut>,
}

#[derive(Serialize)]
struct DriverOut {
    mss_clamp: bool,
    path_mtu: u16,
}

#[derive(Serialize)]
struct ConnOut {
    name: String,
    mode: &'static str,
    auto: &'static str,
    ike: String,
    esp: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    allow_weak: Vec<&'static str>,
    keying_tries: TriesOut,
    ike_lifetime: String,
    lifetime: String,
    margin_time: String,
    rekey_fuzz: u32,
    dpd_delay: String,
    dpd_timeout: String,
    dpd_action: &'static str,
    force_encaps: bool,
    fragmentation: &'static str,
    local: EndOut,
    remote: EndOut,
}

#[derive(Serialize)]
#[serde(untagged)]
enum TriesOut {
    Count(u32),
    Text(&'static str),
}

#[derive(Serialize)]
struct EndOut {
    address: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    subnets: Vec<String>,
    auth: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    cert: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pool: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    dns: Vec<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    request_address: bool,
}

#[derive(Serialize)]
struct SecretOut {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ids: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_hex: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    passphrase: Option<String>,
}

fn end_out(e: &End) -> EndOut {
    EndOut {
        address: e.address.to_string(),
        id: e.id.as_ref().map(ToString::to_string),
        subnets: e.subnets.iter().map(ToString::to_string).collect(),
        auth: match e.auth {
            AuthMethod::Psk => "psk",
            AuthMethod::PubKey => "pubkey",
        },
        cert: e.cert.as_ref().map(|p| p.display().to_string()),
        pool: e.pool.as_ref().map(ToString::to_string),
        dns: e.dns.iter().map(ToString::to_string).collect(),
        request_address: e.request_address,
    }
}

/// A secret as TOML text if it is printable text that survives a round trip, else hex.
fn key_out(k: &SharedKey) -> (Option<String>, Option<String>) {
    match std::str::from_utf8(k.expose()) {
        Ok(s) if !s.chars().any(char::is_control) => (Some(s.to_owned()), None),
        _ => (
            None,
            Some(k.expose().iter().map(|b| format!("{b:02x}")).collect()),
        ),
    }
}

/// Writes `config` in this format.
pub(crate) fn write(config: &Config) -> String {
    let connection = config
        .connections
        .iter()
        .map(|c| ConnOut {
            name: c.name.clone(),
            mode: match c.mode {
                Mode::Tunnel => "tunnel",
                Mode::Transport => "transport",
            },
            auto: match c.auto {
                Auto::Ignore => "ignore",
                Auto::Add => "add",
                Auto::Route => "route",
                Auto::Start => "start",
            },
            ike: c.ike.to_string(),
            esp: c.esp.to_string(),
            allow_weak: c.allow_weak.iter().map(|w| w.name()).collect(),
            keying_tries: match c.keying_tries {
                KeyingTries::Forever => TriesOut::Text("forever"),
                KeyingTries::Limited(n) => TriesOut::Count(n.get()),
            },
            ike_lifetime: format_duration(c.ike_lifetime),
            lifetime: format_duration(c.lifetime),
            margin_time: format_duration(c.margin_time),
            rekey_fuzz: c.rekey_fuzz_percent,
            dpd_delay: format_duration(c.dpd.delay),
            dpd_timeout: format_duration(c.dpd.timeout),
            dpd_action: match c.dpd.action {
                DpdAction::None => "none",
                DpdAction::Clear => "clear",
                DpdAction::Hold => "hold",
                DpdAction::Restart => "restart",
            },
            force_encaps: c.force_encaps,
            fragmentation: match c.fragmentation {
                Fragmentation::Yes => "yes",
                Fragmentation::Accept => "accept",
                Fragmentation::Force => "force",
                Fragmentation::No => "no",
            },
            local: end_out(&c.local),
            remote: end_out(&c.remote),
        })
        .collect();
    let secret = config
        .secrets
        .iter()
        .map(|s| match s {
            Secret::Psk { ids, key } => {
                let (secret, secret_hex) = key_out(key);
                SecretOut {
                    kind: "psk",
                    ids: ids.iter().map(ToString::to_string).collect(),
                    secret,
                    secret_hex,
                    path: None,
                    passphrase: None,
                }
            }
            Secret::PrivateKey {
                ids,
                kind,
                path,
                passphrase,
            } => SecretOut {
                kind: match kind {
                    KeyKind::Rsa => "rsa",
                    KeyKind::Ecdsa => "ecdsa",
                },
                ids: ids.iter().map(ToString::to_string).collect(),
                secret: None,
                secret_hex: None,
                path: Some(path.display().to_string()),
                passphrase: passphrase
                    .as_ref()
                    .map(|p| String::from_utf8_lossy(p.expose()).into_owned()),
            },
        })
        .collect();
    // Serializing plain strings, numbers and tables cannot fail.
    // The [driver] table only when it differs from the defaults.
    let driver = (config.mss != crate::mss::MssClamping::default()).then_some(DriverOut {
        mss_clamp: config.mss.enabled,
        path_mtu: config.mss.path_mtu,
    });
    toml::to_string(&FileOut {
        driver,
        connection,
        secret,
    })
    .unwrap_or_default()
}
