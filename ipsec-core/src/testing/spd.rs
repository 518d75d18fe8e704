//! SPD, selector and MSS test support: a packet builder ([`PacketSpec`]), proptest strategies for
//! selectors, policies and packets, and the fuzz entry points [`fuzz_spd`] and [`fuzz_mss`].
//!
//! The strategies draw addresses and ports from small pools plus small offsets, so random packets
//! land on range boundaries and inside random selectors often enough to exercise every branch.

// Test support built with std: a panic here is a failed check (that is what fuzz entry points are
// for), and the builders index buffers they have just sized themselves.
#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation
)]

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::collections::BTreeMap;
use std::vec::Vec;

use proptest::prelude::*;

use crate::mss::{MssClamp, clamp_mss};
use crate::sa::{Direction, SaId};
use crate::selector::{AddrRange, PacketSelector, PortRange, TrafficSelector};
use crate::spd::{Action, Decision, Policy, PolicyDirection, PolicyId, PolicyViolation, Spd, SpdError};
use crate::wire::{Checksum, IpPacket, IpProtocol, Transport, transport_checksum};

/// GRE: a protocol without ports, for OPAQUE cases.
pub const GRE: IpProtocol = IpProtocol(47);

/// What the upper-layer header of a [`PacketSpec`] carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum L4 {
    /// A header starting with source and destination ports (TCP, UDP, SCTP).
    Ports {
        /// Source port.
        src: u16,
        /// Destination port.
        dst: u16,
    },
    /// An ICMP/ICMPv6 header.
    Icmp {
        /// Message type.
        ty: u8,
        /// Message code.
        code: u8,
    },
    /// Eight opaque payload bytes.
    Raw,
}

/// How a [`PacketSpec`] is fragmented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fragmentation {
    /// Not a fragment.
    None,
    /// The first fragment (offset 0, more fragments).
    First,
    /// A later fragment at this offset (in 8-byte units, non-zero).
    Later(u16),
}

/// A packet described by its selector-relevant fields; [`PacketSpec::to_bytes`] builds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketSpec {
    /// Source address (both addresses are of one family).
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Upper-layer protocol.
    pub protocol: IpProtocol,
    /// What the upper-layer header carries.
    pub l4: L4,
    /// Fragmentation.
    pub fragment: Fragmentation,
    /// Cut the upper-layer header to 1 byte (ports or type/code then cannot be seen).
    pub truncated: bool,
    /// IPv6 only: put Hop-by-Hop and Destination Options headers before the upper layer.
    pub ext_headers: bool,
}

