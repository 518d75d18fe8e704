//! Deterministic simulation of IKE endpoints and their data planes (STYLE §5).
//!
//! - A **virtual clock** jumps to the earliest of the network's next delivery and the peers'
//!   `poll_timeout`s; nothing reads a real clock.
//! - **Seeded randomness** everywhere: each endpoint's and SAD's RNG and the network's
//!   decisions derive from the scenario seed, so a seed reproduces the same bytes.
//! - An in-memory **network** that loses, duplicates, reorders (random delays) and NAT-rewrites
//!   UDP datagrams, and carries raw ESP packets where no NAT is in the way.
//! - **Peers**: an `Endpoint` plus an `ipsec_core::Sad`, wired like the real driver: CHILD SA
//!   events install, activate, update and remove SAs, and the SAD's `SoftExpired` events go to
//!   `Endpoint::rekey_child_sa`; inner UDP packets carrying a counter are pushed through the
//!   active outbound SA and counted when they come out of the peer's SAD.
//! - Unless `impair_esp` is set, ESP travels with the minimum delay: reliable and in order, never
//!   overtaken by an IKE message sent at the same time (so a rekey must lose nothing).
//! - `SIM_TRACE=1` prints every IKE message received, every datagram sent or lost and every
//!   event, with the virtual time in microseconds.

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use ipsec_core::replay::replay_words;
use ipsec_core::sa::SaId;
use ipsec_core::transform::RustCrypto as CoreCrypto;
use ipsec_core::wire::{IpProtocol, NattDatagram, classify_4500};
use ipsec_core::{Instant, Sad, Unprotected};
use ipsec_ike::config::EndpointConfig;
use ipsec_ike::{ChildSaId, Endpoint, Event};
use rand_chacha::ChaCha8Rng;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

/// The SAD each simulated peer runs.
pub(crate) type SimSad = Sad<CoreCrypto, 32, { replay_words(64) }>;

/// One datagram in flight.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Datagram {
    pub(crate) src: SocketAddr,
    pub(crate) dst: SocketAddr,
    /// A raw IP packet (ESP without UDP encapsulation) instead of a UDP payload.
    pub(crate) raw: bool,
    pub(crate) payload: Vec<u8>,
}

/// Network impairments, in per-mille.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Impairments {
    pub(crate) loss: u32,
    pub(crate) duplicate: u32,
    /// Chance that a datagram gets an extra delay of up to `reorder_delay`.
    pub(crate) reorder: u32,
    pub(crate) min_delay: Duration,
    pub(crate) max_delay: Duration,
    pub(crate) reorder_delay: Duration,
}

impl Impairments {
    pub(crate) const PERFECT: Self = Self {
        loss: 0,
        duplicate: 0,
        reorder: 0,
        min_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(1),
        reorder_delay: Duration::ZERO,
    };

    /// Random impairments for a seed: up to 20 % loss, 10 % duplicates, 20 % reordering.
    pub(crate) fn random(rng: &mut ChaCha8Rng) -> Self {
        let max_delay = Duration::from_millis(1 + u64::from(rng.next_u32() % 150));
        Self {
            loss: rng.next_u32() % 201,
            duplicate: rng.next_u32() % 101,
            reorder: rng.next_u32() % 201,
            min_delay: Duration::from_millis(1),
            max_delay,
            reorder_delay: Duration::from_millis(u64::from(rng.next_u32() % 500)),
        }
    }
}

/// A NAT in front of one inside address (RFC 3948 §1): source addresses and ports are rewritten
/// to the public address and a mapped port; replies to a mapped port go back inside.
#[derive(Debug)]
pub(crate) struct Nat {
    pub(crate) inside: IpAddr,
    pub(crate) public: IpAddr,
    map: BTreeMap<SocketAddr, u16>,
    back: BTreeMap<u16, SocketAddr>,
    next_port: u16,
}

impl Nat {
    pub(crate) fn new(inside: IpAddr, public: IpAddr) -> Self {
        Self {
            inside,
            public,
            map: BTreeMap::new(),
            back: BTreeMap::new(),
            next_port: 40_000,
        }
    }

    /// Forgets every mapping (a NAT reboot or timeout): the next packet gets a new port.
    pub(crate) fn rebind(&mut self) {
        self.map.clear();
        self.back.clear();
    }

