//! Wire formats: panic-free views over received bytes and plain-data representations for building.
//!
//! # Contract
//! - A view (`EspPacket`, `Ipv4Header`, ...) is created with `new_checked`, which validates once every
//!   length its accessors rely on. The accessors then cannot fail and never index out of bounds.
//! - Building goes through `emit(&self, out: &mut [u8]) -> Result<usize, Error>`, writing into the
//!   caller's buffer; a short buffer gives [`Error::BufferTooSmall`] and nothing else happens.
//! - Code points (protocol numbers, ...) are newtypes with named constants; unknown values survive.

mod ah;
mod checksum;
mod esp;
mod ip;
mod ipv4;
mod ipv6;
mod natt;
mod udp;

pub use ah::{AH_FIXED_LEN, AhHeader};
pub use checksum::Checksum;
pub use esp::{ESP_HEADER_LEN, EspPacket};
pub use ip::{IpPacket, IpProtocol, Transport};
pub use ipv4::{IPV4_MIN_HEADER_LEN, Ipv4Header, Ipv4Repr};
pub use ipv6::{ExtHeader, ExtHeaders, IPV6_HEADER_LEN, Ipv6Header, Ipv6Repr};
pub use natt::{NON_ESP_MARKER, NattDatagram, classify_4500};
pub use udp::{UDP_HEADER_LEN, UdpHeader, UdpRepr, transport_checksum};

pub(crate) use ah::emit_header as ah_emit_header;
pub(crate) use esp::emit_header as esp_emit_header;
pub(crate) use ipv4::set_len_and_protocol as ipv4_set_len_and_protocol;
pub(crate) use ipv6::set_payload_len as ipv6_set_payload_len;
pub(crate) use udp::udp_checksum;

use core::fmt;

/// Why bytes could not be read as, or written into, a wire format.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The input ends before the structure named by `what` does.
    Truncated {
        /// The structure that was cut short.
        what: &'static str,
    },
    /// A length field contradicts the bytes present or the format's rules.
    BadLength {
        /// The field or structure whose length is wrong.
        what: &'static str,
    },
    /// A field holds a value the format does not allow.
    Malformed {
        /// The offending field.
        what: &'static str,
    },
    /// Valid on the wire, but not something this implementation processes.
    Unsupported {
        /// What is not supported.
        what: &'static str,
    },
    /// The output buffer is too short.
    BufferTooSmall {
        /// Bytes the operation needs.
        needed: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated { what } => write!(f, "truncated {what}"),
            Error::BadLength { what } => write!(f, "bad length in {what}"),
            Error::Malformed { what } => write!(f, "malformed {what}"),
            Error::Unsupported { what } => write!(f, "unsupported {what}"),
            Error::BufferTooSmall { needed } => write!(f, "buffer too small: {needed} bytes needed"),
        }
    }
}

impl core::error::Error for Error {}

/// Reads a big-endian `u16` at `at`, or `None` past the end.
pub(crate) fn be16(buf: &[u8], at: usize) -> Option<u16> {
    let b = buf.get(at..)?.first_chunk::<2>()?;
    Some(u16::from_be_bytes(*b))
}

/// Writes `bytes` at `at`, or returns `BufferTooSmall`.
pub(crate) fn put(buf: &mut [u8], at: usize, bytes: &[u8]) -> Result<(), Error> {
    let end = at
        .checked_add(bytes.len())
        .ok_or(Error::BufferTooSmall { needed: usize::MAX })?;
    let len = buf.len();
    buf.get_mut(at..end)
        .ok_or(Error::BufferTooSmall { needed: end.max(len) })?
        .copy_from_slice(bytes);
    Ok(())
}