impl PacketSpec {
    /// Builds the packet: IPv4 with a valid header checksum, or IPv6 with the requested extension
    /// headers and a Fragment header when fragmented.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut upper = match self.l4 {
            L4::Ports { src, dst } => {
                let mut h = std::vec![0u8; 8];
                h[..2].copy_from_slice(&src.to_be_bytes());
                h[2..4].copy_from_slice(&dst.to_be_bytes());
                h
            }
            L4::Icmp { ty, code } => std::vec![ty, code, 0, 0, 0, 1, 0, 1],
            L4::Raw => std::vec![0x5a; 8],
        };
        if self.truncated {
            upper.truncate(1);
        }
        let (frag_offset, more) = match self.fragment {
            Fragmentation::None => (0u16, false),
            Fragmentation::First => (0, true),
            Fragmentation::Later(off) => (off & 0x1fff, false),
        };
        let mut p = Vec::new();
        match (self.src, self.dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                let total = u16::try_from(20 + upper.len()).unwrap_or(u16::MAX);
                let flags = frag_offset | if more { 0x2000 } else { 0 };
                p.extend_from_slice(&[0x45, 0]);
                p.extend_from_slice(&total.to_be_bytes());
                p.extend_from_slice(&[0xbe, 0xef]);
                p.extend_from_slice(&flags.to_be_bytes());
                p.extend_from_slice(&[64, self.protocol.0, 0, 0]);
                p.extend_from_slice(&s.octets());
                p.extend_from_slice(&d.octets());
                let mut c = Checksum::new();
                c.add_bytes(&p);
                let sum = c.finish().to_be_bytes();
                p[10] = sum[0];
                p[11] = sum[1];
            }
            (s, d) => {
                let (s, d) = (v6_of(s), v6_of(d));
                let mut ext = Vec::new();
                let mut chain = Vec::new();
                if self.ext_headers {
                    chain.push((IpProtocol::HOPOPT, std::vec![0u8, 0, 1, 4, 0, 0, 0, 0]));
                    chain.push((IpProtocol::IPV6_OPTS, std::vec![0u8, 0, 1, 4, 0, 0, 0, 0]));
                }
                if self.fragment != Fragmentation::None {
                    let word = (frag_offset << 3) | u16::from(more);
                    let mut h = std::vec![0u8, 0];
                    h.extend_from_slice(&word.to_be_bytes());
                    h.extend_from_slice(&[0, 0, 0, 42]);
                    chain.push((IpProtocol::IPV6_FRAG, h));
                }
                let first = chain.first().map_or(self.protocol, |(k, _)| *k);
                for i in 0..chain.len() {
                    let next = chain.get(i + 1).map_or(self.protocol, |(k, _)| *k);
                    let mut h = chain[i].1.clone();
                    h[0] = next.0;
                    ext.extend_from_slice(&h);
                }
                let len = u16::try_from(ext.len() + upper.len()).unwrap_or(u16::MAX);
                p.extend_from_slice(&[0x60, 0, 0, 0]);
                p.extend_from_slice(&len.to_be_bytes());
                p.extend_from_slice(&[first.0, 64]);
                p.extend_from_slice(&s.octets());
                p.extend_from_slice(&d.octets());
                p.extend_from_slice(&ext);
            }
        }
        p.extend_from_slice(&upper);
        p
    }

    /// The transport values a correct parser reads from [`PacketSpec::to_bytes`]: OPAQUE for later
    /// fragments, truncated headers and protocols other than TCP/UDP/SCTP/ICMP/ICMPv6.
    #[must_use]
    pub fn expected_transport(&self) -> Transport {
        if self.truncated || matches!(self.fragment, Fragmentation::Later(_)) {
            return Transport::Opaque;
        }
        match (self.protocol, self.l4) {
            (IpProtocol::TCP | IpProtocol::UDP | IpProtocol::SCTP, L4::Ports { src, dst }) => {
                Transport::Ports { src, dst }
            }
            (IpProtocol::ICMP | IpProtocol::ICMPV6, L4::Icmp { ty, code }) => Transport::Icmp { ty, code },
            _ => Transport::Opaque,
        }
    }
}

fn v6_of(a: IpAddr) -> Ipv6Addr {
    match a {
        IpAddr::V6(a) => a,
        IpAddr::V4(a) => a.to_ipv6_mapped(),
    }
}

static V4_POOL: [u32; 9] = [
    0,
    0x0a00_0000,
    0x0a00_0001,
    0x0a00_00ff,
    0x0a00_0100,
    0x0a00_ffff,
    0x0a01_0000,
    0xc000_0207,
    u32::MAX,
];
const V6_BASE: u128 = 0x2001_0db8_0000_0000_0000_0000_0000_0000;
static V6_POOL: [u128; 8] = [
    0,
    V6_BASE,
    V6_BASE | 1,
    V6_BASE | 0xffff,
    V6_BASE | 0x1_0000,
    V6_BASE | (1 << 64),
    V6_BASE | 0xffff_ffff_ffff_ffff,
    u128::MAX,
];
static PORT_POOL: [u16; 9] = [0, 1, 53, 79, 80, 81, 443, 65534, 65535];
static ICMP_TYPES: [u8; 6] = [0, 3, 8, 11, 128, 129];

/// An IPv4 address near one of a few pool values (so ranges and packets meet at their edges).
pub fn addr_v4() -> impl Strategy<Value = Ipv4Addr> {
    (prop::sample::select(&V4_POOL[..]), -2i32..=2)
        .prop_map(|(base, d)| Ipv4Addr::from_bits(base.wrapping_add_signed(d)))
}

/// An IPv6 address near one of a few pool values.
pub fn addr_v6() -> impl Strategy<Value = Ipv6Addr> {
    (prop::sample::select(&V6_POOL[..]), -2i64..=2)
        .prop_map(|(base, d)| Ipv6Addr::from_bits(base.wrapping_add_signed(i128::from(d))))
}

