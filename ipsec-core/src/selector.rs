//! Traffic selectors (RFC 4301 §4.4.1.1, RFC 7296 §3.13.1) and the selector values of one packet.
//!
//! A [`TrafficSelector`] is what a policy or an SA covers: a local and a remote address range of one
//! family, a next-layer protocol (or any), and a local and a remote "port" range. A [`PacketSelector`]
//! is what one concrete packet carries, read once from its headers and normalised to the local/remote
//! view of this node. [`TrafficSelector::matches`] decides whether the packet falls under the selector.
//!
//! # Conventions
//! - **Directions.** For an outbound packet the local address and port are the source ones; for an
//!   inbound packet they are the destination ones (RFC 4301 §4.4.1.1: "local" is this side of the
//!   IPsec boundary, as in IKEv2's TSi/TSr from the initiator's point of view).
//! - **Address families.** An [`AddrRange`] holds addresses of one family. IPv4 and IPv6 never match
//!   each other; an IPv4-mapped IPv6 address is an IPv6 address like any other.
//! - **ANY and OPAQUE ports** (RFC 4301 §4.4.1.1, RFC 7296 §3.13.1). [`PortRange::ANY`] is 0..=65535
//!   and matches every packet, including one whose ports cannot be seen. [`PortRange::OPAQUE`] is the
//!   IKEv2 encoding start 65535, end 0: it matches only packets whose ports cannot be seen (protocols
//!   without ports, non-initial fragments, headers cut short). Any other range never matches a packet
//!   whose ports are opaque.
//! - **ICMP and ICMPv6** carry a single selector, the message type and code, encoded as in IKEv2
//!   (RFC 7296 §3.13.1, RFC 4301 §4.4.1.1): one 16-bit value with the type in the high byte and the
//!   code in the low byte, so a range `(T1 << 8 | C1) ..= (T2 << 8 | C2)` covers the type/code pairs in
//!   between. Following RFC 4301 §4.4.1.3 ("protocols with one selector"), the **local** port range
//!   lists the type/code pairs this node is willing to *send* and the **remote** port range those it
//!   is willing to *receive*: an outbound ICMP packet is checked against `local_ports` only, an inbound
//!   one against `remote_ports` only. A send-only entry therefore has `remote_ports = OPAQUE`, a
//!   receive-only entry `local_ports = OPAQUE`, and a bidirectional one the same range on both sides.
//!   A selector with `protocol: None` applies its port ranges to ICMP type/code values too; IKEv2
//!   never produces one (ports must be ANY with protocol 0, RFC 7296 §3.13.1).

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::sa::Direction;
use crate::wire::{self, IpPacket, IpProtocol, Transport};

/// Why a selector could not be built.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelectorError {
    /// A prefix length longer than the address (32 for IPv4, 128 for IPv6).
    PrefixTooLong {
        /// The longest prefix the family allows.
        max: u8,
    },
    /// A prefix whose address has bits set past the prefix length (`10.0.0.1/24`): almost always a
    /// configuration mistake, so it is refused rather than silently widened or narrowed.
    HostBitsSet,
    /// The two ends of a range, or the local and remote ranges of a selector, are of different
    /// address families.
    FamilyMismatch,
    /// A range whose start lies after its end (other than the IKEv2 OPAQUE port range 65535..0).
    ReversedRange,
    /// A [`SelectorSet`] already holds [`SelectorSet::CAPACITY`] selectors.
    SetFull,
}

impl fmt::Display for SelectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SelectorError::PrefixTooLong { max } => write!(f, "prefix length longer than {max}"),
            SelectorError::HostBitsSet => f.write_str("address has bits set past the prefix length"),
            SelectorError::FamilyMismatch => f.write_str("mixed IPv4 and IPv6 addresses"),
            SelectorError::ReversedRange => f.write_str("range start after range end"),
            SelectorError::SetFull => f.write_str("selector set full"),
        }
    }
}

impl core::error::Error for SelectorError {}

