//! The Sans-IO IKEv2 endpoint (STYLE §2): one [`Endpoint`] owns every IKE SA.
//!
//! # Calling contract
//! - **Inputs** take `now` (a `now` that goes backwards counts as no time passed):
//!   [`handle_datagram`](Endpoint::handle_datagram) for every UDP datagram on port 500 and every
//!   IKE message on port 4500 (non-ESP marker removed, `ipsec_core::wire::classify_4500`),
//!   [`handle_timeout`](Endpoint::handle_timeout) when [`poll_timeout`](Endpoint::poll_timeout)
//!   is reached (early or repeated calls are harmless).
//! - **Commands**: [`connect`](Endpoint::connect), [`acquire`](Endpoint::acquire) (on
//!   `ipsec_core::spd::Decision::Acquire` for a trap policy), [`close`](Endpoint::close),
//!   [`rekey_child_sa`](Endpoint::rekey_child_sa) (on `SadEvent::SoftExpired`),
//!   [`rekey_ike_sa`](Endpoint::rekey_ike_sa), [`create_child_sa`](Endpoint::create_child_sa),
//!   [`close_child_sa`](Endpoint::close_child_sa).
//! - **Outputs**, drained after every input or command: [`poll_transmit`](Endpoint::poll_transmit)
//!   until `None`, then [`poll_event`](Endpoint::poll_event) until `None` (install CHILD SAs
//!   before sending anything that might make the peer use them), then sleep until
//!   [`poll_timeout`](Endpoint::poll_timeout) or the next datagram.
//! - **Entropy** enters once, in [`Endpoint::new`]; wall-clock time (for certificates) as Unix
//!   seconds at construction, advanced with `now`, or reset with
//!   [`set_unix_time`](Endpoint::set_unix_time).
//! - A datagram that is dropped returns a [`DatagramError`] and changes nothing (STYLE §3
//!   all-or-nothing); the error is for counters and logs, never to be answered.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::net::{IpAddr, SocketAddr};

use ipsec_core::Instant;
use ipsec_core::selector::PacketSelector;
use rand_core::TryCryptoRng;

use crate::config::{ChildConfigId, ConfigError, EndpointConfig, PeerId};
use crate::crypto::{CryptoError, Entropy};
use crate::error::{EncodeError, InvalidMessage};
use crate::event::{ChildSaId, CloseReason, DeleteReason, Event, IkeSaId};
use crate::message::{ExchangeType, HeaderView, IkeSpi};
use crate::sa::ts::Trigger;
use crate::sa::{CookieSecret, Ctx, IkeSa, InitRequest, Output, Registry, State, Task, respond_init};
use crate::transmit::Transmit;

/// Why a datagram was dropped. Nothing changed; nothing is to be sent.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatagramError {
    /// Not a valid IKEv2 message outside the encrypted payload.
    Malformed(InvalidMessage),
    /// No IKE SA has this SPI (RFC 7296 §2.21: INVALID_IKE_SPI is optional; we send none).
    UnknownSa,
    /// The message ID is outside the window, or a response answers nothing in flight.
    OutOfWindow,
    /// The SK/SKF payload failed its integrity check (RFC 7296 §2.21: no answer).
    IntegrityCheckFailed,
    /// Valid, but not expected in this state or role.
    Unexpected {
        /// What.
        what: &'static str,
    },
    /// Refused by policy or limits (no configuration, half-open limits, a refusal notify).
    Refused {
        /// What.
        what: &'static str,
    },
    /// A cryptographic operation failed (a bad public value, the RNG).
    Crypto(CryptoError),
    /// Our answer could not be encoded.
    Encode(EncodeError),
}

impl fmt::Display for DatagramError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(e) => write!(f, "malformed: {e}"),
            Self::UnknownSa => f.write_str("unknown IKE SPI"),
            Self::OutOfWindow => f.write_str("message ID outside the window"),
            Self::IntegrityCheckFailed => f.write_str("integrity check failed"),
            Self::Unexpected { what } => write!(f, "unexpected: {what}"),
            Self::Refused { what } => write!(f, "refused: {what}"),
            Self::Crypto(e) => write!(f, "crypto: {e}"),
            Self::Encode(e) => write!(f, "encode: {e}"),
        }
    }
}

impl core::error::Error for DatagramError {}

