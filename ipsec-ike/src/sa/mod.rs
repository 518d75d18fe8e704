//! The IKE SA state machine (RFC 7296), split by exchange.
//!
//! An [`IkeSa`] owns its keys, message-ID window, CHILD SAs and timers. The
//! [`Endpoint`](crate::endpoint::Endpoint) demultiplexes datagrams to it by SPI and drains its
//! output (datagrams and events) through a [`Ctx`].
//!
//! **All-or-nothing.** Every received message is located, authenticated (`open`), decoded and
//! checked before anything changes; only then do the message IDs, keys, CHILD SAs and timers
//! change, in a final step that cannot fail. A message failing any check before the integrity
//! check is dropped without a trace; an authenticated but invalid request gets the error notify
//! RFC 7296 §2.21 prescribes in a protected response.

mod auth;
mod child;
pub(crate) mod exchange;
mod ike_rekey;
mod informational;
mod init;
mod message;
mod rekey;
mod timers;
pub(crate) mod ts;

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::vec::Vec;
use core::net::{IpAddr, SocketAddr};

use ipsec_core::{Instant, Spi};

use crate::config::{ChildConfigId, EndpointConfig, PeerConfig, PeerId};
use crate::crypto::sk::SkKey;
use crate::crypto::{CryptoError, Entropy, HashAlgorithm, KeyExchangeSecret, SecretBytes};
use crate::event::{ChildSaId, CloseReason, DeleteReason, Event, IkeSaId};
use crate::message::{
    DhGroup, EncrId, ExchangeType, Flags, Header, Id, IkeSpi, IntegId, MessageId, Notify, NotifyType,
    Payload, PrfId, Reassembly, Version,
};
use crate::transmit::Transmit;

pub(crate) use child::ChildSa;
use exchange::Window;
pub(crate) use init::{CookieSecret, InitOutcome, InitRequest, respond_init};
use timers::Timers;

/// Allocation of identifiers and SPIs shared by all IKE SAs of an endpoint.
#[derive(Default)]
pub(crate) struct Registry {
    /// Our IKE SPI of every IKE SA → the SA.
    pub(crate) by_spi: BTreeMap<IkeSpi, IkeSaId>,
    /// Our inbound CHILD SA SPIs in use.
    pub(crate) child_spis: BTreeSet<u32>,
    pub(crate) next_ike: u64,
    pub(crate) next_child: u64,
    /// Pool addresses handed out (CFG_REPLY), by the IKE SA holding them.
    pub(crate) leases: BTreeMap<IpAddr, IkeSaId>,
    /// New IKE SAs of a rekey collision still held by the old SA (RFC 7296 §2.8.2) → the old
    /// SA, which passes their messages on.
    pub(crate) held: BTreeMap<IkeSaId, IkeSaId>,
}

impl Registry {
    /// A fresh IKE SA id.
    pub(crate) fn ike_id(&mut self) -> IkeSaId {
        self.next_ike = self.next_ike.wrapping_add(1);
        IkeSaId(self.next_ike)
    }

    /// A fresh CHILD SA id.
    pub(crate) fn child_id(&mut self) -> ChildSaId {
        self.next_child = self.next_child.wrapping_add(1);
        ChildSaId(self.next_child)
    }

    /// A random non-zero IKE SPI not in use, registered for `sa`.
    pub(crate) fn new_ike_spi(&mut self, rng: &mut Entropy, sa: IkeSaId) -> Result<IkeSpi, CryptoError> {
        loop {
            let mut b = [0u8; 8];
            rng.fill(&mut b)?;
            let spi = IkeSpi(b);
            if !spi.is_zero() && !self.by_spi.contains_key(&spi) {
                self.by_spi.insert(spi, sa);
                return Ok(spi);
            }
        }
    }