/// An inclusive range of IPv4 or IPv6 addresses (RFC 4301 §4.4.1.1 "Remote/Local IP Address",
/// RFC 7296 §3.13.1 TS_IPV4_ADDR_RANGE / TS_IPV6_ADDR_RANGE).
///
/// Both ends are of the same family and `start <= end`; the constructors guarantee it. Matching
/// compares the address as a `u32` or `u128`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddrRange(Range);

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Range {
    V4 { start: u32, end: u32 },
    V6 { start: u128, end: u128 },
}

impl AddrRange {
    /// Every IPv4 address, `0.0.0.0/0`.
    pub const ANY_V4: AddrRange = AddrRange(Range::V4 {
        start: 0,
        end: u32::MAX,
    });
    /// Every IPv6 address, `::/0`.
    pub const ANY_V6: AddrRange = AddrRange(Range::V6 {
        start: 0,
        end: u128::MAX,
    });

    /// The block `addr/prefix_len`.
    ///
    /// # Errors
    /// [`SelectorError::PrefixTooLong`] past 32 (IPv4) or 128 (IPv6) bits;
    /// [`SelectorError::HostBitsSet`] if `addr` has bits set after the prefix.
    pub fn from_prefix(addr: IpAddr, prefix_len: u8) -> Result<Self, SelectorError> {
        match addr {
            IpAddr::V4(a) => {
                if prefix_len > 32 {
                    return Err(SelectorError::PrefixTooLong { max: 32 });
                }
                let host = u32::MAX.checked_shr(u32::from(prefix_len)).unwrap_or(0);
                let start = a.to_bits();
                if start & host != 0 {
                    return Err(SelectorError::HostBitsSet);
                }
                Ok(AddrRange(Range::V4 {
                    start,
                    end: start | host,
                }))
            }
            IpAddr::V6(a) => {
                if prefix_len > 128 {
                    return Err(SelectorError::PrefixTooLong { max: 128 });
                }
                let host = u128::MAX.checked_shr(u32::from(prefix_len)).unwrap_or(0);
                let start = a.to_bits();
                if start & host != 0 {
                    return Err(SelectorError::HostBitsSet);
                }
                Ok(AddrRange(Range::V6 {
                    start,
                    end: start | host,
                }))
            }
        }
    }

    /// The addresses from `start` to `end`, both included.
    ///
    /// # Errors
    /// [`SelectorError::FamilyMismatch`] if the ends are of different families,
    /// [`SelectorError::ReversedRange`] if `start > end`.
    pub fn new(start: IpAddr, end: IpAddr) -> Result<Self, SelectorError> {
        let range = match (start, end) {
            (IpAddr::V4(s), IpAddr::V4(e)) => Range::V4 {
                start: s.to_bits(),
                end: e.to_bits(),
            },
            (IpAddr::V6(s), IpAddr::V6(e)) => Range::V6 {
                start: s.to_bits(),
                end: e.to_bits(),
            },
            _ => return Err(SelectorError::FamilyMismatch),
        };
        let reversed = match range {
            Range::V4 { start, end } => start > end,
            Range::V6 { start, end } => start > end,
        };
        if reversed {
            Err(SelectorError::ReversedRange)
        } else {
            Ok(AddrRange(range))
        }
    }

    /// The single address `addr`.
    #[must_use]
    pub const fn single(addr: IpAddr) -> Self {
        match addr {
            IpAddr::V4(a) => AddrRange(Range::V4 {
                start: a.to_bits(),
                end: a.to_bits(),
            }),
            IpAddr::V6(a) => AddrRange(Range::V6 {
                start: a.to_bits(),
                end: a.to_bits(),
            }),
        }
    }

    /// The first address of the range.
    #[must_use]
    pub const fn start(&self) -> IpAddr {
        match self.0 {
            Range::V4 { start, .. } => IpAddr::V4(Ipv4Addr::from_bits(start)),
            Range::V6 { start, .. } => IpAddr::V6(Ipv6Addr::from_bits(start)),
        }
    }

    /// The last address of the range.
    #[must_use]
    pub const fn end(&self) -> IpAddr {
        match self.0 {
            Range::V4 { end, .. } => IpAddr::V4(Ipv4Addr::from_bits(end)),
            Range::V6 { end, .. } => IpAddr::V6(Ipv6Addr::from_bits(end)),
        }
    }

