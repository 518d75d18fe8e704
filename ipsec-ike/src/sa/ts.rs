//! Traffic selectors: conversions between configuration, wire and SAD forms, and narrowing
//! (RFC 7296 §2.9, §3.13.1).

use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipsec_core::selector::{AddrRange, PacketSelector, PortRange, SelectorSet, TrafficSelector as CoreTs};
use ipsec_core::wire::IpProtocol;

use crate::config::TsEntry;
use crate::message::{TrafficSelector, Ts, TsRange};

/// One traffic selector (one side), addresses as integers of one family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Sel {
    pub(crate) v6: bool,
    pub(crate) proto: u8,
    pub(crate) port_start: u16,
    pub(crate) port_end: u16,
    pub(crate) start: u128,
    pub(crate) end: u128,
}

fn addr_bits(a: IpAddr) -> (bool, u128) {
    match a {
        IpAddr::V4(v) => (false, u128::from(u32::from(v))),
        IpAddr::V6(v) => (true, u128::from(v)),
    }
}

pub(crate) fn bits_to_addr(v6: bool, x: u128) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::from(x))
    } else {
        IpAddr::V4(Ipv4Addr::from(u32::try_from(x).unwrap_or(u32::MAX)))
    }
}

impl Sel {
    /// All traffic of one host.
    pub(crate) fn host(addr: IpAddr) -> Self {
        let (v6, x) = addr_bits(addr);
        Self {
            v6,
            proto: 0,
            port_start: 0,
            port_end: u16::MAX,
            start: x,
            end: x,
        }
    }

    /// Every address of the family of `addr`.
    pub(crate) fn any_like(addr: IpAddr) -> Self {
        let (v6, _) = addr_bits(addr);
        Self {
            v6,
            proto: 0,
            port_start: 0,
            port_end: u16::MAX,
            start: 0,
            end: if v6 { u128::MAX } else { u128::from(u32::MAX) },
        }
    }

    pub(crate) fn from_config(e: &TsEntry) -> Self {
        let (v6, start) = addr_bits(e.addrs.start());
        let (_, end) = addr_bits(e.addrs.end());
        Self {
            v6,
            proto: e.protocol.map_or(0, |p| p.0),
            port_start: e.ports.start(),
            port_end: e.ports.end(),
            start,
            end,
        }
    }

    /// `None` for selector types we do not implement and for reversed ranges.
    pub(crate) fn from_wire(t: &TrafficSelector<'_>) -> Option<Self> {
        let s = match t {
            TrafficSelector::Ipv4(r) => Self {
                v6: false,
                proto: r.ip_protocol,
                port_start: r.start_port,
                port_end: r.end_port,
                start: u128::from(u32::from(r.start)),
                end: u128::from(u32::from(r.end)),
            },
            TrafficSelector::Ipv6(r) => Self {
                v6: true,
                proto: r.ip_protocol,
                port_start: r.start_port,
                port_end: r.end_port,
                start: u128::from(r.start),
                end: u128::from(r.end),
            },
            TrafficSelector::Other { .. } => return None,
        };
        (s.start <= s.end).then_some(s)
    }

    pub(crate) fn to_wire(self) -> TrafficSelector<'static> {
        if self.v6 {
            TrafficSelector::Ipv6(TsRange {
                ip_protocol: self.proto,
                start_port: self.port_start,
                end_port: self.port_end,
                start: Ipv6Addr::from(self.start),
                end: Ipv6Addr::from(self.end),
            })
        } else {
            TrafficSelector::Ipv4(TsRange {
                ip_protocol: self.proto,
                start_port: self.port_start,
                end_port: self.port_end,
                start: Ipv4Addr::from(u32::try_from(self.start).unwrap_or(u32::MAX)),
                end: Ipv4Addr::from(u32::try_from(self.end).unwrap_or(u32::MAX)),
            })
        }
    }

    fn opaque(self) -> bool {
        self.port_start > self.port_end
    }

    /// The intersection of two selectors, if not empty.
    pub(crate) fn intersect(self, o: Self) -> Option<Self> {
        if self.v6 != o.v6 {
            return None;
        }
        let proto = match (self.proto, o.proto) {
            (0, p) | (p, 0) => p,
            (a, b) if a == b => a,
            _ => return None,
        };
        let (port_start, port_end) = if self.opaque() || o.opaque() {
            // OPAQUE (RFC 7296 §3.13.1: start 65535, end 0) only meets OPAQUE or ANY.
            let any = |s: Self| s.port_start == 0 && s.port_end == u16::MAX;
            if (self.opaque() || any(self)) && (o.opaque() || any(o)) {
                (u16::MAX, 0)
            } else {
                return None;
            }
        } else {
            let s = self.port_start.max(o.port_start);
            let e = self.port_end.min(o.port_end);
            if s > e {
                return None;
            }
            (s, e)
        };
        let start = self.start.max(o.start);
        let end = self.end.min(o.end);
        (start <= end).then_some(Self {
            v6: self.v6,
            proto,
            port_start,
            port_end,
            start,
            end,
        })
    }

    /// True if `self` lies within `o`.
    pub(crate) fn within(self, o: Self) -> bool {
        self.intersect(o) == Some(self)
    }
}

