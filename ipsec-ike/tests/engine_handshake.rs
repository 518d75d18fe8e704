//! IKE_SA_INIT + IKE_AUTH between two engines (RFC 7296 §1.2): PSK, tunnel and transport mode,
//! traffic-selector narrowing on both sides, retransmission and the response cache, Delete.
#![cfg(feature = "rustcrypto")]

mod engine_support;

use std::time::Duration;

use engine_support::*;
use ipsec_core::sa::{Direction, Mode};
use ipsec_ike::config::IpsecMode;
use ipsec_ike::{CloseReason, DeleteReason, Event};

fn up(events: &[Event]) -> usize {
    count(events, |e| matches!(e, Event::IkeSaUp { .. }))
}

#[test]
fn psk_tunnel_handshake_installs_matching_keys() {
    let mut p = Pair::psk(1);
    let sa = p.a.connect(p.now, ipsec_ike::PeerId(0)).unwrap();
    p.run(Duration::from_secs(1));
    assert_eq!(up(&p.a_events), 1, "A: {:?}", p.a_events);
    assert_eq!(up(&p.b_events), 1, "B: {:?}", p.b_events);
    let ia = installs(&p.a_events);
    let ib = installs(&p.b_events);
    assert_eq!((ia.len(), ib.len()), (1, 1));
    let (a, b) = (ia[0], ib[0]);
    assert_eq!(a.ike_sa, sa);
    assert_eq!(a.outbound_spi, b.inbound_spi);
    assert_eq!(a.inbound_spi, b.outbound_spi);
    assert_eq!(a.outbound_keys.as_bytes(), b.inbound_keys.as_bytes());
    assert_eq!(a.inbound_keys.as_bytes(), b.outbound_keys.as_bytes());
    assert_ne!(a.outbound_keys.as_bytes(), a.inbound_keys.as_bytes());
    assert_eq!(a.outbound_keys.len(), 36, "AES-GCM-256 key + salt");
    assert!(a.outbound_active && b.outbound_active);
    assert_eq!(
        a.mode,
        Mode::Tunnel {
            local: A_IP,
            remote: B_IP
        }
    );
    assert_eq!(a.encap, None);
    let (inb, out) = a.sa_params();
    assert_eq!(
        (inb.direction, out.direction),
        (Direction::Inbound, Direction::Outbound)
    );
    assert_eq!(inb.spi, a.inbound_spi);
    assert_eq!(a.selectors.len(), 1);
    let ts = a.selectors.as_slice()[0];
    assert_eq!(ts.local.to_string(), "10.1.0.0/16");
    assert_eq!(ts.remote.to_string(), "10.2.0.0/16");
    // Four IKE messages in all.
    assert_eq!(p.log.len(), 4);
}

#[test]
fn both_sides_narrow_traffic_selectors() {
    // A proposes all of 10.0.0.0/8 <-> anything; B accepts only its /16s and narrows.
    let mut a = peer_a();
    a.children[0].local_ts = vec![net([10, 0, 0, 0], 8)];
    a.children[0].remote_ts = vec![net([0, 0, 0, 0], 0)];
    let mut b = peer_b();
    b.children[0].local_ts = vec![net([10, 2, 3, 0], 24)];
    b.children[0].remote_ts = vec![net([10, 1, 7, 0], 24)];
    let mut p = Pair::new(endpoint(a, 3), endpoint(b, 4));
    p.a.connect(p.now, ipsec_ike::PeerId(0)).unwrap();
    p.run(Duration::from_secs(1));
    let a = installs(&p.a_events)[0];
    let b = installs(&p.b_events)[0];
    let ta = a.selectors.as_slice()[0];
    let tb = b.selectors.as_slice()[0];
    assert_eq!(
        (ta.local.to_string(), ta.remote.to_string()),
        ("10.1.7.0/24".into(), "10.2.3.0/24".into())
    );
    assert_eq!(
        (tb.local.to_string(), tb.remote.to_string()),
        ("10.2.3.0/24".into(), "10.1.7.0/24".into())
    );
}

#[test]
fn disjoint_selectors_fail_the_child_but_not_the_ike_sa() {
    let mut b = peer_b();
    b.children[0].remote_ts = vec![net([172, 16, 0, 0], 16)];
    let mut p = Pair::new(endpoint(peer_a(), 5), endpoint(b, 6));
    p.a.connect(p.now, ipsec_ike::PeerId(0)).unwrap();
    p.run(Duration::from_secs(1));
    assert_eq!(up(&p.a_events), 1);
    assert!(installs(&p.a_events).is_empty() && installs(&p.b_events).is_empty());
    assert!(p.a_events.iter().any(|e| matches!(
        e,
        Event::Warning(ipsec_ike::Warning::ChildSaFailed { notify, .. })
            if *notify == ipsec_ike::message::NotifyType::TS_UNACCEPTABLE
    )));
}

