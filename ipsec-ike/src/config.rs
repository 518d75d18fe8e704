//! Configuration of the IKE engine: plain data, no file parsing (RFC 7296 §2, strongSwan's
//! `swanctl.conf` / `ipsec.conf` vocabulary where it helps).
//!
//! An [`EndpointConfig`] holds the crypto provider, endpoint-wide limits and one [`PeerConfig`] per
//! connection ("conn" in `ipsec.conf`). A peer has IKE settings and one or more [`ChildConfig`]s.
//! Every field is public and documented with the `ipsec.conf` / `swanctl.conf` key it mirrors and
//! its default, so that a loader (ipsec-std) can fill it; [`EndpointConfig::validate`] checks the
//! whole tree once, and [`crate::endpoint::Endpoint::new`] refuses an invalid one.
//!
//! Proposals are the codec's [`Proposal`] values: a loader translates `aes256-sha256-modp1024!`
//! into one IKE proposal (ENCR 12/256, INTEG 12, PRF 5, KE 2) with [`Strictness::Strict`].
//! [`default_ike_proposals`] and [`default_esp_proposals`] give strong defaults.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use core::time::Duration;

use ipsec_core::selector::{AddrRange, PortRange};
use ipsec_core::wire::IpProtocol;

use crate::cert::Certificate;
use crate::crypto::{CryptoProvider, SecretBytes, SigningKey};
use crate::message::{
    DhGroup, EncrId, EsnId, Id, IdType, IntegId, PrfId, Proposal, ProtocolId, Transform, TransformType,
};
use crate::proposal::Strictness;

/// Index of a [`PeerConfig`] in [`EndpointConfig::peers`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PeerId(pub usize);

/// Index of a [`ChildConfig`] in [`PeerConfig::children`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChildConfigId(pub usize);

/// Everything an [`Endpoint`](crate::endpoint::Endpoint) needs; shared through an `Arc`.
pub struct EndpointConfig {
    /// The cryptographic provider (rustls-style; no process-wide default). Weak algorithms must
    /// be allowed by the provider *and* by [`PeerConfig::allow_weak_modp1024`].
    pub crypto: Arc<dyn CryptoProvider>,
    /// The connections, indexed by [`PeerId`].
    pub peers: Vec<PeerConfig>,
    /// Retransmission of our requests (RFC 7296 §2.1).
    pub retransmit: RetransmitConfig,
    /// Half-open IKE SA limits and the COOKIE threshold (RFC 7296 §2.6).
    pub half_open: HalfOpenLimits,
    /// Interval of NAT keepalives (RFC 3948 §2.3) while we are behind a NAT; strongSwan
    /// `keep_alive`, default 20 s.
    pub nat_keepalive: Duration,
    /// Most IKE SAs (established and half-open) the endpoint keeps; further IKE_SA_INIT
    /// requests are dropped and `connect` fails. Default 1 000 000.
    pub max_ike_sas: usize,
    /// Hand the IKE SA keys (SK_ei, SK_er, SK_ai, SK_ar) to the driver in
    /// [`Event::IkeSaKeys`](crate::event::Event::IkeSaKeys) whenever an IKE SA is keyed, for a
    /// key log that lets Wireshark decrypt IKE. Off by default: the keys otherwise never leave
    /// the engine. For debugging only.
    pub export_ike_keys: bool,
}

impl EndpointConfig {
    /// A configuration with `crypto`, no peers and the defaults of every other field.
    #[must_use]
    pub fn new(crypto: Arc<dyn CryptoProvider>) -> Self {
        Self {
            crypto,
            peers: Vec::new(),
            retransmit: RetransmitConfig::default(),
            half_open: HalfOpenLimits::default(),
            nat_keepalive: Duration::from_secs(20),
            max_ike_sas: 1_000_000,
            export_ike_keys: false,
        }
    }

