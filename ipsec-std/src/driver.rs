//! The driver loop: sockets, TUN device, clock and entropy around the Sans-IO crates
//! (STYLE §1–2).
//!
//! A [`Driver`] owns the UDP sockets (500/4500), the TUN device, an [`ipsec_ike::Endpoint`] and an
//! [`ipsec_core`] SAD and SPD. One thread, no async runtime:
//!
//! ```text
//! loop { deadline = min(ike.poll_timeout(), sad.poll_timeout()); wait(udp | tun | signal | deadline); now = clock.now();
//!   udp  -> Ike(m)  -> ike.handle_datagram(now, remote, local, m)
//!           Esp(p)  -> sad.unprotect_datagram(now, ..) -> tun.write   (the SAD checks the SA's selectors)
//!   tun  -> spd.lookup_outbound: Protect{sa} -> sad.protect -> udp.send_esp | Acquire{first} -> ike.connect
//!   time -> ike.handle_timeout(now); sad.handle_timeout(now)
//!   then ike.poll_transmit -> udp; ike.poll_event -> SAD/SPD/routes; sad.poll_event -> ike.rekey_child_sa }
//! ```
//!
//! - **CHILD SAs** from [`Event::ChildSaInstall`] go into the SAD (both directions). While an SA is
//!   the active outbound one, one PROTECT policy per negotiated selector points at it; a newer
//!   CHILD SA's policies take precedence over an older one's (rekey), and a delete removes them.
//! - **Routes**: every remote selector that is one CIDR block is routed into the TUN device (`ip
//!   route add <subnet> dev <tun>`, reference-counted across rekeys), registered with the
//!   [`Cleanup`] so that exit, an error, a panic or SIGTERM ([`ShutdownSignal`]) removes it.
//! - **Start actions**: `auto=start` connects at start; `auto=route` installs trap policies and
//!   routes for the configured subnets and connects on the first packet (SPD acquire).
//! - **UDP encapsulation** only: ESP travels in UDP on port 4500 (RFC 3948); the engine is told to
//!   force it (see [`crate::config::engine`]).
//! - **Control**: an optional [`ControlSocket`] (`up`, `down`, `status`, `list-sas`, `reload`) is
//!   served from the same loop; `reload` builds a new engine from the reload hook's configuration
//!   and starts again (tunnels are re-established).
//! - **Packet I/O**: a TUN device, or in-memory queues ([`crate::packet_io`]) when
//!   [`DriverOptions::packet_io`] says so (no device, no routes).
//! - **TCP MSS clamping** ([`crate::mss`]): SYNs entering and leaving the tunnel carry at most the
//!   MSS that fits the inner MTU, and the path MTU minus the CHILD SA's exact overhead.
//! - **Shutdown**: on SIGTERM/SIGINT every IKE SA is closed (one DELETE each, not waited for),
//!   then the TUN device and the routes go.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::time::Duration;

use ipsec_core::replay::replay_words;
use ipsec_core::sa::{Mode, SaId, SecurityProtocol};
use ipsec_core::selector::{PacketSelector, SelectorSet};
use ipsec_core::spd::{Action, Decision, Policy, PolicyDirection, PolicyId, Spd};
use ipsec_core::transform::RustCrypto as EspCrypto;
use ipsec_core::{Instant, Sad, SadEvent, Spi, Unprotected};
use ipsec_ike::config::{ChildConfigId, StartAction};
use ipsec_ike::endpoint::SetupError;
use ipsec_ike::{ChildSaId, ChildSaInstall, Encapsulation, Endpoint, Event, IkeSaId, PeerId, Transmit};

use crate::cleanup::{Cleanup, CleanupId};
use crate::clock::StdClock;
use crate::config::engine::EngineConfig;
use crate::control::{Command, ControlSocket};
use crate::keylog::KeyLog;
use crate::mss::MssClamping;
use crate::packet_io::{MemoryPackets, PacketIoKind};
use crate::random::OsEntropy;
use crate::route::{Route, RouteError, add_address, add_route};
use crate::shutdown::ShutdownSignal;
use crate::subnet::Subnet;
use crate::tun::{TunConfig, TunDevice, TunError};
use crate::udp::{Datagram, SocketId, UdpConfig, UdpError, UdpTransport};
use crate::wait::wait_readable;

/// Most SAs the driver's SAD holds (two per CHILD SA, twice that during a rekey).
pub const SAD_CAPACITY: usize = 32;
/// Most policies in the SPD.
pub const SPD_CAPACITY: usize = 64;
/// The SAD type of the driver: RustCrypto transforms, replay windows up to 1024 packets.
pub type DriverSad = Sad<EspCrypto, SAD_CAPACITY, { replay_words(1024) }>;

/// Bytes kept free in front of every packet buffer: outer IPv6 + UDP headers for
/// `unprotect_datagram`, and the ESP-in-UDP header room for `protect`.
const HEADROOM: usize = 128;
/// Room for the largest UDP datagram plus headroom and ESP trailer.
const BUFFER_LEN: usize = 65_535 + 2 * HEADROOM;
/// Datagrams or TUN packets taken from one descriptor per wake-up (fairness between them).
const BATCH: usize = 64;
/// Priority of trap policies (`auto=route`): after every installed SA's policies.
const TRAP_PRIORITY: u32 = u32::MAX;

/// How the driver sets up its I/O.
#[derive(Clone, Debug, Default)]
pub struct DriverOptions {
    /// The TUN device.
    pub tun: TunConfig,
    /// The UDP sockets.
    pub udp: UdpConfig,
    /// Append the SA keys to this file (see [`crate::keylog`]).
    pub keylog: Option<PathBuf>,
    /// A TUN device (default) or in-memory queues ([`Driver::memory_packets`]).
    pub packet_io: PacketIoKind,
    /// TCP MSS clamping (default: on, path MTU 1500).
    pub mss: MssClamping,
}

/// The driver's packet I/O.
enum PacketIo {
    Tun(TunDevice),
    Memory(MemoryPackets),
}

impl fmt::Debug for PacketIo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tun(t) => t.fmt(f),
            Self::Memory(m) => m.fmt(f),
        }
    }
}

/// Why the driver could not start or stopped.
#[derive(Debug)]
#[non_exhaustive]
pub enum DriverError {
    /// The IKE engine refused the configuration or the entropy source failed.
    Engine(SetupError),
    /// A UDP socket could not be opened or failed.
    Udp(UdpError),
    /// The TUN device could not be created or failed.
    Tun(TunError),
    /// Another I/O step failed.
    Io {
        /// The step.
        step: &'static str,
        /// The OS error.
        source: io::Error,
    },
    /// A trap route could not be installed.
    Route(RouteError),
}