#[test]
fn transport_mode_with_dynamic_selectors() {
    let mut a = peer_a();
    a.children[0].mode = IpsecMode::Transport;
    a.children[0].local_ts.clear();
    a.children[0].remote_ts.clear();
    let mut b = peer_b();
    b.children[0].mode = IpsecMode::Transport;
    b.children[0].local_ts.clear();
    b.children[0].remote_ts.clear();
    let mut p = Pair::new(endpoint(a, 7), endpoint(b, 8));
    p.a.connect(p.now, ipsec_ike::PeerId(0)).unwrap();
    p.run(Duration::from_secs(1));
    let a = installs(&p.a_events)[0];
    let b = installs(&p.b_events)[0];
    assert_eq!((a.mode, b.mode), (Mode::Transport, Mode::Transport));
    let ts = a.selectors.as_slice()[0];
    assert_eq!(
        (ts.local.to_string(), ts.remote.to_string()),
        ("192.0.2.1/32".into(), "192.0.2.2/32".into())
    );
}

#[test]
fn tunnel_responder_refuses_transport_only_initiator_gets_no_child() {
    // Initiator insists on transport; responder only does tunnel: the reply lacks
    // USE_TRANSPORT_MODE and the initiator refuses the child (RFC 7296 §1.3.1).
    let mut a = peer_a();
    a.children[0].mode = IpsecMode::Transport;
    let mut p = Pair::new(endpoint(a, 9), endpoint(peer_b(), 10));
    p.a.connect(p.now, ipsec_ike::PeerId(0)).unwrap();
    p.run(Duration::from_secs(1));
    assert_eq!(up(&p.a_events), 1);
    assert!(installs(&p.a_events).is_empty());
}

#[test]
fn lost_responses_are_answered_from_the_cache() {
    let mut p = Pair::psk(11);
    p.a.connect(p.now, ipsec_ike::PeerId(0)).unwrap();
    // Drop B's first IKE_SA_INIT response and first IKE_AUTH response.
    let mut dropped = 0;
    p.run_with(
        |w| {
            if !w.from_a && dropped < 2 && (w.t.ike_message()[18] == 34 || w.t.ike_message()[18] == 35) {
                let first_of_kind = dropped == 0 && w.t.ike_message()[18] == 34
                    || dropped == 1 && w.t.ike_message()[18] == 35;
                if first_of_kind {
                    dropped += 1;
                    return false;
                }
            }
            true
        },
        Duration::from_secs(60),
    );
    assert_eq!(dropped, 2);
    assert_eq!(up(&p.a_events), 1);
    assert_eq!(up(&p.b_events), 1);
    assert_eq!(
        installs(&p.b_events).len(),
        1,
        "B must not create a second CHILD SA"
    );
    // A retransmitted twice (4 s each); B answered both retransmissions from its cache.
    let from_a = p.log.iter().filter(|w| w.from_a).count();
    let from_b = p.log.iter().filter(|w| !w.from_a).count();
    assert_eq!((from_a, from_b), (4, 4));
    assert_eq!(p.now.as_micros(), 8_000_000);
}

#[test]
fn close_deletes_everything_on_both_sides() {
    let mut p = Pair::psk(12);
    let sa = p.a.connect(p.now, ipsec_ike::PeerId(0)).unwrap();
    p.run(Duration::from_secs(1));
    p.a.close(p.now, sa);
    p.run(Duration::from_secs(1));
    let a_child = installs(&p.a_events)[0].child;
    assert!(p.a_events.iter().any(
        |e| matches!(e, Event::ChildSaDelete { child, reason: DeleteReason::Closed, .. } if *child == a_child)
    ));
    assert!(p.a_events.iter().any(|e| matches!(
        e,
        Event::IkeSaDown {
            reason: CloseReason::Closed,
            ..
        }
    )));
    assert!(p.b_events.iter().any(|e| matches!(
        e,
        Event::ChildSaDelete {
            reason: DeleteReason::DeletedByPeer,
            ..
        }
    )));
    assert!(p.b_events.iter().any(|e| matches!(
        e,
        Event::IkeSaDown {
            reason: CloseReason::DeletedByPeer,
            ..
        }
    )));
    assert_eq!((p.a.ike_sa_count(), p.b.ike_sa_count()), (0, 0));
    assert!(p.a.poll_timeout().is_none() && p.b.poll_timeout().is_none());
}

#[test]
fn unanswered_initiator_gives_up_after_the_strongswan_schedule() {
    let mut p = Pair::psk(13);
    p.a.connect(p.now, ipsec_ike::PeerId(0)).unwrap();
    p.run_with(|w| !w.from_a, Duration::from_secs(600));
    let sent = p.log.iter().filter(|w| w.from_a).count();
    assert_eq!(sent, 6, "first send and 5 retransmissions");
    assert!(p.a_events.iter().any(|e| matches!(
        e,
        Event::IkeSaDown {
            reason: CloseReason::Timeout { .. },
            ..
        }
    )));
    assert_eq!(p.now.as_micros() / 100_000, 1650);
    assert_eq!(p.a.ike_sa_count(), 0);
}
