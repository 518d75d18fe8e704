//! AH processing (RFC 4302 §3): the ICV over the packet with its mutable fields zeroed, in tunnel and
//! transport mode, IPv4 (options included) and IPv6 (extension headers included).

// Arithmetic here is on lengths and offsets bounded by a slice length (< isize::MAX) plus small
// constants or 8-bit header fields scaled by at most 8; every subtraction follows the comparison that
// makes it non-negative. Checked arithmetic would add error paths that cannot be taken.
#![allow(clippy::arithmetic_side_effects)]

use core::ops::Range;

use crate::error::{ProtectError, UnprotectError};
use crate::esp::Protected;
use crate::mode::{self, Outer};
use crate::sa::{Mode, SaParams};
use crate::transform::{AhMac, CryptoError, Integrity, MacState, SeqContext};
use crate::wire::{self, AH_FIXED_LEN, AhHeader, IPV4_MIN_HEADER_LEN, IPV6_HEADER_LEN, IpProtocol};

/// Length of the AH header with its ICV, padded to 32 bits (IPv4) or 64 bits (IPv6) (RFC 4302 §2.2).
pub(crate) fn header_len(alg: Integrity, v6: bool) -> usize {
    let align = if v6 { 8 } else { 4 };
    (AH_FIXED_LEN + alg.icv_len()).div_ceil(align) * align
}

/// Protects the IP packet at `buf[start..start + len]` on an outbound AH SA.
pub(crate) fn protect<M: AhMac>(
    mac: &M,
    params: &SaParams,
    seq: SeqContext,
    buf: &mut [u8],
    start: usize,
    len: usize,
) -> Result<Protected, ProtectError> {
    let end = start.checked_add(len).ok_or(ProtectError::TooLarge)?;
    let packet = buf
        .get(start..end)
        .ok_or(ProtectError::BufferTooSmall { needed: end })?;
    let alg = mac.algorithm();
    let (ip_start, ah_at, ah_len, total) = match params.mode {
        Mode::Tunnel { local, remote } => {
            let inner = mode::inner(packet)?;
            if inner.len != len {
                return Err(wire::Error::BadLength {
                    what: "inner packet length",
                }
                .into());
            }
            let ah_len = header_len(alg, local.is_ipv6());
            let outer_len = mode::outer_len(local);
            let needed = outer_len + ah_len + len;
            let ip_start = start
                .checked_sub(ah_len + outer_len)
                .ok_or(ProtectError::BufferTooSmall { needed })?;
            let outer = Outer {
                local,
                remote,
                protocol: IpProtocol::AH,
                payload_len: ah_len + len,
                tos: mode::outer_tos(&params.tunnel, inner.tos),
                df: mode::outer_df(params.tunnel.df, &inner),
                ttl: params.tunnel.ttl,
                ident: seq.low16(),
            };
            let out = buf
                .get_mut(ip_start..end)
                .ok_or(ProtectError::BufferTooSmall { needed })?;
            mode::write_outer(out, &outer).map_err(|_| ProtectError::TooLarge)?;
            let ah = out.get_mut(outer_len..).ok_or(ProtectError::TooLarge)?;
            wire::ah_emit_header(ah, inner.protocol, params.spi, seq.low(), ah_len - AH_FIXED_LEN)?;
            (ip_start, outer_len, ah_len, outer_len + ah_len + len)
        }
        Mode::Transport => {
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
            let ah_len = header_len(alg, split.v6);
            let total = len + ah_len;
            let new_start = start
                .checked_sub(ah_len)
                .ok_or(ProtectError::BufferTooSmall { needed: total })?;
            if total > usize::from(u16::MAX) + if split.v6 { IPV6_HEADER_LEN } else { 0 } {
                return Err(ProtectError::TooLarge);
            }
            buf.copy_within(start..start + split.header_len, new_start);
            let out = buf
                .get_mut(new_start..new_start + total)
                .ok_or(ProtectError::TooLarge)?;
            let ah = out.get_mut(split.header_len..).ok_or(ProtectError::TooLarge)?;
            wire::ah_emit_header(ah, split.protocol, params.spi, seq.low(), ah_len - AH_FIXED_LEN)?;
            mode::fix_header(out, &split, total, IpProtocol::AH)?;
            (new_start, split.header_len, ah_len, total)
        }
    };
    let packet = buf
        .get_mut(ip_start..ip_start + total)
        .ok_or(ProtectError::TooLarge)?;
    let state = icv_state(mac, packet, ah_at, ah_len, seq).map_err(ProtectError::from)?;
    let icv = packet
        .get_mut(ah_at + AH_FIXED_LEN..ah_at + AH_FIXED_LEN + alg.icv_len())
        .ok_or(ProtectError::TooLarge)?;
    state.finish_into(icv);
    Ok(Protected {
        packet: ip_start..ip_start + total,
        ipsec: ip_start + ah_at..ip_start + total,
    })
}

