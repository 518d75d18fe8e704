//! SAD behaviour: lifetimes and their events, sequence-number exhaustion, tunnel outer headers
//! (DSCP, RFC 6040 ECN, DF, TTL), TFC padding, dummy packets, MTU arithmetic, UDP encapsulation,
//! selectors, and every refusal leaving the SA as it was.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use ipsec_core::lifetime::{Lifetime, LifetimeState, LimitKind, Limits};
use ipsec_core::sa::{
    DfMode, Direction, DscpMode, EcnMode, Mode, SaParams, SecurityProtocol, Spi, TfcPadding, UdpEncap,
};
use ipsec_core::sad::{SEQ_SOFT_LIMIT_32, SadEvent};
use ipsec_core::selector::{AddrRange, SelectorSet, TrafficSelector};
use ipsec_core::spd::PolicyViolation;
use ipsec_core::testing::packets;
use ipsec_core::testing::sa::{Pair, Shape, TestSad, addrs, keys, pair, params, rng};
use ipsec_core::transform::{AesKeyLen, CryptoError, EspAlgorithm, Integrity, RustCrypto};
use ipsec_core::wire::{IpPacket, Ipv4Header, Ipv6Header};
use ipsec_core::{InstallError, Instant, ProtectError, SaId, UnprotectError, Unprotected};

const GCM: EspAlgorithm = EspAlgorithm::AesGcm16(AesKeyLen::Aes256);
const CBC: EspAlgorithm = EspAlgorithm::AesCbc(AesKeyLen::Aes128, Integrity::HmacSha256_128);

fn secs(s: u64) -> Instant {
    Instant::from_micros(s * 1_000_000)
}

/// Protects `inner` on `p.out`; returns the wire packet.
fn send(p: &mut Pair, now: Instant, inner: &[u8]) -> Result<Vec<u8>, ProtectError> {
    let o = p.tx.overhead(p.out).unwrap();
    let mut buf = vec![0u8; o.headroom + inner.len() + o.tailroom];
    buf[o.headroom..o.headroom + inner.len()].copy_from_slice(inner);
    let r = p.tx.protect(now, p.out, &mut buf, o.headroom, inner.len())?;
    Ok(buf[r.packet].to_vec())
}

/// Unprotects a wire packet on `p.rx`; returns the delivered packet.
fn receive(p: &mut Pair, now: Instant, wire: &[u8]) -> Result<Vec<u8>, UnprotectError> {
    let mut buf = wire.to_vec();
    match p.rx.unprotect(now, &mut buf, 0, wire.len())? {
        Unprotected::Packet { packet, .. } => Ok(buf[packet].to_vec()),
        Unprotected::Dummy { .. } => Ok(Vec::new()),
    }
}

fn udp4(len: usize, tos: u8) -> Vec<u8> {
    let a = addrs(false);
    packets::udp(a.host_a, a.host_b, len, tos)
}

fn events(sad: &mut TestSad) -> Vec<SadEvent> {
    std::iter::from_fn(|| sad.poll_event()).collect()
}

#[test]
fn packet_and_byte_lifetimes_raise_soft_then_hard_once() {
    let mut p = pair(Shape::esp_tunnel(GCM), 1);
    let mut prm = params(Shape::esp_tunnel(GCM), Direction::Outbound, 0x2000);
    prm.lifetime = Lifetime {
        soft: Limits {
            packets: Some(3),
            ..Limits::NONE
        },
        hard: Limits {
            bytes: Some(5 * 100),
            ..Limits::NONE
        },
    };
    let k = keys(prm.protocol, 1);
    p.tx.remove(p.out).unwrap();
    p.out = p.tx.install(Instant::ZERO, &prm, &k, &mut rng(5)).unwrap();
    let inner = udp4(72, 0); // 100 bytes
    for _ in 0..2 {
        send(&mut p, Instant::ZERO, &inner).unwrap();
    }
    assert!(events(&mut p.tx).is_empty());
    send(&mut p, Instant::ZERO, &inner).unwrap();
    assert_eq!(
        events(&mut p.tx),
        [SadEvent::SoftExpired {
            sa: p.out,
            spi: Spi(0x2000),
            direction: Direction::Outbound,
            limit: LimitKind::Packets
        }]
    );
    send(&mut p, Instant::ZERO, &inner).unwrap();
    assert!(events(&mut p.tx).is_empty(), "soft fires once");
    send(&mut p, Instant::ZERO, &inner).unwrap();
    assert_eq!(
        events(&mut p.tx),
        [SadEvent::HardExpired {
            sa: p.out,
            spi: Spi(0x2000),
            direction: Direction::Outbound,
            limit: LimitKind::Bytes
        }]
    );
    assert_eq!(
        send(&mut p, Instant::ZERO, &inner),
        Err(ProtectError::Expired(LimitKind::Bytes))
    );
    assert_eq!(
        p.tx.lifetime_state(p.out),
        Some(LifetimeState::Expired(LimitKind::Bytes))
    );
}

