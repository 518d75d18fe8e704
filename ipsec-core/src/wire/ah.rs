//! Authentication Header framing (RFC 4302 §2).

// Arithmetic here is on lengths and offsets bounded by a slice length (< isize::MAX) plus small
// constants or 8-bit header fields scaled by at most 8; every subtraction follows the comparison that
// makes it non-negative. Checked arithmetic would add error paths that cannot be taken.
#![allow(clippy::arithmetic_side_effects)]

use super::{Error, IpProtocol};
use crate::sa::Spi;

/// Length of the AH header before the ICV.
pub const AH_FIXED_LEN: usize = 12;

/// A checked view of an AH header and its ICV.
///
/// `new_checked` guarantees that the Payload Length field describes a header of at least 12 bytes
/// that lies within the buffer; `icv()` is the rest of that header.
#[derive(Clone, Copy, Debug)]
pub struct AhHeader<'a> {
    fixed: &'a [u8; AH_FIXED_LEN],
    icv: &'a [u8],
}

impl<'a> AhHeader<'a> {
    /// Checks an AH header at the start of `buf`.
    ///
    /// # Errors
    /// [`Error::Truncated`] if the buffer is shorter than the header says, [`Error::BadLength`] if the
    /// Payload Length field describes fewer than 12 bytes, [`Error::Malformed`] for SPI 0.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Error> {
        let (fixed, rest) = buf
            .split_first_chunk::<AH_FIXED_LEN>()
            .ok_or(Error::Truncated { what: "AH header" })?;
        // Payload Length is the header length in 32-bit words, minus 2 (RFC 4302 §2.2).
        let total = (usize::from(fixed[1]) + 2) * 4;
        let icv_len = total.checked_sub(AH_FIXED_LEN).ok_or(Error::BadLength {
            what: "AH payload length",
        })?;
        let icv = rest.get(..icv_len).ok_or(Error::Truncated { what: "AH ICV" })?;
        let h = AhHeader { fixed, icv };
        if h.spi().0 == 0 {
            return Err(Error::Malformed { what: "AH SPI 0" });
        }
        Ok(h)
    }

    /// The protocol of what follows the AH header.
    #[must_use]
    pub fn next_header(&self) -> IpProtocol {
        IpProtocol(self.fixed[0])
    }
    /// Length of the whole AH header, ICV included.
    #[must_use]
    pub fn header_len(&self) -> usize {
        AH_FIXED_LEN + self.icv.len()
    }
    /// The Security Parameters Index.
    #[must_use]
    pub fn spi(&self) -> Spi {
        let [_, _, _, _, a, b, c, d, ..] = *self.fixed;
        Spi(u32::from_be_bytes([a, b, c, d]))
    }
    /// The low 32 bits of the sequence number.
    #[must_use]
    pub fn seq(&self) -> u32 {
        let [.., a, b, c, d] = *self.fixed;
        u32::from_be_bytes([a, b, c, d])
    }
    /// The Integrity Check Value (with any padding to the 32/64-bit boundary).
    #[must_use]
    pub fn icv(&self) -> &'a [u8] {
        self.icv
    }
}

/// Writes an AH header with a zeroed ICV field of `icv_len` bytes at the start of `out`.
pub(crate) fn emit_header(
    out: &mut [u8],
    next_header: IpProtocol,
    spi: Spi,
    seq_low: u32,
    icv_len: usize,
) -> Result<usize, Error> {
    let total = AH_FIXED_LEN
        .checked_add(icv_len)
        .ok_or(Error::BadLength { what: "AH ICV" })?;
    if total % 4 != 0 {
        return Err(Error::BadLength { what: "AH ICV" });
    }
    let words = u8::try_from(total / 4 - 2).map_err(|_| Error::BadLength { what: "AH ICV" })?;
    let region = out
        .get_mut(..total)
        .ok_or(Error::BufferTooSmall { needed: total })?;
    region.fill(0);
    let mut h = [0u8; AH_FIXED_LEN];
    h[0] = next_header.0;
    h[1] = words;
    h[4..8].copy_from_slice(&spi.0.to_be_bytes());
    h[8..12].copy_from_slice(&seq_low.to_be_bytes());
    super::put(region, 0, &h)?;
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emit_then_parse() {
        let mut out = [0xaau8; 40];
        let n = emit_header(&mut out, IpProtocol::TCP, Spi(0x1234), 7, 16).unwrap();
        assert_eq!(n, 28);
        let h = AhHeader::new_checked(&out).unwrap();
        assert_eq!(h.next_header(), IpProtocol::TCP);
        assert_eq!(h.header_len(), 28);
        assert_eq!(h.spi(), Spi(0x1234));
        assert_eq!(h.seq(), 7);
        assert_eq!(h.icv(), &[0u8; 16]);
        assert_eq!(out[1], 5); // (28 / 4) - 2
        for len in 0..28 {
            assert!(matches!(
                AhHeader::new_checked(&out[..len]),
                Err(Error::Truncated { .. })
            ));
        }
    }

    #[test]
    fn rejects_short_payload_length_and_unaligned_icv() {
        let mut out = [0u8; 40];
        emit_header(&mut out, IpProtocol::TCP, Spi(1), 1, 12).unwrap();
        out[1] = 0; // 8 bytes: shorter than the fixed part
        assert_eq!(
            AhHeader::new_checked(&out).unwrap_err(),
            Error::BadLength {
                what: "AH payload length"
            }
        );
        assert!(emit_header(&mut out, IpProtocol::TCP, Spi(1), 1, 10).is_err());
        assert!(emit_header(&mut [0u8; 20], IpProtocol::TCP, Spi(1), 1, 12).is_err());
    }
}
