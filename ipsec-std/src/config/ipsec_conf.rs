//! Import of strongSwan's classic `ipsec.conf` (ipsec.conf(5), strongSwan 5.9).
//!
//! # Syntax
//! Sections start in column 0: `conn <name>`, `config setup`. Parameters are indented
//! `key=value` lines (spaces around `=` allowed); `#` starts a comment at the beginning of a line
//! or after white space; values may be double-quoted (`\"`, `\\`, `\n`, `\t` escapes). An empty
//! value (`key=`) unsets the key, so the default (or nothing) applies.
//!
//! `conn %default` gives defaults to every connection; `also=<name>` inherits another
//! section's parameters (several `also` lines allowed, nested, defined before or after; the
//! section's own parameters always win, then later `also`s over earlier ones, then
//! `%default`). Connections with `auto=ignore` (the default) are not loaded, as in strongSwan;
//! their keys are still checked.
//!
//! # Keys
//! `type`, `authby`, `left`, `right` (an address, a DNS name, `%any`, `%any4`, `%any6`,
//! `%defaultroute`), `leftid`, `rightid`, `leftsubnet`, `rightsubnet` (comma lists),
//! `leftcert`, `rightcert`, `leftauth`, `rightauth`, `ike`, `esp` ([`super::proposals`]),
//! `keyexchange` (`ikev2`; `ike` with a warning; `ikev1` is an error), `keyingtries` (a count,
//! 0 or `%forever`), `ikelifetime`, `lifetime` (alias `keylife`), `margintime` (alias
//! `rekeymargin`), `rekeyfuzz`, `dpddelay`, `dpdtimeout`, `dpdaction`, `auto`, `forceencaps`,
//! `fragmentation`, `also`, `leftsourceip=%config` (ask the gateway for an internal address),
//! and for a gateway handing them out `rightsourceip` (one subnet) with `rightdns`.
//!
//! A few strongSwan keys are accepted when their value is what this peer does anyway
//! (`mobike=no`, `rekey=yes`, `reauth=no`, `compress=no`, `installpolicy=yes`, `aggressive=no`,
//! `leftsendcert=ifasked|always`); other values of them, and every other strongSwan key, are
//! "not supported" errors; unknown keys are "unknown key" errors. In `config setup`,
//! `charondebug`, `uniqueids` and `cachecrls` are ignored with a warning (logging is set through
//! `tracing`), `strictcrlpolicy=no` is accepted; anything else is an error. `ca` sections and
//! `include` are not supported.
//!
//! # Which end is ours
//! As in strongSwan: the end that is `%defaultroute` or an address of this host is local; if
//! only `right` is, the ends swap; otherwise `left` is local. `%defaultroute` becomes the
//! source address of the default route of the other end's family.
//!
//! # Files
//! Relative `leftcert`/`rightcert` paths are under `ipsec.d/certs/` beside the `ipsec.conf`
//! (`/etc/ipsec.conf` → `/etc/ipsec.d/certs/`), as strongSwan reads them.

use std::collections::BTreeMap;
use std::path::Path;

use super::values;
use super::{
    AuthMethod, Auto, Config, ConfigError, ConfigErrorKind, ConfigWarning, Connection, Dpd, End, EndAddress,
    Loaded, default_route, right_is_local,
};
use crate::route::RouteLookup;

/// A `key=value` line.
#[derive(Clone, Debug)]
struct Param {
    key: String,
    value: String,
    line: usize,
}

#[derive(Debug, PartialEq, Eq)]
enum Kind {
    Conn,
    Setup,
}

#[derive(Debug)]
struct Section {
    kind: Kind,
    name: String,
    line: usize,
    params: Vec<Param>,
}

