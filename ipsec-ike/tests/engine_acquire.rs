//! CHILD SAs started by traffic (an SPD acquire, `auto=route`) and the restart of every CHILD
//! SA after DPD: `Endpoint::acquire` reuses the peer's IKE SA, proposes the triggering packet
//! first (RFC 7296 §2.9), and the responder prefers the child configuration that covers it.
#![cfg(feature = "rustcrypto")]

mod engine_support;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use engine_support::*;
use ipsec_core::sa::Direction;
use ipsec_core::selector::PacketSelector;
use ipsec_core::wire::{IpProtocol, Transport};
use ipsec_ike::config::{ChildConfig, ChildConfigId, DpdAction};
use ipsec_ike::{ChildSaInstall, ConnectError, Event, PeerId};

fn v4(a: [u8; 4]) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(a))
}

/// A TCP packet from `src`:40000 to `dst`:443 leaving A.
fn tcp_packet(src: [u8; 4], dst: [u8; 4]) -> PacketSelector {
    PacketSelector {
        local: v4(src),
        remote: v4(dst),
        protocol: IpProtocol(6),
        transport: Transport::Ports { src: 40000, dst: 443 },
        direction: Direction::Outbound,
    }
}

fn covers(i: &ChildSaInstall, local: [u8; 4], remote: [u8; 4]) -> bool {
    i.selectors
        .as_slice()
        .iter()
        .any(|ts| ts.local.contains(v4(local)) && ts.remote.contains(v4(remote)))
}

/// A proposes 10.1.0.0/16 <-> 10.2.0.0/16; B has two narrower configurations for it,
/// 10.2.0.0/24 first and 10.2.5.0/24 second.
fn narrowing_pair(seed: u64) -> Pair {
    let mut b = peer_b();
    b.children = vec![
        ChildConfig::tunnel(
            "first",
            vec![net([10, 2, 0, 0], 24)],
            vec![net([10, 1, 0, 0], 16)],
        ),
        ChildConfig::tunnel(
            "second",
            vec![net([10, 2, 5, 0], 24)],
            vec![net([10, 1, 0, 0], 16)],
        ),
    ];
    Pair::new(endpoint(peer_a(), seed), endpoint(b, seed + 1000))
}

#[test]
fn the_triggering_packet_picks_the_responders_configuration() {
    // Without a trigger B narrows to its first configuration, which misses 10.2.5.9.
    let mut p = narrowing_pair(1);
    p.a.connect(p.now, PeerId(0)).unwrap();
    p.run(Duration::from_secs(1));
    let a = installs(&p.a_events);
    assert_eq!(a.len(), 1, "{:?}", p.a_events);
    assert!(!covers(a[0], [10, 1, 0, 5], [10, 2, 5, 9]));
    assert_eq!(installs(&p.b_events)[0].config, ChildConfigId(0));

    // With the packet proposed first, B picks the configuration that carries it.
    let mut p = narrowing_pair(2);
    let packet = tcp_packet([10, 1, 0, 5], [10, 2, 5, 9]);
    p.a.acquire(p.now, PeerId(0), ChildConfigId(0), Some(&packet))
        .unwrap();
    p.run(Duration::from_secs(1));
    let a = installs(&p.a_events);
    assert_eq!(a.len(), 1, "{:?}", p.a_events);
    assert!(covers(a[0], [10, 1, 0, 5], [10, 2, 5, 9]));
    let b = installs(&p.b_events);
    assert_eq!(b[0].config, ChildConfigId(1));
    // Narrowed to the configured subnets: the packet's own selector, inside them, is not kept
    // as a selector of its own.
    let ts: Vec<String> = a[0]
        .selectors
        .as_slice()
        .iter()
        .map(|t| format!("{} {}", t.local, t.remote))
        .collect();
    assert_eq!(ts, ["10.1.0.0/16 10.2.5.0/24"]);
    assert_eq!(a[0].outbound_keys.as_bytes(), b[0].inbound_keys.as_bytes());
}

/// A and B with two child configurations: 10.1/16 <-> 10.2/16 and 10.1/16 <-> 10.3/16.
fn two_child_pair(seed: u64) -> Pair {
    let mut a = peer_a();
    a.children.push(ChildConfig::tunnel(
        "more",
        vec![net([10, 1, 0, 0], 16)],
        vec![net([10, 3, 0, 0], 16)],
    ));
    let mut b = peer_b();
    b.children.push(ChildConfig::tunnel(
        "more",
        vec![net([10, 3, 0, 0], 16)],
        vec![net([10, 1, 0, 0], 16)],
    ));
    Pair::new(endpoint(a, seed), endpoint(b, seed + 1000))
}