    /// The first free address of `pool`, leased to `sa` (at most 65 536 addresses are scanned).
    pub(crate) fn lease(&mut self, pool: &crate::config::AddressPool, sa: IkeSaId) -> Option<IpAddr> {
        let start = ts::Sel::host(pool.range.start());
        let end = ts::Sel::host(pool.range.end());
        let mut x = start.start;
        for _ in 0..65_536u32 {
            if x > end.start {
                return None;
            }
            let addr = ts::bits_to_addr(start.v6, x);
            if let alloc::collections::btree_map::Entry::Vacant(e) = self.leases.entry(addr) {
                e.insert(sa);
                return Some(addr);
            }
            x = x.checked_add(1)?;
        }
        None
    }

    /// A random inbound CHILD SA SPI (≥ 256, RFC 4303 §2.1) not in use, reserved.
    pub(crate) fn new_child_spi(&mut self, rng: &mut Entropy) -> Result<Spi, CryptoError> {
        loop {
            let mut b = [0u8; 4];
            rng.fill(&mut b)?;
            let spi = u32::from_be_bytes(b);
            if spi >= 256 && self.child_spis.insert(spi) {
                return Ok(Spi(spi));
            }
        }
    }
}

/// What an IKE SA hands to the endpoint besides datagrams and events.
#[derive(Default)]
pub(crate) struct Output {
    pub(crate) transmits: VecDeque<Transmit>,
    pub(crate) events: VecDeque<Event>,
    /// IKE SAs created by an IKE rekey, to be adopted by the endpoint.
    pub(crate) spawned: Vec<IkeSa>,
    /// Connections to initiate again (DPD action restart), with the child configurations whose
    /// CHILD SAs were up.
    pub(crate) restart: Vec<(PeerId, Vec<ChildConfigId>)>,
    /// INITIAL_CONTACT received on this SA from this identity (RFC 7296 §2.4).
    pub(crate) initial_contact: Vec<(IkeSaId, PeerId, Id<'static>)>,
}

/// What an IKE SA needs from the endpoint while it runs.
pub(crate) struct Ctx<'a> {
    pub(crate) config: &'a EndpointConfig,
    pub(crate) rng: &'a mut Entropy,
    pub(crate) reg: &'a mut Registry,
    pub(crate) out: &'a mut Output,
    /// Wall-clock seconds since 1970 at `now`, for certificate validity.
    pub(crate) unix_now: u64,
}

impl Ctx<'_> {
    pub(crate) fn event(&mut self, e: Event) {
        self.out.events.push_back(e);
    }
}

/// The negotiated IKE SA algorithms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IkeAlgs {
    pub(crate) encr: EncrId,
    pub(crate) key_bits: Option<u16>,
    pub(crate) integ: Option<IntegId>,
    pub(crate) prf: PrfId,
    pub(crate) group: DhGroup,
}

/// The keys of an IKE SA (RFC 7296 §2.14).
pub(crate) struct Keys {
    pub(crate) algs: IkeAlgs,
    pub(crate) sk_d: SecretBytes,
    pub(crate) sk_pi: SecretBytes,
    pub(crate) sk_pr: SecretBytes,
    /// Protects what we send.
    pub(crate) seal: SkKey,
    /// Opens what we receive.
    pub(crate) open: SkKey,
    /// SK_ei, SK_er, SK_ai, SK_ar for [`Event::IkeSaKeys`], kept only until announced and only
    /// with `EndpointConfig::export_ike_keys`.
    pub(crate) export: Option<[SecretBytes; 4]>,
}

impl Keys {
    /// The key-log event for the SA these keys now protect (once).
    pub(crate) fn key_log(&mut self, sa: IkeSaId, spi_i: IkeSpi, spi_r: IkeSpi) -> Option<Event> {
        let [sk_ei, sk_er, sk_ai, sk_ar] = self.export.take()?;
        Some(Event::IkeSaKeys(crate::event::IkeSaKeyLog {
            sa,
            spi_i: spi_i.0,
            spi_r: spi_r.0,
            encr: (self.algs.encr, self.algs.key_bits),
            integ: self.algs.integ,
            sk_ei,
            sk_er,
            sk_ai,
            sk_ar,
        }))
    }
}

