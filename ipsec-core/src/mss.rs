//! TCP MSS clamping for tunnelled traffic (RFC 9293 §3.7.1, RFC 4459 §3.2 "MSS clamping").
//!
//! A tunnel lowers the MTU seen by the inner packets. Lowering the Maximum Segment Size option of the
//! TCP SYN and SYN-ACK segments that cross the tunnel keeps TCP from sending segments that would have
//! to be fragmented (or dropped, with DF set and ICMP filtered).
//!
//! # What [`clamp_mss`] does and does not touch
//! - Only unfragmented IPv4/IPv6 packets carrying TCP with SYN set (SYN or SYN-ACK). IPv6 extension
//!   headers are walked; any fragment (initial or not) is left alone ([`MssClamp::Fragment`]), and so
//!   is TCP under AH ([`MssClamp::NotTcpSyn`]): AH authenticates the TCP header.
//! - Every MSS option (kind 2, length 4) whose value exceeds the limit is lowered; the TCP checksum is
//!   updated incrementally (RFC 1624 eqn. 3), never recomputed over the payload, so a packet with a
//!   wrong checksum stays exactly as wrong. An MSS option at an odd offset (after a single NOP, say)
//!   straddles two checksum words and is handled.
//! - A SYN without an MSS option is left as it is ([`MssClamp::Unchanged`]): the peer then assumes the
//!   default of 536 (IPv4) or 1220 (IPv6) bytes, and adding an option would grow the packet.
//! - Malformed options are an error and the packet is **not modified**: the whole option list (up to
//!   End of Option List or the data offset) is validated before a byte is written. Malformed means an
//!   option length below 2 or past the header, a kind without room for its length byte, or an MSS
//!   option whose length is not 4. What to do with such a packet (forward it as is, or drop it) is the
//!   caller's choice.

use crate::wire::{self, Checksum, IpPacket, IpProtocol};

/// Length of a TCP header without options.
const TCP_MIN_HEADER_LEN: usize = 20;
/// Offset of the TCP checksum field.
const TCP_CHECKSUM_OFFSET: usize = 16;
/// TCP option kinds (RFC 9293 §3.2).
const OPT_EOL: u8 = 0;
const OPT_NOP: u8 = 1;
const OPT_MSS: u8 = 2;
/// SYN flag in the 14th byte of the TCP header.
const FLAG_SYN: u8 = 0x02;

/// What [`clamp_mss`] did.
#[must_use]
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MssClamp {
    /// A TCP SYN whose MSS (if any) was already at most the limit; nothing changed.
    Unchanged,
    /// The MSS option was lowered from `from` to `to` (the largest original value if the segment
    /// carried several MSS options, all of which were lowered).
    Clamped {
        /// The MSS the segment carried.
        from: u16,
        /// The MSS it carries now.
        to: u16,
    },
    /// Not TCP, or TCP without SYN; nothing changed.
    NotTcpSyn,
    /// A fragment (IPv4 MF or offset, IPv6 Fragment header); left alone.
    Fragment,
}

/// Lowers the MSS option of a TCP SYN or SYN-ACK in `packet` (an IPv4 or IPv6 packet) to at most
/// `max_mss`, fixing the TCP checksum incrementally. See the [module docs](self) for what is touched.
///
/// # Errors
/// The errors of [`IpPacket::new_checked`] and of the IPv6 extension-header walk;
/// [`wire::Error::Truncated`] for a TCP header shorter than 20 bytes or than its data offset;
/// [`wire::Error::BadLength`] for a data offset below 5 words or a malformed option length;
/// [`wire::Error::Malformed`] for an MSS option whose length is not 4. The packet is unchanged on
/// every error.
pub fn clamp_mss(packet: &mut [u8], max_mss: u16) -> Result<MssClamp, wire::Error> {
    let (tcp_start, tcp_end) = {
        let ip = IpPacket::new_checked(packet)?;
        if ip.is_fragment()? {
            return Ok(MssClamp::Fragment);
        }
        // An AH header authenticates the TCP header end to end: changing it would break the ICV.
        if let IpPacket::V6(h) = &ip {
            for ext in h.ext_headers() {
                if ext?.kind == IpProtocol::AH {
                    return Ok(MssClamp::NotTcpSyn);
                }
            }
        }
        let (proto, off) = ip.upper_layer()?;
        if proto != IpProtocol::TCP {
            return Ok(MssClamp::NotTcpSyn);
        }
        (off, ip.total_len())
    };
    let tcp = packet
        .get_mut(tcp_start..tcp_end)
        .ok_or(wire::Error::Truncated { what: "TCP header" })?;
    clamp_segment(tcp, max_mss)
}

