//! IPv6 header (RFC 8200) and the extension-header walk.

// Arithmetic here is on lengths and offsets bounded by a slice length (< isize::MAX) plus small
// constants or 8-bit header fields scaled by at most 8; every subtraction follows the comparison that
// makes it non-negative. Checked arithmetic would add error paths that cannot be taken.
#![allow(clippy::arithmetic_side_effects)]

use core::net::Ipv6Addr;

use super::{Error, IpProtocol, be16, put};

/// Length of the fixed IPv6 header.
pub const IPV6_HEADER_LEN: usize = 40;

/// The most extension headers we walk before giving up (bounds the work per packet).
const MAX_EXT_HEADERS: usize = 16;

/// A checked view of an IPv6 packet.
///
/// `new_checked` guarantees: version 6 and a payload length within the buffer. Jumbograms (payload
/// length 0 with a Jumbo Payload option) are refused.
#[derive(Clone, Copy, Debug)]
pub struct Ipv6Header<'a> {
    fixed: &'a [u8; IPV6_HEADER_LEN],
    payload: &'a [u8],
}

impl<'a> Ipv6Header<'a> {
    /// Checks the lengths of an IPv6 packet.
    ///
    /// # Errors
    /// [`Error::Truncated`] if the buffer is shorter than the header or the payload length says,
    /// [`Error::Malformed`] for a version other than 6, [`Error::Unsupported`] for a jumbogram.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Error> {
        let (fixed, rest) = buf
            .split_first_chunk::<IPV6_HEADER_LEN>()
            .ok_or(Error::Truncated { what: "IPv6 header" })?;
        if fixed[0] >> 4 != 6 {
            return Err(Error::Malformed { what: "IPv6 version" });
        }
        let payload_len = usize::from(u16::from_be_bytes([fixed[4], fixed[5]]));
        if payload_len == 0 && fixed[6] == IpProtocol::HOPOPT.0 {
            return Err(Error::Unsupported {
                what: "IPv6 jumbogram",
            });
        }
        let payload = rest
            .get(..payload_len)
            .ok_or(Error::Truncated { what: "IPv6 payload" })?;
        Ok(Ipv6Header { fixed, payload })
    }

    /// Traffic class (DSCP and ECN).
    #[must_use]
    pub fn traffic_class(&self) -> u8 {
        (self.fixed[0] << 4) | (self.fixed[1] >> 4)
    }
    /// Flow label (20 bits).
    #[must_use]
    pub fn flow_label(&self) -> u32 {
        u32::from_be_bytes([0, self.fixed[1] & 0x0f, self.fixed[2], self.fixed[3]])
    }
    /// Total length of the packet: 40 plus the payload length.
    #[must_use]
    pub fn total_len(&self) -> usize {
        IPV6_HEADER_LEN + self.payload.len()
    }
    /// The next header after the fixed header.
    #[must_use]
    pub fn next_header(&self) -> IpProtocol {
        IpProtocol(self.fixed[6])
    }
    /// Hop limit.
    #[must_use]
    pub fn hop_limit(&self) -> u8 {
        self.fixed[7]
    }
    /// Source address.
    #[must_use]
    pub fn src(&self) -> Ipv6Addr {
        let mut a = [0u8; 16];
        a.copy_from_slice(&self.fixed[8..24]);
        Ipv6Addr::from(a)
    }
    /// Destination address.
    #[must_use]
    pub fn dst(&self) -> Ipv6Addr {
        let mut a = [0u8; 16];
        a.copy_from_slice(&self.fixed[24..40]);
        Ipv6Addr::from(a)
    }
    /// Everything after the fixed header, up to the payload length.
    #[must_use]
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }

    /// The extension headers, in order, up to the first header that is not one of Hop-by-Hop,
    /// Routing, Fragment, Destination Options or AH.
    #[must_use]
    pub fn ext_headers(&self) -> ExtHeaders<'a> {
        ExtHeaders {
            payload: self.payload,
            next: self.next_header(),
            offset: 0,
            count: 0,
            done: false,
        }
    }

    /// The upper-layer protocol (or ESP, or No Next Header) and its offset from the packet start.
    ///
    /// # Errors
    /// The errors of [`ExtHeaders`].
    pub fn upper_layer(&self) -> Result<(IpProtocol, usize), Error> {
        let mut walk = self.ext_headers();
        for ext in &mut walk {
            ext?;
        }
        Ok((walk.next, IPV6_HEADER_LEN + walk.offset))
    }

    /// The fragment offset from a Fragment header, or 0 without one.
    ///
    /// # Errors
    /// The errors of [`ExtHeaders`].
    pub fn frag_offset(&self) -> Result<u16, Error> {
        for ext in self.ext_headers() {
            let ext = ext?;
            if ext.kind == IpProtocol::IPV6_FRAG {
                let off = be16(ext.bytes, 2).ok_or(Error::Truncated {
                    what: "IPv6 fragment header",
                })?;
                return Ok(off >> 3);
            }
        }
        Ok(0)
    }
}

