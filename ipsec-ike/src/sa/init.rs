//! IKE_SA_INIT (RFC 7296 §1.2): both roles, COOKIE (§2.6), INVALID_KE_PAYLOAD retry (§1.3),
//! NAT detection (§2.23), fragmentation and signature-hash announcements (RFC 7383, RFC 7427).
//!
//! The responder answers statelessly (COOKIE, INVALID_KE_PAYLOAD, NO_PROPOSAL_CHOSEN) until it
//! has chosen a proposal; only then does it create a half-open IKE SA.

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use subtle::ConstantTimeEq;

use super::ts::Trigger;
use super::{Ctx, IkeAlgs, IkeSa, Keys, NONCE_LEN, Request, State, error_notify, key_exchange, nonce};
use crate::config::{ChildConfigId, LocalAuth, PeerConfig, PeerId, RemoteAuth};
use crate::crypto::auth::SUPPORTED_HASHES;
use crate::crypto::{CryptoError, Entropy, HashAlgorithm, KeyExchangeSecret, SecretBytes, WeakAlgorithm};
use crate::endpoint::{ConnectError, DatagramError};
use crate::event::{Event, IkeSaId, Warning};
use crate::keys::{IkeSaKeys, KeyLengths, Role};
use crate::message::{
    CertEncoding, CertReq, DhGroup, ExchangeType, Flags, Header, IkeSpi, Ke, Message, MessageId, Nonce,
    Notify, NotifyType, Payload, Proposal, Sa, TransformType, Version,
};
use crate::proposal::{check_reply, select};
use crate::transmit::{IKE_PORT, NATT_PORT, Transmit};

/// How often an initiator follows COOKIE / INVALID_KE_PAYLOAD before giving up the attempt.
const MAX_INIT_RETRIES: u32 = 4;

/// Initiator state while the IKE_SA_INIT request is out.
pub(crate) struct InitiatorInit {
    pub(crate) kex: Box<dyn KeyExchangeSecret>,
    pub(crate) ni: Vec<u8>,
    pub(crate) cookie: Option<Vec<u8>>,
    /// The request as last sent (signed in our AUTH).
    pub(crate) request: Vec<u8>,
    pub(crate) offered: Vec<Proposal<'static>>,
    pub(crate) retries: u32,
}

/// Responder state between IKE_SA_INIT and IKE_AUTH.
pub(crate) struct ResponderInit {
    /// The request (signed in the peer's AUTH).
    pub(crate) request: Vec<u8>,
    /// Our response (signed in our AUTH; resent for a retransmitted request).
    pub(crate) response: Vec<u8>,
    pub(crate) ni: Vec<u8>,
    pub(crate) nr: Vec<u8>,
}

/// The secret behind our COOKIEs (RFC 7296 §2.6): `Cookie = VersionIDofSecret | Hash(Ni | IPi |
/// SPIi | Secret)` with SHA-256.
pub(crate) struct CookieSecret {
    pub(crate) version: u32,
    pub(crate) secret: SecretBytes,
}

impl CookieSecret {
    pub(crate) fn new(rng: &mut Entropy) -> Result<Self, CryptoError> {
        let mut s = SecretBytes::zeroed(32);
        rng.fill(s.as_mut_bytes())?;
        Ok(Self {
            version: 0,
            secret: s,
        })
    }

    fn cookie(&self, ctx: &Ctx<'_>, ni: &[u8], ip: IpAddr, spi_i: IkeSpi) -> Result<Vec<u8>, CryptoError> {
        let mut data = Vec::with_capacity(ni.len().saturating_add(60));
        data.extend_from_slice(ni);
        push_ip(&mut data, ip);
        data.extend_from_slice(&spi_i.0);
        data.extend_from_slice(self.secret.as_bytes());
        let hash = ctx
            .config
            .crypto
            .signatures()
            .hash(HashAlgorithm::SHA2_256, &data)?;
        let mut out = Vec::with_capacity(36);
        out.extend_from_slice(&self.version.to_be_bytes());
        out.extend_from_slice(&hash);
        Ok(out)
    }
}

fn push_ip(out: &mut Vec<u8>, ip: IpAddr) {
    match ip {
        IpAddr::V4(a) => out.extend_from_slice(&a.octets()),
        IpAddr::V6(a) => out.extend_from_slice(&a.octets()),
    }
}

