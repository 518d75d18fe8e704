//! Tests of the parent module.
use super::*;
use core::net::{Ipv4Addr, Ipv6Addr};
use std::vec::Vec;

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}
fn v6(last: u16) -> IpAddr {
    IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, last))
}

/// An IP packet with `upper` as payload; IPv4 with a valid header checksum or IPv6 with `ext` (a
/// raw extension-header chain whose first next-header is `protocol`'s carrier).
fn packet(src: IpAddr, dst: IpAddr, protocol: IpProtocol, upper: &[u8], frag_offset: u16) -> Vec<u8> {
    let mut p = Vec::new();
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let total = u16::try_from(20 + upper.len()).unwrap();
            p.extend_from_slice(&[0x45, 0]);
            p.extend_from_slice(&total.to_be_bytes());
            p.extend_from_slice(&[0, 1]);
            p.extend_from_slice(&frag_offset.to_be_bytes());
            p.extend_from_slice(&[64, protocol.0, 0, 0]);
            p.extend_from_slice(&s.octets());
            p.extend_from_slice(&d.octets());
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let frag = frag_offset != 0;
            let len = u16::try_from(upper.len() + if frag { 8 } else { 0 }).unwrap();
            p.extend_from_slice(&[0x60, 0, 0, 0]);
            p.extend_from_slice(&len.to_be_bytes());
            p.extend_from_slice(&[if frag { 44 } else { protocol.0 }, 64]);
            p.extend_from_slice(&s.octets());
            p.extend_from_slice(&d.octets());
            if frag {
                p.extend_from_slice(&[protocol.0, 0]);
                p.extend_from_slice(&(frag_offset << 3).to_be_bytes());
                p.extend_from_slice(&[0, 0, 0, 7]);
            }
        }
        _ => unreachable!(),
    }
    p.extend_from_slice(upper);
    p
}

fn ports(src: u16, dst: u16) -> [u8; 8] {
    let mut h = [0u8; 8];
    h[..2].copy_from_slice(&src.to_be_bytes());
    h[2..4].copy_from_slice(&dst.to_be_bytes());
    h[5] = 8;
    h
}

fn sel(
    local: IpAddr,
    remote: IpAddr,
    protocol: IpProtocol,
    transport: Transport,
    dir: Direction,
) -> PacketSelector {
    PacketSelector {
        local,
        remote,
        protocol,
        transport,
        direction: dir,
    }
}

#[test]
fn prefixes_give_inclusive_blocks() {
    let r = AddrRange::from_prefix(v4(10, 1, 2, 0), 24).unwrap();
    assert_eq!((r.start(), r.end()), (v4(10, 1, 2, 0), v4(10, 1, 2, 255)));
    assert_eq!(r.prefix_len(), Some(24));
    assert_eq!(std::format!("{r}"), "10.1.2.0/24");
    assert_eq!(
        AddrRange::from_prefix(v4(0, 0, 0, 0), 0).unwrap(),
        AddrRange::ANY_V4
    );
    assert_eq!(
        AddrRange::from_prefix(v4(1, 2, 3, 4), 32).unwrap(),
        AddrRange::single(v4(1, 2, 3, 4))
    );
    let r6 = AddrRange::from_prefix(v6(0), 112).unwrap();
    assert_eq!(r6.end(), v6(0xffff));
    assert_eq!(
        AddrRange::from_prefix(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0).unwrap(),
        AddrRange::ANY_V6
    );
    assert_eq!(
        AddrRange::from_prefix(v6(5), 128).unwrap().prefix_len(),
        Some(128)
    );
    assert!(AddrRange::ANY_V6.is_any() && !r6.is_any() && !r6.is_ipv4());
}