impl fmt::Display for DriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Engine(e) => write!(f, "IKE engine: {e}"),
            Self::Udp(e) => write!(f, "{e}"),
            Self::Tun(e) => write!(f, "{e}"),
            Self::Io { step, source } => write!(f, "{step}: {source}"),
            Self::Route(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for DriverError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Engine(e) => Some(e),
            Self::Udp(e) => Some(e),
            Self::Tun(e) => Some(e),
            Self::Io { source, .. } => Some(source),
            Self::Route(e) => Some(e),
        }
    }
}

/// Counters of the data path (each drop counted by cause).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DriverStats {
    /// Packets read from the TUN device.
    pub tun_in: u64,
    /// ESP packets sent.
    pub esp_out: u64,
    /// ESP packets received and delivered to the TUN device.
    pub esp_in: u64,
    /// Outbound packets dropped: no policy, DISCARD, no SA yet, or protect failed.
    pub out_drops: u64,
    /// Inbound ESP dropped by the SAD (unknown SPI, replay, ICV, selectors, ...).
    pub in_drops: u64,
    /// IKE datagrams the engine dropped.
    pub ike_drops: u64,
}

/// One CHILD SA as the driver installed it.
#[derive(Clone, Debug)]
pub struct InstalledChild {
    /// Its connection.
    pub peer: PeerId,
    /// Its IKE SA.
    pub ike_sa: IkeSaId,
    /// Inbound SA in the SAD.
    pub inbound: SaId,
    /// Outbound SA in the SAD.
    pub outbound: SaId,
    /// Our SPI.
    pub inbound_spi: Spi,
    /// The peer's SPI.
    pub outbound_spi: Spi,
    /// Algorithm.
    pub protocol: SecurityProtocol,
    /// Negotiated selectors.
    pub selectors: SelectorSet,
    /// Where ESP goes: our address, and the peer's address and UDP port.
    pub local: IpAddr,
    /// The peer's ESP-in-UDP address.
    pub remote: Option<SocketAddr>,
    /// When it was installed.
    pub installed_at: Instant,
    /// The largest inner packet the outbound SA carries within the path MTU and the TUN MTU
    /// (what MSS clamping allows for).
    pub inner_mtu: usize,
    policies: Vec<PolicyId>,
    routes: Vec<Subnet>,
}

/// Produces a fresh engine configuration for `reload` (re-reads the files).
pub type ReloadHook = Box<dyn FnMut() -> Result<EngineConfig, String>>;

/// The event loop. See the module docs.
pub struct Driver {
    clock: StdClock,
    udp: UdpTransport,
    io: PacketIo,
    tun_mtu: u16,
    mss: MssClamping,
    ike: Endpoint,
    sad: Box<DriverSad>,
    spd: Spd<SPD_CAPACITY>,
    engine: EngineConfig,
    children: BTreeMap<ChildSaId, InstalledChild>,
    by_sa: BTreeMap<SaId, ChildSaId>,
    /// Routed subnets: the cleanup entry of the route (none with in-memory I/O) and a count.
    routes: BTreeMap<Subnet, (Option<CleanupId>, usize)>,
    /// Trap policies (`auto=route`) and the child configuration each one starts.
    traps: BTreeMap<PolicyId, (PeerId, ChildConfigId)>,
    trap_routes: Vec<Subnet>,
    ike_peers: BTreeMap<IkeSaId, PeerId>,
    /// Virtual IPs assigned to us, on the TUN device while an IKE SA holding them lives (the
    /// cleanup entry, none with in-memory I/O).
    virtual_ips: BTreeMap<IpAddr, (Option<CleanupId>, BTreeSet<IkeSaId>)>,
    control: Option<ControlSocket>,
    reload: Option<ReloadHook>,
    keylog: Option<KeyLog>,
    next_priority: u32,
    stats: DriverStats,
    buf: Vec<u8>,
    // Dropped last: routes go after the device and sockets are closed.
    cleanup: Cleanup,
}

