//! The data-plane demo: two gateways in one process joined by a site-to-site ESP tunnel.
//!
//! Gateway A (198.51.100.1, LAN 192.168.10.0/24) and gateway B (203.0.113.1, LAN 192.168.20.0/24)
//! each hold an SPD and a SAD from `ipsec-core`. Keys are set by hand here ("manual keying", drawn
//! from OS entropy); IKEv2 negotiation (`ipsec-ike`) is not wired into this demo yet. Packets go
//! through the SPD, ESP (AES-256-GCM, RFC 4106) in UDP (RFC 3948), across an in-memory "Internet",
//! and back out of the tunnel; then the demo shows what the stack refuses and prints a status table.
//!
//! Run: `cargo run --example demo` (add `--release` for throughput figures that mean something).
#![forbid(unsafe_code)]

use std::net::IpAddr;
use std::time::Instant as StdInstant;

use getrandom::SysRng;
use ipsec_core::lifetime::{Lifetime, Limits};
use ipsec_core::mss::clamp_mss;
use ipsec_core::replay::replay_words;
use ipsec_core::sa::{Direction, Mode, SaParams, SecurityProtocol, Spi, TfcPadding, TunnelOptions, UdpEncap};
use ipsec_core::selector::{AddrRange, PacketSelector, SelectorSet, TrafficSelector};
use ipsec_core::spd::{Action, Decision, Policy, PolicyDirection, Spd};
use ipsec_core::transform::{AesKeyLen, EspAlgorithm, KeyMaterial, RustCrypto};
use ipsec_core::wire::{IpProtocol, Ipv4Repr, transport_checksum};
use ipsec_core::{Instant, SaId, Sad, SadEvent, UnprotectError, Unprotected};

type GatewaySad = Sad<RustCrypto, 16, { replay_words(1024) }>;

const ALG: EspAlgorithm = EspAlgorithm::AesGcm16(AesKeyLen::Aes256);

/// One gateway: its addresses, SPD and SAD, and the SA ids it uses.
struct Gateway {
    name: &'static str,
    spd: Spd<8>,
    sad: GatewaySad,
    out: SaId,
    inb: SaId,
}

fn net(s: &str, len: u8) -> AddrRange {
    AddrRange::from_prefix(s.parse().expect("literal address"), len).expect("literal prefix")
}

fn params(spi: u32, direction: Direction, local: IpAddr, remote: IpAddr, ts: TrafficSelector) -> SaParams {
    SaParams {
        spi: Spi(spi),
        direction,
        protocol: SecurityProtocol::Esp(ALG),
        mode: Mode::Tunnel { local, remote },
        esn: false,
        replay_window: 128,
        lifetime: Lifetime {
            soft: Limits {
                packets: Some(25_000),
                ..Limits::NONE
            },
            hard: Limits::NONE,
        },
        encap: Some(UdpEncap {
            local_port: 4500,
            remote_port: 4500,
        }),
        selectors: SelectorSet::from_slice(&[ts]).expect("one selector fits"),
        tunnel: TunnelOptions::default(),
        tfc: TfcPadding::None,
    }
}

fn gateway(
    name: &'static str,
    public: IpAddr,
    peer: IpAddr,
    ts: TrafficSelector,
    spis: (u32, u32),
    keys: (&KeyMaterial, &KeyMaterial),
) -> Result<Gateway, Box<dyn std::error::Error>> {
    let mut sad = GatewaySad::new(RustCrypto);
    let mut rng = SysRng;
    let out = sad.install(
        Instant::ZERO,
        &params(spis.0, Direction::Outbound, public, peer, ts),
        keys.0,
        &mut rng,
    )?;
    let inb = sad.install(
        Instant::ZERO,
        &params(spis.1, Direction::Inbound, public, peer, ts),
        keys.1,
        &mut rng,
    )?;
    let mut spd = Spd::new();
    let policy = spd.insert(
        10,
        Policy {
            selector: ts,
            direction: PolicyDirection::Both,
            action: Action::Protect { sa: None },
        },
    )?;
    spd.set_sa(policy, Some(out))?;
    Ok(Gateway {
        name,
        spd,
        sad,
        out,
        inb,
    })
}