    /// True for an IPv4 range, false for an IPv6 one.
    #[must_use]
    pub const fn is_ipv4(&self) -> bool {
        matches!(self.0, Range::V4 { .. })
    }

    /// True if the range covers its whole family (`0.0.0.0/0` or `::/0`).
    #[must_use]
    pub const fn is_any(&self) -> bool {
        matches!(
            self.0,
            Range::V4 {
                start: 0,
                end: u32::MAX
            } | Range::V6 {
                start: 0,
                end: u128::MAX
            }
        )
    }

    /// True if `addr` is of this range's family and lies within it.
    #[inline]
    #[must_use]
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self.0, addr) {
            (Range::V4 { start, end }, IpAddr::V4(a)) => {
                let a = a.to_bits();
                start <= a && a <= end
            }
            (Range::V6 { start, end }, IpAddr::V6(a)) => {
                let a = a.to_bits();
                start <= a && a <= end
            }
            _ => false,
        }
    }

    /// The prefix length if the range is exactly one CIDR block, `None` otherwise.
    #[must_use]
    pub fn prefix_len(&self) -> Option<u8> {
        let (host_bits, bits) = match self.0 {
            Range::V4 { start, end } => {
                let host = end.wrapping_sub(start);
                let block = host & host.wrapping_add(1) == 0 && start & host == 0;
                (block.then_some(host.count_ones())?, 32u32)
            }
            Range::V6 { start, end } => {
                let host = end.wrapping_sub(start);
                let block = host & host.wrapping_add(1) == 0 && start & host == 0;
                (block.then_some(host.count_ones())?, 128u32)
            }
        };
        u8::try_from(bits.saturating_sub(host_bits)).ok()
    }
}

impl fmt::Display for AddrRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.prefix_len() {
            Some(len) => write!(f, "{}/{len}", self.start()),
            None => write!(f, "{}-{}", self.start(), self.end()),
        }
    }
}

impl fmt::Debug for AddrRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AddrRange({self})")
    }
}

/// An inclusive range of ports, or of ICMP/ICMPv6 type/code values, or OPAQUE (RFC 4301 §4.4.1.1,
/// RFC 7296 §3.13.1).
///
/// For ICMP and ICMPv6 the 16-bit value is `type << 8 | code` (see the [module docs](self) for which of
/// a selector's two ranges is consulted). `start <= end` except for [`PortRange::OPAQUE`].
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortRange {
    start: u16,
    end: u16,
}

impl PortRange {
    /// Every port, and also packets whose ports cannot be seen (RFC 4301: ANY encompasses OPAQUE).
    pub const ANY: PortRange = PortRange {
        start: 0,
        end: u16::MAX,
    };
    /// Only packets whose ports cannot be seen; IKEv2 encodes it as start 65535, end 0.
    pub const OPAQUE: PortRange = PortRange {
        start: u16::MAX,
        end: 0,
    };

    /// The ports from `start` to `end`, both included; the IKEv2 OPAQUE encoding `(65535, 0)` gives
    /// [`PortRange::OPAQUE`].
    ///
    /// # Errors
    /// [`SelectorError::ReversedRange`] if `start > end` (other than `(65535, 0)`).
    pub const fn new(start: u16, end: u16) -> Result<Self, SelectorError> {
        if start <= end || (start == u16::MAX && end == 0) {
            Ok(PortRange { start, end })
        } else {
            Err(SelectorError::ReversedRange)
        }
    }

    /// The single port `port`.
    #[must_use]
    pub const fn single(port: u16) -> Self {
        PortRange {
            start: port,
            end: port,
        }
    }

    /// A single ICMP/ICMPv6 message type and code.
    #[must_use]
    pub const fn icmp(ty: u8, code: u8) -> Self {
        let v = u16::from_be_bytes([ty, code]);
        PortRange { start: v, end: v }
    }

    /// One ICMP/ICMPv6 message type with any code.
    #[must_use]
    pub const fn icmp_type(ty: u8) -> Self {
        PortRange {
            start: u16::from_be_bytes([ty, 0]),
            end: u16::from_be_bytes([ty, u8::MAX]),
        }
    }