#[test]
fn acquires_reuse_the_ike_sa_and_are_not_repeated() {
    let mut p = two_child_pair(3);
    let packet = tcp_packet([10, 1, 0, 5], [10, 3, 0, 7]);
    // A burst of acquires for the second configuration: one IKE SA, one CHILD SA.
    let sa =
        p.a.acquire(p.now, PeerId(0), ChildConfigId(1), Some(&packet))
            .unwrap();
    for _ in 0..3 {
        assert_eq!(
            p.a.acquire(p.now, PeerId(0), ChildConfigId(1), Some(&packet)),
            Ok(sa)
        );
    }
    // An acquire for the first configuration while IKE_SA_INIT is out waits for IKE_AUTH.
    let other = tcp_packet([10, 1, 0, 5], [10, 2, 0, 7]);
    assert_eq!(
        p.a.acquire(p.now, PeerId(0), ChildConfigId(0), Some(&other)),
        Ok(sa)
    );
    p.run(Duration::from_secs(1));
    assert_eq!(p.a.ike_sa_count(), 1);
    let a = installs(&p.a_events);
    assert_eq!(a.len(), 2, "{:?}", p.a_events);
    assert_eq!(
        a[0].config,
        ChildConfigId(1),
        "the acquired child goes in IKE_AUTH"
    );
    assert!(covers(a[0], [10, 1, 0, 5], [10, 3, 0, 7]));
    assert_eq!(a[1].config, ChildConfigId(0));
    assert!(covers(a[1], [10, 1, 0, 5], [10, 2, 0, 7]));
    assert!(a.iter().all(|i| i.ike_sa == sa));
    assert_eq!(installs(&p.b_events).len(), 2);

    // Once both exist, further acquires change nothing.
    let sent = p.log.len();
    assert_eq!(
        p.a.acquire(p.now, PeerId(0), ChildConfigId(0), Some(&other)),
        Ok(sa)
    );
    assert_eq!(p.a.acquire(p.now, PeerId(0), ChildConfigId(1), None), Ok(sa));
    p.settle();
    assert_eq!(p.log.len(), sent);
    assert_eq!(installs(&p.a_events).len(), 2);

    // Unknown configurations are refused.
    assert_eq!(
        p.a.acquire(p.now, PeerId(0), ChildConfigId(2), None),
        Err(ConnectError::UnknownChildConfig)
    );
    assert_eq!(
        p.a.acquire(p.now, PeerId(7), ChildConfigId(0), None),
        Err(ConnectError::UnknownPeer)
    );
}

#[test]
fn dpd_restart_brings_back_every_child_sa() {
    let mut p = two_child_pair(5);
    let mut a_peer = peer_a();
    a_peer.children = p.a.config().peers[0].children.clone();
    a_peer.dpd.delay = Some(Duration::from_secs(10));
    a_peer.dpd.timeout = Duration::from_secs(30);
    a_peer.dpd.action = DpdAction::Restart;
    p.a = endpoint(a_peer, 5);
    let sa = p.a.connect(p.now, PeerId(0)).unwrap();
    p.run(Duration::from_secs(1));
    p.a.create_child_sa(p.now, sa, ChildConfigId(1)).unwrap();
    p.run(Duration::from_secs(1));
    assert_eq!(installs(&p.a_events).len(), 2);

    // The network drops everything for a minute: A's liveness check fails (10 s idle + 30 s)
    // and it restarts; once the network is back, the new IKE SA brings both CHILD SAs.
    p.run_with(|_| false, Duration::from_secs(60));
    let downs = count(
        &p.a_events,
        |e| matches!(e, Event::IkeSaDown { sa: s, .. } if *s == sa),
    );
    assert_eq!(downs, 1, "{:?}", p.a_events);
    assert_eq!(p.a.ike_sa_count(), 1, "the restarted IKE SA");
    p.run(Duration::from_secs(120));
    let fresh: Vec<_> = installs(&p.a_events)
        .into_iter()
        .filter(|i| i.ike_sa != sa)
        .collect();
    let mut configs: Vec<_> = fresh.iter().map(|i| i.config).collect();
    configs.sort();
    assert_eq!(configs, [ChildConfigId(0), ChildConfigId(1)], "{:?}", p.a_events);
}
