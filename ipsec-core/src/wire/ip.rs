//! IP protocol numbers and a version-independent view of an IP packet.

use core::fmt;
use core::net::IpAddr;

use super::{Error, Ipv4Header, Ipv6Header};

/// An IP protocol number / IPv6 next-header value (IANA "Assigned Internet Protocol Numbers").
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct IpProtocol(pub u8);

impl IpProtocol {
    /// IPv6 Hop-by-Hop Options.
    pub const HOPOPT: IpProtocol = IpProtocol(0);
    /// ICMP.
    pub const ICMP: IpProtocol = IpProtocol(1);
    /// IPv4 encapsulation (tunnel-mode inner IPv4 packet).
    pub const IPV4: IpProtocol = IpProtocol(4);
    /// TCP.
    pub const TCP: IpProtocol = IpProtocol(6);
    /// UDP.
    pub const UDP: IpProtocol = IpProtocol(17);
    /// IPv6 encapsulation (tunnel-mode inner IPv6 packet).
    pub const IPV6: IpProtocol = IpProtocol(41);
    /// IPv6 Routing header.
    pub const IPV6_ROUTE: IpProtocol = IpProtocol(43);
    /// IPv6 Fragment header.
    pub const IPV6_FRAG: IpProtocol = IpProtocol(44);
    /// Encapsulating Security Payload (RFC 4303).
    pub const ESP: IpProtocol = IpProtocol(50);
    /// Authentication Header (RFC 4302).
    pub const AH: IpProtocol = IpProtocol(51);
    /// ICMPv6.
    pub const ICMPV6: IpProtocol = IpProtocol(58);
    /// IPv6 No Next Header; as an ESP next header, a dummy packet (RFC 4303 §2.6).
    pub const NO_NEXT_HEADER: IpProtocol = IpProtocol(59);
    /// IPv6 Destination Options.
    pub const IPV6_OPTS: IpProtocol = IpProtocol(60);
    /// SCTP.
    pub const SCTP: IpProtocol = IpProtocol(132);
    /// IPv6 Mobility Header.
    pub const MOBILITY: IpProtocol = IpProtocol(135);

    fn name(self) -> Option<&'static str> {
        Some(match self {
            IpProtocol::HOPOPT => "HOPOPT",
            IpProtocol::ICMP => "ICMP",
            IpProtocol::IPV4 => "IPv4",
            IpProtocol::TCP => "TCP",
            IpProtocol::UDP => "UDP",
            IpProtocol::IPV6 => "IPv6",
            IpProtocol::IPV6_ROUTE => "IPv6-Route",
            IpProtocol::IPV6_FRAG => "IPv6-Frag",
            IpProtocol::ESP => "ESP",
            IpProtocol::AH => "AH",
            IpProtocol::ICMPV6 => "ICMPv6",
            IpProtocol::NO_NEXT_HEADER => "IPv6-NoNxt",
            IpProtocol::IPV6_OPTS => "IPv6-Opts",
            IpProtocol::SCTP => "SCTP",
            IpProtocol::MOBILITY => "Mobility",
            _ => return None,
        })
    }

    /// True for the IPv6 extension headers that [`super::ExtHeaders`] walks over.
    #[must_use]
    pub fn is_ipv6_extension(self) -> bool {
        matches!(
            self,
            IpProtocol::HOPOPT | IpProtocol::IPV6_ROUTE | IpProtocol::IPV6_FRAG | IpProtocol::IPV6_OPTS
        )
    }
}

impl fmt::Debug for IpProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "IpProtocol({})", self.0),
        }
    }
}

impl fmt::Display for IpProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// What the first bytes of the upper-layer header say, for policy matching (RFC 4301 §4.4.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    /// TCP, UDP, SCTP: source and destination ports.
    Ports {
        /// Source port.
        src: u16,
        /// Destination port.
        dst: u16,
    },
    /// ICMP / ICMPv6: message type and code.
    Icmp {
        /// Message type.
        ty: u8,
        /// Message code.
        code: u8,
    },
    /// A protocol without ports, or ports that cannot be seen (a non-initial fragment, a header cut
    /// short): RFC 4301's OPAQUE.
    Opaque,
}

