//! Tunnel and transport mode packet layout (RFC 4301 §5.1.2, RFC 4303 §3.1, RFC 4302 §3.1), shared
//! by ESP and AH: where the IPsec header goes, the outer header of tunnel mode (DSCP, ECN per
//! RFC 6040, DF, TTL), and the header fix-ups of transport mode.

// Arithmetic here is on lengths and offsets bounded by a slice length (< isize::MAX) plus small
// constants or 8-bit header fields scaled by at most 8; every subtraction follows the comparison that
// makes it non-negative. Checked arithmetic would add error paths that cannot be taken.
#![allow(clippy::arithmetic_side_effects)]

use core::net::IpAddr;

use crate::sa::{DfMode, DscpMode, EcnMode, TunnelOptions};
use crate::wire::{
    self, Checksum, IPV4_MIN_HEADER_LEN, IPV6_HEADER_LEN, IpPacket, IpProtocol, Ipv4Repr, Ipv6Repr, put,
};

/// What tunnel mode needs to know about the inner packet.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Inner {
    /// IPV4 or IPV6: the ESP next header / AH next header.
    pub(crate) protocol: IpProtocol,
    /// DSCP and ECN of the inner header.
    pub(crate) tos: u8,
    /// DF of an inner IPv4 header (true for IPv6).
    pub(crate) df: bool,
    /// The inner packet's length per its header.
    pub(crate) len: usize,
}

/// Reads the fields tunnel mode copies from the inner packet.
pub(crate) fn inner(packet: &[u8]) -> Result<Inner, wire::Error> {
    Ok(match IpPacket::new_checked(packet)? {
        IpPacket::V4(h) => Inner {
            protocol: IpProtocol::IPV4,
            tos: h.tos(),
            df: h.dont_fragment(),
            len: h.total_len(),
        },
        IpPacket::V6(h) => Inner {
            protocol: IpProtocol::IPV6,
            tos: h.traffic_class(),
            df: true,
            len: h.total_len(),
        },
    })
}

/// Length of the outer IP header for a tunnel whose local end is `local`.
pub(crate) fn outer_len(local: IpAddr) -> usize {
    match local {
        IpAddr::V4(_) => IPV4_MIN_HEADER_LEN,
        IpAddr::V6(_) => IPV6_HEADER_LEN,
    }
}

/// The outer DSCP/ECN byte (RFC 4301 §5.1.2.1, RFC 6040 §4.1).
pub(crate) fn outer_tos(opts: &TunnelOptions, inner_tos: u8) -> u8 {
    let dscp = match opts.dscp {
        DscpMode::Copy => inner_tos & 0xfc,
        DscpMode::Set(d) => (d & 0x3f) << 2,
    };
    let ecn = match opts.ecn {
        EcnMode::Normal => inner_tos & 0x03,
        EcnMode::Compatibility => 0,
    };
    dscp | ecn
}

/// Parameters of an outer header to write.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Outer {
    pub(crate) local: IpAddr,
    pub(crate) remote: IpAddr,
    pub(crate) protocol: IpProtocol,
    pub(crate) payload_len: usize,
    pub(crate) tos: u8,
    pub(crate) df: bool,
    pub(crate) ttl: u8,
    pub(crate) ident: u16,
}

/// Writes the outer header at the start of `out`.
pub(crate) fn write_outer(out: &mut [u8], o: &Outer) -> Result<usize, wire::Error> {
    match (o.local, o.remote) {
        (IpAddr::V4(src), IpAddr::V4(dst)) => Ipv4Repr {
            src,
            dst,
            protocol: o.protocol,
            payload_len: o.payload_len,
            tos: o.tos,
            ident: o.ident,
            dont_fragment: o.df,
            ttl: o.ttl,
        }
        .emit(out),
        (IpAddr::V6(src), IpAddr::V6(dst)) => Ipv6Repr {
            src,
            dst,
            next_header: o.protocol,
            payload_len: o.payload_len,
            traffic_class: o.tos,
            flow_label: 0,
            hop_limit: o.ttl,
        }
        .emit(out),
        _ => Err(wire::Error::Malformed {
            what: "tunnel endpoints of mixed families",
        }),
    }
}

/// The outer DF bit for an inner packet (RFC 4301 §8.1).
pub(crate) fn outer_df(mode: DfMode, inner: &Inner) -> bool {
    match mode {
        DfMode::Copy => inner.df,
        DfMode::Set => true,
        DfMode::Clear => false,
    }
}

/// Applies RFC 6040 §4.2 decapsulation to the inner packet's ECN field, given the outer ECN bits.
///
/// Returns `Err(())` when the combination means "drop" (outer CE, inner Not-ECT).
pub(crate) fn ecn_decapsulate(outer_ecn: u8, inner: &mut [u8]) -> Result<(), EcnDrop> {
    let version = inner.first().map(|b| b >> 4);
    let inner_ecn = match version {
        Some(4) => inner.get(1).map(|b| b & 3),
        Some(6) => inner.get(1).map(|b| (b >> 4) & 3),
        _ => None,
    };
    let Some(inner_ecn) = inner_ecn else { return Ok(()) };
    const NOT_ECT: u8 = 0;
    const ECT1: u8 = 1;
    const ECT0: u8 = 2;
    const CE: u8 = 3;
    let new = match (outer_ecn & 3, inner_ecn) {
        (CE, NOT_ECT) => return Err(EcnDrop),
        (CE, _) => CE,
        (ECT1, ECT0) => ECT1,
        (_, same) => same,
    };
    if new == inner_ecn {
        return Ok(());
    }
    match version {
        Some(4) => {
            let old_word = wire::be16(inner, 0).unwrap_or(0);
            if let Some(tos) = inner.get_mut(1) {
                *tos = (*tos & 0xfc) | new;
            }
            let new_word = wire::be16(inner, 0).unwrap_or(0);
            if let Some(sum) = wire::be16(inner, 10) {
                let sum = Checksum::update(sum, old_word, new_word);
                let _ = put(inner, 10, &sum.to_be_bytes());
            }
        }
        _ => {
            if let Some(b) = inner.get_mut(1) {
                *b = (*b & 0xcf) | (new << 4);
            }
        }
    }
    Ok(())
}