#[test]
fn bad_prefixes_are_refused() {
    assert_eq!(
        AddrRange::from_prefix(v4(10, 0, 0, 0), 33),
        Err(SelectorError::PrefixTooLong { max: 32 })
    );
    assert_eq!(
        AddrRange::from_prefix(v6(0), 129),
        Err(SelectorError::PrefixTooLong { max: 128 })
    );
    assert_eq!(
        AddrRange::from_prefix(v4(10, 0, 0, 1), 24),
        Err(SelectorError::HostBitsSet)
    );
    assert_eq!(
        AddrRange::from_prefix(v6(1), 127),
        Err(SelectorError::HostBitsSet)
    );
}

#[test]
fn explicit_ranges_are_checked() {
    let r = AddrRange::new(v4(10, 0, 0, 5), v4(10, 0, 0, 9)).unwrap();
    assert_eq!(r.prefix_len(), None);
    assert_eq!(std::format!("{r}"), "10.0.0.5-10.0.0.9");
    assert_eq!(
        AddrRange::new(v4(10, 0, 0, 9), v4(10, 0, 0, 5)),
        Err(SelectorError::ReversedRange)
    );
    assert_eq!(
        AddrRange::new(v4(10, 0, 0, 5), v6(9)),
        Err(SelectorError::FamilyMismatch)
    );
    assert_eq!(AddrRange::new(v6(9), v6(8)), Err(SelectorError::ReversedRange));
    // A range that happens to be a block is shown as one.
    assert_eq!(
        AddrRange::new(v6(0x10), v6(0x1f)).unwrap().prefix_len(),
        Some(124)
    );
}

#[test]
fn range_boundaries_are_inclusive_and_families_never_mix() {
    let r = AddrRange::new(v4(10, 0, 0, 5), v4(10, 0, 1, 9)).unwrap();
    assert!(!r.contains(v4(10, 0, 0, 4)));
    assert!(r.contains(v4(10, 0, 0, 5)));
    assert!(r.contains(v4(10, 0, 0, 255)));
    assert!(r.contains(v4(10, 0, 1, 9)));
    assert!(!r.contains(v4(10, 0, 1, 10)));
    let r6 = AddrRange::new(v6(5), v6(9)).unwrap();
    assert!(!r6.contains(v6(4)) && r6.contains(v6(5)) && r6.contains(v6(9)) && !r6.contains(v6(10)));
    // IPv4 never matches IPv6, not even ::/0 or an IPv4-mapped address.
    assert!(!AddrRange::ANY_V6.contains(v4(10, 0, 0, 5)));
    assert!(!AddrRange::ANY_V4.contains(v6(5)));
    let mapped = IpAddr::V6(Ipv4Addr::new(10, 0, 0, 6).to_ipv6_mapped());
    assert!(!r.contains(mapped));
    // Extremes.
    assert!(AddrRange::ANY_V4.contains(v4(0, 0, 0, 0)) && AddrRange::ANY_V4.contains(v4(255, 255, 255, 255)));
    assert!(AddrRange::ANY_V6.contains(IpAddr::V6(Ipv6Addr::from_bits(u128::MAX))));
}

#[test]
fn port_ranges_any_opaque_and_icmp() {
    assert_eq!(PortRange::new(10, 9), Err(SelectorError::ReversedRange));
    assert_eq!(PortRange::new(u16::MAX, 0), Ok(PortRange::OPAQUE));
    assert_eq!(PortRange::new(0, u16::MAX), Ok(PortRange::ANY));
    let r = PortRange::new(80, 443).unwrap();
    assert!(!r.contains(79) && r.contains(80) && r.contains(443) && !r.contains(444));
    assert!(!PortRange::OPAQUE.contains(0) && !PortRange::OPAQUE.contains(u16::MAX));
    assert!(PortRange::ANY.admits_opaque() && PortRange::OPAQUE.admits_opaque() && !r.admits_opaque());
    // RFC 7296 §3.13.1: type in the high byte, code in the low byte.
    assert_eq!(PortRange::icmp(3, 4), PortRange::single(0x0304));
    assert_eq!(
        (PortRange::icmp_type(8).start(), PortRange::icmp_type(8).end()),
        (0x0800, 0x08ff)
    );
    assert_eq!((PortRange::OPAQUE.start(), PortRange::OPAQUE.end()), (65535, 0));
    assert_eq!(
        std::format!(
            "{} {} {} {r}",
            PortRange::ANY,
            PortRange::OPAQUE,
            PortRange::single(53)
        ),
        "any opaque 53 80-443"
    );
}

