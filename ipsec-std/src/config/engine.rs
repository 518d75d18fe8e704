//! From the loaded [`Config`] to the IKE engine's plain-data configuration
//! ([`ipsec_ike::EndpointConfig`]).
//!
//! One [`PeerConfig`] per connection that is loaded (`auto=` other than `ignore`), with one
//! tunnel-mode [`ChildConfig`]. The mapping follows strongSwan's reading of `ipsec.conf`:
//!
//! | model | engine |
//! |---|---|
//! | `ikelifetime`, `margintime`, `rekeyfuzz` | IKE rekey at `ikelifetime − margintime`, jitter `margintime × rekeyfuzz %`, over-time `margintime` |
//! | `lifetime` (same margin and fuzz) | CHILD rekey at `lifetime − margintime`, hard limit `lifetime` |
//! | `dpddelay`, `dpdtimeout`, `dpdaction` | [`DpdConfig`]; `dpdaction=none` or `dpddelay=0` sends no liveness checks |
//! | `keyingtries=%forever` / `0` | `keyingtries = 0` (forever) |
//! | `auto=start` / `route` / `add` | [`StartAction::Start`] / [`StartAction::Trap`] / [`StartAction::None`] |
//! | `ike=`, `esp=` with `!` | proposals with [`Strictness::Strict`], else [`Strictness::AcceptDefaults`] |
//! | `authby=secret` | the PSK of [`Config::psk_for`] (our and the peer's identity) |
//!
//! UDP encapsulation is always forced ([`PeerConfig::force_encap`]): this peer carries ESP in user
//! space over its UDP sockets (RFC 3948), like strongSwan's `kernel-libipsec`, and has no raw ESP
//! socket.
//!
//! Certificate authentication (`authby=pubkey`, RFC 7296 §2.15 / RFC 7427): our certificate is
//! `leftcert` (PEM or DER), our private key the `: RSA` / `: ECDSA` secret whose selectors match
//! our identity (or that has none), unencrypted PEM (PKCS#8, PKCS#1 or SEC1) or DER; the peer's
//! certificate must chain to one of the trust anchors given to [`engine_config_with_cas`]
//! (strongSwan's `ipsec.d/cacerts/`) and carry the peer's identity (`rightid`, required).

use std::fmt;
use std::net::{IpAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ipsec_core::selector::AddrRange;
use ipsec_ike::cert::Certificate;
use ipsec_ike::config::{
    AddressPool, ChildConfig, ChildLifetime, DpdAction as EngineDpdAction, DpdConfig, FragmentationConfig,
    Identity as EngineIdentity, IkeLifetime, IpsecMode, LocalAuth, PeerConfig, Psk, RemoteAuth, StartAction,
    TsEntry, proposal,
};
use ipsec_ike::crypto::CryptoProvider;
use ipsec_ike::crypto::rustcrypto::{Options, RustCrypto};
use ipsec_ike::message::{DhGroup, EncrId, EsnId, IntegId, PrfId, ProtocolId, Transform};
use ipsec_ike::proposal::Strictness;
use ipsec_ike::{EndpointConfig, PeerId};

use super::{
    AuthMethod, Auto, Config, Connection, DpdAction, EndAddress, EspProposal, Fragmentation, Identity,
    IkeProposal, KeyingTries, Mode, ProposalList, Secret, WeakAlgorithm,
};
use crate::subnet::Subnet;

/// A connection that cannot be handed to the engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineConfigError {
    /// The connection's name.
    pub connection: String,
    /// The configuration key at fault.
    pub key: &'static str,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for EngineConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "conn {}: {}: {}", self.connection, self.key, self.reason)
    }
}

impl std::error::Error for EngineConfigError {}

/// The engine configuration and, per [`PeerId`], the connection it came from.
#[derive(Debug)]
pub struct EngineConfig {
    /// What [`ipsec_ike::Endpoint::new`] takes.
    pub endpoint: Arc<EndpointConfig>,
    /// `connections[peer.0]` is the connection behind `PeerId(peer.0)`.
    pub connections: Vec<Connection>,
}

impl EngineConfig {
    /// The peer id of the connection named `name`.
    #[must_use]
    pub fn peer_by_name(&self, name: &str) -> Option<PeerId> {
        self.connections.iter().position(|c| c.name == name).map(PeerId)
    }
}