/// NAT_DETECTION_*_IP data: SHA-1(SPIi | SPIr | IP | port) (RFC 7296 §2.23).
pub(crate) fn nat_hash(
    ctx: &Ctx<'_>,
    spi_i: IkeSpi,
    spi_r: IkeSpi,
    addr: SocketAddr,
) -> Result<Vec<u8>, CryptoError> {
    let mut data = Vec::with_capacity(34);
    data.extend_from_slice(&spi_i.0);
    data.extend_from_slice(&spi_r.0);
    push_ip(&mut data, addr.ip());
    data.extend_from_slice(&addr.port().to_be_bytes());
    ctx.config.crypto.signatures().hash(HashAlgorithm::SHA1, &data)
}

/// Our proposals with every transform the provider lacks (or the configuration refuses) removed;
/// proposals left without an ENCR, PRF or KE transform are dropped.
pub(crate) fn usable_ike_proposals(ctx: &Ctx<'_>, peer: &PeerConfig) -> Vec<Proposal<'static>> {
    let p = &*ctx.config.crypto;
    let mut out = Vec::new();
    for prop in &peer.ike_proposals {
        let mut q = prop.clone();
        q.transforms.retain(|t| match t.transform_type {
            TransformType::ENCR => t.encr_id().is_some_and(|id| p.encr(id, t.key_length()).is_some()),
            TransformType::PRF => t.prf_id().is_some_and(|id| p.prf(id).is_some()),
            TransformType::INTEG => t.integ_id().is_some_and(|id| p.integ(id).is_some()),
            TransformType::KE => t.dh_group().is_some_and(|g| {
                p.key_exchange(g).is_some()
                    && (!g.is_weak() || peer.allow_weak_modp1024 && g == DhGroup::MODP_1024)
            }),
            _ => false,
        });
        if q.encr().is_some() && q.prf().is_some() && q.dh_group().is_some() {
            out.push(q);
        }
    }
    out
}

/// The algorithms of a selected or accepted IKE proposal.
pub(crate) fn ike_algs(p: &Proposal<'_>) -> Option<IkeAlgs> {
    let (encr, key_bits) = p.encr()?;
    let integ = p.integ().filter(|i| i.0 != 0);
    Some(IkeAlgs {
        encr,
        key_bits,
        integ,
        prf: p.prf()?,
        group: p.dh_group()?,
    })
}

/// Derives the keys of a new IKE SA from a shared secret (RFC 7296 §2.14) or, for an IKE rekey,
/// from the old SA's SK_d (§2.18).
#[allow(clippy::too_many_arguments)] // the RFC's inputs, each distinct; a struct would only rename them
pub(crate) fn derive_keys(
    ctx: &Ctx<'_>,
    algs: IkeAlgs,
    g_ir: &[u8],
    old_sk_d: Option<(&[u8], crate::message::PrfId)>,
    ni: &[u8],
    nr: &[u8],
    spi_i: IkeSpi,
    spi_r: IkeSpi,
    initiator: bool,
) -> Result<Keys, CryptoError> {
    let p = &*ctx.config.crypto;
    let prf = p.prf(algs.prf).ok_or(CryptoError::UnsupportedAlgorithm)?;
    let encr = p
        .encr(algs.encr, algs.key_bits)
        .ok_or(CryptoError::UnsupportedAlgorithm)?;
    let integ = match algs.integ {
        Some(i) => Some(p.integ(i).ok_or(CryptoError::UnsupportedAlgorithm)?),
        None => None,
    };
    let lengths = KeyLengths::new(prf, encr, integ);
    let k = match old_sk_d {
        None => IkeSaKeys::from_shared_secret(prf, g_ir, ni, nr, &spi_i.0, &spi_r.0, lengths)?,
        Some((sk_d, old_prf)) => {
            let old = p.prf(old_prf).ok_or(CryptoError::UnsupportedAlgorithm)?;
            let seed = crate::keys::rekey_skeyseed(old, sk_d, g_ir, ni, nr)?;
            IkeSaKeys::derive(prf, &seed, ni, nr, &spi_i.0, &spi_r.0, lengths)?
        }
    };
    let role = if initiator {
        Role::Initiator
    } else {
        Role::Responder
    };
    let (seal, open) = k.sk_keys(role, encr, integ)?;
    let export = ctx
        .config
        .export_ike_keys
        .then(|| [&k.sk_ei, &k.sk_er, &k.sk_ai, &k.sk_ar].map(|s| SecretBytes::from_slice(s.as_bytes())));
    Ok(Keys {
        algs,
        sk_d: k.sk_d,
        sk_pi: k.sk_pi,
        sk_pr: k.sk_pr,
        seal,
        open,
        export,
    })
}

fn unspecified_like(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    }
}