#[test]
fn ports_are_read_from_the_local_side() {
    let ts = TrafficSelector {
        local: AddrRange::from_prefix(v4(10, 1, 0, 0), 16).unwrap(),
        remote: AddrRange::ANY_V4,
        protocol: Some(IpProtocol::TCP),
        local_ports: PortRange::ANY,
        remote_ports: PortRange::single(443),
    };
    let out = sel(
        v4(10, 1, 0, 1),
        v4(8, 8, 8, 8),
        IpProtocol::TCP,
        Transport::Ports { src: 40000, dst: 443 },
        Direction::Outbound,
    );
    assert!(ts.matches(&out));
    // The reply, inbound: remote port is its source port.
    let back = sel(
        v4(10, 1, 0, 1),
        v4(8, 8, 8, 8),
        IpProtocol::TCP,
        Transport::Ports { src: 443, dst: 40000 },
        Direction::Inbound,
    );
    assert!(ts.matches(&back));
    // The same ports read the other way round do not match.
    let wrong = PacketSelector {
        direction: Direction::Inbound,
        ..out
    };
    assert!(!ts.matches(&wrong));
    // Protocol must agree unless the selector says any.
    assert!(!ts.matches(&PacketSelector {
        protocol: IpProtocol::UDP,
        ..out
    }));
    assert!(TrafficSelector { protocol: None, ..ts }.matches(&PacketSelector {
        protocol: IpProtocol::UDP,
        ..out
    }));
    // Addresses outside either range.
    assert!(!ts.matches(&PacketSelector {
        local: v4(10, 2, 0, 1),
        ..out
    }));
    // An IPv6 packet never matches an IPv4 selector, even with ANY everywhere.
    let six = sel(
        v6(1),
        v6(2),
        IpProtocol::TCP,
        Transport::Ports { src: 1, dst: 443 },
        Direction::Outbound,
    );
    assert!(!TrafficSelector::any_v4().matches(&six));
    assert!(TrafficSelector::any_v6().matches(&six));
    assert!(!TrafficSelector::any_v6().matches(&out));
}

#[test]
fn icmp_type_code_is_checked_against_the_sending_side() {
    // Send echo requests (type 8), receive echo replies (type 0).
    let ts = TrafficSelector {
        protocol: Some(IpProtocol::ICMP),
        local_ports: PortRange::icmp_type(8),
        remote_ports: PortRange::icmp(0, 0),
        ..TrafficSelector::any_v4()
    };
    let req = sel(
        v4(10, 0, 0, 1),
        v4(10, 0, 0, 2),
        IpProtocol::ICMP,
        Transport::Icmp { ty: 8, code: 0 },
        Direction::Outbound,
    );
    let rep = sel(
        v4(10, 0, 0, 1),
        v4(10, 0, 0, 2),
        IpProtocol::ICMP,
        Transport::Icmp { ty: 0, code: 0 },
        Direction::Inbound,
    );
    assert!(ts.matches(&req));
    assert!(ts.matches(&rep));
    // We do not send replies nor receive requests under this selector.
    assert!(!ts.matches(&PacketSelector {
        direction: Direction::Outbound,
        ..rep
    }));
    assert!(!ts.matches(&PacketSelector {
        direction: Direction::Inbound,
        ..req
    }));
    // Code matters for a single type/code; a type range covers every code in between.
    assert!(!ts.matches(&PacketSelector {
        transport: Transport::Icmp { ty: 0, code: 1 },
        ..rep
    }));
    let unreach = TrafficSelector {
        local_ports: PortRange::new(0x0300, 0x0304).unwrap(),
        ..ts
    };
    let p = |ty, code| PacketSelector {
        transport: Transport::Icmp { ty, code },
        ..req
    };
    assert!(unreach.matches(&p(3, 0)) && unreach.matches(&p(3, 4)));
    assert!(!unreach.matches(&p(3, 5)) && !unreach.matches(&p(2, 255)));
    // Send-only: remote OPAQUE refuses every inbound type.
    let send_only = TrafficSelector {
        remote_ports: PortRange::OPAQUE,
        ..ts
    };
    assert!(send_only.matches(&req) && !send_only.matches(&rep));
    // ICMPv6 follows the same rule.
    let v6ts = TrafficSelector {
        protocol: Some(IpProtocol::ICMPV6),
        local_ports: PortRange::icmp(128, 0),
        remote_ports: PortRange::icmp(129, 0),
        ..TrafficSelector::any_v6()
    };
    let ping6 = sel(
        v6(1),
        v6(2),
        IpProtocol::ICMPV6,
        Transport::Icmp { ty: 128, code: 0 },
        Direction::Outbound,
    );
    assert!(v6ts.matches(&ping6));
    assert!(!v6ts.matches(&PacketSelector {
        direction: Direction::Inbound,
        ..ping6
    }));
}

