//! ESP processing (RFC 4303 §3): padding and trailer, sequence numbers and IVs, and the two modes.

// Arithmetic here is on lengths and offsets bounded by a slice length (< isize::MAX) plus small
// constants or 8-bit header fields scaled by at most 8; every subtraction follows the comparison that
// makes it non-negative. Checked arithmetic would add error paths that cannot be taken.
#![allow(clippy::arithmetic_side_effects)]

use core::ops::Range;

use crate::error::{ProtectError, UnprotectError};
use crate::mode::{self, Outer, TransportSplit};
use crate::sa::{Mode, SaParams, Spi, TfcPadding};
use crate::transform::{EspAlgorithm, EspCipher, SeqContext};
use crate::wire::{self, ESP_HEADER_LEN, IpProtocol, UDP_HEADER_LEN, UdpRepr};

/// Bytes before the payload: ESP header and IV.
pub(crate) fn header_len(alg: EspAlgorithm) -> usize {
    ESP_HEADER_LEN + alg.iv_len()
}

/// Bytes after a payload of `payload_len` bytes: padding, pad length, next header and ICV.
pub(crate) fn trailer_len(alg: EspAlgorithm, payload_len: usize) -> usize {
    pad_len(alg, payload_len) + 2 + alg.icv_len()
}

/// Padding that aligns payload, padding, pad length and next header to the block size.
fn pad_len(alg: EspAlgorithm, payload_len: usize) -> usize {
    let block = alg.block_len();
    (block - (payload_len + 2) % block) % block
}

/// Where the pieces of an outbound packet go.
pub(crate) struct Protected {
    /// The whole packet to send (outer IP header included).
    pub(crate) packet: Range<usize>,
    /// The ESP packet, or for ESP-in-UDP the UDP payload (= the ESP packet).
    pub(crate) ipsec: Range<usize>,
}

/// Seals an ESP packet in `esp`: the payload is at `esp[header_len..][..payload_len]`; writes the
/// header, IV, padding, trailer and ICV. Returns the ESP packet length.
fn seal<C: EspCipher>(
    cipher: &C,
    spi: Spi,
    seq: SeqContext,
    next_header: IpProtocol,
    esp: &mut [u8],
    payload_len: usize,
) -> Result<usize, ProtectError> {
    let alg = cipher.algorithm();
    let hdr = header_len(alg);
    let pad = pad_len(alg, payload_len);
    let body_end = hdr + payload_len + pad + 2;
    let total = body_end + alg.icv_len();
    let esp_len = esp.len();
    let region = esp.get_mut(..total).ok_or(ProtectError::BufferTooSmall {
        needed: total.max(esp_len),
    })?;
    // Self-describing padding 1, 2, 3, ... (RFC 4303 §2.4), then pad length and next header.
    let trailer = region
        .get_mut(hdr + payload_len..body_end)
        .ok_or(ProtectError::TooLarge)?;
    for (b, value) in trailer.iter_mut().zip(1u8..) {
        *b = value;
    }
    let pad_byte =
        u8::try_from(pad).map_err(|_| ProtectError::Crypto(crate::transform::CryptoError::Length))?;
    if let Some(t) = trailer.last_chunk_mut::<2>() {
        *t = [pad_byte, next_header.0];
    }
    wire::esp_emit_header(region, spi, seq.low())?;
    if let Some(iv) = region.get_mut(ESP_HEADER_LEN..hdr) {
        cipher.write_iv(seq.seq, iv);
    }
    cipher.seal(region, seq).map_err(ProtectError::Crypto)?;
    Ok(total)
}

/// Opens an ESP packet in place; returns the payload range within `esp` and the next header.
fn open<C: EspCipher>(
    cipher: &C,
    seq: SeqContext,
    esp: &mut [u8],
) -> Result<(Range<usize>, IpProtocol), UnprotectError> {
    let alg = cipher.algorithm();
    let hdr = header_len(alg);
    let min = hdr + 2 + alg.icv_len();
    if esp.len() < min {
        return Err(wire::Error::Truncated { what: "ESP packet" }.into());
    }
    let body_end = esp.len() - alg.icv_len();
    if (body_end - hdr) % alg.block_len() != 0 {
        return Err(wire::Error::BadLength {
            what: "ESP ciphertext not block aligned",
        }
        .into());
    }
    cipher.open(esp, seq).map_err(|e| match e {
        crate::transform::CryptoError::IntegrityCheckFailed => UnprotectError::IntegrityCheckFailed,
        e => UnprotectError::Crypto(e),
    })?;
    let body = esp.get(hdr..body_end).ok_or(UnprotectError::BadPadding)?;
    let Some(&[pad, nh]) = body.last_chunk::<2>() else {
        return Err(UnprotectError::BadPadding);
    };
    let pad = usize::from(pad);
    let payload_len = body
        .len()
        .checked_sub(2 + pad)
        .ok_or(UnprotectError::BadPadding)?;
    let padding = body
        .get(payload_len..payload_len + pad)
        .ok_or(UnprotectError::BadPadding)?;
    if padding.iter().enumerate().any(|(i, &b)| usize::from(b) != i + 1) {
        return Err(UnprotectError::BadPadding);
    }
    Ok((hdr..hdr + payload_len, IpProtocol(nh)))
}