/// The largest MSS for packets of at most `inner_mtu` bytes: the MTU minus the IP header (20 bytes
/// for IPv4 without options, 40 for IPv6 without extension headers) and the 20-byte TCP header
/// (RFC 9293 §3.7.1; TCP options are accounted for by the sender). Saturates at 0 and 65535.
#[must_use]
pub fn mss_for_mtu(inner_mtu: usize, ipv6: bool) -> u16 {
    let ip = if ipv6 {
        wire::IPV6_HEADER_LEN
    } else {
        wire::IPV4_MIN_HEADER_LEN
    };
    let mss = inner_mtu.saturating_sub(ip).saturating_sub(TCP_MIN_HEADER_LEN);
    u16::try_from(mss).unwrap_or(u16::MAX)
}

/// Clamps the MSS options of the TCP segment `tcp` (header and payload).
fn clamp_segment(tcp: &mut [u8], max_mss: u16) -> Result<MssClamp, wire::Error> {
    let fixed = tcp
        .first_chunk::<TCP_MIN_HEADER_LEN>()
        .ok_or(wire::Error::Truncated { what: "TCP header" })?;
    if fixed[13] & FLAG_SYN == 0 {
        return Ok(MssClamp::NotTcpSyn);
    }
    let header_len = usize::from(fixed[12] >> 4).saturating_mul(4);
    if header_len < TCP_MIN_HEADER_LEN {
        return Err(wire::Error::BadLength {
            what: "TCP data offset",
        });
    }
    let options_end = header_len;
    if tcp.len() < options_end {
        return Err(wire::Error::Truncated { what: "TCP options" });
    }

    // First pass: validate the whole option list and note the MSS options above the limit. The
    // option space is at most 40 bytes, so there are at most 10 of them.
    let mut above = [0usize; 10];
    let mut count = 0usize;
    let mut largest: Option<u16> = None;
    for opt in Options::new(tcp, options_end) {
        let (at, kind, len) = opt?;
        if kind == OPT_MSS {
            let mss = mss_value(tcp, at, len)?;
            if mss > max_mss {
                largest = largest.max(Some(mss));
                if let Some(slot) = above.get_mut(count) {
                    *slot = at;
                    count = count.saturating_add(1);
                }
            }
        }
    }
    let Some(from) = largest else {
        return Ok(MssClamp::Unchanged);
    };

    // Second pass: the list is valid; lower those options and update the checksum word by word.
    let mut checksum =
        wire::be16(tcp, TCP_CHECKSUM_OFFSET).ok_or(wire::Error::Truncated { what: "TCP header" })?;
    for &at in above.get(..count).unwrap_or(&[]) {
        checksum = rewrite_u16(tcp, at.saturating_add(2), max_mss, checksum)?;
    }
    wire::put(tcp, TCP_CHECKSUM_OFFSET, &checksum.to_be_bytes())?;
    Ok(MssClamp::Clamped { from, to: max_mss })
}

/// Reads the value of the MSS option at `at` of length `len`.
fn mss_value(tcp: &[u8], at: usize, len: usize) -> Result<u16, wire::Error> {
    if len != 4 {
        return Err(wire::Error::Malformed {
            what: "TCP MSS option length",
        });
    }
    wire::be16(tcp, at.saturating_add(2)).ok_or(wire::Error::Truncated { what: "TCP options" })
}

/// Writes `value` as two bytes at `at` and returns `checksum` updated for the change (RFC 1624). The
/// checksum covers 16-bit words aligned on the start of the segment: at an odd offset the value
/// straddles two of them, each updated in turn.
fn rewrite_u16(tcp: &mut [u8], at: usize, value: u16, checksum: u16) -> Result<u16, wire::Error> {
    let word_start = at & !1;
    let word_end = at.saturating_add(2).saturating_add(1) & !1;
    let mut old = [0u8; 4];
    let window = tcp
        .get(word_start..word_end)
        .ok_or(wire::Error::Truncated { what: "TCP options" })?;
    let old = old
        .get_mut(..window.len())
        .ok_or(wire::Error::Truncated { what: "TCP options" })?;
    old.copy_from_slice(window);
    wire::put(tcp, at, &value.to_be_bytes())?;
    let new = tcp
        .get(word_start..word_end)
        .ok_or(wire::Error::Truncated { what: "TCP options" })?;
    let mut checksum = checksum;
    for (o, n) in old.chunks_exact(2).zip(new.chunks_exact(2)) {
        if let (Some(&[o0, o1]), Some(&[n0, n1])) = (o.first_chunk::<2>(), n.first_chunk::<2>()) {
            let (o, n) = (u16::from_be_bytes([o0, o1]), u16::from_be_bytes([n0, n1]));
            if o != n {
                checksum = Checksum::update(checksum, o, n);
            }
        }
    }
    Ok(checksum)
}

