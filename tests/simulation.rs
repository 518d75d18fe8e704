//! Deterministic simulation of two IKE endpoints with their SADs over an impaired network
//! (see `sim/mod.rs`): every seed must establish, carry ESP traffic both ways through the
//! installed CHILD SAs with matching keys, and close with nothing left on either side.
//!
//! Seeded scenarios (loss, duplication, reordering, NAT, transport mode and CBC vary by seed):
//! `establish_traffic_close` (300 seeds), `child_rekey_impaired` (CHILD and IKE rekeys by
//! lifetime, 100 seeds), `cookie_and_invalid_ke` (100 seeds), `simultaneous_ike_rekey` (both ends
//! rekey the IKE SA at once, 100 seeds). Single scenarios: NAT-T and NAT
//! rebinding, CHILD rekey without loss (with and without PFS, by time and by the SAD's packet
//! limit), simultaneous CHILD and IKE rekeys, IKE rekey with CHILD SA inheritance, DPD
//! (restart / clear / hold, live peer).
//!
//! `cargo test -p ipsec-tests --test simulation` runs a few hundred seeds per scenario. More:
//! ```text
//! SIM_SEEDS=10000 cargo test -p ipsec-tests --test simulation --release
//! ```
//! One seed, e.g. after a failure report: `SIM_SEED=1234 cargo test -p ipsec-tests --test simulation`;
//! add `SIM_TRACE=1` (and `-- --nocapture`) for a trace of every message and event.

mod sim;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use ipsec_core::selector::AddrRange;
use ipsec_ike::config::{
    ChildConfig, DpdAction, DpdConfig, EndpointConfig, IpsecMode, PeerConfig, RetransmitConfig, TsEntry,
    default_esp_proposals, proposal,
};
use ipsec_ike::crypto::rustcrypto::RustCrypto;
use ipsec_ike::message::{DhGroup, EncrId, EsnId, IntegId, PrfId, ProtocolId, Transform};
use ipsec_ike::{Event, IkeSaId, PeerId};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;
use sim::*;

const PSK: &[u8] = b"simulation-psk-0123456789abcdef";

/// The /16 around an IPv4 address.
fn net(ip: IpAddr, prefix: u8) -> TsEntry {
    let IpAddr::V4(v4) = ip else { panic!("IPv4 only") };
    let bits = u32::from(v4) & (u32::MAX << (32 - prefix));
    TsEntry::subnet(AddrRange::from_prefix(IpAddr::V4(bits.into()), prefix).unwrap())
}

/// What varies between seeds.
#[derive(Clone, Copy, Debug)]
struct Variant {
    nat: bool,
    transport: bool,
    cbc: bool,
}

impl Variant {
    fn of(seed: u64) -> Self {
        let nat = seed % 3 == 2;
        Self {
            nat,
            transport: !nat && seed % 5 == 1,
            cbc: seed % 4 == 3,
        }
    }
}

fn ike_proposals(v: Variant) -> Vec<ipsec_ike::message::Proposal<'static>> {
    if v.cbc {
        vec![proposal(
            1,
            ProtocolId::IKE,
            vec![
                Transform::encr(EncrId::ENCR_AES_CBC, Some(128)),
                Transform::integ(IntegId::AUTH_HMAC_SHA2_384_192),
                Transform::prf(PrfId::PRF_HMAC_SHA2_384),
                Transform::ke(DhGroup::ECP_256),
            ],
        )]
    } else {
        ipsec_ike::config::default_ike_proposals()
    }
}

fn esp_proposals(v: Variant) -> Vec<ipsec_ike::message::Proposal<'static>> {
    if v.cbc {
        vec![proposal(
            1,
            ProtocolId::ESP,
            vec![
                Transform::encr(EncrId::ENCR_AES_CBC, Some(256)),
                Transform::integ(IntegId::AUTH_HMAC_SHA2_256_128),
                Transform::esn(EsnId::NO_ESN),
            ],
        )]
    } else {
        default_esp_proposals()
    }
}

fn child(v: Variant, local: IpAddr, remote: IpAddr) -> ChildConfig {
    let mut c = ChildConfig::tunnel("net", vec![net(local, 16)], vec![net(remote, 16)]);
    if v.transport {
        c.mode = IpsecMode::Transport;
        c.local_ts.clear();
        c.remote_ts.clear();
    }
    c.proposals = esp_proposals(v);
    c
}

/// Adjusts an endpoint configuration; the flag says whether it is B's (the responder's).
type EndpointTweak<'t> = &'t dyn Fn(&mut EndpointConfig, bool);

fn endpoint_config(peer: PeerConfig, tweak: EndpointTweak<'_>, is_b: bool) -> Arc<EndpointConfig> {
    let mut c = EndpointConfig::new(Arc::new(RustCrypto::new()));
    c.peers.push(peer);
    tweak(&mut c, is_b);
    Arc::new(c)
}

/// Two peers: A initiates to B; A may sit behind a NAT.
fn two_peers(seed: u64, imp: Impairments, v: Variant) -> Sim {
    two_peers_with(seed, imp, v, |_| {})
}