/// One IPv6 extension header found by [`ExtHeaders`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExtHeader<'a> {
    /// Which extension header this is.
    pub kind: IpProtocol,
    /// Offset of this header from the start of the packet.
    pub offset: usize,
    /// The whole header, its next-header and length bytes included.
    pub bytes: &'a [u8],
}

impl ExtHeader<'_> {
    /// The next-header field of this header.
    #[must_use]
    pub fn next_header(&self) -> IpProtocol {
        IpProtocol(
            self.bytes
                .first()
                .copied()
                .unwrap_or(IpProtocol::NO_NEXT_HEADER.0),
        )
    }
}

/// Iterator over IPv6 extension headers (RFC 8200 §4, AH per RFC 4302 §2.2).
///
/// Yields each header; after the last, the walk's `next` is the upper-layer protocol. A header running
/// past the payload, more than 16 headers, or a Hop-by-Hop header anywhere but first yields an error
/// and ends the walk.
#[derive(Clone, Debug)]
pub struct ExtHeaders<'a> {
    payload: &'a [u8],
    next: IpProtocol,
    offset: usize,
    count: usize,
    done: bool,
}

impl ExtHeaders<'_> {
    /// The header that follows the ones yielded so far.
    #[must_use]
    pub fn next_protocol(&self) -> IpProtocol {
        self.next
    }
    /// Offset from the start of the packet of the header that follows the ones yielded so far.
    #[must_use]
    pub fn next_offset(&self) -> usize {
        IPV6_HEADER_LEN + self.offset
    }
}

impl<'a> Iterator for ExtHeaders<'a> {
    type Item = Result<ExtHeader<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let kind = self.next;
        if !kind.is_ipv6_extension() && kind != IpProtocol::AH {
            self.done = true;
            return None;
        }
        let fail = |s: &mut Self, e| {
            s.done = true;
            Some(Err(e))
        };
        if kind == IpProtocol::HOPOPT && self.count != 0 {
            return fail(
                self,
                Error::Malformed {
                    what: "IPv6 Hop-by-Hop header not first",
                },
            );
        }
        if self.count >= MAX_EXT_HEADERS {
            return fail(
                self,
                Error::Unsupported {
                    what: "IPv6 extension-header chain length",
                },
            );
        }
        let rest = self.payload.get(self.offset..).unwrap_or(&[]);
        let Some(&[next, len_field]) = rest.first_chunk::<2>() else {
            return fail(
                self,
                Error::Truncated {
                    what: "IPv6 extension header",
                },
            );
        };
        let len = match kind {
            IpProtocol::IPV6_FRAG => 8,
            IpProtocol::AH => (usize::from(len_field) + 2) * 4,
            _ => (usize::from(len_field) + 1) * 8,
        };
        let Some(bytes) = rest.get(..len) else {
            return fail(
                self,
                Error::Truncated {
                    what: "IPv6 extension header",
                },
            );
        };
        let item = ExtHeader {
            kind,
            offset: IPV6_HEADER_LEN + self.offset,
            bytes,
        };
        self.offset += len;
        self.count += 1;
        self.next = IpProtocol(next);
        Some(Ok(item))
    }
}

/// Plain-data fixed IPv6 header, for building.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv6Repr {
    /// Source address.
    pub src: Ipv6Addr,
    /// Destination address.
    pub dst: Ipv6Addr,
    /// Next header.
    pub next_header: IpProtocol,
    /// Payload length (everything after the fixed header).
    pub payload_len: usize,
    /// Traffic class.
    pub traffic_class: u8,
    /// Flow label (20 bits; higher bits are ignored).
    pub flow_label: u32,
    /// Hop limit.
    pub hop_limit: u8,
}

impl Ipv6Repr {
    /// Reads the fixed header's fields.
    #[must_use]
    pub fn parse(h: &Ipv6Header<'_>) -> Self {
        Ipv6Repr {
            src: h.src(),
            dst: h.dst(),
            next_header: h.next_header(),
            payload_len: h.payload().len(),
            traffic_class: h.traffic_class(),
            flow_label: h.flow_label(),
            hop_limit: h.hop_limit(),
        }
    }