fn sig_hash_notify() -> Notify<'static> {
    Notify::signature_hash_algorithms(SUPPORTED_HASHES)
}

impl IkeSa {
    /// A new initiator IKE SA for `peer`, its IKE_SA_INIT request sent.
    pub(crate) fn initiate(
        ctx: &mut Ctx<'_>,
        now: ipsec_core::Instant,
        id: IkeSaId,
        peer: PeerId,
        child: ChildConfigId,
        trigger: Option<Trigger>,
    ) -> Result<Self, ConnectError> {
        let cfg = ctx.config.peers.get(peer.0).ok_or(ConnectError::UnknownPeer)?;
        let remote_ip = cfg.remote_addr.ok_or(ConnectError::NoRemoteAddress)?;
        if cfg.children.is_empty() {
            return Err(ConnectError::NoChildConfig);
        }
        if cfg.children.get(child.0).is_none() {
            return Err(ConnectError::UnknownChildConfig);
        }
        let remote = SocketAddr::new(remote_ip, cfg.remote_port);
        let local_port = if cfg.remote_port == NATT_PORT {
            NATT_PORT
        } else {
            IKE_PORT
        };
        let local = SocketAddr::new(cfg.local_addr.unwrap_or(unspecified_like(remote_ip)), local_port);
        let mut sa = IkeSa::blank(id, peer, true, local, remote, now);
        sa.auth_child = child;
        sa.trigger = trigger;
        sa.start_attempt(ctx, now)?;
        Ok(sa)
    }

    /// Starts (or restarts, for keyingtries) the IKE_SA_INIT exchange with a fresh SPI, nonce and
    /// key exchange.
    pub(crate) fn start_attempt(
        &mut self,
        ctx: &mut Ctx<'_>,
        now: ipsec_core::Instant,
    ) -> Result<(), ConnectError> {
        let cfg = ctx
            .config
            .peers
            .get(self.peer.0)
            .ok_or(ConnectError::UnknownPeer)?;
        let offered = usable_ike_proposals(ctx, cfg);
        let group = offered
            .first()
            .and_then(Proposal::dh_group)
            .ok_or(ConnectError::NoUsableProposal)?;
        if !self.spi_i.is_zero() {
            ctx.reg.by_spi.remove(&self.spi_i);
        }
        self.spi_i = ctx
            .reg
            .new_ike_spi(ctx.rng, self.id)
            .map_err(ConnectError::Crypto)?;
        self.spi_r = IkeSpi::ZERO;
        self.keys = None;
        self.nat = super::Nat::default();
        self.reassembly = None;
        self.window = super::exchange::Window::default();
        let ni = nonce(ctx.rng, NONCE_LEN).map_err(ConnectError::Crypto)?;
        let kex = key_exchange(ctx, group).map_err(ConnectError::Crypto)?;
        let mut st = InitiatorInit {
            kex,
            ni,
            cookie: None,
            request: Vec::new(),
            offered,
            retries: 0,
        };
        st.request = self.init_request(ctx, &st).map_err(ConnectError::Crypto)?;
        ctx.out
            .transmits
            .push_back(Transmit::ike(self.local, self.remote, &st.request));
        let msgs = alloc::vec![st.request.clone()];
        self.window
            .start(now, &ctx.config.retransmit, Request::IkeSaInit, msgs)
            .ok_or(ConnectError::Crypto(CryptoError::TooLong))?;
        self.state = State::InitSent(Box::new(st));
        Ok(())
    }