/// [`two_peers`] with both peer configurations adjusted by `tweak`.
fn two_peers_with(seed: u64, imp: Impairments, v: Variant, tweak: impl Fn(&mut PeerConfig)) -> Sim {
    two_peers_full(seed, imp, v, tweak, &|_, _| {})
}

/// [`two_peers_with`] with the endpoint configurations adjusted too.
fn two_peers_full(
    seed: u64,
    imp: Impairments,
    v: Variant,
    tweak: impl Fn(&mut PeerConfig),
    ep_tweak: EndpointTweak<'_>,
) -> Sim {
    let mut sim = Sim::new(seed, imp);
    let a_ip = if v.nat { A_PRIVATE } else { A_IP };
    let (a_lan, b_lan) = if v.transport { (a_ip, B_IP) } else { (A_LAN, B_LAN) };
    let dpd = DpdConfig {
        delay: Some(Duration::from_secs(30)),
        ..DpdConfig::default()
    };
    let mut a = PeerConfig::psk("a", Some(a_ip), Some(B_IP), PSK);
    a.keyingtries = 0;
    a.dpd = dpd;
    a.ike_proposals = ike_proposals(v);
    a.children = vec![child(v, a_lan, b_lan)];
    let mut b = PeerConfig::psk("b", Some(B_IP), None, PSK);
    b.dpd = dpd;
    b.ike_proposals = ike_proposals(v);
    b.children = vec![child(v, b_lan, a_lan)];
    tweak(&mut a);
    tweak(&mut b);
    sim.add(Peer::new(
        "A",
        a_ip,
        a_lan,
        endpoint_config(a, ep_tweak, false),
        seed.wrapping_mul(2),
    ));
    sim.add(Peer::new(
        "B",
        B_IP,
        b_lan,
        endpoint_config(b, ep_tweak, true),
        seed.wrapping_mul(2) + 1,
    ));
    if v.nat {
        sim.net.nat = Some(Nat::new(A_PRIVATE, NAT_PUBLIC));
    }
    sim
}

fn last_up(events: &[Event]) -> Option<IkeSaId> {
    events.iter().rev().find_map(|e| match e {
        Event::IkeSaUp { sa, .. } => Some(*sa),
        _ => None,
    })
}

fn established(sim: &Sim) -> bool {
    sim.peers.iter().all(|p| p.active_child().is_some())
        && sim.keys_match(0, 1).is_ok()
        && sim.keys_match(1, 0).is_ok()
        && sim.peers.iter().all(|p| p.children.len() == 1)
}

/// IKE SAs in use (a rekeyed one may linger while its Delete is retransmitted).
fn established_ike_sas(p: &Peer) -> usize {
    p.ep.ike_sas()
        .filter(|sa| p.ep.ike_sa_state(*sa) == Some(ipsec_ike::endpoint::IkeSaState::Established))
        .count()
}

fn all_gone(sim: &Sim) -> bool {
    sim.peers
        .iter()
        .all(|p| p.ep.ike_sa_count() == 0 && p.children.is_empty())
}

fn describe(sim: &Sim) -> String {
    let mut s = format!(
        "seed={} t={:.1}s net sent={} lost={} dup={}",
        sim.seed,
        sim.now.as_micros() as f64 / 1e6,
        sim.net.sent,
        sim.net.lost,
        sim.net.duplicated
    );
    for p in &sim.peers {
        s += &format!(
            "\n  {}: ike_sas={} children={:?} sad={} ike_errors={} esp_errors={:?} events={:?}",
            p.name,
            p.ep.ike_sa_count(),
            p.children.keys().map(ToString::to_string).collect::<Vec<_>>(),
            p.sad.len(),
            p.ike_errors,
            p.esp_error_log,
            p.events.iter().map(short).collect::<Vec<_>>()
        );
    }
    s
}

fn short(e: &Event) -> String {
    match e {
        Event::IkeSaUp { sa, .. } => format!("up({sa})"),
        Event::IkeSaDown { sa, reason, .. } => format!("down({sa},{reason:?})"),
        Event::ChildSaInstall(i) => format!("install({},{})", i.child, i.ike_sa),
        Event::ChildSaDelete { child, reason, .. } => format!("delete({child},{reason:?})"),
        Event::ChildSaActivate { child, .. } => format!("activate({child})"),
        other => format!("{other:?}"),
    }
}