    /// Checks the whole configuration.
    ///
    /// # Errors
    /// The first [`ConfigError`] found, naming the peer and child.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.retransmit.timeout.is_zero() || self.retransmit.backoff_permille < 1000 {
            return Err(ConfigError::new(
                None,
                None,
                "retransmit timeout 0 or back-off below 1.0",
            ));
        }
        for (p, peer) in self.peers.iter().enumerate() {
            peer.validate(p)?;
        }
        Ok(())
    }
}

impl fmt::Debug for EndpointConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndpointConfig")
            .field("peers", &self.peers)
            .field("retransmit", &self.retransmit)
            .field("half_open", &self.half_open)
            .field("nat_keepalive", &self.nat_keepalive)
            .field("max_ike_sas", &self.max_ike_sas)
            .finish_non_exhaustive()
    }
}

/// Why a configuration is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The peer, if the error is in one.
    pub peer: Option<PeerId>,
    /// The child, if the error is in one.
    pub child: Option<ChildConfigId>,
    /// What is wrong.
    pub what: &'static str,
}

impl ConfigError {
    fn new(peer: Option<usize>, child: Option<usize>, what: &'static str) -> Self {
        Self {
            peer: peer.map(PeerId),
            child: child.map(ChildConfigId),
            what,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.peer, self.child) {
            (Some(p), Some(c)) => write!(f, "peer {} child {}: {}", p.0, c.0, self.what),
            (Some(p), None) => write!(f, "peer {}: {}", p.0, self.what),
            _ => f.write_str(self.what),
        }
    }
}

impl core::error::Error for ConfigError {}

/// Retransmission of requests (RFC 7296 §2.1). The n-th retransmission (n = 1, 2, ...) is sent
/// `timeout × (backoff/1000)^(n-1)` after the previous one; after `tries` retransmissions the
/// next timeout declares the peer unreachable. strongSwan's defaults (4 s, 1.8, 5 tries) give
/// retransmissions at 4, 11.2, 24.2, 47.5, 89.5 s and failure at 165 s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetransmitConfig {
    /// First timeout (`retransmit_timeout`, default 4 s).
    pub timeout: Duration,
    /// Back-off factor in thousandths (`retransmit_base` 1.8 = 1800).
    pub backoff_permille: u32,
    /// Retransmissions before giving up (`retransmit_tries`, default 5).
    pub tries: u32,
    /// Upper bound of one timeout (`retransmit_limit`, default none).
    pub max_timeout: Option<Duration>,
}

impl Default for RetransmitConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(4),
            backoff_permille: 1800,
            tries: 5,
            max_timeout: None,
        }
    }
}

impl RetransmitConfig {
    /// The timeout after the `n`-th transmission (0 = the first send).
    #[must_use]
    pub fn timeout_after(&self, n: u32) -> Duration {
        let mut micros = u128::from(u64::try_from(self.timeout.as_micros()).unwrap_or(u64::MAX));
        for _ in 0..n {
            micros = micros.saturating_mul(u128::from(self.backoff_permille)) / 1000;
            if micros > u128::from(u64::MAX) {
                break;
            }
        }
        let d = Duration::from_micros(u64::try_from(micros).unwrap_or(u64::MAX));
        match self.max_timeout {
            Some(max) => d.min(max),
            None => d,
        }
    }
}

/// Denial-of-service limits on half-open IKE SAs (RFC 7296 §2.6; strongSwan `dos_protection`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HalfOpenLimits {
    /// From this many half-open SAs in total, IKE_SA_INIT requests without a valid COOKIE are
    /// answered with N(COOKIE) (`cookie_threshold`, default 30; 0 = always).
    pub cookie_threshold: usize,
    /// The same threshold per peer IP address (`cookie_threshold_ip`, default 3).
    pub cookie_threshold_ip: usize,
    /// Above this many half-open SAs in total, IKE_SA_INIT requests are dropped
    /// (`block_threshold` is per IP in strongSwan; default 10 000).
    pub max_total: usize,
    /// Above this many half-open SAs from one IP address, its requests are dropped
    /// (`block_threshold`, default 5).
    pub max_per_ip: usize,
    /// A responder's half-open SA is deleted when IKE_AUTH has not completed after this long
    /// (`half_open_timeout`, default 30 s).
    pub timeout: Duration,
}

