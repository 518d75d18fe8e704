//! Configuration: one plain-data model, loaded from our TOML format or imported from
//! strongSwan's classic `ipsec.conf` + `ipsec.secrets`.
//!
//! [`Config`] holds [`Connection`]s (both ends, proposals as typed algorithms, lifetimes, DPD,
//! start action, ...) and [`Secret`]s (PSKs, private-key references). Both front ends produce
//! the same model, which the driver maps onto the IKE engine's configuration types; nothing
//! here negotiates anything.
//!
//! - [`Config::load_toml_file`] / [`Config::from_toml_str`]: the documented TOML format, see
//!   [`self::toml`].
//! - [`Config::load_ipsec_conf`] / [`Config::from_ipsec_conf_str`]: the classic format, see
//!   [`ipsec_conf`] and [`secrets`] for the keys understood.
//! - [`Config::to_toml`] writes any model as TOML (an imported `ipsec.conf` can be converted).
//!
//! Every problem is a [`ConfigError`] naming the file, the line and the key; keys we do not
//! know or do not support are errors, never ignored. Conditions worth telling the user that do
//! not stop loading (an ignored `config setup` key) come back as [`ConfigWarning`]s.
//!
//! `%defaultroute` is resolved while loading through a [`RouteLookup`] (the host's routing
//! table with [`crate::route::SystemRoutes`], or a fixed answer in tests).
//!
//! Weak algorithms ([`WeakAlgorithm`]: MODP-1024, SHA-1) parse, but a connection that offers one
//! must list it in [`Connection::allow_weak`]: in TOML explicitly (`allow_weak = ["modp1024"]`);
//! in `ipsec.conf`, writing the algorithm in `ike=`/`esp=` is the explicit request (the file must
//! run as written), and the import says so in a warning. The driver logs a loud warning for
//! every allowed weak algorithm and passes the allowance to the engine.

pub mod duration;
pub mod engine;
pub mod identity;
pub mod ipsec_conf;
pub mod proposals;
pub mod secrets;
pub mod toml;
mod values;

use std::fmt;
use std::io;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

pub use self::identity::Identity;
pub use self::proposals::{EspProposal, IkeProposal, ProposalList, WeakAlgorithm};
use crate::route::RouteLookup;
use crate::subnet::Subnet;

/// The whole configuration: connections and the secrets they authenticate with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// The connections, in file order. Names are unique.
    pub connections: Vec<Connection>,
    /// PSKs and private keys, in file order.
    pub secrets: Vec<Secret>,
    /// TCP MSS clamping of the driver (TOML `[driver]` table; `ipsec.conf` has no such key,
    /// the default applies: on, path MTU 1500).
    pub mss: crate::mss::MssClamping,
}

/// A loaded configuration with the warnings its loading produced.
#[derive(Debug)]
pub struct Loaded {
    /// The configuration.
    pub config: Config,
    /// Things the user should know (logged by the caller at `warn`).
    pub warnings: Vec<ConfigWarning>,
}

/// IPsec mode of the CHILD SAs (RFC 4301 §4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Mode {
    /// Tunnel mode: whole inner packets between the protected subnets (`type=tunnel`).
    #[default]
    Tunnel,
    /// Transport mode, host to host (`type=transport`).
    Transport,
}

/// How an end authenticates (RFC 7296 §2.15, §3.8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum AuthMethod {
    /// Pre-shared key (`authby=secret`/`psk`).
    Psk,
    /// Public-key signature with an X.509 certificate, RSA or ECDSA (`authby=pubkey`, strongSwan's
    /// default).
    #[default]
    PubKey,
}

/// Where an end is.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub enum EndAddress {
    /// Any address (`%any`): a responder-only peer, or our own address chosen by routing.
    #[default]
    Any,
    /// Any IPv4 address (`%any4`).
    AnyV4,
    /// Any IPv6 address (`%any6`).
    AnyV6,
    /// A fixed address (also what `%defaultroute` resolves to).
    Ip(IpAddr),
    /// A DNS name, resolved when the connection is used.
    Host(String),
}