/// Establish, push traffic both ways, close.
fn establish_traffic_close(seed: u64) -> Result<u64, String> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let imp = if seed % 10 == 0 {
        Impairments::PERFECT
    } else {
        Impairments::random(&mut rng)
    };
    let v = Variant::of(seed);
    let mut sim = two_peers(seed, imp, v);
    let now = sim.now;
    sim.peers[0]
        .ep
        .connect(now, PeerId(0))
        .map_err(|e| e.to_string())?;
    if !sim.run_until(Duration::from_secs(1800), established) {
        return Err(format!("not established ({v:?}, {imp:?}): {}", describe(&sim)));
    }
    if v.nat {
        let a = sim.peers[0].active_child().unwrap().1;
        if a.encap.is_none() {
            return Err("NAT but no UDP encapsulation".into());
        }
    }
    sim.traffic(0, 1, 20, Duration::from_millis(10));
    sim.traffic(1, 0, 20, Duration::from_millis(10));
    sim.run_for(Duration::from_secs(2));
    for (from, to) in [(0, 1), (1, 0)] {
        let sent = sim.peers[from].sent;
        let got = sim.peers[to].received.len() as u64;
        if sent != 20 || got != sent || sim.peers[to].duplicates > 0 || sim.peers[to].esp_errors > 0 {
            return Err(format!(
                "traffic {}->{}: sent {sent} delivered {got} dup {} errors {}: {}",
                sim.peers[from].name,
                sim.peers[to].name,
                sim.peers[to].duplicates,
                sim.peers[to].esp_errors,
                describe(&sim)
            ));
        }
    }
    let closer = (seed % 2) as usize;
    let sa = last_up(&sim.peers[closer].events).ok_or("no IkeSaUp")?;
    let now = sim.now;
    sim.peers[closer].ep.close(now, sa);
    if !sim.run_until(Duration::from_secs(1800), all_gone) {
        return Err(format!("not closed: {}", describe(&sim)));
    }
    for p in &sim.peers {
        if !p.install_errors.is_empty() {
            return Err(format!("{}: {:?}", p.name, p.install_errors));
        }
        if !p.sad.is_empty() || p.ep.poll_timeout().is_some() {
            return Err(format!("{}: state left behind: {}", p.name, describe(&sim)));
        }
    }
    Ok(sim.digest())
}

#[test]
fn establish_traffic_close_over_impaired_network() {
    run_seeds("establish_traffic_close", 300, |seed| {
        establish_traffic_close(seed).map(|_| ())
    });
}

#[test]
fn a_seed_reproduces_the_same_bytes() {
    for seed in [1, 2, 5] {
        let a = establish_traffic_close(seed).unwrap();
        let b = establish_traffic_close(seed).unwrap();
        assert_eq!(a, b, "seed {seed}");
    }
    assert_ne!(
        establish_traffic_close(1).unwrap(),
        establish_traffic_close(4).unwrap()
    );
}

#[test]
fn nat_moves_ike_to_4500_and_encapsulates_esp() {
    let v = Variant {
        nat: true,
        transport: false,
        cbc: false,
    };
    let mut sim = two_peers(99, Impairments::PERFECT, v);
    let now = sim.now;
    sim.peers[0].ep.connect(now, PeerId(0)).unwrap();
    assert!(sim.run_until(Duration::from_secs(10), established));
    let a = sim.peers[0].active_child().unwrap().1.clone();
    let b = sim.peers[1].active_child().unwrap().1.clone();
    assert_eq!(a.encap.map(|e| (e.local_port, e.remote_port)), Some((4500, 4500)));
    let b_encap = b.encap.unwrap();
    assert_eq!(b_encap.local_port, 4500);
    assert_ne!(b_encap.remote_port, 4500, "B follows the NAT's mapped port");
    assert_eq!(b.remote, Some(NAT_PUBLIC));
    let _ = SocketAddr::new(NAT_PUBLIC, b_encap.remote_port);
    sim.traffic(0, 1, 5, Duration::from_millis(10));
    sim.traffic(1, 0, 5, Duration::from_millis(10));
    sim.run_for(Duration::from_secs(1));
    assert_eq!(sim.peers[1].received.len(), 5);
    assert_eq!(sim.peers[0].received.len(), 5);
    // A, behind the NAT, keeps the mapping alive.
    let before = sim.net.sent;
    sim.run_for(Duration::from_secs(21));
    assert!(sim.net.sent > before, "NAT keepalive sent");
}

#[test]
fn nat_rebinding_is_followed_after_an_authenticated_message() {
    let v = Variant {
        nat: true,
        transport: false,
        cbc: false,
    };
    let mut sim = two_peers(7, Impairments::PERFECT, v);
    let now = sim.now;
    sim.peers[0].ep.connect(now, PeerId(0)).unwrap();
    assert!(sim.run_until(Duration::from_secs(10), established));
    let before = sim.peers[1].active_child().unwrap().1.encap.unwrap().remote_port;
    // The NAT forgets its mappings: B's packets to the old port are lost until A's next IKE
    // message (here a DPD liveness check after 30 s of IKE silence) shows B the new port.
    sim.net.nat.as_mut().unwrap().rebind();
    sim.run_for(Duration::from_secs(40));
    let b = sim.peers[1].active_child().unwrap().1.clone();
    let after = b.encap.unwrap().remote_port;
    assert_ne!(before, after, "B follows A's new NAT mapping: {}", describe(&sim));
    assert!(
        sim.peers[1]
            .events
            .iter()
            .any(|e| matches!(e, Event::ChildSaUpdate { .. })),
        "ChildSaUpdate raised"
    );
    sim.traffic(0, 1, 5, Duration::from_millis(10));
    sim.traffic(1, 0, 5, Duration::from_millis(10));
    sim.run_for(Duration::from_secs(1));
    assert_eq!(sim.peers[1].received.len(), 5, "{}", describe(&sim));
    assert_eq!(sim.peers[0].received.len(), 5, "{}", describe(&sim));
}