/// An address of the given family.
pub fn addr(ipv6: bool) -> BoxedStrategy<IpAddr> {
    if ipv6 {
        addr_v6().prop_map(IpAddr::V6).boxed()
    } else {
        addr_v4().prop_map(IpAddr::V4).boxed()
    }
}

/// An address range of the given family: a prefix, an explicit range, one address or everything.
pub fn addr_range(ipv6: bool) -> BoxedStrategy<AddrRange> {
    let bits: u8 = if ipv6 { 128 } else { 32 };
    let any = if ipv6 {
        AddrRange::ANY_V6
    } else {
        AddrRange::ANY_V4
    };
    prop_oneof![
        3 => Just(any),
        1 => addr(ipv6).prop_map(AddrRange::single),
        4 => (addr(ipv6), 0..=bits).prop_map(move |(a, len)| prefix_of(a, len)),
        3 => (addr(ipv6), addr(ipv6)).prop_map(|(a, b)| {
            let (lo, hi) = if key(a) <= key(b) { (a, b) } else { (b, a) };
            AddrRange::new(lo, hi).unwrap_or(AddrRange::single(lo))
        }),
    ]
    .boxed()
}

/// The prefix of length `len` containing `a` (host bits cleared).
#[must_use]
pub fn prefix_of(a: IpAddr, len: u8) -> AddrRange {
    let net = match a {
        IpAddr::V4(a) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(len.min(32))).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from_bits(a.to_bits() & mask))
        }
        IpAddr::V6(a) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(len.min(128))).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from_bits(a.to_bits() & mask))
        }
    };
    AddrRange::from_prefix(net, len).unwrap_or(AddrRange::single(a))
}

fn key(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(a) => u128::from(a.to_bits()),
        IpAddr::V6(a) => a.to_bits(),
    }
}

/// A port range: ANY, OPAQUE, one port, a range of pool ports, or ICMP type/code forms.
pub fn port_range() -> impl Strategy<Value = PortRange> {
    let port = prop::sample::select(&PORT_POOL[..]);
    let ty = prop::sample::select(&ICMP_TYPES[..]);
    prop_oneof![
        8 => Just(PortRange::ANY),
        1 => Just(PortRange::OPAQUE),
        2 => port.clone().prop_map(PortRange::single),
        2 => (port.clone(), port).prop_map(|(a, b)| PortRange::new(a.min(b), a.max(b)).unwrap_or(PortRange::ANY)),
        1 => ty.clone().prop_map(PortRange::icmp_type),
        1 => (ty, 0u8..=4).prop_map(|(t, c)| PortRange::icmp(t, c)),
    ]
}

/// A protocol selector: any, or one of TCP, UDP, SCTP, ICMP, ICMPv6, GRE.
pub fn protocol_selector() -> impl Strategy<Value = Option<IpProtocol>> {
    prop_oneof![
        3 => Just(None),
        1 => prop::sample::select(&[IpProtocol::TCP, IpProtocol::UDP, IpProtocol::SCTP, IpProtocol::ICMP, IpProtocol::ICMPV6, GRE][..]).prop_map(Some),
    ]
}

/// A traffic selector of either family (local and remote of the same one).
pub fn traffic_selector() -> impl Strategy<Value = TrafficSelector> {
    any::<bool>().prop_flat_map(|ipv6| {
        (
            addr_range(ipv6),
            addr_range(ipv6),
            protocol_selector(),
            port_range(),
            port_range(),
        )
            .prop_map(
                |(local, remote, protocol, local_ports, remote_ports)| TrafficSelector {
                    local,
                    remote,
                    protocol,
                    local_ports,
                    remote_ports,
                },
            )
    })
}