/// Maps every loaded connection of `config` onto the engine's configuration, without trust
/// anchors (a connection that authenticates its peer by certificate is then refused). See the
/// module docs.
///
/// # Errors
/// As [`engine_config_with_cas`].
pub fn engine_config(config: &Config) -> Result<EngineConfig, EngineConfigError> {
    engine_config_with_cas(config, &[])
}

/// The CA certificates (PEM or DER, one per file) in `dir`, sorted by file name; an absent
/// directory gives none.
///
/// # Errors
/// A file that cannot be read.
pub fn ca_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    match std::fs::read_dir(dir) {
        Ok(entries) => {
            for e in entries {
                let path = e?.path();
                if path.is_file() {
                    files.push(path);
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    files.sort();
    Ok(files)
}

/// Maps every loaded connection of `config` onto the engine's configuration; `cacerts` are the
/// trust anchors for peers that authenticate by certificate. See the module docs.
///
/// # Errors
/// [`EngineConfigError`] for the first connection that cannot be mapped (no PSK or private key
/// for its identities, an unreadable certificate or key, no trust anchor for a certificate peer,
/// an unresolvable host name, a DN identity).
pub fn engine_config_with_cas(
    config: &Config,
    cacerts: &[PathBuf],
) -> Result<EngineConfig, EngineConfigError> {
    let mut peers = Vec::new();
    let mut connections = Vec::new();
    let mut weak_modp = false;
    let mut sha1 = false;
    for conn in config.connections.iter().filter(|c| c.auto != Auto::Ignore) {
        weak_modp |= conn.allow_weak.contains(&WeakAlgorithm::Modp1024);
        sha1 |= conn.allow_weak.contains(&WeakAlgorithm::Sha1);
    }
    let options = Options::new().allow_weak_modp1024(weak_modp).allow_sha1(sha1);
    let crypto = RustCrypto::with_options(options);
    let mut anchors = Vec::new();
    for path in cacerts {
        anchors.push(read_certificate(path).map_err(|reason| EngineConfigError {
            connection: String::new(),
            key: "cacerts",
            reason,
        })?);
    }
    for conn in config.connections.iter().filter(|c| c.auto != Auto::Ignore) {
        peers.push(peer_config(config, conn, &crypto, &anchors)?);
        connections.push(conn.clone());
    }
    let mut endpoint = EndpointConfig::new(Arc::new(crypto));
    endpoint.peers = peers;
    endpoint.validate().map_err(|e| EngineConfigError {
        connection: e
            .peer
            .and_then(|p| connections.get(p.0))
            .map_or_else(String::new, |c: &Connection| c.name.clone()),
        key: "conn",
        reason: e.what.to_owned(),
    })?;
    Ok(EngineConfig {
        endpoint: Arc::new(endpoint),
        connections,
    })
}

fn peer_config(
    config: &Config,
    conn: &Connection,
    crypto: &RustCrypto,
    anchors: &[Certificate],
) -> Result<PeerConfig, EngineConfigError> {
    let err = |key: &'static str, reason: String| EngineConfigError {
        connection: conn.name.clone(),
        key,
        reason,
    };
    let psk = || {
        config
            .psk_for(&conn.local.effective_id(), &conn.remote.effective_id())
            .ok_or_else(|| {
                err(
                    "authby",
                    format!(
                        "no PSK in the secrets for {} and {}",
                        conn.local.effective_id(),
                        conn.remote.effective_id()
                    ),
                )
            })
    };
    let local_addr = resolve(&conn.local.address).map_err(|r| err("left", r))?;
    let remote_addr = resolve(&conn.remote.address).map_err(|r| err("right", r))?;
    let mut peer = PeerConfig::psk(&conn.name, local_addr, remote_addr, b"");
    peer.local_auth = match conn.local.auth {
        AuthMethod::Psk => LocalAuth::Psk(Psk::new(psk()?.expose())),
        AuthMethod::PubKey => local_certificate(config, conn, crypto).map_err(|(k, r)| err(k, r))?,
    };
    peer.remote_auth = match conn.remote.auth {
        AuthMethod::Psk => RemoteAuth::Psk(Psk::new(psk()?.expose())),
        AuthMethod::PubKey => {
            if anchors.is_empty() {
                return Err(err(
                    "rightauth",
                    "the peer authenticates by certificate but no CA certificate is loaded \
                     (put it into ipsec.d/cacerts/ beside the config)"
                        .into(),
                ));
            }
            if conn.remote.id.as_ref().is_none_or(|id| *id == Identity::Any) {
                return Err(err(
                    "rightid",
                    "a peer authenticating by certificate needs rightid (the identity its certificate must carry)"
                        .into(),
                ));
            }
            RemoteAuth::Certificate {
                trust_anchors: anchors.to_vec(),
            }
        }
    };
    peer.local_id = identity(conn.local.id.as_ref()).map_err(|r| err("leftid", r))?;
    peer.remote_id = identity(conn.remote.id.as_ref()).map_err(|r| err("rightid", r))?;
    peer.ike_proposals = ike_proposals(&conn.ike);
    peer.ike_strictness = strictness(conn.ike.strict);
    let margin = conn.margin_time;
    let jitter = margin
        .checked_mul(conn.rekey_fuzz_percent)
        .map_or(margin, |d| d.checked_div(100).unwrap_or_default());
    peer.ike_lifetime = IkeLifetime {
        rekey_time: rekey_time(conn.ike_lifetime, margin),
        over_time: margin,
        jitter: rekey_time(conn.ike_lifetime, margin).map_or(Duration::ZERO, |r| jitter.min(half(r))),
    };
    peer.dpd = DpdConfig {
        delay: match conn.dpd.action {
            DpdAction::None => None,
            _ if conn.dpd.delay.is_zero() => None,
            _ => Some(conn.dpd.delay),
        },
        timeout: conn.dpd.timeout,
        action: match conn.dpd.action {
            DpdAction::None | DpdAction::Clear => EngineDpdAction::Clear,
            DpdAction::Hold => EngineDpdAction::Hold,
            DpdAction::Restart => EngineDpdAction::Restart,
        },
    };
    peer.keyingtries = match conn.keying_tries {
        KeyingTries::Forever => 0,
        KeyingTries::Limited(n) => n.get(),
    };
    peer.fragmentation = FragmentationConfig {
        enabled: conn.fragmentation != Fragmentation::No,
        ..FragmentationConfig::default()
    };
    // User-space ESP travels in UDP only (see the module docs).
    peer.force_encap = true;
    peer.allow_weak_modp1024 = conn.allow_weak.contains(&WeakAlgorithm::Modp1024);

    if conn.local.pool.is_some() || !conn.local.dns.is_empty() {
        return Err(err(
            "leftsourceip",
            "a pool or DNS servers for our own end are not supported; a pool goes on the remote end (rightsourceip), %config asks for an address".into(),
        ));
    }
    if conn.remote.request_address {
        return Err(err(
            "rightsourceip",
            "%config on the remote end: give it a pool (rightsourceip=<subnet>) instead".into(),
        ));
    }
    peer.request_virtual_ip = conn.local.request_address;
    if let Some(pool) = conn.remote.pool {
        peer.address_pool = Some(
            AddressPool::subnet(pool.addr(), pool.prefix(), conn.remote.dns.clone())
                .map_err(|e| err("rightsourceip", e.to_string()))?,
        );
    } else if !conn.remote.dns.is_empty() {
        return Err(err(
            "rightdns",
            "DNS servers are sent with a pool address: set rightsourceip".into(),
        ));
    }
    let local_ts = selectors(&conn.local.traffic_selectors()).map_err(|r| err("leftsubnet", r))?;
    let remote_ts = selectors(&conn.remote.traffic_selectors()).map_err(|r| err("rightsubnet", r))?;
    let mut child = ChildConfig::tunnel(&conn.name, local_ts, remote_ts);
    child.mode = match conn.mode {
        Mode::Tunnel => IpsecMode::Tunnel,
        Mode::Transport => IpsecMode::Transport,
    };
    child.proposals = esp_proposals(&conn.esp);
    child.strictness = strictness(conn.esp.strict);
    let child_rekey = rekey_time(conn.lifetime, margin);
    child.lifetime = ChildLifetime {
        rekey_time: child_rekey,
        life_time: (!conn.lifetime.is_zero()).then_some(conn.lifetime),
        jitter: child_rekey.map_or(Duration::ZERO, |r| jitter.min(half(r))),
        ..ChildLifetime::default()
    };
    child.start_action = match conn.auto {
        Auto::Start => StartAction::Start,
        Auto::Route => StartAction::Trap,
        Auto::Add | Auto::Ignore => StartAction::None,
    };
    peer.children = vec![child];
    Ok(peer)
}

/// Our certificate (`leftcert`) and the private key for our identity from the secrets.
fn local_certificate(
    config: &Config,
    conn: &Connection,
    crypto: &RustCrypto,
) -> Result<LocalAuth, (&'static str, String)> {
    let cert_path = conn
        .local
        .cert
        .as_ref()
        .ok_or(("leftcert", "authby=pubkey needs leftcert".to_owned()))?;
    let cert = read_certificate(cert_path).map_err(|r| ("leftcert", r))?;
    let id = conn.local.effective_id();
    let (path, passphrase) = config
        .secrets
        .iter()
        .find_map(|s| match s {
            Secret::PrivateKey {
                ids,
                path,
                passphrase,
                ..
            } if ids.is_empty() || ids.iter().any(|i| *i == id || i.is_any()) => Some((path, passphrase)),
            _ => None,
        })
        .ok_or((
            "leftcert",
            format!("no RSA or ECDSA private key in the secrets for {id}"),
        ))?;
    let encrypted = || {
        (
            "leftcert",
            format!("{}: encrypted private keys are not supported", path.display()),
        )
    };
    if passphrase.is_some() {
        return Err(encrypted());
    }
    let bytes = zeroize::Zeroizing::new(
        std::fs::read(path).map_err(|e| ("leftcert", format!("{}: {e}", path.display())))?,
    );
    let der = match der::pem::decode_vec(&bytes) {
        Ok((label, _)) if label.contains("ENCRYPTED") => return Err(encrypted()),
        Ok((_, der)) => zeroize::Zeroizing::new(der),
        Err(_) => bytes,
    };
    let signing = crypto.signing_key(&der).map_err(|e| {
        (
            "leftcert",
            format!(
                "{}: not a usable RSA (2048 bits or more) or ECDSA P-256/P-384 key: {e}",
                path.display()
            ),
        )
    })?;
    Ok(LocalAuth::Certificate {
        chain: vec![cert],
        key: Arc::from(signing),
    })
}

fn read_certificate(path: &Path) -> Result<Certificate, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let cert = if bytes.starts_with(b"-----") {
        Certificate::from_pem(&bytes)
    } else {
        Certificate::from_der(&bytes)
    };
    cert.map_err(|e| format!("{}: not an X.509 certificate: {e}", path.display()))
}

/// `lifetime − margin`, `None` for a zero lifetime (never rekey).
fn rekey_time(lifetime: Duration, margin: Duration) -> Option<Duration> {
    if lifetime.is_zero() {
        return None;
    }
    Some(
        lifetime
            .checked_sub(margin)
            .unwrap_or(half(lifetime))
            .max(Duration::from_secs(1)),
    )
}

fn half(d: Duration) -> Duration {
    d.checked_div(2).unwrap_or_default()
}

fn strictness(strict: bool) -> Strictness {
    if strict {
        Strictness::Strict
    } else {
        Strictness::AcceptDefaults
    }
}

fn resolve(address: &EndAddress) -> Result<Option<IpAddr>, String> {
    match address {
        EndAddress::Any | EndAddress::AnyV4 | EndAddress::AnyV6 => Ok(None),
        EndAddress::Ip(ip) => Ok(Some(*ip)),
        EndAddress::Host(name) => (name.as_str(), 500)
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve {name}: {e}"))?
            .next()
            .map(|a| Some(a.ip()))
            .ok_or_else(|| format!("{name} has no address")),
    }
}

fn identity(id: Option<&Identity>) -> Result<Option<EngineIdentity>, String> {
    Ok(match id {
        None | Some(Identity::Any) => None,
        Some(Identity::Ip(ip)) => Some(EngineIdentity::from_addr(*ip)),
        Some(Identity::Fqdn(s)) => Some(EngineIdentity::Fqdn(s.clone())),
        Some(Identity::Email(s)) => Some(EngineIdentity::Email(s.clone())),
        Some(Identity::KeyId(k)) => Some(EngineIdentity::KeyId(k.clone())),
        Some(Identity::Dn(s)) => {
            return Err(format!(
                "distinguished-name identities ({s}) are not supported by the CLI peer yet"
            ));
        }
    })
}

fn selectors(subnets: &[Subnet]) -> Result<Vec<TsEntry>, String> {
    subnets
        .iter()
        .map(|s| {
            AddrRange::from_prefix(s.addr(), s.prefix())
                .map(TsEntry::subnet)
                .map_err(|e| format!("{s}: {e}"))
        })
        .collect()
}

fn ike_proposals(list: &ProposalList<IkeProposal>) -> Vec<ipsec_ike::message::Proposal<'static>> {
    list.proposals
        .iter()
        .zip(1u8..)
        .map(|(p, n)| {
            let mut t: Vec<Transform<'static>> = p
                .encryption
                .iter()
                .map(|e| Transform::encr(EncrId(e.iana_id()), e.key_bits()))
                .collect();
            t.extend(p.integrity.iter().map(|i| Transform::integ(IntegId(i.iana_id()))));
            t.extend(p.prf.iter().map(|f| Transform::prf(PrfId(f.iana_id()))));
            t.extend(p.dh.iter().map(|g| Transform::ke(DhGroup(g.iana_id()))));
            proposal(n, ProtocolId::IKE, t)
        })
        .collect()
}