    fn outbound(&mut self, src: SocketAddr) -> SocketAddr {
        let port = match self.map.get(&src) {
            Some(p) => *p,
            None => {
                let p = self.next_port;
                self.next_port = self.next_port.wrapping_add(1).max(40_000);
                self.map.insert(src, p);
                self.back.insert(p, src);
                p
            }
        };
        SocketAddr::new(self.public, port)
    }

    fn inbound(&self, dst: SocketAddr) -> Option<SocketAddr> {
        self.back.get(&dst.port()).copied()
    }
}

/// The in-memory network.
pub(crate) struct Net {
    pub(crate) imp: Impairments,
    rng: ChaCha8Rng,
    queue: BTreeMap<(Instant, u64), Datagram>,
    seq: u64,
    pub(crate) nat: Option<Nat>,
    /// Datagrams sent, lost, duplicated.
    pub(crate) sent: u64,
    pub(crate) lost: u64,
    pub(crate) duplicated: u64,
    /// Drop everything while set (a partition).
    pub(crate) partitioned: bool,
    /// Apply impairments to ESP too (else ESP is delivered reliably, in order).
    pub(crate) impair_esp: bool,
    /// Hash of every datagram sent (determinism checks).
    pub(crate) digest: std::collections::hash_map::DefaultHasher,
}

impl Net {
    pub(crate) fn new(imp: Impairments, seed: u64) -> Self {
        Self {
            imp,
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x6e65_7477_6f72_6b00),
            queue: BTreeMap::new(),
            seq: 0,
            nat: None,
            sent: 0,
            lost: 0,
            duplicated: 0,
            partitioned: false,
            impair_esp: false,
            digest: std::collections::hash_map::DefaultHasher::new(),
        }
    }

    fn chance(&mut self, per_mille: u32) -> bool {
        per_mille > 0 && self.rng.next_u32() % 1000 < per_mille
    }

    fn delay(&mut self, impaired: bool) -> Duration {
        if !impaired {
            // Reliable, in order: never later than an IKE message sent at the same time.
            return self.imp.min_delay;
        }
        let min = self.imp.min_delay.as_micros() as u64;
        let max = self.imp.max_delay.as_micros() as u64;
        let mut d = min
            + if max > min {
                self.rng.next_u64() % (max - min + 1)
            } else {
                0
            };
        if impaired && self.chance(self.imp.reorder) {
            let extra = self.imp.reorder_delay.as_micros() as u64;
            if extra > 0 {
                d += self.rng.next_u64() % extra;
            }
        }
        Duration::from_micros(d)
    }

    /// Sends a datagram at `now` (NAT applied when it leaves the inside host).
    pub(crate) fn send(&mut self, now: Instant, mut d: Datagram, is_esp: bool) {
        d.payload.hash(&mut self.digest);
        d.src.hash(&mut self.digest);
        d.dst.hash(&mut self.digest);
        self.sent += 1;
        if self.partitioned {
            self.lost += 1;
            return;
        }
        if let Some(nat) = &mut self.nat {
            if d.src.ip() == nat.inside {
                if d.raw {
                    // Raw ESP cannot cross this NAT.
                    self.lost += 1;
                    return;
                }
                d.src = nat.outbound(d.src);
            }
        }
        let impaired = !is_esp || self.impair_esp;
        if impaired && self.chance(self.imp.loss) {
            if trace() {
                eprintln!("{:>10} net: lost {} -> {}", now.as_micros(), d.src, d.dst);
            }
            self.lost += 1;
            return;
        }
        let copies = if impaired && self.chance(self.imp.duplicate) {
            self.duplicated += 1;
            2
        } else {
            1
        };
        for _ in 0..copies {
            let at = now.saturating_add(self.delay(impaired));
            self.seq += 1;
            self.queue.insert((at, self.seq), d.clone());
        }
    }

    pub(crate) fn next_at(&self) -> Option<Instant> {
        self.queue.keys().next().map(|(t, _)| *t)
    }

    /// The next datagram due at or before `now`, NAT applied on the way in.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<Datagram> {
        loop {
            let key = *self.queue.keys().next()?;
            if key.0 > now {
                return None;
            }
            let mut d = self.queue.remove(&key)?;
            if let Some(nat) = &self.nat {
                if d.dst.ip() == nat.public {
                    match nat.inbound(d.dst) {
                        Some(inside) => d.dst = inside,
                        None => {
                            self.lost += 1;
                            continue;
                        }
                    }
                }
            }
            return Some(d);
        }
    }
}