/// Connection keys we implement.
const CONN_KEYS: &[&str] = &[
    "also",
    "type",
    "authby",
    "left",
    "right",
    "leftid",
    "rightid",
    "leftsubnet",
    "rightsubnet",
    "leftsourceip",
    "rightsourceip",
    "leftdns",
    "rightdns",
    "leftcert",
    "rightcert",
    "leftauth",
    "rightauth",
    "ike",
    "esp",
    "keyexchange",
    "keyingtries",
    "ikelifetime",
    "lifetime",
    "keylife",
    "margintime",
    "rekeymargin",
    "rekeyfuzz",
    "dpddelay",
    "dpdtimeout",
    "dpdaction",
    "auto",
    "forceencaps",
    "fragmentation",
];

/// strongSwan keys accepted only with the values listed (what this peer does anyway).
const HARMLESS: &[(&str, &[&str])] = &[
    ("mobike", &["no"]),
    ("rekey", &["yes"]),
    ("reauth", &["no"]),
    ("compress", &["no"]),
    ("installpolicy", &["yes"]),
    ("aggressive", &["no"]),
    ("leftsendcert", &["ifasked", "always", "yes"]),
    ("rightsendcert", &["ifasked", "always", "yes"]),
];

/// Other strongSwan connection keys: known, not supported (an error, not "unknown").
const KNOWN_UNSUPPORTED: &[&str] = &[
    "aaa_identity",
    "ah",
    "auth",
    "closeaction",
    "eap_identity",
    "ikedscp",
    "inactivity",
    "lifebytes",
    "lifepackets",
    "marginbytes",
    "marginpackets",
    "mark",
    "mark_in",
    "mark_out",
    "mediation",
    "mediated_by",
    "me_peerid",
    "modeconfig",
    "replay_window",
    "reqid",
    "sha256_96",
    "tfc",
    "xauth",
    "xauth_identity",
    "pfs",
    "pfsgroup",
];

/// Per-end strongSwan keys (after `left`/`right`) that are known but not supported.
const END_UNSUPPORTED: &[&str] = &[
    "allowany",
    "auth2",
    "ca",
    "ca2",
    "cert2",
    "certpolicy",
    "firewall",
    "groups",
    "groups2",
    "hostaccess",
    "id2",
    "ikeport",
    "nexthop",
    "protoport",
    "rsasigkey",
    "sigkey",
    "subnetwithin",
    "updown",
];

/// Parses `ipsec.conf` text. `file` names it in errors and anchors relative paths.
pub(crate) fn parse(text: &str, file: &Path, routes: &dyn RouteLookup) -> Result<Loaded, ConfigError> {
    let mut warnings = Vec::new();
    let sections = lex(text, file, &mut warnings)?;
    let err = |line, key: Option<&str>, kind| ConfigError::new(file, line, key, kind);

    // Check every key of every section, loaded or not.
    for s in &sections {
        for p in &s.params {
            match s.kind {
                Kind::Setup => setup_key(p, file, &mut warnings)?,
                Kind::Conn => conn_key(p).map_err(|k| err(Some(p.line), Some(&p.key), k))?,
            }
        }
    }
    let conns: Vec<&Section> = sections.iter().filter(|s| s.kind == Kind::Conn).collect();
    for (i, s) in conns.iter().enumerate() {
        if conns.iter().take(i).any(|o| o.name == s.name) {
            return Err(err(
                Some(s.line),
                Some("conn"),
                ConfigErrorKind::Duplicate(format!("conn {}", s.name)),
            ));
        }
    }

    let base = match conns.iter().find(|s| s.name == "%default") {
        Some(d) => resolve(&conns, d, &mut Vec::new(), file)?,
        None => BTreeMap::new(),
    };
    let base_dir = file.parent().unwrap_or(Path::new("."));
    let mut config = Config::default();
    let mut lines = Vec::new();
    for s in conns.iter().filter(|s| s.name != "%default") {
        let mut eff = base.clone();
        eff.extend(resolve(&conns, s, &mut Vec::new(), file)?);
        eff.retain(|_, p| !p.value.is_empty());
        let auto = match eff.get("auto") {
            Some(p) => values::auto(&p.value).map_err(|k| err(Some(p.line), Some("auto"), k))?,
            None => Auto::Ignore,
        };
        if auto == Auto::Ignore {
            continue;
        }
        let conn = connection(s, &eff, base_dir, file, routes, &mut warnings)?;
        lines.push((s.line, eff));
        config.connections.push(conn);
    }
    if let Err((i, key, kind)) = config.check() {
        let (conn_line, eff) = lines.get(i).map_or((None, None), |(l, e)| (Some(*l), Some(e)));
        let line = eff.and_then(|e| e.get(key)).map(|p| p.line).or(conn_line);
        return Err(err(line, Some(key), kind));
    }
    Ok(Loaded { config, warnings })
}