#[test]
fn time_lifetimes_are_driven_by_the_callers_clock() {
    let shape = Shape::esp_tunnel(GCM);
    let mut sad = TestSad::new(RustCrypto);
    let mut prm = params(shape, Direction::Inbound, 0x3000);
    prm.lifetime = Lifetime {
        soft: Limits {
            time: Some(Duration::from_secs(50)),
            ..Limits::NONE
        },
        hard: Limits {
            time: Some(Duration::from_secs(60)),
            ..Limits::NONE
        },
    };
    let id = sad
        .install(secs(10), &prm, &keys(prm.protocol, 1), &mut rng(1))
        .unwrap();
    assert_eq!(sad.poll_timeout(), Some(secs(60)));
    sad.handle_timeout(secs(59));
    assert_eq!(sad.poll_event(), None);
    sad.handle_timeout(secs(60));
    assert_eq!(
        sad.poll_event(),
        Some(SadEvent::SoftExpired {
            sa: id,
            spi: Spi(0x3000),
            direction: Direction::Inbound,
            limit: LimitKind::Time
        })
    );
    assert_eq!(sad.poll_timeout(), Some(secs(70)));
    // A clock going backwards changes nothing.
    sad.handle_timeout(secs(1));
    assert_eq!(sad.poll_event(), None);
    sad.handle_timeout(secs(71));
    assert!(matches!(
        sad.poll_event(),
        Some(SadEvent::HardExpired {
            limit: LimitKind::Time,
            ..
        })
    ));
    assert_eq!(sad.poll_timeout(), None);
    // Removing the SA drops it from the deadline computation and ids go stale.
    assert!(sad.remove(id).is_some());
    assert!(sad.remove(id).is_none());
    assert_eq!(sad.stats(id), None);
}

#[test]
fn sequence_space_soft_limit_then_exhaustion_without_esn() {
    let mut p = pair(Shape::esp_tunnel(GCM), 1);
    let inner = udp4(10, 0);
    p.tx.set_sequence_for_test(p.out, SEQ_SOFT_LIMIT_32 - 1);
    send(&mut p, Instant::ZERO, &inner).unwrap();
    assert!(matches!(
        events(&mut p.tx)[..],
        [SadEvent::SoftExpired {
            limit: LimitKind::SequenceNumbers,
            ..
        }]
    ));
    p.tx.set_sequence_for_test(p.out, u64::from(u32::MAX) - 1);
    let last = send(&mut p, Instant::ZERO, &inner).unwrap();
    assert_eq!(&last[24..28], &u32::MAX.to_be_bytes());
    assert!(matches!(
        events(&mut p.tx)[..],
        [SadEvent::HardExpired {
            limit: LimitKind::SequenceNumbers,
            ..
        }]
    ));
    assert_eq!(
        send(&mut p, Instant::ZERO, &inner),
        Err(ProtectError::Expired(LimitKind::SequenceNumbers))
    );
    assert_eq!(p.tx.sequence(p.out), Some(u64::from(u32::MAX)));
}