/// Why [`Endpoint::connect`] failed.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectError {
    /// No such peer configuration.
    UnknownPeer,
    /// The peer configuration has no remote address.
    NoRemoteAddress,
    /// The peer configuration has no CHILD SA.
    NoChildConfig,
    /// No such child configuration in the peer configuration.
    UnknownChildConfig,
    /// No configured IKE proposal is supported by the crypto provider.
    NoUsableProposal,
    /// [`EndpointConfig::max_ike_sas`] reached.
    TooManySas,
    /// The RNG or a key exchange failed.
    Crypto(CryptoError),
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownPeer => f.write_str("unknown peer"),
            Self::NoRemoteAddress => f.write_str("peer has no remote address"),
            Self::NoChildConfig => f.write_str("peer has no CHILD SA configuration"),
            Self::UnknownChildConfig => f.write_str("unknown child configuration"),
            Self::NoUsableProposal => f.write_str("no usable IKE proposal"),
            Self::TooManySas => f.write_str("IKE SA limit reached"),
            Self::Crypto(e) => write!(f, "crypto: {e}"),
        }
    }
}

impl core::error::Error for ConnectError {}

/// A command named something that does not exist or cannot do it now.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiMisuse {
    /// No such IKE SA (never existed, or gone).
    UnknownIkeSa,
    /// No such CHILD SA.
    UnknownChildSa,
    /// The IKE SA is not established.
    NotEstablished,
    /// No such child configuration.
    UnknownChildConfig,
}

impl fmt::Display for ApiMisuse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnknownIkeSa => "unknown IKE SA",
            Self::UnknownChildSa => "unknown CHILD SA",
            Self::NotEstablished => "IKE SA not established",
            Self::UnknownChildConfig => "unknown child configuration",
        })
    }
}

impl core::error::Error for ApiMisuse {}

/// Why [`Endpoint::new`] refused.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetupError {
    /// The configuration is invalid.
    Config(ConfigError),
    /// The RNG failed.
    Random,
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config(e) => write!(f, "configuration: {e}"),
            Self::Random => f.write_str("random number generator failed"),
        }
    }
}

impl core::error::Error for SetupError {}

/// What the next timeout is for (logs and tests).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimerReason {
    /// Retransmit a request (or give it up).
    Retransmit,
    /// A responder's half-open SA expires.
    HalfOpenTimeout,
    /// Rekey an IKE SA.
    IkeRekey,
    /// An IKE SA's hard lifetime.
    IkeExpire,
    /// Dead peer detection.
    Dpd,
    /// A NAT keepalive.
    NatKeepalive,
    /// Rekey a CHILD SA.
    ChildRekey,
    /// A CHILD SA's hard lifetime.
    ChildExpire,
}

/// Where an IKE SA is (for status displays).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IkeSaState {
    /// IKE_SA_INIT or IKE_AUTH in progress.
    Connecting,
    /// Responder waiting for IKE_AUTH.
    HalfOpen,
    /// Established.
    Established,
    /// Deleting.
    Deleting,
}

/// Counters of an endpoint (every drop bumps one, STYLE §3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EndpointStats {
    /// Datagrams handled.
    pub datagrams: u64,
    /// Dropped: malformed.
    pub malformed: u64,
    /// Dropped: unknown SPI.
    pub unknown_spi: u64,
    /// Dropped: message ID out of window.
    pub out_of_window: u64,
    /// Dropped: integrity check failed.
    pub integrity_failures: u64,
    /// Dropped: anything else (unexpected, refused, crypto).
    pub other_drops: u64,
    /// COOKIE challenges sent (responder under load).
    pub half_open_limited: u64,
}