/// A UDP packet between two LAN hosts with a payload of `n` bytes.
fn udp_packet(src: &str, dst: &str, n: usize) -> Vec<u8> {
    let (src, dst): (IpAddr, IpAddr) = (src.parse().expect("literal"), dst.parse().expect("literal"));
    let (IpAddr::V4(s), IpAddr::V4(d)) = (src, dst) else {
        unreachable!("IPv4 literals")
    };
    let mut seg = vec![0u8; 8 + n];
    seg[0..2].copy_from_slice(&40000u16.to_be_bytes());
    seg[2..4].copy_from_slice(&53u16.to_be_bytes());
    seg[4..6].copy_from_slice(&u16::try_from(8 + n).expect("small").to_be_bytes());
    for (i, b) in seg[8..].iter_mut().enumerate() {
        *b = b'a' + (i % 26) as u8;
    }
    let sum = transport_checksum(src, dst, IpProtocol::UDP, &seg);
    seg[6..8].copy_from_slice(&sum.to_be_bytes());
    let mut pkt = vec![0u8; 20];
    let repr = Ipv4Repr {
        src: s,
        dst: d,
        protocol: IpProtocol::UDP,
        payload_len: seg.len(),
        tos: 0,
        ident: 7,
        dont_fragment: true,
        ttl: 63,
    };
    repr.emit(&mut pkt).expect("20 bytes");
    pkt.extend_from_slice(&seg);
    pkt
}

/// Sends `inner` from `gw` through its SPD and SAD: the bytes that go on the wire (outer IPv4 + UDP
/// + ESP).
fn send(gw: &mut Gateway, now: Instant, inner: &[u8]) -> Result<Vec<u8>, String> {
    let sel = PacketSelector::outbound(inner).map_err(|e| e.to_string())?;
    let sa = match gw.spd.lookup_outbound(&sel) {
        Decision::Protect { sa, .. } => sa,
        other => return Err(format!("SPD decision {other:?}")),
    };
    let o = gw.sad.overhead(sa).ok_or("stale SA")?;
    let mut buf = vec![0u8; o.headroom + inner.len() + o.tailroom];
    buf[o.headroom..o.headroom + inner.len()].copy_from_slice(inner);
    let r = gw
        .sad
        .protect(now, sa, &mut buf, o.headroom, inner.len())
        .map_err(|e| e.to_string())?;
    Ok(buf[r.packet].to_vec())
}