/// Splits the text into sections of parameters.
fn lex(text: &str, file: &Path, warnings: &mut Vec<ConfigWarning>) -> Result<Vec<Section>, ConfigError> {
    let mut sections: Vec<Section> = Vec::new();
    for (idx, raw) in text.lines().enumerate() {
        let line = idx.saturating_add(1);
        let err = |key: Option<&str>, kind| ConfigError::new(file, Some(line), key, kind);
        let content = strip_comment(raw);
        if content.trim().is_empty() {
            continue;
        }
        if !raw.starts_with([' ', '\t']) {
            let words: Vec<&str> = content.split_whitespace().collect();
            match words.as_slice() {
                ["conn", name] => sections.push(Section {
                    kind: Kind::Conn,
                    name: (*name).to_owned(),
                    line,
                    params: Vec::new(),
                }),
                ["config", "setup"] => {
                    sections.push(Section {
                        kind: Kind::Setup,
                        name: "setup".to_owned(),
                        line,
                        params: Vec::new(),
                    });
                }
                ["ca", ..] => {
                    return Err(err(
                        Some("ca"),
                        ConfigErrorKind::Unsupported("ca sections".to_owned()),
                    ));
                }
                ["include", ..] => {
                    return Err(err(
                        Some("include"),
                        ConfigErrorKind::Unsupported("include (merge the files)".to_owned()),
                    ));
                }
                ["version", v] if v.starts_with('2') => warnings.push(ConfigWarning {
                    file: file.to_owned(),
                    line: Some(line),
                    key: Some("version".to_owned()),
                    message: "obsolete `version` line ignored".to_owned(),
                }),
                _ => {
                    return Err(err(
                        None,
                        ConfigErrorKind::Syntax(format!(
                            "expected `conn <name>` or `config setup` at the start of a line, found {:?}",
                            content.trim()
                        )),
                    ));
                }
            }
            continue;
        }
        let Some(section) = sections.last_mut() else {
            return Err(err(
                None,
                ConfigErrorKind::Syntax("indented parameter before any section".to_owned()),
            ));
        };
        let Some((key, value)) = content.trim().split_once('=') else {
            return Err(err(
                None,
                ConfigErrorKind::Syntax(format!("expected key=value, found {:?}", content.trim())),
            ));
        };
        let key = key.trim();
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(err(None, ConfigErrorKind::Syntax(format!("invalid key {key:?}"))));
        }
        let value =
            unquote(value.trim()).map_err(|s| err(Some(key), ConfigErrorKind::Syntax(s.to_owned())))?;
        if key != "also" && section.params.iter().any(|p| p.key == key) {
            return Err(err(
                Some(key),
                ConfigErrorKind::Duplicate(format!("{key} in {}", section.name)),
            ));
        }
        section.params.push(Param {
            key: key.to_owned(),
            value,
            line,
        });
    }
    Ok(sections)
}

/// The line without its comment (`#` at the start or after white space, outside quotes).
fn strip_comment(raw: &str) -> &str {
    let mut in_quotes = false;
    let mut escaped = false;
    let mut prev_space = true;
    for (i, c) in raw.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_quotes => escaped = true,
            '"' => in_quotes = !in_quotes,
            '#' if !in_quotes && prev_space => return raw.get(..i).unwrap_or(raw),
            _ => {}
        }
        prev_space = c.is_whitespace();
    }
    raw
}