/// One IKEv2 endpoint: every IKE SA, both roles (RFC 7296). See the module docs for the calling
/// contract.
pub struct Endpoint {
    config: Arc<EndpointConfig>,
    rng: Entropy,
    reg: Registry,
    sas: BTreeMap<IkeSaId, IkeSa>,
    /// (deadline, SA) of every SA with a timer.
    timer_index: BTreeSet<(Instant, IkeSaId)>,
    deadlines: BTreeMap<IkeSaId, (Instant, TimerReason)>,
    /// Responder half-open SAs by (initiator address, SPIi), for IKE_SA_INIT retransmissions.
    half_open: BTreeMap<(SocketAddr, IkeSpi), IkeSaId>,
    half_open_per_ip: BTreeMap<IpAddr, usize>,
    /// Responder SAs past IKE_SA_INIT by the (initiator address, SPIi) of their IKE_SA_INIT, and
    /// back: a late duplicate of that request is stale and must not start a second SA.
    past_init: BTreeMap<(SocketAddr, IkeSpi), IkeSaId>,
    past_init_key: BTreeMap<IkeSaId, (SocketAddr, IkeSpi)>,
    /// CHILD SA → its IKE SA.
    child_index: BTreeMap<ChildSaId, IkeSaId>,
    cookie: CookieSecret,
    out: Output,
    /// Events already indexed (the front of `out.events`).
    scanned: usize,
    /// (Instant, Unix seconds) reference for certificate time.
    clock: (Instant, u64),
    last_now: Instant,
    stats: EndpointStats,
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("ike_sas", &self.sas.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    /// An endpoint with `config`, drawing every random value from `rng`. `unix_now` is the
    /// wall-clock time (seconds since 1970) at `now`, for certificate validity.
    ///
    /// # Errors
    /// [`SetupError::Config`] for an invalid configuration, [`SetupError::Random`] if `rng`
    /// fails.
    pub fn new<R: TryCryptoRng + Send + 'static>(
        config: Arc<EndpointConfig>,
        rng: R,
        now: Instant,
        unix_now: u64,
    ) -> Result<Self, SetupError> {
        config.validate().map_err(SetupError::Config)?;
        let mut rng = Entropy::new(rng);
        let cookie = CookieSecret::new(&mut rng).map_err(|_| SetupError::Random)?;
        Ok(Self {
            config,
            rng,
            reg: Registry::default(),
            sas: BTreeMap::new(),
            timer_index: BTreeSet::new(),
            deadlines: BTreeMap::new(),
            half_open: BTreeMap::new(),
            half_open_per_ip: BTreeMap::new(),
            past_init: BTreeMap::new(),
            past_init_key: BTreeMap::new(),
            child_index: BTreeMap::new(),
            cookie,
            out: Output::default(),
            scanned: 0,
            clock: (now, unix_now),
            last_now: now,
            stats: EndpointStats::default(),
        })
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &Arc<EndpointConfig> {
        &self.config
    }

    /// Resets the wall clock: `unix_now` seconds at `now`.
    pub fn set_unix_time(&mut self, now: Instant, unix_now: u64) {
        self.clock = (now, unix_now);
    }

    /// Counters.
    #[must_use]
    pub fn stats(&self) -> EndpointStats {
        self.stats
    }

    /// Number of IKE SAs (any state).
    #[must_use]
    pub fn ike_sa_count(&self) -> usize {
        self.sas.len()
    }

    /// The IKE SAs, in id order.
    pub fn ike_sas(&self) -> impl Iterator<Item = IkeSaId> + '_ {
        self.sas.keys().copied()
    }

    /// The state of an IKE SA.
    #[must_use]
    pub fn ike_sa_state(&self, sa: IkeSaId) -> Option<IkeSaState> {
        self.sas.get(&sa).map(|s| match s.state {
            State::InitSent(_) | State::AuthSent(_) => IkeSaState::Connecting,
            State::InitResponded(_) => IkeSaState::HalfOpen,
            State::Established => IkeSaState::Established,
            State::Deleting | State::Gone => IkeSaState::Deleting,
        })
    }

    /// The CHILD SAs of an IKE SA.
    #[must_use]
    pub fn child_sas(&self, sa: IkeSaId) -> Vec<ChildSaId> {
        self.sas
            .get(&sa)
            .map(|s| s.children.iter().filter(|c| c.installed).map(|c| c.id).collect())
            .unwrap_or_default()
    }

    /// The IKE SA a CHILD SA belongs to.
    #[must_use]
    pub fn ike_sa_of(&self, child: ChildSaId) -> Option<IkeSaId> {
        self.child_index.get(&child).copied()
    }

    fn clamp(&mut self, now: Instant) -> Instant {
        if now > self.last_now {
            self.last_now = now;
        }
        self.last_now
    }

    fn unix_at(&self, now: Instant) -> u64 {
        let (at, unix) = self.clock;
        let secs = now.saturating_duration_since(at).as_secs();
        unix.saturating_add(secs)
    }