/// A policy: a selector, a direction and an action (PROTECT with or without an SA, BYPASS, DISCARD).
pub fn policy() -> impl Strategy<Value = Policy> {
    let direction = prop_oneof![
        Just(PolicyDirection::Outbound),
        Just(PolicyDirection::Inbound),
        Just(PolicyDirection::Both)
    ];
    let action = prop_oneof![
        Just(Action::Protect { sa: None }),
        (0u16..4).prop_map(|i| Action::Protect {
            sa: Some(SaId::from_parts(i, 0))
        }),
        Just(Action::Bypass),
        Just(Action::Discard),
    ];
    (traffic_selector(), direction, action).prop_map(|(selector, direction, action)| Policy {
        selector,
        direction,
        action,
    })
}

/// A packet of either family with a protocol, ports or ICMP type/code, maybe fragmented, cut short
/// or (IPv6) with extension headers.
pub fn packet_spec() -> impl Strategy<Value = PacketSpec> {
    let protocol = prop::sample::select(
        &[
            IpProtocol::TCP,
            IpProtocol::UDP,
            IpProtocol::SCTP,
            IpProtocol::ICMP,
            IpProtocol::ICMPV6,
            GRE,
        ][..],
    );
    let port = prop::sample::select(&PORT_POOL[..]);
    let fragment = prop_oneof![
        6 => Just(Fragmentation::None),
        1 => Just(Fragmentation::First),
        1 => (1u16..0x1fff).prop_map(Fragmentation::Later),
    ];
    (
        any::<bool>(),
        protocol,
        port.clone(),
        port,
        prop::sample::select(&ICMP_TYPES[..]),
        0u8..=4,
        fragment,
        prop::bool::weighted(0.1),
        any::<bool>(),
    )
        .prop_flat_map(
            move |(ipv6, protocol, sp, dp, ty, code, fragment, truncated, ext_headers)| {
                let l4 = match protocol {
                    IpProtocol::TCP | IpProtocol::UDP | IpProtocol::SCTP => L4::Ports { src: sp, dst: dp },
                    IpProtocol::ICMP | IpProtocol::ICMPV6 => L4::Icmp { ty, code },
                    _ => L4::Raw,
                };
                (addr(ipv6), addr(ipv6)).prop_map(move |(src, dst)| PacketSpec {
                    src,
                    dst,
                    protocol,
                    l4,
                    fragment,
                    truncated,
                    ext_headers: ipv6 && ext_headers,
                })
            },
        )
}

/// Moves `spec` onto the edges of `ts` so that it (most likely) matches: addresses become the start or
/// end of the selector's ranges (bits 0 and 1 of `choice`), the protocol the selector's, and ports or
/// ICMP type/code the start or end of its port ranges (bits 2 and 3), read in `direction`.
/// Fragmentation and truncation are kept, so OPAQUE cases still come up.
#[must_use]
pub fn steer(spec: PacketSpec, ts: &TrafficSelector, choice: u8, direction: Direction) -> PacketSpec {
    let edge = |r: AddrRange, bit: u8| if choice & bit == 0 { r.start() } else { r.end() };
    let port = |r: PortRange, bit: u8, fallback: u16| {
        if r.is_any() || r.is_opaque() {
            fallback
        } else if choice & bit == 0 {
            r.start()
        } else {
            r.end()
        }
    };
    let (local, remote) = (edge(ts.local, 1), edge(ts.remote, 2));
    let protocol = ts.protocol.unwrap_or(spec.protocol);
    let outbound = direction == Direction::Outbound;
    let l4 = match protocol {
        IpProtocol::TCP | IpProtocol::UDP | IpProtocol::SCTP => {
            let (old_src, old_dst) = match spec.l4 {
                L4::Ports { src, dst } => (src, dst),
                _ => (40000, 443),
            };
            let (old_local, old_remote) = if outbound {
                (old_src, old_dst)
            } else {
                (old_dst, old_src)
            };
            let (lp, rp) = (
                port(ts.local_ports, 4, old_local),
                port(ts.remote_ports, 8, old_remote),
            );
            if outbound {
                L4::Ports { src: lp, dst: rp }
            } else {
                L4::Ports { src: rp, dst: lp }
            }
        }
        IpProtocol::ICMP | IpProtocol::ICMPV6 => {
            let old = match spec.l4 {
                L4::Icmp { ty, code } => u16::from_be_bytes([ty, code]),
                _ => 0x0800,
            };
            let v = if outbound {
                port(ts.local_ports, 4, old)
            } else {
                port(ts.remote_ports, 8, old)
            };
            let [ty, code] = v.to_be_bytes();
            L4::Icmp { ty, code }
        }
        _ => L4::Raw,
    };
    let (src, dst) = if outbound {
        (local, remote)
    } else {
        (remote, local)
    };
    PacketSpec {
        src,
        dst,
        protocol,
        l4,
        ext_headers: spec.ext_headers && src.is_ipv6(),
        ..spec
    }
}

