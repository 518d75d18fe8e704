//! The Security Association Database (RFC 4301 §4.4.2): a fixed-capacity table of SAs with inbound
//! lookup by SPI, the packet entry points `protect` and `unprotect`, lifetimes and counters.
//!
//! # Contract
//! - Capacity `N` SAs, each with an anti-replay bitmap of `W` words (see [`crate::replay`]); nothing
//!   allocates. A `Sad` is large: keep it in a `static`, a `Box` or a long-lived struct.
//! - Time is passed in. After any call, drain [`Sad::poll_event`]; sleep until [`Sad::poll_timeout`]
//!   and then call [`Sad::handle_timeout`] (early or repeated calls are harmless).
//! - Inbound SAs are found by SPI and protocol (RFC 4301 §4.1: we choose inbound SPIs, so they are
//!   unique here without the destination address).
//! - Every error leaves the SA as it was, except the drop counter of its cause.

// Arithmetic here is on lengths and offsets bounded by a slice length (< isize::MAX) plus small
// constants or 8-bit header fields scaled by at most 8; every subtraction follows the comparison that
// makes it non-negative. Checked arithmetic would add error paths that cannot be taken.
#![allow(clippy::arithmetic_side_effects)]

use core::net::SocketAddr;
use core::ops::Range;

use rand_core::TryCryptoRng;

use crate::error::{InstallError, ProtectError, UnprotectError};
use crate::lifetime::{LifetimeState, LifetimeTracker, LimitKind};
use crate::mode;
use crate::replay::ReplayWindow;
use crate::sa::{Direction, SaId, SaParams, SaStats, SecurityProtocol, Spi, UdpEncap};
use crate::time::Instant;
use crate::transform::{IvSeed, KeyMaterial, TransformProvider};
use crate::wire::{self, IpProtocol, NattDatagram, UDP_HEADER_LEN};

mod entry;
mod params;

use entry::{Entry, Keyed, note};
use params::{added_bytes, ipsec_protocol, overhead, validate};

/// Without ESN, a soft "rekey wanted" event fires once this many sequence numbers are used
/// (2^32 − 2^28: a sixteenth of the space is left).
pub const SEQ_SOFT_LIMIT_32: u64 = (1 << 32) - (1 << 28);
/// With ESN, the soft limit of the 64-bit space.
pub const SEQ_SOFT_LIMIT_64: u64 = u64::MAX - (1 << 32);

/// Where an outbound packet ended up in the caller's buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Protected {
    /// The whole IP packet, outer header included.
    pub packet: Range<usize>,
    /// What follows the outer IP header and, for ESP-in-UDP, the UDP header: the ESP packet (the
    /// payload to hand a UDP socket on port 4500) or the AH header and what it protects.
    pub ipsec: Range<usize>,
    /// The sequence number the packet carries.
    pub seq: u64,
}

/// A successfully processed inbound packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unprotected {
    /// An IP packet to deliver: the inner packet (tunnel mode) or the rebuilt packet (transport).
    Packet {
        /// The SA it arrived on.
        sa: SaId,
        /// The packet within the caller's buffer.
        packet: Range<usize>,
        /// Its sequence number.
        seq: u64,
    },
    /// A dummy packet (next header 59, RFC 4303 §2.6): authenticated, counted, nothing to deliver.
    Dummy {
        /// The SA it arrived on.
        sa: SaId,
        /// Its sequence number.
        seq: u64,
    },
}

/// Space an SA needs around a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Overhead {
    /// Bytes that must be free in front of the packet given to `protect`.
    pub headroom: usize,
    /// Most bytes `protect` writes after the packet (padding, trailer, ICV, TFC padding).
    pub tailroom: usize,
}

/// Something the SAD wants the caller to know.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SadEvent {
    /// A soft limit was crossed: rekey this SA (forward to the IKE engine).
    SoftExpired {
        /// The SA.
        sa: SaId,
        /// Its SPI.
        spi: Spi,
        /// Its direction.
        direction: Direction,
        /// The limit crossed.
        limit: LimitKind,
    },
    /// A hard limit was crossed: the SA refuses all traffic; remove it.
    HardExpired {
        /// The SA.
        sa: SaId,
        /// Its SPI.
        spi: Spi,
        /// Its direction.
        direction: Direction,
        /// The limit crossed.
        limit: LimitKind,
    },
}