/// The packet that hit a trap policy, as one selector per side: its two addresses, its protocol
/// and its ports (RFC 7296 §2.9: proposed first, so the responder can pick the policy that
/// covers it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Trigger {
    pub(crate) local: Sel,
    pub(crate) remote: Sel,
}

impl Trigger {
    pub(crate) fn of(packet: &PacketSelector) -> Self {
        let side = |addr: IpAddr, port: Option<u16>| {
            let mut s = Sel::host(addr);
            s.proto = packet.protocol.0;
            if let Some(p) = port {
                s.port_start = p;
                s.port_end = p;
            }
            s
        };
        Self {
            local: side(packet.local, packet.local_port()),
            remote: side(packet.remote, packet.remote_port()),
        }
    }

    /// `local`/`remote` with the trigger in front, if the trigger lies within them (a packet
    /// outside the configured selectors is not proposed).
    pub(crate) fn prepend(trigger: Option<Self>, local: &mut Vec<Sel>, remote: &mut Vec<Sel>) {
        let Some(t) = trigger else {
            return;
        };
        let inside = |t: Sel, sels: &[Sel]| sels.iter().any(|s| t.within(*s));
        if inside(t.local, local) && inside(t.remote, remote) {
            local.insert(0, t.local);
            remote.insert(0, t.remote);
        }
    }
}

/// The selectors of a TS payload we understand.
pub(crate) fn from_payload(ts: &Ts<'_>) -> Vec<Sel> {
    ts.selectors.iter().filter_map(Sel::from_wire).collect()
}

/// A TS payload of `sels`.
pub(crate) fn to_payload(sels: &[Sel]) -> Ts<'static> {
    Ts {
        selectors: sels.iter().map(|s| s.to_wire()).collect(),
    }
}

/// Responder narrowing (RFC 7296 §2.9): every non-empty intersection of a proposed selector with
/// a configured one, in the configured order, leaving out any that another one covers (the
/// initiator's first, packet-specific selector inside its subnet adds nothing). Empty if
/// nothing fits.
pub(crate) fn narrow(proposed: &[Sel], configured: &[Sel]) -> Vec<Sel> {
    let mut out: Vec<Sel> = Vec::new();
    for c in configured {
        for p in proposed {
            if let Some(x) = p.intersect(*c) {
                if !out.iter().any(|o| x.within(*o)) {
                    out.retain(|o| !o.within(x));
                    out.push(x);
                }
            }
        }
    }
    out
}

/// Initiator check of the responder's choice: non-empty and each selector inside one we proposed.
pub(crate) fn is_narrowing(chosen: &[Sel], proposed: &[Sel]) -> bool {
    !chosen.is_empty() && chosen.iter().all(|c| proposed.iter().any(|p| c.within(*p)))
}