#[test]
fn opaque_ports_match_only_any_or_opaque() {
    let frag = sel(
        v4(10, 0, 0, 1),
        v4(10, 0, 0, 2),
        IpProtocol::UDP,
        Transport::Opaque,
        Direction::Outbound,
    );
    let udp = |l: PortRange, r: PortRange| TrafficSelector {
        protocol: Some(IpProtocol::UDP),
        local_ports: l,
        remote_ports: r,
        ..TrafficSelector::any_v4()
    };
    assert!(udp(PortRange::ANY, PortRange::ANY).matches(&frag));
    assert!(udp(PortRange::OPAQUE, PortRange::ANY).matches(&frag));
    assert!(udp(PortRange::OPAQUE, PortRange::OPAQUE).matches(&frag));
    assert!(!udp(PortRange::single(53), PortRange::ANY).matches(&frag));
    assert!(!udp(PortRange::ANY, PortRange::new(0, 65534).unwrap()).matches(&frag));
    // OPAQUE does not match visible ports.
    let dns = PacketSelector {
        transport: Transport::Ports { src: 5000, dst: 53 },
        ..frag
    };
    assert!(!udp(PortRange::OPAQUE, PortRange::ANY).matches(&dns));
    assert!(udp(PortRange::ANY, PortRange::single(53)).matches(&dns));
    // A protocol without ports.
    let gre = PacketSelector {
        protocol: IpProtocol(47),
        ..frag
    };
    assert!(
        TrafficSelector {
            protocol: Some(IpProtocol(47)),
            ..TrafficSelector::any_v4()
        }
        .matches(&gre)
    );
}

