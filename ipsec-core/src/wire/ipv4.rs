//! IPv4 header (RFC 791).

// Arithmetic here is on lengths and offsets bounded by a slice length (< isize::MAX) plus small
// constants or 8-bit header fields scaled by at most 8; every subtraction follows the comparison that
// makes it non-negative. Checked arithmetic would add error paths that cannot be taken.
#![allow(clippy::arithmetic_side_effects)]

use core::net::Ipv4Addr;

use super::{Checksum, Error, IpProtocol, put};

/// Length of an IPv4 header without options.
pub const IPV4_MIN_HEADER_LEN: usize = 20;

/// A checked view of an IPv4 packet.
///
/// `new_checked` guarantees: version 4, a header length of 20..=60 bytes within the buffer, and a total
/// length at least the header length and at most the buffer length. Bytes past the total length (link
/// padding) are ignored by every accessor.
#[derive(Clone, Copy, Debug)]
pub struct Ipv4Header<'a> {
    fixed: &'a [u8; IPV4_MIN_HEADER_LEN],
    options: &'a [u8],
    payload: &'a [u8],
}

impl<'a> Ipv4Header<'a> {
    /// Checks the lengths of an IPv4 packet.
    ///
    /// # Errors
    /// [`Error::Truncated`] if the buffer is shorter than the header or the total length,
    /// [`Error::Malformed`] for a version other than 4, [`Error::BadLength`] for a header length below
    /// 20 bytes or a total length below the header length.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Error> {
        let (fixed, _) = buf
            .split_first_chunk::<IPV4_MIN_HEADER_LEN>()
            .ok_or(Error::Truncated { what: "IPv4 header" })?;
        if fixed[0] >> 4 != 4 {
            return Err(Error::Malformed { what: "IPv4 version" });
        }
        let header_len = usize::from(fixed[0] & 0x0f) * 4;
        if header_len < IPV4_MIN_HEADER_LEN {
            return Err(Error::BadLength {
                what: "IPv4 header length",
            });
        }
        let total = usize::from(u16::from_be_bytes([fixed[2], fixed[3]]));
        if total < header_len {
            return Err(Error::BadLength {
                what: "IPv4 total length",
            });
        }
        let packet = buf.get(..total).ok_or(Error::Truncated { what: "IPv4 packet" })?;
        let options = packet
            .get(IPV4_MIN_HEADER_LEN..header_len)
            .ok_or(Error::Truncated { what: "IPv4 options" })?;
        let payload = packet.get(header_len..).unwrap_or(&[]);
        Ok(Ipv4Header {
            fixed,
            options,
            payload,
        })
    }

    /// Header length in bytes, options included.
    #[must_use]
    pub fn header_len(&self) -> usize {
        IPV4_MIN_HEADER_LEN + self.options.len()
    }
    /// The DSCP and ECN byte (formerly TOS).
    #[must_use]
    pub fn tos(&self) -> u8 {
        self.fixed[1]
    }
    /// Total length of the packet.
    #[must_use]
    pub fn total_len(&self) -> usize {
        self.header_len() + self.payload.len()
    }
    /// Identification.
    #[must_use]
    pub fn ident(&self) -> u16 {
        u16::from_be_bytes([self.fixed[4], self.fixed[5]])
    }
    /// The Don't Fragment flag.
    #[must_use]
    pub fn dont_fragment(&self) -> bool {
        self.fixed[6] & 0x40 != 0
    }
    /// The More Fragments flag.
    #[must_use]
    pub fn more_fragments(&self) -> bool {
        self.fixed[6] & 0x20 != 0
    }
    /// Fragment offset in 8-byte units.
    #[must_use]
    pub fn frag_offset(&self) -> u16 {
        u16::from_be_bytes([self.fixed[6] & 0x1f, self.fixed[7]])
    }
    /// Time to live.
    #[must_use]
    pub fn ttl(&self) -> u8 {
        self.fixed[8]
    }
    /// The upper-layer protocol.
    #[must_use]
    pub fn protocol(&self) -> IpProtocol {
        IpProtocol(self.fixed[9])
    }
    /// The header checksum as received.
    #[must_use]
    pub fn checksum(&self) -> u16 {
        u16::from_be_bytes([self.fixed[10], self.fixed[11]])
    }
    /// True if the header checksum is correct.
    #[must_use]
    pub fn checksum_ok(&self) -> bool {
        let mut c = Checksum::new();
        c.add_bytes(self.fixed);
        c.add_bytes(self.options);
        c.finish() == 0
    }
    /// Source address.
    #[must_use]
    pub fn src(&self) -> Ipv4Addr {
        let [.., a, b, c, d, _, _, _, _] = *self.fixed;
        Ipv4Addr::new(a, b, c, d)
    }
    /// Destination address.
    #[must_use]
    pub fn dst(&self) -> Ipv4Addr {
        let [.., a, b, c, d] = *self.fixed;
        Ipv4Addr::new(a, b, c, d)
    }
    /// The options bytes (possibly empty).
    #[must_use]
    pub fn options(&self) -> &'a [u8] {
        self.options
    }
    /// The payload, up to the total length.
    #[must_use]
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }
}

/// Plain-data IPv4 header without options, for building.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv4Repr {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Upper-layer protocol.
    pub protocol: IpProtocol,
    /// Payload length (the total length is this plus 20).
    pub payload_len: usize,
    /// DSCP and ECN.
    pub tos: u8,
    /// Identification.
    pub ident: u16,
    /// Don't Fragment.
    pub dont_fragment: bool,
    /// Time to live.
    pub ttl: u8,
}