/// A value: quoted with escapes, or bare with runs of white space reduced to one space.
fn unquote(v: &str) -> Result<String, &'static str> {
    let Some(body) = v.strip_prefix('"') else {
        return Ok(v.split_whitespace().collect::<Vec<_>>().join(" "));
    };
    let mut out = String::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                return if chars.as_str().trim().is_empty() {
                    Ok(out)
                } else {
                    Err("text after the closing quote")
                };
            }
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some('b') => out.push('\u{8}'),
                Some('f') => out.push('\u{c}'),
                Some(c @ ('"' | '\\')) => out.push(c),
                None => return Err("multi-line quoted values (ending in \\) are not supported"),
                Some(_) => return Err("unknown escape in quoted value"),
            },
            c => out.push(c),
        }
    }
    Err("unterminated quoted value")
}

fn conn_key(p: &Param) -> Result<(), ConfigErrorKind> {
    let k = p.key.as_str();
    if CONN_KEYS.contains(&k) {
        return Ok(());
    }
    if let Some((_, ok)) = HARMLESS.iter().find(|(key, _)| *key == k) {
        return if ok.contains(&p.value.as_str()) {
            Ok(())
        } else {
            Err(ConfigErrorKind::Unsupported(format!(
                "{k}={} (only {} is)",
                p.value,
                ok.join(", ")
            )))
        };
    }
    let end_key = k.strip_prefix("left").or_else(|| k.strip_prefix("right"));
    if KNOWN_UNSUPPORTED.contains(&k) || end_key.is_some_and(|e| END_UNSUPPORTED.contains(&e)) {
        return Err(ConfigErrorKind::Unsupported(format!("the {k} option")));
    }
    Err(ConfigErrorKind::UnknownKey)
}

fn setup_key(p: &Param, file: &Path, warnings: &mut Vec<ConfigWarning>) -> Result<(), ConfigError> {
    match (p.key.as_str(), p.value.as_str()) {
        ("charondebug" | "uniqueids" | "cachecrls", _) => {
            warnings.push(ConfigWarning {
                file: file.to_owned(),
                line: Some(p.line),
                key: Some(p.key.clone()),
                message: format!("ignored ({}={}); set log levels through tracing", p.key, p.value),
            });
            Ok(())
        }
        ("strictcrlpolicy", "no") => Ok(()),
        ("strictcrlpolicy", _) => Err(ConfigError::new(
            file,
            Some(p.line),
            Some(&p.key),
            ConfigErrorKind::Unsupported("CRL checking".to_owned()),
        )),
        _ => Err(ConfigError::new(
            file,
            Some(p.line),
            Some(&p.key),
            ConfigErrorKind::UnknownKey,
        )),
    }
}

/// The effective parameters of `s`: its `also`s (in order, each resolved), then its own.
fn resolve(
    conns: &[&Section],
    s: &Section,
    stack: &mut Vec<String>,
    file: &Path,
) -> Result<BTreeMap<String, Param>, ConfigError> {
    if stack.contains(&s.name) {
        let mut chain = stack.clone();
        chain.push(s.name.clone());
        return Err(ConfigError::new(
            file,
            Some(s.line),
            Some("also"),
            ConfigErrorKind::AlsoCycle(chain),
        ));
    }
    stack.push(s.name.clone());
    let mut eff = BTreeMap::new();
    for p in s.params.iter().filter(|p| p.key == "also") {
        for name in p.value.split_whitespace() {
            let target = conns.iter().find(|c| c.name == name).ok_or_else(|| {
                ConfigError::new(
                    file,
                    Some(p.line),
                    Some("also"),
                    ConfigErrorKind::UnknownSection(name.to_owned()),
                )
            })?;
            if stack.contains(&target.name) {
                // Report the `also` line that closes the cycle.
                let mut chain = stack.clone();
                chain.push(target.name.clone());
                return Err(ConfigError::new(
                    file,
                    Some(p.line),
                    Some("also"),
                    ConfigErrorKind::AlsoCycle(chain),
                ));
            }
            eff.extend(resolve(conns, target, stack, file)?);
        }
    }
    for p in s.params.iter().filter(|p| p.key != "also") {
        eff.insert(p.key.clone(), p.clone());
    }
    stack.pop();
    Ok(eff)
}

