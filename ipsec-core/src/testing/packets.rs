//! Builders for the inner packets tests push through SAs.

use core::net::IpAddr;
use std::vec::Vec;

use crate::wire::{Checksum, IpProtocol, Ipv4Repr, Ipv6Repr, transport_checksum};

/// A UDP packet from `src:1234` to `dst:5678` with `payload_len` bytes of a counting pattern, valid
/// checksums, TTL/hop limit 64 and the given DSCP/ECN byte.
#[must_use]
pub fn udp(src: IpAddr, dst: IpAddr, payload_len: usize, tos: u8) -> Vec<u8> {
    let mut seg = Vec::with_capacity(8 + payload_len);
    let udp_len = u16::try_from(8 + payload_len).unwrap_or(u16::MAX);
    seg.extend_from_slice(&1234u16.to_be_bytes());
    seg.extend_from_slice(&5678u16.to_be_bytes());
    seg.extend_from_slice(&udp_len.to_be_bytes());
    seg.extend_from_slice(&[0, 0]);
    seg.extend((0..payload_len).map(|i| (i % 251) as u8));
    let sum = match transport_checksum(src, dst, IpProtocol::UDP, &seg) {
        0 => 0xffff,
        s => s,
    };
    seg[6..8].copy_from_slice(&sum.to_be_bytes());
    ip(src, dst, IpProtocol::UDP, &seg, tos)
}

/// An IP packet carrying `payload` as `protocol`.
#[must_use]
pub fn ip(src: IpAddr, dst: IpAddr, protocol: IpProtocol, payload: &[u8], tos: u8) -> Vec<u8> {
    let mut out = std::vec![0u8; 40];
    let n = match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => Ipv4Repr {
            src: s,
            dst: d,
            protocol,
            payload_len: payload.len(),
            tos,
            ident: 0x1234,
            dont_fragment: true,
            ttl: 64,
        }
        .emit(&mut out),
        (IpAddr::V6(s), IpAddr::V6(d)) => Ipv6Repr {
            src: s,
            dst: d,
            next_header: protocol,
            payload_len: payload.len(),
            traffic_class: tos,
            flow_label: 0x12345,
            hop_limit: 64,
        }
        .emit(&mut out),
        _ => panic!("mixed families"),
    }
    .expect("header fits");
    out.truncate(n);
    out.extend_from_slice(payload);
    out
}

/// A TCP SYN with an MSS option, valid checksums.
#[must_use]
pub fn tcp_syn(src: IpAddr, dst: IpAddr, mss: u16) -> Vec<u8> {
    let mut seg = std::vec![0u8; 24];
    seg[0..2].copy_from_slice(&40000u16.to_be_bytes());
    seg[2..4].copy_from_slice(&443u16.to_be_bytes());
    seg[4..8].copy_from_slice(&0x0102_0304u32.to_be_bytes());
    seg[12] = 6 << 4;
    seg[13] = 0x02;
    seg[14..16].copy_from_slice(&64240u16.to_be_bytes());
    seg[20] = 2;
    seg[21] = 4;
    seg[22..24].copy_from_slice(&mss.to_be_bytes());
    let sum = transport_checksum(src, dst, IpProtocol::TCP, &seg);
    seg[16..18].copy_from_slice(&sum.to_be_bytes());
    ip(src, dst, IpProtocol::TCP, &seg, 0)
}

/// True if the IPv4 header checksum of `packet` verifies (IPv6 has none: true).
#[must_use]
pub fn ipv4_checksum_ok(packet: &[u8]) -> bool {
    if packet.first().map(|b| b >> 4) != Some(4) {
        return true;
    }
    let hl = usize::from(packet[0] & 0x0f) * 4;
    let mut c = Checksum::new();
    c.add_bytes(&packet[..hl]);
    c.finish() == 0
}