/// A CHILD SA as installed in a peer's SAD.
#[derive(Clone, Debug)]
pub(crate) struct InstalledChild {
    pub(crate) inbound: SaId,
    pub(crate) outbound: SaId,
    pub(crate) active: bool,
    pub(crate) inbound_spi: u32,
    pub(crate) outbound_spi: u32,
    pub(crate) keys_in: Vec<u8>,
    pub(crate) keys_out: Vec<u8>,
    pub(crate) encap: Option<ipsec_core::sa::UdpEncap>,
    /// The outer destination in tunnel mode; `None` in transport mode.
    pub(crate) remote: Option<IpAddr>,
}

/// One simulated host.
pub(crate) struct Peer {
    pub(crate) name: &'static str,
    /// The address the host itself has.
    pub(crate) ip: IpAddr,
    /// Its protected LAN address (inner packets come from here).
    pub(crate) lan: IpAddr,
    pub(crate) ep: Endpoint,
    pub(crate) sad: Box<SimSad>,
    sad_rng: ChaCha20Rng,
    pub(crate) children: BTreeMap<ChildSaId, InstalledChild>,
    pub(crate) events: Vec<Event>,
    /// Inner packets this peer sent / received (by counter value).
    pub(crate) sent: u64,
    pub(crate) received: BTreeSet<u64>,
    pub(crate) duplicates: u64,
    pub(crate) esp_errors: u64,
    /// The first few ESP errors, for failure reports.
    pub(crate) esp_error_log: Vec<String>,
    pub(crate) install_errors: Vec<String>,
    pub(crate) ike_errors: u64,
    /// Inner packets refused for lack of an outbound SA.
    pub(crate) no_sa: u64,
    /// SAD soft-lifetime events forwarded to the engine.
    pub(crate) soft_expired: u64,
}

impl Peer {
    pub(crate) fn new(
        name: &'static str,
        ip: IpAddr,
        lan: IpAddr,
        config: Arc<EndpointConfig>,
        seed: u64,
    ) -> Self {
        let ep = Endpoint::new(
            config,
            ChaCha20Rng::seed_from_u64(seed),
            Instant::ZERO,
            1_800_000_000,
        )
        .expect("valid configuration");
        Self {
            name,
            ip,
            lan,
            ep,
            sad: Box::new(SimSad::new(CoreCrypto)),
            sad_rng: ChaCha20Rng::seed_from_u64(seed ^ 0x5ad),
            children: BTreeMap::new(),
            events: Vec::new(),
            sent: 0,
            received: BTreeSet::new(),
            duplicates: 0,
            esp_errors: 0,
            esp_error_log: Vec::new(),
            install_errors: Vec::new(),
            ike_errors: 0,
            no_sa: 0,
            soft_expired: 0,
        }
    }

    /// Moves the endpoint's output to the network and applies its events to the SAD.
    fn drain(&mut self, now: Instant, net: &mut Net) {
        loop {
            let mut progress = false;
            while let Some(t) = self.ep.poll_transmit() {
                progress = true;
                let src = if t.local.ip().is_unspecified() {
                    SocketAddr::new(self.ip, t.local.port())
                } else {
                    t.local
                };
                if trace() {
                    eprintln!(
                        "{:>10} {}: send to {} {:?} {} bytes",
                        now.as_micros(),
                        self.name,
                        t.remote,
                        t.encap,
                        t.payload.len()
                    );
                }
                net.send(
                    now,
                    Datagram {
                        src,
                        dst: t.remote,
                        raw: false,
                        payload: t.payload,
                    },
                    false,
                );
            }
            // The SAD's byte and packet lifetimes (STYLE §2): a soft limit asks the engine for
            // a rekey of the CHILD SA owning that SA.
            while let Some(ev) = self.sad.poll_event() {
                if let ipsec_core::SadEvent::SoftExpired { sa, .. } = ev {
                    let child = self
                        .children
                        .iter()
                        .find(|(_, c)| c.inbound == sa || c.outbound == sa)
                        .map(|(id, _)| *id);
                    if let Some(child) = child {
                        self.soft_expired += 1;
                        let _ = self.ep.rekey_child_sa(now, child);
                        progress = true;
                    }
                }
            }
            while let Some(e) = self.ep.poll_event() {
                progress = true;
                if trace() {
                    eprintln!("{:>10} {}: {e:?}", now.as_micros(), self.name);
                }
                self.apply(now, &e);
                self.events.push(e);
            }
            if !progress {
                break;
            }
        }
    }