/// Short CHILD SA lifetimes: rekey after 20 s (minus up to 5 s), delete after 40 s.
fn short_child_lifetime(p: &mut PeerConfig) {
    for c in &mut p.children {
        c.lifetime.rekey_time = Some(Duration::from_secs(20));
        c.lifetime.life_time = Some(Duration::from_secs(40));
        c.lifetime.jitter = Duration::from_secs(5);
    }
}

/// ESP proposals asking for PFS with Curve25519 on CHILD SA rekeys.
fn with_pfs(p: &mut PeerConfig) {
    for c in &mut p.children {
        c.proposals = vec![proposal(
            1,
            ProtocolId::ESP,
            vec![
                Transform::encr(EncrId::ENCR_AES_GCM_16, Some(256)),
                Transform::esn(EsnId::NO_ESN),
                Transform::ke(DhGroup::CURVE25519),
            ],
        )];
    }
}

/// A rekey seen in a `ChildSaInstall`: its PFS group and whether it sends at once.
type Rekey = (Option<DhGroup>, bool);

fn rekeys(p: &Peer) -> Vec<Rekey> {
    p.events
        .iter()
        .filter_map(|e| match e {
            Event::ChildSaInstall(i) if i.rekey_of.is_some() => Some((i.pfs_group, i.outbound_active)),
            _ => None,
        })
        .collect()
}

/// CHILD SAs rekeyed by lifetime while traffic flows both ways on a perfect network: nothing is
/// lost, both ends end up with one CHILD SA with mirrored keys.
fn child_rekey_under_traffic(pfs: bool) -> (Vec<Rekey>, Vec<Rekey>) {
    let v = Variant {
        nat: false,
        transport: false,
        cbc: false,
    };
    let mut sim = two_peers_with(11, Impairments::PERFECT, v, |p| {
        short_child_lifetime(p);
        if pfs {
            with_pfs(p);
        }
    });
    let now = sim.now;
    sim.peers[0].ep.connect(now, PeerId(0)).unwrap();
    assert!(sim.run_until(Duration::from_secs(10), established));
    // 100 s of traffic, a packet each way every 50 ms: several rekeys.
    sim.traffic_both(0, 1, 2000, Duration::from_millis(50));
    sim.run_for(Duration::from_secs(1));
    for (from, to) in [(0, 1), (1, 0)] {
        let (p, q) = (&sim.peers[from], &sim.peers[to]);
        assert_eq!(p.no_sa, 0, "{}", describe(&sim));
        assert_eq!(
            q.received.len() as u64,
            p.sent,
            "no loss {}->{}: {}",
            p.name,
            q.name,
            describe(&sim)
        );
        assert_eq!(q.esp_errors, 0, "{}", describe(&sim));
        assert_eq!(q.duplicates, 0);
        assert!(q.install_errors.is_empty(), "{:?}", q.install_errors);
    }
    sim.keys_match(0, 1).unwrap();
    sim.keys_match(1, 0).unwrap();
    assert!(
        sim.peers.iter().all(|p| p.children.len() <= 2),
        "{}",
        describe(&sim)
    );
    // Let a pending rekey finish, then exactly one CHILD SA remains on each side.
    sim.run_until(Duration::from_secs(30), |s| {
        s.peers.iter().all(|p| p.children.len() == 1)
    });
    assert!(established(&sim), "{}", describe(&sim));
    (rekeys(&sim.peers[0]), rekeys(&sim.peers[1]))
}

#[test]
fn child_rekey_by_lifetime_loses_nothing() {
    let (a, b) = child_rekey_under_traffic(false);
    assert!(a.len() + b.len() >= 4, "rekeys: {a:?} {b:?}");
    assert!(a.iter().chain(&b).all(|(g, _)| g.is_none()), "no PFS configured");
    // The responder of a rekey waits for the old SA's Delete before it sends on the new one.
    assert!(a.iter().chain(&b).any(|(_, active)| !active));
    assert!(a.iter().chain(&b).any(|(_, active)| *active));
}

#[test]
fn child_rekey_with_pfs_loses_nothing() {
    let (a, b) = child_rekey_under_traffic(true);
    assert!(a.len() + b.len() >= 4, "rekeys: {a:?} {b:?}");
    assert!(
        a.iter().chain(&b).all(|(g, _)| *g == Some(DhGroup::CURVE25519)),
        "PFS group: {a:?} {b:?}"
    );
}

#[test]
fn simultaneous_child_rekey_converges() {
    for seed in 0..20 {
        let v = Variant {
            nat: false,
            transport: false,
            cbc: false,
        };
        let mut sim = two_peers(seed, Impairments::PERFECT, v);
        let now = sim.now;
        sim.peers[0].ep.connect(now, PeerId(0)).unwrap();
        assert!(sim.run_until(Duration::from_secs(10), established));
        let now = sim.now;
        let a = *sim.peers[0].children.keys().next().unwrap();
        let b = *sim.peers[1].children.keys().next().unwrap();
        sim.peers[0].ep.rekey_child_sa(now, a).unwrap();
        sim.peers[1].ep.rekey_child_sa(now, b).unwrap();
        sim.traffic_both(0, 1, 100, Duration::from_millis(10));
        sim.run_for(Duration::from_secs(5));
        let ctx = describe(&sim);
        assert!(established(&sim), "seed {seed}: {ctx}");
        assert!(!sim.peers[0].children.contains_key(&a), "old SA gone: {ctx}");
        assert!(!sim.peers[1].children.contains_key(&b), "old SA gone: {ctx}");
        for p in &sim.peers {
            assert!(
                p.events
                    .iter()
                    .any(|e| matches!(e, Event::Warning(ipsec_ike::Warning::RekeyCollision { .. }))),
                "seed {seed}: collision seen by {}: {ctx}",
                p.name
            );
            assert_eq!(p.received.len(), 100, "seed {seed}: {ctx}");
            assert_eq!(p.esp_errors, 0, "seed {seed}: {ctx}");
        }
    }
}

