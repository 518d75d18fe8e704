//! Engine benchmarks (criterion; figures are printed, no timing is asserted): full in-memory
//! IKE_SA_INIT + IKE_AUTH handshakes with one CHILD SA, both endpoints driven in this process on
//! one core, next to the key exchange they cannot avoid (generate + agree on both sides, measured
//! in the same run); memory per established IKE SA (a counting global allocator); the time and
//! responder memory to establish many SAs against one responder.
//!
//! Run with `cargo bench -p ipsec-ike --bench engine` (about 80 s after the build on the
//! project's machine kind, most of it the many-SA run). The many-SA run establishes 100 000 SAs
//! by default; set `ENGINE_BENCH_SAS=10000` (or any count) for a shorter run.
//!
//! Cases: `x25519-psk` (Curve25519 KE, PSK auth) and `x25519-ecdsa-p256` (Curve25519 KE, ECDSA
//! P-256 certificates under a P-256 CA, RFC 7427 signatures; the certificates are the throw-away
//! ones of the strongSwan fixtures). Both negotiate AES-GCM-16-256 / PRF-HMAC-SHA2-256 for IKE
//! and AES-GCM-16-256 for ESP (our default proposals, first choice).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::RefCell;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant as StdInstant};

use criterion::Criterion;
use ipsec_core::Instant;
use ipsec_core::selector::AddrRange;
use ipsec_ike::cert::Certificate;
use ipsec_ike::config::{ChildConfig, EndpointConfig, Identity, LocalAuth, PeerConfig, RemoteAuth, TsEntry};
use ipsec_ike::crypto::rustcrypto::RustCrypto;
use ipsec_ike::crypto::{CryptoProvider, DhGroup, Entropy};
use ipsec_ike::{Endpoint, Event, PeerId};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

/// Counts live heap bytes of the whole process (every thread; criterion's own allocations
/// included, which is why memory is measured outside criterion, as differences).
struct CountingAlloc;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments unchanged and only
// updates a counter, so `System`'s guarantees hold as they are.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            LIVE.fetch_add(new_size, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

const A_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
const B_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));
/// 2026-11-25T12:00Z, inside the fixture certificates' validity.
const UNIX_NOW: u64 = 1_795_608_000;

const CERTS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/strongswan/ecdsa-p256-aes256gcm16-x25519/certs/"
);

fn read(name: &str) -> Vec<u8> {
    std::fs::read(format!("{CERTS}{name}")).expect("fixture certificate")
}

fn net(a: [u8; 4], prefix: u8) -> TsEntry {
    TsEntry::subnet(AddrRange::from_prefix(IpAddr::V4(Ipv4Addr::from(a)), prefix).expect("prefix"))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Case {
    Psk,
    Ecdsa,
}

impl Case {
    fn name(self) -> &'static str {
        match self {
            Self::Psk => "x25519-psk",
            Self::Ecdsa => "x25519-ecdsa-p256",
        }
    }
}

/// A's (initiator's) or B's (responder's) peer configuration.
fn peer(case: Case, initiator: bool, provider: &RustCrypto) -> PeerConfig {
    let (local, remote, me, them) = if initiator {
        (A_IP, B_IP, "capA.example", "capB.example")
    } else {
        (B_IP, A_IP, "capB.example", "capA.example")
    };
    let mut p = PeerConfig::psk(me, Some(local), Some(remote), b"engine-bench-psk-0123456789");
    if case == Case::Ecdsa {
        let key = provider
            .signing_key(&read(&format!("{me}.key.pk8.der")))
            .expect("fixture key");
        p.local_auth = LocalAuth::Certificate {
            chain: vec![Certificate::from_der(&read(&format!("{me}.der"))).expect("cert")],
            key: Arc::from(key),
        };
        p.remote_auth = RemoteAuth::Certificate {
            trust_anchors: vec![Certificate::from_der(&read("ca.der")).expect("CA")],
        };
        p.local_id = Some(Identity::Fqdn(me.into()));
        p.remote_id = Some(Identity::Fqdn(them.into()));
    }
    // Many SAs from one identity: INITIAL_CONTACT would make the responder delete the older ones.
    p.initial_contact = false;
    let (l, r) = if initiator {
        ([10, 1, 0, 0], [10, 2, 0, 0])
    } else {
        ([10, 2, 0, 0], [10, 1, 0, 0])
    };
    p.children = vec![ChildConfig::tunnel("net", vec![net(l, 16)], vec![net(r, 16)])];
    p
}