    fn apply(&mut self, now: Instant, e: &Event) {
        match e {
            Event::ChildSaInstall(i) => {
                let (pin, pout) = i.sa_params();
                let inbound = self.sad.install(now, &pin, &i.inbound_keys, &mut self.sad_rng);
                let outbound = self.sad.install(now, &pout, &i.outbound_keys, &mut self.sad_rng);
                match (inbound, outbound) {
                    (Ok(inbound), Ok(outbound)) => {
                        // Transport mode carries no outer addresses: packets go to the inner
                        // destination (see `send_inner`).
                        let remote = match i.mode {
                            ipsec_core::sa::Mode::Tunnel { remote, .. } => Some(remote),
                            ipsec_core::sa::Mode::Transport => None,
                        };
                        self.children.insert(
                            i.child,
                            InstalledChild {
                                inbound,
                                outbound,
                                active: i.outbound_active,
                                inbound_spi: i.inbound_spi.0,
                                outbound_spi: i.outbound_spi.0,
                                keys_in: i.inbound_keys.as_bytes().to_vec(),
                                keys_out: i.outbound_keys.as_bytes().to_vec(),
                                encap: i.encap,
                                remote,
                            },
                        );
                    }
                    (a, b) => self
                        .install_errors
                        .push(format!("{}: install {:?} / {:?}", self.name, a, b)),
                }
            }
            Event::ChildSaActivate { child, .. } => {
                if let Some(c) = self.children.get_mut(child) {
                    c.active = true;
                } else {
                    self.install_errors
                        .push(format!("{}: activate unknown {child}", self.name));
                }
            }
            Event::ChildSaUpdate {
                child, encap, mode, ..
            } => {
                if let Some(c) = self.children.get_mut(child) {
                    c.encap = *encap;
                    if let ipsec_core::sa::Mode::Tunnel { remote, .. } = mode {
                        c.remote = Some(*remote);
                    }
                    let _ = self.sad.set_encap(c.outbound, *encap);
                    let _ = self.sad.set_encap(c.inbound, *encap);
                }
            }
            Event::ChildSaDelete { child, .. } => match self.children.remove(child) {
                Some(c) => {
                    self.sad.remove(c.inbound);
                    self.sad.remove(c.outbound);
                }
                None => self
                    .install_errors
                    .push(format!("{}: delete unknown {child}", self.name)),
            },
            _ => {}
        }
    }

    /// The outbound CHILD SA in use: the newest active one.
    pub(crate) fn active_child(&self) -> Option<(&ChildSaId, &InstalledChild)> {
        self.children.iter().rev().find(|(_, c)| c.active)
    }

    /// Protects one inner packet to `dst_lan` and puts it on the network.
    fn send_inner(&mut self, now: Instant, net: &mut Net, dst_lan: IpAddr) {
        let Some((_, child)) = self.active_child() else {
            self.no_sa += 1;
            return;
        };
        let child = child.clone();
        let counter = self.sent;
        self.sent += 1;
        let mut udp = Vec::with_capacity(16);
        udp.extend_from_slice(&1234u16.to_be_bytes());
        udp.extend_from_slice(&5678u16.to_be_bytes());
        udp.extend_from_slice(&16u16.to_be_bytes());
        udp.extend_from_slice(&[0, 0]);
        udp.extend_from_slice(&counter.to_be_bytes());
        let inner = ipsec_core::testing::packets::ip(self.lan, dst_lan, IpProtocol::UDP, &udp, 0);
        let room = self.sad.overhead(child.outbound).expect("installed SA");
        let mut buf = vec![0u8; room.headroom + inner.len() + room.tailroom];
        buf[room.headroom..room.headroom + inner.len()].copy_from_slice(&inner);
        let p = match self
            .sad
            .protect(now, child.outbound, &mut buf, room.headroom, inner.len())
        {
            Ok(p) => p,
            Err(e) => {
                self.esp_error(format!("protect: {e:?}"));
                return;
            }
        };
        let remote = child.remote.unwrap_or(dst_lan);
        let d = match child.encap {
            Some(e) => Datagram {
                src: SocketAddr::new(self.ip, e.local_port),
                dst: SocketAddr::new(remote, e.remote_port),
                raw: false,
                payload: buf[p.ipsec].to_vec(),
            },
            None => Datagram {
                src: SocketAddr::new(self.ip, 0),
                dst: SocketAddr::new(remote, 0),
                raw: true,
                payload: buf[p.packet].to_vec(),
            },
        };
        net.send(now, d, true);
    }

