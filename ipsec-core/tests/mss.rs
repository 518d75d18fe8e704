//! MSS clamping properties: for random SYN segments (IPv4 and IPv6, options in any order and at any
//! alignment, with payload) the clamped MSS is `min(mss, limit)`, nothing else changes, and the
//! incrementally updated TCP checksum equals a fresh computation.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipsec_core::mss::{MssClamp, clamp_mss};
use ipsec_core::wire::{IpProtocol, transport_checksum};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Opt {
    Nop,
    Mss(u16),
    SackPermitted,
    WindowScale(u8),
    Timestamps(u32, u32),
}

fn opt() -> impl Strategy<Value = Opt> {
    prop_oneof![
        Just(Opt::Nop),
        any::<u16>().prop_map(Opt::Mss),
        Just(Opt::SackPermitted),
        any::<u8>().prop_map(Opt::WindowScale),
        (any::<u32>(), any::<u32>()).prop_map(|(a, b)| Opt::Timestamps(a, b)),
    ]
}

/// Encodes options; returns the bytes and the offsets (within the options) of MSS values.
fn encode(opts: &[Opt]) -> (Vec<u8>, Vec<(usize, u16)>) {
    let mut out = Vec::new();
    let mut mss = Vec::new();
    for o in opts {
        match o {
            Opt::Nop => out.push(1),
            Opt::Mss(v) => {
                mss.push((out.len() + 2, *v));
                out.extend_from_slice(&[2, 4]);
                out.extend_from_slice(&v.to_be_bytes());
            }
            Opt::SackPermitted => out.extend_from_slice(&[4, 2]),
            Opt::WindowScale(s) => out.extend_from_slice(&[3, 3, *s]),
            Opt::Timestamps(a, b) => {
                out.extend_from_slice(&[8, 10]);
                out.extend_from_slice(&a.to_be_bytes());
                out.extend_from_slice(&b.to_be_bytes());
            }
        }
    }
    (out, mss)
}

fn build(ipv6: bool, flags: u8, options: &[u8], payload: &[u8]) -> (Vec<u8>, usize, IpAddr, IpAddr) {
    let (src, dst) = if ipv6 {
        (
            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 9, 0, 0, 0, 0, 2)),
        )
    } else {
        (
            IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            IpAddr::V4(Ipv4Addr::new(10, 9, 0, 2)),
        )
    };
    let mut opts = options.to_vec();
    while opts.len() % 4 != 0 {
        opts.push(0);
    }
    let mut seg = vec![0u8; 20];
    seg[0..2].copy_from_slice(&12345u16.to_be_bytes());
    seg[2..4].copy_from_slice(&80u16.to_be_bytes());
    seg[12] = u8::try_from((20 + opts.len()) / 4).unwrap() << 4;
    seg[13] = flags;
    seg.extend_from_slice(&opts);
    seg.extend_from_slice(payload);
    let sum = transport_checksum(src, dst, IpProtocol::TCP, &seg);
    seg[16..18].copy_from_slice(&sum.to_be_bytes());
    let mut p = Vec::new();
    if ipv6 {
        p.extend_from_slice(&[0x60, 0, 0, 0]);
        p.extend_from_slice(&u16::try_from(seg.len()).unwrap().to_be_bytes());
        p.extend_from_slice(&[6, 64]);
        for a in [src, dst] {
            if let IpAddr::V6(a) = a {
                p.extend_from_slice(&a.octets());
            }
        }
    } else {
        p.extend_from_slice(&[0x45, 0]);
        p.extend_from_slice(&u16::try_from(20 + seg.len()).unwrap().to_be_bytes());
        p.extend_from_slice(&[0, 0, 0x40, 0, 64, 6, 0, 0]);
        for a in [src, dst] {
            if let IpAddr::V4(a) = a {
                p.extend_from_slice(&a.octets());
            }
        }
    }
    let off = p.len();
    p.extend_from_slice(&seg);
    (p, off, src, dst)
}

proptest! {
    #[test]
    fn clamping_lowers_every_mss_and_keeps_the_checksum_fresh(
        ipv6 in any::<bool>(),
        syn_ack in any::<bool>(),
        opts in prop::collection::vec(opt(), 0..8),
        limit in any::<u16>(),
        payload in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let (options, mss) = encode(&opts);
        prop_assume!(options.len() <= 40);
        let flags = if syn_ack { 0x12 } else { 0x02 };
        let (mut p, off, src, dst) = build(ipv6, flags, &options, &payload);
        let before = p.clone();
        let result = clamp_mss(&mut p, limit).unwrap();
        let largest_above = mss.iter().map(|&(_, v)| v).filter(|&v| v > limit).max();
        match largest_above {
            Some(from) => prop_assert_eq!(result, MssClamp::Clamped { from, to: limit }),
            None => prop_assert_eq!(result, MssClamp::Unchanged),
        }
        let seg = &p[off..];
        for &(at, v) in &mss {
            let now = u16::from_be_bytes([seg[20 + at], seg[21 + at]]);
            prop_assert_eq!(now, v.min(limit));
        }
        // Nothing else changed but the MSS values and the checksum.
        let mut expected = before.clone();
        for &(at, v) in &mss {
            expected[off + 20 + at..off + 22 + at].copy_from_slice(&v.min(limit).to_be_bytes());
        }
        expected[off + 16..off + 18].copy_from_slice(&p[off + 16..off + 18]);
        prop_assert_eq!(&p, &expected);
        let mut zeroed = seg.to_vec();
        zeroed[16..18].fill(0);
        let fresh = transport_checksum(src, dst, IpProtocol::TCP, &zeroed);
        prop_assert_eq!(u16::from_be_bytes([seg[16], seg[17]]), fresh);
    }

    #[test]
    fn segments_without_syn_are_never_touched(
        ipv6 in any::<bool>(),
        flags in any::<u8>().prop_filter("no SYN", |f| f & 0x02 == 0),
        opts in prop::collection::vec(opt(), 0..8),
        limit in any::<u16>(),
    ) {
        let (options, _) = encode(&opts);
        prop_assume!(options.len() <= 40);
        let (mut p, ..) = build(ipv6, flags, &options, b"data");
        let before = p.clone();
        prop_assert_eq!(clamp_mss(&mut p, limit), Ok(MssClamp::NotTcpSyn));
        prop_assert_eq!(p, before);
    }
}