/// Where the IKE SA is.
pub(crate) enum State {
    /// Initiator: IKE_SA_INIT request sent.
    InitSent(Box<init::InitiatorInit>),
    /// Initiator: IKE_AUTH request sent.
    AuthSent(Box<auth::AuthWait>),
    /// Responder: IKE_SA_INIT answered, waiting for IKE_AUTH (half-open).
    InitResponded(Box<init::ResponderInit>),
    /// Authenticated and usable.
    Established,
    /// Our Delete of the IKE SA is in flight.
    Deleting,
    /// Finished; the endpoint removes it.
    Gone,
}

/// One of our requests in flight, with what its response needs.
pub(crate) enum Request {
    /// IKE_SA_INIT (state in [`State::InitSent`]).
    IkeSaInit,
    /// IKE_AUTH (state in [`State::AuthSent`]).
    IkeAuth,
    /// CREATE_CHILD_SA for a new or rekeyed CHILD SA.
    CreateChild(Box<rekey::ChildRequest>),
    /// CREATE_CHILD_SA rekeying the IKE SA.
    RekeyIke(Box<ike_rekey::IkeRekeyRequest>),
    /// INFORMATIONAL deleting CHILD SAs.
    DeleteChildren(Vec<ChildSaId>),
    /// INFORMATIONAL deleting this IKE SA.
    DeleteIke,
    /// Empty INFORMATIONAL (liveness check, RFC 7296 §2.4).
    Liveness,
}

/// Work waiting for the request window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Task {
    /// A new CHILD SA, with the packet that asked for it (SPD acquire).
    CreateChild(ChildConfigId, Option<ts::Trigger>),
    RekeyChild(ChildSaId),
    RekeyIke,
    DeleteChildren(Vec<ChildSaId>, DeleteReason),
    /// Tell the peer about CHILD SAs already removed here (hard lifetime): our inbound SPIs.
    DeleteSpis(Vec<(crate::message::ProtocolId, u32)>),
    DeleteIke,
    Liveness,
}

/// NAT detection results (RFC 7296 §2.23).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Nat {
    /// Our address is translated (we send keepalives).
    pub(crate) local_behind: bool,
    /// The peer's address is translated (we follow its address changes).
    pub(crate) remote_behind: bool,
    /// UDP encapsulation forced by configuration.
    pub(crate) forced: bool,
}

impl Nat {
    pub(crate) fn any(self) -> bool {
        self.local_behind || self.remote_behind || self.forced
    }
}