    fn receive(&mut self, now: Instant, net: &mut Net, d: Datagram) {
        if d.raw {
            let mut buf = d.payload;
            let len = buf.len();
            let r = self.sad.unprotect(now, &mut buf, 0, len);
            self.count_inner(r.map(|u| match u {
                Unprotected::Packet { packet, .. } => Some(buf[packet].to_vec()),
                _ => None,
            }));
            return;
        }
        let esp = d.dst.port() == 4500 && matches!(classify_4500(&d.payload), Ok(NattDatagram::Esp(_)));
        if esp {
            let mut buf = vec![0u8; 28];
            buf.extend_from_slice(&d.payload);
            let len = d.payload.len();
            let r = self.sad.unprotect_datagram(now, d.src, d.dst, &mut buf, 28, len);
            self.count_inner(r.map(|u| match u {
                Unprotected::Packet { packet, .. } => Some(buf[packet].to_vec()),
                _ => None,
            }));
            return;
        }
        let mut msg = if d.dst.port() == 4500 {
            match classify_4500(&d.payload) {
                Ok(NattDatagram::Ike(m)) => m.to_vec(),
                _ => return,
            }
        } else {
            d.payload
        };
        if trace() {
            eprintln!(
                "{:>10} {}: IKE from {} {:?}",
                now.as_micros(),
                self.name,
                d.src,
                ipsec_ike::message::HeaderView::new_checked(&msg).map(|h| h.header())
            );
        }
        if let Err(e) = self.ep.handle_datagram(now, d.src, d.dst, &mut msg) {
            if trace() {
                eprintln!("{:>10} {}: dropped: {e}", now.as_micros(), self.name);
            }
            self.ike_errors += 1;
        }
        self.drain(now, net);
    }

    fn esp_error(&mut self, what: String) {
        self.esp_errors += 1;
        if self.esp_error_log.len() < 4 {
            self.esp_error_log.push(what);
        }
    }

    fn count_inner(&mut self, r: Result<Option<Vec<u8>>, ipsec_core::UnprotectError>) {
        match r {
            Ok(Some(p)) if p.len() >= 36 => {
                let counter = u64::from_be_bytes(p[28..36].try_into().unwrap());
                if !self.received.insert(counter) {
                    self.duplicates += 1;
                }
            }
            Ok(_) => {}
            Err(e) => self.esp_error(format!("unprotect: {e:?}")),
        }
    }
}

/// A simulation: peers on one network, one clock.
pub(crate) struct Sim {
    pub(crate) seed: u64,
    pub(crate) now: Instant,
    pub(crate) net: Net,
    pub(crate) peers: Vec<Peer>,
}

impl Sim {
    pub(crate) fn new(seed: u64, imp: Impairments) -> Self {
        Self {
            seed,
            now: Instant::ZERO,
            net: Net::new(imp, seed),
            peers: Vec::new(),
        }
    }

    pub(crate) fn add(&mut self, peer: Peer) -> usize {
        self.peers.push(peer);
        self.peers.len() - 1
    }

    fn route(&self, d: &Datagram) -> Option<usize> {
        self.peers.iter().position(|p| p.ip == d.dst.ip())
    }

    /// Drains every peer (after commands given from outside).
    pub(crate) fn drain(&mut self) {
        let now = self.now;
        for p in &mut self.peers {
            p.drain(now, &mut self.net);
        }
    }

    /// Advances to the next event; false if nothing is scheduled up to `limit`.
    pub(crate) fn step(&mut self, limit: Instant) -> bool {
        self.drain();
        let timers = self
            .peers
            .iter()
            .filter_map(|p| p.ep.poll_timeout().map(|(t, _)| t))
            .min();
        let next = [timers, self.net.next_at()].into_iter().flatten().min();
        let Some(next) = next else {
            return false;
        };
        if next > limit {
            return false;
        }
        self.now = self.now.max(next);
        let now = self.now;
        while let Some(d) = self.net.pop_due(now) {
            if let Some(i) = self.route(&d) {
                self.peers[i].receive(now, &mut self.net, d);
            }
        }
        for p in &mut self.peers {
            if p.ep.poll_timeout().is_some_and(|(t, _)| t <= now) {
                p.ep.handle_timeout(now);
                p.drain(now, &mut self.net);
            }
        }
        true
    }

