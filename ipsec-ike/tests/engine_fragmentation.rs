//! RFC 7383 IKE fragmentation between two engines: when both announce support, protected
//! messages larger than the configured packet size leave as SKF fragments that each fit, the
//! peer reassembles them, and a lost fragment is recovered by retransmission.
#![cfg(feature = "rustcrypto")]

mod engine_support;

use std::time::Duration;

use engine_support::*;
use ipsec_ike::{Event, PeerId};

/// A packet size that forces IKE_AUTH (about 200-250 bytes) into several fragments.
const MAX_PACKET: usize = 160;
/// IPv4 + UDP headers, and the non-ESP marker on port 4500.
const IP_UDP: usize = 28;
const MARKER: usize = 4;
const SKF: u8 = 53;
const IKE_AUTH: u8 = 35;

fn small(mut p: ipsec_ike::config::PeerConfig) -> ipsec_ike::config::PeerConfig {
    p.fragmentation.max_packet = MAX_PACKET;
    p
}

fn pair(seed: u64) -> Pair {
    Pair::new(
        endpoint(small(peer_a()), seed),
        endpoint(small(peer_b()), seed + 1000),
    )
}

fn first_payload(w: &Wire) -> u8 {
    w.t.ike_message()[16]
}

fn exchange(w: &Wire) -> u8 {
    w.t.ike_message()[18]
}

/// Fragment number of an SKF message (RFC 7383 §2.5: after the generic payload header).
fn fragment_number(w: &Wire) -> u16 {
    let m = w.t.ike_message();
    u16::from_be_bytes([m[32], m[33]])
}

fn up(events: &[Event]) -> usize {
    count(events, |e| matches!(e, Event::IkeSaUp { .. }))
}

#[test]
fn ike_auth_is_fragmented_to_fit_and_reassembled() {
    let mut p = pair(41);
    p.a.connect(p.now, PeerId(0)).unwrap();
    p.run(Duration::from_secs(1));
    assert_eq!((up(&p.a_events), up(&p.b_events)), (1, 1));
    let ia = installs(&p.a_events);
    let ib = installs(&p.b_events);
    assert_eq!(ia[0].outbound_keys.as_bytes(), ib[0].inbound_keys.as_bytes());

    let auth: Vec<&Wire> = p.log.iter().filter(|w| exchange(w) == IKE_AUTH).collect();
    let from_a = auth.iter().filter(|w| w.from_a).count();
    let from_b = auth.len() - from_a;
    assert!(
        from_a >= 2 && from_b >= 2,
        "both IKE_AUTH messages fragmented: {from_a} + {from_b}"
    );
    for w in &auth {
        assert_eq!(
            first_payload(w),
            SKF,
            "every IKE_AUTH datagram is an SKF fragment"
        );
        // The non-ESP marker precedes the message on port 4500 (RFC 3948 §2.2).
        let marker = if w.t.local.port() == 4500 { MARKER } else { 0 };
        let on_wire = w.t.ike_message().len() + IP_UDP + marker;
        assert!(
            on_wire <= MAX_PACKET,
            "a fragment of {on_wire} bytes exceeds {MAX_PACKET}"
        );
    }
    // IKE_SA_INIT is never fragmented (RFC 7383 §2.5.1).
    assert!(
        p.log
            .iter()
            .filter(|w| exchange(w) == 34)
            .all(|w| first_payload(w) != SKF)
    );
}

#[test]
fn a_lost_fragment_is_recovered_by_retransmission() {
    let mut p = pair(42);
    p.a.connect(p.now, PeerId(0)).unwrap();
    let mut dropped = 0;
    p.run_with(
        |w| {
            let lose = w.from_a && exchange(w) == IKE_AUTH && fragment_number(w) == 2 && dropped == 0;
            if lose {
                dropped += 1;
            }
            !lose
        },
        Duration::from_secs(30),
    );
    assert_eq!(dropped, 1);
    assert_eq!((up(&p.a_events), up(&p.b_events)), (1, 1), "{:?}", p.b_events);
    // The whole request went out again: fragment 1 was sent at least twice.
    let first_fragments = p
        .log
        .iter()
        .filter(|w| w.from_a && exchange(w) == IKE_AUTH && fragment_number(w) == 1)
        .count();
    assert!(first_fragments >= 2);
}

#[test]
fn without_the_peers_support_nothing_is_fragmented() {
    let mut b = small(peer_b());
    b.fragmentation.enabled = false;
    let mut p = Pair::new(endpoint(small(peer_a()), 43), endpoint(b, 1043));
    p.a.connect(p.now, PeerId(0)).unwrap();
    p.run(Duration::from_secs(1));
    assert_eq!((up(&p.a_events), up(&p.b_events)), (1, 1));
    assert!(p.log.iter().all(|w| first_payload(w) != SKF));
}
