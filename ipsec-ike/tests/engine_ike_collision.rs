//! Simultaneous IKE SA rekeying (RFC 7296 §2.8.2): both ends start a rekey at the same moment
//! and the datagrams arrive in every order. Whatever the order, both ends must keep the same
//! one new IKE SA, with the CHILD SA on it, at once (no refusal and retry cycle), and the other
//! new SA and the old one must be deleted.
#![cfg(feature = "rustcrypto")]

mod engine_support;

use std::time::Duration;

use engine_support::*;
use ipsec_ike::{CloseReason, Event, IkeSaId, PeerId};

fn established(seed: u64) -> Pair {
    let mut p = Pair::psk(seed);
    p.a.connect(p.now, PeerId(0)).unwrap();
    p.run(Duration::from_secs(1));
    assert_eq!(installs(&p.a_events).len(), 1);
    assert_eq!(installs(&p.b_events).len(), 1);
    p
}

/// A small deterministic generator for delivery orders.
struct Order(u64);

impl Order {
    fn pick(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// Delivers every datagram in flight, the next one chosen by `order` each time, until none is
/// left; timers do not run.
fn deliver_shuffled(p: &mut Pair, order: &mut Order) {
    p.drain();
    while !p.wire.is_empty() {
        let i = order.pick(p.wire.len());
        let w = p.wire.remove(i).unwrap();
        p.deliver(w);
    }
}

fn rekeyed(events: &[Event]) -> Vec<(IkeSaId, IkeSaId)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::IkeSaRekeyed { old, new } => Some((*old, *new)),
            _ => None,
        })
        .collect()
}

fn check(p: &mut Pair, seed: u64) -> Result<(), String> {
    for (name, events, ep) in [("A", &p.a_events, &p.a), ("B", &p.b_events, &p.b)] {
        let ctx = || format!("seed {seed}, {name}: {events:#?}");
        let r = rekeyed(events);
        if r.len() != 1 {
            return Err(format!("{} rekeys; {}", r.len(), ctx()));
        }
        let (old, new) = r[0];
        let sas: Vec<IkeSaId> = ep.ike_sas().collect();
        if sas != [new] {
            return Err(format!("IKE SAs left {sas:?}, want {new}; {}", ctx()));
        }
        if ep.child_sas(new).len() != 1 {
            return Err(format!("CHILD SA not on the new SA; {}", ctx()));
        }
        let bad_down = events.iter().any(|e| match e {
            Event::IkeSaDown { sa, reason, .. } => *sa != old || *reason != CloseReason::Rekeyed,
            _ => false,
        });
        let child_deleted = events.iter().any(|e| matches!(e, Event::ChildSaDelete { .. }));
        let reinstalled = installs(events).len() != 1;
        if bad_down || child_deleted || reinstalled {
            return Err(format!("unexpected down, delete or install; {}", ctx()));
        }
        if events.iter().any(|e| matches!(e, Event::Warning(_))) {
            return Err(format!("warning; {}", ctx()));
        }
    }
    // Both ends use the same IKE SA: a CHILD SA rekey over it completes on both sides.
    let child = installs(&p.a_events)[0].child;
    p.a.rekey_child_sa(p.now, child)
        .map_err(|e| format!("seed {seed}: {e:?}"))?;
    p.run(Duration::from_secs(1));
    let (a, b) = (installs(&p.a_events), installs(&p.b_events));
    if a.len() != 2 || b.len() != 2 || a[1].outbound_keys.as_bytes() != b[1].inbound_keys.as_bytes() {
        return Err(format!("seed {seed}: CHILD SA rekey over the survivor failed"));
    }
    Ok(())
}