/// Reads the fuzz input a byte or a word at a time; zeros once it runs out.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }
    fn take(&mut self, n: usize) -> &[u8] {
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    fn addr(&mut self, ipv6: bool) -> IpAddr {
        let pick = usize::from(self.u8());
        let delta = i8::from_be_bytes([self.u8()]);
        if ipv6 {
            let base = V6_POOL[pick % V6_POOL.len()];
            IpAddr::V6(Ipv6Addr::from_bits(base.wrapping_add_signed(i128::from(delta))))
        } else {
            let base = V4_POOL[pick % V4_POOL.len()];
            IpAddr::V4(Ipv4Addr::from_bits(base.wrapping_add_signed(i32::from(delta))))
        }
    }
    fn addr_range(&mut self, ipv6: bool) -> AddrRange {
        match self.u8() % 4 {
            0 => {
                if ipv6 {
                    AddrRange::ANY_V6
                } else {
                    AddrRange::ANY_V4
                }
            }
            1 => AddrRange::single(self.addr(ipv6)),
            2 => {
                let a = self.addr(ipv6);
                let len = self.u8();
                // Invalid prefixes are refused by the constructor; fall back to the clean prefix.
                AddrRange::from_prefix(a, len).unwrap_or_else(|_| prefix_of(a, len))
            }
            _ => {
                let (a, b) = (self.addr(ipv6), self.addr(ipv6));
                AddrRange::new(a, b)
                    .or_else(|_| AddrRange::new(b, a))
                    .unwrap_or(AddrRange::single(a))
            }
        }
    }
    fn port_range(&mut self) -> PortRange {
        match self.u8() % 5 {
            0 => PortRange::ANY,
            1 => PortRange::OPAQUE,
            2 => PortRange::single(self.u16()),
            3 => {
                let (a, b) = (self.u16(), self.u16());
                PortRange::new(a, b).unwrap_or(PortRange::single(a))
            }
            _ => PortRange::icmp_type(self.u8()),
        }
    }
    fn selector(&mut self) -> TrafficSelector {
        let ipv6 = self.u8() & 1 == 1;
        let local = self.addr_range(ipv6);
        // One selector in 16 mixes families, which insert must refuse.
        let remote_v6 = if self.u8() % 16 == 0 { !ipv6 } else { ipv6 };
        let remote = self.addr_range(remote_v6);
        let protocol = match self.u8() % 8 {
            0..=3 => None,
            n => Some(
                [
                    IpProtocol::TCP,
                    IpProtocol::UDP,
                    IpProtocol::ICMP,
                    IpProtocol::ICMPV6,
                ][usize::from(n - 4)],
            ),
        };
        TrafficSelector {
            local,
            remote,
            protocol,
            local_ports: self.port_range(),
            remote_ports: self.port_range(),
        }
    }
    fn packet(&mut self) -> Vec<u8> {
        let shape = self.u8();
        if shape % 4 == 0 {
            let n = usize::from(self.u8());
            return self.take(n).to_vec();
        }
        let ipv6 = shape & 0x10 != 0;
        let protocol = [
            IpProtocol::TCP,
            IpProtocol::UDP,
            IpProtocol::ICMP,
            IpProtocol::ICMPV6,
            GRE,
        ][usize::from(self.u8() % 5)];
        let l4 = match protocol {
            IpProtocol::TCP | IpProtocol::UDP => L4::Ports {
                src: self.u16(),
                dst: self.u16(),
            },
            IpProtocol::ICMP | IpProtocol::ICMPV6 => L4::Icmp {
                ty: self.u8(),
                code: self.u8(),
            },
            _ => L4::Raw,
        };
        let fragment = match self.u8() % 8 {
            0 => Fragmentation::First,
            1 => Fragmentation::Later(self.u16().max(1)),
            _ => Fragmentation::None,
        };
        let spec = PacketSpec {
            src: self.addr(ipv6),
            dst: self.addr(ipv6),
            protocol,
            l4,
            fragment,
            truncated: shape & 0x20 != 0,
            ext_headers: ipv6 && shape & 0x40 != 0,
        };
        let mut bytes = spec.to_bytes();
        // Sometimes flip one byte: a broken packet must only ever give an error.
        if shape & 0x80 != 0 && !bytes.is_empty() {
            let at = usize::from(self.u8()) % bytes.len();
            bytes[at] ^= self.u8() | 1;
        }
        bytes
    }
}

