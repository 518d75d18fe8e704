//! Tests of the parent module.
use super::*;
use crate::selector::{AddrRange, PortRange};
use crate::wire::{IpProtocol, Transport};
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}
fn net(a: u8, b: u8, c: u8, d: u8, len: u8) -> AddrRange {
    AddrRange::from_prefix(v4(a, b, c, d), len).unwrap()
}
fn policy(selector: TrafficSelector, direction: PolicyDirection, action: Action) -> Policy {
    Policy {
        selector,
        direction,
        action,
    }
}
fn pkt(
    local: IpAddr,
    remote: IpAddr,
    protocol: IpProtocol,
    transport: Transport,
    direction: Direction,
) -> PacketSelector {
    PacketSelector {
        local,
        remote,
        protocol,
        transport,
        direction,
    }
}
fn out_tcp(local: IpAddr, remote: IpAddr, dport: u16) -> PacketSelector {
    pkt(
        local,
        remote,
        IpProtocol::TCP,
        Transport::Ports {
            src: 50000,
            dst: dport,
        },
        Direction::Outbound,
    )
}
const SA1: SaId = SaId::from_parts(1, 0);
const SA2: SaId = SaId::from_parts(2, 0);

#[test]
fn first_match_in_priority_order_wins() {
    let mut spd = Spd::<8>::new();
    let lan_to_lan = TrafficSelector::new(net(10, 1, 0, 0, 16), net(10, 2, 0, 0, 16));
    let web = TrafficSelector {
        protocol: Some(IpProtocol::TCP),
        remote_ports: PortRange::single(80),
        ..lan_to_lan
    };
    let protect = spd
        .insert(
            100,
            policy(
                lan_to_lan,
                PolicyDirection::Both,
                Action::Protect { sa: Some(SA1) },
            ),
        )
        .unwrap();
    let catch_all = spd
        .insert(
            u32::MAX,
            policy(TrafficSelector::any_v4(), PolicyDirection::Both, Action::Bypass),
        )
        .unwrap();
    // More specific, inserted later but with a lower priority: it goes first.
    let discard_web = spd
        .insert(50, policy(web, PolicyDirection::Outbound, Action::Discard))
        .unwrap();
    let order: std::vec::Vec<_> = spd.iter().map(|(id, _, _)| id).collect();
    assert_eq!(order, [discard_web, protect, catch_all]);

    let p80 = out_tcp(v4(10, 1, 0, 1), v4(10, 2, 0, 1), 80);
    let p443 = out_tcp(v4(10, 1, 0, 1), v4(10, 2, 0, 1), 443);
    let internet = out_tcp(v4(10, 1, 0, 1), v4(8, 8, 8, 8), 443);
    assert_eq!(spd.lookup_outbound(&p80), Decision::Discard);
    assert_eq!(
        spd.lookup_outbound(&p443),
        Decision::Protect {
            policy: protect,
            sa: SA1
        }
    );
    assert_eq!(spd.lookup_outbound(&internet), Decision::Bypass);
    let six = pkt(
        IpAddr::V6(Ipv6Addr::LOCALHOST),
        IpAddr::V6(Ipv6Addr::LOCALHOST),
        IpProtocol::UDP,
        Transport::Opaque,
        Direction::Outbound,
    );
    assert_eq!(spd.lookup_outbound(&six), Decision::NoPolicy);

    // Removing the discard lets port 80 fall through to the tunnel.
    spd.remove(discard_web).unwrap();
    assert_eq!(
        spd.lookup_outbound(&p80),
        Decision::Protect {
            policy: protect,
            sa: SA1
        }
    );
}

#[test]
fn equal_priorities_keep_insertion_order() {
    let mut spd = Spd::<4>::new();
    let ts = TrafficSelector::any_v4();
    let a = spd
        .insert(7, policy(ts, PolicyDirection::Outbound, Action::Discard))
        .unwrap();
    let b = spd
        .insert(7, policy(ts, PolicyDirection::Outbound, Action::Bypass))
        .unwrap();
    let c = spd
        .insert(3, policy(ts, PolicyDirection::Inbound, Action::Bypass))
        .unwrap();
    let d = spd
        .insert(7, policy(ts, PolicyDirection::Outbound, Action::Bypass))
        .unwrap();
    let order: std::vec::Vec<_> = spd.iter().map(|(id, prio, _)| (id, prio)).collect();
    assert_eq!(order, [(c, 3), (a, 7), (b, 7), (d, 7)]);
    // c is inbound only, so outbound lookups see a first.
    assert_eq!(
        spd.lookup_outbound(&out_tcp(v4(1, 1, 1, 1), v4(2, 2, 2, 2), 1)),
        Decision::Discard
    );
    assert_eq!(spd.priority(b), Some(7));
}