/// CHILD and IKE SA rekeys by lifetime over an impaired network (IKE lost, duplicated,
/// reordered): every seed converges on one CHILD SA per side with mirrored keys that carries traffic.
fn child_rekey_impaired(seed: u64) -> Result<(), String> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x72_656b_6579);
    let mut imp = Impairments::random(&mut rng);
    // Up to 10 % loss and 8 retransmissions: an exchange then fails for good (the IKE SA times
    // out) about once in 10^8, not once in a few thousand runs as with 20 % and 5.
    imp.loss /= 2;
    let retransmit = RetransmitConfig {
        tries: 8,
        ..RetransmitConfig::default()
    };
    let v = Variant {
        nat: seed % 3 == 2,
        transport: false,
        cbc: seed % 4 == 3,
    };
    // Hard lifetimes far enough after the rekey for a retransmitted exchange to finish
    // (RFC 7296 §2.4 schedule: a lost exchange takes tens of seconds).
    let mut sim = two_peers_full(
        seed,
        imp,
        v,
        |p| {
            for c in &mut p.children {
                c.lifetime.rekey_time = Some(Duration::from_secs(30));
                c.lifetime.life_time = Some(Duration::from_secs(200));
                c.lifetime.jitter = Duration::from_secs(10);
            }
            p.ike_lifetime.rekey_time = Some(Duration::from_secs(45));
            p.ike_lifetime.over_time = Duration::from_secs(200);
            p.ike_lifetime.jitter = Duration::from_secs(15);
            if seed % 2 == 1 {
                with_pfs(p);
            }
        },
        &|c, _| c.retransmit = retransmit,
    );
    let now = sim.now;
    sim.peers[0]
        .ep
        .connect(now, PeerId(0))
        .map_err(|e| e.to_string())?;
    if !sim.run_until(Duration::from_secs(1800), established) {
        return Err(format!("not established: {}", describe(&sim)));
    }
    let first = *sim.peers[0].children.keys().next().ok_or("no child")?;
    sim.traffic_both(0, 1, 1200, Duration::from_millis(100));
    if !sim.run_until(Duration::from_secs(600), |s| {
        established(s)
            && !s.peers[0].children.contains_key(&first)
            && s.peers.iter().all(|p| established_ike_sas(p) == 1)
    }) {
        return Err(format!("no convergence after rekeys: {}", describe(&sim)));
    }
    sim.run_for(Duration::from_secs(2));
    let before: Vec<usize> = sim.peers.iter().map(|p| p.received.len()).collect();
    sim.traffic_both(0, 1, 10, Duration::from_millis(10));
    sim.run_for(Duration::from_secs(1));
    for (i, p) in sim.peers.iter().enumerate() {
        if p.received.len() != before[i] + 10 || !p.install_errors.is_empty() {
            return Err(format!("traffic after rekeys: {}", describe(&sim)));
        }
    }
    Ok(())
}

#[test]
fn child_rekey_over_impaired_network() {
    run_seeds("child_rekey_impaired", 100, child_rekey_impaired);
}

