//! UDP header (RFC 768), as used for ESP-in-UDP (RFC 3948) and transport-mode checksum fix-ups.

use core::net::IpAddr;

use super::{Checksum, Error, IpProtocol, put};

/// Length of the UDP header.
pub const UDP_HEADER_LEN: usize = 8;

/// A checked view of a UDP datagram: `new_checked` guarantees a length field of at least 8 that lies
/// within the buffer.
#[derive(Clone, Copy, Debug)]
pub struct UdpHeader<'a> {
    fixed: &'a [u8; UDP_HEADER_LEN],
    payload: &'a [u8],
}

impl<'a> UdpHeader<'a> {
    /// Checks a UDP datagram at the start of `buf`.
    ///
    /// # Errors
    /// [`Error::Truncated`] if shorter than the header or the length field, [`Error::BadLength`] for a
    /// length field below 8.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Error> {
        let (fixed, rest) = buf
            .split_first_chunk::<UDP_HEADER_LEN>()
            .ok_or(Error::Truncated { what: "UDP header" })?;
        let len = usize::from(u16::from_be_bytes([fixed[4], fixed[5]]));
        let payload_len = len
            .checked_sub(UDP_HEADER_LEN)
            .ok_or(Error::BadLength { what: "UDP length" })?;
        let payload = rest
            .get(..payload_len)
            .ok_or(Error::Truncated { what: "UDP payload" })?;
        Ok(UdpHeader { fixed, payload })
    }
    /// Source port.
    #[must_use]
    pub fn src_port(&self) -> u16 {
        u16::from_be_bytes([self.fixed[0], self.fixed[1]])
    }
    /// Destination port.
    #[must_use]
    pub fn dst_port(&self) -> u16 {
        u16::from_be_bytes([self.fixed[2], self.fixed[3]])
    }
    /// Checksum as received (0: none, allowed for IPv4).
    #[must_use]
    pub fn checksum(&self) -> u16 {
        u16::from_be_bytes([self.fixed[6], self.fixed[7]])
    }
    /// The payload, up to the length field.
    #[must_use]
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }
}

/// Plain-data UDP header for building.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UdpRepr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
}

impl UdpRepr {
    /// Writes the header for a payload of `payload_len` bytes with a zero checksum (RFC 3948 §2.1
    /// lets ESP-in-UDP over IPv4 carry none; over IPv6 the SAD fills in a real checksum).
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] or [`Error::BadLength`] if the length exceeds 16 bits.
    pub fn emit(&self, out: &mut [u8], payload_len: usize) -> Result<usize, Error> {
        let len = payload_len
            .checked_add(UDP_HEADER_LEN)
            .and_then(|l| u16::try_from(l).ok())
            .ok_or(Error::BadLength { what: "UDP length" })?;
        let mut h = [0u8; UDP_HEADER_LEN];
        h[0..2].copy_from_slice(&self.src_port.to_be_bytes());
        h[2..4].copy_from_slice(&self.dst_port.to_be_bytes());
        h[4..6].copy_from_slice(&len.to_be_bytes());
        put(out, 0, &h)?;
        Ok(UDP_HEADER_LEN)
    }
}

/// The TCP/UDP checksum of `segment` (header with its checksum field zeroed or not, see below) under
/// the pseudo-header of `src`, `dst` and `protocol` (RFC 768, RFC 8200 §8.1).
///
/// The checksum field inside `segment` is summed like any other bytes; zero it first to compute a
/// fresh checksum, or leave it to verify (a correct segment then gives 0).
#[must_use]
pub fn transport_checksum(src: IpAddr, dst: IpAddr, protocol: IpProtocol, segment: &[u8]) -> u16 {
    let mut c = Checksum::new();
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            c.add_bytes(&s.octets());
            c.add_bytes(&d.octets());
        }
        (s, d) => {
            c.add_bytes(&to_v6(s));
            c.add_bytes(&to_v6(d));
        }
    }
    // Segment lengths are bounded by the 16/32-bit IP length fields; fold the length in two words.
    let len = u32::try_from(segment.len()).unwrap_or(u32::MAX);
    c.add_u16((len >> 16) as u16);
    c.add_u16((len & 0xffff) as u16);
    c.add_u16(u16::from(protocol.0));
    c.add_bytes(segment);
    c.finish()
}

fn to_v6(a: IpAddr) -> [u8; 16] {
    match a {
        IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
        IpAddr::V6(a) => a.octets(),
    }
}

/// Computes and writes the UDP checksum of the datagram `udp` (header and payload) in place; a
/// result of 0 is sent as 0xffff (RFC 768).
pub(crate) fn udp_checksum(src: IpAddr, dst: IpAddr, udp: &mut [u8]) -> Result<(), Error> {
    put(udp, 6, &[0, 0])?;
    let sum = match transport_checksum(src, dst, IpProtocol::UDP, udp) {
        0 => 0xffff,
        s => s,
    };
    put(udp, 6, &sum.to_be_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::Ipv4Addr;

    #[test]
    fn emit_parse_and_checksum() {
        let mut d = [0u8; 12];
        UdpRepr {
            src_port: 4500,
            dst_port: 4500,
        }
        .emit(&mut d, 4)
        .unwrap();
        d[8..].copy_from_slice(&[1, 2, 3, 4]);
        let src = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        let dst = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));
        udp_checksum(src, dst, &mut d).unwrap();
        let h = UdpHeader::new_checked(&d).unwrap();
        assert_eq!((h.src_port(), h.dst_port()), (4500, 4500));
        assert_eq!(h.payload(), &[1, 2, 3, 4]);
        assert_ne!(h.checksum(), 0);
        assert_eq!(transport_checksum(src, dst, IpProtocol::UDP, &d), 0);
        for len in 0..d.len() {
            assert!(matches!(
                UdpHeader::new_checked(&d[..len]),
                Err(Error::Truncated { .. })
            ));
        }
        d[5] = 7;
        assert!(matches!(UdpHeader::new_checked(&d), Err(Error::BadLength { .. })));
    }
}