#[test]
fn esn_carries_on_past_2_pow_32() {
    let shape = Shape {
        esn: true,
        ..Shape::esp_tunnel(CBC)
    };
    let mut p = pair(shape, 1);
    let inner = udp4(300, 0);
    // The receiver has seen packets up to just below the boundary.
    p.tx.set_sequence_for_test(p.out, u64::from(u32::MAX) - 2);
    for _ in 0..5 {
        let wire = send(&mut p, Instant::ZERO, &inner).unwrap();
        assert_eq!(receive(&mut p, Instant::ZERO, &wire).unwrap(), inner);
    }
    assert_eq!(p.tx.sequence(p.out), Some((1 << 32) + 2));
    assert_eq!(p.rx.sequence(p.inb), Some((1 << 32) + 2));
}

#[test]
fn outer_header_follows_dscp_ecn_df_and_ttl_options() {
    let shape = Shape::esp_tunnel(GCM);
    let mut p = pair(shape, 1);
    // DSCP 46 (EF), ECN ECT(0): copied outwards (RFC 4301 §5.1.2.1, RFC 6040 normal mode).
    let wire = send(&mut p, Instant::ZERO, &udp4(50, (46 << 2) | 2)).unwrap();
    let outer = Ipv4Header::new_checked(&wire).unwrap();
    assert_eq!(outer.tos(), (46 << 2) | 2);
    assert!(outer.dont_fragment(), "DF copied from the inner packet");
    assert_eq!(outer.ttl(), 64);
    assert!(outer.checksum_ok());

    let mut prm = params(shape, Direction::Outbound, 0x1000);
    prm.tunnel.dscp = DscpMode::Set(10);
    prm.tunnel.ecn = EcnMode::Compatibility;
    prm.tunnel.df = DfMode::Clear;
    prm.tunnel.ttl = 9;
    let mut tx = TestSad::new(RustCrypto);
    let id = tx
        .install(Instant::ZERO, &prm, &keys(prm.protocol, 1), &mut rng(1))
        .unwrap();
    let inner = udp4(50, (46 << 2) | 3);
    let mut buf = vec![0u8; 200];
    buf[60..60 + inner.len()].copy_from_slice(&inner);
    let r = tx.protect(Instant::ZERO, id, &mut buf, 60, inner.len()).unwrap();
    let outer = Ipv4Header::new_checked(&buf[r.packet]).unwrap();
    assert_eq!(outer.tos(), 10 << 2);
    assert!(!outer.dont_fragment());
    assert_eq!(outer.ttl(), 9);
}

/// RFC 6040 §4.2, Figure 4: (inner, outer) -> result, `None` = drop.
#[test]
fn rfc6040_decapsulation_table() {
    const NOT: u8 = 0;
    const ECT1: u8 = 1;
    const ECT0: u8 = 2;
    const CE: u8 = 3;
    let table = [
        (NOT, NOT, Some(NOT)),
        (NOT, ECT0, Some(NOT)),
        (NOT, ECT1, Some(NOT)),
        (NOT, CE, None),
        (ECT0, NOT, Some(ECT0)),
        (ECT0, ECT0, Some(ECT0)),
        (ECT0, ECT1, Some(ECT1)),
        (ECT0, CE, Some(CE)),
        (ECT1, NOT, Some(ECT1)),
        (ECT1, ECT0, Some(ECT1)),
        (ECT1, ECT1, Some(ECT1)),
        (ECT1, CE, Some(CE)),
        (CE, NOT, Some(CE)),
        (CE, ECT0, Some(CE)),
        (CE, ECT1, Some(CE)),
        (CE, CE, Some(CE)),
    ];
    for v6 in [false, true] {
        let shape = Shape {
            tunnel: Some(v6),
            ..Shape::esp_tunnel(GCM)
        };
        for (inner_ecn, outer_ecn, expect) in table {
            let mut p = pair(shape, 1);
            let a = addrs(v6);
            let inner = packets::udp(a.host_a, a.host_b, 40, (12 << 2) | inner_ecn);
            let mut wire = send(&mut p, Instant::ZERO, &inner).unwrap();
            // A router on the path re-marks the outer header (the ESP ICV does not cover it).
            if v6 {
                wire[1] = (wire[1] & 0xcf) | (outer_ecn << 4);
            } else {
                wire[1] = (wire[1] & 0xfc) | outer_ecn;
            }
            let got = receive(&mut p, Instant::ZERO, &wire);
            match expect {
                None => {
                    assert_eq!(
                        got,
                        Err(UnprotectError::EcnDrop),
                        "v6 {v6} inner {inner_ecn} outer {outer_ecn}"
                    );
                    assert_eq!(p.rx.sequence(p.inb), Some(0));
                }
                Some(e) => {
                    let got = got.unwrap();
                    let ip = IpPacket::new_checked(&got).unwrap();
                    let tos = match ip {
                        IpPacket::V4(h) => {
                            assert!(h.checksum_ok());
                            h.tos()
                        }
                        IpPacket::V6(h) => h.traffic_class(),
                    };
                    assert_eq!(
                        (tos >> 2, tos & 3),
                        (12, e),
                        "v6 {v6} inner {inner_ecn} outer {outer_ecn}"
                    );
                }
            }
        }
    }
}