/// Fuzz entry point for the SPD: builds an `Spd<8>` from `data` and runs inserts, removals, SA
/// attachment, acquire clearing and lookups of packets built from (or taken raw from) the input.
///
/// Checks: nothing panics; stale ids are always refused; policies stay sorted by priority and never
/// exceed the capacity; each outbound decision and inbound check equals the first match of a scan
/// over [`Spd::iter`]; `Acquire::first` is true exactly once per pending acquire. Panics only on a
/// broken invariant.
pub fn fuzz_spd(data: &[u8]) {
    const N: usize = 8;
    let mut input = Input(data);
    let mut spd = Spd::<N>::new();
    let mut live: Vec<PolicyId> = Vec::new();
    let mut stale: Vec<PolicyId> = Vec::new();
    let mut acquiring: BTreeMap<PolicyId, bool> = BTreeMap::new();
    let mut steps = 0usize;
    while !input.is_empty() && steps < 256 {
        steps += 1;
        let op = input.u8();
        let pick = |ids: &[PolicyId], b: u8| ids.get(usize::from(b) % ids.len().max(1)).copied();
        match op % 8 {
            0 | 1 => {
                let priority = u32::from(input.u8() % 8);
                let selector = input.selector();
                let direction = [
                    PolicyDirection::Outbound,
                    PolicyDirection::Inbound,
                    PolicyDirection::Both,
                ][usize::from(input.u8() % 3)];
                let action = match input.u8() % 4 {
                    0 => Action::Protect { sa: None },
                    1 => Action::Protect {
                        sa: Some(SaId::from_parts(u16::from(input.u8() % 4), 0)),
                    },
                    2 => Action::Bypass,
                    _ => Action::Discard,
                };
                let before = spd.len();
                match spd.insert(
                    priority,
                    Policy {
                        selector,
                        direction,
                        action,
                    },
                ) {
                    Ok(id) => {
                        assert!(
                            before < N && !live.contains(&id) && !stale.contains(&id),
                            "insert gave a used id"
                        );
                        live.push(id);
                    }
                    Err(SpdError::Full) => assert_eq!(before, N),
                    Err(SpdError::InvalidSelector(_)) => assert!(selector.validate().is_err()),
                    Err(e) => panic!("unexpected insert error {e:?}"),
                }
            }
            2 => {
                if let Some(id) = pick(&live, input.u8()) {
                    assert!(spd.remove(id).is_ok());
                    live.retain(|x| *x != id);
                    acquiring.remove(&id);
                    stale.push(id);
                }
            }
            3 => {
                let sa = match input.u8() % 3 {
                    0 => None,
                    n => Some(SaId::from_parts(u16::from(n), 0)),
                };
                if let Some(id) = pick(&live, input.u8()) {
                    let protect = matches!(spd.get(id).map(|p| p.action), Some(Action::Protect { .. }));
                    match spd.set_sa(id, sa) {
                        Ok(()) => {
                            assert!(protect);
                            acquiring.remove(&id);
                        }
                        Err(SpdError::NotProtect) => assert!(!protect),
                        Err(e) => panic!("unexpected set_sa error {e:?}"),
                    }
                }
            }
            4 => {
                if let Some(id) = pick(&live, input.u8()) {
                    assert_eq!(spd.clear_acquire(id), Ok(()));
                    acquiring.remove(&id);
                }
            }
            5 => {
                if let Some(id) = pick(&stale, input.u8()) {
                    assert_eq!(spd.remove(id), Err(SpdError::UnknownPolicy));
                    assert_eq!(spd.set_sa(id, None), Err(SpdError::UnknownPolicy));
                    assert_eq!(spd.clear_acquire(id), Err(SpdError::UnknownPolicy));
                    assert!(spd.get(id).is_none());
                }
            }
            _ => {
                let packet = input.packet();
                lookup_and_check(&mut spd, &packet, &mut acquiring);
            }
        }
        assert_eq!(spd.len(), live.len());
        let priorities: Vec<u32> = spd.iter().map(|(_, p, _)| p).collect();
        assert!(
            priorities.windows(2).all(|w| w[0] <= w[1]),
            "policies out of order"
        );
    }
}