    /// First value; 65535 for OPAQUE (the IKEv2 wire encoding).
    #[must_use]
    pub const fn start(&self) -> u16 {
        self.start
    }

    /// Last value; 0 for OPAQUE (the IKEv2 wire encoding).
    #[must_use]
    pub const fn end(&self) -> u16 {
        self.end
    }

    /// True for [`PortRange::ANY`].
    #[must_use]
    pub const fn is_any(&self) -> bool {
        self.start == 0 && self.end == u16::MAX
    }

    /// True for [`PortRange::OPAQUE`].
    #[must_use]
    pub const fn is_opaque(&self) -> bool {
        self.start > self.end
    }

    /// True if the visible value `port` lies in the range (never for OPAQUE).
    #[inline]
    #[must_use]
    pub const fn contains(&self, port: u16) -> bool {
        self.start <= port && port <= self.end
    }

    /// True if the range accepts a packet whose value cannot be seen: ANY or OPAQUE.
    #[inline]
    #[must_use]
    pub const fn admits_opaque(&self) -> bool {
        self.is_any() || self.is_opaque()
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_any() {
            f.write_str("any")
        } else if self.is_opaque() {
            f.write_str("opaque")
        } else if self.start == self.end {
            write!(f, "{}", self.start)
        } else {
            write!(f, "{}-{}", self.start, self.end)
        }
    }
}

impl fmt::Debug for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PortRange({self})")
    }
}

/// What a policy or an SA covers (RFC 4301 §4.4.1.1; one IKEv2 TSi/TSr pair, RFC 7296 §2.9).
///
/// `local` and `remote` should be of the same family; a selector mixing them matches no packet, and
/// [`TrafficSelector::validate`] (called by [`crate::spd::Spd::insert`]) refuses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TrafficSelector {
    /// This node's side: source addresses of outbound packets, destinations of inbound ones.
    pub local: AddrRange,
    /// The peer's side.
    pub remote: AddrRange,
    /// The next-layer protocol (after IPv6 extension headers); `None` is ANY.
    pub protocol: Option<IpProtocol>,
    /// Local ports; for ICMP/ICMPv6 the type/code values this node sends.
    pub local_ports: PortRange,
    /// Remote ports; for ICMP/ICMPv6 the type/code values this node receives.
    pub remote_ports: PortRange,
}

impl TrafficSelector {
    /// All IPv4 traffic: any address, any protocol, any port.
    #[must_use]
    pub const fn any_v4() -> Self {
        TrafficSelector::new(AddrRange::ANY_V4, AddrRange::ANY_V4)
    }

    /// All IPv6 traffic: any address, any protocol, any port.
    #[must_use]
    pub const fn any_v6() -> Self {
        TrafficSelector::new(AddrRange::ANY_V6, AddrRange::ANY_V6)
    }

    /// Any protocol and port between two address ranges.
    #[must_use]
    pub const fn new(local: AddrRange, remote: AddrRange) -> Self {
        TrafficSelector {
            local,
            remote,
            protocol: None,
            local_ports: PortRange::ANY,
            remote_ports: PortRange::ANY,
        }
    }

    /// Checks that the two address ranges are of one family.
    ///
    /// # Errors
    /// [`SelectorError::FamilyMismatch`] otherwise.
    pub const fn validate(&self) -> Result<(), SelectorError> {
        if self.local.is_ipv4() == self.remote.is_ipv4() {
            Ok(())
        } else {
            Err(SelectorError::FamilyMismatch)
        }
    }

    /// True if the packet falls under this selector, read in the packet's own direction
    /// ([`PacketSelector::direction`]); see the [module docs](self) for ANY, OPAQUE and ICMP.
    #[inline]
    #[must_use]
    pub fn matches(&self, p: &PacketSelector) -> bool {
        self.matches_as(p, p.direction)
    }