fn esp_proposals(list: &ProposalList<EspProposal>) -> Vec<ipsec_ike::message::Proposal<'static>> {
    list.proposals
        .iter()
        .zip(1u8..)
        .map(|(p, n)| {
            let mut t: Vec<Transform<'static>> = p
                .encryption
                .iter()
                .map(|e| Transform::encr(EncrId(e.iana_id()), e.key_bits()))
                .collect();
            t.extend(p.integrity.iter().map(|i| Transform::integ(IntegId(i.iana_id()))));
            t.extend(p.dh.iter().map(|g| Transform::ke(DhGroup(g.iana_id()))));
            if p.esn.is_empty() {
                t.push(Transform::esn(EsnId::NO_ESN));
            }
            t.extend(p.esn.iter().map(|e| {
                Transform::esn(match e {
                    super::proposals::Esn::No => EsnId::NO_ESN,
                    super::proposals::Esn::Yes => EsnId::ESN,
                })
            }));
            proposal(n, ProtocolId::ESP, t)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::{ConfigError, Loaded};
    use crate::route::StaticRoutes;

    const SEED: &str = "conn site-to-site-vpn\n    type=tunnel\n    authby=secret\n    left=%defaultroute\n    \
        leftid=192.0.2.201\n    leftsubnet=192.168.10.0/24\n    right=192.0.2.202\n    rightsubnet=192.168.20.0/24\n    \
        ike=aes256-sha2_256-modp1024!\n    esp=aes256-sha2_256!\n    keyingtries=0\n    ikelifetime=1h\n    lifetime=8h\n    \
        dpddelay=30\n    dpdtimeout=120\n    dpdaction=restart\n    auto=start\n";

    fn seed(secrets: &str) -> Config {
        load(SEED, Some(secrets)).unwrap().config
    }

    /// `conf` (and `secrets`) as loaded on gateway A (192.0.2.201 holds the default route).
    fn load(conf: &str, secrets: Option<&str>) -> Result<Loaded, ConfigError> {
        let routes = StaticRoutes {
            v4: Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 201))),
            ..StaticRoutes::default()
        };
        let secrets = secrets.map(|s| (s, Path::new("ipsec.secrets")));
        Config::from_ipsec_conf_str(conf, Path::new("ipsec.conf"), secrets, &routes)
    }

    #[test]
    fn seed_config_maps_to_one_strict_modp1024_peer() {
        let e = engine_config(&seed("192.0.2.201 192.0.2.202 : PSK \"s3cret\"\n")).unwrap();
        assert_eq!(e.endpoint.peers.len(), 1);
        let p = &e.endpoint.peers[0];
        assert!(p.allow_weak_modp1024 && p.force_encap);
        assert_eq!(p.keyingtries, 0);
        assert_eq!(p.ike_strictness, Strictness::Strict);
        let ike = &p.ike_proposals[0];
        assert_eq!(ike.encr(), Some((EncrId::ENCR_AES_CBC, Some(256))));
        assert_eq!(ike.integ(), Some(IntegId::AUTH_HMAC_SHA2_256_128));
        assert_eq!(ike.prf(), Some(PrfId::PRF_HMAC_SHA2_256));
        assert_eq!(ike.dh_group(), Some(DhGroup::MODP_1024));
        assert_eq!(p.dpd.delay, Some(Duration::from_secs(30)));
        assert_eq!(p.dpd.action, EngineDpdAction::Restart);
        assert_eq!(p.ike_lifetime.rekey_time, Some(Duration::from_secs(3600 - 540)));
        let c = &p.children[0];
        assert_eq!(c.start_action, StartAction::Start);
        assert_eq!(c.local_ts[0].addrs.to_string(), "192.168.10.0/24");
        assert_eq!(c.remote_ts[0].addrs.to_string(), "192.168.20.0/24");
        assert_eq!(c.lifetime.life_time, Some(Duration::from_secs(8 * 3600)));
        let esp = &c.proposals[0];
        assert_eq!(esp.encr(), Some((EncrId::ENCR_AES_CBC, Some(256))));
        assert_eq!(esp.esn(), Some(EsnId::NO_ESN));
        assert_eq!(e.peer_by_name("site-to-site-vpn"), Some(PeerId(0)));
    }

    #[test]
    fn a_right_source_ip_pool_hands_out_addresses_with_dns() {
        let load = |conf: &str| load(conf, Some("192.0.2.201 : PSK \"s3cret\"\n"));
        // A road-warrior gateway: any peer, an address from 10.3.0.0/24, our LAN behind us.
        let gw = SEED
            .replace("right=192.0.2.202", "right=%any")
            .replace(
                "    rightsubnet=192.168.20.0/24\n",
                "    rightsourceip=10.3.0.0/24\n    rightdns=10.3.0.1,192.168.10.53\n",
            )
            .replace("auto=start", "auto=add");
        let e = engine_config(&load(&gw).unwrap().config).unwrap();
        let p = &e.endpoint.peers[0];
        let pool = p.address_pool.as_ref().expect("pool");
        assert_eq!(pool.range.start().to_string(), "10.3.0.1");
        assert_eq!(pool.range.end().to_string(), "10.3.0.254");
        assert_eq!(pool.dns.len(), 2);
        assert!(
            p.children[0].remote_ts.is_empty(),
            "the peer's selector is its address"
        );
        assert_eq!(p.children[0].local_ts[0].addrs.to_string(), "192.168.10.0/24");

        // %config on the remote end, a pool for our own end, DNS without a pool: clear errors.
        let ask = gw.replace("rightsourceip=10.3.0.0/24", "rightsourceip=%config");
        assert_eq!(
            engine_config(&load(&ask).unwrap().config).unwrap_err().key,
            "rightsourceip"
        );
        let own = format!("{gw}    leftsourceip=10.9.0.0/24\n");
        assert_eq!(
            engine_config(&load(&own).unwrap().config).unwrap_err().key,
            "leftsourceip"
        );
        let no_pool = gw.replace("    rightsourceip=10.3.0.0/24\n", "");
        assert_eq!(
            engine_config(&load(&no_pool).unwrap().config).unwrap_err().key,
            "rightdns"
        );
        let two = gw.replace(
            "rightsourceip=10.3.0.0/24",
            "rightsourceip=10.3.0.0/24,10.4.0.0/24",
        );
        assert!(load(&two).is_err());
    }

    #[test]
    fn left_source_ip_config_asks_for_an_address() {
        let rw = SEED.replace("    leftsubnet=192.168.10.0/24\n", "    leftsourceip=%config\n");
        let cfg = load(&rw, Some("192.0.2.201 192.0.2.202 : PSK \"s3cret\"\n"))
            .unwrap()
            .config;
        assert!(cfg.connections[0].local.request_address);
        let e = engine_config(&cfg).unwrap();
        let p = &e.endpoint.peers[0];
        assert!(p.request_virtual_ip);
        assert!(
            p.children[0].local_ts.is_empty(),
            "our selector is the address we get"
        );
        assert_eq!(p.children[0].remote_ts[0].addrs.to_string(), "192.168.20.0/24");
    }

    #[test]
    fn certificate_auth_needs_a_certificate_and_a_ca() {
        let conf = SEED.replace("authby=secret", "authby=pubkey");
        let cfg = load(&conf, None).unwrap().config;
        let e = engine_config(&cfg).unwrap_err();
        assert_eq!(e.key, "leftcert", "{e}");
        let dir = std::env::temp_dir().join(format!("ipsec-std-ca-{}", std::process::id()));
        assert!(
            ca_files(&dir).unwrap().is_empty(),
            "an absent CA directory holds no CA"
        );
    }

    #[test]
    fn a_missing_psk_is_a_clear_error() {
        let e = engine_config(&seed("10.9.9.9 10.9.9.8 : PSK \"other\"\n")).unwrap_err();
        assert_eq!(e.key, "authby");
        assert!(e.to_string().contains("site-to-site-vpn"), "{e}");
    }
}
