//! ESP packet framing (RFC 4303 §2).

use super::Error;
use crate::sa::Spi;

/// Length of the ESP header: SPI and sequence number.
pub const ESP_HEADER_LEN: usize = 8;

/// An ESP packet as received: the header and the protected body (IV, ciphertext, ICV).
#[derive(Clone, Copy, Debug)]
pub struct EspPacket<'a> {
    header: &'a [u8; ESP_HEADER_LEN],
    body: &'a [u8],
}

impl<'a> EspPacket<'a> {
    /// Checks that `buf` holds at least an ESP header.
    ///
    /// # Errors
    /// [`Error::Truncated`] if it does not; [`Error::Malformed`] for SPI 0, which is reserved
    /// (RFC 4303 §2.1) and marks an IKE message on port 4500.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Error> {
        let (header, body) = buf
            .split_first_chunk::<ESP_HEADER_LEN>()
            .ok_or(Error::Truncated { what: "ESP header" })?;
        let pkt = EspPacket { header, body };
        if pkt.spi().0 == 0 {
            return Err(Error::Malformed { what: "ESP SPI 0" });
        }
        Ok(pkt)
    }

    /// The Security Parameters Index.
    #[must_use]
    pub fn spi(&self) -> Spi {
        let [a, b, c, d, ..] = *self.header;
        Spi(u32::from_be_bytes([a, b, c, d]))
    }

    /// The low 32 bits of the sequence number, as sent.
    #[must_use]
    pub fn seq(&self) -> u32 {
        let [.., a, b, c, d] = *self.header;
        u32::from_be_bytes([a, b, c, d])
    }

    /// The header bytes (SPI and sequence number).
    #[must_use]
    pub fn header(&self) -> &'a [u8; ESP_HEADER_LEN] {
        self.header
    }

    /// IV, ciphertext and ICV.
    #[must_use]
    pub fn body(&self) -> &'a [u8] {
        self.body
    }
}

/// Writes the ESP header (SPI, low 32 bits of the sequence number) at the start of `out`.
pub(crate) fn emit_header(out: &mut [u8], spi: Spi, seq_low: u32) -> Result<(), Error> {
    let mut h = [0u8; ESP_HEADER_LEN];
    h[..4].copy_from_slice(&spi.0.to_be_bytes());
    h[4..].copy_from_slice(&seq_low.to_be_bytes());
    super::put(out, 0, &h)
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7634 Appendix A: SPI 0x01020304, sequence number 5.
    const ESP: &str = "01020304000000051011121314151617";

    #[test]
    fn parses_header_fields() {
        let b = hex::decode(ESP).unwrap();
        let p = EspPacket::new_checked(&b).unwrap();
        assert_eq!(p.spi(), Spi(0x0102_0304));
        assert_eq!(p.seq(), 5);
        assert_eq!(p.body(), &b[8..]);
        let mut out = [0u8; 8];
        emit_header(&mut out, p.spi(), p.seq()).unwrap();
        assert_eq!(&out, p.header());
    }

    #[test]
    fn rejects_truncation_and_spi_zero() {
        let b = hex::decode(ESP).unwrap();
        for len in 0..8 {
            assert_eq!(
                EspPacket::new_checked(&b[..len]).unwrap_err(),
                Error::Truncated { what: "ESP header" }
            );
        }
        assert!(matches!(
            EspPacket::new_checked(&[0u8; 16]),
            Err(Error::Malformed { .. })
        ));
        assert!(emit_header(&mut [0u8; 7], Spi(1), 1).is_err());
    }
}