    /// Bytes `emit` writes.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        IPV6_HEADER_LEN
    }

    /// Writes the 40-byte fixed header at the start of `out`.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] if `out` is shorter than 40 bytes; [`Error::BadLength`] if the payload
    /// length does not fit in 16 bits.
    pub fn emit(&self, out: &mut [u8]) -> Result<usize, Error> {
        let payload_len = u16::try_from(self.payload_len).map_err(|_| Error::BadLength {
            what: "IPv6 payload length",
        })?;
        let mut h = [0u8; IPV6_HEADER_LEN];
        let word = (6u32 << 28) | (u32::from(self.traffic_class) << 20) | (self.flow_label & 0x000f_ffff);
        h[0..4].copy_from_slice(&word.to_be_bytes());
        h[4..6].copy_from_slice(&payload_len.to_be_bytes());
        h[6] = self.next_header.0;
        h[7] = self.hop_limit;
        h[8..24].copy_from_slice(&self.src.octets());
        h[24..40].copy_from_slice(&self.dst.octets());
        put(out, 0, &h)?;
        Ok(IPV6_HEADER_LEN)
    }
}

/// Rewrites the payload length of the IPv6 header at the start of `packet`.
pub(crate) fn set_payload_len(packet: &mut [u8], payload_len: usize) -> Result<(), Error> {
    let len = u16::try_from(payload_len).map_err(|_| Error::BadLength {
        what: "IPv6 payload length",
    })?;
    put(packet, 4, &len.to_be_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An IPv6 UDP packet with Hop-by-Hop (8 bytes), Destination Options (16 bytes) and a Fragment
    /// header (offset 0, M=1) before the UDP header.
    fn with_extensions() -> std::vec::Vec<u8> {
        let mut p = std::vec::Vec::new();
        let payload_len: u16 = 8 + 16 + 8 + 8 + 4;
        p.extend_from_slice(&[0x60, 0x00, 0x00, 0x00]);
        p.extend_from_slice(&payload_len.to_be_bytes());
        p.extend_from_slice(&[0, 64]); // next: HBH, hop limit 64
        p.extend_from_slice(&Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1).octets());
        p.extend_from_slice(&Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2).octets());
        p.extend_from_slice(&[60, 0, 1, 4, 0, 0, 0, 0]); // HBH -> DestOpts, PadN
        p.extend_from_slice(&[44, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // DestOpts -> Frag
        p.extend_from_slice(&[17, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef]); // Frag -> UDP, offset 0, M=1
        p.extend_from_slice(&[0x12, 0x34, 0x00, 0x35, 0x00, 0x0c, 0x00, 0x00, 1, 2, 3, 4]);
        p
    }

    extern crate std;

    #[test]
    fn walks_extension_headers() {
        let p = with_extensions();
        let h = Ipv6Header::new_checked(&p).unwrap();
        let kinds: std::vec::Vec<_> = h.ext_headers().map(|e| e.unwrap().kind).collect();
        assert_eq!(
            kinds,
            [IpProtocol::HOPOPT, IpProtocol::IPV6_OPTS, IpProtocol::IPV6_FRAG]
        );
        assert_eq!(h.upper_layer().unwrap(), (IpProtocol::UDP, 40 + 32));
        assert_eq!(h.frag_offset().unwrap(), 0);
        let repr = Ipv6Repr::parse(&h);
        let mut out = [0u8; 40];
        repr.emit(&mut out).unwrap();
        assert_eq!(&out[..], &p[..40]);
    }

    #[test]
    fn rejects_truncated_chains_and_late_hop_by_hop() {
        let p = with_extensions();
        for cut in 41..(40 + 32) {
            let mut q = p[..cut].to_vec();
            let len = u16::try_from(cut - 40).unwrap();
            q[4..6].copy_from_slice(&len.to_be_bytes());
            let h = Ipv6Header::new_checked(&q).unwrap();
            assert!(
                matches!(h.upper_layer(), Err(Error::Truncated { .. })),
                "cut {cut}"
            );
        }
        let mut q = p.clone();
        q[40 + 8] = 0; // DestOpts -> HBH
        let h = Ipv6Header::new_checked(&q).unwrap();
        assert!(matches!(h.upper_layer(), Err(Error::Malformed { .. })));
    }

    #[test]
    fn rejects_truncated_packets() {
        let p = with_extensions();
        for len in 0..p.len() {
            assert!(matches!(
                Ipv6Header::new_checked(&p[..len]),
                Err(Error::Truncated { .. })
            ));
        }
    }
}