impl EndAddress {
    /// The fixed address, if there is one.
    #[must_use]
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Self::Ip(ip) => Some(*ip),
            _ => None,
        }
    }

    /// True for `%any`, `%any4`, `%any6`.
    #[must_use]
    pub fn is_any(&self) -> bool {
        matches!(self, Self::Any | Self::AnyV4 | Self::AnyV6)
    }
}

impl fmt::Display for EndAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Any => f.write_str("%any"),
            Self::AnyV4 => f.write_str("%any4"),
            Self::AnyV6 => f.write_str("%any6"),
            Self::Ip(ip) => write!(f, "{ip}"),
            Self::Host(h) => f.write_str(h),
        }
    }
}

/// One side of a connection.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct End {
    /// Its address (`left=`).
    pub address: EndAddress,
    /// Its IKE identity (`leftid=`); `None`: the address, or the certificate's subject.
    pub id: Option<Identity>,
    /// The networks behind it (`leftsubnet=`); empty: just its own address.
    pub subnets: Vec<Subnet>,
    /// How it authenticates (`authby=`, `leftauth=`).
    pub auth: AuthMethod,
    /// Its certificate file (`leftcert=`), PEM or DER.
    pub cert: Option<PathBuf>,
    /// Internal addresses handed out to this end from a pool (`rightsourceip=10.3.0.0/24`, the
    /// configuration payload of RFC 7296 §3.15); only for the remote end. A subnet's network
    /// and broadcast addresses are not handed out.
    pub pool: Option<Subnet>,
    /// DNS servers sent along with a pool address (`rightdns=`).
    pub dns: Vec<IpAddr>,
    /// This end asks the other for an internal address (`leftsourceip=%config`); only for our
    /// own end. The address goes on the TUN device and becomes our traffic selector.
    pub request_address: bool,
}

impl End {
    /// The identity to send or expect: [`End::id`], else the address as ID_IPV4/6_ADDR, else
    /// [`Identity::Any`] (strongSwan's default).
    #[must_use]
    pub fn effective_id(&self) -> Identity {
        match (&self.id, self.address.ip()) {
            (Some(id), _) => id.clone(),
            (None, Some(ip)) => Identity::Ip(ip),
            (None, None) => Identity::Any,
        }
    }

    /// The traffic selectors of this end: its subnets, or its own address as a host. Empty
    /// (dynamic: whatever address the configuration payload gives it) for an end without
    /// subnets that asks for an internal address or is handed one from a pool, and for an end
    /// without a fixed address.
    #[must_use]
    pub fn traffic_selectors(&self) -> Vec<Subnet> {
        let internal = self.request_address || self.pool.is_some();
        match (self.subnets.is_empty(), self.address.ip()) {
            (false, _) => self.subnets.clone(),
            (true, Some(ip)) if !internal => vec![Subnet::host(ip)],
            (true, _) => Vec::new(),
        }
    }
}

/// How often to try to establish (or re-establish) a connection (`keyingtries=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyingTries {
    /// Never give up (`%forever`, or `0` as strongSwan reads it).
    Forever,
    /// At most this many attempts.
    Limited(NonZeroU32),
}

/// What to do when DPD declares the peer dead (`dpdaction=`, RFC 3706 / RFC 7296 §2.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum DpdAction {
    /// No active DPD (`none`, the default).
    #[default]
    None,
    /// Close the connection.
    Clear,
    /// Close, and renegotiate when matching traffic appears.
    Hold,
    /// Renegotiate at once.
    Restart,
}

/// Dead peer detection settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Dpd {
    /// Interval of liveness checks when nothing was received (`dpddelay=`, default 30 s;
    /// 0 sends none of its own).
    pub delay: Duration,
    /// Declare the peer dead after this long without an answer (`dpdtimeout=`, default 150 s).
    pub timeout: Duration,
    /// What then (`dpdaction=`).
    pub action: DpdAction,
}