/// RFC 6040 says this packet must be dropped.
#[derive(Clone, Copy, Debug)]
pub(crate) struct EcnDrop;

/// Where transport mode splits an IP packet: the headers that stay in front of the IPsec header,
/// and the protocol of what follows them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TransportSplit {
    /// Bytes of IP header (and IPv6 extension headers) kept before the IPsec header.
    pub(crate) header_len: usize,
    /// The protocol of the payload after those headers.
    pub(crate) protocol: IpProtocol,
    /// Offset of the byte that names `protocol` (IPv4 protocol field, or the last next-header field).
    pub(crate) nh_field: usize,
    /// IPv6 (else IPv4).
    pub(crate) v6: bool,
    /// The packet's length per its header.
    pub(crate) total_len: usize,
}

/// Finds where an outbound IPsec header goes in transport mode (RFC 4303 §3.1.1): after the IPv4
/// header with its options, or after the IPv6 Hop-by-Hop, Routing and Fragment headers (and any
/// Destination Options before a Routing header).
pub(crate) fn transport_split_outbound(packet: &[u8]) -> Result<(TransportSplit, bool), wire::Error> {
    let ip = IpPacket::new_checked(packet)?;
    let fragment = ip.is_fragment()?;
    match ip {
        IpPacket::V4(h) => Ok((
            TransportSplit {
                header_len: h.header_len(),
                protocol: h.protocol(),
                nh_field: 9,
                v6: false,
                total_len: h.total_len(),
            },
            fragment,
        )),
        IpPacket::V6(h) => {
            let mut split = TransportSplit {
                header_len: IPV6_HEADER_LEN,
                protocol: h.next_header(),
                nh_field: 6,
                v6: true,
                total_len: h.total_len(),
            };
            // Headers up to and including the last HBH/Routing/Fragment stay in front.
            let mut pending_opts: Option<(usize, usize)> = None;
            for ext in h.ext_headers() {
                let ext = ext?;
                if ext.kind == IpProtocol::AH {
                    return Err(wire::Error::Unsupported {
                        what: "transport mode over an AH packet",
                    });
                }
                let end = ext.offset.saturating_add(ext.bytes.len());
                if ext.kind == IpProtocol::IPV6_OPTS {
                    pending_opts = Some((ext.offset, end));
                    continue;
                }
                let _ = pending_opts.take();
                split.header_len = end;
                split.protocol = ext.next_header();
                split.nh_field = ext.offset;
            }
            Ok((split, fragment))
        }
    }
}

/// Finds the IPsec header of an inbound transport-mode or tunnel-mode packet: returns the split
/// (headers before it, its protocol, the field naming it) for ESP, AH or UDP (ESP-in-UDP).
pub(crate) fn locate_ipsec(packet: &[u8]) -> Result<TransportSplit, wire::Error> {
    match IpPacket::new_checked(packet)? {
        IpPacket::V4(h) => {
            if h.more_fragments() || h.frag_offset() != 0 {
                return Err(wire::Error::Unsupported {
                    what: "fragmented IPsec packet (reassemble first)",
                });
            }
            Ok(TransportSplit {
                header_len: h.header_len(),
                protocol: h.protocol(),
                nh_field: 9,
                v6: false,
                total_len: h.total_len(),
            })
        }
        IpPacket::V6(h) => {
            let mut split = TransportSplit {
                header_len: IPV6_HEADER_LEN,
                protocol: h.next_header(),
                nh_field: 6,
                v6: true,
                total_len: h.total_len(),
            };
            let mut walk = h.ext_headers();
            for ext in &mut walk {
                let ext = ext?;
                if ext.kind == IpProtocol::AH {
                    // The AH header is what we are looking for: stop in front of it.
                    break;
                }
                if ext.kind == IpProtocol::IPV6_FRAG {
                    return Err(wire::Error::Unsupported {
                        what: "fragmented IPsec packet (reassemble first)",
                    });
                }
                split.header_len = ext.offset.saturating_add(ext.bytes.len());
                split.protocol = ext.next_header();
                split.nh_field = ext.offset;
            }
            Ok(split)
        }
    }
}

/// Rewrites the length fields, the protocol at `nh_field` and (IPv4) the checksum of the header at
/// the start of `packet` after transport-mode insertion or removal.
pub(crate) fn fix_header(
    packet: &mut [u8],
    split: &TransportSplit,
    total_len: usize,
    protocol: IpProtocol,
) -> Result<(), wire::Error> {
    if split.v6 {
        let payload_len = total_len
            .checked_sub(IPV6_HEADER_LEN)
            .ok_or(wire::Error::BadLength { what: "IPv6" })?;
        wire::ipv6_set_payload_len(packet, payload_len)?;
        put(packet, split.nh_field, &[protocol.0])
    } else {
        put(packet, split.nh_field, &[protocol.0])?;
        wire::ipv4_set_len_and_protocol(packet, total_len, protocol)
    }
}