fn config(case: Case, initiator: bool) -> Arc<EndpointConfig> {
    let provider = RustCrypto::new();
    let p = peer(case, initiator, &provider);
    let mut c = EndpointConfig::new(Arc::new(provider));
    c.peers.push(p);
    Arc::new(c)
}

fn endpoint(config: &Arc<EndpointConfig>, seed: u64) -> Endpoint {
    Endpoint::new(
        Arc::clone(config),
        ChaCha20Rng::seed_from_u64(seed),
        Instant::ZERO,
        UNIX_NOW,
    )
    .expect("valid configuration")
}

/// Connects `a` to `b` and shuttles datagrams until both are quiet; returns the number of
/// (IkeSaUp, ChildSaInstall) events seen on both sides.
fn handshake(a: &mut Endpoint, b: &mut Endpoint) -> (usize, usize) {
    let now = Instant::ZERO;
    a.connect(now, PeerId(0)).expect("connect");
    let (mut up, mut child) = (0, 0);
    loop {
        let mut moved = false;
        for from_a in [true, false] {
            let (src, dst, src_ip) = if from_a {
                (&mut *a, &mut *b, A_IP)
            } else {
                (&mut *b, &mut *a, B_IP)
            };
            while let Some(t) = src.poll_transmit() {
                moved = true;
                let mut msg = t.ike_message().to_vec();
                let remote = SocketAddr::new(src_ip, t.local.port());
                // A drop would show up as a missing IkeSaUp below.
                let _ = dst.handle_datagram(now, remote, t.remote, &mut msg);
            }
        }
        for e in [&mut *a, &mut *b] {
            while let Some(ev) = e.poll_event() {
                match ev {
                    Event::IkeSaUp { .. } => up += 1,
                    Event::ChildSaInstall(_) => child += 1,
                    _ => {}
                }
            }
        }
        if !moved {
            return (up, child);
        }
    }
}

fn check((up, child): (usize, usize), what: &str) {
    assert_eq!(
        (up, child),
        (2, 2),
        "{what}: handshake did not complete on both sides"
    );
}

thread_local! {
    /// (benchmark name, nanoseconds per iteration of each criterion sample).
    static SAMPLES: RefCell<Vec<(String, Vec<f64>)>> = const { RefCell::new(Vec::new()) };
}

fn record(name: &str, iters: u64, elapsed: Duration) {
    #[expect(clippy::cast_precision_loss, reason = "iteration counts are far below 2^52")]
    let per = elapsed.as_nanos() as f64 / iters as f64;
    SAMPLES.with(|s| {
        let mut s = s.borrow_mut();
        match s.iter_mut().find(|(n, _)| n == name) {
            Some((_, v)) => v.push(per),
            None => s.push((name.to_owned(), vec![per])),
        }
    });
}

fn median_ns(name: &str) -> f64 {
    SAMPLES.with(|s| {
        let s = s.borrow();
        let mut v = s
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    })
}

/// Full handshakes: two fresh endpoints (shared configurations), connect, run to completion.
fn handshakes(c: &mut Criterion, case: Case) {
    let ca = config(case, true);
    let cb = config(case, false);
    let mut seed = 0u64;
    check(
        handshake(&mut endpoint(&ca, 1), &mut endpoint(&cb, 2)),
        case.name(),
    );
    let name = format!("handshake/{}", case.name());
    let mut g = c.benchmark_group("engine");
    g.sample_size(10).measurement_time(Duration::from_secs(4));
    g.bench_function(&name, |b| {
        b.iter_custom(|iters| {
            let start = StdInstant::now();
            for _ in 0..iters {
                seed = seed.wrapping_add(2);
                let mut a = endpoint(&ca, seed);
                let mut r = endpoint(&cb, seed.wrapping_add(1));
                black_box(handshake(&mut a, &mut r));
            }
            let d = start.elapsed();
            record(&name, iters, d);
            d
        });
    });
    g.finish();
}