impl fmt::Debug for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Driver")
            .field("io", &self.io)
            .field("children", &self.children.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Driver {
    /// Opens the sockets and the TUN device, builds the engine, installs trap policies.
    ///
    /// # Errors
    /// [`DriverError`] naming the step that failed (nothing is left behind then).
    pub fn new(mut engine: EngineConfig, options: &DriverOptions) -> Result<Self, DriverError> {
        export_ike_keys(&mut engine, options.keylog.is_some());
        let clock = StdClock::new();
        let now = clock.now();
        let ike = Endpoint::new(engine.endpoint.clone(), OsEntropy, now, clock.unix_now())
            .map_err(DriverError::Engine)?;
        let udp = UdpTransport::bind(&options.udp).map_err(DriverError::Udp)?;
        let io = match options.packet_io {
            PacketIoKind::Memory => PacketIo::Memory(MemoryPackets::new(options.tun.mtu)),
            _ => PacketIo::Tun(TunDevice::create(&options.tun).map_err(DriverError::Tun)?),
        };
        let keylog = match &options.keylog {
            Some(path) => Some(KeyLog::open(path).map_err(|source| DriverError::Io {
                step: "open key log",
                source,
            })?),
            None => None,
        };
        let mut driver = Self {
            clock,
            udp,
            io,
            tun_mtu: options.tun.mtu,
            mss: options.mss,
            ike,
            sad: Box::new(DriverSad::new(EspCrypto)),
            spd: Spd::new(),
            engine,
            children: BTreeMap::new(),
            by_sa: BTreeMap::new(),
            routes: BTreeMap::new(),
            traps: BTreeMap::new(),
            trap_routes: Vec::new(),
            ike_peers: BTreeMap::new(),
            virtual_ips: BTreeMap::new(),
            control: None,
            reload: None,
            keylog,
            next_priority: TRAP_PRIORITY.saturating_sub(1),
            stats: DriverStats::default(),
            buf: vec![0; BUFFER_LEN],
            cleanup: Cleanup::new(),
        };
        driver.install_traps()?;
        Ok(driver)
    }

    /// Serves `control` from the loop (see [`crate::control`]).
    pub fn set_control(&mut self, control: ControlSocket) {
        self.control = Some(control);
    }

    /// Sets what `reload` loads.
    pub fn set_reload(&mut self, hook: ReloadHook) {
        self.reload = Some(hook);
    }

    /// The TUN device (`None` with in-memory packet I/O).
    #[must_use]
    pub fn tun(&self) -> Option<&TunDevice> {
        match &self.io {
            PacketIo::Tun(t) => Some(t),
            PacketIo::Memory(_) => None,
        }
    }

    /// The in-memory packet queues (`None` with a TUN device): push inner packets for the tunnel,
    /// pop the ones that came out of it.
    pub fn memory_packets(&mut self) -> Option<&mut MemoryPackets> {
        match &mut self.io {
            PacketIo::Memory(m) => Some(m),
            PacketIo::Tun(_) => None,
        }
    }

    /// The UDP sockets (their bound addresses and ports).
    #[must_use]
    pub fn udp(&self) -> &UdpTransport {
        &self.udp
    }

    /// The IKE engine (for status displays).
    #[must_use]
    pub fn endpoint(&self) -> &Endpoint {
        &self.ike
    }

    /// The SAD (for status displays).
    #[must_use]
    pub fn sad(&self) -> &DriverSad {
        &self.sad
    }

    /// The engine configuration and connection names.
    #[must_use]
    pub fn engine_config(&self) -> &EngineConfig {
        &self.engine
    }

    /// The installed CHILD SAs.
    pub fn children(&self) -> impl Iterator<Item = (&ChildSaId, &InstalledChild)> {
        self.children.iter()
    }

    /// Data-path counters.
    #[must_use]
    pub fn stats(&self) -> DriverStats {
        self.stats
    }

    /// Now, on the driver's clock.
    #[must_use]
    pub fn now(&self) -> Instant {
        self.clock.now()
    }

    /// Starts every connection with `auto=start`.
    pub fn start_connections(&mut self) {
        let starts: Vec<PeerId> = self
            .engine
            .endpoint
            .peers
            .iter()
            .enumerate()
            .filter(|(_, p)| p.children.iter().any(|c| c.start_action == StartAction::Start))
            .map(|(i, _)| PeerId(i))
            .collect();
        for peer in starts {
            self.connect(peer);
        }
    }

    /// Initiates an IKE SA for `peer` (the `up` command).
    pub fn connect(&mut self, peer: PeerId) -> Option<IkeSaId> {
        let now = self.clock.now();
        let name = self.peer_name(peer);
        let result = self.ike.connect(now, peer);
        let id = match result {
            Ok(sa) => {
                tracing::info!(conn = %name, ike_sa = %sa, "initiating");
                self.ike_peers.insert(sa, peer);
                Some(sa)
            }
            Err(e) => {
                tracing::error!(conn = %name, error = %e, "cannot initiate");
                None
            }
        };
        self.drain(now);
        id
    }

    /// Sets up the CHILD SA of a trap policy that `packet` hit (on the peer's IKE SA if there is
    /// one, else with a new one).
    fn acquire(&mut self, peer: PeerId, child: ChildConfigId, packet: &PacketSelector) {
        let now = self.clock.now();
        let name = self.peer_name(peer);
        match self.ike.acquire(now, peer, child, Some(packet)) {
            Ok(sa) => {
                tracing::info!(conn = %name, ike_sa = %sa, "acquire");
                self.ike_peers.entry(sa).or_insert(peer);
            }
            Err(e) => tracing::error!(conn = %name, error = %e, "cannot initiate"),
        }
        self.drain(now);
    }

    /// Closes every IKE SA of `peer` (the `down` command); returns how many.
    pub fn disconnect(&mut self, peer: PeerId) -> usize {
        let now = self.clock.now();
        let sas: Vec<IkeSaId> = self
            .ike_peers
            .iter()
            .filter(|(_, p)| **p == peer)
            .map(|(sa, _)| *sa)
            .collect();
        for sa in &sas {
            self.ike.close(now, *sa);
        }
        self.drain(now);
        sas.len()
    }

    /// Runs until `shutdown` fires (SIGTERM/SIGINT), then closes every IKE SA and returns.
    ///
    /// # Errors
    /// A socket, TUN or wait failure that is not about one packet.
    pub fn run(&mut self, shutdown: &ShutdownSignal) -> Result<(), DriverError> {
        self.start_connections();
        while !shutdown.is_requested() {
            self.step(Some(shutdown), None)?;
        }
        tracing::info!("shutting down");
        self.close_all();
        Ok(())
    }

    /// One turn of the loop: waits until a socket or the TUN device is readable, the shutdown
    /// signal fires, the earliest protocol deadline or `max_wait` passes, then handles what is
    /// ready and drains the engine and the SAD.
    ///
    /// # Errors
    /// As [`Self::run`].
    pub fn step(
        &mut self,
        shutdown: Option<&ShutdownSignal>,
        max_wait: Option<Duration>,
    ) -> Result<(), DriverError> {
        let now = self.clock.now();
        let deadline = [self.ike.poll_timeout().map(|(t, _)| t), self.sad.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        let mut timeout = deadline.map(|d| self.clock.until(d));
        if let Some(m) = max_wait {
            timeout = Some(timeout.map_or(m, |t| t.min(m)));
        }
        // Packets already queued in memory: look at the sockets, but do not sleep.
        let memory_ready = matches!(&self.io, PacketIo::Memory(m) if m.pending_outbound() > 0);
        if memory_ready {
            timeout = Some(Duration::ZERO);
        }
        let sockets = self.udp.fds().len();
        let has_tun = matches!(self.io, PacketIo::Tun(_));
        let control_index = sockets.saturating_add(usize::from(has_tun));
        let ready = {
            let mut fds = self.udp.fds();
            if let PacketIo::Tun(t) = &self.io {
                fds.push(t.as_fd());
            }
            if let Some(c) = &self.control {
                fds.push(c.as_fd());
            }
            if let Some(s) = shutdown {
                fds.push(s.fd());
            }
            let mut ready = vec![false; fds.len()];
            wait_readable(&fds, &mut ready, timeout)
                .map_err(|source| DriverError::Io { step: "poll", source })?;
            ready
        };
        let _ = now;
        let now = self.clock.now();
        for (i, r) in ready.iter().enumerate().take(sockets) {
            if *r {
                self.read_socket(now, SocketId(i))?;
            }
        }
        if memory_ready || (has_tun && ready.get(sockets).copied().unwrap_or(false)) {
            self.read_tun(now)?;
        }
        if self.control.is_some() && ready.get(control_index).copied().unwrap_or(false) {
            self.serve_control();
        }
        if let Some(s) = shutdown {
            s.drain();
        }
        self.ike.handle_timeout(now);
        self.sad.handle_timeout(now);
        self.drain(now);
        Ok(())
    }

    /// Closes every IKE SA (DELETE sent once, not waited for).
    pub fn close_all(&mut self) {
        let now = self.clock.now();
        let sas: Vec<IkeSaId> = self.ike.ike_sas().collect();
        for sa in sas {
            self.ike.close(now, sa);
        }
        self.drain(now);
    }

    fn peer_name(&self, peer: PeerId) -> String {
        self.engine
            .connections
            .get(peer.0)
            .map_or_else(|| format!("peer#{}", peer.0), |c| c.name.clone())
    }

    fn install_traps(&mut self) -> Result<(), DriverError> {
        let peers = self.engine.endpoint.clone();
        for (i, peer) in peers.peers.iter().enumerate() {
            for (c, child) in peer
                .children
                .iter()
                .enumerate()
                .filter(|(_, c)| c.start_action == StartAction::Trap)
            {
                for l in &child.local_ts {
                    for r in &child.remote_ts {
                        let selector = ipsec_core::selector::TrafficSelector::new(l.addrs, r.addrs);
                        let policy = Policy {
                            selector,
                            direction: PolicyDirection::Outbound,
                            action: Action::Protect { sa: None },
                        };
                        match self.spd.insert(TRAP_PRIORITY, policy) {
                            Ok(id) => {
                                self.traps.insert(id, (PeerId(i), ChildConfigId(c)));
                            }
                            Err(e) => tracing::error!(conn = %peer.name, error = %e, "trap policy"),
                        }
                        if let Some(subnet) = subnet_of(&r.addrs) {
                            self.route_ref(subnet).map_err(DriverError::Route)?;
                            self.trap_routes.push(subnet);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn read_socket(&mut self, now: Instant, id: SocketId) -> Result<(), DriverError> {
        for _ in 0..BATCH {
            let rx = self.buf.get_mut(HEADROOM..).unwrap_or_default();
            let got = match self.udp.recv_from(id, rx) {
                Ok(Some(r)) => r,
                Ok(None) => return Ok(()),
                Err(e) if e.is_per_datagram() => {
                    tracing::debug!(error = %e, "datagram dropped");
                    continue;
                }
                Err(e) => return Err(DriverError::Udp(e)),
            };
            match got.datagram {
                Datagram::Ike(range) => {
                    let start = HEADROOM.saturating_add(range.start);
                    let end = HEADROOM.saturating_add(range.end);
                    let Some(msg) = self.buf.get_mut(start..end) else {
                        continue;
                    };
                    log_ike_message(false, got.local, got.remote, msg);
                    if let Err(e) = self.ike.handle_datagram(now, got.remote, got.local, msg) {
                        self.stats.ike_drops = self.stats.ike_drops.saturating_add(1);
                        tracing::debug!(remote = %got.remote, error = %e, "IKE datagram dropped");
                    }
                    self.drain(now);
                }
                Datagram::Esp(range) => {
                    let start = HEADROOM.saturating_add(range.start);
                    let len = range.len();
                    match self
                        .sad
                        .unprotect_datagram(now, got.remote, got.local, &mut self.buf, start, len)
                    {
                        Ok(Unprotected::Packet { sa, packet, .. }) => {
                            let limit = self.inner_mtu_of(sa);
                            let inner = self.buf.get_mut(packet).unwrap_or_default();
                            self.mss.clamp(inner, limit);
                            let written = match &mut self.io {
                                PacketIo::Tun(t) => t.write(inner),
                                PacketIo::Memory(m) => {
                                    m.deliver(inner);
                                    Ok(())
                                }
                            };
                            match written {
                                Ok(()) => self.stats.esp_in = self.stats.esp_in.saturating_add(1),
                                Err(e) => tracing::debug!(error = %e, "TUN write failed, packet dropped"),
                            }
                        }
                        Ok(Unprotected::Dummy { .. }) => {}
                        Err(e) => {
                            self.stats.in_drops = self.stats.in_drops.saturating_add(1);
                            tracing::debug!(remote = %got.remote, error = %e, "ESP packet dropped");
                        }
                    }
                }
                Datagram::Keepalive => {}
            }
        }
        Ok(())
    }

    fn read_tun(&mut self, now: Instant) -> Result<(), DriverError> {
        for _ in 0..BATCH {
            let end = BUFFER_LEN.saturating_sub(HEADROOM);
            let Some(rx) = self.buf.get_mut(HEADROOM..end) else {
                return Ok(());
            };
            let len = match &mut self.io {
                PacketIo::Tun(t) => match t.read(rx) {
                    Ok(Some(n)) => n,
                    Ok(None) => return Ok(()),
                    Err(source) => {
                        return Err(DriverError::Io {
                            step: "TUN read",
                            source,
                        });
                    }
                },
                PacketIo::Memory(m) => {
                    let Some(p) = m.take_outbound() else {
                        return Ok(());
                    };
                    match rx.get_mut(..p.len()) {
                        Some(dst) => {
                            dst.copy_from_slice(&p);
                            p.len()
                        }
                        None => {
                            self.stats.out_drops = self.stats.out_drops.saturating_add(1);
                            continue;
                        }
                    }
                }
            };
            self.stats.tun_in = self.stats.tun_in.saturating_add(1);
            let packet = self
                .buf
                .get(HEADROOM..HEADROOM.saturating_add(len))
                .unwrap_or_default();
            let Ok(selector) = PacketSelector::outbound(packet) else {
                self.stats.out_drops = self.stats.out_drops.saturating_add(1);
                continue;
            };
            match self.spd.lookup_outbound(&selector) {
                Decision::Protect { sa, .. } => self.send_protected(now, sa, len),
                Decision::Acquire { policy, first } => {
                    self.stats.out_drops = self.stats.out_drops.saturating_add(1);
                    if first {
                        if let Some((peer, child)) = self.traps.get(&policy).copied() {
                            tracing::info!(conn = %self.peer_name(peer), "traffic matches a trap policy");
                            self.acquire(peer, child, &selector);
                        }
                    }
                }
                Decision::Bypass | Decision::Discard | Decision::NoPolicy => {
                    self.stats.out_drops = self.stats.out_drops.saturating_add(1);
                }
            }
        }
        Ok(())
    }

    /// The inner MTU of the CHILD SA that owns SA `sa` (the TUN MTU if none does).
    fn inner_mtu_of(&self, sa: SaId) -> usize {
        self.by_sa
            .get(&sa)
            .and_then(|c| self.children.get(c))
            .map_or(usize::from(self.tun_mtu), |c| c.inner_mtu)
    }

    fn send_protected(&mut self, now: Instant, sa: SaId, len: usize) {
        let Some(child) = self.by_sa.get(&sa).and_then(|c| self.children.get(c)) else {
            self.stats.out_drops = self.stats.out_drops.saturating_add(1);
            return;
        };
        let (local, remote, limit) = (child.local, child.remote, child.inner_mtu);
        let Some(remote) = remote else {
            // Raw ESP needs a raw socket; the engine is configured to always encapsulate.
            self.stats.out_drops = self.stats.out_drops.saturating_add(1);
            tracing::warn!("CHILD SA without UDP encapsulation: packet dropped");
            return;
        };
        if let Some(inner) = self.buf.get_mut(HEADROOM..HEADROOM.saturating_add(len)) {
            self.mss.clamp(inner, limit);
        }
        match self.sad.protect(now, sa, &mut self.buf, HEADROOM, len) {
            Ok(p) => {
                let esp = self.buf.get(p.ipsec).unwrap_or_default();
                match self.udp.send_esp(local, remote, esp) {
                    Ok(()) => self.stats.esp_out = self.stats.esp_out.saturating_add(1),
                    Err(e) => tracing::debug!(error = %e, "ESP send failed"),
                }
            }
            Err(e) => {
                self.stats.out_drops = self.stats.out_drops.saturating_add(1);
                tracing::debug!(error = %e, "protect failed, packet dropped");
            }
        }
    }

    /// Moves the engine's and the SAD's output until both are quiet.
    fn drain(&mut self, now: Instant) {
        loop {
            let mut progress = false;
            while let Some(t) = self.ike.poll_transmit() {
                progress = true;
                self.send_transmit(&t);
            }
            while let Some(e) = self.ike.poll_event() {
                progress = true;
                self.apply(now, e);
            }
            while let Some(e) = self.sad.poll_event() {
                progress = true;
                self.apply_sad(now, e);
            }
            if !progress {
                break;
            }
        }
    }

    fn send_transmit(&self, t: &Transmit) {
        if t.encap != Encapsulation::NatKeepalive {
            log_ike_message(true, t.local, t.remote, t.ike_message());
        }
        let result = match t.encap {
            Encapsulation::NatKeepalive => self.udp.send_keepalive(t.local.ip(), t.remote),
            Encapsulation::NonEspMarker => self.udp.send_ike(t.local, t.remote, true, t.ike_message()),
            _ => self.udp.send_ike(t.local, t.remote, false, t.ike_message()),
        };
        if let Err(e) = result {
            tracing::warn!(remote = %t.remote, error = %e, "IKE send failed");
        }
    }

    fn apply(&mut self, now: Instant, e: Event) {
        match e {
            Event::IkeSaUp {
                sa,
                peer,
                remote,
                virtual_ip,
                dns,
            } => {
                self.ike_peers.insert(sa, peer);
                tracing::info!(conn = %self.peer_name(peer), ike_sa = %sa, %remote, ?virtual_ip, "IKE SA established");
                if !dns.is_empty() {
                    // Applying them is the host's business (resolvconf, systemd-resolved, ...).
                    tracing::info!(conn = %self.peer_name(peer), ?dns, "DNS servers assigned (not applied)");
                }
                if let Some(v) = virtual_ip {
                    self.virtual_ip_ref(v, sa);
                }
            }
            Event::IkeSaDown { sa, peer, reason } => {
                self.ike_peers.remove(&sa);
                self.virtual_ip_unref(sa);
                tracing::info!(conn = %self.peer_name(peer), ike_sa = %sa, ?reason, "IKE SA down");
                for (policy, (p, _)) in &self.traps {
                    if *p == peer {
                        let _ = self.spd.clear_acquire(*policy);
                    }
                }
            }
            Event::IkeSaRekeyed { old, new } => {
                tracing::info!(old = %old, new = %new, "IKE SA rekeyed");
                if let Some(peer) = self.ike_peers.get(&old).copied() {
                    self.ike_peers.insert(new, peer);
                }
                for c in self.children.values_mut() {
                    if c.ike_sa == old {
                        c.ike_sa = new;
                    }
                }
            }
            Event::ChildSaInstall(i) => self.install(now, &i),
            Event::ChildSaActivate { child, .. } => self.activate(child),
            Event::ChildSaUpdate {
                child, encap, mode, ..
            } => {
                if let Some(c) = self.children.get_mut(&child) {
                    if let (Some(e), Mode::Tunnel { remote, .. }) = (encap, mode) {
                        c.remote = Some(SocketAddr::new(remote, e.remote_port));
                    }
                    let _ = self.sad.set_encap(c.outbound, encap);
                    let _ = self.sad.set_encap(c.inbound, encap);
                    tracing::info!(%child, ?encap, "CHILD SA endpoints updated");
                }
            }
            Event::ChildSaDelete {
                child,
                inbound,
                outbound,
                reason,
            } => {
                tracing::info!(%child, inbound = %format_spi(inbound), outbound = %format_spi(outbound), ?reason, "CHILD SA deleted");
                self.remove_child(child);
            }
            Event::IkeSaKeys(keys) => {
                if let Some(log) = &mut self.keylog {
                    if let Err(e) = log.log_ike(&keys) {
                        tracing::warn!(error = %e, "key log write failed");
                    }
                }
            }
            Event::Warning(w) => tracing::warn!(warning = ?w, "IKE warning"),
            other => tracing::debug!(event = ?other, "IKE event"),
        }
    }

    fn install(&mut self, now: Instant, i: &ChildSaInstall) {
        let (pin, pout) = i.sa_params();
        let inbound = match self.sad.install(now, &pin, &i.inbound_keys, &mut OsEntropy) {
            Ok(id) => id,
            Err(e) => {
                tracing::error!(child = %i.child, error = %e, "inbound SA install failed");
                return;
            }
        };
        let outbound = match self.sad.install(now, &pout, &i.outbound_keys, &mut OsEntropy) {
            Ok(id) => id,
            Err(e) => {
                self.sad.remove(inbound);
                tracing::error!(child = %i.child, error = %e, "outbound SA install failed");
                return;
            }
        };
        let (local, remote_ip) = match i.mode {
            Mode::Tunnel { local, remote } => (local, Some(remote)),
            Mode::Transport => (IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), None),
        };
        let remote = match (i.encap, remote_ip) {
            (Some(e), Some(ip)) => Some(SocketAddr::new(ip, e.remote_port)),
            _ => None,
        };
        if let (Some(log), Some(remote_ip)) = (&mut self.keylog, remote_ip) {
            let r = log
                .log_sa(remote_ip, local, i.inbound_spi, i.protocol, &i.inbound_keys)
                .and_then(|()| log.log_sa(local, remote_ip, i.outbound_spi, i.protocol, &i.outbound_keys));
            if let Err(e) = r {
                tracing::warn!(error = %e, "key log write failed");
            }
        }
        tracing::info!(
            conn = %self.peer_name(i.peer),
            child = %i.child,
            inbound = %format_spi(i.inbound_spi),
            outbound = %format_spi(i.outbound_spi),
            protocol = %protocol_name(i.protocol),
            encap = ?i.encap,
            selectors = %format_selectors(&i.selectors),
            rekey_of = ?i.rekey_of,
            "CHILD SA installed"
        );
        let max_inner = self.sad.max_inner_len(outbound, usize::from(self.mss.path_mtu));
        let inner_mtu = self.mss.inner_mtu(max_inner, self.tun_mtu);
        self.by_sa.insert(inbound, i.child);
        self.by_sa.insert(outbound, i.child);
        self.children.insert(
            i.child,
            InstalledChild {
                peer: i.peer,
                ike_sa: i.ike_sa,
                inbound,
                outbound,
                inbound_spi: i.inbound_spi,
                outbound_spi: i.outbound_spi,
                protocol: i.protocol,
                selectors: i.selectors,
                local,
                remote,
                installed_at: now,
                inner_mtu,
                policies: Vec::new(),
                routes: Vec::new(),
            },
        );
        let mut routes = Vec::new();
        for ts in i.selectors.iter() {
            if let Some(subnet) = subnet_of(&ts.remote) {
                match self.route_ref(subnet) {
                    Ok(()) => routes.push(subnet),
                    Err(e) => tracing::error!(error = %e, "route into the TUN device failed"),
                }
            }
        }
        if let Some(c) = self.children.get_mut(&i.child) {
            c.routes = routes;
        }
        if i.outbound_active {
            self.activate(i.child);
        }
    }

    /// Points new PROTECT policies at the child's outbound SA, ahead of older children's.
    fn activate(&mut self, child: ChildSaId) {
        let priority = self.next_priority;
        self.next_priority = self.next_priority.saturating_sub(1).max(1);
        let Some(c) = self.children.get(&child) else {
            return;
        };
        if !c.policies.is_empty() {
            return;
        }
        let (outbound, selectors) = (c.outbound, c.selectors);
        let mut ids = Vec::new();
        for ts in selectors.iter() {
            let policy = Policy {
                selector: *ts,
                direction: PolicyDirection::Outbound,
                action: Action::Protect { sa: Some(outbound) },
            };
            match self.spd.insert(priority, policy) {
                Ok(id) => ids.push(id),
                Err(e) => tracing::error!(%child, error = %e, "policy insert failed"),
            }
        }
        if let Some(c) = self.children.get_mut(&child) {
            c.policies = ids;
        }
    }

    fn remove_child(&mut self, child: ChildSaId) {
        let Some(c) = self.children.remove(&child) else {
            return;
        };
        for p in c.policies {
            let _ = self.spd.remove(p);
        }
        self.sad.remove(c.inbound);
        self.sad.remove(c.outbound);
        self.by_sa.remove(&c.inbound);
        self.by_sa.remove(&c.outbound);
        for r in c.routes {
            self.route_unref(r);
        }
    }

    fn apply_sad(&mut self, now: Instant, e: SadEvent) {
        match e {
            SadEvent::SoftExpired { sa, limit, .. } => {
                if let Some(child) = self.by_sa.get(&sa).copied() {
                    tracing::info!(%child, ?limit, "soft lifetime reached, rekeying");
                    if let Err(e) = self.ike.rekey_child_sa(now, child) {
                        tracing::debug!(%child, error = %e, "rekey not started");
                    }
                }
            }
            SadEvent::HardExpired { sa, limit, .. } => {
                if let Some(child) = self.by_sa.get(&sa).copied() {
                    tracing::warn!(%child, ?limit, "hard lifetime reached, closing the CHILD SA");
                    let _ = self.ike.close_child_sa(now, child);
                }
            }
            other => tracing::debug!(event = ?other, "SAD event"),
        }
    }

    /// Puts a virtual IP the gateway assigned on the TUN device (once, whichever of its IKE SAs
    /// holds it: a rekeyed IKE SA keeps it), so that local traffic into the tunnel is sourced
    /// from it.
    fn virtual_ip_ref(&mut self, addr: IpAddr, sa: IkeSaId) {
        if let Some((_, holders)) = self.virtual_ips.get_mut(&addr) {
            holders.insert(sa);
            return;
        }
        let id = match &self.io {
            PacketIo::Tun(t) => match add_address(addr, t.name(), &mut self.cleanup) {
                Ok(id) => Some(id),
                Err(e) => {
                    tracing::error!(%addr, error = %e, "virtual IP not added to the TUN device");
                    None
                }
            },
            PacketIo::Memory(_) => None,
        };
        self.virtual_ips.insert(addr, (id, BTreeSet::from([sa])));
    }

    /// Removes the virtual IP of an IKE SA that went down, unless another one still holds it.
    fn virtual_ip_unref(&mut self, sa: IkeSaId) {
        let mut gone = Vec::new();
        for (addr, (_, holders)) in &mut self.virtual_ips {
            if holders.remove(&sa) && holders.is_empty() {
                gone.push(*addr);
            }
        }
        for addr in gone {
            if let Some((Some(id), _)) = self.virtual_ips.remove(&addr) {
                if let Some(Err(e)) = self.cleanup.undo(id) {
                    tracing::warn!(%addr, error = %e, "virtual IP removal failed");
                }
            }
        }
    }

    fn route_ref(&mut self, subnet: Subnet) -> Result<(), RouteError> {
        if let Some((_, n)) = self.routes.get_mut(&subnet) {
            *n = n.saturating_add(1);
            return Ok(());
        }
        let id = match &self.io {
            PacketIo::Tun(t) => Some(add_route(&Route::new(subnet, t.name()), &mut self.cleanup)?),
            PacketIo::Memory(_) => None,
        };
        self.routes.insert(subnet, (id, 1));
        Ok(())
    }

    fn route_unref(&mut self, subnet: Subnet) {
        let Some((id, n)) = self.routes.get_mut(&subnet) else {
            return;
        };
        *n = n.saturating_sub(1);
        if *n == 0 {
            let id = *id;
            self.routes.remove(&subnet);
            if let Some(Err(e)) = id.and_then(|id| self.cleanup.undo(id)) {
                tracing::warn!(error = %e, "route removal failed");
            }
        }
    }
}

impl Driver {
    fn serve_control(&mut self) {
        let Some(control) = self.control.take() else {
            return;
        };
        for _ in 0..BATCH {
            match control.accept() {
                Ok(Some(req)) => {
                    let result = match &req.command {
                        Ok(c) => {
                            tracing::info!(command = %c, "control request");
                            self.execute(c)
                        }
                        Err(e) => Err(e.clone()),
                    };
                    req.reply(result);
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "control socket accept failed");
                    break;
                }
            }
        }
        self.control = Some(control);
    }

    /// Runs one control command; the text is the reply body.
    ///
    /// # Errors
    /// A message for the `ERROR` line (unknown connection, reload failed, ...).
    pub fn execute(&mut self, command: &Command) -> Result<String, String> {
        let peer_of = |d: &Self, name: &str| {
            d.engine
                .peer_by_name(name)
                .ok_or_else(|| format!("no connection named {name:?}"))
        };
        match command {
            Command::Up(name) => {
                let peer = peer_of(self, name)?;
                match self.connect(peer) {
                    Some(sa) => Ok(format!("{name}: initiating {sa}")),
                    None => Err(format!("{name}: cannot initiate (see the log)")),
                }
            }
            Command::Down(name) => {
                let peer = peer_of(self, name)?;
                let n = self.disconnect(peer);
                Ok(format!("{name}: closing {n} IKE SA(s)"))
            }
            Command::Status => Ok(self.status_text()),
            Command::ListSas => Ok(self.list_sas_text()),
            Command::Reload => self.reload(),
        }
    }

    /// Connections, their IKE SAs and the data-path counters.
    #[must_use]
    pub fn status_text(&self) -> String {
        let mut out = String::from("Connections:\n");
        for (i, c) in self.engine.connections.iter().enumerate() {
            let sas: Vec<String> = self
                .ike_peers
                .iter()
                .filter(|(_, p)| p.0 == i)
                .map(|(sa, _)| format!("{sa} {}", state_name(self.ike.ike_sa_state(*sa))))
                .collect();
            out.push_str(&format!(
                "  {}: {} === {}, auto={:?}, IKE SAs: {}\n",
                c.name,
                c.local.address,
                c.remote.address,
                c.auto,
                if sas.is_empty() {
                    "none".to_owned()
                } else {
                    sas.join(", ")
                }
            ));
        }
        let s = self.stats;
        out.push_str(&format!(
            "Data path: {} ESP out, {} ESP in; dropped {} outbound, {} inbound, {} IKE datagrams\n",
            s.esp_out, s.esp_in, s.out_drops, s.in_drops, s.ike_drops
        ));
        out
    }

    /// CHILD SAs with SPIs, algorithms, bytes and packets each way and time to rekey, grouped by
    /// IKE SA (readable like `swanctl --list-sas`).
    #[must_use]
    pub fn list_sas_text(&self) -> String {
        let now = self.clock.now();
        let mut out = String::new();
        let mut ike_sas: Vec<IkeSaId> = self.ike.ike_sas().collect();
        ike_sas.sort_unstable();
        for sa in ike_sas {
            let conn = self
                .ike_peers
                .get(&sa)
                .map_or_else(|| "?".to_owned(), |p| self.peer_name(*p));
            out.push_str(&format!(
                "{conn}: {sa}, {}, IKEv2\n",
                state_name(self.ike.ike_sa_state(sa))
            ));
            for (id, c) in self.children.iter().filter(|(_, c)| c.ike_sa == sa) {
                let encap = if c.remote.is_some() {
                    "TUNNEL-in-UDP"
                } else {
                    "TUNNEL"
                };
                out.push_str(&format!(
                    "  {conn}: {id}, {}, {encap}, ESP SPIs: {:08x}_i {:08x}_o\n    {}\n",
                    if c.policies.is_empty() {
                        "INSTALLED (inactive)"
                    } else {
                        "INSTALLED"
                    },
                    c.inbound_spi.0,
                    c.outbound_spi.0,
                    protocol_name(c.protocol)
                ));
                let age = now.saturating_duration_since(c.installed_at);
                let rekey = self
                    .engine
                    .endpoint
                    .peers
                    .get(c.peer.0)
                    .and_then(|p| p.children.first())
                    .and_then(|ch| ch.lifetime.rekey_time)
                    .map_or_else(String::new, |r| {
                        format!(", rekeying in {}s", r.saturating_sub(age).as_secs())
                    });
                for (dir, sa_id, spi) in [
                    ("in ", c.inbound, c.inbound_spi),
                    ("out", c.outbound, c.outbound_spi),
                ] {
                    let st = self.sad.stats(sa_id).unwrap_or_default();
                    out.push_str(&format!(
                        "    {dir} {:08x}, {} bytes, {} packets{}\n",
                        spi.0,
                        st.bytes,
                        st.packets,
                        if dir == "out" { rekey.as_str() } else { "" }
                    ));
                }
                for ts in c.selectors.iter() {
                    out.push_str(&format!("    local  {}\n    remote {}\n", ts.local, ts.remote));
                }
            }
        }
        if out.is_empty() {
            out.push_str("no IKE SAs\n");
        }
        out
    }

    fn reload(&mut self) -> Result<String, String> {
        let Some(hook) = self.reload.as_mut() else {
            return Err("no configuration file to reload".into());
        };
        let mut engine = hook()?;
        export_ike_keys(&mut engine, self.keylog.is_some());
        let now = self.clock.now();
        let ike = Endpoint::new(engine.endpoint.clone(), OsEntropy, now, self.clock.unix_now())
            .map_err(|e| format!("new configuration refused: {e}"))?;
        self.close_all();
        let children: Vec<ChildSaId> = self.children.keys().copied().collect();
        for c in children {
            self.remove_child(c);
        }
        for (policy, _) in std::mem::take(&mut self.traps) {
            let _ = self.spd.remove(policy);
        }
        for subnet in std::mem::take(&mut self.trap_routes) {
            self.route_unref(subnet);
        }
        self.ike_peers.clear();
        self.ike = ike;
        self.engine = engine;
        self.install_traps().map_err(|e| e.to_string())?;
        self.start_connections();
        Ok(format!(
            "reloaded: {} connection(s)",
            self.engine.connections.len()
        ))
    }
}

fn state_name(state: Option<ipsec_ike::endpoint::IkeSaState>) -> &'static str {
    use ipsec_ike::endpoint::IkeSaState;
    match state {
        Some(IkeSaState::Connecting) => "CONNECTING",
        Some(IkeSaState::HalfOpen) => "HALF-OPEN",
        Some(IkeSaState::Established) => "ESTABLISHED",
        Some(IkeSaState::Deleting) => "DELETING",
        _ => "GONE",
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let failures = self.cleanup.run_all();
        for f in failures {
            tracing::warn!(error = %f, "cleanup");
        }
    }
}

/// Asks the engine for IKE SA keys (`Event::IkeSaKeys`) when there is a key log to write them to.
fn export_ike_keys(engine: &mut EngineConfig, on: bool) {
    match std::sync::Arc::get_mut(&mut engine.endpoint) {
        Some(c) => c.export_ike_keys = on,
        None if on => tracing::warn!("engine configuration is shared: IKE keys will not be logged"),
        None => {}
    }
}

/// The subnet an address range stands for, if it is one CIDR block.
fn subnet_of(range: &ipsec_core::selector::AddrRange) -> Option<Subnet> {
    range.prefix_len()?;
    range.to_string().parse().ok()
}

/// The `tracing` target of the one-line-per-IKE-message log (debug level).
pub const IKE_MESSAGE_TARGET: &str = "ipsec_std::ike_message";

/// Logs an IKE message's header (RFC 7296 §3.1) at debug level under [`IKE_MESSAGE_TARGET`]:
/// direction, exchange, request or response, message ID, both SPIs and the length, in the
/// spirit of strongSwan's `sending packet` / `parsed IKE_AUTH response 1` lines.
fn log_ike_message(sent: bool, local: SocketAddr, remote: SocketAddr, msg: &[u8]) {
    if !tracing::enabled!(target: IKE_MESSAGE_TARGET, tracing::Level::DEBUG) {
        return;
    }
    let Ok(h) = ipsec_ike::message::header::HeaderView::new_checked(msg) else {
        return;
    };
    let (verb, from, to) = if sent {
        ("sent", local, remote)
    } else {
        ("received", remote, local)
    };
    tracing::debug!(
        target: IKE_MESSAGE_TARGET,
        "{verb} {} {} {}: SPIs {:016x}_i {:016x}_r, {from} -> {to}, {} bytes",
        h.exchange_type(),
        if h.flags().response() { "response" } else { "request" },
        h.message_id().0,
        u64::from_be_bytes(h.spi_i().0),
        u64::from_be_bytes(h.spi_r().0),
        msg.len()
    );
}

/// An SA's algorithms in strongSwan's notation (`AES_GCM_16-256`, `AES_CBC-256/HMAC_SHA2_256_128`).
#[must_use]
pub fn protocol_name(p: SecurityProtocol) -> String {
    use ipsec_core::transform::{AesKeyLen, EspAlgorithm, Integrity};
    let bits = |k: AesKeyLen| k.bytes().saturating_mul(8);
    let integ = |i: Integrity| match i {
        Integrity::HmacSha256_128 => "HMAC_SHA2_256_128".to_owned(),
        Integrity::HmacSha384_192 => "HMAC_SHA2_384_192".to_owned(),
        Integrity::HmacSha512_256 => "HMAC_SHA2_512_256".to_owned(),
        #[allow(unreachable_patterns)] // the enum may grow
        other => format!("{other:?}"),
    };
    match p {
        SecurityProtocol::Esp(EspAlgorithm::AesGcm16(k)) => format!("AES_GCM_16-{}", bits(k)),
        SecurityProtocol::Esp(EspAlgorithm::ChaCha20Poly1305) => "CHACHA20_POLY1305".to_owned(),
        SecurityProtocol::Esp(EspAlgorithm::AesGmac(k)) => format!("NULL_AUTH_AES_GMAC-{}", bits(k)),
        SecurityProtocol::Esp(EspAlgorithm::AesCbc(k, i)) => format!("AES_CBC-{}/{}", bits(k), integ(i)),
        SecurityProtocol::Esp(EspAlgorithm::Null(i)) => format!("NULL/{}", integ(i)),
        SecurityProtocol::Ah(i) => format!("AH {}", integ(i)),
        #[allow(unreachable_patterns)] // the enum may grow
        other => format!("{other:?}"),
    }
}

/// An SPI as `0x1234abcd` (how strongSwan logs them).
#[must_use]
pub fn format_spi(spi: Spi) -> String {
    format!("0x{:08x}", spi.0)
}

/// Selectors as `local === remote` pairs.
#[must_use]
pub fn format_selectors(s: &SelectorSet) -> String {
    s.iter()
        .map(|ts| format!("{} === {}", ts.local, ts.remote))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use ipsec_core::selector::{AddrRange, TrafficSelector};

    use super::*;

    fn range(addr: &str, prefix: u8) -> AddrRange {
        AddrRange::from_prefix(addr.parse::<IpAddr>().unwrap(), prefix).unwrap()
    }

    #[test]
    fn cidr_ranges_become_routable_subnets() {
        assert_eq!(
            subnet_of(&range("192.168.20.0", 24)),
            Some("192.168.20.0/24".parse().unwrap())
        );
        assert_eq!(
            subnet_of(&range("2001:db8::", 32)),
            Some("2001:db8::/32".parse().unwrap())
        );
        assert_eq!(
            subnet_of(&range("198.18.0.1", 32)),
            Some("198.18.0.1/32".parse().unwrap())
        );
        // A range that is no single CIDR block gets no route.
        let odd = AddrRange::new("10.0.0.1".parse().unwrap(), "10.0.0.6".parse().unwrap()).unwrap();
        assert_eq!(subnet_of(&odd), None);
    }

    #[test]
    fn spis_and_selectors_print_like_strongswan() {
        assert_eq!(format_spi(Spi(0xc1a2_b3c4)), "0xc1a2b3c4");
        assert_eq!(format_spi(Spi(7)), "0x00000007");
        let set = SelectorSet::from_slice(&[TrafficSelector::new(
            range("192.168.10.0", 24),
            range("192.168.20.0", 24),
        )])
        .unwrap();
        assert_eq!(format_selectors(&set), "192.168.10.0/24 === 192.168.20.0/24");
    }

    #[test]
    fn algorithms_print_like_strongswan() {
        use ipsec_core::transform::{AesKeyLen, EspAlgorithm, Integrity};
        assert_eq!(
            protocol_name(SecurityProtocol::Esp(EspAlgorithm::AesGcm16(AesKeyLen::Aes256))),
            "AES_GCM_16-256"
        );
        assert_eq!(
            protocol_name(SecurityProtocol::Esp(EspAlgorithm::AesCbc(
                AesKeyLen::Aes128,
                Integrity::HmacSha256_128
            ))),
            "AES_CBC-128/HMAC_SHA2_256_128"
        );
        assert_eq!(
            protocol_name(SecurityProtocol::Esp(EspAlgorithm::ChaCha20Poly1305)),
            "CHACHA20_POLY1305"
        );
    }

    #[test]
    fn state_names_cover_every_state() {
        use ipsec_ike::endpoint::IkeSaState;
        assert_eq!(state_name(Some(IkeSaState::Established)), "ESTABLISHED");
        assert_eq!(state_name(Some(IkeSaState::Connecting)), "CONNECTING");
        assert_eq!(state_name(None), "GONE");
    }
}