/// One IKE SA.
pub(crate) struct IkeSa {
    pub(crate) id: IkeSaId,
    pub(crate) peer: PeerId,
    /// We are the initiator of this IKE SA (we chose SPIi).
    pub(crate) initiator: bool,
    pub(crate) spi_i: IkeSpi,
    pub(crate) spi_r: IkeSpi,
    pub(crate) local: SocketAddr,
    pub(crate) remote: SocketAddr,
    pub(crate) state: State,
    pub(crate) keys: Option<Keys>,
    pub(crate) nat: Nat,
    /// The peer announced IKEV2_FRAGMENTATION_SUPPORTED.
    pub(crate) peer_fragmentation: bool,
    /// The peer's SIGNATURE_HASH_ALGORITHMS.
    pub(crate) peer_hashes: Vec<HashAlgorithm>,
    pub(crate) window: Window,
    pub(crate) children: Vec<ChildSa>,
    pub(crate) queue: VecDeque<Task>,
    pub(crate) timers: Timers,
    /// Last authenticated message from the peer.
    pub(crate) last_recv: Instant,
    /// Fragments being collected: (message ID, is a response, collection).
    pub(crate) reassembly: Option<(MessageId, bool, Reassembly)>,
    /// Attempts made (keyingtries).
    pub(crate) tries: u32,
    /// The internal address the peer assigned to us (CFG_REPLY).
    pub(crate) virtual_ip: Option<IpAddr>,
    /// The DNS servers the peer sent with it.
    pub(crate) dns: Vec<IpAddr>,
    /// The internal address we assigned to the peer from our pool.
    pub(crate) peer_virtual_ip: Option<IpAddr>,
    /// The peer's authenticated identity.
    pub(crate) remote_id: Option<Id<'static>>,
    /// Responder: the half-open index key, until IKE_AUTH completes.
    pub(crate) half_open_key: Option<(SocketAddr, IkeSpi)>,
    /// The IKE SA was ever up (IkeSaUp sent).
    pub(crate) was_up: bool,
    /// The last error notify the peer refused a request with during setup.
    pub(crate) refusal: Option<NotifyType>,
    /// Old CHILD SAs taken over from a rekeyed IKE SA are announced, not installed again.
    pub(crate) rekeyed_from: Option<IkeSaId>,
    /// CHILD SA rekeys of the peer that collided with ours (RFC 7296 §2.8.1).
    pub(crate) collisions: Vec<rekey::Collision>,
    /// The IKE SA that replaced this one (RFC 7296 §2.18); this one only waits for its Delete.
    pub(crate) rekeyed_to: Option<IkeSaId>,
    /// Rekeyed CHILD SAs whose successor's outbound SA waits for their Delete: (old, new).
    pub(crate) rekeyed_by: Vec<(ChildSaId, ChildSaId)>,
    /// Initiator: we asked for an internal address (CFG_REQUEST).
    pub(crate) requested_vip: bool,
    /// Initiator: the child configuration negotiated in IKE_AUTH.
    pub(crate) auth_child: ChildConfigId,
    /// Initiator: the packet that made us start (SPD acquire), proposed first in IKE_AUTH.
    pub(crate) trigger: Option<ts::Trigger>,
    /// The peer's IKE rekey answered while ours was in flight (RFC 7296 §2.8.2).
    pub(crate) ike_collision: Option<Box<ike_rekey::IkeCollision>>,
    /// This SA is held by the old one in a collision ([`ike_rekey::IkeCollision`]).
    pub(crate) held: bool,
    /// Held, and the peer sent a CREATE_CHILD_SA on it: it counts it as the survivor.
    pub(crate) claimed: bool,
    /// The peer deleted this SA while our IKE rekey was in flight; only its answer is awaited.
    pub(crate) peer_deleted: bool,
}

impl IkeSa {
    /// A blank SA; the exchange modules fill it in.
    pub(crate) fn blank(
        id: IkeSaId,
        peer: PeerId,
        initiator: bool,
        local: SocketAddr,
        remote: SocketAddr,
        now: Instant,
    ) -> Self {
        Self {
            id,
            peer,
            initiator,
            spi_i: IkeSpi::ZERO,
            spi_r: IkeSpi::ZERO,
            local,
            remote,
            state: State::Gone,
            keys: None,
            nat: Nat::default(),
            peer_fragmentation: false,
            peer_hashes: Vec::new(),
            window: Window::default(),
            children: Vec::new(),
            queue: VecDeque::new(),
            timers: Timers::default(),
            last_recv: now,
            reassembly: None,
            tries: 1,
            virtual_ip: None,
            dns: Vec::new(),
            peer_virtual_ip: None,
            remote_id: None,
            half_open_key: None,
            was_up: false,
            refusal: None,
            rekeyed_from: None,
            collisions: Vec::new(),
            rekeyed_to: None,
            rekeyed_by: Vec::new(),
            requested_vip: false,
            auth_child: ChildConfigId(0),
            trigger: None,
            ike_collision: None,
            held: false,
            claimed: false,
            peer_deleted: false,
        }
    }

    /// Our SPI of this SA.
    pub(crate) fn our_spi(&self) -> IkeSpi {
        if self.initiator { self.spi_i } else { self.spi_r }
    }