/// Verifies the AH packet `packet` (whose AH header sits at `ah_at`) against `mac`.
pub(crate) fn verify<M: AhMac>(
    mac: &M,
    packet: &[u8],
    ah_at: usize,
    seq: SeqContext,
) -> Result<AhHeaderInfo, UnprotectError> {
    let ah = AhHeader::new_checked(packet.get(ah_at..).unwrap_or(&[]))?;
    let alg = mac.algorithm();
    let v6 = packet.first().is_some_and(|b| b >> 4 == 6);
    if ah.header_len() != header_len(alg, v6) {
        return Err(wire::Error::BadLength {
            what: "AH ICV length for the SA's algorithm",
        }
        .into());
    }
    let icv = ah
        .icv()
        .get(..alg.icv_len())
        .ok_or(wire::Error::Truncated { what: "AH ICV" })?;
    let state = icv_state(mac, packet, ah_at, ah.header_len(), seq)?;
    state
        .verify(icv)
        .map_err(|_| UnprotectError::IntegrityCheckFailed)?;
    Ok(AhHeaderInfo {
        next_header: ah.next_header(),
        len: ah.header_len(),
    })
}

/// What the AH header said, once verified.
pub(crate) struct AhHeaderInfo {
    pub(crate) next_header: IpProtocol,
    pub(crate) len: usize,
}

/// The payload after the AH header.
pub(crate) fn payload_range(ah_at: usize, info: &AhHeaderInfo, total: usize) -> Range<usize> {
    ah_at + info.len..total
}

/// Errors of the ICV input walk.
#[derive(Clone, Copy, Debug)]
pub(crate) enum IcvInputError {
    Wire(wire::Error),
}

impl From<IcvInputError> for ProtectError {
    fn from(e: IcvInputError) -> Self {
        let IcvInputError::Wire(w) = e;
        ProtectError::Malformed(w)
    }
}

impl From<IcvInputError> for UnprotectError {
    fn from(e: IcvInputError) -> Self {
        let IcvInputError::Wire(w) = e;
        UnprotectError::Malformed(w)
    }
}

impl From<wire::Error> for IcvInputError {
    fn from(e: wire::Error) -> Self {
        IcvInputError::Wire(e)
    }
}

/// Feeds the ICV input (RFC 4302 §3.3.3.1): the IP header and extension headers before AH with
/// mutable fields as zeros, the AH header with a zero ICV field, the rest of the packet, and with
/// ESN the high sequence bits.
fn icv_state<M: AhMac>(
    mac: &M,
    packet: &[u8],
    ah_at: usize,
    ah_len: usize,
    seq: SeqContext,
) -> Result<M::State, IcvInputError> {
    let mut state = mac.start();
    let front = packet
        .get(..ah_at)
        .ok_or(wire::Error::Truncated { what: "IP header" })?;
    match front.first().map(|b| b >> 4) {
        Some(4) => feed_ipv4_header(&mut state, front)?,
        Some(6) => feed_ipv6_headers(&mut state, front)?,
        _ => return Err(wire::Error::Malformed { what: "IP version" }.into()),
    }
    let ah = packet
        .get(ah_at..ah_at + ah_len)
        .ok_or(wire::Error::Truncated { what: "AH header" })?;
    // The AH header with its ICV field zeroed; ICV padding (to 32/64 bits) is fed as sent
    // (RFC 4302 §3.3.3.2.1: the sender chooses its value and it is covered by the ICV).
    let icv_end = AH_FIXED_LEN + mac.algorithm().icv_len();
    let fixed = ah
        .get(..AH_FIXED_LEN)
        .ok_or(wire::Error::Truncated { what: "AH header" })?;
    let padding = ah
        .get(icv_end..)
        .ok_or(wire::Error::BadLength { what: "AH ICV" })?;
    state.update(fixed);
    zeros(&mut state, icv_end - AH_FIXED_LEN);
    state.update(padding);
    state.update(packet.get(ah_at + ah_len..).unwrap_or(&[]));
    if seq.esn {
        state.update(&seq.high().to_be_bytes());
    }
    Ok(state)
}

