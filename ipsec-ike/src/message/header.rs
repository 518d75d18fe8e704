//! The IKE header (RFC 7296 §3.1).
//!
//! ```text
//! IKE SA Initiator's SPI (8) | IKE SA Responder's SPI (8) | Next Payload (1) | MjVer|MnVer (1)
//! Exchange Type (1) | Flags (1: R V I) | Message ID (4) | Length (4, whole message)
//! ```
//! [`HeaderView`] reads the 28 bytes of a received message; [`Header`] is the plain data a sender
//! fills in (next payload and length are derived when encoding).

use core::fmt;

use super::payload::PayloadType;
use super::reader::Reader;
use crate::error::InvalidMessage;

/// Length of the IKE header in bytes (RFC 7296 §3.1).
pub const HEADER_LEN: usize = 28;

code_point! {
    /// Exchange type (RFC 7296 §3.1, IANA "IKEv2 Exchange Types").
    pub struct ExchangeType(u8);
    /// RFC 7296 §1.2.
    IKE_SA_INIT = 34,
    /// RFC 7296 §1.2.
    IKE_AUTH = 35,
    /// RFC 7296 §1.3.
    CREATE_CHILD_SA = 36,
    /// RFC 7296 §1.4.
    INFORMATIONAL = 37,
    /// RFC 5723.
    IKE_SESSION_RESUME = 38,
    /// RFC 9838 (G-IKEv2).
    GSA_AUTH = 39,
    /// RFC 9838 (G-IKEv2).
    GSA_REGISTRATION = 40,
    /// RFC 9838 (G-IKEv2).
    GSA_REKEY = 41,
    /// RFC 9242.
    IKE_INTERMEDIATE = 43,
    /// RFC 9370.
    IKE_FOLLOWUP_KE = 44,
    /// RFC 9838 (G-IKEv2).
    GSA_INBAND_REKEY = 45,
}

/// An IKE SA SPI (RFC 7296 §3.1): 8 opaque bytes chosen by one peer; zero means "not yet known".
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct IkeSpi(pub [u8; 8]);

impl IkeSpi {
    /// The all-zero SPI a responder's field holds in the first IKE_SA_INIT request.
    pub const ZERO: Self = Self([0; 8]);

    /// Whether this is the all-zero SPI.
    #[must_use]
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 8]
    }
}

impl fmt::Debug for IkeSpi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IkeSpi({:016x})", u64::from_be_bytes(self.0))
    }
}

/// Message ID (RFC 7296 §2.2): counts requests per direction; responses echo the request's ID.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Debug)]
pub struct MessageId(pub u32);

impl MessageId {
    /// The ID after this one, or `None` when the 32-bit space is exhausted (RFC 7296 §2.2: the IKE
    /// SA must then be rekeyed or closed, never wrapped).
    #[must_use]
    pub fn next(self) -> Option<Self> {
        self.0.checked_add(1).map(Self)
    }
}

/// Header flags (RFC 7296 §3.1). Bits other than R, V and I are kept as received.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Flags(pub u8);

impl Flags {
    /// I: set by the original initiator of the IKE SA.
    pub const INITIATOR: u8 = 0x08;
    /// V: the sender can speak a higher major version.
    pub const VERSION: u8 = 0x10;
    /// R: this message is a response.
    pub const RESPONSE: u8 = 0x20;

    /// Flags of a message from the original initiator (request or response per `response`).
    #[must_use]
    pub const fn new(initiator: bool, response: bool) -> Self {
        let i = if initiator { Self::INITIATOR } else { 0 };
        let r = if response { Self::RESPONSE } else { 0 };
        Self(i | r)
    }

    /// Whether the I bit is set.
    #[must_use]
    pub const fn initiator(self) -> bool {
        self.0 & Self::INITIATOR != 0
    }

    /// Whether the R bit is set.
    #[must_use]
    pub const fn response(self) -> bool {
        self.0 & Self::RESPONSE != 0
    }

