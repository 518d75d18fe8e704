//! CREATE_CHILD_SA between two engines (RFC 7296 §1.3, §2.8, §2.18): CHILD SA rekey keys and
//! ordering, tampered rekey messages changing nothing, hard lifetimes, IKE SA rekey with CHILD
//! SA inheritance.
#![cfg(feature = "rustcrypto")]

mod engine_support;

use std::time::Duration;

use engine_support::*;
use ipsec_ike::endpoint::IkeSaState;
use ipsec_ike::message::{ExchangeType, HeaderView};
use ipsec_ike::{CloseReason, DeleteReason, Event, PeerId};

fn established() -> Pair {
    let mut p = Pair::psk(7);
    p.a.connect(p.now, PeerId(0)).unwrap();
    p.run(Duration::from_secs(1));
    assert_eq!(installs(&p.a_events).len(), 1);
    assert_eq!(installs(&p.b_events).len(), 1);
    p
}

fn exchange_of(w: &Wire) -> ExchangeType {
    HeaderView::new_checked(w.t.ike_message())
        .unwrap()
        .exchange_type()
}

/// Truncations and single bit flips of `w` (header, SK payload, ICV).
fn corruptions(w: &Wire) -> Vec<Wire> {
    let len = w.t.payload.len();
    let mut out = Vec::new();
    for cut in [len - 1, len / 2, 40, 28] {
        let mut c = w.clone();
        c.t.payload.truncate(cut);
        out.push(c);
    }
    for at in [17, 20, 30, len / 2, len - 20, len - 1] {
        let mut c = w.clone();
        c.t.payload[at] ^= 0x10;
        out.push(c);
    }
    out
}

#[test]
fn child_rekey_installs_mirrored_keys_and_deletes_the_old_sa_after() {
    let mut p = established();
    let old_a = installs(&p.a_events)[0].child;
    let old_b = installs(&p.b_events)[0].child;
    p.a.rekey_child_sa(p.now, old_a).unwrap();
    p.run(Duration::from_secs(1));
    let (ia, ib) = (installs(&p.a_events), installs(&p.b_events));
    assert_eq!((ia.len(), ib.len()), (2, 2));
    let (na, nb) = (ia[1], ib[1]);
    assert_eq!(na.rekey_of, Some(old_a));
    assert_eq!(nb.rekey_of, Some(old_b));
    assert_eq!(na.outbound_spi, nb.inbound_spi);
    assert_eq!(na.inbound_spi, nb.outbound_spi);
    assert_eq!(na.outbound_keys.as_bytes(), nb.inbound_keys.as_bytes());
    assert_eq!(na.inbound_keys.as_bytes(), nb.outbound_keys.as_bytes());
    // New keys, not the old ones again.
    assert_ne!(na.outbound_keys.as_bytes(), ia[0].outbound_keys.as_bytes());
    // The initiator sends on the new SA at once; the responder after the old SA's Delete.
    assert!(na.outbound_active);
    assert!(!nb.outbound_active);
    let b_order: Vec<&str> = p
        .b_events
        .iter()
        .filter_map(|e| match e {
            Event::ChildSaInstall(i) if i.rekey_of.is_some() => Some("install"),
            Event::ChildSaActivate { child, .. } if *child == nb.child => Some("activate"),
            Event::ChildSaDelete { child, .. } if *child == old_b => Some("delete"),
            _ => None,
        })
        .collect();
    assert_eq!(b_order, ["install", "activate", "delete"]);
    assert!(p.a_events.iter().any(|e| matches!(
        e,
        Event::ChildSaDelete { child, reason: DeleteReason::Rekeyed, .. } if *child == old_a
    )));
    assert_eq!(p.a.ike_sas().count(), 1);
    let sa = p.a.ike_sas().next().unwrap();
    assert_eq!(p.a.child_sas(sa), vec![na.child]);
}

#[test]
fn tampered_rekey_request_and_response_change_nothing() {
    let mut p = established();
    let old_a = installs(&p.a_events)[0].child;
    p.a.rekey_child_sa(p.now, old_a).unwrap();
    p.drain();
    let request = p.wire.pop_front().unwrap();
    assert_eq!(exchange_of(&request), ExchangeType::CREATE_CHILD_SA);
    let b_events = p.b_events.len();
    for bad in corruptions(&request) {
        let r = p.deliver(bad);
        assert!(matches!(r, Some(Err(_))), "{r:?}");
        assert_eq!(p.b_events.len(), b_events, "no event from a broken request");
        assert!(p.wire.is_empty(), "no answer to a broken request");
    }
    assert_eq!(p.deliver(request), Some(Ok(())));
    let response = p.wire.pop_front().unwrap();
    assert_eq!(installs(&p.b_events).len(), 2);
    let a_events = p.a_events.len();
    for bad in corruptions(&response) {
        let r = p.deliver(bad);
        assert!(matches!(r, Some(Err(_))), "{r:?}");
        assert_eq!(p.a_events.len(), a_events, "no event from a broken response");
        assert!(p.wire.is_empty());
    }
    assert_eq!(p.deliver(response), Some(Ok(())));
    assert_eq!(installs(&p.a_events).len(), 2);
    p.run(Duration::from_secs(1));
    assert_eq!(p.a.child_sas(p.a.ike_sas().next().unwrap()).len(), 1);
    assert_eq!(p.b.child_sas(p.b.ike_sas().next().unwrap()).len(), 1);
}