fn lookup_and_check<const N: usize>(
    spd: &mut Spd<N>,
    packet: &[u8],
    acquiring: &mut BTreeMap<PolicyId, bool>,
) {
    let (Ok(out), Ok(inb)) = (PacketSelector::outbound(packet), PacketSelector::inbound(packet)) else {
        assert!(PacketSelector::outbound(packet).is_err() && PacketSelector::inbound(packet).is_err());
        return;
    };
    assert_eq!((out.local, out.remote), (inb.remote, inb.local));
    assert_eq!(out.local.is_ipv4(), out.remote.is_ipv4());
    match out.transport {
        Transport::Ports { .. } => {
            assert!(matches!(
                out.protocol,
                IpProtocol::TCP | IpProtocol::UDP | IpProtocol::SCTP
            ));
        }
        Transport::Icmp { .. } => assert!(matches!(out.protocol, IpProtocol::ICMP | IpProtocol::ICMPV6)),
        Transport::Opaque => {}
    }
    // Expected outbound decision: the first outbound-covering policy whose selector matches.
    let first = spd
        .iter()
        .find(|(_, _, p)| p.direction != PolicyDirection::Inbound && p.selector.matches(&out))
        .map(|(id, _, p)| (id, *p));
    let expected = match first {
        None => Decision::NoPolicy,
        Some((
            _,
            Policy {
                action: Action::Bypass,
                ..
            },
        )) => Decision::Bypass,
        Some((
            _,
            Policy {
                action: Action::Discard,
                ..
            },
        )) => Decision::Discard,
        Some((
            policy,
            Policy {
                action: Action::Protect { sa: Some(sa) },
                ..
            },
        )) => Decision::Protect { policy, sa },
        Some((
            policy,
            Policy {
                action: Action::Protect { sa: None },
                ..
            },
        )) => {
            let first = acquiring.insert(policy, true).is_none();
            Decision::Acquire { policy, first }
        }
    };
    assert_eq!(spd.lookup_outbound(&out), expected);
    let first_in = spd
        .iter()
        .find(|(_, _, p)| p.direction != PolicyDirection::Outbound && p.selector.matches(&inb))
        .map(|(id, _, p)| (id, p.action));
    let expected_in = match first_in {
        None => Err(PolicyViolation::NoPolicy),
        Some((id, Action::Bypass)) => Ok(id),
        Some((policy, Action::Discard)) => Err(PolicyViolation::Discarded { policy }),
        Some((policy, Action::Protect { .. })) => Err(PolicyViolation::UnprotectedTraffic { policy }),
    };
    assert_eq!(spd.check_inbound_plain(&inb), expected_in);
}