    /// Starts an IKE SA (IKE_SA_INIT, then IKE_AUTH with the first child of `peer`)
    /// (RFC 7296 §1.2). Progress and the outcome come as events.
    ///
    /// # Errors
    /// [`ConnectError`] if the configuration cannot be initiated.
    pub fn connect(&mut self, now: Instant, peer: PeerId) -> Result<IkeSaId, ConnectError> {
        let now = self.clamp(now);
        self.initiate(now, peer, ChildConfigId(0), None, &[])
    }

    /// Outbound traffic hit the trap policy of child configuration `child` of `peer` (an SPD
    /// acquire, `auto=route`): sets up that CHILD SA. It is created on the peer's established
    /// IKE SA (CREATE_CHILD_SA), or after IKE_AUTH on one being set up, or else a new IKE SA is
    /// started that negotiates it in IKE_AUTH. `trigger`, the packet's selector, is proposed as
    /// the first traffic selector of each side (RFC 7296 §2.9) when the configured ones cover
    /// it. A CHILD SA from `child` that exists or is under way is not asked for twice, so every
    /// acquire of a burst may be passed on. Returns the IKE SA that carries it.
    ///
    /// # Errors
    /// [`ConnectError`] if the configuration cannot be initiated.
    pub fn acquire(
        &mut self,
        now: Instant,
        peer: PeerId,
        child: ChildConfigId,
        trigger: Option<&PacketSelector>,
    ) -> Result<IkeSaId, ConnectError> {
        let now = self.clamp(now);
        let cfg = self.config.peers.get(peer.0).ok_or(ConnectError::UnknownPeer)?;
        if cfg.children.get(child.0).is_none() {
            return Err(ConnectError::UnknownChildConfig);
        }
        let trigger = trigger.map(Trigger::of);
        let usable = |s: &IkeSa| s.peer == peer && s.rekeyed_to.is_none();
        let established = self
            .sas
            .iter()
            .find(|(_, s)| usable(s) && s.is_established())
            .map(|(id, _)| *id);
        let connecting = || {
            self.sas
                .iter()
                .find(|(_, s)| usable(s) && s.initiator && s.is_connecting())
                .map(|(id, _)| *id)
        };
        let Some(id) = established.or_else(connecting) else {
            return self.initiate(now, peer, child, trigger, &[]);
        };
        self.with_sa(id, now, |s, ctx| {
            if !s.has_child_from(child) {
                s.queue.push_back(Task::CreateChild(child, trigger));
                s.pump(ctx, now);
            }
        });
        self.index_events();
        Ok(id)
    }

    /// Starts an IKE SA negotiating `child` in IKE_AUTH, then `more` by CREATE_CHILD_SA.
    fn initiate(
        &mut self,
        now: Instant,
        peer: PeerId,
        child: ChildConfigId,
        trigger: Option<Trigger>,
        more: &[ChildConfigId],
    ) -> Result<IkeSaId, ConnectError> {
        if self.sas.len() >= self.config.max_ike_sas {
            return Err(ConnectError::TooManySas);
        }
        let id = self.reg.ike_id();
        let unix_now = self.unix_at(now);
        let mut sa = {
            let mut ctx = Ctx {
                config: &self.config,
                rng: &mut self.rng,
                reg: &mut self.reg,
                out: &mut self.out,
                unix_now,
            };
            IkeSa::initiate(&mut ctx, now, id, peer, child, trigger)?
        };
        for c in more.iter().filter(|c| **c != child) {
            sa.enqueue(Task::CreateChild(*c, None));
        }
        self.sas.insert(id, sa);
        self.after(id, now);
        Ok(id)
    }