/// The SAD selector set of a CHILD SA: every pairing of a local with a remote selector of one
/// family and compatible protocol. `None` if none pairs or more than the set holds.
pub(crate) fn selector_set(local: &[Sel], remote: &[Sel]) -> Option<SelectorSet> {
    let mut set = SelectorSet::new();
    for l in local {
        for r in remote {
            if l.v6 != r.v6 {
                continue;
            }
            let proto = match (l.proto, r.proto) {
                (0, p) | (p, 0) => p,
                (a, b) if a == b => a,
                _ => continue,
            };
            let ports = |s: &Sel| {
                if s.opaque() {
                    PortRange::OPAQUE
                } else {
                    PortRange::new(s.port_start, s.port_end).unwrap_or(PortRange::ANY)
                }
            };
            let range = |s: &Sel| AddrRange::new(bits_to_addr(s.v6, s.start), bits_to_addr(s.v6, s.end)).ok();
            let ts = CoreTs {
                local: range(l)?,
                remote: range(r)?,
                protocol: (proto != 0).then_some(IpProtocol(proto)),
                local_ports: ports(l),
                remote_ports: ports(r),
            };
            set.push(ts).ok()?;
        }
    }
    (!set.is_empty()).then_some(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(a: [u8; 4], prefix: u8) -> Sel {
        Sel::from_config(&TsEntry::subnet(
            AddrRange::from_prefix(IpAddr::V4(Ipv4Addr::from(a)), prefix).unwrap(),
        ))
    }

    #[test]
    fn narrows_to_the_intersection() {
        let any = Sel::any_like(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let lan = net([10, 1, 0, 0], 16);
        assert_eq!(narrow(&[any], &[lan]), [lan]);
        let small = net([10, 1, 2, 0], 24);
        assert_eq!(narrow(&[small], &[lan]), [small]);
        assert!(narrow(&[net([10, 2, 0, 0], 16)], &[lan]).is_empty());
        assert!(is_narrowing(&[small], &[lan]));
        assert!(!is_narrowing(&[lan], &[small]));
        assert!(!is_narrowing(&[], &[small]));
        let mut tcp = lan;
        tcp.proto = 6;
        tcp.port_start = 80;
        tcp.port_end = 80;
        let mut udp = lan;
        udp.proto = 17;
        assert_eq!(lan.intersect(tcp), Some(tcp));
        assert_eq!(tcp.intersect(udp), None);
        let v6 = Sel::any_like(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
        assert_eq!(v6.intersect(lan), None);
    }

    #[test]
    fn narrowing_leaves_out_covered_selectors() {
        let lan = net([10, 1, 0, 0], 16);
        let host = net([10, 1, 0, 5], 32);
        let other = net([10, 7, 0, 0], 16);
        // Packet selector first, then the subnet holding it: only the subnet remains.
        assert_eq!(narrow(&[host, lan], &[lan]), [lan]);
        assert_eq!(narrow(&[lan, host], &[lan]), [lan]);
        // Disjoint results both stay, in the configured order.
        assert_eq!(narrow(&[host, other], &[other, lan]), [other, host]);
    }

    #[test]
    fn a_trigger_is_the_packet_and_goes_first_only_inside_the_configuration() {
        use ipsec_core::sa::Direction;
        use ipsec_core::wire::{IpProtocol, Transport};
        let packet = PacketSelector {
            local: IpAddr::V4(Ipv4Addr::new(10, 1, 0, 5)),
            remote: IpAddr::V4(Ipv4Addr::new(10, 2, 0, 9)),
            protocol: IpProtocol(6),
            transport: Transport::Ports { src: 40000, dst: 443 },
            direction: Direction::Outbound,
        };
        let t = Trigger::of(&packet);
        assert_eq!((t.local.start, t.local.end), (0x0a01_0005, 0x0a01_0005));
        assert_eq!(
            (t.local.proto, t.local.port_start, t.local.port_end),
            (6, 40000, 40000)
        );
        assert_eq!(
            (
                t.remote.start,
                t.remote.proto,
                t.remote.port_start,
                t.remote.port_end
            ),
            (0x0a02_0009, 6, 443, 443)
        );
        let icmp = Trigger::of(&PacketSelector {
            protocol: IpProtocol(1),
            transport: Transport::Icmp { ty: 8, code: 0 },
            ..packet
        });
        assert_eq!(
            (icmp.remote.proto, icmp.remote.port_start, icmp.remote.port_end),
            (1, 0, u16::MAX)
        );

        let (a, b) = (net([10, 1, 0, 0], 16), net([10, 2, 0, 0], 16));
        let (mut l, mut r) = (alloc::vec![a], alloc::vec![b]);
        Trigger::prepend(Some(t), &mut l, &mut r);
        assert_eq!(
            (l.as_slice(), r.as_slice()),
            ([t.local, a].as_slice(), [t.remote, b].as_slice())
        );
        // Outside the configured remote side: nothing is added.
        let (mut l, mut r) = (alloc::vec![a], alloc::vec![net([10, 3, 0, 0], 16)]);
        Trigger::prepend(Some(t), &mut l, &mut r);
        assert_eq!((l.len(), r.len()), (1, 1));
        Trigger::prepend(None, &mut l, &mut r);
        assert_eq!((l.len(), r.len()), (1, 1));
    }

    #[test]
    fn wire_round_trip_and_selector_set() {
        let lan = net([192, 168, 10, 0], 24);
        let back = Sel::from_wire(&lan.to_wire()).unwrap();
        assert_eq!(back, lan);
        let set = selector_set(&[lan], &[net([192, 168, 20, 0], 24)]).unwrap();
        assert_eq!(set.len(), 1);
        assert!(selector_set(&[lan], &[Sel::any_like(IpAddr::V6(Ipv6Addr::UNSPECIFIED))]).is_none());
    }
}