    /// [`TrafficSelector::matches`] with the packet read as travelling in `direction`.
    #[inline]
    pub(crate) fn matches_as(&self, p: &PacketSelector, direction: Direction) -> bool {
        if let Some(proto) = self.protocol {
            if proto != p.protocol {
                return false;
            }
        }
        if !self.local.contains(p.local) || !self.remote.contains(p.remote) {
            return false;
        }
        match p.transport {
            Transport::Ports { src, dst } => {
                let (local, remote) = match direction {
                    Direction::Outbound => (src, dst),
                    Direction::Inbound => (dst, src),
                };
                self.local_ports.contains(local) && self.remote_ports.contains(remote)
            }
            Transport::Icmp { ty, code } => {
                let v = u16::from_be_bytes([ty, code]);
                match direction {
                    Direction::Outbound => self.local_ports.contains(v),
                    Direction::Inbound => self.remote_ports.contains(v),
                }
            }
            Transport::Opaque => self.local_ports.admits_opaque() && self.remote_ports.admits_opaque(),
        }
    }
}

impl fmt::Display for TrafficSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}[{}] -> {}[{}]",
            self.local, self.local_ports, self.remote, self.remote_ports
        )?;
        match self.protocol {
            Some(p) => write!(f, " proto {p}"),
            None => f.write_str(" proto any"),
        }
    }
}

/// The selector values of one packet (RFC 4301 §4.4.1.1), normalised to this node's point of view.
///
/// Built once per packet by [`PacketSelector::outbound`] or [`PacketSelector::inbound`]; matching then
/// only compares integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PacketSelector {
    /// This node's side: the source of an outbound packet, the destination of an inbound one.
    pub local: IpAddr,
    /// The peer's side.
    pub remote: IpAddr,
    /// The next-layer protocol, after any IPv6 extension headers.
    pub protocol: IpProtocol,
    /// Ports or ICMP type/code **as they appear in the packet** (`src`/`dst` are the packet's source and
    /// destination ports, not local/remote; see [`PacketSelector::local_port`]). Non-initial fragments,
    /// protocols without ports and headers cut short give [`Transport::Opaque`] (RFC 4301 §7).
    pub transport: Transport,
    /// Which way the packet travels ([`Direction`]); decides which port is local and which selector range an ICMP
    /// type/code is checked against.
    pub direction: Direction,
}

impl PacketSelector {
    /// The selector of a packet leaving the protected side (local = source).
    ///
    /// # Errors
    /// The errors of [`IpPacket::new_checked`] and [`IpPacket::transport`] (malformed IP header or
    /// IPv6 extension-header chain).
    pub fn outbound(packet: &[u8]) -> Result<Self, wire::Error> {
        let ip = IpPacket::new_checked(packet)?;
        Self::from_ip(&ip, packet, Direction::Outbound)
    }

    /// The selector of a packet arriving towards the protected side (local = destination), e.g. an
    /// inner packet after decapsulation or plaintext traffic arriving unprotected.
    ///
    /// # Errors
    /// As [`PacketSelector::outbound`].
    pub fn inbound(packet: &[u8]) -> Result<Self, wire::Error> {
        let ip = IpPacket::new_checked(packet)?;
        Self::from_ip(&ip, packet, Direction::Inbound)
    }

    /// The selector of an already parsed packet; `packet` is the buffer `ip` was parsed from.
    ///
    /// The protocol is the one after the IPv6 extension headers, except that AH counts as the
    /// next-layer protocol (with OPAQUE ports) in both IPv4 and IPv6 (RFC 4301 §4.4.1.1).
    ///
    /// # Errors
    /// The errors of [`IpPacket::transport`].
    pub fn from_ip(ip: &IpPacket<'_>, packet: &[u8], direction: Direction) -> Result<Self, wire::Error> {
        let (mut protocol, mut transport) = ip.transport(packet)?;
        // RFC 4301 §4.4.1.1: AH is a next-layer protocol for selectors, not a header to skip. The
        // IPv6 walk goes through AH (transport-mode processing needs that); undo it here, as IPv4
        // already reports AH.
        if let IpPacket::V6(h) = ip {
            if h.ext_headers().any(|e| e.is_ok_and(|e| e.kind == IpProtocol::AH)) {
                (protocol, transport) = (IpProtocol::AH, Transport::Opaque);
            }
        }
        let (local, remote) = match direction {
            Direction::Outbound => (ip.src(), ip.dst()),
            Direction::Inbound => (ip.dst(), ip.src()),
        };
        Ok(PacketSelector {
            local,
            remote,
            protocol,
            transport,
            direction,
        })
    }