    fn init_request(&self, ctx: &mut Ctx<'_>, st: &InitiatorInit) -> Result<Vec<u8>, CryptoError> {
        let cfg = ctx
            .config
            .peers
            .get(self.peer.0)
            .ok_or(CryptoError::Malformed { what: "peer" })?;
        let header = Header {
            spi_i: self.spi_i,
            spi_r: IkeSpi::ZERO,
            version: Version::V2_0,
            exchange_type: ExchangeType::IKE_SA_INIT,
            flags: Flags::new(true, false),
            message_id: MessageId(0),
        };
        let source = if cfg.force_encap {
            // Fake our source hash so that the peer sees a NAT (strongSwan `forceencaps`).
            let mut fake = alloc::vec![0u8; 20];
            ctx.rng.fill(&mut fake)?;
            fake
        } else {
            nat_hash(ctx, self.spi_i, IkeSpi::ZERO, self.local)?
        };
        let dest = nat_hash(ctx, self.spi_i, IkeSpi::ZERO, self.remote)?;
        let mut payloads: Vec<Payload<'_>> = Vec::new();
        if let Some(c) = &st.cookie {
            payloads.push(Payload::Notify(Notify::new(NotifyType::COOKIE, c)));
        }
        payloads.push(Payload::Sa(Sa {
            proposals: st.offered.clone(),
        }));
        payloads.push(Payload::Ke(Ke {
            group: st.kex.group(),
            data: Cow::Borrowed(st.kex.public_value()),
        }));
        payloads.push(Payload::Nonce(Nonce {
            data: Cow::Borrowed(&st.ni),
        }));
        payloads.push(Payload::Notify(Notify::new(
            NotifyType::NAT_DETECTION_SOURCE_IP,
            &source,
        )));
        payloads.push(Payload::Notify(Notify::new(
            NotifyType::NAT_DETECTION_DESTINATION_IP,
            &dest,
        )));
        if cfg.fragmentation.enabled {
            payloads.push(Payload::Notify(Notify::new(
                NotifyType::IKEV2_FRAGMENTATION_SUPPORTED,
                &[],
            )));
        }
        payloads.push(Payload::Notify(sig_hash_notify()));
        let m = Message { header, payloads };
        m.to_vec().map_err(|_| CryptoError::TooLong)
    }

    /// Keyingtries: a fresh attempt with the same IKE SA id.
    pub(crate) fn restart_attempt(
        &mut self,
        ctx: &mut Ctx<'_>,
        now: ipsec_core::Instant,
    ) -> Result<(), ConnectError> {
        let remote_port = self.peer_config(ctx.config).map_or(IKE_PORT, |p| p.remote_port);
        self.remote = SocketAddr::new(self.remote.ip(), remote_port);
        let local_port = if remote_port == NATT_PORT {
            NATT_PORT
        } else {
            IKE_PORT
        };
        self.local = SocketAddr::new(self.local.ip(), local_port);
        self.start_attempt(ctx, now)
    }