    pub(crate) fn peer_config<'c>(&self, config: &'c EndpointConfig) -> Option<&'c PeerConfig> {
        config.peers.get(self.peer.0)
    }

    pub(crate) fn is_established(&self) -> bool {
        matches!(self.state, State::Established)
    }

    pub(crate) fn is_gone(&self) -> bool {
        matches!(self.state, State::Gone)
    }

    /// Initiator: IKE_SA_INIT or IKE_AUTH under way.
    pub(crate) fn is_connecting(&self) -> bool {
        matches!(self.state, State::InitSent(_) | State::AuthSent(_))
    }

    pub(crate) fn is_half_open(&self) -> bool {
        matches!(self.state, State::InitResponded(_))
    }

    /// A header for a message of ours.
    pub(crate) fn header(
        &self,
        exchange_type: ExchangeType,
        response: bool,
        message_id: MessageId,
    ) -> Header {
        Header {
            spi_i: self.spi_i,
            spi_r: self.spi_r,
            version: Version::V2_0,
            exchange_type,
            flags: Flags::new(self.initiator, response),
            message_id,
        }
    }

    /// Starts queued work when the request window is free.
    pub(crate) fn pump(&mut self, ctx: &mut Ctx<'_>, now: Instant) {
        while self.window.can_send() && self.is_established() {
            let Some(task) = self.queue.pop_front() else {
                return;
            };
            let result = match task {
                Task::CreateChild(config, trigger) => self.start_new_child(ctx, now, config, trigger),
                Task::RekeyChild(child) => self.start_rekey_child(ctx, now, child),
                Task::RekeyIke => self.start_rekey_ike(ctx, now),
                Task::DeleteChildren(ids, reason) => self.start_delete_children(ctx, now, &ids, reason),
                Task::DeleteSpis(spis) => self.start_delete_spis(ctx, now, &spis),
                Task::DeleteIke => self.start_delete_ike(ctx, now),
                Task::Liveness => {
                    self.send_request(ctx, now, ExchangeType::INFORMATIONAL, &[], Request::Liveness)
                }
            };
            if result.is_err() {
                // Nothing could be sent (RNG or encoding failure): the SA cannot go on.
                self.fail(ctx, now, CloseReason::ProtocolError);
                return;
            }
        }
    }

    /// Queues a task once.
    pub(crate) fn enqueue(&mut self, task: Task) {
        if !self.queue.contains(&task) {
            self.queue.push_back(task);
        }
    }

    /// Takes the SA down: every CHILD SA deleted, `IkeSaDown` if it was ever reported or we
    /// initiated it.
    pub(crate) fn go_down(&mut self, ctx: &mut Ctx<'_>, reason: CloseReason, child_reason: DeleteReason) {
        if self.is_gone() {
            return;
        }
        for c in core::mem::take(&mut self.children) {
            ctx.reg.child_spis.remove(&c.inbound.0);
            if c.installed {
                ctx.event(Event::ChildSaDelete {
                    child: c.id,
                    inbound: c.inbound,
                    outbound: c.outbound,
                    reason: child_reason,
                });
            }
        }
        if self.was_up || self.initiator && self.rekeyed_from.is_none() {
            ctx.event(Event::IkeSaDown {
                sa: self.id,
                peer: self.peer,
                reason: ike_rekey::down_reason(self, reason),
            });
        }
        self.release_in_flight(ctx);
        if let Some(c) = self.take_collision(ctx) {
            // The peer's unused new SA goes with this one.
            let spi = c.sa.our_spi();
            if ctx.reg.by_spi.get(&spi) == Some(&c.sa.id) {
                ctx.reg.by_spi.remove(&spi);
            }
        }
        if let Some(a) = self.peer_virtual_ip {
            if ctx.reg.leases.get(&a) == Some(&self.id) {
                ctx.reg.leases.remove(&a);
            }
        }
        self.state = State::Gone;
    }

    /// Frees CHILD SPIs reserved by a request in flight.
    fn release_in_flight(&mut self, ctx: &mut Ctx<'_>) {
        if let Some(f) = self.window.finish() {
            match f.request {
                Request::CreateChild(r) => {
                    ctx.reg.child_spis.remove(&r.spi.0);
                }
                Request::IkeAuth => {
                    if let State::AuthSent(a) = &self.state {
                        ctx.reg.child_spis.remove(&a.child_spi.0);
                    }
                }
                Request::RekeyIke(r) => {
                    ctx.reg.by_spi.remove(&r.spi);
                }
                _ => {}
            }
        }
    }

    /// An exchange failed for good (timeout or protocol error).
    pub(crate) fn fail(&mut self, ctx: &mut Ctx<'_>, now: Instant, reason: CloseReason) {
        let peer = self.peer_config(ctx.config);
        let keyingtries = peer.map_or(1, |p| p.keyingtries);
        let action = peer.map(|p| p.dpd.action).unwrap_or_default();
        match self.state {
            State::InitSent(_) | State::AuthSent(_) if self.initiator && !self.was_up => {
                if keyingtries == 0 || self.tries < keyingtries {
                    self.tries = self.tries.saturating_add(1);
                    self.release_in_flight(ctx);
                    if self.restart_attempt(ctx, now).is_ok() {
                        return;
                    }
                }
                let reason = match (reason, self.refusal) {
                    (CloseReason::Timeout { .. }, Some(n)) => CloseReason::PeerRefused(n),
                    (r, _) => r,
                };
                self.go_down(ctx, reason, DeleteReason::IkeSaDown);
            }
            State::Established if matches!(reason, CloseReason::Timeout { .. }) => {
                let mut configs: Vec<ChildConfigId> = self.children.iter().map(|c| c.config).collect();
                configs.sort_unstable();
                configs.dedup();
                self.go_down(ctx, CloseReason::Timeout { action }, DeleteReason::IkeSaDown);
                if action == crate::config::DpdAction::Restart {
                    ctx.out.restart.push((self.peer, configs));
                }
            }
            State::Deleting => self.go_down(ctx, CloseReason::Closed, DeleteReason::Closed),
            _ => self.go_down(ctx, reason, DeleteReason::IkeSaDown),
        }
    }

    /// Local close (RFC 7296 §1.4.1): Delete of the IKE SA if it is established.
    pub(crate) fn close(&mut self, ctx: &mut Ctx<'_>, now: Instant) {
        match self.state {
            State::Established => {
                self.queue.clear();
                self.queue.push_front(Task::DeleteIke);
                if !self.window.can_send() {
                    // A request is in flight; cancel it locally so the Delete can go now.
                    self.release_in_flight(ctx);
                }
                self.pump(ctx, now);
            }
            State::Deleting | State::Gone => {}
            _ => self.go_down(ctx, CloseReason::Closed, DeleteReason::Closed),
        }
    }

    /// Deadline of the next timer.
    pub(crate) fn next_timeout(&self) -> Option<(Instant, crate::endpoint::TimerReason)> {
        self.timers.next(self)
    }
}