/// Fuzz entry point for MSS clamping: `data[0..2]` is the limit, the rest a packet (raw, or with a
/// TCP SYN built from it when `data[2]` is odd).
///
/// Checks: nothing panics; on error or anything but `Clamped` the packet is unchanged; after
/// `Clamped` only the MSS option and checksum bytes changed and the TCP checksum verifies exactly
/// when it verified before.
pub fn fuzz_mss(data: &[u8]) {
    let mut input = Input(data);
    let max_mss = input.u16();
    let mut packet = if input.u8() & 1 == 1 {
        let ipv6 = input.u8() & 1 == 1;
        let (src, dst) = (input.addr(ipv6), input.addr(ipv6));
        let opts_len = usize::from(input.u8() % 41);
        let mut seg = std::vec![0u8; 20];
        seg[12] = u8::try_from((20 + opts_len.div_ceil(4) * 4) / 4 * 16).unwrap_or(0x50);
        seg[13] = input.u8() | 0x02;
        let opts = input.take(opts_len).to_vec();
        seg.extend_from_slice(&opts);
        seg.resize(20 + opts_len.div_ceil(4) * 4, 0);
        seg.extend_from_slice(input.0);
        let sum = transport_checksum(src, dst, IpProtocol::TCP, &seg);
        seg[16..18].copy_from_slice(&sum.to_be_bytes());
        let spec = PacketSpec {
            src,
            dst,
            protocol: IpProtocol::TCP,
            l4: L4::Raw,
            fragment: Fragmentation::None,
            truncated: false,
            ext_headers: ipv6,
        };
        let mut p = spec.to_bytes();
        p.truncate(p.len() - 8);
        p.extend_from_slice(&seg);
        fix_length(&mut p);
        p
    } else {
        input.0.to_vec()
    };
    let before = packet.clone();
    let verified_before = tcp_checksum_ok(&packet);
    match clamp_mss(&mut packet, max_mss) {
        Ok(MssClamp::Clamped { from, to }) => {
            assert!(from > to && to == max_mss);
            let changed = before.iter().zip(&packet).filter(|(a, b)| a != b).count();
            assert!(changed <= 2 * 10 + 2, "too many bytes changed");
            assert_eq!(
                tcp_checksum_ok(&packet),
                verified_before,
                "checksum validity changed"
            );
            assert_eq!(clamp_mss(&mut packet.clone(), max_mss), Ok(MssClamp::Unchanged));
        }
        _ => assert_eq!(packet, before, "packet changed without a clamp"),
    }
}

/// Sets the IP length field(s) of a packet built by replacing its upper layer.
fn fix_length(p: &mut [u8]) {
    let len = p.len();
    match p.first().map(|b| b >> 4) {
        Some(4) if len >= 20 => {
            let total = u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes();
            p[2] = total[0];
            p[3] = total[1];
            p[10] = 0;
            p[11] = 0;
            let mut c = Checksum::new();
            c.add_bytes(&p[..20]);
            let sum = c.finish().to_be_bytes();
            p[10] = sum[0];
            p[11] = sum[1];
        }
        Some(6) if len >= 40 => {
            let payload = u16::try_from(len - 40).unwrap_or(u16::MAX).to_be_bytes();
            p[4] = payload[0];
            p[5] = payload[1];
        }
        _ => {}
    }
}

/// True if `packet` is an unfragmented IP packet carrying TCP whose checksum verifies.
fn tcp_checksum_ok(packet: &[u8]) -> bool {
    let Ok(ip) = IpPacket::new_checked(packet) else {
        return false;
    };
    let Ok((IpProtocol::TCP, off)) = ip.upper_layer() else {
        return false;
    };
    let Some(seg) = packet.get(off..ip.total_len()) else {
        return false;
    };
    transport_checksum(ip.src(), ip.dst(), IpProtocol::TCP, seg) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuzz_entry_points_survive_simple_inputs() {
        for data in [
            &[][..],
            &[0u8; 64][..],
            &[0xffu8; 300][..],
            &[7u8, 1, 2, 3, 4, 5, 6, 7, 8, 9][..],
        ] {
            fuzz_spd(data);
            fuzz_mss(data);
        }
        let ramp: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
        fuzz_spd(&ramp);
        fuzz_mss(&ramp);
    }

    #[test]
    fn built_packets_parse_back_to_their_spec() {
        let spec = PacketSpec {
            src: IpAddr::V6(Ipv6Addr::LOCALHOST),
            dst: IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            protocol: IpProtocol::UDP,
            l4: L4::Ports { src: 1, dst: 2 },
            fragment: Fragmentation::First,
            truncated: false,
            ext_headers: true,
        };
        let s = PacketSelector::outbound(&spec.to_bytes()).unwrap();
        assert_eq!(
            (s.local, s.remote, s.protocol, s.transport),
            (spec.src, spec.dst, spec.protocol, spec.expected_transport())
        );
        assert_eq!(spec.expected_transport(), Transport::Ports { src: 1, dst: 2 });
    }
}