impl Default for Dpd {
    fn default() -> Self {
        Self {
            delay: Duration::from_secs(30),
            timeout: Duration::from_secs(150),
            action: DpdAction::None,
        }
    }
}

/// What to do with a connection when the peer starts (`auto=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Auto {
    /// Not loaded at all (`ignore`, strongSwan's default).
    #[default]
    Ignore,
    /// Loaded; waits for the peer or an `up` command (`add`).
    Add,
    /// Loaded with policies installed; traffic starts it (`route`).
    Route,
    /// Loaded and initiated at once (`start`).
    Start,
}

/// IKE fragmentation (RFC 7383) use (`fragmentation=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Fragmentation {
    /// Announce support and fragment our large messages if the peer supports it (default).
    #[default]
    Yes,
    /// Announce support, never fragment our own messages.
    Accept,
    /// Fragment even the first message if needed (IKEv1 only in strongSwan; refused here).
    Force,
    /// Do not announce support (received fragments are still reassembled).
    No,
}

/// A connection: two ends, what to negotiate, and how to keep it up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connection {
    /// Its name (`conn <name>`).
    pub name: String,
    /// Tunnel or transport mode (`type=`).
    pub mode: Mode,
    /// Our end.
    pub local: End,
    /// The peer's end.
    pub remote: End,
    /// IKE SA proposals (`ike=`).
    pub ike: ProposalList<IkeProposal>,
    /// CHILD SA (ESP) proposals (`esp=`).
    pub esp: ProposalList<EspProposal>,
    /// Weak algorithms this connection may offer and accept; every weak algorithm in its
    /// proposals must be listed here (see the module docs).
    pub allow_weak: Vec<WeakAlgorithm>,
    /// `keyingtries=` (default 3).
    pub keying_tries: KeyingTries,
    /// IKE SA lifetime before rekeying (`ikelifetime=`, default 3 h).
    pub ike_lifetime: Duration,
    /// CHILD SA lifetime before rekeying (`lifetime=`, default 1 h).
    pub lifetime: Duration,
    /// Start rekeying this long before expiry (`margintime=`, default 9 min).
    pub margin_time: Duration,
    /// Random increase of the margin, in percent (`rekeyfuzz=`, default 100).
    pub rekey_fuzz_percent: u32,
    /// Dead peer detection.
    pub dpd: Dpd,
    /// Start action (`auto=`).
    pub auto: Auto,
    /// Force UDP encapsulation (RFC 3948) even without NAT (`forceencaps=`).
    pub force_encaps: bool,
    /// IKE fragmentation (`fragmentation=`).
    pub fragmentation: Fragmentation,
}

impl Connection {
    /// A connection with strongSwan's defaults for everything but the name and the ends.
    #[must_use]
    pub fn new(name: impl Into<String>, local: End, remote: End) -> Self {
        Self {
            name: name.into(),
            mode: Mode::Tunnel,
            local,
            remote,
            ike: proposals::default_ike(),
            esp: proposals::default_esp(),
            allow_weak: Vec::new(),
            keying_tries: KeyingTries::Limited(NonZeroU32::MIN.saturating_add(2)),
            ike_lifetime: Duration::from_secs(3 * 3600),
            lifetime: Duration::from_secs(3600),
            margin_time: Duration::from_secs(9 * 60),
            rekey_fuzz_percent: 100,
            dpd: Dpd::default(),
            auto: Auto::Ignore,
            force_encaps: false,
            fragmentation: Fragmentation::Yes,
        }
    }

    /// The weak algorithms its proposals offer, each once, sorted.
    #[must_use]
    pub fn weak_in_use(&self) -> Vec<WeakAlgorithm> {
        let mut w: Vec<WeakAlgorithm> = self
            .ike
            .proposals
            .iter()
            .flat_map(IkeProposal::weak)
            .chain(self.esp.proposals.iter().flat_map(EspProposal::weak))
            .collect();
        w.sort_unstable();
        w.dedup();
        w
    }