#[test]
fn tfc_padding_hides_the_length_and_is_stripped() {
    let shape = Shape {
        tfc: Some(1000),
        ..Shape::esp_tunnel(GCM)
    };
    let mut p = pair(shape, 1);
    let small = udp4(10, 0);
    let big = udp4(1200, 0);
    let w1 = send(&mut p, Instant::ZERO, &small).unwrap();
    let w2 = send(&mut p, Instant::ZERO, &udp4(500, 0)).unwrap();
    assert_eq!(w1.len(), w2.len(), "padded to the same length");
    assert_eq!(receive(&mut p, Instant::ZERO, &w1).unwrap(), small);
    let w3 = send(&mut p, Instant::ZERO, &big).unwrap();
    assert!(w3.len() > w1.len());
    assert_eq!(receive(&mut p, Instant::ZERO, &w3).unwrap(), big);
}

#[test]
fn dummy_packets_are_authenticated_counted_and_dropped() {
    let mut p = pair(Shape::esp_tunnel(GCM), 1);
    let mut buf = vec![0u8; 300];
    let r =
        p.tx.protect_dummy(Instant::ZERO, p.out, &mut buf, 64, 100)
            .unwrap();
    let wire = buf[r.packet].to_vec();
    let mut rx = wire.clone();
    assert_eq!(
        p.rx.unprotect(Instant::ZERO, &mut rx, 0, wire.len()),
        Ok(Unprotected::Dummy { sa: p.inb, seq: 1 })
    );
    assert_eq!(p.rx.stats(p.inb).unwrap().dummy_packets, 1);
    assert_eq!(p.rx.stats(p.inb).unwrap().packets, 0);
    // Replay protection applies to dummies too.
    let mut rx = wire.clone();
    assert!(matches!(
        p.rx.unprotect(Instant::ZERO, &mut rx, 0, wire.len()),
        Err(UnprotectError::Replayed(_))
    ));
    // Transport mode has no dummies.
    let mut t = pair(
        Shape {
            tunnel: None,
            ..Shape::esp_tunnel(GCM)
        },
        1,
    );
    assert!(matches!(
        t.tx.protect_dummy(Instant::ZERO, t.out, &mut buf, 64, 100),
        Err(ProtectError::Malformed(_))
    ));
}

#[test]
fn max_inner_len_is_exact_for_every_tunnel_transform() {
    for alg in ipsec_core::testing::sa::ESP_ALGORITHMS {
        for (v6, encap) in [(false, false), (false, true), (true, false), (true, true)] {
            let shape = Shape {
                tunnel: Some(v6),
                encap,
                ..Shape::esp_tunnel(alg)
            };
            let mut p = pair(shape, 1);
            for mtu in [576usize, 1280, 1400, 1500, 9000] {
                let max = p.tx.max_inner_len(p.out, mtu).unwrap();
                let fits = send(&mut p, Instant::ZERO, &udp4(max - 28, 0)).unwrap();
                assert!(
                    fits.len() <= mtu,
                    "{alg:?} v6 {v6} encap {encap} mtu {mtu}: {} > {mtu}",
                    fits.len()
                );
                let over = send(&mut p, Instant::ZERO, &udp4(max + 1 - 28, 0)).unwrap();
                assert!(
                    over.len() > mtu,
                    "{alg:?} v6 {v6} mtu {mtu}: max {max} is not the largest"
                );
            }
        }
    }
    // AH tunnel: fixed overhead.
    let mut p = pair(
        Shape {
            protocol: SecurityProtocol::Ah(Integrity::HmacSha256_128),
            ..Shape::esp_tunnel(GCM)
        },
        1,
    );
    assert_eq!(p.tx.max_inner_len(p.out, 1500), Some(1500 - 20 - 28));
    let w = send(&mut p, Instant::ZERO, &udp4(1500 - 48 - 28, 0)).unwrap();
    assert_eq!(w.len(), 1500);
}

