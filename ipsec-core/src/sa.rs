//! Security Association identity and parameters (RFC 4301 §4.4.2).

use core::fmt;

/// A Security Parameters Index (RFC 4301 §4.1): with the protocol and destination it names an SA.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Spi(pub u32);

impl fmt::Debug for Spi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Spi({:08x})", self.0)
    }
}

impl fmt::Display for Spi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}", self.0)
    }
}

/// A handle to an SA installed in a [`crate::sad::Sad`].
///
/// Generational: once the SA is removed, its id never reaches the SA that later takes its slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SaId {
    pub(crate) index: u16,
    pub(crate) generation: u16,
}

impl SaId {
    /// Builds an id from its parts; for tests and for users keeping ids in their own tables.
    #[must_use]
    pub const fn from_parts(index: u16, generation: u16) -> Self {
        SaId { index, generation }
    }
    /// Slot index in the SAD.
    #[must_use]
    pub const fn index(self) -> u16 {
        self.index
    }
    /// Generation of the slot when the SA was installed.
    #[must_use]
    pub const fn generation(self) -> u16 {
        self.generation
    }
}

use core::net::IpAddr;

use crate::lifetime::Lifetime;
use crate::selector::SelectorSet;
use crate::transform::{EspAlgorithm, Integrity};

/// Which way an SA carries traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// We receive on it: `unprotect`.
    Inbound,
    /// We send on it: `protect`.
    Outbound,
}

/// The IPsec protocol of an SA and its transform.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SecurityProtocol {
    /// ESP (RFC 4303).
    Esp(EspAlgorithm),
    /// AH (RFC 4302), integrity only.
    Ah(Integrity),
}

/// Tunnel or transport mode (RFC 4301 §4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Transport mode: the ESP/AH header goes between the IP header and its payload.
    Transport,
    /// Tunnel mode: the whole inner packet is protected and carried in a new outer IP header between
    /// these addresses (both of one family; it may differ from the inner packet's family).
    Tunnel {
        /// Our end of the tunnel (outer source when sending).
        local: IpAddr,
        /// The peer's end (outer destination when sending).
        remote: IpAddr,
    },
}

/// How the outer DSCP is set in tunnel mode (RFC 4301 §5.1.2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DscpMode {
    /// Copy the inner packet's DSCP.
    Copy,
    /// Use this DSCP (6 bits).
    Set(u8),
}

/// ECN handling in tunnel mode (RFC 6040).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EcnMode {
    /// RFC 6040 normal mode: copy the inner ECN field outwards; on decapsulation, propagate CE (and
    /// ECT(1)) inwards and drop CE-marked packets whose inner header is not ECN-capable.
    Normal,
    /// RFC 6040 compatibility mode: the outer header is Not-ECT and decapsulation leaves the inner
    /// ECN field alone.
    Compatibility,
}

/// The outer IPv4 Don't Fragment bit in tunnel mode (RFC 4301 §8.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DfMode {
    /// Copy from an inner IPv4 header; set for an inner IPv6 packet (which is never fragmented in
    /// transit).
    Copy,
    /// Always set.
    Set,
    /// Always clear.
    Clear,
}

/// Outer-header choices for tunnel mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TunnelOptions {
    /// Outer DSCP.
    pub dscp: DscpMode,
    /// ECN handling.
    pub ecn: EcnMode,
    /// Outer DF bit (IPv4 outer headers).
    pub df: DfMode,
    /// Outer TTL / hop limit.
    pub ttl: u8,
}

impl Default for TunnelOptions {
    fn default() -> Self {
        TunnelOptions {
            dscp: DscpMode::Copy,
            ecn: EcnMode::Normal,
            df: DfMode::Copy,
            ttl: 64,
        }
    }
}

/// UDP encapsulation of ESP (RFC 3948) with the ports the SA uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UdpEncap {
    /// Our port (outer source port when sending), normally 4500.
    pub local_port: u16,
    /// The peer's port, 4500 or whatever its NAT mapped it to.
    pub remote_port: u16,
}

/// Traffic Flow Confidentiality padding (RFC 4303 §2.7), tunnel-mode ESP only.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TfcPadding {
    /// No TFC padding.
    #[default]
    None,
    /// Pad every inner packet shorter than this with zeros up to this length; the receiver drops the
    /// padding using the inner IP length.
    PadTo(u16),
}

/// Everything the SAD needs to know about an SA besides its keys.
///
/// This is plain data: together with the key material and the counters it is the whole SA, so it
/// can be handed to a standby gateway.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaParams {
    /// The SPI: chosen by us for inbound SAs, by the peer for outbound ones.
    pub spi: Spi,
    /// Inbound or outbound.
    pub direction: Direction,
    /// ESP or AH, and the transform.
    pub protocol: SecurityProtocol,
    /// Tunnel or transport.
    pub mode: Mode,
    /// Extended (64-bit) sequence numbers (RFC 4303 §2.2.1).
    pub esn: bool,
    /// Anti-replay window size in packets (inbound); at most the SAD's capacity.
    pub replay_window: u32,
    /// Soft and hard limits.
    pub lifetime: Lifetime,
    /// ESP in UDP (RFC 3948); `None` for plain ESP/AH.
    pub encap: Option<UdpEncap>,
    /// The traffic this SA may carry (RFC 4301 §4.4.2: the SA's selectors). An inbound packet whose
    /// inner header matches none of them is dropped after decapsulation.
    pub selectors: SelectorSet,
    /// Outer-header choices (tunnel mode).
    pub tunnel: TunnelOptions,
    /// TFC padding (tunnel-mode ESP, outbound).
    pub tfc: TfcPadding,
}

/// Counters of one SA. Drops are counted by cause; the SA itself is unchanged by a drop.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SaStats {
    /// Packets protected or unprotected successfully.
    pub packets: u64,
    /// Inner bytes protected or unprotected successfully.
    pub bytes: u64,
    /// Inbound packets dropped by the anti-replay check.
    pub replay_drops: u64,
    /// Inbound packets whose ICV did not verify.
    pub icv_failures: u64,
    /// Inbound packets dropped because the inner packet lay outside the SA's selectors.
    pub policy_drops: u64,
    /// Inbound packets dropped as malformed (bad padding, bad inner packet, bad lengths).
    pub malformed_drops: u64,
    /// Dummy packets (next header 59) received and discarded (RFC 4303 §2.6).
    pub dummy_packets: u64,
}