#[test]
fn soft_lifetime_rekeys_and_hard_lifetime_removes_at_once() {
    let mut a_cfg = peer_a();
    a_cfg.children[0].lifetime.rekey_time = Some(Duration::from_secs(10));
    a_cfg.children[0].lifetime.life_time = Some(Duration::from_secs(20));
    let mut p = Pair::new(endpoint(a_cfg, 3), endpoint(peer_b(), 4));
    p.a.connect(p.now, PeerId(0)).unwrap();
    p.run(Duration::from_secs(1));
    let first = installs(&p.a_events)[0].child;
    // Soft limit: A rekeys by itself.
    p.run(Duration::from_secs(11));
    assert_eq!(installs(&p.a_events).len(), 2, "{:?}", p.a_events);
    assert_eq!(installs(&p.a_events)[1].rekey_of, Some(first));
    // The peer goes silent: the next rekey cannot finish, yet the hard limit removes the CHILD
    // SA when it is due, not when the exchange in flight gives up.
    let second = installs(&p.a_events)[1].child;
    let before = p.a_events.len();
    p.run_with(|_| false, Duration::from_secs(25));
    let deleted = p.a_events[before..].iter().find_map(|e| match e {
        Event::ChildSaDelete { child, reason, .. } => Some((*child, *reason)),
        _ => None,
    });
    assert_eq!(deleted, Some((second, DeleteReason::Expired)), "{:?}", p.a_events);
    assert!(
        !p.a_events[before..]
            .iter()
            .any(|e| matches!(e, Event::IkeSaDown { .. })),
        "the IKE SA is still waiting for its peer"
    );
}

#[test]
fn ike_rekey_keeps_the_child_sas_and_retires_the_old_sa() {
    let mut p = established();
    let old = p.a.ike_sas().next().unwrap();
    let child_a = installs(&p.a_events)[0].child;
    let child_b = installs(&p.b_events)[0].child;
    p.a.rekey_ike_sa(p.now, old).unwrap();
    p.run(Duration::from_secs(1));
    for (events, ep, child) in [(&p.a_events, &p.a, child_a), (&p.b_events, &p.b, child_b)] {
        let rekeyed = events.iter().find_map(|e| match e {
            Event::IkeSaRekeyed { old, new } => Some((*old, *new)),
            _ => None,
        });
        let (old, new) = rekeyed.expect("IkeSaRekeyed");
        assert!(events.iter().any(|e| matches!(
            e,
            Event::IkeSaDown { sa, reason: CloseReason::Rekeyed, .. } if *sa == old
        )));
        assert!(!events.iter().any(|e| matches!(e, Event::ChildSaDelete { .. })));
        assert_eq!(installs(events).len(), 1, "CHILD SAs are not installed again");
        assert_eq!(ep.ike_sas().collect::<Vec<_>>(), vec![new]);
        assert_eq!(ep.ike_sa_state(new), Some(IkeSaState::Established));
        assert_eq!(ep.child_sas(new), vec![child]);
        assert_eq!(ep.ike_sa_of(child), Some(new));
    }
    // The new SA works: a CHILD SA rekey over it.
    p.a.rekey_child_sa(p.now, child_a).unwrap();
    p.run(Duration::from_secs(1));
    assert_eq!(installs(&p.a_events).len(), 2);
    assert_eq!(installs(&p.b_events).len(), 2);
}

#[test]
fn tampered_ike_rekey_request_changes_nothing() {
    let mut p = established();
    let old = p.a.ike_sas().next().unwrap();
    p.a.rekey_ike_sa(p.now, old).unwrap();
    p.drain();
    let request = p.wire.pop_front().unwrap();
    let b_events = p.b_events.len();
    for bad in corruptions(&request) {
        assert!(matches!(p.deliver(bad), Some(Err(_))));
        assert_eq!(p.b_events.len(), b_events);
        assert_eq!(p.b.ike_sa_count(), 1);
        assert!(p.wire.is_empty());
    }
    assert_eq!(p.deliver(request), Some(Ok(())));
    assert_eq!(
        p.b.ike_sa_count(),
        2,
        "new SA created, old one waits for its Delete"
    );
    p.run(Duration::from_secs(1));
    assert_eq!(p.a.ike_sa_count(), 1);
    assert_eq!(p.b.ike_sa_count(), 1);
}