impl Default for HalfOpenLimits {
    fn default() -> Self {
        Self {
            cookie_threshold: 30,
            cookie_threshold_ip: 3,
            max_total: 10_000,
            max_per_ip: 5,
            timeout: Duration::from_secs(30),
        }
    }
}

/// An identity (RFC 7296 §3.5), ours or the one we require of the peer.
#[derive(Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Identity {
    /// ID_IPV4_ADDR.
    Ipv4(Ipv4Addr),
    /// ID_IPV6_ADDR.
    Ipv6(Ipv6Addr),
    /// ID_FQDN (`@vpn.example.com` in `ipsec.conf`).
    Fqdn(String),
    /// ID_RFC822_ADDR (`user@example.com`).
    Email(String),
    /// ID_DER_ASN1_DN: the DER encoding of a distinguished name.
    Dn(Vec<u8>),
    /// ID_KEY_ID: opaque bytes.
    KeyId(Vec<u8>),
}

impl Identity {
    /// The ID payload carrying this identity.
    #[must_use]
    pub fn to_id(&self) -> Id<'static> {
        let (id_type, data): (IdType, Vec<u8>) = match self {
            Self::Ipv4(a) => (IdType::ID_IPV4_ADDR, a.octets().to_vec()),
            Self::Ipv6(a) => (IdType::ID_IPV6_ADDR, a.octets().to_vec()),
            Self::Fqdn(s) => (IdType::ID_FQDN, s.as_bytes().to_vec()),
            Self::Email(s) => (IdType::ID_RFC822_ADDR, s.as_bytes().to_vec()),
            Self::Dn(d) => (IdType::ID_DER_ASN1_DN, d.clone()),
            Self::KeyId(k) => (IdType::ID_KEY_ID, k.clone()),
        };
        Id {
            id_type,
            data: alloc::borrow::Cow::Owned(data),
        }
    }

    /// True if the ID payload `id` names this identity (FQDN and email compared ASCII
    /// case-insensitively).
    #[must_use]
    pub fn matches(&self, id: &Id<'_>) -> bool {
        let ours = self.to_id();
        if ours.id_type != id.id_type {
            return false;
        }
        match self {
            Self::Fqdn(_) | Self::Email(_) => ours.data.eq_ignore_ascii_case(&id.data),
            _ => ours.data == id.data,
        }
    }

    /// The identity an address stands for (strongSwan's default ID: the IKE address).
    #[must_use]
    pub fn from_addr(addr: IpAddr) -> Self {
        match addr {
            IpAddr::V4(a) => Self::Ipv4(a),
            IpAddr::V6(a) => Self::Ipv6(a),
        }
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ipv4(a) => write!(f, "{a}"),
            Self::Ipv6(a) => write!(f, "{a}"),
            Self::Fqdn(s) => write!(f, "@{s}"),
            Self::Email(s) => write!(f, "{s}"),
            Self::Dn(d) => write!(f, "DN({} bytes)", d.len()),
            Self::KeyId(k) => write!(f, "KeyId({} bytes)", k.len()),
        }
    }
}

/// A pre-shared key (`ipsec.secrets` `: PSK "..."`): zeroized on drop, `Debug` prints nothing.
pub struct Psk(SecretBytes);

impl Psk {
    /// Takes the key bytes (the PSK string is used as raw bytes, as strongSwan does).
    #[must_use]
    pub fn new(bytes: &[u8]) -> Self {
        Self(SecretBytes::from_slice(bytes))
    }

    /// The key bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl Clone for Psk {
    fn clone(&self) -> Self {
        Self(self.0.duplicate())
    }
}

impl fmt::Debug for Psk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Psk(..)")
    }
}