impl Ipv4Repr {
    /// Reads the fields this type holds (options are dropped, the payload length kept).
    #[must_use]
    pub fn parse(h: &Ipv4Header<'_>) -> Self {
        Ipv4Repr {
            src: h.src(),
            dst: h.dst(),
            protocol: h.protocol(),
            payload_len: h.payload().len(),
            tos: h.tos(),
            ident: h.ident(),
            dont_fragment: h.dont_fragment(),
            ttl: h.ttl(),
        }
    }

    /// Bytes `emit` writes.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        IPV4_MIN_HEADER_LEN
    }

    /// Writes the 20-byte header, checksum included, at the start of `out`.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] if `out` is shorter than 20 bytes; [`Error::BadLength`] if the total
    /// length does not fit in 16 bits.
    pub fn emit(&self, out: &mut [u8]) -> Result<usize, Error> {
        let total = self
            .payload_len
            .checked_add(IPV4_MIN_HEADER_LEN)
            .and_then(|t| u16::try_from(t).ok())
            .ok_or(Error::BadLength {
                what: "IPv4 total length",
            })?;
        let mut h = [0u8; IPV4_MIN_HEADER_LEN];
        h[0] = 0x45;
        h[1] = self.tos;
        h[2..4].copy_from_slice(&total.to_be_bytes());
        h[4..6].copy_from_slice(&self.ident.to_be_bytes());
        h[6] = if self.dont_fragment { 0x40 } else { 0 };
        h[8] = self.ttl;
        h[9] = self.protocol.0;
        h[12..16].copy_from_slice(&self.src.octets());
        h[16..20].copy_from_slice(&self.dst.octets());
        let mut c = Checksum::new();
        c.add_bytes(&h);
        h[10..12].copy_from_slice(&c.finish().to_be_bytes());
        put(out, 0, &h)?;
        Ok(IPV4_MIN_HEADER_LEN)
    }
}

/// Rewrites the total length, protocol and checksum of the IPv4 header at the start of `packet`
/// in place (used after inserting or removing an ESP/AH header in transport mode).
pub(crate) fn set_len_and_protocol(
    packet: &mut [u8],
    total_len: usize,
    protocol: IpProtocol,
) -> Result<(), Error> {
    let total = u16::try_from(total_len).map_err(|_| Error::BadLength {
        what: "IPv4 total length",
    })?;
    let header_len = usize::from(packet.first().ok_or(Error::Truncated { what: "IPv4 header" })? & 0x0f) * 4;
    put(packet, 2, &total.to_be_bytes())?;
    put(packet, 9, &[protocol.0])?;
    put(packet, 10, &[0, 0])?;
    let header = packet
        .get(..header_len)
        .ok_or(Error::Truncated { what: "IPv4 header" })?;
    let mut c = Checksum::new();
    c.add_bytes(header);
    let sum = c.finish();
    put(packet, 10, &sum.to_be_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    // An ICMP echo request from RFC 7634 Appendix A (the inner packet of its ESP example).
    const ICMP: &str = "45000054a6f200004001e778c6336405c000020508005b7a3a080000553bec100007362708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637";

    #[test]
    fn parses_fields_and_emits_identical_header() {
        let bytes = hex::decode(ICMP).unwrap();
        let h = Ipv4Header::new_checked(&bytes).unwrap();
        assert_eq!(h.header_len(), 20);
        assert_eq!(h.total_len(), 84);
        assert_eq!(h.ident(), 0xa6f2);
        assert_eq!(h.ttl(), 64);
        assert_eq!(h.protocol(), IpProtocol::ICMP);
        assert_eq!(h.src(), Ipv4Addr::new(198, 51, 100, 5));
        assert_eq!(h.dst(), Ipv4Addr::new(192, 0, 2, 5));
        assert!(h.checksum_ok());
        assert!(!h.dont_fragment() && !h.more_fragments() && h.frag_offset() == 0);
        let repr = Ipv4Repr::parse(&h);
        let mut out = [0u8; 20];
        assert_eq!(repr.emit(&mut out).unwrap(), repr.buffer_len());
        assert_eq!(&out[..], &bytes[..20]);
    }

    #[test]
    fn rejects_every_truncation() {
        let bytes = hex::decode(ICMP).unwrap();
        for len in 0..bytes.len() {
            let err = Ipv4Header::new_checked(&bytes[..len]).unwrap_err();
            assert!(matches!(err, Error::Truncated { .. }), "len {len}: {err:?}");
        }
    }

    #[test]
    fn rejects_bad_lengths_and_version() {
        let mut bytes = hex::decode(ICMP).unwrap();
        bytes[0] = 0x44;
        assert_eq!(
            Ipv4Header::new_checked(&bytes).unwrap_err(),
            Error::BadLength {
                what: "IPv4 header length"
            }
        );
        bytes[0] = 0x65;
        assert!(matches!(
            Ipv4Header::new_checked(&bytes),
            Err(Error::Malformed { .. })
        ));
        bytes[0] = 0x45;
        bytes[2..4].copy_from_slice(&19u16.to_be_bytes());
        assert!(matches!(
            Ipv4Header::new_checked(&bytes),
            Err(Error::BadLength { .. })
        ));
    }

    #[test]
    fn short_output_buffer_is_an_error() {
        let bytes = hex::decode(ICMP).unwrap();
        let repr = Ipv4Repr::parse(&Ipv4Header::new_checked(&bytes).unwrap());
        assert_eq!(
            repr.emit(&mut [0u8; 19]),
            Err(Error::BufferTooSmall { needed: 20 })
        );
    }
}