    /// An IKE_SA_INIT message routed to this SA by SPI: the response to our request.
    pub(crate) fn handle_init_datagram(
        &mut self,
        ctx: &mut Ctx<'_>,
        now: ipsec_core::Instant,
        remote: SocketAddr,
        local: SocketAddr,
        header: &Header,
        msg: &[u8],
    ) -> Result<(), DatagramError> {
        if !self.initiator || !header.flags.response() || header.flags.initiator() {
            return Err(DatagramError::Unexpected {
                what: "IKE_SA_INIT request for an existing SA",
            });
        }
        if header.message_id != MessageId(0) || !self.window.expects_response(MessageId(0)) {
            return Err(DatagramError::OutOfWindow);
        }
        let State::InitSent(st) = &self.state else {
            return Err(DatagramError::OutOfWindow);
        };
        let m = Message::decode(msg).map_err(DatagramError::Malformed)?;
        let cfg = self
            .peer_config(ctx.config)
            .ok_or(DatagramError::Unexpected { what: "peer" })?;
        // Unprotected notifies may only trigger a retry (STYLE §4.6).
        if let Some(c) = m.notify(NotifyType::COOKIE) {
            if st.retries >= MAX_INIT_RETRIES || c.data.is_empty() || c.data.len() > 64 {
                return Err(DatagramError::Refused { what: "COOKIE" });
            }
            let cookie = c.data.to_vec();
            return self.retry_init(ctx, now, Some(cookie), None);
        }
        if let Some(n) = m.notify(NotifyType::INVALID_KE_PAYLOAD) {
            let group = n.requested_group().ok_or(DatagramError::Refused {
                what: "INVALID_KE_PAYLOAD without group",
            })?;
            let offered = st.offered.iter().any(|p| {
                p.transforms_of(TransformType::KE)
                    .any(|t| t.transform_id == group.0)
            });
            if !offered || group == st.kex.group() || st.retries >= MAX_INIT_RETRIES {
                return Err(DatagramError::Refused {
                    what: "INVALID_KE_PAYLOAD for a group not offered",
                });
            }
            return self.retry_init(ctx, now, st.cookie.clone(), Some(group));
        }
        if let Some(n) = error_notify(&m.payloads) {
            self.refusal = Some(n);
            return Err(DatagramError::Refused {
                what: "peer refused IKE_SA_INIT",
            });
        }
        let spi_r = m.header.spi_r;
        if spi_r.is_zero() || m.header.spi_i != self.spi_i {
            return Err(DatagramError::Unexpected {
                what: "responder SPI",
            });
        }
        let missing = DatagramError::Unexpected {
            what: "IKE_SA_INIT response without SA, KE or Nonce",
        };
        let (Some(Payload::Sa(sa)), Some(Payload::Ke(ke)), Some(Payload::Nonce(nr))) = (
            m.payload(crate::message::PayloadType::SA),
            m.payload(crate::message::PayloadType::KE),
            m.payload(crate::message::PayloadType::NONCE),
        ) else {
            return Err(missing);
        };
        let chosen = check_reply(&st.offered, sa).map_err(|_| DatagramError::Unexpected {
            what: "reply proposal not offered",
        })?;
        let algs = ike_algs(&chosen).ok_or(DatagramError::Unexpected {
            what: "reply proposal incomplete",
        })?;
        if algs.group != ke.group || algs.group != st.kex.group() {
            return Err(DatagramError::Unexpected {
                what: "KE group differs from the proposal",
            });
        }
        let g_ir = st.kex.agree(&ke.data).map_err(DatagramError::Crypto)?;
        let keys = derive_keys(
            ctx,
            algs,
            g_ir.as_bytes(),
            None,
            &st.ni,
            &nr.data,
            self.spi_i,
            spi_r,
            true,
        )
        .map_err(DatagramError::Crypto)?;
        // NAT detection (RFC 7296 §2.23): the responder hashed what it saw.
        let mut nat = super::Nat {
            forced: cfg.force_encap,
            ..super::Nat::default()
        };
        let sources: Vec<&[u8]> = m
            .notifies()
            .filter(|n| n.notify_type == NotifyType::NAT_DETECTION_SOURCE_IP)
            .map(|n| n.data.as_ref())
            .collect();
        let dest = m.notify(NotifyType::NAT_DETECTION_DESTINATION_IP);
        if let (false, Some(dest)) = (sources.is_empty(), dest) {
            let remote_hash = nat_hash(ctx, self.spi_i, spi_r, remote).map_err(DatagramError::Crypto)?;
            nat.remote_behind = !sources
                .iter()
                .any(|s| bool::from(s.ct_eq(remote_hash.as_slice())));
            let local_hash = nat_hash(ctx, self.spi_i, spi_r, local).map_err(DatagramError::Crypto)?;
            nat.local_behind = !bool::from(dest.data.as_ref().ct_eq(local_hash.as_slice()));
        }
        let peer_fragmentation = m.notify(NotifyType::IKEV2_FRAGMENTATION_SUPPORTED).is_some();
        let peer_hashes: Vec<HashAlgorithm> = m
            .notify(NotifyType::SIGNATURE_HASH_ALGORITHMS)
            .and_then(|n| n.hash_algorithms().map(Iterator::collect))
            .unwrap_or_default();
        let certreq = m.payloads.iter().any(|p| matches!(p, Payload::CertReq(_)));
        let weak = algs.group.is_weak();
        let init_req = st.request.clone();
        let ni = st.ni.clone();
        let nr = nr.data.to_vec();
        let init_resp = msg.to_vec();
        // Commit.
        self.window.finish();
        self.spi_r = spi_r;
        let mut keys = keys;
        if let Some(e) = keys.key_log(self.id, self.spi_i, spi_r) {
            ctx.event(e);
        }
        self.keys = Some(keys);
        self.nat = nat;
        self.peer_fragmentation = peer_fragmentation;
        self.peer_hashes = peer_hashes;
        if !local.ip().is_unspecified() {
            self.local = local;
        }
        if nat.any() && self.local.port() != NATT_PORT {
            self.local = SocketAddr::new(self.local.ip(), NATT_PORT);
            self.remote = SocketAddr::new(self.remote.ip(), NATT_PORT);
        }
        if weak {
            ctx.event(Event::Warning(Warning::WeakAlgorithm {
                sa: self.id,
                group: algs.group,
            }));
        }
        let _ = certreq;
        if let Err(e) = self.start_auth(ctx, now, init_req, init_resp, ni, nr) {
            self.fail(ctx, now, crate::event::CloseReason::ProtocolError);
            return Err(e);
        }
        Ok(())
    }