#[test]
fn esp_in_udp_uses_the_sa_ports_and_follows_port_changes() {
    let shape = Shape {
        encap: true,
        ..Shape::esp_tunnel(GCM)
    };
    let mut p = pair(shape, 1);
    let inner = udp4(64, 0);
    let wire = send(&mut p, Instant::ZERO, &inner).unwrap();
    assert_eq!(wire[9], 17);
    assert_eq!(&wire[20..24], &[0x11, 0x94, 0x11, 0x94]); // 4500 -> 4500
    assert_eq!(
        &wire[26..28],
        &[0, 0],
        "no UDP checksum over IPv4 (RFC 3948 §2.1)"
    );
    assert_eq!(receive(&mut p, Instant::ZERO, &wire).unwrap(), inner);
    // The peer's NAT mapping moved: the IKE engine tells the SAD.
    p.tx.set_encap(
        p.out,
        Some(UdpEncap {
            local_port: 4500,
            remote_port: 61000,
        }),
    )
    .unwrap();
    let wire = send(&mut p, Instant::ZERO, &inner).unwrap();
    assert_eq!(&wire[22..24], &61000u16.to_be_bytes());
    assert_eq!(receive(&mut p, Instant::ZERO, &wire).unwrap(), inner);
    // AH cannot be encapsulated.
    let ah_shape = Shape {
        protocol: SecurityProtocol::Ah(Integrity::HmacSha256_128),
        encap: false,
        ..shape
    };
    let mut ah = pair(ah_shape, 1);
    assert!(
        ah.tx
            .set_encap(
                ah.out,
                Some(UdpEncap {
                    local_port: 1,
                    remote_port: 2
                })
            )
            .is_err()
    );
    assert_eq!(ah.tx.params(ah.out).unwrap().encap, None);
}

#[test]
fn datagrams_from_a_udp_socket_are_unprotected_without_the_ip_header() {
    let shape = Shape {
        encap: true,
        ..Shape::esp_tunnel(GCM)
    };
    let mut p = pair(shape, 1);
    let inner = udp4(64, 0);
    let wire = send(&mut p, Instant::ZERO, &inner).unwrap();
    // A socket hands us only the UDP payload.
    let esp = &wire[28..];
    let mut buf = vec![0u8; 48 + esp.len()];
    buf[48..].copy_from_slice(esp);
    let remote: SocketAddr = "198.51.100.1:4500".parse().unwrap();
    let local: SocketAddr = "203.0.113.1:4500".parse().unwrap();
    let r =
        p.rx.unprotect_datagram(Instant::ZERO, remote, local, &mut buf, 48, esp.len())
            .unwrap();
    let Unprotected::Packet { packet, .. } = r else {
        panic!()
    };
    assert_eq!(&buf[packet], &inner[..]);
    let mut short = vec![0u8; 10 + esp.len()];
    assert_eq!(
        p.rx.unprotect_datagram(Instant::ZERO, remote, local, &mut short, 10, esp.len()),
        Err(UnprotectError::BufferTooSmall {
            needed: 28 + esp.len()
        })
    );
}