/// The notify the peer refused a request with, if the payloads carry an error notify.
pub(crate) fn error_notify(payloads: &[Payload<'_>]) -> Option<NotifyType> {
    payloads.iter().find_map(|p| match p {
        Payload::Notify(n) if n.notify_type.is_error() => Some(n.notify_type),
        _ => None,
    })
}

/// The first Notify of type `ty`.
pub(crate) fn find_notify<'p, 'a>(payloads: &'p [Payload<'a>], ty: NotifyType) -> Option<&'p Notify<'a>> {
    payloads.iter().find_map(|p| match p {
        Payload::Notify(n) if n.notify_type == ty => Some(n),
        _ => None,
    })
}

/// The id payload body IDx' (RFC 7296 §2.15): ID type, 3 reserved bytes, data.
pub(crate) fn id_body(id: &Id<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(id.buffer_len());
    // Emitting an ID cannot fail: it has no length field of its own.
    let _ = id.emit(&mut out);
    out
}

/// Draws a nonce of `len` bytes.
pub(crate) fn nonce(rng: &mut Entropy, len: usize) -> Result<Vec<u8>, CryptoError> {
    let mut n = alloc::vec![0u8; len];
    rng.fill(&mut n)?;
    Ok(n)
}

/// Nonce length: 32 bytes (≥ 128 bits and ≥ half the largest PRF key, RFC 7296 §2.10).
pub(crate) const NONCE_LEN: usize = 32;

/// Generates a key exchange secret for `group`.
pub(crate) fn key_exchange(
    ctx: &mut Ctx<'_>,
    group: DhGroup,
) -> Result<Box<dyn KeyExchangeSecret>, CryptoError> {
    let kex = ctx
        .config
        .crypto
        .key_exchange(group)
        .ok_or(CryptoError::UnsupportedAlgorithm)?;
    kex.generate(ctx.rng)
}