    /// Handles one received IKE message. `msg` is decrypted in place and holds unspecified bytes
    /// afterwards.
    ///
    /// # Errors
    /// [`DatagramError`] when the datagram is dropped; nothing changed then.
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        remote: SocketAddr,
        local: SocketAddr,
        msg: &mut [u8],
    ) -> Result<(), DatagramError> {
        let now = self.clamp(now);
        self.stats.datagrams = self.stats.datagrams.saturating_add(1);
        let result = self.dispatch(now, remote, local, msg);
        if let Err(e) = &result {
            let counter = match e {
                DatagramError::Malformed(_) => &mut self.stats.malformed,
                DatagramError::UnknownSa => &mut self.stats.unknown_spi,
                DatagramError::OutOfWindow => &mut self.stats.out_of_window,
                DatagramError::IntegrityCheckFailed => &mut self.stats.integrity_failures,
                _ => &mut self.stats.other_drops,
            };
            *counter = counter.saturating_add(1);
        }
        self.index_events();
        result
    }

    fn dispatch(
        &mut self,
        now: Instant,
        remote: SocketAddr,
        local: SocketAddr,
        msg: &mut [u8],
    ) -> Result<(), DatagramError> {
        let view = HeaderView::new_checked(msg).map_err(DatagramError::Malformed)?;
        let major = view.version().major();
        if major != 2 {
            return Err(DatagramError::Malformed(InvalidMessage::InvalidMajorVersion {
                major,
            }));
        }
        let flags = view.flags();
        if view.exchange_type() == ExchangeType::IKE_SA_INIT
            && !flags.response()
            && flags.initiator()
            && view.spi_r().is_zero()
        {
            return self.initial_request(now, remote, local, msg);
        }
        // The sender's role tells which SPI is ours.
        let ours = if flags.initiator() {
            view.spi_r()
        } else {
            view.spi_i()
        };
        let id = *self.reg.by_spi.get(&ours).ok_or(DatagramError::UnknownSa)?;
        if !self.sas.contains_key(&id) {
            // A new SA of a rekey collision, not yet released by the old one.
            let holder = *self.reg.held.get(&id).ok_or(DatagramError::UnknownSa)?;
            return self
                .with_sa(holder, now, |sa, ctx| {
                    sa.handle_held(ctx, now, remote, local, msg)
                })
                .unwrap_or(Err(DatagramError::UnknownSa));
        }
        self.with_sa(id, now, |sa, ctx| sa.handle(ctx, now, remote, local, msg))
            .unwrap_or(Err(DatagramError::UnknownSa))
    }

    fn initial_request(
        &mut self,
        now: Instant,
        remote: SocketAddr,
        local: SocketAddr,
        msg: &mut [u8],
    ) -> Result<(), DatagramError> {
        let spi_i = HeaderView::new_checked(msg)
            .map_err(DatagramError::Malformed)?
            .spi_i();
        if let Some(id) = self.half_open.get(&(remote, spi_i)).copied() {
            // A retransmitted IKE_SA_INIT: the same bytes get the same answer (RFC 7296 §2.1).
            let Some(sa) = self.sas.get(&id) else {
                return Err(DatagramError::UnknownSa);
            };
            let State::InitResponded(st) = &sa.state else {
                return Err(DatagramError::OutOfWindow);
            };
            if st.request.as_slice() != &*msg {
                return Err(DatagramError::OutOfWindow);
            }
            self.out
                .transmits
                .push_back(Transmit::ike(local, remote, &st.response));
            return Ok(());
        }
        if self.past_init.contains_key(&(remote, spi_i)) {
            // The initiator already moved on to IKE_AUTH with this SA: a late duplicate of its
            // IKE_SA_INIT (RFC 7296 §2.1) gets neither an answer nor a second SA.
            return Err(DatagramError::OutOfWindow);
        }
        let limits = self.config.half_open;
        let total = self.half_open.len();
        let from_ip = self.half_open_per_ip.get(&remote.ip()).copied().unwrap_or(0);
        if total >= limits.max_total
            || from_ip >= limits.max_per_ip
            || self.sas.len() >= self.config.max_ike_sas
        {
            return Err(DatagramError::Refused {
                what: "half-open limit",
            });
        }
        let cookie_required = total >= limits.cookie_threshold || from_ip >= limits.cookie_threshold_ip;
        let unix_now = self.unix_at(now);
        let outcome = {
            let mut ctx = Ctx {
                config: &self.config,
                rng: &mut self.rng,
                reg: &mut self.reg,
                out: &mut self.out,
                unix_now,
            };
            let req = InitRequest {
                now,
                remote,
                local,
                msg,
                cookie_required,
            };
            respond_init(&mut ctx, &req, &self.cookie)?
        };
        match outcome {
            crate::sa::InitOutcome::Stateless => {
                if cookie_required {
                    self.stats.half_open_limited = self.stats.half_open_limited.saturating_add(1);
                }
            }
            crate::sa::InitOutcome::Created(sa) => {
                let id = sa.id;
                self.sas.insert(id, *sa);
                self.after(id, now);
            }
        }
        Ok(())
    }

    /// Runs every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let now = self.clamp(now);
        let due: Vec<IkeSaId> = self
            .timer_index
            .iter()
            .take_while(|(at, _)| *at <= now)
            .map(|(_, id)| *id)
            .collect();
        for id in due {
            self.with_sa(id, now, |sa, ctx| sa.handle_timeout(ctx, now));
        }
        self.index_events();
    }

    /// Rekeys a CHILD SA (RFC 7296 §2.8), e.g. on `SadEvent::SoftExpired`.
    ///
    /// # Errors
    /// [`ApiMisuse`] for an unknown CHILD SA.
    pub fn rekey_child_sa(&mut self, now: Instant, child: ChildSaId) -> Result<(), ApiMisuse> {
        let now = self.clamp(now);
        let id = *self.child_index.get(&child).ok_or(ApiMisuse::UnknownChildSa)?;
        self.with_sa(id, now, |sa, ctx| {
            if !sa.is_established() {
                return Err(ApiMisuse::NotEstablished);
            }
            sa.enqueue(Task::RekeyChild(child));
            sa.pump(ctx, now);
            Ok(())
        })
        .unwrap_or(Err(ApiMisuse::UnknownIkeSa))?;
        self.index_events();
        Ok(())
    }

    /// Rekeys an IKE SA (RFC 7296 §2.18).
    ///
    /// # Errors
    /// [`ApiMisuse`] for an unknown or unestablished IKE SA.
    pub fn rekey_ike_sa(&mut self, now: Instant, sa: IkeSaId) -> Result<(), ApiMisuse> {
        self.command(now, sa, Task::RekeyIke)
    }

    /// Creates another CHILD SA from `config` of the IKE SA's connection (CREATE_CHILD_SA).
    ///
    /// # Errors
    /// [`ApiMisuse`] for an unknown IKE SA or child configuration.
    pub fn create_child_sa(
        &mut self,
        now: Instant,
        sa: IkeSaId,
        config: ChildConfigId,
    ) -> Result<(), ApiMisuse> {
        let peer = self.sas.get(&sa).ok_or(ApiMisuse::UnknownIkeSa)?.peer;
        let exists = self
            .config
            .peers
            .get(peer.0)
            .is_some_and(|p| p.children.get(config.0).is_some());
        if !exists {
            return Err(ApiMisuse::UnknownChildConfig);
        }
        self.command(now, sa, Task::CreateChild(config, None))
    }

    /// Deletes one CHILD SA (INFORMATIONAL Delete); `ChildSaDelete` follows.
    ///
    /// # Errors
    /// [`ApiMisuse`] for an unknown CHILD SA.
    pub fn close_child_sa(&mut self, now: Instant, child: ChildSaId) -> Result<(), ApiMisuse> {
        let id = *self.child_index.get(&child).ok_or(ApiMisuse::UnknownChildSa)?;
        self.command(
            now,
            id,
            Task::DeleteChildren(alloc::vec![child], DeleteReason::Closed),
        )
    }

    fn command(&mut self, now: Instant, sa: IkeSaId, task: Task) -> Result<(), ApiMisuse> {
        let now = self.clamp(now);
        self.with_sa(sa, now, |s, ctx| {
            if !s.is_established() {
                return Err(ApiMisuse::NotEstablished);
            }
            s.enqueue(task);
            s.pump(ctx, now);
            Ok(())
        })
        .unwrap_or(Err(ApiMisuse::UnknownIkeSa))?;
        self.index_events();
        Ok(())
    }

    /// Closes an IKE SA: a Delete is sent if it is established; `ChildSaDelete` events and
    /// `IkeSaDown` follow when the peer answered (or gave no answer). Unknown ids are ignored.
    pub fn close(&mut self, now: Instant, sa: IkeSaId) {
        let now = self.clamp(now);
        self.with_sa(sa, now, |s, ctx| s.close(ctx, now));
        self.index_events();
    }

    /// The next datagram to send.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.transmits.pop_front()
    }

    /// The next event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        let e = self.out.events.pop_front()?;
        self.scanned = self.scanned.saturating_sub(1);
        Some(e)
    }

    /// When to call [`handle_timeout`](Self::handle_timeout) next, and why.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<(Instant, TimerReason)> {
        let (_, id) = self.timer_index.first()?;
        self.deadlines.get(id).copied()
    }

    /// Runs `f` on one SA with a context, then brings the endpoint's indexes up to date.
    fn with_sa<R>(
        &mut self,
        id: IkeSaId,
        now: Instant,
        f: impl FnOnce(&mut IkeSa, &mut Ctx<'_>) -> R,
    ) -> Option<R> {
        let unix_now = self.unix_at(now);
        let sa = self.sas.get_mut(&id)?;
        let mut ctx = Ctx {
            config: &self.config,
            rng: &mut self.rng,
            reg: &mut self.reg,
            out: &mut self.out,
            unix_now,
        };
        let r = f(sa, &mut ctx);
        self.after(id, now);
        Some(r)
    }

    /// Index maintenance after an SA ran: new SAs adopted, finished ones removed, half-open and
    /// timer indexes updated, restarts and INITIAL_CONTACT handled.
    fn after(&mut self, id: IkeSaId, now: Instant) {
        let spawned = core::mem::take(&mut self.out.spawned);
        let mut touched = alloc::vec![id];
        for sa in spawned {
            touched.push(sa.id);
            self.sas.insert(sa.id, sa);
        }
        for t in touched {
            self.sync(t);
        }
        let contacts = core::mem::take(&mut self.out.initial_contact);
        for (keep, peer, identity) in contacts {
            let others: Vec<IkeSaId> = self
                .sas
                .iter()
                .filter(|(i, s)| {
                    **i != keep
                        && s.peer == peer
                        && s.is_established()
                        && s.remote_id.as_ref().is_some_and(|r| *r == identity)
                })
                .map(|(i, _)| *i)
                .collect();
            for other in others {
                self.with_sa(other, now, |s, ctx| {
                    s.go_down(ctx, CloseReason::Replaced, DeleteReason::IkeSaDown);
                });
            }
        }
        let restarts = core::mem::take(&mut self.out.restart);
        for (peer, children) in restarts {
            // Every CHILD SA that was up comes back; a failed restart leaves nothing to clean
            // up (the driver saw IkeSaDown already).
            let (first, more) = children
                .split_first()
                .map_or((ChildConfigId(0), &[][..]), |(f, m)| (*f, m));
            let _ = self.initiate(now, peer, first, None, more);
        }
    }

    fn sync(&mut self, id: IkeSaId) {
        if let Some((at, _)) = self.deadlines.remove(&id) {
            self.timer_index.remove(&(at, id));
        }
        let Some(sa) = self.sas.get_mut(&id) else {
            return;
        };
        if sa.is_gone() || !sa.is_half_open() {
            if let Some(key) = sa.half_open_key.take() {
                self.half_open.remove(&key);
                if !sa.is_gone() {
                    self.past_init.insert(key, id);
                    self.past_init_key.insert(id, key);
                }
                if let Some(n) = self.half_open_per_ip.get_mut(&key.0.ip()) {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        self.half_open_per_ip.remove(&key.0.ip());
                    }
                }
            }
        } else if let Some(key) = sa.half_open_key {
            if self.half_open.insert(key, id).is_none() {
                let n = self.half_open_per_ip.entry(key.0.ip()).or_insert(0);
                *n = n.saturating_add(1);
            }
        }
        if sa.is_gone() {
            if let Some(key) = self.past_init_key.remove(&id) {
                self.past_init.remove(&key);
            }
            let spi = sa.our_spi();
            if self.reg.by_spi.get(&spi) == Some(&id) {
                self.reg.by_spi.remove(&spi);
            }
            self.sas.remove(&id);
            return;
        }
        if let Some((at, why)) = sa.next_timeout() {
            self.timer_index.insert((at, id));
            self.deadlines.insert(id, (at, why));
        }
    }

    /// Keeps the CHILD SA index in step with the events not yet indexed.
    fn index_events(&mut self) {
        let start = self.scanned.min(self.out.events.len());
        for e in self.out.events.iter().skip(start) {
            match e {
                Event::ChildSaInstall(i) => {
                    self.child_index.insert(i.child, i.ike_sa);
                }
                Event::ChildSaDelete { child, .. } => {
                    self.child_index.remove(child);
                }
                Event::IkeSaRekeyed { old, new } => {
                    for v in self.child_index.values_mut() {
                        if v == old {
                            *v = *new;
                        }
                    }
                }
                _ => {}
            }
        }
        self.scanned = self.out.events.len();
    }
}