// Without alloc an SA lives inline in its slot; vacant slots are the price of a fixed table.
#[allow(clippy::large_enum_variant)]
enum Slot<P: TransformProvider, const W: usize> {
    Vacant { generation: u16 },
    Occupied { generation: u16, entry: Entry<P, W> },
}

#[derive(Clone, Copy, Debug, Default)]
struct InboundKey {
    spi: u32,
    protocol: u8,
    slot: u16,
}

/// The SAD: up to `N` SAs keyed by the provider `P`, with replay windows of `W` words.
pub struct Sad<P: TransformProvider, const N: usize, const W: usize> {
    provider: P,
    slots: [Slot<P, W>; N],
    inbound: [InboundKey; N],
    inbound_len: usize,
    pending_events: usize,
    next_deadline: Option<Instant>,
}

impl<P: TransformProvider, const N: usize, const W: usize> core::fmt::Debug for Sad<P, N, W> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sad")
            .field("len", &self.len())
            .field("capacity", &N)
            .finish_non_exhaustive()
    }
}

impl<P: TransformProvider, const N: usize, const W: usize> Sad<P, N, W> {
    /// An empty SAD using `provider` for its transforms.
    ///
    /// `N` must fit in 16 bits; a larger `N` only ever uses the first 65535 slots.
    pub fn new(provider: P) -> Self {
        Sad {
            provider,
            slots: core::array::from_fn(|_| Slot::Vacant { generation: 0 }),
            inbound: [InboundKey::default(); N],
            inbound_len: 0,
            pending_events: 0,
            next_deadline: None,
        }
    }