fn collide(seed: u64) -> Result<(), String> {
    let mut p = established(seed);
    let a_sa = p.a.ike_sas().next().unwrap();
    let b_sa = p.b.ike_sas().next().unwrap();
    p.a.rekey_ike_sa(p.now, a_sa).unwrap();
    p.b.rekey_ike_sa(p.now, b_sa).unwrap();
    let mut order = Order(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    // Every exchange, including the Deletes the verdict starts, in a shuffled order; then the
    // timers up to the end of the one wait the old SA may need (one retransmission timeout,
    // 4 s), still well before a refused rekey would be retried (10 s and more).
    deliver_shuffled(&mut p, &mut order);
    p.run(Duration::from_secs(5));
    check(&mut p, seed)
}

#[test]
fn simultaneous_ike_rekeys_keep_one_sa_in_every_delivery_order() {
    let failures: Vec<String> = (0..300).filter_map(|s| collide(s).err()).collect();
    assert!(
        failures.is_empty(),
        "{} of 300 failed; first: {}",
        failures.len(),
        failures[0]
    );
}

#[test]
fn lockstep_collision_is_decided_by_the_nonces_on_both_sides() {
    // Both requests cross, then both responses: each side holds the other's new SA when its
    // own answer arrives, and only the nonce comparison can make them agree.
    let mut a_won = 0;
    for seed in 0..20 {
        let mut p = established(1000 + seed);
        let a_sa = p.a.ike_sas().next().unwrap();
        let b_sa = p.b.ike_sas().next().unwrap();
        p.a.rekey_ike_sa(p.now, a_sa).unwrap();
        p.b.rekey_ike_sa(p.now, b_sa).unwrap();
        p.drain();
        let requests: Vec<Wire> = p.wire.drain(..).collect();
        assert_eq!(requests.len(), 2);
        for w in requests {
            assert_eq!(p.deliver(w), Some(Ok(())));
        }
        // Both answered (no TEMPORARY_FAILURE) and both hold a second IKE SA in reserve.
        let responses: Vec<Wire> = p.wire.drain(..).collect();
        assert_eq!(responses.len(), 2);
        assert_eq!((p.a.ike_sa_count(), p.b.ike_sa_count()), (1, 1));
        for w in responses {
            assert_eq!(p.deliver(w), Some(Ok(())));
        }
        p.run(Duration::from_millis(500));
        check(&mut p, seed).unwrap();
        // Each side numbers its SAs alike: the old one, then its own new SA, then the peer's.
        // The survivor is A's own new SA on A exactly when it is the peer's on B.
        let (_, a_new) = rekeyed(&p.a_events)[0];
        let (_, b_new) = rekeyed(&p.b_events)[0];
        assert_ne!(a_new, b_new);
        if a_new < b_new {
            a_won += 1;
        }
    }
    // The nonces are random: each side's exchange wins sometimes.
    assert!(0 < a_won && a_won < 20, "A won {a_won} of 20");
}

#[test]
fn a_child_rekey_on_the_held_sa_hands_the_children_over() {
    // B's rekey request is lost, so A sees no collision: its own new SA wins at once and A
    // rekeys the CHILD SA over it, while B still holds that SA aside waiting for its own
    // exchange. The CHILD SA rekey must find the CHILD SA there, not fail and delete it.
    let mut p = established(77);
    let child = installs(&p.a_events)[0].child;
    let a_sa = p.a.ike_sas().next().unwrap();
    let b_sa = p.b.ike_sas().next().unwrap();
    p.a.rekey_ike_sa(p.now, a_sa).unwrap();
    p.b.rekey_ike_sa(p.now, b_sa).unwrap();
    p.drain();
    let mut wire: Vec<Wire> = p.wire.drain(..).collect();
    let r_b = wire.iter().position(|w| !w.from_a).unwrap();
    let lost_r_b = wire.remove(r_b);
    assert_eq!(
        p.deliver(wire.remove(0)),
        Some(Ok(())),
        "B answers A's rekey, holding its SA"
    );
    let answer = p.wire.pop_front().unwrap();
    assert_eq!(p.deliver(answer), Some(Ok(())));
    assert_eq!(rekeyed(&p.a_events).len(), 1, "A's SA won outright");
    assert!(
        rekeyed(&p.b_events).is_empty(),
        "B still waits for its own exchange"
    );
    // A's Delete of the old SA is lost too; A rekeys the CHILD SA over its new SA.
    p.wire.clear();
    p.a.rekey_child_sa(p.now, child).unwrap();
    p.drain();
    let rekey = p.wire.pop_front().unwrap();
    assert_eq!(p.deliver(rekey), Some(Ok(())));
    assert_eq!(rekeyed(&p.b_events).len(), 1, "B takes A's SA as the survivor");
    assert!(
        p.wire.is_empty(),
        "the request is answered when it is retransmitted"
    );
    drop(lost_r_b);
    p.run(Duration::from_secs(30));
    for (events, ep) in [(&p.a_events, &p.a), (&p.b_events, &p.b)] {
        assert_eq!(rekeyed(events).len(), 1, "{events:#?}");
        assert_eq!(ep.ike_sa_count(), 1, "{events:#?}");
        let deleted: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                Event::ChildSaDelete { child, reason, .. } => Some((*child, *reason)),
                _ => None,
            })
            .collect();
        assert_eq!(deleted.len(), 1, "only the rekeyed CHILD SA goes: {events:#?}");
    }
    let (a, b) = (installs(&p.a_events), installs(&p.b_events));
    assert_eq!((a.len(), b.len()), (2, 2));
    assert_eq!(a[1].outbound_keys.as_bytes(), b[1].inbound_keys.as_bytes());
}