/// Builds a connection from its effective parameters.
fn connection(
    s: &Section,
    eff: &BTreeMap<String, Param>,
    base_dir: &Path,
    file: &Path,
    routes: &dyn RouteLookup,
    warnings: &mut Vec<ConfigWarning>,
) -> Result<Connection, ConfigError> {
    let at = |p: &Param, kind| ConfigError::new(file, Some(p.line), Some(&p.key), kind);
    let get = |k: &str| eff.get(k);
    // Apply `f` to the value of the first key present (aliases), erroring with its line.
    fn opt<T>(
        eff: &BTreeMap<String, Param>,
        keys: &[&str],
        file: &Path,
        f: impl Fn(&str) -> Result<T, ConfigErrorKind>,
    ) -> Result<Option<T>, ConfigError> {
        for k in keys {
            if let Some(p) = eff.get(*k) {
                return f(&p.value)
                    .map(Some)
                    .map_err(|e| ConfigError::new(file, Some(p.line), Some(&p.key), e));
            }
        }
        Ok(None)
    }

    if let Some(p) = get("keyexchange") {
        match p.value.as_str() {
            "ikev2" => {}
            "ike" => warnings.push(ConfigWarning {
                file: file.to_owned(),
                line: Some(p.line),
                key: Some(p.key.clone()),
                message: "keyexchange=ike: only IKEv2 is spoken, initiating and responding".to_owned(),
            }),
            "ikev1" => {
                return Err(at(
                    p,
                    ConfigErrorKind::Unsupported("IKEv1 (keyexchange=ikev1); use ikev2".to_owned()),
                ));
            }
            v => return Err(at(p, values::invalid(v, "expected ikev2 (or ike)"))),
        }
    }

    // The two ends as written, %defaultroute still open.
    let left_addr = opt(eff, &["left"], file, values::address)?;
    let right_addr = opt(eff, &["right"], file, values::address)?;
    let left_default = matches!(left_addr, Some(None));
    let right_default = matches!(right_addr, Some(None));
    let mut left = End {
        address: left_addr.flatten().unwrap_or_default(),
        ..End::default()
    };
    let mut right = End {
        address: right_addr.flatten().unwrap_or_default(),
        ..End::default()
    };
    let wants_v6 = |a: &EndAddress| matches!(a, EndAddress::AnyV6) || a.ip().is_some_and(|ip| ip.is_ipv6());
    let (left_v6, right_v6) = (wants_v6(&right.address), wants_v6(&left.address));
    for (end, default, ipv6, key) in [
        (&mut left, left_default, left_v6, "left"),
        (&mut right, right_default, right_v6, "right"),
    ] {
        if let (true, Some(p)) = (default, get(key)) {
            end.address = EndAddress::Ip(default_route(routes, ipv6).map_err(|k| at(p, k))?);
        }
    }

    let authby = opt(eff, &["authby"], file, values::authby)?.unwrap_or(AuthMethod::PubKey);
    let certs = base_dir.join("ipsec.d").join("certs");
    for (end, side) in [(&mut left, "left"), (&mut right, "right")] {
        end.id = opt(eff, &[&format!("{side}id")], file, values::identity)?;
        end.subnets = opt(eff, &[&format!("{side}subnet")], file, values::subnets)?.unwrap_or_default();
        end.cert = opt(eff, &[&format!("{side}cert")], file, |v| {
            values::path_under(&certs, v)
        })?;
        end.auth = opt(eff, &[&format!("{side}auth")], file, values::end_auth)?.unwrap_or(authby);
        match opt(eff, &[&format!("{side}sourceip")], file, values::source_ip)? {
            Some(values::SourceIp::Request) => end.request_address = true,
            Some(values::SourceIp::Pool(p)) => end.pool = Some(p),
            None => {}
        }
        end.dns = opt(eff, &[&format!("{side}dns")], file, values::addresses)?.unwrap_or_default();
    }

    let (local, remote) =
        if right_is_local(routes, &left.address, &right.address, left_default, right_default) {
            (right, left)
        } else {
            (left, right)
        };
    let mut c = Connection::new(s.name.clone(), local, remote);
    if let Some(m) = opt(eff, &["type"], file, values::mode)? {
        c.mode = m;
    }
    if let Some(v) = opt(eff, &["ike"], file, values::ike)? {
        c.ike = v;
    }
    if let Some(v) = opt(eff, &["esp"], file, values::esp)? {
        c.esp = v;
    }
    // Naming a weak algorithm in ike=/esp= is the explicit request: the file runs as written.
    c.allow_weak = c.weak_in_use();
    for w in &c.allow_weak {
        let key = if c.ike.proposals.iter().any(|p| p.weak().contains(w)) {
            "ike"
        } else {
            "esp"
        };
        warnings.push(ConfigWarning {
            file: file.to_owned(),
            line: get(key).map(|p| p.line),
            key: Some(key.to_owned()),
            message: format!(
                "conn {}: weak algorithm {w} accepted because {key}= names it explicitly",
                c.name
            ),
        });
    }
    if let Some(v) = opt(eff, &["keyingtries"], file, values::keying_tries)? {
        c.keying_tries = v;
    }
    if let Some(v) = opt(eff, &["ikelifetime"], file, values::time)? {
        c.ike_lifetime = v;
    }
    if let Some(v) = opt(eff, &["lifetime", "keylife"], file, values::time)? {
        c.lifetime = v;
    }
    if let Some(v) = opt(eff, &["margintime", "rekeymargin"], file, values::time)? {
        c.margin_time = v;
    }
    if let Some(v) = opt(eff, &["rekeyfuzz"], file, values::percent)? {
        c.rekey_fuzz_percent = v;
    }
    let mut dpd = Dpd::default();
    if let Some(v) = opt(eff, &["dpddelay"], file, values::time)? {
        dpd.delay = v;
    }
    if let Some(v) = opt(eff, &["dpdtimeout"], file, values::time)? {
        dpd.timeout = v;
    }
    if let Some(v) = opt(eff, &["dpdaction"], file, values::dpd_action)? {
        dpd.action = v;
    }
    c.dpd = dpd;
    if let Some(v) = opt(eff, &["auto"], file, values::auto)? {
        c.auto = v;
    }
    if let Some(v) = opt(eff, &["forceencaps"], file, values::yes_no)? {
        c.force_encaps = v;
    }
    if let Some(v) = opt(eff, &["fragmentation"], file, values::fragmentation)? {
        c.fragmentation = v;
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_quotes() {
        assert_eq!(strip_comment("  left=1.2.3.4 # gateway"), "  left=1.2.3.4 ");
        assert_eq!(strip_comment("# all comment"), "");
        assert_eq!(strip_comment("  leftid=\"a #b\" # c"), "  leftid=\"a #b\" ");
        assert_eq!(strip_comment("  ike=aes#1"), "  ike=aes#1");
        assert_eq!(unquote("\"a \\\"b\\\" \\t\"").unwrap(), "a \"b\" \t");
        assert_eq!(unquote("a    b").unwrap(), "a b");
        assert!(unquote("\"open").is_err());
        assert!(unquote("\"a\" b").is_err());
        assert!(unquote("\"a\\").is_err());
    }
}