/// Receives a wire packet at `gw`: the inner packet it delivers to its LAN.
fn receive(gw: &mut Gateway, now: Instant, wire: &[u8]) -> Result<Vec<u8>, UnprotectError> {
    let mut buf = wire.to_vec();
    match gw.sad.unprotect(now, &mut buf, 0, wire.len())? {
        Unprotected::Packet { packet, .. } => Ok(buf[packet].to_vec()),
        Unprotected::Dummy { .. } => Ok(Vec::new()),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join("")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a_pub: IpAddr = "198.51.100.1".parse()?;
    let b_pub: IpAddr = "203.0.113.1".parse()?;
    let lan_a = net("192.168.10.0", 24);
    let lan_b = net("192.168.20.0", 24);

    // Manual keying: one key per direction, 32-byte AES key + 4-byte salt (RFC 4106).
    let mut k = [0u8; 72];
    getrandom::fill(&mut k)?;
    let a_to_b = KeyMaterial::new(&k[..36])?;
    let b_to_a = KeyMaterial::new(&k[36..])?;
    let (spi_ab, spi_ba) = (0xc0ff_ee01, 0xc0ff_ee02);

    let mut a = gateway(
        "A",
        a_pub,
        b_pub,
        TrafficSelector::new(lan_a, lan_b),
        (spi_ab, spi_ba),
        (&a_to_b, &b_to_a),
    )?;
    let mut b = gateway(
        "B",
        b_pub,
        a_pub,
        TrafficSelector::new(lan_b, lan_a),
        (spi_ba, spi_ab),
        (&b_to_a, &a_to_b),
    )?;

    println!("ipsec-rs data-plane demo: a site-to-site tunnel between two gateways in one process");
    println!(
        "  A {a_pub} (LAN 192.168.10.0/24)  <=== ESP AES-256-GCM in UDP 4500 ===>  B {b_pub} (LAN 192.168.20.0/24)"
    );
    println!(
        "  SAs: A->B spi {spi_ab:08x}, B->A spi {spi_ba:08x}; keys set by hand (IKEv2 is not wired in yet)\n"
    );

    let now = Instant::ZERO;
    let inner = udp_packet("192.168.10.5", "192.168.20.7", 1200);
    let wire = send(&mut a, now, &inner)?;
    println!(
        "1. 192.168.10.5 -> 192.168.20.7, UDP, a {}-byte packet enters A",
        inner.len()
    );
    println!(
        "   A: SPD says PROTECT; ESP adds {} bytes -> {} bytes on the wire (IPv4 20, UDP 8, ESP 8, IV 8, trailer+pad {}, ICV 16)",
        wire.len() - inner.len(),
        wire.len(),
        wire.len() - inner.len() - 60
    );
    println!(
        "   wire: outer {} | udp {} | spi {} seq {} | iv {} | ciphertext {}.. | icv {}",
        hex(&wire[..20]),
        hex(&wire[20..28]),
        hex(&wire[28..32]),
        hex(&wire[32..36]),
        hex(&wire[36..44]),
        hex(&wire[44..52]),
        hex(&wire[wire.len() - 16..])
    );
    let got = receive(&mut b, now, &wire)?;
    println!(
        "   B: ICV verified, decrypted, inner packet inside the SA's selectors -> delivered; identical: {}\n",
        got == inner
    );

    let reply = udp_packet("192.168.20.7", "192.168.10.5", 64);
    let back = send(&mut b, now, &reply)?;
    println!(
        "2. and back: B -> A {} bytes on the wire, A delivers: identical: {}\n",
        back.len(),
        receive(&mut a, now, &back)? == reply
    );

    println!("3. what the stack refuses (each leaves the SA as it was):");
    match receive(&mut b, now, &wire) {
        Err(e) => println!("   the same packet again           -> dropped: {e}"),
        Ok(_) => println!("   the same packet again           -> ACCEPTED (bug!)"),
    }
    let mut tampered = send(&mut a, now, &inner)?;
    tampered[100] ^= 0x01;
    match receive(&mut b, now, &tampered) {
        Err(e) => println!("   one bit flipped in the payload  -> dropped: {e}"),
        Ok(_) => println!("   one bit flipped in the payload  -> ACCEPTED (bug!)"),
    }
    // A's SPD would never send this, so build the ESP directly with A's outbound SA.
    let spoofed = udp_packet("10.66.0.1", "192.168.20.7", 40);
    let o = a.sad.overhead(a.out).ok_or("stale SA")?;
    let mut buf = vec![0u8; o.headroom + spoofed.len() + o.tailroom];
    buf[o.headroom..o.headroom + spoofed.len()].copy_from_slice(&spoofed);
    let r = a.sad.protect(now, a.out, &mut buf, o.headroom, spoofed.len())?;
    match receive(&mut b, now, &buf[r.packet]) {
        Err(e) => println!("   inner source 10.66.0.1          -> dropped: {e}"),
        Ok(_) => println!("   inner source 10.66.0.1          -> ACCEPTED (bug!)"),
    }
    let plain = udp_packet("192.168.10.5", "192.168.20.7", 40);
    match b.spd.check_inbound_plain(&PacketSelector::inbound(&plain)?) {
        Err(e) => println!("   the same traffic in plaintext   -> dropped: {e}\n"),
        Ok(_) => println!("   the same traffic in plaintext   -> ACCEPTED (bug!)\n"),
    }

    let mtu = 1500;
    let max = a.sad.max_inner_len(a.out, mtu).ok_or("stale SA")?;
    let mss = ipsec_core::mss::mss_for_mtu(max, false);
    let mut syn = tcp_syn("192.168.10.5", "192.168.20.7", 1460);
    let clamped = clamp_mss(&mut syn, mss)?;
    println!(
        "4. path MTU {mtu}: the largest inner packet is {max} bytes; TCP MSS clamped to {mss} ({clamped:?})\n"
    );

    let n = 20_000u32;
    let bulk = udp_packet("192.168.10.5", "192.168.20.7", 1400 - 28);
    let o = a.sad.overhead(a.out).ok_or("stale SA")?;
    let mut buf = vec![0u8; o.headroom + bulk.len() + o.tailroom];
    let start = StdInstant::now();
    for _ in 0..n {
        buf[o.headroom..o.headroom + bulk.len()].copy_from_slice(&bulk);
        let r = a.sad.protect(now, a.out, &mut buf, o.headroom, bulk.len())?;
        let (s, l) = (r.packet.start, r.packet.len());
        b.sad.unprotect(now, &mut buf, s, l)?;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "5. {n} packets of 1400 bytes A -> B, protect + unprotect on one core: {:.0} packets/s, {:.2} Gbit/s{}\n",
        f64::from(n) / secs,
        f64::from(n) * 1400.0 * 8.0 / secs / 1e9,
        if cfg!(debug_assertions) {
            " (debug build: run with --release for real figures)"
        } else {
            ""
        }
    );

    let later = Instant::from_micros(5_000_000);
    for _ in 0..5_000 {
        buf[o.headroom..o.headroom + 60].copy_from_slice(&udp_packet("192.168.10.5", "192.168.20.7", 32));
        a.sad.protect(later, a.out, &mut buf, o.headroom, 60)?;
    }
    while let Some(ev) = a.sad.poll_event() {
        if let SadEvent::SoftExpired { spi, limit, .. } = ev {
            println!(
                "6. A's SAD: SA {spi} crossed its soft {limit:?} limit -> rekey wanted (the IKE engine would start CREATE_CHILD_SA)\n"
            );
        }
    }

    println!("status:");
    println!(
        "  {:<3} {:<4} {:<9} {:<16} {:>9} {:>11} {:>7} {:>6} {:>7}",
        "gw", "dir", "spi", "transform", "packets", "bytes", "replay", "icv", "policy"
    );
    for gw in [&a, &b] {
        for (dir, id) in [("out", gw.out), ("in", gw.inb)] {
            let p = gw.sad.params(id).ok_or("stale SA")?;
            let s = gw.sad.stats(id).ok_or("stale SA")?;
            println!(
                "  {:<3} {:<4} {:<9} {:<16} {:>9} {:>11} {:>7} {:>6} {:>7}",
                gw.name,
                dir,
                p.spi.to_string(),
                "AES_GCM_16-256",
                s.packets,
                s.bytes,
                s.replay_drops,
                s.icv_failures,
                s.policy_drops
            );
        }
    }
    Ok(())
}

/// A TCP SYN with an MSS option.
fn tcp_syn(src: &str, dst: &str, mss: u16) -> Vec<u8> {
    let (src, dst): (IpAddr, IpAddr) = (src.parse().expect("literal"), dst.parse().expect("literal"));
    let (IpAddr::V4(s), IpAddr::V4(d)) = (src, dst) else {
        unreachable!("IPv4 literals")
    };
    let mut seg = vec![0u8; 24];
    seg[0..2].copy_from_slice(&40001u16.to_be_bytes());
    seg[2..4].copy_from_slice(&443u16.to_be_bytes());
    seg[12] = 6 << 4;
    seg[13] = 0x02;
    seg[20..22].copy_from_slice(&[2, 4]);
    seg[22..24].copy_from_slice(&mss.to_be_bytes());
    let sum = transport_checksum(src, dst, IpProtocol::TCP, &seg);
    seg[16..18].copy_from_slice(&sum.to_be_bytes());
    let mut pkt = vec![0u8; 20];
    Ipv4Repr {
        src: s,
        dst: d,
        protocol: IpProtocol::TCP,
        payload_len: 24,
        tos: 0,
        ident: 1,
        dont_fragment: true,
        ttl: 64,
    }
    .emit(&mut pkt)
    .expect("20 bytes");
    pkt.extend_from_slice(&seg);
    pkt
}