#[test]
fn stale_ids_never_reach_a_newer_policy() {
    let mut spd = Spd::<2>::new();
    let ts = TrafficSelector::any_v4();
    let old = spd
        .insert(1, policy(ts, PolicyDirection::Both, Action::Protect { sa: None }))
        .unwrap();
    assert_eq!(spd.remove(old).unwrap().action, Action::Protect { sa: None });
    let new = spd
        .insert(1, policy(ts, PolicyDirection::Both, Action::Protect { sa: None }))
        .unwrap();
    assert_eq!(new.index(), old.index(), "the slot is reused");
    assert_ne!(new, old);
    assert_eq!(spd.remove(old), Err(SpdError::UnknownPolicy));
    assert_eq!(spd.set_sa(old, Some(SA1)), Err(SpdError::UnknownPolicy));
    assert_eq!(spd.clear_acquire(old), Err(SpdError::UnknownPolicy));
    assert!(spd.get(old).is_none());
    assert_eq!(spd.get(new).unwrap().action, Action::Protect { sa: None });
    assert_eq!(
        spd.set_sa(PolicyId::from_parts(1, 0), None),
        Err(SpdError::UnknownPolicy)
    );
    assert_eq!(
        spd.set_sa(PolicyId::from_parts(900, 0), None),
        Err(SpdError::UnknownPolicy)
    );
    spd.clear();
    assert!(spd.is_empty());
    assert_eq!(spd.remove(new), Err(SpdError::UnknownPolicy));
    let after_clear = spd
        .insert(1, policy(ts, PolicyDirection::Both, Action::Bypass))
        .unwrap();
    assert_ne!(after_clear, new);
}

#[test]
fn a_full_spd_refuses_and_stays_unchanged() {
    let mut spd = Spd::<2>::new();
    let ts = TrafficSelector::any_v4();
    spd.insert(1, policy(ts, PolicyDirection::Both, Action::Bypass))
        .unwrap();
    spd.insert(2, policy(ts, PolicyDirection::Both, Action::Discard))
        .unwrap();
    let before: std::vec::Vec<_> = spd.iter().map(|(i, p, x)| (i, p, *x)).collect();
    assert_eq!(
        spd.insert(0, policy(ts, PolicyDirection::Both, Action::Discard)),
        Err(SpdError::Full)
    );
    let after: std::vec::Vec<_> = spd.iter().map(|(i, p, x)| (i, p, *x)).collect();
    assert_eq!(before, after);
    assert_eq!((spd.len(), spd.capacity()), (2, 2));
    let mut zero = Spd::<0>::new();
    assert_eq!(
        zero.insert(0, policy(ts, PolicyDirection::Both, Action::Bypass)),
        Err(SpdError::Full)
    );
    assert_eq!(
        zero.lookup_outbound(&out_tcp(v4(1, 1, 1, 1), v4(2, 2, 2, 2), 1)),
        Decision::NoPolicy
    );
}

#[test]
fn mixed_family_selectors_are_refused() {
    let mut spd = Spd::<2>::new();
    let bad = TrafficSelector::new(AddrRange::ANY_V4, AddrRange::ANY_V6);
    assert_eq!(
        spd.insert(0, policy(bad, PolicyDirection::Both, Action::Bypass)),
        Err(SpdError::InvalidSelector(SelectorError::FamilyMismatch))
    );
    assert!(spd.is_empty());
}

#[test]
fn acquire_is_reported_once_until_an_sa_is_attached_or_cleared() {
    let mut spd = Spd::<4>::new();
    let id = spd
        .insert(
            0,
            policy(
                TrafficSelector::any_v4(),
                PolicyDirection::Both,
                Action::Protect { sa: None },
            ),
        )
        .unwrap();
    let p = out_tcp(v4(10, 0, 0, 1), v4(10, 0, 0, 2), 22);
    assert_eq!(
        spd.lookup_outbound(&p),
        Decision::Acquire {
            policy: id,
            first: true
        }
    );
    assert!(spd.acquire_pending(id));
    assert_eq!(
        spd.lookup_outbound(&p),
        Decision::Acquire {
            policy: id,
            first: false
        }
    );
    assert_eq!(
        spd.lookup_outbound(&p),
        Decision::Acquire {
            policy: id,
            first: false
        }
    );
    // IKE failed: the driver clears the acquire and the next packet starts IKE again.
    spd.clear_acquire(id).unwrap();
    assert_eq!(
        spd.lookup_outbound(&p),
        Decision::Acquire {
            policy: id,
            first: true
        }
    );
    // IKE succeeded.
    spd.set_sa(id, Some(SA1)).unwrap();
    assert!(!spd.acquire_pending(id));
    assert_eq!(spd.lookup_outbound(&p), Decision::Protect { policy: id, sa: SA1 });
    // Rekeyed: a new SA replaces the old one.
    spd.set_sa(id, Some(SA2)).unwrap();
    assert_eq!(spd.lookup_outbound(&p), Decision::Protect { policy: id, sa: SA2 });
    // The SA expired: detaching it brings back a first acquire.
    assert_eq!(spd.detach_sa(SA1), 0);
    assert_eq!(spd.detach_sa(SA2), 1);
    assert_eq!(
        spd.lookup_outbound(&p),
        Decision::Acquire {
            policy: id,
            first: true
        }
    );
    spd.set_sa(id, None).unwrap();
    assert_eq!(
        spd.lookup_outbound(&p),
        Decision::Acquire {
            policy: id,
            first: true
        }
    );
    // Acquire state is per policy.
    let other = spd
        .insert(
            0,
            policy(
                TrafficSelector::any_v6(),
                PolicyDirection::Both,
                Action::Protect { sa: None },
            ),
        )
        .unwrap();
    let p6 = pkt(
        IpAddr::V6(Ipv6Addr::LOCALHOST),
        IpAddr::V6(Ipv6Addr::LOCALHOST),
        IpProtocol::UDP,
        Transport::Opaque,
        Direction::Outbound,
    );
    assert_eq!(
        spd.lookup_outbound(&p6),
        Decision::Acquire {
            policy: other,
            first: true
        }
    );
}