/// Walks the TCP options up to `end` (the data offset), yielding `(offset, kind, length)` of each option other than
/// NOP, stopping at End of Option List; a malformed option yields an error and ends the walk.
struct Options<'a> {
    tcp: &'a [u8],
    at: usize,
    end: usize,
    done: bool,
}

impl<'a> Options<'a> {
    fn new(tcp: &'a [u8], end: usize) -> Self {
        Options {
            tcp,
            at: TCP_MIN_HEADER_LEN,
            end,
            done: false,
        }
    }
}

impl Iterator for Options<'_> {
    type Item = Result<(usize, u8, usize), wire::Error>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done && self.at < self.end {
            let at = self.at;
            let kind = *self.tcp.get(at)?;
            match kind {
                OPT_EOL => self.done = true,
                OPT_NOP => self.at = at.saturating_add(1),
                _ => {
                    let len_at = at.saturating_add(1);
                    let len = match self.tcp.get(len_at) {
                        Some(&l) if len_at < self.end => usize::from(l),
                        _ => {
                            self.done = true;
                            return Some(Err(wire::Error::BadLength {
                                what: "TCP option length",
                            }));
                        }
                    };
                    let next = at.saturating_add(len);
                    if len < 2 || next > self.end {
                        self.done = true;
                        return Some(Err(wire::Error::BadLength {
                            what: "TCP option length",
                        }));
                    }
                    self.at = next;
                    return Some(Ok((at, kind, len)));
                }
            }
        }
        None
    }
}