/// How we authenticate ourselves (`leftauth`, `local.auth`).
#[derive(Clone)]
#[non_exhaustive]
pub enum LocalAuth {
    /// Shared key message integrity code (RFC 7296 §2.15, auth method 2).
    Psk(Psk),
    /// A signature with our private key, our certificate sent in CERT payloads (RFC 7296 §3.6).
    /// The AUTH method is RFC 7427 digital signature (14) when the peer announced
    /// SIGNATURE_HASH_ALGORITHMS, else the classic method of the key type (1, 9 or 10).
    Certificate {
        /// Our end-entity certificate first, then intermediates to send.
        chain: Vec<Certificate>,
        /// The matching private key.
        key: Arc<dyn SigningKey>,
    },
}

impl fmt::Debug for LocalAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Psk(_) => f.write_str("Psk"),
            Self::Certificate { chain, .. } => write!(f, "Certificate(chain of {})", chain.len()),
        }
    }
}

/// How the peer must authenticate (`rightauth`, `remote.auth`).
#[derive(Clone)]
#[non_exhaustive]
pub enum RemoteAuth {
    /// The shared key MIC with this key.
    Psk(Psk),
    /// A signature by a certificate that validates to one of `trust_anchors` at the caller's
    /// wall-clock time and carries the peer's ID (RFC 4945 §3.1).
    Certificate {
        /// Trust anchors (CA certificates); their SHA-1 SPKI hashes go into CERTREQ.
        trust_anchors: Vec<Certificate>,
    },
}

impl fmt::Debug for RemoteAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Psk(_) => f.write_str("Psk"),
            Self::Certificate { trust_anchors } => write!(f, "Certificate({} anchors)", trust_anchors.len()),
        }
    }
}

/// What happens when DPD or a retransmission timeout declares the peer dead (`dpdaction`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum DpdAction {
    /// Delete the IKE SA and its CHILD SAs (`clear`, the default).
    #[default]
    Clear,
    /// Delete them; the driver keeps trap policies so traffic re-establishes them (`hold`/`trap`).
    Hold,
    /// Delete them and initiate a new IKE SA at once (`restart`).
    Restart,
}

/// Dead peer detection (RFC 7296 §2.4): an empty INFORMATIONAL request when nothing was
/// received for `delay`; the peer is dead when the request times out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DpdConfig {
    /// `dpddelay`; `None` (the default, like `dpd_delay = 0`) disables liveness checks.
    pub delay: Option<Duration>,
    /// `dpdtimeout`: the liveness request is given up after this long (default 150 s; the
    /// retransmission schedule also ends it). IKEv2 strongSwan uses retransmissions only; we stop
    /// at whichever comes first.
    pub timeout: Duration,
    /// `dpdaction`.
    pub action: DpdAction,
}

impl Default for DpdConfig {
    fn default() -> Self {
        Self {
            delay: None,
            timeout: Duration::from_secs(150),
            action: DpdAction::Clear,
        }
    }
}

/// IKE SA lifetime (`ikelifetime`, `rekey_time`, `over_time`, `rand_time`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IkeLifetime {
    /// Rekey the IKE SA after this long (`rekey_time`, default 4 h); `None` never rekeys.
    pub rekey_time: Option<Duration>,
    /// Delete the IKE SA this long after the rekey time if rekeying did not succeed
    /// (`over_time` / `margintime`; default 10 % of `rekey_time`, here 24 min).
    pub over_time: Duration,
    /// Subtract a random duration in `[0, jitter]` from `rekey_time` (`rand_time` /
    /// `rekeyfuzz`), so both ends do not rekey at once (default 0).
    pub jitter: Duration,
}

impl Default for IkeLifetime {
    fn default() -> Self {
        Self {
            rekey_time: Some(Duration::from_secs(4 * 3600)),
            over_time: Duration::from_secs(24 * 60),
            jitter: Duration::ZERO,
        }
    }
}