#[test]
fn packet_selectors_follow_the_packet() {
    let p = packet(
        v4(192, 0, 2, 1),
        v4(198, 51, 100, 7),
        IpProtocol::TCP,
        &ports(40000, 443),
        0,
    );
    let out = PacketSelector::outbound(&p).unwrap();
    assert_eq!(
        out,
        sel(
            v4(192, 0, 2, 1),
            v4(198, 51, 100, 7),
            IpProtocol::TCP,
            Transport::Ports { src: 40000, dst: 443 },
            Direction::Outbound
        )
    );
    assert_eq!((out.local_port(), out.remote_port()), (Some(40000), Some(443)));
    let inb = PacketSelector::inbound(&p).unwrap();
    assert_eq!(
        (inb.local, inb.remote, inb.direction),
        (v4(198, 51, 100, 7), v4(192, 0, 2, 1), Direction::Inbound)
    );
    assert_eq!((inb.local_port(), inb.remote_port()), (Some(443), Some(40000)));

    // A non-initial fragment: ports are OPAQUE (RFC 4301 §7), protocol still known.
    let f = packet(
        v4(192, 0, 2, 1),
        v4(198, 51, 100, 7),
        IpProtocol::UDP,
        &ports(1, 2),
        185,
    );
    let fs = PacketSelector::outbound(&f).unwrap();
    assert_eq!(
        (fs.protocol, fs.transport, fs.local_port()),
        (IpProtocol::UDP, Transport::Opaque, None)
    );

    let icmp6 = packet(v6(1), v6(2), IpProtocol::ICMPV6, &[128, 0, 0, 0, 0, 1, 0, 1], 0);
    let s = PacketSelector::outbound(&icmp6).unwrap();
    assert_eq!(
        (s.local, s.protocol, s.transport),
        (v6(1), IpProtocol::ICMPV6, Transport::Icmp { ty: 128, code: 0 })
    );
    let f6 = packet(v6(1), v6(2), IpProtocol::UDP, &ports(1, 2), 100);
    assert_eq!(PacketSelector::inbound(&f6).unwrap().transport, Transport::Opaque);

    // AH is the next-layer protocol for selectors in both families (RFC 4301 §4.4.1.1).
    let mut ah = std::vec![17u8, 4, 0, 0, 0, 0, 0x10, 0x01, 0, 0, 0, 1];
    ah.extend_from_slice(&[0xab; 12]);
    ah.extend_from_slice(&ports(53, 53));
    for (s, d) in [(v6(1), v6(2)), (v4(10, 0, 0, 1), v4(10, 0, 0, 2))] {
        let p = packet(s, d, IpProtocol::AH, &ah, 0);
        let sel = PacketSelector::inbound(&p).unwrap();
        assert_eq!(
            (sel.protocol, sel.transport),
            (IpProtocol::AH, Transport::Opaque),
            "{s}"
        );
    }

    assert!(PacketSelector::outbound(&[]).is_err());
    assert!(PacketSelector::inbound(&p[..19]).is_err());
}

#[test]
fn selector_sets_hold_eight_and_match_any() {
    let mut set = SelectorSet::new();
    assert!(set.is_empty());
    let pkt = sel(
        v4(10, 0, 0, 1),
        v4(10, 0, 0, 2),
        IpProtocol::UDP,
        Transport::Ports { src: 1, dst: 2 },
        Direction::Inbound,
    );
    assert!(!set.matches_any(&pkt), "an empty set matches nothing");
    for i in 0..8u8 {
        let ts = TrafficSelector::new(AddrRange::single(v4(10, 0, 0, i)), AddrRange::ANY_V4);
        set.push(ts).unwrap();
    }
    assert_eq!(set.len(), SelectorSet::CAPACITY);
    let before = set;
    assert_eq!(set.push(TrafficSelector::any_v4()), Err(SelectorError::SetFull));
    assert_eq!(set, before);
    assert!(set.matches_any(&pkt));
    assert!(!set.matches_any(&PacketSelector {
        local: v4(10, 0, 0, 8),
        ..pkt
    }));
    assert_eq!(set.iter().count(), 8);
    assert_eq!(SelectorSet::from_slice(set.as_slice()).unwrap(), set);
    assert_eq!(
        SelectorSet::from_slice(&[TrafficSelector::any_v6(); 9]),
        Err(SelectorError::SetFull)
    );
    assert_ne!(SelectorSet::from_slice(&set.as_slice()[..7]).unwrap(), set);
}

#[test]
fn mixed_family_selectors_do_not_validate() {
    let ts = TrafficSelector::new(AddrRange::ANY_V4, AddrRange::ANY_V6);
    assert_eq!(ts.validate(), Err(SelectorError::FamilyMismatch));
    assert_eq!(TrafficSelector::any_v6().validate(), Ok(()));
}
