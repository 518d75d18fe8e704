//! Configuration payload in IKE_AUTH (RFC 7296 §2.19, §3.15): the initiator asks for an internal
//! address, the responder leases one from its pool, and both sides build the CHILD SA's
//! selectors from it; a lease goes back to the pool when its IKE SA ends.
#![cfg(feature = "rustcrypto")]

mod engine_support;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use engine_support::*;
use ipsec_core::selector::AddrRange;
use ipsec_ike::config::{AddressPool, ChildConfig};
use ipsec_ike::{Event, PeerId};

const POOL_START: Ipv4Addr = Ipv4Addr::new(10, 3, 0, 1);
const POOL_END: Ipv4Addr = Ipv4Addr::new(10, 3, 0, 14);

/// A road warrior: asks for a virtual IP, its own selector is "dynamic" (the virtual IP).
fn road_warrior() -> ipsec_ike::config::PeerConfig {
    let mut p = peer_a();
    p.request_virtual_ip = true;
    p.children = vec![ChildConfig::tunnel("net", vec![], vec![net([10, 2, 0, 0], 16)])];
    p
}

/// The gateway: hands out 10.3.0.1-10.3.0.14 and a DNS server; the peer's selector is dynamic.
fn gateway() -> ipsec_ike::config::PeerConfig {
    let mut p = peer_b();
    p.address_pool = Some(AddressPool {
        range: AddrRange::new(IpAddr::V4(POOL_START), IpAddr::V4(POOL_END)).unwrap(),
        dns: vec![IpAddr::V4(Ipv4Addr::new(10, 2, 0, 53))],
    });
    p.children = vec![ChildConfig::tunnel("net", vec![net([10, 2, 0, 0], 16)], vec![])];
    p
}

fn virtual_ips(events: &[Event]) -> Vec<Option<IpAddr>> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::IkeSaUp { virtual_ip, .. } => Some(*virtual_ip),
            _ => None,
        })
        .collect()
}

fn host(a: Ipv4Addr) -> AddrRange {
    AddrRange::from_prefix(IpAddr::V4(a), 32).unwrap()
}

#[test]
fn initiator_gets_an_address_from_the_pool_and_both_selectors_use_it() {
    let mut p = Pair::new(endpoint(road_warrior(), 31), endpoint(gateway(), 1031));
    p.a.connect(p.now, PeerId(0)).unwrap();
    p.run(Duration::from_secs(1));

    assert_eq!(
        virtual_ips(&p.a_events),
        [Some(IpAddr::V4(POOL_START))],
        "{:?}",
        p.a_events
    );
    // The DNS server the gateway's pool carries comes with the address.
    let dns: Vec<&Vec<IpAddr>> = p
        .a_events
        .iter()
        .filter_map(|e| match e {
            Event::IkeSaUp { dns, .. } => Some(dns),
            _ => None,
        })
        .collect();
    assert_eq!(dns, [&vec![IpAddr::V4(Ipv4Addr::new(10, 2, 0, 53))]]);
    assert_eq!(
        virtual_ips(&p.b_events),
        [None],
        "the responder asked for nothing"
    );
    let (ia, ib) = (installs(&p.a_events), installs(&p.b_events));
    assert_eq!((ia.len(), ib.len()), (1, 1));
    let (a, b) = (ia[0].selectors.as_slice(), ib[0].selectors.as_slice());
    assert_eq!(a.len(), 1);
    assert_eq!(b.len(), 1);
    // A's side of the tunnel is exactly its virtual IP, on both ends.
    assert_eq!(a[0].local, host(POOL_START));
    assert_eq!(b[0].remote, host(POOL_START));
    assert_eq!(a[0].remote.to_string(), "10.2.0.0/16");
    assert_eq!(b[0].local.to_string(), "10.2.0.0/16");
    assert_eq!(ia[0].outbound_keys.as_bytes(), ib[0].inbound_keys.as_bytes());
}

#[test]
fn a_closed_sa_returns_its_address_and_a_live_one_keeps_it() {
    let mut p = Pair::new(endpoint(road_warrior(), 32), endpoint(gateway(), 1032));
    let first = p.a.connect(p.now, PeerId(0)).unwrap();
    p.run(Duration::from_secs(1));
    // A second IKE SA while the first one lives gets the next address.
    p.a.connect(p.now, PeerId(0)).unwrap();
    p.run(Duration::from_secs(1));
    let second = IpAddr::V4(Ipv4Addr::new(10, 3, 0, 2));
    assert_eq!(
        virtual_ips(&p.a_events),
        [Some(IpAddr::V4(POOL_START)), Some(second)],
        "{:?}",
        p.a_events
    );
    // Closing the first returns 10.3.0.1 to the pool: the next IKE SA gets it again.
    p.a.close(p.now, first);
    p.run(Duration::from_secs(1));
    p.a.connect(p.now, PeerId(0)).unwrap();
    p.run(Duration::from_secs(1));
    assert_eq!(
        virtual_ips(&p.a_events).last(),
        Some(&Some(IpAddr::V4(POOL_START))),
        "{:?}",
        p.a_events
    );
}

#[test]
fn a_subnet_pool_leaves_out_the_network_and_broadcast_addresses() {
    let v4 = |a: [u8; 4]| IpAddr::V4(Ipv4Addr::from(a));
    let pool = AddressPool::subnet(v4([10, 3, 0, 0]), 24, vec![]).unwrap();
    assert_eq!(
        pool.range,
        AddrRange::new(v4([10, 3, 0, 1]), v4([10, 3, 0, 254])).unwrap()
    );
    let pool = AddressPool::subnet(v4([10, 3, 0, 4]), 30, vec![]).unwrap();
    assert_eq!(
        pool.range,
        AddrRange::new(v4([10, 3, 0, 5]), v4([10, 3, 0, 6])).unwrap()
    );
    // /31 (RFC 3021) and /32 have no network or broadcast address to leave out.
    let pool = AddressPool::subnet(v4([10, 3, 0, 4]), 31, vec![]).unwrap();
    assert_eq!(pool.range.to_string(), "10.3.0.4/31");
    let v6: IpAddr = "2001:db8:1::".parse().unwrap();
    let pool = AddressPool::subnet(v6, 64, vec![]).unwrap();
    assert_eq!(pool.range.start(), "2001:db8:1::1".parse::<IpAddr>().unwrap());
    assert_eq!(
        pool.range.end(),
        "2001:db8:1::ffff:ffff:ffff:ffff".parse::<IpAddr>().unwrap()
    );
    assert!(
        AddressPool::subnet(v4([10, 3, 0, 1]), 24, vec![]).is_err(),
        "host bits set"
    );
    assert!(AddressPool::subnet(v4([10, 3, 0, 0]), 33, vec![]).is_err());

    // The engine hands out .5 first from 10.3.0.4/30.
    let mut gw = gateway();
    gw.address_pool = Some(AddressPool::subnet(v4([10, 3, 0, 4]), 30, vec![]).unwrap());
    let mut p = Pair::new(endpoint(road_warrior(), 33), endpoint(gw, 1033));
    p.a.connect(p.now, PeerId(0)).unwrap();
    p.run(Duration::from_secs(1));
    assert_eq!(
        virtual_ips(&p.a_events),
        [Some(v4([10, 3, 0, 5]))],
        "{:?}",
        p.a_events
    );
}