#[test]
fn sa_only_attaches_to_protect_policies() {
    let mut spd = Spd::<2>::new();
    let bypass = spd
        .insert(
            0,
            policy(TrafficSelector::any_v4(), PolicyDirection::Both, Action::Bypass),
        )
        .unwrap();
    assert_eq!(spd.set_sa(bypass, Some(SA1)), Err(SpdError::NotProtect));
    assert_eq!(spd.get(bypass).unwrap().action, Action::Bypass);
}

#[test]
fn inbound_plaintext_passes_only_bypass() {
    let mut spd = Spd::<8>::new();
    let lan = net(10, 1, 0, 0, 16);
    let peer = net(10, 2, 0, 0, 16);
    // IKE itself must pass in the clear: UDP 500 from anywhere to us.
    let ike = TrafficSelector {
        protocol: Some(IpProtocol::UDP),
        local_ports: PortRange::single(500),
        ..TrafficSelector::any_v4()
    };
    let bypass = spd
        .insert(0, policy(ike, PolicyDirection::Both, Action::Bypass))
        .unwrap();
    let protect = spd
        .insert(
            10,
            policy(
                TrafficSelector::new(lan, peer),
                PolicyDirection::Both,
                Action::Protect { sa: Some(SA1) },
            ),
        )
        .unwrap();
    let out_only = spd
        .insert(
            15,
            policy(
                TrafficSelector::new(lan, net(10, 3, 0, 0, 16)),
                PolicyDirection::Outbound,
                Action::Bypass,
            ),
        )
        .unwrap();
    let discard = spd
        .insert(
            20,
            policy(
                TrafficSelector::new(AddrRange::ANY_V4, net(192, 0, 2, 0, 24)),
                PolicyDirection::Inbound,
                Action::Discard,
            ),
        )
        .unwrap();

    let inb = |local, remote, transport| pkt(local, remote, IpProtocol::UDP, transport, Direction::Inbound);
    // IKE from the peer to our port 500: source port 500 or 4500, destination 500.
    let ike_in = inb(
        v4(10, 1, 0, 1),
        v4(10, 2, 0, 1),
        Transport::Ports { src: 500, dst: 500 },
    );
    assert_eq!(spd.check_inbound_plain(&ike_in), Ok(bypass));
    // Other plaintext from the peer network should have been protected.
    let dns_in = inb(
        v4(10, 1, 0, 1),
        v4(10, 2, 0, 1),
        Transport::Ports { src: 53, dst: 5353 },
    );
    assert_eq!(
        spd.check_inbound_plain(&dns_in),
        Err(PolicyViolation::UnprotectedTraffic { policy: protect })
    );
    // An outbound-only BYPASS does not admit inbound traffic.
    let from3 = inb(v4(10, 1, 0, 1), v4(10, 3, 0, 1), Transport::Opaque);
    assert_eq!(spd.check_inbound_plain(&from3), Err(PolicyViolation::NoPolicy));
    assert!(spd.get(out_only).is_some());
    let from_doc = inb(v4(10, 1, 0, 1), v4(192, 0, 2, 9), Transport::Opaque);
    assert_eq!(
        spd.check_inbound_plain(&from_doc),
        Err(PolicyViolation::Discarded { policy: discard })
    );
    // The inbound lookup reads the packet as inbound even if it was built as outbound.
    let odd = PacketSelector {
        direction: Direction::Outbound,
        ..ike_in
    };
    assert_eq!(spd.check_inbound_plain(&odd), Ok(bypass));
    assert_eq!(spd.lookup_inbound(&dns_in).map(|(id, _)| id), Some(protect));
}

#[test]
fn errors_display() {
    let id = PolicyId::from_parts(3, 1);
    assert_eq!(
        std::format!("{}", PolicyViolation::UnprotectedTraffic { policy: id }),
        "unprotected traffic matches PROTECT policy 3.1"
    );
    assert_eq!(
        std::format!("{}", SpdError::InvalidSelector(SelectorError::HostBitsSet)),
        "invalid selector: address has bits set past the prefix length"
    );
    let e: &dyn core::error::Error = &SpdError::InvalidSelector(SelectorError::SetFull);
    assert!(e.source().is_some());
}