    /// Checks the rules both formats share; returns the offending key and the problem.
    fn check(&self) -> Result<(), (&'static str, ConfigErrorKind)> {
        if let Some(w) = self
            .weak_in_use()
            .into_iter()
            .find(|w| !self.allow_weak.contains(w))
        {
            let key = if self.ike.proposals.iter().any(|p| p.weak().contains(&w)) {
                "ike"
            } else {
                "esp"
            };
            return Err((key, ConfigErrorKind::WeakNotAllowed(w)));
        }
        for (key, life) in [("lifetime", self.lifetime), ("ikelifetime", self.ike_lifetime)] {
            if !life.is_zero() && self.margin_time >= life {
                return Err((
                    "margintime",
                    ConfigErrorKind::InvalidValue {
                        value: duration::format_duration(self.margin_time),
                        reason: format!("must be shorter than {key} ({})", duration::format_duration(life)),
                    },
                ));
            }
        }
        if matches!(self.auto, Auto::Start | Auto::Route)
            && !matches!(self.remote.address, EndAddress::Ip(_) | EndAddress::Host(_))
        {
            return Err((
                "auto",
                ConfigErrorKind::InvalidValue {
                    value: if self.auto == Auto::Start {
                        "start"
                    } else {
                        "route"
                    }
                    .to_owned(),
                    reason: format!(
                        "needs a remote address to initiate to, not {}",
                        self.remote.address
                    ),
                },
            ));
        }
        if self.fragmentation == Fragmentation::Force {
            return Err((
                "fragmentation",
                ConfigErrorKind::Unsupported("`force` is IKEv1-only".to_owned()),
            ));
        }
        Ok(())
    }
}

/// The kind of a private key in the secrets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// RSA (`: RSA file`).
    Rsa,
    /// ECDSA (`: ECDSA file`).
    Ecdsa,
}

/// A secret byte string (PSK or passphrase): zeroized on drop, compared in constant time,
/// never printed.
#[derive(Clone)]
pub struct SharedKey(Zeroizing<Vec<u8>>);

impl SharedKey {
    /// Wraps the bytes.
    #[must_use]
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// The secret bytes.
    #[must_use]
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True if empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl PartialEq for SharedKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_slice().ct_eq(other.0.as_slice()).into()
    }
}

impl Eq for SharedKey {}

impl fmt::Debug for SharedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SharedKey(<{} bytes>)", self.0.len())
    }
}

/// A secret from `ipsec.secrets` or the TOML `[[secret]]` tables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Secret {
    /// A pre-shared key for the identities listed (empty: any).
    Psk {
        /// Identity selectors.
        ids: Vec<Identity>,
        /// The key.
        key: SharedKey,
    },
    /// A private key file (PEM or DER) for our identities listed (empty: any).
    PrivateKey {
        /// Identity selectors.
        ids: Vec<Identity>,
        /// RSA or ECDSA.
        kind: KeyKind,
        /// The file (absolute after loading).
        path: PathBuf,
        /// Passphrase of an encrypted key file.
        passphrase: Option<SharedKey>,
    },
}

impl Config {
    /// The PSK for a connection between `local` and `remote`, chosen as strongSwan does: each
    /// entry scores how well its selectors match our identity and the peer's (3 for an equal
    /// identity, 1 for `%any` or an entry without selectors, 0 for no match); an entry that
    /// matches neither is skipped, and the highest sum wins (the first on a tie).
    #[must_use]
    pub fn psk_for(&self, local: &Identity, remote: &Identity) -> Option<&SharedKey> {
        let quality = |ids: &[Identity], id: &Identity| -> u8 {
            if ids.is_empty() {
                return 1;
            }
            ids.iter()
                .map(|sel| {
                    if sel == id {
                        3
                    } else if sel.is_any() {
                        1
                    } else {
                        0
                    }
                })
                .max()
                .unwrap_or(0)
        };
        let mut best: Option<(u8, &SharedKey)> = None;
        for s in &self.secrets {
            let Secret::Psk { ids, key } = s else { continue };
            let (l, r) = (quality(ids, local), quality(ids, remote));
            if l == 0 && r == 0 {
                continue;
            }
            let score = l.saturating_add(r);
            if best.is_none_or(|(b, _)| score > b) {
                best = Some((score, key));
            }
        }
        best.map(|(_, k)| k)
    }