#[test]
fn transport_mode_behind_nat_fixes_the_inner_checksum() {
    // RFC 3948 §3.1.2: the sender's TCP/UDP checksum used its own (pre-NAT) addresses.
    let shape = Shape {
        tunnel: None,
        encap: true,
        ..Shape::esp_tunnel(CBC)
    };
    let mut p = pair(shape, 1);
    let a = addrs(false);
    let inner = packets::udp(a.host_a, a.host_b, 100, 0);
    let mut wire = send(&mut p, Instant::ZERO, &inner).unwrap();
    // A NAT rewrites the outer (= only) source address and fixes the IPv4 header checksum.
    let nat: IpAddr = "100.64.0.9".parse().unwrap();
    let IpAddr::V4(n) = nat else { unreachable!() };
    wire[12..16].copy_from_slice(&n.octets());
    wire[10..12].copy_from_slice(&[0, 0]);
    let mut c = ipsec_core::wire::Checksum::new();
    c.add_bytes(&wire[..20]);
    let sum = c.finish();
    wire[10..12].copy_from_slice(&sum.to_be_bytes());
    let got = receive(&mut p, Instant::ZERO, &wire).unwrap();
    assert_eq!(&got[12..16], &n.octets());
    let udp = &got[20..];
    assert_eq!(
        ipsec_core::wire::transport_checksum(nat, a.host_b, ipsec_core::wire::IpProtocol::UDP, udp),
        0
    );
}

#[test]
fn inner_packets_outside_the_sa_selectors_are_dropped() {
    let shape = Shape::esp_tunnel(GCM);
    let mut tx = TestSad::new(RustCrypto);
    let mut rx = TestSad::new(RustCrypto);
    let k = keys(shape.protocol, 1);
    let out = tx
        .install(
            Instant::ZERO,
            &params(shape, Direction::Outbound, 0x4000),
            &k,
            &mut rng(1),
        )
        .unwrap();
    let mut prm = params(shape, Direction::Inbound, 0x4000);
    // Only 192.168.20.0/24 (local) <-> 192.168.10.0/24 (remote).
    let local = AddrRange::from_prefix("192.168.20.0".parse().unwrap(), 24).unwrap();
    let remote = AddrRange::from_prefix("192.168.10.0".parse().unwrap(), 24).unwrap();
    prm.selectors = SelectorSet::from_slice(&[TrafficSelector::new(local, remote)]).unwrap();
    let inb = rx.install(Instant::ZERO, &prm, &k, &mut rng(2)).unwrap();
    let mut p = Pair { tx, out, rx, inb };
    let a = addrs(false);
    let ok = packets::udp(a.host_a, a.host_b, 20, 0);
    let wire = send(&mut p, Instant::ZERO, &ok).unwrap();
    assert_eq!(receive(&mut p, Instant::ZERO, &wire).unwrap(), ok);
    let spoofed = packets::udp("10.0.0.1".parse().unwrap(), a.host_b, 20, 0);
    let wire = send(&mut p, Instant::ZERO, &spoofed).unwrap();
    assert_eq!(
        receive(&mut p, Instant::ZERO, &wire),
        Err(UnprotectError::Policy(PolicyViolation::OutsideSaSelectors))
    );
    let s = p.rx.stats(p.inb).unwrap();
    assert_eq!((s.packets, s.policy_drops), (1, 1));
    assert_eq!(
        p.rx.sequence(p.inb),
        Some(1),
        "window unchanged by the dropped packet"
    );
}