    /// Whether the V bit is set.
    #[must_use]
    pub const fn higher_version(self) -> bool {
        self.0 & Self::VERSION != 0
    }
}

impl fmt::Debug for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Flags(")?;
        if self.initiator() {
            f.write_str("I")?;
        }
        if self.response() {
            f.write_str("R")?;
        }
        if self.higher_version() {
            f.write_str("V")?;
        }
        write!(f, " {:#04x})", self.0)
    }
}

/// The version octet (RFC 7296 §3.1): major version in the high nibble, minor in the low one.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Version(pub u8);

impl Version {
    /// IKEv2.0, what this implementation sends.
    pub const V2_0: Self = Self(0x20);

    /// The major version (2 for IKEv2, 1 for IKEv1/ISAKMP).
    #[must_use]
    pub const fn major(self) -> u8 {
        self.0 >> 4
    }

    /// The minor version (0 today; RFC 7296 §3.1 says a higher one is accepted).
    #[must_use]
    pub const fn minor(self) -> u8 {
        self.0 & 0x0f
    }
}

impl Default for Version {
    fn default() -> Self {
        Self::V2_0
    }
}

impl fmt::Debug for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Version({}.{})", self.major(), self.minor())
    }
}

/// The IKE header as a sender fills it in (RFC 7296 §3.1); Next Payload and Length are derived
/// from the payloads when encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Header {
    /// IKE SA initiator's SPI.
    pub spi_i: IkeSpi,
    /// IKE SA responder's SPI (zero in the first IKE_SA_INIT request).
    pub spi_r: IkeSpi,
    /// Version octet, [`Version::V2_0`] when we send.
    pub version: Version,
    /// Exchange type.
    pub exchange_type: ExchangeType,
    /// Flags octet.
    pub flags: Flags,
    /// Message ID.
    pub message_id: MessageId,
}

impl Header {
    /// Writes the 28 header bytes with the given next payload and length.
    pub(crate) fn to_bytes(self, next_payload: PayloadType, length: u32) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        let (spis, rest) = b.split_at_mut(16);
        let (spi_i, spi_r) = spis.split_at_mut(8);
        spi_i.copy_from_slice(&self.spi_i.0);
        spi_r.copy_from_slice(&self.spi_r.0);
        let (fixed, rest) = rest.split_at_mut(4);
        fixed.copy_from_slice(&[next_payload.0, self.version.0, self.exchange_type.0, self.flags.0]);
        let (mid, len) = rest.split_at_mut(4);
        mid.copy_from_slice(&self.message_id.0.to_be_bytes());
        len.copy_from_slice(&length.to_be_bytes());
        b
    }
}

/// The 28-byte IKE header of a received message (RFC 7296 §3.1), read without judging it: a
/// responder needs SPIs and message ID even from a message it will answer with
/// INVALID_MAJOR_VERSION.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderView<'a> {
    bytes: &'a [u8; HEADER_LEN],
}