    /// Checks what both formats share: unique names and [`Connection`] rules. Returns the
    /// connection index, key and problem.
    fn check(&self) -> Result<(), (usize, &'static str, ConfigErrorKind)> {
        for (i, c) in self.connections.iter().enumerate() {
            if self.connections.iter().take(i).any(|o| o.name == c.name) {
                return Err((i, "name", ConfigErrorKind::Duplicate(c.name.clone())));
            }
            c.check().map_err(|(k, e)| (i, k, e))?;
        }
        Ok(())
    }

    /// Loads a TOML configuration file (format: [`self::toml`]).
    ///
    /// # Errors
    /// [`ConfigError`] naming file, line and key.
    pub fn load_toml_file(path: &Path, routes: &dyn RouteLookup) -> Result<Loaded, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::io(path, e))?;
        Self::from_toml_str(&text, path, routes)
    }

    /// Parses TOML text; `file` names it in errors and anchors relative paths.
    ///
    /// # Errors
    /// [`ConfigError`] naming file, line and key.
    pub fn from_toml_str(text: &str, file: &Path, routes: &dyn RouteLookup) -> Result<Loaded, ConfigError> {
        toml::parse(text, file, routes)
    }

    /// Imports strongSwan's `ipsec.conf` and, if given, `ipsec.secrets`.
    ///
    /// # Errors
    /// [`ConfigError`] naming file, line and key.
    pub fn load_ipsec_conf(
        conf: &Path,
        secrets: Option<&Path>,
        routes: &dyn RouteLookup,
    ) -> Result<Loaded, ConfigError> {
        let text = std::fs::read_to_string(conf).map_err(|e| ConfigError::io(conf, e))?;
        let secrets_text = match secrets {
            Some(p) => Some((std::fs::read_to_string(p).map_err(|e| ConfigError::io(p, e))?, p)),
            None => None,
        };
        Self::from_ipsec_conf_str(
            &text,
            conf,
            secrets_text.as_ref().map(|(t, p)| (t.as_str(), *p)),
            routes,
        )
    }

    /// Imports `ipsec.conf` text and optional `ipsec.secrets` text with their file names.
    ///
    /// # Errors
    /// [`ConfigError`] naming file, line and key.
    pub fn from_ipsec_conf_str(
        conf: &str,
        conf_file: &Path,
        secrets: Option<(&str, &Path)>,
        routes: &dyn RouteLookup,
    ) -> Result<Loaded, ConfigError> {
        let mut loaded = ipsec_conf::parse(conf, conf_file, routes)?;
        if let Some((text, file)) = secrets {
            loaded.config.secrets = secrets::parse(text, file)?;
        }
        Ok(loaded)
    }

    /// Writes the configuration in the TOML format (secrets included: protect the file).
    #[must_use]
    pub fn to_toml(&self) -> String {
        toml::write(self)
    }
}

/// A configuration problem, with where it is.
#[derive(Debug)]
pub struct ConfigError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// The key (or section keyword), when there is one.
    pub key: Option<String>,
    /// What is wrong.
    pub kind: ConfigErrorKind,
}