/// Both ends rekey the IKE SA at the same moment over an impaired network (RFC 7296 §2.8.2):
/// whether the exchanges cross or not, each side ends with one established IKE SA (the redundant
/// and the old one deleted or being deleted), the CHILD SA carries traffic, and a close leaves
/// nothing behind.
fn simultaneous_ike_rekey_impaired(seed: u64) -> Result<(), String> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x636f_6c6c);
    let mut imp = if seed % 10 == 0 {
        Impairments::PERFECT
    } else {
        Impairments::random(&mut rng)
    };
    // As in child_rekey_impaired: an exchange must not fail for good by chance.
    imp.loss /= 2;
    let retransmit = RetransmitConfig {
        tries: 8,
        ..RetransmitConfig::default()
    };
    let v = Variant {
        nat: seed % 3 == 2,
        transport: false,
        cbc: seed % 4 == 3,
    };
    let mut sim = two_peers_full(seed, imp, v, |_| {}, &|c, _| c.retransmit = retransmit);
    let now = sim.now;
    sim.peers[0]
        .ep
        .connect(now, PeerId(0))
        .map_err(|e| e.to_string())?;
    if !sim.run_until(Duration::from_secs(1800), |s| {
        established(s) && s.peers.iter().all(|p| p.ep.ike_sa_count() == 1)
    }) {
        return Err(format!("not established: {}", describe(&sim)));
    }
    let now = sim.now;
    for p in &mut sim.peers {
        let sa = p.ep.ike_sas().next().ok_or("no IKE SA")?;
        p.ep.rekey_ike_sa(now, sa).map_err(|e| format!("{e:?}"))?;
    }
    // A Delete whose answer was lost is retransmitted to an SA the peer has removed, until the
    // retransmissions give up, as in any IKE exchange: an SA being deleted does not count here;
    // the close below waits for it to go.
    if !sim.run_until(Duration::from_secs(600), |s| {
        established(s)
            && s.peers.iter().all(|p| {
                established_ike_sas(p) == 1
                    && p.events.iter().any(|e| matches!(e, Event::IkeSaRekeyed { .. }))
            })
    }) {
        return Err(format!("no convergence after the rekeys: {}", describe(&sim)));
    }
    for p in &sim.peers {
        let rekeys = p
            .events
            .iter()
            .filter(|e| matches!(e, Event::IkeSaRekeyed { .. }))
            .count();
        let deletes = p
            .events
            .iter()
            .filter(|e| matches!(e, Event::ChildSaDelete { .. }))
            .count();
        if rekeys != 1 || deletes != 0 {
            return Err(format!(
                "{}: {rekeys} IKE rekeys, {deletes} CHILD deletes: {}",
                p.name,
                describe(&sim)
            ));
        }
    }
    let before: Vec<usize> = sim.peers.iter().map(|p| p.received.len()).collect();
    sim.traffic_both(0, 1, 10, Duration::from_millis(10));
    sim.run_for(Duration::from_secs(1));
    let delivered = sim
        .peers
        .iter()
        .enumerate()
        .all(|(i, p)| p.received.len() == before[i] + 10);
    if !delivered {
        return Err(format!("traffic after the rekeys: {}", describe(&sim)));
    }
    let sa = last_up(&sim.peers[0].events).ok_or("no IkeSaUp")?;
    let now = sim.now;
    sim.peers[0].ep.close(now, sa);
    if !sim.run_until(Duration::from_secs(1800), all_gone) {
        return Err(format!("not closed: {}", describe(&sim)));
    }
    Ok(())
}

#[test]
fn simultaneous_ike_rekey_over_impaired_network() {
    run_seeds("simultaneous_ike_rekey", 100, simultaneous_ike_rekey_impaired);
}

/// IKE SA rekeys by lifetime while traffic flows (RFC 7296 §2.18): the CHILD SAs move to the
/// new IKE SA untouched (no install, no delete), nothing is lost, and at the end each side has
/// one IKE SA that still works (it closes cleanly).
#[test]
fn ike_rekey_inherits_child_sas_without_loss() {
    let v = Variant {
        nat: false,
        transport: false,
        cbc: false,
    };
    let mut sim = two_peers_with(5, Impairments::PERFECT, v, |p| {
        p.ike_lifetime.rekey_time = Some(Duration::from_secs(30));
        p.ike_lifetime.over_time = Duration::from_secs(60);
        p.ike_lifetime.jitter = Duration::from_secs(10);
    });
    let now = sim.now;
    sim.peers[0].ep.connect(now, PeerId(0)).unwrap();
    assert!(sim.run_until(Duration::from_secs(10), established));
    let children: Vec<_> = sim.peers.iter().map(|p| p.children.clone()).collect();
    sim.traffic_both(0, 1, 1000, Duration::from_millis(100));
    sim.run_for(Duration::from_secs(2));
    let ctx = describe(&sim);
    for (i, p) in sim.peers.iter().enumerate() {
        let rekeyed = p
            .events
            .iter()
            .filter(|e| matches!(e, Event::IkeSaRekeyed { .. }))
            .count();
        assert!(rekeyed >= 2, "{}: IKE rekeys {rekeyed}: {ctx}", p.name);
        assert_eq!(p.ep.ike_sa_count(), 1, "{ctx}");
        // Same CHILD SAs as before: inherited, not reinstalled.
        assert_eq!(
            p.children.keys().collect::<Vec<_>>(),
            children[i].keys().collect::<Vec<_>>(),
            "{ctx}"
        );
        assert!(
            p.events.iter().all(|e| !matches!(e, Event::ChildSaDelete { .. })),
            "{ctx}"
        );
        assert!(p.events.iter().any(|e| matches!(
            e,
            Event::IkeSaDown {
                reason: ipsec_ike::CloseReason::Rekeyed,
                ..
            }
        )));
        assert_eq!(p.received.len(), 1000, "{ctx}");
        assert_eq!(p.esp_errors, 0, "{ctx}");
    }
    // The CHILD SAs still answer to the newest IKE SA: a CHILD rekey and a close work.
    let now = sim.now;
    let child = *sim.peers[0].children.keys().next().unwrap();
    sim.peers[0].ep.rekey_child_sa(now, child).unwrap();
    sim.run_for(Duration::from_secs(2));
    assert!(established(&sim), "{}", describe(&sim));
    assert!(!sim.peers[0].children.contains_key(&child));
    let sa = last_up(&sim.peers[1].events).unwrap();
    let now = sim.now;
    sim.peers[1].ep.close(now, sa);
    assert!(
        sim.run_until(Duration::from_secs(60), all_gone),
        "{}",
        describe(&sim)
    );
}