/// Protects the IP packet at `buf[start..start + len]` on an outbound ESP SA.
pub(crate) fn protect<C: EspCipher>(
    cipher: &C,
    params: &SaParams,
    seq: SeqContext,
    buf: &mut [u8],
    start: usize,
    len: usize,
    dummy: bool,
) -> Result<Protected, ProtectError> {
    let alg = cipher.algorithm();
    let hdr = header_len(alg);
    let udp = if params.encap.is_some() { UDP_HEADER_LEN } else { 0 };
    let end = start.checked_add(len).ok_or(ProtectError::TooLarge)?;
    let packet = buf
        .get(start..end)
        .ok_or(ProtectError::BufferTooSmall { needed: end })?;
    match params.mode {
        Mode::Tunnel { local, remote } => {
            let inner = if dummy {
                // A dummy packet (RFC 4303 §2.6): next header 59, the payload is filler.
                mode::Inner {
                    protocol: IpProtocol::NO_NEXT_HEADER,
                    tos: 0,
                    df: false,
                    len,
                }
            } else {
                mode::inner(packet)?
            };
            if inner.len != len {
                return Err(wire::Error::BadLength {
                    what: "inner packet length",
                }
                .into());
            }
            let outer_len = mode::outer_len(local);
            let headroom = outer_len + udp + hdr;
            let payload_len = match params.tfc {
                TfcPadding::PadTo(to) => len.max(usize::from(to)),
                TfcPadding::None => len,
            };
            let needed = headroom + payload_len + trailer_len(alg, payload_len);
            let esp_start = start
                .checked_sub(hdr)
                .ok_or(ProtectError::BufferTooSmall { needed })?;
            let ip_start = start
                .checked_sub(headroom)
                .ok_or(ProtectError::BufferTooSmall { needed })?;
            // TFC padding: zeros after the inner packet, dropped by the receiver (RFC 4303 §2.7).
            if payload_len > len {
                let pad = buf
                    .get_mut(end..start + payload_len)
                    .ok_or(ProtectError::BufferTooSmall {
                        needed: ip_start + needed,
                    })?;
                pad.fill(0);
            }
            let esp = buf
                .get_mut(esp_start..)
                .ok_or(ProtectError::BufferTooSmall { needed })?;
            let esp_len = seal(cipher, params.spi, seq, inner.protocol, esp, payload_len)
                .map_err(|e| grow(e, esp_start))?;
            let ipsec = (esp_start - udp)..(esp_start + esp_len);
            let outer = Outer {
                local,
                remote,
                protocol: if udp > 0 { IpProtocol::UDP } else { IpProtocol::ESP },
                payload_len: udp + esp_len,
                tos: mode::outer_tos(&params.tunnel, inner.tos),
                df: mode::outer_df(params.tunnel.df, &inner),
                ttl: params.tunnel.ttl,
                ident: seq.low16(),
            };
            let out = buf
                .get_mut(ip_start..ipsec.end)
                .ok_or(ProtectError::BufferTooSmall { needed })?;
            if outer.payload_len + outer_len > usize::from(u16::MAX)
                && matches!(local, core::net::IpAddr::V4(_))
            {
                return Err(ProtectError::TooLarge);
            }
            mode::write_outer(out, &outer).map_err(|_| ProtectError::TooLarge)?;
            if let Some(encap) = params.encap {
                write_udp(out, outer_len, encap, local, remote)?;
            }
            let udp_payload = if udp > 0 {
                esp_start..ipsec.end
            } else {
                ipsec.clone()
            };
            Ok(Protected {
                packet: ip_start..ipsec.end,
                ipsec: udp_payload,
            })
        }
        Mode::Transport => {
            if dummy {
                return Err(wire::Error::Unsupported {
                    what: "dummy packets in transport mode",
                }
                .into());
            }
            let (split, fragment) = mode::transport_split_outbound(packet)?;
            if fragment {
                return Err(ProtectError::Fragment);
            }
            if split.total_len != len {
                return Err(wire::Error::BadLength {
                    what: "packet length",
                }
                .into());
            }
            let shift = udp + hdr;
            let payload_len = len - split.header_len;
            let needed = shift + len + trailer_len(alg, payload_len);
            let new_start = start
                .checked_sub(shift)
                .ok_or(ProtectError::BufferTooSmall { needed })?;
            let total = split.header_len + udp + hdr + payload_len + trailer_len(alg, payload_len);
            if total > usize::from(u16::MAX) + if split.v6 { wire::IPV6_HEADER_LEN } else { 0 } {
                return Err(ProtectError::TooLarge);
            }
            if buf.len() < new_start + total {
                return Err(ProtectError::BufferTooSmall {
                    needed: new_start + total,
                });
            }
            buf.copy_within(start..start + split.header_len, new_start);
            let esp_start = new_start + split.header_len + udp;
            let esp = buf
                .get_mut(esp_start..)
                .ok_or(ProtectError::BufferTooSmall { needed })?;
            let esp_len = seal(cipher, params.spi, seq, split.protocol, esp, payload_len)?;
            let out = buf
                .get_mut(new_start..new_start + total)
                .ok_or(ProtectError::BufferTooSmall { needed })?;
            let proto = if udp > 0 { IpProtocol::UDP } else { IpProtocol::ESP };
            mode::fix_header(out, &split, total, proto)?;
            if let Some(encap) = params.encap {
                let ip = wire::IpPacket::new_checked(out)?;
                let (src, dst) = (ip.src(), ip.dst());
                write_udp(out, split.header_len, encap, src, dst)?;
            }
            let ipsec = esp_start..esp_start + esp_len;
            Ok(Protected {
                packet: new_start..new_start + total,
                ipsec,
            })
        }
    }
}