/// What is wrong in a [`ConfigError`].
#[derive(Debug)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// The file could not be read.
    Io(io::Error),
    /// Not the file format (a line that is no `key=value`, bad TOML, an unclosed quote).
    Syntax(String),
    /// A key we do not know.
    UnknownKey,
    /// Known, but not supported here (IKEv1, `type=passthrough`, `include`, ...).
    Unsupported(String),
    /// A value that does not parse or is out of range.
    InvalidValue {
        /// The value as written.
        value: String,
        /// Why.
        reason: String,
    },
    /// A required key or section is missing.
    Missing(String),
    /// Defined twice (a connection name, a key within one section).
    Duplicate(String),
    /// `also=` names a section that does not exist.
    UnknownSection(String),
    /// `also=` references form a cycle through these sections.
    AlsoCycle(Vec<String>),
    /// A weak algorithm is offered but not allowed (see the module docs).
    WeakNotAllowed(WeakAlgorithm),
    /// `%defaultroute` could not be resolved.
    DefaultRoute(String),
}

impl ConfigError {
    pub(crate) fn new(file: &Path, line: Option<usize>, key: Option<&str>, kind: ConfigErrorKind) -> Self {
        Self {
            file: file.to_owned(),
            line,
            key: key.map(str::to_owned),
            kind,
        }
    }

    pub(crate) fn io(file: &Path, e: io::Error) -> Self {
        Self::new(file, None, None, ConfigErrorKind::Io(e))
    }
}

impl fmt::Display for ConfigErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "cannot read: {e}"),
            Self::Syntax(s) => write!(f, "syntax error: {s}"),
            Self::UnknownKey => f.write_str("unknown key"),
            Self::Unsupported(s) => write!(f, "not supported: {s}"),
            Self::InvalidValue { value, reason } => write!(f, "invalid value {value:?}: {reason}"),
            Self::Missing(s) => write!(f, "missing {s}"),
            Self::Duplicate(s) => write!(f, "{s} is defined twice"),
            Self::UnknownSection(s) => write!(f, "no section named {s:?}"),
            Self::AlsoCycle(chain) => write!(f, "`also` cycle: {}", chain.join(" -> ")),
            Self::WeakNotAllowed(w) => write!(
                f,
                "{w} is a weak algorithm; allow it explicitly (TOML: allow_weak = [\"{w}\"]) or remove it"
            ),
            Self::DefaultRoute(s) => write!(f, "%defaultroute: {s}"),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(key) = &self.key {
            write!(f, ": {key}")?;
        }
        write!(f, ": {}", self.kind)
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ConfigErrorKind::Io(e) => Some(e),
            _ => None,
        }
    }
}