// Test packets are built with plain length arithmetic on small, known sizes.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use super::*;
    use crate::wire::transport_checksum;
    use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    use std::vec::Vec;

    const V4: (IpAddr, IpAddr) = (
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        IpAddr::V4(Ipv4Addr::new(198, 51, 100, 2)),
    );
    const V6: (IpAddr, IpAddr) = (
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 2)),
    );
    const SYN: u8 = 0x02;
    const SYN_ACK: u8 = 0x12;
    const ACK: u8 = 0x10;
    const MSS1460: [u8; 4] = [2, 4, 0x05, 0xb4];

    /// A TCP segment with `options` (padded with EOL to a multiple of 4) and a valid checksum.
    fn segment(addrs: (IpAddr, IpAddr), flags: u8, options: &[u8], payload: &[u8]) -> Vec<u8> {
        let mut opts = options.to_vec();
        while opts.len() % 4 != 0 {
            opts.push(0);
        }
        let mut seg = std::vec![0u8; 20];
        seg[0..2].copy_from_slice(&51000u16.to_be_bytes());
        seg[2..4].copy_from_slice(&443u16.to_be_bytes());
        seg[4..8].copy_from_slice(&0x1122_3344u32.to_be_bytes());
        seg[12] = u8::try_from((20 + opts.len()) / 4).unwrap() << 4;
        seg[13] = flags;
        seg[14..16].copy_from_slice(&64240u16.to_be_bytes());
        seg.extend_from_slice(&opts);
        seg.extend_from_slice(payload);
        let sum = transport_checksum(addrs.0, addrs.1, IpProtocol::TCP, &seg);
        seg[16..18].copy_from_slice(&sum.to_be_bytes());
        seg
    }

    /// Wraps `upper` in IPv4 (flags/offset word `frag`) or IPv6 (after the raw extension headers
    /// `ext`, whose first next-header is `first`).
    fn ip(addrs: (IpAddr, IpAddr), protocol: u8, upper: &[u8], frag: u16, ext: &[u8], first: u8) -> Vec<u8> {
        let mut p = Vec::new();
        match addrs {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                let total = u16::try_from(20 + upper.len()).unwrap();
                p.extend_from_slice(&[0x45, 0]);
                p.extend_from_slice(&total.to_be_bytes());
                p.extend_from_slice(&[0x12, 0x34]);
                p.extend_from_slice(&frag.to_be_bytes());
                p.extend_from_slice(&[64, protocol, 0, 0]);
                p.extend_from_slice(&s.octets());
                p.extend_from_slice(&d.octets());
                let mut c = Checksum::new();
                c.add_bytes(&p);
                let sum = c.finish();
                p[10..12].copy_from_slice(&sum.to_be_bytes());
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                let len = u16::try_from(ext.len() + upper.len()).unwrap();
                p.extend_from_slice(&[0x60, 0, 0, 0]);
                p.extend_from_slice(&len.to_be_bytes());
                p.extend_from_slice(&[if ext.is_empty() { protocol } else { first }, 64]);
                p.extend_from_slice(&s.octets());
                p.extend_from_slice(&d.octets());
                p.extend_from_slice(ext);
            }
            _ => unreachable!(),
        }
        p.extend_from_slice(upper);
        p
    }

    fn syn(addrs: (IpAddr, IpAddr), flags: u8, options: &[u8], payload: &[u8]) -> Vec<u8> {
        ip(addrs, 6, &segment(addrs, flags, options, payload), 0, &[], 0)
    }

    /// The TCP segment of `p` (no extension headers: 20 or 40 bytes in).
    fn tcp_of(p: &[u8], off: usize) -> &[u8] {
        &p[off..]
    }

    /// Asserts the stored checksum equals a fresh computation and the segment verifies.
    fn assert_checksum_fresh(addrs: (IpAddr, IpAddr), tcp: &[u8]) {
        let mut zeroed = tcp.to_vec();
        zeroed[16..18].fill(0);
        let fresh = transport_checksum(addrs.0, addrs.1, IpProtocol::TCP, &zeroed);
        assert_eq!(
            u16::from_be_bytes([tcp[16], tcp[17]]),
            fresh,
            "incremental checksum differs from recomputed"
        );
        assert_eq!(transport_checksum(addrs.0, addrs.1, IpProtocol::TCP, tcp), 0);
    }

    fn mss_at(tcp: &[u8], at: usize) -> u16 {
        u16::from_be_bytes([tcp[at + 2], tcp[at + 3]])
    }

    #[test]
    fn clamps_an_ipv4_syn() {
        let mut p = syn(V4, SYN, &MSS1460, b"");
        let before = p.clone();
        assert_eq!(
            clamp_mss(&mut p, 1360),
            Ok(MssClamp::Clamped { from: 1460, to: 1360 })
        );
        assert_eq!(mss_at(tcp_of(&p, 20), 20), 1360);
        assert_checksum_fresh(V4, tcp_of(&p, 20));
        assert_eq!(&p[..20], &before[..20], "the IP header is untouched");
        // Clamping again changes nothing.
        let once = p.clone();
        assert_eq!(clamp_mss(&mut p, 1360), Ok(MssClamp::Unchanged));
        assert_eq!(p, once);
    }

    #[test]
    fn clamps_an_ipv6_syn_ack_with_extension_headers_and_payload() {
        // Hop-by-Hop (PadN) then Destination Options (PadN) then TCP.
        let ext = [60, 0, 1, 4, 0, 0, 0, 0, 6, 0, 1, 4, 0, 0, 0, 0];
        let opts = [1, 1, 4, 2, 2, 4, 0x23, 0x28, 1, 3, 3, 7]; // NOP NOP SACK-perm, MSS 9000, NOP, wscale 7
        let seg = segment(V6, SYN_ACK, &opts, b"hello, world");
        let mut p = ip(V6, 6, &seg, 0, &ext, 0);
        assert_eq!(
            clamp_mss(&mut p, 1400),
            Ok(MssClamp::Clamped { from: 9000, to: 1400 })
        );
        let tcp = tcp_of(&p, 40 + ext.len());
        assert_eq!(mss_at(tcp, 24), 1400);
        assert_checksum_fresh(V6, tcp);
        assert_eq!(&tcp[32..], b"hello, world");
    }

    #[test]
    fn mss_at_odd_offsets_straddles_checksum_words() {
        // One NOP puts the MSS value at offset 23..25: across two 16-bit words.
        for (lead, addrs) in [(1usize, V4), (3, V4), (1, V6), (2, V6)] {
            let mut opts = std::vec![1u8; lead];
            opts.extend_from_slice(&[2, 4, 0xff, 0xf7]);
            for mss in [1200u16, 1399, 0xfff6] {
                let mut p = syn(addrs, SYN, &opts, b"x");
                let hl = if addrs.0.is_ipv4() { 20 } else { 40 };
                assert_eq!(
                    clamp_mss(&mut p, mss),
                    Ok(MssClamp::Clamped {
                        from: 0xfff7,
                        to: mss
                    })
                );
                let tcp = tcp_of(&p, hl);
                assert_eq!(mss_at(tcp, 20 + lead), mss);
                assert_checksum_fresh(addrs, tcp);
            }
        }
    }

    #[test]
    fn checksum_stays_right_for_many_values() {
        for lead in 0..4usize {
            for from in [537u16, 1000, 1460, 0x8000, 0xffff] {
                for to in [0u16, 1, 536, 999, 0x7fff] {
                    let mut opts = std::vec![1u8; lead];
                    opts.extend_from_slice(&[2, 4]);
                    opts.extend_from_slice(&from.to_be_bytes());
                    let mut p = syn(V4, SYN, &opts, &[0xa5; 3]);
                    let r = clamp_mss(&mut p, to).unwrap();
                    if from > to {
                        assert_eq!(r, MssClamp::Clamped { from, to });
                    } else {
                        assert_eq!(r, MssClamp::Unchanged);
                    }
                    assert_checksum_fresh(V4, tcp_of(&p, 20));
                }
            }
        }
    }

    #[test]
    fn every_mss_option_is_lowered() {
        let opts = [2, 4, 0x05, 0xb4, 1, 2, 4, 0x23, 0x28];
        let mut p = syn(V4, SYN, &opts, b"");
        assert_eq!(
            clamp_mss(&mut p, 1300),
            Ok(MssClamp::Clamped { from: 9000, to: 1300 })
        );
        let tcp = tcp_of(&p, 20);
        assert_eq!((mss_at(tcp, 20), mss_at(tcp, 25)), (1300, 1300));
        assert_checksum_fresh(V4, tcp);
    }

    #[test]
    fn small_or_missing_mss_and_options_after_eol_are_left_alone() {
        for opts in [
            &[2u8, 4, 0x04, 0x00][..],
            &[1, 1, 3, 3, 7][..],
            &[][..],
            &[0, 0, 2, 4, 0x23, 0x28][..],
        ] {
            let mut p = syn(V4, SYN, opts, b"");
            let before = p.clone();
            assert_eq!(clamp_mss(&mut p, 1360), Ok(MssClamp::Unchanged), "{opts:?}");
            assert_eq!(p, before);
        }
    }

    #[test]
    fn non_syn_and_non_tcp_are_untouched() {
        let mut ack = syn(V4, ACK, &MSS1460, b"data");
        let before = ack.clone();
        assert_eq!(clamp_mss(&mut ack, 1000), Ok(MssClamp::NotTcpSyn));
        assert_eq!(ack, before);
        let mut udp = ip(V4, 17, &[0, 53, 0, 53, 0, 8, 0, 0], 0, &[], 0);
        assert_eq!(clamp_mss(&mut udp, 1000), Ok(MssClamp::NotTcpSyn));
        let mut udp6 = ip(V6, 17, &[0, 53, 0, 53, 0, 8, 0, 0], 0, &[], 0);
        assert_eq!(clamp_mss(&mut udp6, 1000), Ok(MssClamp::NotTcpSyn));
    }

    #[test]
    fn tcp_under_ipv6_ah_is_untouched() {
        // AH with a 12-byte ICV: payload length field (24 / 4) - 2 = 4.
        let mut ah = std::vec![6u8, 4, 0, 0, 0, 0, 0x10, 0x01, 0, 0, 0, 1];
        ah.extend_from_slice(&[0xab; 12]);
        let mut p = ip(V6, 6, &segment(V6, SYN, &MSS1460, b""), 0, &ah, 51);
        let before = p.clone();
        assert_eq!(clamp_mss(&mut p, 1000), Ok(MssClamp::NotTcpSyn));
        assert_eq!(p, before);
    }

    #[test]
    fn fragments_are_untouched() {
        let seg = segment(V4, SYN, &MSS1460, b"");
        for frag in [0x2000u16, 0x0010, 0x2010] {
            let mut p = ip(V4, 6, &seg, frag, &[], 0);
            let before = p.clone();
            assert_eq!(clamp_mss(&mut p, 1000), Ok(MssClamp::Fragment));
            assert_eq!(p, before);
        }
        // An IPv6 initial fragment (offset 0, M = 1).
        let mut p = ip(
            V6,
            6,
            &segment(V6, SYN, &MSS1460, b""),
            0,
            &[6, 0, 0, 1, 0, 0, 0, 9],
            44,
        );
        let before = p.clone();
        assert_eq!(clamp_mss(&mut p, 1000), Ok(MssClamp::Fragment));
        assert_eq!(p, before);
    }

    #[test]
    fn malformed_headers_are_errors_and_leave_the_packet_alone() {
        let good = segment(V4, SYN, &[1, 2, 4, 0x05, 0xb4, 1, 1, 1], b"");
        let cases: [(&str, Vec<u8>, wire::Error); 7] = [
            (
                "short header",
                good[..19].to_vec(),
                wire::Error::Truncated { what: "TCP header" },
            ),
            (
                "offset past segment",
                good[..27].to_vec(),
                wire::Error::Truncated { what: "TCP options" },
            ),
            (
                "offset below 5",
                {
                    let mut s = good.clone();
                    s[12] = 4 << 4;
                    s
                },
                wire::Error::BadLength {
                    what: "TCP data offset",
                },
            ),
            (
                "option length 0",
                {
                    let mut s = good.clone();
                    s[22] = 0;
                    s
                },
                wire::Error::BadLength {
                    what: "TCP option length",
                },
            ),
            (
                "option length 1",
                {
                    let mut s = good.clone();
                    s[22] = 1;
                    s
                },
                wire::Error::BadLength {
                    what: "TCP option length",
                },
            ),
            (
                "option past header",
                {
                    let mut s = good.clone();
                    s[22] = 8;
                    s
                },
                wire::Error::BadLength {
                    what: "TCP option length",
                },
            ),
            (
                "MSS length 6",
                {
                    let mut s = good.clone();
                    s[22] = 6;
                    s
                },
                wire::Error::Malformed {
                    what: "TCP MSS option length",
                },
            ),
        ];
        for (name, seg, err) in cases {
            let mut p = ip(V4, 6, &seg, 0, &[], 0);
            let before = p.clone();
            assert_eq!(clamp_mss(&mut p, 1000), Err(err), "{name}");
            assert_eq!(p, before, "{name}");
        }
        // A kind byte in the last option position with no room for its length.
        let mut s = segment(V4, SYN, &[1, 1, 1, 8], b"");
        s[23] = 8;
        let mut p = ip(V4, 6, &s, 0, &[], 0);
        assert_eq!(
            clamp_mss(&mut p, 1000),
            Err(wire::Error::BadLength {
                what: "TCP option length"
            })
        );
        // A later malformed option stops a valid MSS before it from being changed.
        let mut p = syn(V4, SYN, &[2, 4, 0x05, 0xb4, 3, 9, 0, 0], b"");
        let before = p.clone();
        assert!(clamp_mss(&mut p, 1000).is_err());
        assert_eq!(p, before);
        // Not an IP packet at all.
        assert!(clamp_mss(&mut [0x45, 0, 0], 1000).is_err());
        assert!(clamp_mss(&mut [], 1000).is_err());
    }

    #[test]
    fn link_padding_after_the_packet_is_ignored() {
        let mut p = syn(V4, SYN, &MSS1460, b"");
        p.extend_from_slice(&[0xee; 6]);
        assert_eq!(
            clamp_mss(&mut p, 1200),
            Ok(MssClamp::Clamped { from: 1460, to: 1200 })
        );
        assert_checksum_fresh(V4, &p[20..p.len() - 6]);
        assert_eq!(&p[p.len() - 6..], &[0xee; 6]);
    }

    #[test]
    fn mss_for_mtu_subtracts_ip_and_tcp_headers() {
        assert_eq!(mss_for_mtu(1500, false), 1460);
        assert_eq!(mss_for_mtu(1500, true), 1440);
        assert_eq!(mss_for_mtu(1438, false), 1398);
        assert_eq!(mss_for_mtu(40, false), 0);
        assert_eq!(mss_for_mtu(59, true), 0);
        assert_eq!(mss_for_mtu(0, true), 0);
        assert_eq!(mss_for_mtu(usize::MAX, false), u16::MAX);
        assert_eq!(mss_for_mtu(65535 + 40, false), 65535);
    }
}