/// CHILD SA lifetime (`lifetime`, `rekey_time`, `life_time`, `rand_time`, bytes and packets).
/// Time limits run in the engine; byte and packet limits in the `Sad` (its `SoftExpired` event
/// goes to [`Endpoint::rekey_child_sa`](crate::endpoint::Endpoint::rekey_child_sa)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChildLifetime {
    /// Rekey after this long (`rekey_time`, default 1 h); `None` never rekeys by time.
    pub rekey_time: Option<Duration>,
    /// Hard limit: delete after this long (`life_time`, default `rekey_time` + 10 %).
    pub life_time: Option<Duration>,
    /// Subtract a random duration in `[0, jitter]` from the rekey time (`rand_time`).
    pub jitter: Duration,
    /// Soft byte limit (`rekey_bytes`).
    pub rekey_bytes: Option<u64>,
    /// Hard byte limit (`life_bytes`).
    pub life_bytes: Option<u64>,
    /// Soft packet limit (`rekey_packets`).
    pub rekey_packets: Option<u64>,
    /// Hard packet limit (`life_packets`).
    pub life_packets: Option<u64>,
}

impl Default for ChildLifetime {
    fn default() -> Self {
        Self {
            rekey_time: Some(Duration::from_secs(3600)),
            life_time: Some(Duration::from_secs(3960)),
            jitter: Duration::ZERO,
            rekey_bytes: None,
            life_bytes: None,
            rekey_packets: None,
            life_packets: None,
        }
    }
}

/// When a CHILD SA is set up (`auto=`, `start_action`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum StartAction {
    /// Only when asked ([`Endpoint::connect`](crate::endpoint::Endpoint::connect)) or by the
    /// peer (`auto=add`, the default).
    #[default]
    None,
    /// The driver connects at start (`auto=start`).
    Start,
    /// The driver installs a trap policy and connects on an SPD acquire (`auto=route`).
    Trap,
}

/// IPsec mode of a CHILD SA (`type=tunnel|transport`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum IpsecMode {
    /// Tunnel mode (RFC 4301 §4.1).
    #[default]
    Tunnel,
    /// Transport mode, negotiated with USE_TRANSPORT_MODE (RFC 7296 §1.3.1).
    Transport,
}

/// One traffic selector side (RFC 7296 §3.13.1): addresses, protocol and ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TsEntry {
    /// Address range.
    pub addrs: AddrRange,
    /// IP protocol; `None` is any.
    pub protocol: Option<IpProtocol>,
    /// Port range (ICMP: type/code, RFC 4301 §4.4.1.3).
    pub ports: PortRange,
}

impl TsEntry {
    /// Every address of `addrs`, any protocol and port.
    #[must_use]
    pub const fn subnet(addrs: AddrRange) -> Self {
        Self {
            addrs,
            protocol: None,
            ports: PortRange::ANY,
        }
    }
}

/// A CHILD SA template (`conn` ESP settings, `children.<name>`).
#[derive(Clone, Debug)]
pub struct ChildConfig {
    /// Name for logs.
    pub name: String,
    /// `type=`.
    pub mode: IpsecMode,
    /// ESP (protocol ESP) or AH (protocol AH) proposals (`esp=`, `ah=`). A KE transform gives
    /// PFS on rekey (RFC 7296 §1.3.1); it is left out of IKE_AUTH (no KE there).
    pub proposals: Vec<Proposal<'static>>,
    /// `!` on `esp=`.
    pub strictness: Strictness,
    /// Our traffic selectors (`leftsubnet`); empty = "dynamic": our IKE address, or the
    /// virtual IP the responder assigned.
    pub local_ts: Vec<TsEntry>,
    /// The peer's traffic selectors (`rightsubnet`); empty = "dynamic": the peer's IKE
    /// address, or the address we assigned it from the pool.
    pub remote_ts: Vec<TsEntry>,
    /// Lifetimes (`lifetime`, `margintime`, `rekeyfuzz`).
    pub lifetime: ChildLifetime,
    /// `auto=`.
    pub start_action: StartAction,
    /// Anti-replay window in packets (`replay_window`, default 32).
    pub replay_window: u32,
}