#[test]
fn install_refuses_inconsistent_parameters() {
    let mut sad = TestSad::new(RustCrypto);
    let shape = Shape::esp_tunnel(GCM);
    let k = keys(shape.protocol, 1);
    let good = params(shape, Direction::Inbound, 0x5000);
    let id = sad.install(Instant::ZERO, &good, &k, &mut rng(1)).unwrap();
    assert_eq!(
        sad.install(Instant::ZERO, &good, &k, &mut rng(1)),
        Err(InstallError::DuplicateSpi(Spi(0x5000)))
    );
    let mut bad = good.clone();
    bad.spi = Spi(255);
    assert!(matches!(
        sad.install(Instant::ZERO, &bad, &k, &mut rng(1)),
        Err(InstallError::InvalidParams(_))
    ));
    let mut bad = good.clone();
    bad.spi = Spi(0x5001);
    bad.mode = Mode::Tunnel {
        local: "10.0.0.1".parse().unwrap(),
        remote: "2001:db8::1".parse().unwrap(),
    };
    assert!(matches!(
        sad.install(Instant::ZERO, &bad, &k, &mut rng(1)),
        Err(InstallError::InvalidParams(_))
    ));
    let mut bad = good.clone();
    bad.spi = Spi(0x5001);
    bad.replay_window = 0;
    assert!(matches!(
        sad.install(Instant::ZERO, &bad, &k, &mut rng(1)),
        Err(InstallError::InvalidParams(_))
    ));
    let mut bad = good.clone();
    bad.spi = Spi(0x5001);
    bad.selectors = SelectorSet::default();
    assert!(matches!(
        sad.install(Instant::ZERO, &bad, &k, &mut rng(1)),
        Err(InstallError::InvalidParams(_))
    ));
    let mut bad = good.clone();
    bad.spi = Spi(0x5001);
    bad.mode = Mode::Transport;
    bad.tfc = TfcPadding::PadTo(100);
    assert!(matches!(
        sad.install(Instant::ZERO, &bad, &k, &mut rng(1)),
        Err(InstallError::InvalidParams(_))
    ));
    let gmac = Shape {
        esn: true,
        ..Shape::esp_tunnel(EspAlgorithm::AesGmac(AesKeyLen::Aes128))
    };
    let bad: SaParams = params(gmac, Direction::Inbound, 0x5002);
    assert_eq!(
        sad.install(Instant::ZERO, &bad, &keys(gmac.protocol, 1), &mut rng(1)),
        Err(InstallError::Crypto(CryptoError::Unsupported))
    );
    let mut bad = good.clone();
    bad.spi = Spi(0x5003);
    assert_eq!(
        sad.install(
            Instant::ZERO,
            &bad,
            &keys(SecurityProtocol::Esp(CBC), 1),
            &mut rng(1)
        ),
        Err(InstallError::Crypto(CryptoError::KeyLength))
    );
    // Nothing was installed by the refusals.
    assert_eq!(sad.len(), 1);
    assert_eq!(sad.ids().collect::<Vec<_>>(), [id]);
}

#[test]
fn capacity_lookup_and_stale_ids() {
    let mut sad = TestSad::new(RustCrypto);
    let shape = Shape::esp_tunnel(GCM);
    let k = keys(shape.protocol, 1);
    let ids: Vec<SaId> = (0..8)
        .map(|i| {
            sad.install(
                Instant::ZERO,
                &params(shape, Direction::Inbound, 0x9000 - i * 7),
                &k,
                &mut rng(1),
            )
            .unwrap()
        })
        .collect();
    assert_eq!(
        sad.install(
            Instant::ZERO,
            &params(shape, Direction::Inbound, 0x100),
            &k,
            &mut rng(1)
        ),
        Err(InstallError::Full)
    );
    for (i, id) in ids.iter().enumerate() {
        let spi = Spi(0x9000 - i as u32 * 7);
        assert_eq!(
            sad.lookup_inbound(spi, ipsec_core::wire::IpProtocol::ESP),
            Some(*id)
        );
        assert_eq!(sad.lookup_inbound(spi, ipsec_core::wire::IpProtocol::AH), None);
    }
    sad.remove(ids[3]).unwrap();
    assert_eq!(
        sad.lookup_inbound(Spi(0x9000 - 21), ipsec_core::wire::IpProtocol::ESP),
        None
    );
    let new = sad
        .install(
            Instant::ZERO,
            &params(shape, Direction::Inbound, 0x100),
            &k,
            &mut rng(1),
        )
        .unwrap();
    assert_eq!(new.index(), ids[3].index());
    assert_ne!(new, ids[3], "the reused slot has a new generation");
    assert_eq!(sad.params(ids[3]), None);
    let mut buf = [0u8; 100];
    assert_eq!(
        sad.protect(Instant::ZERO, ids[3], &mut buf, 50, 20),
        Err(ProtectError::UnknownSa)
    );
    assert_eq!(
        sad.protect(Instant::ZERO, new, &mut buf, 50, 20),
        Err(ProtectError::WrongDirection)
    );
}