/// The key exchange a handshake cannot avoid: both sides generate a private value and agree.
fn key_exchange(c: &mut Criterion, group: DhGroup, label: &str) {
    let provider = RustCrypto::new();
    let kex = provider.key_exchange(group).expect("group provided");
    let mut rng = Entropy::new(ChaCha20Rng::seed_from_u64(7));
    let name = format!("kex/{label}");
    let mut g = c.benchmark_group("engine");
    g.sample_size(10).measurement_time(Duration::from_secs(3));
    g.bench_function(&name, |b| {
        b.iter_custom(|iters| {
            let start = StdInstant::now();
            for _ in 0..iters {
                let i = kex.generate(&mut rng).expect("generate");
                let r = kex.generate(&mut rng).expect("generate");
                black_box(i.agree(r.public_value()).expect("agree"));
                black_box(r.agree(i.public_value()).expect("agree"));
            }
            let d = start.elapsed();
            record(&name, iters, d);
            d
        });
    });
    g.finish();
}

struct Mass {
    n: usize,
    secs: f64,
    initiator_bytes: usize,
    responder_bytes: usize,
}

/// Establishes `n` IKE SAs (one CHILD SA each) from one initiator endpoint to one responder
/// endpoint, one after the other (so the responder's half-open limits never apply), and measures
/// the time and the live heap bytes each endpoint holds afterwards.
fn many(case: Case, n: usize) -> Mass {
    let ca = config(case, true);
    let cb = config(case, false);
    let base = live();
    let mut a = endpoint(&ca, 11);
    let mut b = endpoint(&cb, 12);
    let start = StdInstant::now();
    for _ in 0..n {
        check(handshake(&mut a, &mut b), case.name());
    }
    let secs = start.elapsed().as_secs_f64();
    assert_eq!((a.ike_sa_count(), b.ike_sa_count()), (n, n));
    let both = live().saturating_sub(base);
    drop(a);
    let responder_bytes = live().saturating_sub(base);
    drop(b);
    Mass {
        n,
        secs,
        initiator_bytes: both.saturating_sub(responder_bytes),
        responder_bytes,
    }
}

#[expect(clippy::cast_precision_loss, reason = "figures for a printed table")]
fn main() {
    let mut c = Criterion::default().configure_from_args();
    handshakes(&mut c, Case::Psk);
    handshakes(&mut c, Case::Ecdsa);
    key_exchange(&mut c, DhGroup::CURVE25519, "x25519");

    let per_sa = many(Case::Psk, 1000);
    let per_sa_cert = many(Case::Ecdsa, 200);
    let n: usize = std::env::var("ENGINE_BENCH_SAS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let mass = many(Case::Psk, n);
    c.final_summary();

    let kex = median_ns("kex/x25519");
    println!();
    println!("engine: medians of criterion samples, one core, release, RustCrypto provider");
    println!("| case | handshake (µs) | handshakes/s | x25519 kex both sides (µs) | kex / handshake |");
    println!("|---|---:|---:|---:|---:|");
    for case in [Case::Psk, Case::Ecdsa] {
        let hs = median_ns(&format!("handshake/{}", case.name()));
        println!(
            "| {} | {:.1} | {:.0} | {:.1} | {:.2} |",
            case.name(),
            hs / 1e3,
            1e9 / hs,
            kex / 1e3,
            kex / hs
        );
    }
    println!();
    println!(
        "| memory per established IKE SA + 1 CHILD SA | SAs | initiator (bytes/SA) | responder (bytes/SA) |"
    );
    println!("|---|---:|---:|---:|");
    for (name, m) in [("x25519-psk", &per_sa), ("x25519-ecdsa-p256", &per_sa_cert)] {
        println!(
            "| {name} | {} | {} | {} |",
            m.n,
            m.initiator_bytes / m.n,
            m.responder_bytes / m.n
        );
    }
    println!();
    println!("| many SAs against one responder (x25519-psk, sequential) | value |");
    println!("|---|---:|");
    println!("| SAs established | {} |", mass.n);
    println!("| time (both sides' work) | {:.2} s |", mass.secs);
    println!("| rate | {:.0} SAs/s |", mass.n as f64 / mass.secs);
    println!(
        "| responder heap | {:.1} MiB ({} bytes/SA) |",
        mass.responder_bytes as f64 / 1_048_576.0,
        mass.responder_bytes / mass.n
    );
    println!(
        "| initiator heap | {:.1} MiB ({} bytes/SA) |",
        mass.initiator_bytes as f64 / 1_048_576.0,
        mass.initiator_bytes / mass.n
    );
}