impl ChildConfig {
    /// A tunnel-mode child between two selector lists with the default ESP proposals.
    #[must_use]
    pub fn tunnel(name: &str, local_ts: Vec<TsEntry>, remote_ts: Vec<TsEntry>) -> Self {
        Self {
            name: String::from(name),
            mode: IpsecMode::Tunnel,
            proposals: default_esp_proposals(),
            strictness: Strictness::Strict,
            local_ts,
            remote_ts,
            lifetime: ChildLifetime::default(),
            start_action: StartAction::None,
            replay_window: 32,
        }
    }

    /// The protocol of the proposals (ESP or AH).
    #[must_use]
    pub fn protocol(&self) -> ProtocolId {
        self.proposals.first().map_or(ProtocolId::ESP, |p| p.protocol)
    }
}

/// RFC 7383 fragmentation (`fragmentation=yes`, `fragment_size`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FragmentationConfig {
    /// Announce IKEV2_FRAGMENTATION_SUPPORTED and fragment when the peer did too (default on).
    pub enabled: bool,
    /// Largest IP packet an IKE message may make (default 1280, strongSwan's `fragment_size`).
    pub max_packet: usize,
    /// Most fragments one message may arrive in (reassembly memory bound, default 32).
    pub max_fragments: u16,
}

impl Default for FragmentationConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            max_packet: 1280,
            max_fragments: 32,
        }
    }
}

/// A pool of internal addresses the responder hands out in CFG_REPLY (RFC 7296 §3.15.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressPool {
    /// Addresses handed out, in order, every one of them (`rightsourceip=10.3.0.1-10.3.0.14`;
    /// [`AddressPool::subnet`] builds the range of a `rightsourceip=10.3.0.0/28`).
    pub range: AddrRange,
    /// DNS servers sent as INTERNAL_IP4_DNS / INTERNAL_IP6_DNS.
    pub dns: Vec<IpAddr>,
}

impl AddressPool {
    /// The pool of a subnet, as strongSwan hands one out: without an IPv4 subnet's network and
    /// broadcast addresses (prefixes up to /30), without an IPv6 subnet's first address (the
    /// Subnet-Router anycast address, RFC 4291 §2.6.1; prefixes up to /126).
    ///
    /// # Errors
    /// [`ConfigError`] for a prefix too long for the family or host bits set.
    pub fn subnet(network: IpAddr, prefix_len: u8, dns: Vec<IpAddr>) -> Result<Self, ConfigError> {
        let invalid = |_| ConfigError::new(None, None, "address pool: not a subnet");
        let block = AddrRange::from_prefix(network, prefix_len).map_err(invalid)?;
        let range = match (block.start(), block.end()) {
            (IpAddr::V4(s), IpAddr::V4(e)) if prefix_len <= 30 => AddrRange::new(
                IpAddr::V4(Ipv4Addr::from_bits(s.to_bits().saturating_add(1))),
                IpAddr::V4(Ipv4Addr::from_bits(e.to_bits().saturating_sub(1))),
            ),
            (IpAddr::V6(s), e @ IpAddr::V6(_)) if prefix_len <= 126 => {
                AddrRange::new(IpAddr::V6(Ipv6Addr::from_bits(s.to_bits().saturating_add(1))), e)
            }
            _ => Ok(block),
        }
        .map_err(invalid)?;
        Ok(Self { range, dns })
    }
}