    /// The local port (source port outbound, destination port inbound), if the packet shows ports.
    #[must_use]
    pub fn local_port(&self) -> Option<u16> {
        match (self.transport, self.direction) {
            (Transport::Ports { src, .. }, Direction::Outbound) => Some(src),
            (Transport::Ports { dst, .. }, Direction::Inbound) => Some(dst),
            _ => None,
        }
    }

    /// The remote port (destination port outbound, source port inbound), if the packet shows ports.
    #[must_use]
    pub fn remote_port(&self) -> Option<u16> {
        match (self.transport, self.direction) {
            (Transport::Ports { dst, .. }, Direction::Outbound) => Some(dst),
            (Transport::Ports { src, .. }, Direction::Inbound) => Some(src),
            _ => None,
        }
    }
}

/// The traffic selectors an SA was negotiated with: up to [`SelectorSet::CAPACITY`] of them, since
/// IKEv2 may narrow a proposal to several (RFC 7296 §2.9).
///
/// A packet belongs to the SA if it matches any of them ([`SelectorSet::matches_any`]); an empty set
/// matches nothing.
#[derive(Clone, Copy)]
pub struct SelectorSet {
    items: [TrafficSelector; SelectorSet::CAPACITY],
    len: usize,
}

impl SelectorSet {
    /// The most selectors a set holds.
    pub const CAPACITY: usize = 8;

    /// An empty set.
    #[must_use]
    pub const fn new() -> Self {
        SelectorSet {
            items: [TrafficSelector::any_v4(); SelectorSet::CAPACITY],
            len: 0,
        }
    }

    /// A set holding `selectors`, in order.
    ///
    /// # Errors
    /// [`SelectorError::SetFull`] if there are more than [`SelectorSet::CAPACITY`].
    pub fn from_slice(selectors: &[TrafficSelector]) -> Result<Self, SelectorError> {
        let mut set = SelectorSet::new();
        for ts in selectors {
            set.push(*ts)?;
        }
        Ok(set)
    }

    /// Appends a selector.
    ///
    /// # Errors
    /// [`SelectorError::SetFull`] if the set already holds [`SelectorSet::CAPACITY`]; the set is
    /// unchanged.
    pub fn push(&mut self, ts: TrafficSelector) -> Result<(), SelectorError> {
        let slot = self.items.get_mut(self.len).ok_or(SelectorError::SetFull)?;
        *slot = ts;
        self.len = self.len.saturating_add(1);
        Ok(())
    }

    /// The selectors, in the order they were added.
    #[must_use]
    pub fn as_slice(&self) -> &[TrafficSelector] {
        self.items.get(..self.len).unwrap_or(&[])
    }

    /// Iterates over the selectors in order.
    pub fn iter(&self) -> core::slice::Iter<'_, TrafficSelector> {
        self.as_slice().iter()
    }

    /// Number of selectors.
    #[must_use]
    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// True if the set holds no selector.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// True if the packet matches at least one selector of the set.
    #[must_use]
    pub fn matches_any(&self, p: &PacketSelector) -> bool {
        self.iter().any(|ts| ts.matches(p))
    }
}

impl Default for SelectorSet {
    fn default() -> Self {
        SelectorSet::new()
    }
}

impl PartialEq for SelectorSet {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for SelectorSet {}

impl fmt::Debug for SelectorSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for &'a SelectorSet {
    type Item = &'a TrafficSelector;
    type IntoIter = core::slice::Iter<'a, TrafficSelector>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl TryFrom<&[TrafficSelector]> for SelectorSet {
    type Error = SelectorError;
    fn try_from(selectors: &[TrafficSelector]) -> Result<Self, SelectorError> {
        SelectorSet::from_slice(selectors)
    }
}

// Test packets are built with plain length arithmetic on small, known sizes.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests;