/// An IPv4 or IPv6 packet.
#[derive(Clone, Copy, Debug)]
pub enum IpPacket<'a> {
    /// IPv4.
    V4(Ipv4Header<'a>),
    /// IPv6.
    V6(Ipv6Header<'a>),
}

impl<'a> IpPacket<'a> {
    /// Parses an IPv4 or IPv6 packet by its version nibble.
    ///
    /// # Errors
    /// [`Error::Truncated`] for an empty buffer, [`Error::Malformed`] for another version, and the
    /// errors of [`Ipv4Header::new_checked`] and [`Ipv6Header::new_checked`].
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Error> {
        match buf.first().map(|b| b >> 4) {
            Some(4) => Ipv4Header::new_checked(buf).map(IpPacket::V4),
            Some(6) => Ipv6Header::new_checked(buf).map(IpPacket::V6),
            Some(_) => Err(Error::Malformed { what: "IP version" }),
            None => Err(Error::Truncated { what: "IP header" }),
        }
    }

    /// Source address.
    #[must_use]
    pub fn src(&self) -> IpAddr {
        match self {
            IpPacket::V4(h) => IpAddr::V4(h.src()),
            IpPacket::V6(h) => IpAddr::V6(h.src()),
        }
    }

    /// Destination address.
    #[must_use]
    pub fn dst(&self) -> IpAddr {
        match self {
            IpPacket::V4(h) => IpAddr::V4(h.dst()),
            IpPacket::V6(h) => IpAddr::V6(h.dst()),
        }
    }

    /// Length of the whole packet per its length field(s).
    #[must_use]
    pub fn total_len(&self) -> usize {
        match self {
            IpPacket::V4(h) => h.total_len(),
            IpPacket::V6(h) => h.total_len(),
        }
    }

    /// The upper-layer protocol and its offset from the start of the packet, after walking the IPv6
    /// extension headers (the IPv4 `protocol` field and header length otherwise).
    ///
    /// # Errors
    /// The errors of [`super::ExtHeaders`] for a malformed IPv6 extension-header chain.
    pub fn upper_layer(&self) -> Result<(IpProtocol, usize), Error> {
        match self {
            IpPacket::V4(h) => Ok((h.protocol(), h.header_len())),
            IpPacket::V6(h) => h.upper_layer(),
        }
    }

    /// True if this packet is a fragment (IPv4 MF or offset, or an IPv6 Fragment header).
    ///
    /// # Errors
    /// As [`IpPacket::upper_layer`].
    pub fn is_fragment(&self) -> Result<bool, Error> {
        match self {
            IpPacket::V4(h) => Ok(h.more_fragments() || h.frag_offset() != 0),
            IpPacket::V6(h) => {
                for ext in h.ext_headers() {
                    if ext?.kind == IpProtocol::IPV6_FRAG {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
        }
    }

    /// The upper-layer protocol and what its first bytes say, for selector matching.
    ///
    /// Non-initial fragments and upper-layer headers cut short give [`Transport::Opaque`].
    ///
    /// # Errors
    /// As [`IpPacket::upper_layer`].
    pub fn transport(&self, packet: &[u8]) -> Result<(IpProtocol, Transport), Error> {
        let (proto, off) = self.upper_layer()?;
        let non_initial = match self {
            IpPacket::V4(h) => h.frag_offset() != 0,
            IpPacket::V6(h) => h.frag_offset()? != 0,
        };
        let end = self.total_len().min(packet.len());
        let upper = packet.get(off..end).unwrap_or(&[]);
        if non_initial {
            return Ok((proto, Transport::Opaque));
        }
        let t = match proto {
            IpProtocol::TCP | IpProtocol::UDP | IpProtocol::SCTP => match upper.first_chunk::<4>() {
                Some(&[a, b, c, d]) => Transport::Ports {
                    src: u16::from_be_bytes([a, b]),
                    dst: u16::from_be_bytes([c, d]),
                },
                None => Transport::Opaque,
            },
            IpProtocol::ICMP | IpProtocol::ICMPV6 => match upper.first_chunk::<2>() {
                Some(&[ty, code]) => Transport::Icmp { ty, code },
                None => Transport::Opaque,
            },
            _ => Transport::Opaque,
        };
        Ok((proto, t))
    }
}