/// DPD (RFC 7296 §2.4): the peer vanishes (a partition); liveness checks time out; A's action
/// `restart` brings the tunnel back once the peer returns, B's `clear` (or `hold`) drops its
/// side and waits.
fn dpd_partition(b_action: DpdAction) -> Sim {
    let v = Variant {
        nat: false,
        transport: false,
        cbc: false,
    };
    let mut sim = two_peers_with(21, Impairments::PERFECT, v, |p| {
        p.dpd.timeout = Duration::from_secs(60);
        p.dpd.action = if p.remote_addr.is_some() {
            DpdAction::Restart
        } else {
            b_action
        };
    });
    let now = sim.now;
    sim.peers[0].ep.connect(now, PeerId(0)).unwrap();
    assert!(sim.run_until(Duration::from_secs(10), established));
    sim.net.partitioned = true;
    sim.run_for(Duration::from_secs(300));
    for (p, action) in [(&sim.peers[0], DpdAction::Restart), (&sim.peers[1], b_action)] {
        assert!(
            p.events.iter().any(|e| matches!(
                e,
                Event::IkeSaDown { reason: ipsec_ike::CloseReason::Timeout { action: a }, .. } if *a == action
            )),
            "{}: dead peer detected: {}",
            p.name,
            describe(&sim)
        );
        assert!(p.children.is_empty(), "{}: CHILD SAs removed", p.name);
    }
    // A keeps trying (restart); B has nothing left.
    assert_eq!(sim.peers[1].ep.ike_sa_count(), 0, "{}", describe(&sim));
    assert_eq!(sim.peers[0].ep.ike_sa_count(), 1, "{}", describe(&sim));
    sim.net.partitioned = false;
    assert!(
        sim.run_until(Duration::from_secs(600), established),
        "re-established: {}",
        describe(&sim)
    );
    sim.run_for(Duration::from_secs(1));
    let before: Vec<usize> = sim.peers.iter().map(|p| p.received.len()).collect();
    sim.traffic_both(0, 1, 10, Duration::from_millis(10));
    sim.run_for(Duration::from_secs(1));
    for (i, p) in sim.peers.iter().enumerate() {
        assert_eq!(p.received.len(), before[i] + 10, "{}", describe(&sim));
    }
    sim
}

#[test]
fn dpd_restart_re_establishes_after_the_peer_returns() {
    dpd_partition(DpdAction::Clear);
}

#[test]
fn dpd_hold_drops_the_sa_and_the_restarting_peer_brings_it_back() {
    dpd_partition(DpdAction::Hold);
}

/// A liveness check answered: nothing goes down while the peer is there, however idle.
#[test]
fn dpd_on_a_live_peer_keeps_the_tunnel() {
    let v = Variant {
        nat: false,
        transport: false,
        cbc: false,
    };
    let mut sim = two_peers(22, Impairments::PERFECT, v);
    let now = sim.now;
    sim.peers[0].ep.connect(now, PeerId(0)).unwrap();
    assert!(sim.run_until(Duration::from_secs(10), established));
    let sent = sim.net.sent;
    sim.run_for(Duration::from_secs(600));
    assert!(
        sim.net.sent >= sent + 20,
        "liveness checks every 30 s: {}",
        describe(&sim)
    );
    assert!(established(&sim));
    assert!(
        sim.peers
            .iter()
            .all(|p| !p.events.iter().any(|e| matches!(e, Event::IkeSaDown { .. })))
    );
}

/// IKE_SA_INIT retries (RFC 7296 §1.3, §2.6) over an impaired network: B demands a COOKIE from
/// everyone and accepts only ECP-256 while A leads with Curve25519, so A must follow both the
/// COOKIE and the INVALID_KE_PAYLOAD answer before anything is established.
fn cookie_and_invalid_ke(seed: u64) -> Result<(), String> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xc0_0c1e);
    let imp = if seed % 10 == 0 {
        Impairments::PERFECT
    } else {
        Impairments::random(&mut rng)
    };
    let v = Variant {
        nat: seed % 3 == 2,
        transport: false,
        cbc: false,
    };
    let mut sim = two_peers_full(
        seed,
        imp,
        v,
        |p| {
            if p.remote_addr.is_none() {
                p.ike_proposals = vec![proposal(
                    1,
                    ProtocolId::IKE,
                    vec![
                        Transform::encr(EncrId::ENCR_AES_GCM_16, Some(256)),
                        Transform::prf(PrfId::PRF_HMAC_SHA2_256),
                        Transform::ke(DhGroup::ECP_256),
                    ],
                )];
            }
        },
        &|c, is_b| {
            if is_b {
                c.half_open.cookie_threshold = 0;
            }
        },
    );
    let now = sim.now;
    sim.peers[0]
        .ep
        .connect(now, PeerId(0))
        .map_err(|e| e.to_string())?;
    if !sim.run_until(Duration::from_secs(1800), established) {
        return Err(format!("not established: {}", describe(&sim)));
    }
    if sim.peers[1].ep.stats().half_open_limited == 0 {
        return Err("no COOKIE was asked for".into());
    }
    sim.traffic_both(0, 1, 10, Duration::from_millis(10));
    sim.run_for(Duration::from_secs(1));
    if sim.peers.iter().any(|p| p.received.len() != 10) {
        return Err(format!("traffic: {}", describe(&sim)));
    }
    Ok(())
}