/// One connection: both ends' addresses and identities, authentication, IKE settings, children.
#[derive(Clone, Debug)]
pub struct PeerConfig {
    /// Name for logs (`conn <name>`).
    pub name: String,
    /// Our address (`left`); `None` accepts any local address (`%any`, `%defaultroute`).
    pub local_addr: Option<IpAddr>,
    /// The peer's address (`right`); `None` accepts any (responder only; `connect` needs one).
    pub remote_addr: Option<IpAddr>,
    /// The peer's IKE port (default 500).
    pub remote_port: u16,
    /// Our identity (`leftid`); `None` uses our IKE address.
    pub local_id: Option<Identity>,
    /// The identity the peer must present (`rightid`); `None` accepts any (`%any`).
    pub remote_id: Option<Identity>,
    /// How we authenticate.
    pub local_auth: LocalAuth,
    /// How the peer must authenticate.
    pub remote_auth: RemoteAuth,
    /// IKE proposals (`ike=`).
    pub ike_proposals: Vec<Proposal<'static>>,
    /// `!` on `ike=`.
    pub ike_strictness: Strictness,
    /// IKE SA lifetime.
    pub ike_lifetime: IkeLifetime,
    /// Dead peer detection.
    pub dpd: DpdConfig,
    /// Attempts to set up the IKE SA before giving up (`keyingtries`, default 1; 0 = forever).
    pub keyingtries: u32,
    /// RFC 7383 fragmentation.
    pub fragmentation: FragmentationConfig,
    /// Pretend to be behind a NAT so that UDP encapsulation is used (`forceencaps`).
    pub force_encap: bool,
    /// Accept MODP-1024 (group 2) if negotiated; raises [`crate::event::Warning::WeakAlgorithm`].
    /// The crypto provider must allow it too.
    pub allow_weak_modp1024: bool,
    /// Send INITIAL_CONTACT in our first IKE_AUTH (RFC 7296 §2.4; default on): the peer then
    /// deletes older IKE SAs with our identity.
    pub initial_contact: bool,
    /// Request an internal address in IKE_AUTH (`leftsourceip=%config`, RFC 7296 §2.19).
    pub request_virtual_ip: bool,
    /// Responder: addresses to assign when the peer requests one (`rightsourceip=<pool>`).
    pub address_pool: Option<AddressPool>,
    /// Send CERTREQ for our trust anchors (default on, certificate auth only).
    pub send_certreq: bool,
    /// The CHILD SAs; the first one is created with IKE_AUTH when we initiate.
    pub children: Vec<ChildConfig>,
}

impl PeerConfig {
    /// A PSK connection between `local` and `remote` with default IKE proposals and no children.
    #[must_use]
    pub fn psk(name: &str, local_addr: Option<IpAddr>, remote_addr: Option<IpAddr>, psk: &[u8]) -> Self {
        Self {
            name: String::from(name),
            local_addr,
            remote_addr,
            remote_port: 500,
            local_id: None,
            remote_id: None,
            local_auth: LocalAuth::Psk(Psk::new(psk)),
            remote_auth: RemoteAuth::Psk(Psk::new(psk)),
            ike_proposals: default_ike_proposals(),
            ike_strictness: Strictness::Strict,
            ike_lifetime: IkeLifetime::default(),
            dpd: DpdConfig::default(),
            keyingtries: 1,
            fragmentation: FragmentationConfig::default(),
            force_encap: false,
            allow_weak_modp1024: false,
            initial_contact: true,
            request_virtual_ip: false,
            address_pool: None,
            send_certreq: true,
            children: Vec::new(),
        }
    }