    fn retry_init(
        &mut self,
        ctx: &mut Ctx<'_>,
        now: ipsec_core::Instant,
        cookie: Option<Vec<u8>>,
        group: Option<DhGroup>,
    ) -> Result<(), DatagramError> {
        let kex = match group {
            Some(g) => Some(key_exchange(ctx, g).map_err(DatagramError::Crypto)?),
            None => None,
        };
        let State::InitSent(mut st) = core::mem::replace(&mut self.state, State::Gone) else {
            return Err(DatagramError::OutOfWindow);
        };
        if let Some(k) = kex {
            st.kex = k;
        }
        st.cookie = cookie;
        st.retries = st.retries.saturating_add(1);
        let request = self.init_request(ctx, &st);
        match request {
            Ok(r) => {
                st.request = r;
                ctx.out
                    .transmits
                    .push_back(Transmit::ike(self.local, self.remote, &st.request));
                self.window
                    .restart_same_id(now, &ctx.config.retransmit, alloc::vec![st.request.clone()]);
                self.state = State::InitSent(st);
                Ok(())
            }
            Err(e) => {
                self.state = State::InitSent(st);
                Err(DatagramError::Crypto(e))
            }
        }
    }
}

/// An IKE_SA_INIT request for no existing SA.
pub(crate) struct InitRequest<'m> {
    pub(crate) now: ipsec_core::Instant,
    pub(crate) remote: SocketAddr,
    pub(crate) local: SocketAddr,
    pub(crate) msg: &'m [u8],
    /// Half-open SAs are above the COOKIE threshold.
    pub(crate) cookie_required: bool,
}

/// What [`respond_init`] did.
pub(crate) enum InitOutcome {
    /// Answered without creating state (COOKIE, INVALID_KE_PAYLOAD, NO_PROPOSAL_CHOSEN).
    Stateless,
    /// A half-open IKE SA was created and answered.
    Created(Box<IkeSa>),
}

fn addr_matches(want: Option<IpAddr>, got: IpAddr) -> bool {
    want.is_none_or(|w| w == got || got.is_unspecified())
}

/// The peer configurations an IKE_SA_INIT from `remote` to `local` may belong to.
pub(crate) fn candidate_peers(ctx: &Ctx<'_>, remote: SocketAddr, local: SocketAddr) -> Vec<PeerId> {
    ctx.config
        .peers
        .iter()
        .enumerate()
        .filter(|(_, p)| addr_matches(p.remote_addr, remote.ip()) && addr_matches(p.local_addr, local.ip()))
        .map(|(i, _)| PeerId(i))
        .collect()
}