#[test]
fn cookie_and_invalid_ke_payload_retries_establish() {
    run_seeds("cookie_and_invalid_ke", 100, cookie_and_invalid_ke);
}

/// Both ends rekey the IKE SA at the same moment (RFC 7296 §2.8.2): both exchanges complete,
/// the nonces pick the survivor, and they end on one IKE SA with the CHILD SA still carrying
/// traffic.
#[test]
fn simultaneous_ike_rekey_converges() {
    for seed in 0..10 {
        let v = Variant {
            nat: false,
            transport: false,
            cbc: false,
        };
        let mut sim = two_peers(seed, Impairments::PERFECT, v);
        let now = sim.now;
        sim.peers[0].ep.connect(now, PeerId(0)).unwrap();
        assert!(sim.run_until(Duration::from_secs(10), established));
        let now = sim.now;
        for i in 0..2 {
            let sa = last_up(&sim.peers[i].events).unwrap();
            sim.peers[i].ep.rekey_ike_sa(now, sa).unwrap();
        }
        sim.traffic_both(0, 1, 600, Duration::from_millis(100));
        sim.run_for(Duration::from_secs(2));
        let ctx = describe(&sim);
        for p in &sim.peers {
            let rekeys = p
                .events
                .iter()
                .filter(|e| matches!(e, Event::IkeSaRekeyed { .. }))
                .count();
            assert_eq!(rekeys, 1, "seed {seed}: {ctx}");
            assert_eq!(p.ep.ike_sa_count(), 1, "seed {seed}: {ctx}");
            assert_eq!(p.received.len(), 600, "seed {seed}: {ctx}");
        }
        assert!(established(&sim), "seed {seed}: {ctx}");
    }
}

/// Packet lifetimes live in the SAD (STYLE §2): its `SoftExpired` event, forwarded to
/// `Endpoint::rekey_child_sa`, rekeys the CHILD SA before the hard limit, without loss.
#[test]
fn sad_packet_soft_limit_triggers_a_rekey() {
    let v = Variant {
        nat: false,
        transport: false,
        cbc: false,
    };
    let mut sim = two_peers_with(31, Impairments::PERFECT, v, |p| {
        for c in &mut p.children {
            c.lifetime.rekey_packets = Some(100);
            c.lifetime.life_packets = Some(150);
        }
    });
    let now = sim.now;
    sim.peers[0].ep.connect(now, PeerId(0)).unwrap();
    assert!(sim.run_until(Duration::from_secs(10), established));
    sim.traffic_both(0, 1, 500, Duration::from_millis(20));
    sim.run_for(Duration::from_secs(2));
    let ctx = describe(&sim);
    for p in &sim.peers {
        assert!(p.soft_expired >= 3, "{}: {ctx}", p.name);
        assert!(rekeys(p).len() >= 3, "{}: {ctx}", p.name);
        assert_eq!(p.received.len(), 500, "{ctx}");
        assert_eq!(p.esp_errors, 0, "{ctx}");
    }
    assert!(established(&sim), "{ctx}");
}

/// PFS on a CHILD SA rekey with a group the responder does not take: B answers
/// INVALID_KE_PAYLOAD naming ECP-256 and A rekeys again with it (RFC 7296 §1.3).
#[test]
fn child_rekey_follows_invalid_ke_payload() {
    let v = Variant {
        nat: false,
        transport: false,
        cbc: false,
    };
    let mut sim = two_peers_with(41, Impairments::PERFECT, v, |p| {
        let groups: &[DhGroup] = if p.remote_addr.is_some() {
            &[DhGroup::CURVE25519, DhGroup::ECP_256]
        } else {
            &[DhGroup::ECP_256]
        };
        for c in &mut p.children {
            let mut t = vec![
                Transform::encr(EncrId::ENCR_AES_GCM_16, Some(256)),
                Transform::esn(EsnId::NO_ESN),
            ];
            t.extend(groups.iter().map(|g| Transform::ke(*g)));
            c.proposals = vec![proposal(1, ProtocolId::ESP, t)];
        }
    });
    let now = sim.now;
    sim.peers[0].ep.connect(now, PeerId(0)).unwrap();
    assert!(sim.run_until(Duration::from_secs(10), established));
    let child = *sim.peers[0].children.keys().next().unwrap();
    let now = sim.now;
    sim.peers[0].ep.rekey_child_sa(now, child).unwrap();
    sim.traffic_both(0, 1, 50, Duration::from_millis(10));
    sim.run_for(Duration::from_secs(1));
    let ctx = describe(&sim);
    assert!(established(&sim), "{ctx}");
    assert!(!sim.peers[0].children.contains_key(&child), "{ctx}");
    for p in &sim.peers {
        assert_eq!(rekeys(p), vec![(Some(DhGroup::ECP_256), p.name == "A")], "{ctx}");
        assert_eq!(p.received.len(), 50, "{ctx}");
    }
}
