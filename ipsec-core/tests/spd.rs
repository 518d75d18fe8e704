//! SPD and selector properties: `Spd::lookup_outbound` and `Spd::check_inbound_plain` agree with a
//! plain linear-scan model over random policy sets and packets, packet selectors agree with the
//! packets they were read from, and the fuzz entry points survive random input.
//!
//! The model below knows nothing of `TrafficSelector::matches` or the SPD's ordering: addresses are
//! `u128` with a family flag, port ranges plain integer pairs, the order a stable sort by priority.
//! Run with `cargo test -p ipsec-core --features testing`.
#![cfg(feature = "testing")]

use std::collections::BTreeSet;
use std::net::IpAddr;

use ipsec_core::sa::{Direction, SaId};
use ipsec_core::selector::{PacketSelector, PortRange, SelectorSet, TrafficSelector};
use ipsec_core::spd::{Action, Decision, Policy, PolicyDirection, PolicyId, PolicyViolation, Spd, SpdError};
use ipsec_core::testing::spd::{
    Fragmentation, L4, PacketSpec, fuzz_mss, fuzz_spd, packet_spec, policy, steer, traffic_selector,
};
use ipsec_core::wire::Transport;
use proptest::prelude::*;

// ---- the model -------------------------------------------------------------------------------

/// An address as (is IPv6, value).
fn key(a: IpAddr) -> (bool, u128) {
    match a {
        IpAddr::V4(a) => (false, u128::from(u32::from(a))),
        IpAddr::V6(a) => (true, u128::from(a)),
    }
}

#[derive(Clone, Copy, Debug)]
enum MPorts {
    Any,
    Opaque,
    Range(u32, u32),
}

impl MPorts {
    fn of(r: PortRange) -> Self {
        match (r.start(), r.end()) {
            (0, 65535) => MPorts::Any,
            (s, e) if s > e => MPorts::Opaque,
            (s, e) => MPorts::Range(u32::from(s), u32::from(e)),
        }
    }
    fn visible(self, v: u32) -> bool {
        match self {
            MPorts::Any => true,
            MPorts::Opaque => false,
            MPorts::Range(s, e) => s <= v && v <= e,
        }
    }
    fn hidden(self) -> bool {
        matches!(self, MPorts::Any | MPorts::Opaque)
    }
}

#[derive(Clone, Copy, Debug)]
struct MSelector {
    local: (bool, u128, u128),
    remote: (bool, u128, u128),
    protocol: Option<u8>,
    lports: MPorts,
    rports: MPorts,
}