#[test]
fn replayed_rekey_request_gets_the_cached_answer_and_no_second_sa() {
    let mut p = established();
    let old_a = installs(&p.a_events)[0].child;
    p.a.rekey_child_sa(p.now, old_a).unwrap();
    p.drain();
    let request = p.wire.pop_front().unwrap();
    assert_eq!(p.deliver(request.clone()), Some(Ok(())));
    let first = p.wire.pop_front().unwrap();
    assert_eq!(installs(&p.b_events).len(), 2);
    // The same request again (a retransmission or a replay): the same bytes back, nothing new.
    assert_eq!(p.deliver(request), Some(Ok(())));
    let again = p.wire.pop_front().unwrap();
    assert_eq!(again.t.payload, first.t.payload);
    assert_eq!(installs(&p.b_events).len(), 2);
    // Its answer twice: the second is outside the window and changes nothing.
    assert_eq!(p.deliver(first), Some(Ok(())));
    let events = p.a_events.len();
    assert!(matches!(p.deliver(again), Some(Err(_))));
    assert_eq!(p.a_events.len(), events);
    p.run(Duration::from_secs(1));
    assert_eq!(installs(&p.a_events).len(), 2);
}

#[test]
fn create_child_sa_adds_a_second_child_on_both_sides() {
    let mut a_cfg = peer_a();
    let mut b_cfg = peer_b();
    a_cfg.children.push(ipsec_ike::ChildConfig::tunnel(
        "lab",
        vec![net([10, 3, 0, 0], 16)],
        vec![net([10, 4, 0, 0], 16)],
    ));
    b_cfg.children.push(ipsec_ike::ChildConfig::tunnel(
        "lab",
        vec![net([10, 4, 0, 0], 16)],
        vec![net([10, 3, 0, 0], 16)],
    ));
    let mut p = Pair::new(endpoint(a_cfg, 5), endpoint(b_cfg, 6));
    let sa = p.a.connect(p.now, PeerId(0)).unwrap();
    p.run(Duration::from_secs(1));
    p.a.create_child_sa(p.now, sa, ipsec_ike::ChildConfigId(1))
        .unwrap();
    assert_eq!(
        p.a.create_child_sa(p.now, sa, ipsec_ike::ChildConfigId(9)),
        Err(ipsec_ike::ApiMisuse::UnknownChildConfig)
    );
    p.run(Duration::from_secs(1));
    let (ia, ib) = (installs(&p.a_events), installs(&p.b_events));
    assert_eq!((ia.len(), ib.len()), (2, 2));
    let (a, b) = (ia[1], ib[1]);
    assert_eq!(a.rekey_of, None);
    assert_eq!(a.config, ipsec_ike::ChildConfigId(1));
    assert!(
        a.outbound_active && b.outbound_active,
        "a new CHILD SA is used at once"
    );
    assert_eq!(a.outbound_keys.as_bytes(), b.inbound_keys.as_bytes());
    assert_eq!(a.selectors.as_slice()[0].local.to_string(), "10.3.0.0/16");
    assert_eq!(p.a.child_sas(sa).len(), 2);
}

#[test]
fn hard_lifetime_without_rekey_deletes_on_both_sides() {
    let mut a_cfg = peer_a();
    a_cfg.children[0].lifetime.rekey_time = None;
    a_cfg.children[0].lifetime.life_time = Some(Duration::from_secs(20));
    let mut p = Pair::new(endpoint(a_cfg, 8), endpoint(peer_b(), 9));
    let sa = p.a.connect(p.now, PeerId(0)).unwrap();
    p.run(Duration::from_secs(1));
    let (ca, cb) = (installs(&p.a_events)[0].child, installs(&p.b_events)[0].child);
    p.run(Duration::from_secs(25));
    assert!(p.a_events.iter().any(|e| matches!(
        e,
        Event::ChildSaDelete { child, reason: DeleteReason::Expired, .. } if *child == ca
    )));
    assert!(p.b_events.iter().any(|e| matches!(
        e,
        Event::ChildSaDelete { child, reason: DeleteReason::DeletedByPeer, .. } if *child == cb
    )));
    assert!(p.a.child_sas(sa).is_empty());
    let b_sa = p.b.ike_sas().next().unwrap();
    assert!(p.b.child_sas(b_sa).is_empty());
    assert_eq!(
        p.a.ike_sa_state(sa),
        Some(IkeSaState::Established),
        "the IKE SA stays"
    );
}