#[test]
fn refusals_do_not_use_sequence_numbers_or_touch_the_window() {
    let mut p = pair(Shape::esp_tunnel(GCM), 1);
    let inner = udp4(100, 0);
    // Too little headroom, too little tailroom, a broken inner packet.
    let mut buf = vec![0u8; 300];
    buf[10..10 + inner.len()].copy_from_slice(&inner);
    assert!(matches!(
        p.tx.protect(Instant::ZERO, p.out, &mut buf, 10, inner.len()),
        Err(ProtectError::BufferTooSmall { .. })
    ));
    let mut buf = vec![0u8; 64 + inner.len() + 5];
    buf[64..64 + inner.len()].copy_from_slice(&inner);
    assert!(matches!(
        p.tx.protect(Instant::ZERO, p.out, &mut buf, 64, inner.len()),
        Err(ProtectError::BufferTooSmall { .. })
    ));
    let mut buf = vec![0u8; 300];
    buf[64..64 + inner.len()].copy_from_slice(&inner);
    assert!(matches!(
        p.tx.protect(Instant::ZERO, p.out, &mut buf, 64, inner.len() - 1),
        Err(ProtectError::Malformed(_))
    ));
    assert_eq!(p.tx.sequence(p.out), Some(0));
    let wire = send(&mut p, Instant::ZERO, &inner).unwrap();
    assert_eq!(
        &wire[24..28],
        &1u32.to_be_bytes(),
        "the first packet still gets sequence number 1"
    );
    // Unknown SPI, truncations, garbage: refused, window untouched.
    let mut other = wire.clone();
    other[20..24].copy_from_slice(&0x7777u32.to_be_bytes());
    assert_eq!(
        receive(&mut p, Instant::ZERO, &other),
        Err(UnprotectError::UnknownSpi(Spi(0x7777)))
    );
    for cut in 0..wire.len() {
        let mut t = wire[..cut].to_vec();
        if t.len() >= 4 {
            let len = u16::try_from(cut).unwrap();
            t[2..4].copy_from_slice(&len.to_be_bytes());
        }
        assert!(receive(&mut p, Instant::ZERO, &t).is_err(), "cut {cut}");
    }
    assert_eq!(p.rx.sequence(p.inb), Some(0));
    assert_eq!(receive(&mut p, Instant::ZERO, &wire).unwrap(), inner);
}

#[test]
fn ipv6_transport_mode_keeps_hop_by_hop_and_routing_headers_in_front() {
    for protocol in [
        SecurityProtocol::Esp(GCM),
        SecurityProtocol::Ah(Integrity::HmacSha384_192),
    ] {
        let mut p = pair(
            Shape {
                protocol,
                tunnel: None,
                ..Shape::esp_tunnel(GCM)
            },
            1,
        );
        let a = addrs(true);
        let udp = packets::udp(a.host_a, a.host_b, 30, 0);
        // HBH -> Destination Options -> UDP: HBH stays in front of the IPsec header, Destination
        // Options travel behind it, protected (ESP) or authenticated (AH).
        let mut payload = vec![60, 0, 1, 4, 0, 0, 0, 0]; // HBH -> DestOpts
        payload.extend_from_slice(&[17, 0, 1, 4, 0, 0, 0, 0]); // DestOpts -> UDP
        payload.extend_from_slice(&udp[40..]);
        let inner = packets::ip(
            a.host_a,
            a.host_b,
            ipsec_core::wire::IpProtocol::HOPOPT,
            &payload,
            0,
        );
        let wire = send(&mut p, Instant::ZERO, &inner).unwrap();
        let h = Ipv6Header::new_checked(&wire).unwrap();
        assert_eq!(h.next_header(), ipsec_core::wire::IpProtocol::HOPOPT);
        let first = h.ext_headers().next().unwrap().unwrap();
        let expected = match protocol {
            SecurityProtocol::Esp(_) => ipsec_core::wire::IpProtocol::ESP,
            _ => ipsec_core::wire::IpProtocol::AH,
        };
        assert_eq!(first.next_header(), expected);
        assert_eq!(receive(&mut p, Instant::ZERO, &wire).unwrap(), inner);
    }
}