impl<'a> HeaderView<'a> {
    /// Reads the first 28 bytes of `buf`.
    ///
    /// # Errors
    /// [`InvalidMessage::Truncated`] if `buf` is shorter than the header.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, InvalidMessage> {
        let bytes = Reader::new(buf).take_array::<HEADER_LEN>("IKE header")?;
        Ok(Self { bytes })
    }

    /// Initiator's SPI.
    #[must_use]
    pub fn spi_i(&self) -> IkeSpi {
        let [a, b, c, d, e, f, g, h, ..] = *self.bytes;
        IkeSpi([a, b, c, d, e, f, g, h])
    }

    /// Responder's SPI.
    #[must_use]
    pub fn spi_r(&self) -> IkeSpi {
        let [_, _, _, _, _, _, _, _, a, b, c, d, e, f, g, h, ..] = *self.bytes;
        IkeSpi([a, b, c, d, e, f, g, h])
    }

    /// Type of the first payload.
    #[must_use]
    pub fn next_payload(&self) -> PayloadType {
        let [.., np, _, _, _, _, _, _, _, _, _, _, _] = *self.bytes;
        PayloadType(np)
    }

    /// Version octet.
    #[must_use]
    pub fn version(&self) -> Version {
        let [.., v, _, _, _, _, _, _, _, _, _, _] = *self.bytes;
        Version(v)
    }

    /// Exchange type.
    #[must_use]
    pub fn exchange_type(&self) -> ExchangeType {
        let [.., x, _, _, _, _, _, _, _, _, _] = *self.bytes;
        ExchangeType(x)
    }

    /// Flags octet.
    #[must_use]
    pub fn flags(&self) -> Flags {
        let [.., fl, _, _, _, _, _, _, _, _] = *self.bytes;
        Flags(fl)
    }

    /// Message ID.
    #[must_use]
    pub fn message_id(&self) -> MessageId {
        let [.., a, b, c, d, _, _, _, _] = *self.bytes;
        MessageId(u32::from_be_bytes([a, b, c, d]))
    }

    /// Length of the whole message as the header states it.
    #[must_use]
    pub fn length(&self) -> u32 {
        let [.., a, b, c, d] = *self.bytes;
        u32::from_be_bytes([a, b, c, d])
    }

    /// The plain-data header (everything but Next Payload and Length).
    #[must_use]
    pub fn header(&self) -> Header {
        Header {
            spi_i: self.spi_i(),
            spi_r: self.spi_r(),
            version: self.version(),
            exchange_type: self.exchange_type(),
            flags: self.flags(),
            message_id: self.message_id(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // First 28 bytes of the rusticata IKE_SA_INIT response (tests/fixtures/messages).
    const RESP_HEADER: [u8; 28] = [
        0x54, 0xc1, 0x84, 0x96, 0x1b, 0xc3, 0xfd, 0x77, 0x63, 0x86, 0xaa, 0x22, 0x73, 0xed, 0x39, 0x72, 0x21,
        0x20, 0x22, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x19,
    ];

    #[test]
    fn parses_every_field_and_emits_identically() {
        let v = HeaderView::new_checked(&RESP_HEADER).unwrap();
        assert_eq!(
            v.spi_i(),
            IkeSpi([0x54, 0xc1, 0x84, 0x96, 0x1b, 0xc3, 0xfd, 0x77])
        );
        assert_eq!(
            v.spi_r(),
            IkeSpi([0x63, 0x86, 0xaa, 0x22, 0x73, 0xed, 0x39, 0x72])
        );
        assert_eq!(v.next_payload(), PayloadType::SA);
        assert_eq!(v.version(), Version::V2_0);
        assert_eq!((v.version().major(), v.version().minor()), (2, 0));
        assert_eq!(v.exchange_type(), ExchangeType::IKE_SA_INIT);
        assert!(v.flags().response() && !v.flags().initiator() && !v.flags().higher_version());
        assert_eq!(v.message_id(), MessageId(0));
        assert_eq!(v.length(), 0x119);
        assert_eq!(v.header().to_bytes(v.next_payload(), v.length()), RESP_HEADER);
    }

    #[test]
    fn rejects_every_truncation() {
        for n in 0..HEADER_LEN {
            assert_eq!(
                HeaderView::new_checked(&RESP_HEADER[..n]),
                Err(InvalidMessage::Truncated { what: "IKE header" })
            );
        }
    }

    #[test]
    fn code_points_print_name_or_number() {
        assert_eq!(alloc::format!("{:?}", ExchangeType::IKE_AUTH), "IKE_AUTH");
        assert_eq!(alloc::format!("{}", ExchangeType(200)), "ExchangeType(200)");
        assert_eq!(alloc::format!("{:?}", Flags::new(true, false)), "Flags(I 0x08)");
        assert_eq!(MessageId(u32::MAX).next(), None);
        assert_eq!(MessageId(7).next(), Some(MessageId(8)));
        assert!(IkeSpi::ZERO.is_zero());
        assert_eq!(
            alloc::format!("{:?}", IkeSpi([1, 2, 3, 4, 5, 6, 7, 8])),
            "IkeSpi(0102030405060708)"
        );
    }
}