/// Something the user should know about their configuration; loading went on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigWarning {
    /// The file.
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// The key, when there is one.
    pub key: Option<String>,
    /// What to know.
    pub message: String,
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(key) = &self.key {
            write!(f, ": {key}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Resolves `%defaultroute` for an end with `ipv6` telling the family wanted.
pub(crate) fn default_route(routes: &dyn RouteLookup, ipv6: bool) -> Result<IpAddr, ConfigErrorKind> {
    match routes.default_source(ipv6) {
        Ok(Some(ip)) => Ok(ip),
        Ok(None) => Err(ConfigErrorKind::DefaultRoute(format!(
            "this host has no {} default route",
            if ipv6 { "IPv6" } else { "IPv4" }
        ))),
        Err(e) => Err(ConfigErrorKind::DefaultRoute(e.to_string())),
    }
}

/// Which of two ends is ours: strongSwan's rule. The end that is `%defaultroute` or an address
/// of this host is local; if only the right one is, the ends swap. Returns true to swap.
pub(crate) fn right_is_local(
    routes: &dyn RouteLookup,
    left: &EndAddress,
    right: &EndAddress,
    left_default: bool,
    right_default: bool,
) -> bool {
    let local = |a: &EndAddress, d: bool| {
        d || a
            .ip()
            .is_some_and(|ip| routes.is_local_address(ip).unwrap_or(false))
    };
    !local(left, left_default) && local(right, right_default)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn psk(ids: &[&str], key: &str) -> Secret {
        Secret::Psk {
            ids: ids.iter().map(|i| Identity::parse(i).unwrap()).collect(),
            key: SharedKey::new(key.as_bytes().to_vec()),
        }
    }

    #[test]
    fn shared_keys_never_print_and_compare_by_value() {
        let k = SharedKey::new(b"hunter2hunter2".to_vec());
        assert_eq!(format!("{k:?}"), "SharedKey(<14 bytes>)");
        assert_eq!(k, SharedKey::new(b"hunter2hunter2".to_vec()));
        assert_ne!(k, SharedKey::new(b"hunter2hunter3".to_vec()));
        assert_ne!(k, SharedKey::new(b"hunter2".to_vec()));
        assert_eq!((k.len(), k.is_empty()), (14, false));
    }

    #[test]
    fn psk_lookup_prefers_the_most_specific_entry() {
        let a = Identity::parse("192.0.2.10").unwrap();
        let b = Identity::parse("198.51.100.20").unwrap();
        let c = Identity::parse("@c.example").unwrap();
        let config = Config {
            mss: crate::mss::MssClamping::default(),
            connections: Vec::new(),
            secrets: vec![
                psk(&[], "fallback"),
                psk(&["192.0.2.10"], "only-a"),
                psk(&["192.0.2.10", "198.51.100.20"], "a-and-b"),
                psk(&["%any", "@c.example"], "any-and-c"),
            ],
        };
        let get = |l: &Identity, r: &Identity| {
            config
                .psk_for(l, r)
                .map(|k| String::from_utf8(k.expose().to_vec()).unwrap())
        };
        assert_eq!(get(&a, &b).as_deref(), Some("a-and-b"));
        assert_eq!(get(&b, &a).as_deref(), Some("a-and-b"));
        assert_eq!(get(&a, &c).as_deref(), Some("any-and-c"));
        assert_eq!(
            get(&a, &Identity::parse("@other").unwrap()).as_deref(),
            Some("only-a")
        );
        assert_eq!(
            get(&Identity::parse("@x").unwrap(), &Identity::parse("@y").unwrap()).as_deref(),
            Some("fallback")
        );
        assert!(Config::default().psk_for(&a, &b).is_none());
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let e = ConfigError::new(
            Path::new("/etc/ipsec.conf"),
            Some(7),
            Some("ike"),
            ConfigErrorKind::UnknownKey,
        );
        assert_eq!(e.to_string(), "/etc/ipsec.conf:7: ike: unknown key");
        let e = ConfigError::new(
            Path::new("x.toml"),
            None,
            None,
            ConfigErrorKind::WeakNotAllowed(WeakAlgorithm::Modp1024),
        );
        assert!(
            e.to_string().starts_with("x.toml: modp1024 is a weak algorithm"),
            "{e}"
        );
    }

    #[test]
    fn connection_defaults_are_strongswans() {
        let c = Connection::new("c", End::default(), End::default());
        assert_eq!(c.keying_tries, KeyingTries::Limited(NonZeroU32::new(3).unwrap()));
        assert_eq!(c.ike_lifetime, Duration::from_secs(10_800));
        assert_eq!(c.lifetime, Duration::from_secs(3600));
        assert_eq!(c.margin_time, Duration::from_secs(540));
        assert_eq!(c.rekey_fuzz_percent, 100);
        assert_eq!(
            c.dpd,
            Dpd {
                delay: Duration::from_secs(30),
                timeout: Duration::from_secs(150),
                action: DpdAction::None
            }
        );
        assert_eq!(
            (c.auto, c.mode, c.fragmentation, c.force_encaps),
            (Auto::Ignore, Mode::Tunnel, Fragmentation::Yes, false)
        );
        assert!(c.weak_in_use().is_empty());
        assert!(c.check().is_ok());
    }

    #[test]
    fn end_defaults_follow_the_address() {
        let ip: IpAddr = "192.0.2.10".parse().unwrap();
        let e = End {
            address: EndAddress::Ip(ip),
            ..End::default()
        };
        assert_eq!(e.effective_id(), Identity::Ip(ip));
        assert_eq!(e.traffic_selectors(), vec![Subnet::host(ip)]);
        assert_eq!(End::default().effective_id(), Identity::Any);
        assert!(End::default().traffic_selectors().is_empty());
    }
}