impl MSelector {
    fn of(ts: &TrafficSelector) -> Self {
        let range = |r: ipsec_core::selector::AddrRange| {
            let (f, s) = key(r.start());
            let (_, e) = key(r.end());
            (f, s, e)
        };
        MSelector {
            local: range(ts.local),
            remote: range(ts.remote),
            protocol: ts.protocol.map(|p| p.0),
            lports: MPorts::of(ts.local_ports),
            rports: MPorts::of(ts.remote_ports),
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Seen {
    Ports(u32, u32),
    Icmp(u32),
    Opaque,
}

#[derive(Clone, Copy, Debug)]
struct MPacket {
    v6: bool,
    src: u128,
    dst: u128,
    protocol: u8,
    seen: Seen,
}

impl MPacket {
    /// What RFC 4301 lets a receiver see of the packet `spec` describes.
    fn of(spec: &PacketSpec) -> Self {
        let (v6, src) = key(spec.src);
        let (_, dst) = key(spec.dst);
        let later_fragment = matches!(spec.fragment, Fragmentation::Later(_));
        let seen = match (spec.protocol.0, spec.l4) {
            _ if spec.truncated || later_fragment => Seen::Opaque,
            (6 | 17 | 132, L4::Ports { src, dst }) => Seen::Ports(u32::from(src), u32::from(dst)),
            (1 | 58, L4::Icmp { ty, code }) => Seen::Icmp(u32::from(ty) * 256 + u32::from(code)),
            _ => Seen::Opaque,
        };
        MPacket {
            v6,
            src,
            dst,
            protocol: spec.protocol.0,
            seen,
        }
    }
}

fn model_matches(s: &MSelector, p: &MPacket, outbound: bool) -> bool {
    let (local, remote) = if outbound { (p.src, p.dst) } else { (p.dst, p.src) };
    let in_range = |r: (bool, u128, u128), a: u128| r.0 == p.v6 && r.1 <= a && a <= r.2;
    if !in_range(s.local, local) || !in_range(s.remote, remote) {
        return false;
    }
    if s.protocol.is_some_and(|proto| proto != p.protocol) {
        return false;
    }
    match p.seen {
        Seen::Ports(sp, dp) => {
            let (lp, rp) = if outbound { (sp, dp) } else { (dp, sp) };
            s.lports.visible(lp) && s.rports.visible(rp)
        }
        // One selector: what we send is checked on the local side, what we receive on the remote.
        Seen::Icmp(v) => {
            if outbound {
                s.lports.visible(v)
            } else {
                s.rports.visible(v)
            }
        }
        Seen::Opaque => s.lports.hidden() && s.rports.hidden(),
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum MAction {
    Protect(Option<SaId>),
    Bypass,
    Discard,
}

#[derive(Clone, Debug)]
struct MEntry {
    id: PolicyId,
    priority: u32,
    seq: u64,
    selector: MSelector,
    outbound: bool,
    inbound: bool,
    action: MAction,
}

#[derive(Default)]
struct Model {
    entries: Vec<MEntry>,
    seq: u64,
    acquiring: BTreeSet<PolicyId>,
}

impl Model {
    fn ordered(&self) -> Vec<&MEntry> {
        let mut v: Vec<&MEntry> = self.entries.iter().collect();
        v.sort_by_key(|e| (e.priority, e.seq));
        v
    }
    fn lookup_outbound(&mut self, p: &MPacket) -> Decision {
        let hit = self
            .ordered()
            .into_iter()
            .find(|e| e.outbound && model_matches(&e.selector, p, true))
            .map(|e| (e.id, e.action));
        match hit {
            None => Decision::NoPolicy,
            Some((_, MAction::Bypass)) => Decision::Bypass,
            Some((_, MAction::Discard)) => Decision::Discard,
            Some((policy, MAction::Protect(Some(sa)))) => Decision::Protect { policy, sa },
            Some((policy, MAction::Protect(None))) => Decision::Acquire {
                policy,
                first: self.acquiring.insert(policy),
            },
        }
    }
    fn check_inbound(&self, p: &MPacket) -> Result<PolicyId, PolicyViolation> {
        let hit = self
            .ordered()
            .into_iter()
            .find(|e| e.inbound && model_matches(&e.selector, p, false));
        match hit {
            None => Err(PolicyViolation::NoPolicy),
            Some(e) if e.action == MAction::Bypass => Ok(e.id),
            Some(e) if e.action == MAction::Discard => Err(PolicyViolation::Discarded { policy: e.id }),
            Some(e) => Err(PolicyViolation::UnprotectedTraffic { policy: e.id }),
        }
    }
    fn entry(&mut self, id: PolicyId) -> Option<&mut MEntry> {
        self.entries.iter_mut().find(|e| e.id == id)
    }
}

// ---- operations ------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Op {
    Insert(u32, Policy),
    Remove(usize),
    SetSa(usize, Option<u16>),
    ClearAcquire(usize),
    DetachSa(u16),
    Outbound(PacketSpec),
    Inbound(PacketSpec),
    /// A packet steered onto the edges of the n-th listed policy.
    Near(usize, PacketSpec, u8, bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u32..6, policy()).prop_map(|(p, pol)| Op::Insert(p, pol)),
        1 => any::<usize>().prop_map(Op::Remove),
        1 => (any::<usize>(), prop::option::of(0u16..4)).prop_map(|(i, sa)| Op::SetSa(i, sa)),
        1 => any::<usize>().prop_map(Op::ClearAcquire),
        1 => (0u16..4).prop_map(Op::DetachSa),
        6 => packet_spec().prop_map(Op::Outbound),
        6 => packet_spec().prop_map(Op::Inbound),
        12 => (any::<usize>(), packet_spec(), any::<u8>(), any::<bool>()).prop_map(|(i, s, c, o)| Op::Near(i, s, c, o)),
    ]
}

const CAP: usize = 6;

fn run(ops: &[Op]) -> Result<(), TestCaseError> {
    let mut spd = Spd::<CAP>::new();
    let mut model = Model::default();
    let mut ids: Vec<PolicyId> = Vec::new(); // every id ever issued, live or not
    for op in ops {
        let pick = |i: usize| ids.get(i % ids.len().max(1)).copied();
        match op {
            Op::Insert(priority, policy) => {
                let result = spd.insert(*priority, *policy);
                if model.entries.len() == CAP {
                    prop_assert_eq!(result, Err(SpdError::Full));
                    continue;
                }
                let id = result.map_err(|e| TestCaseError::fail(format!("insert failed: {e}")))?;
                prop_assert!(!ids.contains(&id), "id {:?} issued twice", id);
                ids.push(id);
                model.seq += 1;
                let seq = model.seq;
                model.entries.push(MEntry {
                    id,
                    priority: *priority,
                    seq,
                    selector: MSelector::of(&policy.selector),
                    outbound: policy.direction != PolicyDirection::Inbound,
                    inbound: policy.direction != PolicyDirection::Outbound,
                    action: match policy.action {
                        Action::Protect { sa } => MAction::Protect(sa),
                        Action::Bypass => MAction::Bypass,
                        Action::Discard => MAction::Discard,
                    },
                });
            }
            Op::Remove(i) => {
                let Some(id) = pick(*i) else { continue };
                let live = model.entries.iter().any(|e| e.id == id);
                let result = spd.remove(id);
                if live {
                    prop_assert!(result.is_ok());
                    model.entries.retain(|e| e.id != id);
                    model.acquiring.remove(&id);
                } else {
                    prop_assert_eq!(result, Err(SpdError::UnknownPolicy));
                }
            }
            Op::SetSa(i, sa) => {
                let Some(id) = pick(*i) else { continue };
                let sa = sa.map(|n| SaId::from_parts(n, 7));
                let result = spd.set_sa(id, sa);
                match model.entry(id) {
                    None => prop_assert_eq!(result, Err(SpdError::UnknownPolicy)),
                    Some(e) if matches!(e.action, MAction::Protect(_)) => {
                        prop_assert_eq!(result, Ok(()));
                        e.action = MAction::Protect(sa);
                        model.acquiring.remove(&id);
                    }
                    Some(_) => prop_assert_eq!(result, Err(SpdError::NotProtect)),
                }
            }
            Op::ClearAcquire(i) => {
                let Some(id) = pick(*i) else { continue };
                let result = spd.clear_acquire(id);
                if model.entry(id).is_some() {
                    prop_assert_eq!(result, Ok(()));
                    model.acquiring.remove(&id);
                } else {
                    prop_assert_eq!(result, Err(SpdError::UnknownPolicy));
                }
            }
            Op::DetachSa(n) => {
                let sa = SaId::from_parts(*n, 7);
                let mut expected = 0;
                for e in &mut model.entries {
                    if e.action == MAction::Protect(Some(sa)) {
                        e.action = MAction::Protect(None);
                        model.acquiring.remove(&e.id);
                        expected += 1;
                    }
                }
                prop_assert_eq!(spd.detach_sa(sa), expected);
            }
            Op::Near(i, spec, choice, outbound) => {
                let listed: Vec<TrafficSelector> = spd.iter().map(|(_, _, p)| p.selector).collect();
                let Some(ts) = listed.get(i % listed.len().max(1)) else {
                    continue;
                };
                let dir = if *outbound {
                    Direction::Outbound
                } else {
                    Direction::Inbound
                };
                let spec = steer(*spec, ts, *choice, dir);
                let bytes = spec.to_bytes();
                let m = MPacket::of(&spec);
                if *outbound {
                    let p =
                        PacketSelector::outbound(&bytes).map_err(|e| TestCaseError::fail(format!("{e}")))?;
                    let want = model.lookup_outbound(&m);
                    prop_assert_eq!(spd.lookup_outbound(&p), want, "packet {:?}", spec);
                } else {
                    let p =
                        PacketSelector::inbound(&bytes).map_err(|e| TestCaseError::fail(format!("{e}")))?;
                    prop_assert_eq!(
                        spd.check_inbound_plain(&p),
                        model.check_inbound(&m),
                        "packet {:?}",
                        spec
                    );
                }
            }
            Op::Outbound(spec) => {
                let bytes = spec.to_bytes();
                let p = PacketSelector::outbound(&bytes).map_err(|e| TestCaseError::fail(format!("{e}")))?;
                let want = model.lookup_outbound(&MPacket::of(spec));
                prop_assert_eq!(spd.lookup_outbound(&p), want, "packet {:?}", spec);
            }
            Op::Inbound(spec) => {
                let bytes = spec.to_bytes();
                let p = PacketSelector::inbound(&bytes).map_err(|e| TestCaseError::fail(format!("{e}")))?;
                let want = model.check_inbound(&MPacket::of(spec));
                prop_assert_eq!(spd.check_inbound_plain(&p), want, "packet {:?}", spec);
            }
        }
        prop_assert_eq!(spd.len(), model.entries.len());
        let listed: Vec<PolicyId> = spd.iter().map(|(id, _, _)| id).collect();
        let modelled: Vec<PolicyId> = model.ordered().iter().map(|e| e.id).collect();
        prop_assert_eq!(listed, modelled);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn spd_agrees_with_a_linear_scan_model(ops in prop::collection::vec(op(), 1..40)) {
        run(&ops)?;
    }

    #[test]
    fn selector_matching_agrees_with_the_model(
        ts in traffic_selector(),
        spec in packet_spec(),
        steering in prop::option::of((any::<u8>(), any::<bool>())),
    ) {
        let spec = match steering {
            Some((choice, outbound)) => {
                steer(spec, &ts, choice, if outbound { Direction::Outbound } else { Direction::Inbound })
            }
            None => spec,
        };
        let bytes = spec.to_bytes();
        let model = MSelector::of(&ts);
        let m = MPacket::of(&spec);
        let out = PacketSelector::outbound(&bytes).unwrap();
        let inb = PacketSelector::inbound(&bytes).unwrap();
        prop_assert_eq!(ts.matches(&out), model_matches(&model, &m, true));
        prop_assert_eq!(ts.matches(&inb), model_matches(&model, &m, false));
        let set = SelectorSet::from_slice(&[TrafficSelector::any_v6(), ts]).unwrap();
        prop_assert_eq!(set.matches_any(&out), m.v6 || model_matches(&model, &m, true));
    }

    #[test]
    fn packet_selectors_agree_with_the_packet(spec in packet_spec()) {
        let bytes = spec.to_bytes();
        let out = PacketSelector::outbound(&bytes).unwrap();
        let inb = PacketSelector::inbound(&bytes).unwrap();
        let visible_ports = !spec.truncated && !matches!(spec.fragment, Fragmentation::Later(_));
        let transport = match (spec.l4, spec.protocol.0) {
            (L4::Ports { src, dst }, 6 | 17 | 132) if visible_ports => Transport::Ports { src, dst },
            (L4::Icmp { ty, code }, 1 | 58) if visible_ports => Transport::Icmp { ty, code },
            _ => Transport::Opaque,
        };
        prop_assert_eq!(out, PacketSelector { local: spec.src, remote: spec.dst, protocol: spec.protocol, transport, direction: Direction::Outbound });
        prop_assert_eq!(inb, PacketSelector { local: spec.dst, remote: spec.src, protocol: spec.protocol, transport, direction: Direction::Inbound });
        if let Transport::Ports { src, dst } = transport {
            prop_assert_eq!((out.local_port(), out.remote_port()), (Some(src), Some(dst)));
            prop_assert_eq!((inb.local_port(), inb.remote_port()), (Some(dst), Some(src)));
        } else {
            prop_assert_eq!((out.local_port(), inb.remote_port()), (None, None));
        }
    }

    #[test]
    fn fuzz_entry_points_never_panic(data in prop::collection::vec(any::<u8>(), 0..600)) {
        fuzz_spd(&data);
        fuzz_mss(&data);
    }
}

/// The model itself is exercised: a random run must reach real decisions, not only `NoPolicy`.
#[test]
fn random_runs_reach_matches() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, TestRunner};
    let mut runner = TestRunner::new(Config::default());
    let (mut hits, mut total) = ((0usize, 0usize), 0usize);
    for _ in 0..1000 {
        let ts = traffic_selector().new_tree(&mut runner).unwrap().current();
        let spec = packet_spec().new_tree(&mut runner).unwrap().current();
        let choice = any::<u8>().new_tree(&mut runner).unwrap().current();
        let p = PacketSelector::outbound(&spec.to_bytes()).unwrap();
        let near =
            PacketSelector::outbound(&steer(spec, &ts, choice, Direction::Outbound).to_bytes()).unwrap();
        total += 1;
        hits.0 += usize::from(ts.matches(&p));
        hits.1 += usize::from(ts.matches(&near));
    }
    println!(
        "of {total} random selector/packet pairs, {} match, {} after steering",
        hits.0, hits.1
    );
    assert!(
        hits.0 * 50 >= total && hits.0 * 2 <= total,
        "random pairs: {} of {total} match",
        hits.0
    );
    assert!(
        hits.1 * 2 >= total && hits.1 < total,
        "steered pairs: {} of {total} match",
        hits.1
    );
}

#[test]
fn stale_ids_survive_slot_reuse_many_times() {
    let mut spd = Spd::<1>::new();
    let ts = TrafficSelector::any_v4();
    let mut old = Vec::new();
    for _ in 0..1000 {
        let id = spd
            .insert(
                0,
                Policy {
                    selector: ts,
                    direction: PolicyDirection::Both,
                    action: Action::Bypass,
                },
            )
            .unwrap();
        for stale in &old {
            assert_eq!(spd.set_sa(*stale, None), Err(SpdError::UnknownPolicy));
        }
        spd.remove(id).unwrap();
        old.push(id);
        old.truncate(16);
    }
}