/// Writes the UDP header of ESP-in-UDP at `out[at..]` covering the rest of `out`; IPv4 carries a
/// zero checksum (RFC 3948 §2.1), IPv6 a real one (RFC 8200 §8.1).
fn write_udp(
    out: &mut [u8],
    at: usize,
    encap: crate::sa::UdpEncap,
    src: core::net::IpAddr,
    dst: core::net::IpAddr,
) -> Result<(), ProtectError> {
    let dgram = out.get_mut(at..).ok_or(ProtectError::TooLarge)?;
    let payload_len = dgram.len().saturating_sub(UDP_HEADER_LEN);
    UdpRepr {
        src_port: encap.local_port,
        dst_port: encap.remote_port,
    }
    .emit(dgram, payload_len)
    .map_err(|_| ProtectError::TooLarge)?;
    if src.is_ipv6() {
        wire::udp_checksum(src, dst, dgram)?;
    }
    Ok(())
}

fn grow(e: ProtectError, offset: usize) -> ProtectError {
    match e {
        ProtectError::BufferTooSmall { needed } => ProtectError::BufferTooSmall {
            needed: needed + offset,
        },
        e => e,
    }
}

/// The result of opening an inbound ESP packet, before the mode's checks.
pub(crate) struct Opened {
    /// The payload (inner packet or transport payload) within the whole buffer.
    pub(crate) payload: Range<usize>,
    /// The next header from the trailer.
    pub(crate) next_header: IpProtocol,
}

/// Opens the ESP packet at `buf[esp]` in place.
pub(crate) fn open_in<C: EspCipher>(
    cipher: &C,
    seq: SeqContext,
    buf: &mut [u8],
    esp: Range<usize>,
) -> Result<Opened, UnprotectError> {
    let base = esp.start;
    let region = buf
        .get_mut(esp)
        .ok_or(wire::Error::Truncated { what: "ESP packet" })?;
    let (payload, next_header) = open(cipher, seq, region)?;
    Ok(Opened {
        payload: base + payload.start..base + payload.end,
        next_header,
    })
}

/// Rebuilds a transport-mode packet after its ESP (or AH) header and trailer are gone: moves the IP
/// header in `buf[start..start + split.header_len]` up against the payload at `payload` and fixes
/// its length, protocol and checksum. Returns the range of the rebuilt packet.
pub(crate) fn rejoin(
    buf: &mut [u8],
    start: usize,
    split: &TransportSplit,
    payload: Range<usize>,
    next_header: IpProtocol,
) -> Result<Range<usize>, UnprotectError> {
    let new_start = payload
        .start
        .checked_sub(split.header_len)
        .ok_or(wire::Error::BadLength { what: "IPsec header" })?;
    buf.copy_within(start..start + split.header_len, new_start);
    let total = split.header_len + payload.len();
    let packet = buf
        .get_mut(new_start..payload.end)
        .ok_or(wire::Error::Truncated { what: "packet" })?;
    mode::fix_header(packet, split, total, next_header)?;
    Ok(new_start..payload.end)
}

/// Recomputes the TCP or UDP checksum of a transport-mode packet that crossed a NAT (RFC 3948
/// §3.1.2): the addresses in the pseudo-header changed, so the sender's checksum no longer fits.
pub(crate) fn fix_transport_checksum(packet: &mut [u8]) -> Result<(), UnprotectError> {
    let ip = wire::IpPacket::new_checked(packet)?;
    let (proto, off) = ip.upper_layer()?;
    let (src, dst) = (ip.src(), ip.dst());
    let at = match proto {
        IpProtocol::TCP => 16,
        IpProtocol::UDP => 6,
        _ => return Ok(()),
    };
    let seg = packet.get_mut(off..).ok_or(wire::Error::Truncated {
        what: "transport header",
    })?;
    if proto == IpProtocol::UDP && src.is_ipv4() && wire::be16(seg, 6) == Some(0) {
        return Ok(()); // no checksum in use
    }
    wire::put(seg, at, &[0, 0])?;
    let mut sum = wire::transport_checksum(src, dst, proto, seg);
    if proto == IpProtocol::UDP && sum == 0 {
        sum = 0xffff;
    }
    wire::put(seg, at, &sum.to_be_bytes())?;
    Ok(())
}