    /// Steps until `done` holds or `limit` (virtual time from now) passes.
    pub(crate) fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&Sim) -> bool) -> bool {
        let end = self.now.saturating_add(limit);
        loop {
            if done(self) {
                return true;
            }
            if !self.step(end) {
                self.now = self.now.max(end);
                return done(self);
            }
        }
    }

    /// Runs for `d` of virtual time.
    pub(crate) fn run_for(&mut self, d: Duration) {
        let end = self.now.saturating_add(d);
        while self.step(end) {}
        self.now = self.now.max(end);
    }

    /// Sends `n` inner packets from peer `from` to peer `to`'s LAN, `gap` apart, running the
    /// simulation in between.
    pub(crate) fn traffic(&mut self, from: usize, to: usize, n: u64, gap: Duration) {
        let dst = self.peers[to].lan;
        for _ in 0..n {
            let now = self.now;
            self.peers[from].send_inner(now, &mut self.net, dst);
            self.run_for(gap);
        }
    }

    /// Sends one inner packet from `a` to `b` and one back every `gap`, `n` times.
    pub(crate) fn traffic_both(&mut self, a: usize, b: usize, n: u64, gap: Duration) {
        let (a_lan, b_lan) = (self.peers[a].lan, self.peers[b].lan);
        for _ in 0..n {
            let now = self.now;
            self.peers[a].send_inner(now, &mut self.net, b_lan);
            self.peers[b].send_inner(now, &mut self.net, a_lan);
            self.run_for(gap);
        }
    }

    /// Both peers hold the same CHILD SAs: mirrored SPIs and keys.
    pub(crate) fn keys_match(&self, a: usize, b: usize) -> Result<(), String> {
        let (pa, pb) = (&self.peers[a], &self.peers[b]);
        for c in pa.children.values() {
            let m = pb
                .children
                .values()
                .find(|d| d.inbound_spi == c.outbound_spi && d.outbound_spi == c.inbound_spi)
                .ok_or_else(|| {
                    format!(
                        "{}: CHILD SA {:08x}/{:08x} has no mirror",
                        pa.name, c.inbound_spi, c.outbound_spi
                    )
                })?;
            if m.keys_in != c.keys_out || m.keys_out != c.keys_in {
                return Err(format!("{}: CHILD SA {:08x} keys differ", pa.name, c.inbound_spi));
            }
        }
        Ok(())
    }

    /// A digest of every datagram sent so far.
    pub(crate) fn digest(&self) -> u64 {
        self.net.digest.finish()
    }
}

/// `SIM_TRACE=1` prints every IKE message received and every event.
pub(crate) fn trace() -> bool {
    std::env::var_os("SIM_TRACE").is_some()
}

/// Seeds to run: `SIM_SEED=<n>` runs one, `SIM_SEEDS=<count>` overrides `default`.
pub(crate) fn seeds(default: u64) -> Vec<u64> {
    if let Ok(s) = std::env::var("SIM_SEED") {
        return vec![s.parse().expect("SIM_SEED is a number")];
    }
    let n = std::env::var("SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default);
    (0..n).collect()
}

/// Runs `scenario` for every seed; reports all failing seeds with the command to reproduce.
pub(crate) fn run_seeds(name: &str, default: u64, scenario: impl Fn(u64) -> Result<(), String>) {
    let mut failures = Vec::new();
    let seeds = seeds(default);
    let start = std::time::Instant::now();
    for &seed in &seeds {
        if let Err(e) = scenario(seed) {
            eprintln!(
                "{name}: seed {seed} failed: {e}\n  reproduce: SIM_SEED={seed} cargo test -p ipsec-tests --test simulation {name}"
            );
            failures.push(seed);
        }
    }
    eprintln!("{name}: {} seeds in {:.1?}", seeds.len(), start.elapsed());
    assert!(failures.is_empty(), "{name}: failing seeds {failures:?}");
}

/// Addresses used by the scenarios.
pub(crate) const A_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
pub(crate) const B_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 2));
pub(crate) const A_LAN: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 1, 0, 1));
pub(crate) const B_LAN: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 2, 0, 1));
/// A behind a NAT: its own address and the NAT's public one.
pub(crate) const A_PRIVATE: IpAddr = IpAddr::V4(Ipv4Addr::new(172, 16, 0, 2));
pub(crate) const NAT_PUBLIC: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1));