    /// Number of installed SAs.
    #[must_use]
    pub fn len(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| matches!(s, Slot::Occupied { .. }))
            .count()
    }

    /// True if no SA is installed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Installs an SA. `rng` seeds the SA's IV generator (CBC); it is used here only.
    ///
    /// # Errors
    /// [`InstallError`]: a full table, a duplicate inbound SPI, inconsistent parameters, key
    /// material the provider refuses, or a failing `rng`. Nothing changes on error.
    pub fn install<R: TryCryptoRng + ?Sized>(
        &mut self,
        now: Instant,
        params: &SaParams,
        keys: &KeyMaterial,
        rng: &mut R,
    ) -> Result<SaId, InstallError> {
        validate(params)?;
        let replay = match params.direction {
            Direction::Inbound => ReplayWindow::new(params.replay_window, params.esn)
                .ok_or(InstallError::InvalidParams("replay window size out of range"))?,
            // Outbound SAs keep a minimal window they never use.
            Direction::Outbound => ReplayWindow::new(1, params.esn)
                .ok_or(InstallError::InvalidParams("replay window capacity W is 0 or 1"))?,
        };
        let protocol = ipsec_protocol(params.protocol);
        let position = if params.direction == Direction::Inbound {
            match self.find_inbound_pos(params.spi, protocol) {
                Ok(_) => return Err(InstallError::DuplicateSpi(params.spi)),
                Err(pos) => Some(pos),
            }
        } else {
            None
        };
        let (index, generation) = self
            .slots
            .iter()
            .enumerate()
            .take(usize::from(u16::MAX))
            .find_map(|(i, s)| match s {
                Slot::Vacant { generation } => Some((i, *generation)),
                Slot::Occupied { .. } => None,
            })
            .ok_or(InstallError::Full)?;
        let index16 = u16::try_from(index).map_err(|_| InstallError::Full)?;
        let mut seed = IvSeed([0; 32]);
        rng.try_fill_bytes(&mut seed.0)
            .map_err(|_| InstallError::Entropy)?;
        let keyed = match params.protocol {
            SecurityProtocol::Esp(alg) => Keyed::Esp(
                self.provider
                    .esp_cipher(alg, keys, &seed)
                    .map_err(InstallError::Crypto)?,
            ),
            SecurityProtocol::Ah(alg) => {
                Keyed::Ah(self.provider.ah_mac(alg, keys).map_err(InstallError::Crypto)?)
            }
        };
        if let Some(pos) = position {
            let key = InboundKey {
                spi: params.spi.0,
                protocol: protocol.0,
                slot: index16,
            };
            self.inbound
                .get_mut(pos..=self.inbound_len)
                .ok_or(InstallError::Full)?
                .rotate_right(1);
            if let Some(k) = self.inbound.get_mut(pos) {
                *k = key;
            }
            self.inbound_len += 1;
        }
        let entry = Entry {
            params: params.clone(),
            keyed,
            seq: 0,
            replay,
            life: LifetimeTracker::new(params.lifetime, now),
            stats: SaStats::default(),
            pending: [None, None],
        };
        if let Some(slot) = self.slots.get_mut(index) {
            *slot = Slot::Occupied { generation, entry };
        }
        self.recompute_deadline();
        Ok(SaId {
            index: index16,
            generation,
        })
    }

    /// Removes an SA; returns its parameters, or `None` for a stale id.
    pub fn remove(&mut self, id: SaId) -> Option<SaParams> {
        let slot = self.slots.get_mut(usize::from(id.index))?;
        let generation = match slot {
            Slot::Occupied { generation, .. } if *generation == id.generation => *generation,
            _ => return None,
        };
        let old = core::mem::replace(
            slot,
            Slot::Vacant {
                generation: generation.wrapping_add(1),
            },
        );
        let Slot::Occupied { entry, .. } = old else {
            return None;
        };
        let dropped_events = entry.pending.iter().filter(|p| p.is_some()).count();
        self.pending_events = self.pending_events.saturating_sub(dropped_events);
        if entry.params.direction == Direction::Inbound {
            let protocol = ipsec_protocol(entry.params.protocol);
            if let Ok(pos) = self.find_inbound_pos(entry.params.spi, protocol) {
                if let Some(tail) = self.inbound.get_mut(pos..self.inbound_len) {
                    tail.rotate_left(1);
                }
                self.inbound_len = self.inbound_len.saturating_sub(1);
            }
        }
        self.recompute_deadline();
        Some(entry.params.clone())
    }

    /// The parameters of an SA.
    #[must_use]
    pub fn params(&self, id: SaId) -> Option<&SaParams> {
        self.entry(id).map(|e| &e.params)
    }

    /// The counters of an SA.
    #[must_use]
    pub fn stats(&self, id: SaId) -> Option<SaStats> {
        self.entry(id).map(|e| e.stats)
    }

    /// Where an SA stands with respect to its lifetime.
    #[must_use]
    pub fn lifetime_state(&self, id: SaId) -> Option<LifetimeState> {
        self.entry(id).map(|e| e.life.state())
    }

    /// When an SA was installed.
    #[must_use]
    pub fn installed_at(&self, id: SaId) -> Option<Instant> {
        self.entry(id).map(|e| e.life.installed())
    }

    /// The last sequence number sent (outbound) or the highest received (inbound).
    #[must_use]
    pub fn sequence(&self, id: SaId) -> Option<u64> {
        self.entry(id).map(|e| match e.params.direction {
            Direction::Outbound => e.seq,
            Direction::Inbound => e.replay.top(),
        })
    }

    /// The inbound SA with this SPI and protocol (ESP or AH).
    #[must_use]
    pub fn lookup_inbound(&self, spi: Spi, protocol: IpProtocol) -> Option<SaId> {
        let pos = self.find_inbound_pos(spi, protocol).ok()?;
        let slot = self.inbound.get(pos)?.slot;
        match self.slots.get(usize::from(slot))? {
            Slot::Occupied { generation, .. } => Some(SaId {
                index: slot,
                generation: *generation,
            }),
            Slot::Vacant { .. } => None,
        }
    }

    /// Ids of all installed SAs, in slot order.
    pub fn ids(&self) -> impl Iterator<Item = SaId> + '_ {
        self.slots.iter().enumerate().filter_map(|(i, s)| match s {
            Slot::Occupied { generation, .. } => u16::try_from(i).ok().map(|index| SaId {
                index,
                generation: *generation,
            }),
            Slot::Vacant { .. } => None,
        })
    }

    /// Changes the UDP encapsulation ports of an SA (NAT port floating, RFC 3948 / RFC 7296 §2.23).
    ///
    /// # Errors
    /// [`InstallError::InvalidParams`] for a stale id or an AH SA.
    pub fn set_encap(&mut self, id: SaId, encap: Option<UdpEncap>) -> Result<(), InstallError> {
        let e = self
            .entry_mut(id)
            .ok_or(InstallError::InvalidParams("unknown SA id"))?;
        if matches!(e.params.protocol, SecurityProtocol::Ah(_)) && encap.is_some() {
            return Err(InstallError::InvalidParams("AH cannot be UDP-encapsulated"));
        }
        e.params.encap = encap;
        Ok(())
    }

    /// Headroom and tailroom `protect` needs for this SA.
    #[must_use]
    pub fn overhead(&self, id: SaId) -> Option<Overhead> {
        let p = &self.entry(id)?.params;
        Some(overhead(p))
    }

    /// Exactly how many bytes `protect` adds to a packet of `inner_len` bytes in tunnel mode; in
    /// transport mode (where padding depends on the packet's own header length) an upper bound.
    #[must_use]
    pub fn added_bytes(&self, id: SaId, inner_len: usize) -> Option<usize> {
        Some(added_bytes(&self.entry(id)?.params, inner_len))
    }

    /// The largest inner packet that fits a path MTU of `path_mtu` bytes after protection (0 if
    /// none does).
    #[must_use]
    pub fn max_inner_len(&self, id: SaId, path_mtu: usize) -> Option<usize> {
        let p = &self.entry(id)?.params;
        // added_bytes is non-decreasing in the length; find the largest fitting length.
        let fits = |l: usize| l.saturating_add(added_bytes(p, l)) <= path_mtu;
        if !fits(0) {
            return Some(0);
        }
        let (mut lo, mut hi) = (0usize, path_mtu);
        while lo < hi {
            let mid = hi - (hi - lo) / 2;
            if fits(mid) { lo = mid } else { hi = mid - 1 }
        }
        Some(lo)
    }

    /// Protects the IP packet at `buf[start..start + len]` with outbound SA `id`, in place.
    ///
    /// The buffer needs [`Overhead::headroom`] bytes before `start` and up to
    /// [`Overhead::tailroom`] bytes after the packet.
    ///
    /// # Errors
    /// [`ProtectError`]; no sequence number is used up on error.
    pub fn protect(
        &mut self,
        now: Instant,
        id: SaId,
        buf: &mut [u8],
        start: usize,
        len: usize,
    ) -> Result<Protected, ProtectError> {
        self.protect_inner(now, id, buf, start, len, false)
    }

    /// Sends a dummy packet (RFC 4303 §2.6, next header 59) on a tunnel-mode ESP SA: the `len` bytes
    /// at `buf[start..]` are its filler payload. Traffic-flow confidentiality: on the wire it looks
    /// like data; the receiver authenticates and discards it ([`Unprotected::Dummy`]).
    ///
    /// # Errors
    /// As [`Sad::protect`]; [`ProtectError::Malformed`] for AH or transport mode.
    pub fn protect_dummy(
        &mut self,
        now: Instant,
        id: SaId,
        buf: &mut [u8],
        start: usize,
        len: usize,
    ) -> Result<Protected, ProtectError> {
        self.protect_inner(now, id, buf, start, len, true)
    }

    /// Sets the last sequence number sent on an outbound SA, so tests can reach the end of the
    /// sequence space without sending 2^32 packets. Not for production use.
    #[cfg(any(test, feature = "testing"))]
    #[doc(hidden)]
    pub fn set_sequence_for_test(&mut self, id: SaId, seq: u64) {
        if let Some(e) = self.entry_mut(id) {
            e.seq = seq;
        }
    }

    fn protect_inner(
        &mut self,
        now: Instant,
        id: SaId,
        buf: &mut [u8],
        start: usize,
        len: usize,
        dummy: bool,
    ) -> Result<Protected, ProtectError> {
        let e = self.entry_mut(id).ok_or(ProtectError::UnknownSa)?;
        let mut events = 0;
        let result = e.protect(now, buf, start, len, dummy, &mut events);
        self.after_events(events);
        result
    }

    /// Unprotects the IP packet at `buf[start..start + len]` (ESP, AH or ESP-in-UDP) in place.
    ///
    /// Order (RFC 4303 §3.4): SPI lookup, replay check (read-only), ICV verification and decryption,
    /// padding and next-header checks, the SA's selectors, and only then the replay window update,
    /// counters and lifetime accounting. On error the buffer holds unspecified bytes.
    ///
    /// # Errors
    /// [`UnprotectError`]; the SA is unchanged except for the drop counter of the cause.
    pub fn unprotect(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        start: usize,
        len: usize,
    ) -> Result<Unprotected, UnprotectError> {
        let end = start
            .checked_add(len)
            .ok_or(wire::Error::BadLength { what: "packet" })?;
        let packet = buf
            .get(start..end)
            .ok_or(wire::Error::Truncated { what: "packet" })?;
        let split = mode::locate_ipsec(packet)?;
        let outer_ecn = match split.v6 {
            false => packet.get(1).map_or(0, |b| b & 3),
            true => packet.get(1).map_or(0, |b| (b >> 4) & 3),
        };
        let total = split.total_len;
        let body = packet
            .get(split.header_len..total)
            .ok_or(wire::Error::Truncated { what: "packet" })?;
        let (protocol, spi, seq_low, ipsec_at, udp) = match split.protocol {
            IpProtocol::ESP => {
                let esp = wire::EspPacket::new_checked(body)?;
                (IpProtocol::ESP, esp.spi(), esp.seq(), split.header_len, None)
            }
            IpProtocol::UDP => {
                let udp = wire::UdpHeader::new_checked(body)?;
                match wire::classify_4500(udp.payload())? {
                    NattDatagram::Esp(p) => {
                        let esp = wire::EspPacket::new_checked(p)?;
                        let ports = (udp.src_port(), udp.dst_port());
                        (
                            IpProtocol::ESP,
                            esp.spi(),
                            esp.seq(),
                            split.header_len + UDP_HEADER_LEN,
                            Some(ports),
                        )
                    }
                    NattDatagram::Ike(_) | NattDatagram::Keepalive => return Err(UnprotectError::NotIpsec),
                }
            }
            IpProtocol::AH => {
                let ah = wire::AhHeader::new_checked(body)?;
                (IpProtocol::AH, ah.spi(), ah.seq(), split.header_len, None)
            }
            _ => return Err(UnprotectError::NotIpsec),
        };
        let ipsec_end = match udp {
            // The UDP length bounds the ESP packet.
            Some(_) => split.header_len + wire::be16(body, 4).map_or(0, usize::from),
            None => total,
        };
        let id = self
            .lookup_inbound(spi, protocol)
            .ok_or(UnprotectError::UnknownSpi(spi))?;
        let mut events = 0;
        let result = {
            let Some(e) = self.entry_mut(id) else {
                return Err(UnprotectError::UnknownSpi(spi));
            };
            events += note(&mut e.pending, e.life.update(now));
            e.unprotect(
                now,
                id,
                buf,
                start,
                &split,
                ipsec_at..ipsec_end,
                udp.is_some(),
                seq_low,
                outer_ecn,
            )
            .map(|(r, ev)| {
                events += ev;
                r
            })
        };
        self.after_events(events);
        result
    }

    /// Unprotects an ESP packet received on a UDP socket: `buf[start..start + len]` is the UDP
    /// payload (SPI first), `remote` and `local` the socket addresses. Synthesizes the IP and UDP
    /// headers in front (needs 48 bytes of headroom for IPv6, 28 for IPv4) and runs [`Sad::unprotect`].
    ///
    /// # Errors
    /// As [`Sad::unprotect`]; [`UnprotectError::BufferTooSmall`] without the headroom.
    pub fn unprotect_datagram(
        &mut self,
        now: Instant,
        remote: SocketAddr,
        local: SocketAddr,
        buf: &mut [u8],
        start: usize,
        len: usize,
    ) -> Result<Unprotected, UnprotectError> {
        let ip_len = mode::outer_len(local.ip());
        let headroom = ip_len + UDP_HEADER_LEN;
        let ip_start = start
            .checked_sub(headroom)
            .ok_or(UnprotectError::BufferTooSmall {
                needed: headroom + len,
            })?;
        let outer = mode::Outer {
            local: remote.ip(),
            remote: local.ip(),
            protocol: IpProtocol::UDP,
            payload_len: UDP_HEADER_LEN + len,
            tos: 0,
            df: false,
            ttl: 64,
            ident: 0,
        };
        let region = buf
            .get_mut(ip_start..start + len)
            .ok_or(wire::Error::Truncated { what: "datagram" })?;
        mode::write_outer(region, &outer)?;
        let udp = region
            .get_mut(ip_len..)
            .ok_or(wire::Error::Truncated { what: "datagram" })?;
        wire::UdpRepr {
            src_port: remote.port(),
            dst_port: local.port(),
        }
        .emit(udp, len)?;
        self.unprotect(now, buf, ip_start, headroom + len)
    }

    /// Re-evaluates time lifetimes at `now`; events follow from [`Sad::poll_event`].
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.next_deadline.is_none_or(|d| d > now) {
            return;
        }
        let mut events = 0;
        for slot in &mut self.slots {
            if let Slot::Occupied { entry, .. } = slot {
                events += note(&mut entry.pending, entry.life.update(now));
            }
        }
        self.after_events(events);
    }

    /// The next instant a time lifetime runs out, if any.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.next_deadline
    }

    /// The next event, oldest SA slot first.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<SadEvent> {
        if self.pending_events == 0 {
            return None;
        }
        for (i, slot) in self.slots.iter_mut().enumerate() {
            let Slot::Occupied { generation, entry } = slot else {
                continue;
            };
            let Some(state) = entry.pending.iter_mut().find_map(Option::take) else {
                continue;
            };
            self.pending_events = self.pending_events.saturating_sub(1);
            let sa = SaId {
                index: u16::try_from(i).ok()?,
                generation: *generation,
            };
            let (spi, direction) = (entry.params.spi, entry.params.direction);
            return match state {
                LifetimeState::Soft(limit) => Some(SadEvent::SoftExpired {
                    sa,
                    spi,
                    direction,
                    limit,
                }),
                LifetimeState::Expired(limit) => Some(SadEvent::HardExpired {
                    sa,
                    spi,
                    direction,
                    limit,
                }),
                LifetimeState::Fresh => None,
            };
        }
        self.pending_events = 0;
        None
    }

    fn entry(&self, id: SaId) -> Option<&Entry<P, W>> {
        match self.slots.get(usize::from(id.index))? {
            Slot::Occupied { generation, entry } if *generation == id.generation => Some(entry),
            _ => None,
        }
    }

    fn entry_mut(&mut self, id: SaId) -> Option<&mut Entry<P, W>> {
        match self.slots.get_mut(usize::from(id.index))? {
            Slot::Occupied { generation, entry } if *generation == id.generation => Some(entry),
            _ => None,
        }
    }

    fn find_inbound_pos(&self, spi: Spi, protocol: IpProtocol) -> Result<usize, usize> {
        let keys = self.inbound.get(..self.inbound_len).unwrap_or(&[]);
        keys.binary_search_by(|k| (k.spi, k.protocol).cmp(&(spi.0, protocol.0)))
    }

    fn after_events(&mut self, events: usize) {
        if events > 0 {
            self.pending_events = self.pending_events.saturating_add(events);
            self.recompute_deadline();
        }
    }

    fn recompute_deadline(&mut self) {
        self.next_deadline = self
            .slots
            .iter()
            .filter_map(|s| match s {
                Slot::Occupied { entry, .. } => entry.life.next_deadline(),
                Slot::Vacant { .. } => None,
            })
            .min();
    }
}