    fn validate(&self, p: usize) -> Result<(), ConfigError> {
        let err = |what| ConfigError::new(Some(p), None, what);
        if self.ike_proposals.is_empty() {
            return Err(err("no IKE proposal"));
        }
        for prop in &self.ike_proposals {
            if prop.protocol != ProtocolId::IKE {
                return Err(err("IKE proposal with another protocol"));
            }
            if prop.prf().is_none() || prop.encr().is_none() || prop.dh_group().is_none() {
                return Err(err("IKE proposal without ENCR, PRF or KE"));
            }
            if prop
                .transforms_of(TransformType::KE)
                .any(|t| t.transform_id == DhGroup::MODP_1024.0)
                && !self.allow_weak_modp1024
            {
                return Err(err("MODP-1024 needs allow_weak_modp1024"));
            }
        }
        if let (LocalAuth::Certificate { chain, .. }, _) = (&self.local_auth, ()) {
            if chain.is_empty() {
                return Err(err("certificate authentication without a certificate"));
            }
        }
        for (c, child) in self.children.iter().enumerate() {
            let cerr = |what| ConfigError::new(Some(p), Some(c), what);
            if child.proposals.is_empty() {
                return Err(cerr("no ESP/AH proposal"));
            }
            let protocol = child.protocol();
            if protocol != ProtocolId::ESP && protocol != ProtocolId::AH {
                return Err(cerr("child proposal neither ESP nor AH"));
            }
            if child.proposals.iter().any(|q| q.protocol != protocol) {
                return Err(cerr("child proposals mix ESP and AH"));
            }
            if child.replay_window == 0 {
                return Err(cerr("replay window 0"));
            }
            if child.local_ts.len() > 8 || child.remote_ts.len() > 8 {
                return Err(cerr("more than 8 traffic selectors"));
            }
        }
        Ok(())
    }
}

/// Our default IKE proposals: AES-GCM-16-256/128 with PRF-HMAC-SHA2-256/384 and AES-CBC-256
/// with HMAC-SHA2-256-128, each with Curve25519, ECP-256, ECP-384, MODP-3072, MODP-2048.
#[must_use]
pub fn default_ike_proposals() -> Vec<Proposal<'static>> {
    let ke = [
        DhGroup::CURVE25519,
        DhGroup::ECP_256,
        DhGroup::ECP_384,
        DhGroup::MODP_3072,
        DhGroup::MODP_2048,
    ];
    let prf = [PrfId::PRF_HMAC_SHA2_256, PrfId::PRF_HMAC_SHA2_384];
    let mut aead = alloc::vec![
        Transform::encr(EncrId::ENCR_AES_GCM_16, Some(256)),
        Transform::encr(EncrId::ENCR_AES_GCM_16, Some(128)),
    ];
    aead.extend(prf.iter().map(|p| Transform::prf(*p)));
    aead.extend(ke.iter().map(|g| Transform::ke(*g)));
    let mut cbc = alloc::vec![
        Transform::encr(EncrId::ENCR_AES_CBC, Some(256)),
        Transform::integ(IntegId::AUTH_HMAC_SHA2_256_128),
    ];
    cbc.extend(prf.iter().map(|p| Transform::prf(*p)));
    cbc.extend(ke.iter().map(|g| Transform::ke(*g)));
    alloc::vec![
        proposal(1, ProtocolId::IKE, aead),
        proposal(2, ProtocolId::IKE, cbc)
    ]
}

/// Our default ESP proposals: AES-GCM-16-256/128, then AES-CBC-256 with HMAC-SHA2-256-128, no
/// ESN, no PFS.
#[must_use]
pub fn default_esp_proposals() -> Vec<Proposal<'static>> {
    alloc::vec![
        proposal(
            1,
            ProtocolId::ESP,
            alloc::vec![
                Transform::encr(EncrId::ENCR_AES_GCM_16, Some(256)),
                Transform::encr(EncrId::ENCR_AES_GCM_16, Some(128)),
                Transform::esn(EsnId::NO_ESN),
            ]
        ),
        proposal(
            2,
            ProtocolId::ESP,
            alloc::vec![
                Transform::encr(EncrId::ENCR_AES_CBC, Some(256)),
                Transform::integ(IntegId::AUTH_HMAC_SHA2_256_128),
                Transform::esn(EsnId::NO_ESN),
            ]
        ),
    ]
}

/// A proposal without SPI (the engine fills SPIs in).
#[must_use]
pub fn proposal(number: u8, protocol: ProtocolId, transforms: Vec<Transform<'static>>) -> Proposal<'static> {
    Proposal {
        number,
        protocol,
        spi: alloc::borrow::Cow::Borrowed(&[]),
        transforms,
    }
}
