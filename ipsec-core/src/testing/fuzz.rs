//! Fuzz entry points. Each takes arbitrary bytes and must return without panicking; a panic is a
//! bug (either in the code under test or an invariant these functions check). The cargo-fuzz
//! targets in `fuzz/` call them, and a stable test replays `fuzz/corpus/` through them.

use std::vec::Vec;

use crate::sa::SecurityProtocol;
use crate::sad::Unprotected;
use crate::testing::packets;
use crate::testing::sa::{Shape, addrs, pair};
use crate::time::Instant;
use crate::transform::{AesKeyLen, EspAlgorithm, Integrity};
use crate::wire::{self, IpPacket};

/// Parses `data` as an IP packet: the header, the IPv6 extension-header walk, fragment status and
/// the transport selector.
pub fn ip_walk(data: &[u8]) {
    if let Ok(ip) = IpPacket::new_checked(data) {
        assert!(ip.total_len() <= data.len());
        let _ = (ip.src(), ip.dst(), ip.is_fragment());
        if let Ok((_, off)) = ip.upper_layer() {
            assert!(off <= ip.total_len());
        }
        let _ = ip.transport(data);
        if let IpPacket::V6(h) = ip {
            for ext in h.ext_headers() {
                match ext {
                    Ok(e) => assert!(e.offset + e.bytes.len() <= h.total_len()),
                    Err(_) => break,
                }
            }
        }
    }
}

/// Classifies `data` as a datagram received on UDP port 4500.
pub fn natt_classify(data: &[u8]) {
    match wire::classify_4500(data) {
        Ok(wire::NattDatagram::Ike(m)) => assert_eq!(m.len() + 4, data.len()),
        Ok(wire::NattDatagram::Esp(p)) => assert!(p.len() >= wire::ESP_HEADER_LEN && p == data),
        Ok(wire::NattDatagram::Keepalive) => assert_eq!(data, [0xff]),
        Err(_) => {}
    }
}

/// Parses `data` with the ESP, AH and UDP header views.
pub fn ipsec_headers(data: &[u8]) {
    if let Ok(esp) = wire::EspPacket::new_checked(data) {
        assert_eq!(esp.body().len() + wire::ESP_HEADER_LEN, data.len());
        let _ = (esp.spi(), esp.seq());
    }
    if let Ok(ah) = wire::AhHeader::new_checked(data) {
        assert!(ah.header_len() >= wire::AH_FIXED_LEN && ah.header_len() <= data.len());
    }
    if let Ok(udp) = wire::UdpHeader::new_checked(data) {
        assert!(udp.payload().len() + wire::UDP_HEADER_LEN <= data.len());
    }
}

/// [`unprotect`] on the ESP shapes only.
pub fn esp_unprotect(data: &[u8]) {
    if let Some((&sel, rest)) = data.split_first() {
        unprotect_with(shape(sel % 4), sel, rest);
    }
}

/// [`unprotect`] on the AH shapes only.
pub fn ah_unprotect(data: &[u8]) {
    if let Some((&sel, rest)) = data.split_first() {
        unprotect_with(shape(4 + sel % 2), sel, rest);
    }
}

/// The shapes the stateful targets use, chosen by the first input byte.
fn shape(selector: u8) -> Shape {
    let gcm = EspAlgorithm::AesGcm16(AesKeyLen::Aes128);
    let cbc = EspAlgorithm::AesCbc(AesKeyLen::Aes128, Integrity::HmacSha256_128);
    match selector % 6 {
        0 => Shape::esp_tunnel(gcm),
        1 => Shape {
            tunnel: Some(true),
            esn: true,
            ..Shape::esp_tunnel(EspAlgorithm::ChaCha20Poly1305)
        },
        2 => Shape {
            tunnel: None,
            encap: true,
            ..Shape::esp_tunnel(cbc)
        },
        3 => Shape {
            tunnel: None,
            ..Shape::esp_tunnel(EspAlgorithm::Null(Integrity::HmacSha256_128))
        },
        4 => Shape {
            protocol: SecurityProtocol::Ah(Integrity::HmacSha256_128),
            ..Shape::esp_tunnel(gcm)
        },
        _ => Shape {
            protocol: SecurityProtocol::Ah(Integrity::HmacSha384_192),
            tunnel: None,
            esn: true,
            ..Shape::esp_tunnel(gcm)
        },
    }
}

/// Feeds arbitrary bytes to an inbound SA as a whole IP packet, and (structure-aware) XORs them
/// into a valid protected packet: any change must be refused, and a refused packet must leave the
/// SA's window and counters (other than drop counters) as they were.
pub fn unprotect(data: &[u8]) {
    if let Some((&sel, rest)) = data.split_first() {
        unprotect_with(shape(sel), sel, rest);
    }
}

fn unprotect_with(shape: Shape, sel: u8, rest: &[u8]) {
    let mut p = pair(shape, 7);
    let v6 = shape.tunnel.unwrap_or(sel & 0x40 != 0);
    let a = addrs(v6);

    // 1. Raw bytes as a packet.
    let mut raw = Vec::with_capacity(rest.len() + 64);
    raw.extend_from_slice(&[0u8; 64]);
    raw.extend_from_slice(rest);
    let before = (p.rx.stats(p.inb), p.rx.sequence(p.inb));
    if p.rx.unprotect(Instant::ZERO, &mut raw, 64, rest.len()).is_err() {
        let after = (p.rx.stats(p.inb), p.rx.sequence(p.inb));
        assert_eq!(before.1, after.1, "a refused packet moved the window");
        assert_eq!(before.0.map(|s| s.packets), after.0.map(|s| s.packets));
    }

    // 2. A valid packet, then the input XORed over it.
    let inner = packets::udp(a.host_a, a.host_b, usize::from(sel) * 3, 0);
    let mut buf = std::vec![0u8; 128 + inner.len() + 128];
    buf[128..128 + inner.len()].copy_from_slice(&inner);
    let Ok(prot) = p.tx.protect(Instant::ZERO, p.out, &mut buf, 128, inner.len()) else {
        panic!("protect of a valid packet failed");
    };
    let mut pkt = buf[prot.packet.clone()].to_vec();
    let mut changed = false;
    for (b, x) in pkt.iter_mut().zip(rest) {
        changed |= *x != 0;
        *b ^= x;
    }
    let len = pkt.len();
    pkt.extend_from_slice(&[0u8; 64]);
    let seq_before = p.rx.sequence(p.inb);
    match p.rx.unprotect(Instant::ZERO, &mut pkt, 0, len) {
        Ok(Unprotected::Packet { packet, .. }) => {
            // Only a change confined to fields outside the ICV's coverage may pass, and the
            // result is then still the original inner packet (modulo mutable header fields).
            if !changed {
                let got = &pkt[packet];
                assert_eq!(got.len(), inner.len());
                assert_eq!(&got[20.min(got.len())..], &inner[20.min(inner.len())..]);
            }
        }
        Ok(Unprotected::Dummy { .. }) => panic!("dummy packet out of a data packet"),
        Err(_) => assert_eq!(
            seq_before,
            p.rx.sequence(p.inb),
            "a refused packet moved the window"
        ),
    }
}