/// IPv4: TOS, flags and fragment offset, TTL and checksum are mutable; so is every option except
/// the ones RFC 4302 §3.3.3.1.1.2 lists as immutable (EOL, NOP, security options, router alert,
/// SDB). Source routes are mutable but predictable: not supported.
fn feed_ipv4_header<S: MacState>(state: &mut S, header: &[u8]) -> Result<(), wire::Error> {
    let mut fixed = *header
        .first_chunk::<IPV4_MIN_HEADER_LEN>()
        .ok_or(wire::Error::Truncated { what: "IPv4" })?;
    fixed[1] = 0;
    fixed[6] = 0;
    fixed[7] = 0;
    fixed[8] = 0;
    fixed[10] = 0;
    fixed[11] = 0;
    state.update(&fixed);
    let mut opts = header.get(IPV4_MIN_HEADER_LEN..).unwrap_or(&[]);
    while let Some((&kind, rest)) = opts.split_first() {
        match kind {
            0 | 1 => {
                state.update(&[kind]);
                opts = rest;
                if kind == 0 {
                    // End of options: the rest is padding, immutable zeros or not, fed as is.
                    state.update(opts);
                    return Ok(());
                }
            }
            _ => {
                let len = usize::from(
                    *rest
                        .first()
                        .ok_or(wire::Error::Truncated { what: "IPv4 option" })?,
                );
                let option = opts
                    .get(..len)
                    .filter(|_| len >= 2)
                    .ok_or(wire::Error::BadLength { what: "IPv4 option" })?;
                match kind {
                    130 | 133 | 134 | 148 | 149 => state.update(option),
                    131 | 137 => {
                        return Err(wire::Error::Unsupported {
                            what: "AH over IPv4 source route",
                        });
                    }
                    _ => zeros(state, len),
                }
                opts = opts.get(len..).unwrap_or(&[]);
            }
        }
    }
    Ok(())
}

/// IPv6: traffic class, flow label and hop limit are mutable; option data with the "may change"
/// bit set (RFC 8200 §4.2) is zeroed; a Routing header with segments left is not supported.
fn feed_ipv6_headers<S: MacState>(state: &mut S, headers: &[u8]) -> Result<(), wire::Error> {
    let mut fixed = *headers
        .first_chunk::<IPV6_HEADER_LEN>()
        .ok_or(wire::Error::Truncated { what: "IPv6" })?;
    fixed[0] &= 0xf0;
    fixed[1] = 0;
    fixed[2] = 0;
    fixed[3] = 0;
    fixed[7] = 0;
    state.update(&fixed);
    let mut next = IpProtocol(fixed[6]);
    let mut rest = headers.get(IPV6_HEADER_LEN..).unwrap_or(&[]);
    while !rest.is_empty() {
        let Some(&[nh, len_field]) = rest.first_chunk::<2>() else {
            return Err(wire::Error::Truncated {
                what: "IPv6 extension header",
            });
        };
        let len = match next {
            IpProtocol::IPV6_FRAG => 8,
            _ => (usize::from(len_field) + 1) * 8,
        };
        let ext = rest.get(..len).ok_or(wire::Error::Truncated {
            what: "IPv6 extension header",
        })?;
        match next {
            IpProtocol::HOPOPT | IpProtocol::IPV6_OPTS => feed_options(state, ext)?,
            IpProtocol::IPV6_ROUTE => {
                if ext.get(3).is_some_and(|&left| left != 0) {
                    return Err(wire::Error::Unsupported {
                        what: "AH over a routing header with segments left",
                    });
                }
                state.update(ext);
            }
            IpProtocol::IPV6_FRAG => state.update(ext),
            _ => {
                return Err(wire::Error::Malformed {
                    what: "IPv6 header before AH",
                });
            }
        }
        next = IpProtocol(nh);
        rest = rest.get(len..).unwrap_or(&[]);
    }
    Ok(())
}

fn feed_options<S: MacState>(state: &mut S, ext: &[u8]) -> Result<(), wire::Error> {
    let (head, mut opts) = ext
        .split_first_chunk::<2>()
        .ok_or(wire::Error::Truncated { what: "IPv6 options" })?;
    state.update(head);
    while let Some((&kind, rest)) = opts.split_first() {
        if kind == 0 {
            state.update(&[0]);
            opts = rest;
            continue;
        }
        let len_byte = *rest
            .first()
            .ok_or(wire::Error::Truncated { what: "IPv6 option" })?;
        let len = usize::from(len_byte);
        let data = rest
            .get(1..1 + len)
            .ok_or(wire::Error::Truncated { what: "IPv6 option" })?;
        state.update(&[kind, len_byte]);
        if kind & 0x20 != 0 {
            zeros(state, len);
        } else {
            state.update(data);
        }
        opts = rest.get(1 + len..).unwrap_or(&[]);
    }
    Ok(())
}

fn zeros<S: MacState>(state: &mut S, mut n: usize) {
    const ZEROS: [u8; 64] = [0; 64];
    while n > 0 {
        let k = n.min(ZEROS.len());
        state.update(ZEROS.get(..k).unwrap_or(&[]));
        n -= k;
    }
}

impl From<CryptoError> for IcvInputError {
    fn from(_: CryptoError) -> Self {
        IcvInputError::Wire(wire::Error::Malformed { what: "AH" })
    }
}