/// Responder side of IKE_SA_INIT.
pub(crate) fn respond_init(
    ctx: &mut Ctx<'_>,
    req: &InitRequest<'_>,
    secret: &CookieSecret,
) -> Result<InitOutcome, DatagramError> {
    let m = Message::decode(req.msg).map_err(DatagramError::Malformed)?;
    let h = m.header;
    if h.flags.response()
        || !h.flags.initiator()
        || h.message_id != MessageId(0)
        || !h.spi_r.is_zero()
        || h.spi_i.is_zero()
    {
        return Err(DatagramError::Unexpected {
            what: "not an initial IKE_SA_INIT request",
        });
    }
    let candidates = candidate_peers(ctx, req.remote, req.local);
    if candidates.is_empty() {
        return Err(DatagramError::Refused {
            what: "no connection for these addresses",
        });
    }
    let (Some(Payload::Sa(sa)), Some(Payload::Ke(ke)), Some(Payload::Nonce(ni))) = (
        m.payload(crate::message::PayloadType::SA),
        m.payload(crate::message::PayloadType::KE),
        m.payload(crate::message::PayloadType::NONCE),
    ) else {
        return Err(DatagramError::Unexpected {
            what: "IKE_SA_INIT request without SA, KE or Nonce",
        });
    };
    let stateless = |ctx: &mut Ctx<'_>, notify: Notify<'_>| -> Result<InitOutcome, DatagramError> {
        let header = Header {
            spi_r: IkeSpi::ZERO,
            flags: Flags::new(false, true),
            ..h
        };
        let resp = Message {
            header,
            payloads: alloc::vec![Payload::Notify(notify)],
        }
        .to_vec()
        .map_err(DatagramError::Encode)?;
        ctx.out
            .transmits
            .push_back(Transmit::ike(req.local, req.remote, &resp));
        Ok(InitOutcome::Stateless)
    };
    if req.cookie_required {
        let expected = secret
            .cookie(ctx, &ni.data, req.remote.ip(), h.spi_i)
            .map_err(DatagramError::Crypto)?;
        let valid = match m.payloads.first() {
            Some(Payload::Notify(n)) if n.notify_type == NotifyType::COOKIE => {
                bool::from(n.data.as_ref().ct_eq(expected.as_slice()))
            }
            _ => false,
        };
        if !valid {
            return stateless(ctx, Notify::new(NotifyType::COOKIE, &expected));
        }
    }
    let mut selected = None;
    let mut wanted_group = None;
    for peer in &candidates {
        let Some(cfg) = ctx.config.peers.get(peer.0) else {
            continue;
        };
        let ours = usable_ike_proposals(ctx, cfg);
        match select(&ours, &sa.proposals, Some(ke.group), cfg.ike_strictness) {
            Ok(p) => {
                if ike_algs(&p).is_some() {
                    selected = Some((*peer, p));
                    break;
                }
            }
            Err(crate::error::PeerIncompatible::InvalidKePayload { group }) => {
                wanted_group.get_or_insert(group);
            }
            Err(_) => {}
        }
    }
    let Some((peer, chosen)) = selected else {
        return match wanted_group {
            Some(g) => stateless(ctx, Notify::invalid_ke_payload(g)),
            None => stateless(ctx, Notify::new(NotifyType::NO_PROPOSAL_CHOSEN, &[])),
        };
    };
    let algs = ike_algs(&chosen).ok_or(DatagramError::Unexpected { what: "proposal" })?;
    let cfg = ctx
        .config
        .peers
        .get(peer.0)
        .ok_or(DatagramError::Unexpected { what: "peer" })?;
    let kex = key_exchange(ctx, algs.group).map_err(DatagramError::Crypto)?;
    let g_ir = kex.agree(&ke.data).map_err(DatagramError::Crypto)?;
    let nr = nonce(ctx.rng, NONCE_LEN).map_err(DatagramError::Crypto)?;
    // NAT detection: compare the initiator's hashes with what we see.
    let mut nat = super::Nat {
        forced: cfg.force_encap,
        ..super::Nat::default()
    };
    let sources: Vec<&[u8]> = m
        .notifies()
        .filter(|n| n.notify_type == NotifyType::NAT_DETECTION_SOURCE_IP)
        .map(|n| n.data.as_ref())
        .collect();
    let dest = m.notify(NotifyType::NAT_DETECTION_DESTINATION_IP);
    let nat_supported = !sources.is_empty() && dest.is_some();
    if let (true, Some(dest)) = (nat_supported, dest) {
        let remote_hash = nat_hash(ctx, h.spi_i, IkeSpi::ZERO, req.remote).map_err(DatagramError::Crypto)?;
        nat.remote_behind = !sources
            .iter()
            .any(|s| bool::from(s.ct_eq(remote_hash.as_slice())));
        let local_hash = nat_hash(ctx, h.spi_i, IkeSpi::ZERO, req.local).map_err(DatagramError::Crypto)?;
        nat.local_behind = !bool::from(dest.data.as_ref().ct_eq(local_hash.as_slice()));
    }
    let peer_fragmentation = m.notify(NotifyType::IKEV2_FRAGMENTATION_SUPPORTED).is_some();
    let peer_hashes: Vec<HashAlgorithm> = m
        .notify(NotifyType::SIGNATURE_HASH_ALGORITHMS)
        .and_then(|n| n.hash_algorithms().map(Iterator::collect))
        .unwrap_or_default();
    let certreq = match &cfg.remote_auth {
        RemoteAuth::Certificate { trust_anchors } if cfg.send_certreq => {
            Some(certreq_payload(ctx, trust_anchors).map_err(DatagramError::Crypto)?)
        }
        _ => None,
    };
    let _ = matches!(cfg.local_auth, LocalAuth::Psk(_));
    let frag_enabled = cfg.fragmentation.enabled;
    let force_encap = cfg.force_encap;
    // Allocate the SA (its SPI registers it).
    let id = ctx.reg.ike_id();
    let mut ike = IkeSa::blank(id, peer, false, req.local, req.remote, req.now);
    let spi_r = ctx.reg.new_ike_spi(ctx.rng, id).map_err(DatagramError::Crypto)?;
    ike.spi_i = h.spi_i;
    ike.spi_r = spi_r;
    let keys = match derive_keys(
        ctx,
        algs,
        g_ir.as_bytes(),
        None,
        &ni.data,
        &nr,
        h.spi_i,
        spi_r,
        false,
    ) {
        Ok(k) => k,
        Err(e) => {
            ctx.reg.by_spi.remove(&spi_r);
            return Err(DatagramError::Crypto(e));
        }
    };
    let mut payloads: Vec<Payload<'_>> = alloc::vec![
        Payload::Sa(Sa {
            proposals: alloc::vec![chosen],
        }),
        Payload::Ke(Ke {
            group: kex.group(),
            data: Cow::Borrowed(kex.public_value()),
        }),
        Payload::Nonce(Nonce {
            data: Cow::Borrowed(&nr),
        }),
    ];
    let (src_hash, dst_hash) = if nat_supported {
        let src = if force_encap {
            let mut fake = alloc::vec![0u8; 20];
            ctx.rng.fill(&mut fake).map_err(DatagramError::Crypto)?;
            fake
        } else {
            nat_hash(ctx, h.spi_i, spi_r, req.local).map_err(DatagramError::Crypto)?
        };
        let dst = nat_hash(ctx, h.spi_i, spi_r, req.remote).map_err(DatagramError::Crypto)?;
        (src, dst)
    } else {
        (Vec::new(), Vec::new())
    };
    if nat_supported {
        payloads.push(Payload::Notify(Notify::new(
            NotifyType::NAT_DETECTION_SOURCE_IP,
            &src_hash,
        )));
        payloads.push(Payload::Notify(Notify::new(
            NotifyType::NAT_DETECTION_DESTINATION_IP,
            &dst_hash,
        )));
    }
    if frag_enabled && peer_fragmentation {
        payloads.push(Payload::Notify(Notify::new(
            NotifyType::IKEV2_FRAGMENTATION_SUPPORTED,
            &[],
        )));
    }
    payloads.push(Payload::Notify(sig_hash_notify()));
    if let Some(c) = certreq {
        payloads.push(Payload::CertReq(c));
    }
    let header = Header {
        spi_i: h.spi_i,
        spi_r,
        version: Version::V2_0,
        exchange_type: ExchangeType::IKE_SA_INIT,
        flags: Flags::new(false, true),
        message_id: MessageId(0),
    };
    let response = match (Message { header, payloads }).to_vec() {
        Ok(r) => r,
        Err(e) => {
            ctx.reg.by_spi.remove(&spi_r);
            return Err(DatagramError::Encode(e));
        }
    };
    // Commit.
    ctx.out
        .transmits
        .push_back(Transmit::ike(req.local, req.remote, &response));
    if algs.group.is_weak() {
        ctx.event(Event::Warning(Warning::WeakAlgorithm {
            sa: id,
            group: algs.group,
        }));
    }
    let mut keys = keys;
    if let Some(e) = keys.key_log(id, h.spi_i, spi_r) {
        ctx.event(e);
    }
    ike.keys = Some(keys);
    ike.nat = nat;
    ike.peer_fragmentation = peer_fragmentation && frag_enabled;
    ike.peer_hashes = peer_hashes;
    ike.half_open_key = Some((req.remote, h.spi_i));
    ike.timers.half_open = Some(req.now.saturating_add(ctx.config.half_open.timeout));
    // The peer's first request (IKE_AUTH) has message ID 1.
    ike.window.peer_next = MessageId(1);
    ike.state = State::InitResponded(Box::new(ResponderInit {
        request: req.msg.to_vec(),
        response,
        ni: ni.data.to_vec(),
        nr,
    }));
    Ok(InitOutcome::Created(Box::new(ike)))
}

/// CERTREQ with the SHA-1 SPKI hashes of our trust anchors (RFC 7296 §3.7).
pub(crate) fn certreq_payload(
    ctx: &Ctx<'_>,
    anchors: &[crate::cert::Certificate],
) -> Result<CertReq<'static>, CryptoError> {
    let mut hashes = Vec::with_capacity(anchors.len().saturating_mul(20));
    for a in anchors {
        hashes.extend_from_slice(&crate::cert::certreq_authority_hash(
            ctx.config.crypto.signatures(),
            a,
        )?);
    }
    Ok(CertReq {
        encoding: CertEncoding::X509_SIGNATURE,
        authorities: Cow::Owned(hashes),
    })
}
