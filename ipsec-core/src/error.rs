//! Errors of the data path. Every failure leaves the SA as it was: a failed `protect` consumes no
//! sequence number, a failed `unprotect` leaves the replay window and lifetime counters alone (only
//! the drop counter of its cause moves).

use core::fmt;

use crate::lifetime::LimitKind;
use crate::replay::ReplayError;
use crate::sa::Spi;
use crate::spd::PolicyViolation;
use crate::transform::CryptoError;
use crate::wire;

/// Why an outbound packet was not protected.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtectError {
    /// The SA id is stale or was never issued.
    UnknownSa,
    /// The SA is inbound.
    WrongDirection,
    /// The buffer lacks headroom before or room after the packet.
    BufferTooSmall {
        /// Bytes the buffer needs in all.
        needed: usize,
    },
    /// The packet to protect is not a valid IP packet of the kind the SA needs.
    Malformed(wire::Error),
    /// Transport mode cannot protect a fragment (RFC 4301 §7: reassemble first).
    Fragment,
    /// The protected packet would exceed the IP length limit.
    TooLarge,
    /// The sequence number space is used up: the SA must be rekeyed (RFC 4303 §3.3.3).
    SequenceExhausted,
    /// The SA passed a hard lifetime limit.
    Expired(LimitKind),
    /// The transform failed.
    Crypto(CryptoError),
}

/// Why an inbound packet was dropped.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnprotectError {
    /// The outer packet, the ESP/AH header or the decrypted content is malformed.
    Malformed(wire::Error),
    /// The packet is neither ESP, AH, nor ESP-in-UDP.
    NotIpsec,
    /// No inbound SA has this SPI (and protocol).
    UnknownSpi(Spi),
    /// The anti-replay check refused the sequence number.
    Replayed(ReplayError),
    /// The ICV (or AEAD tag) did not verify.
    IntegrityCheckFailed,
    /// The ESP padding is not the 1, 2, 3, ... sequence or longer than the payload (RFC 4303 §2.4).
    BadPadding,
    /// The next header does not fit the SA's mode (e.g. not IPv4/IPv6 in tunnel mode).
    UnexpectedNextHeader(wire::IpProtocol),
    /// RFC 6040: an outer CE mark on an inner packet that is not ECN-capable means drop.
    EcnDrop,
    /// The inner packet lies outside the SA's selectors.
    Policy(PolicyViolation),
    /// The SA passed a hard lifetime limit.
    Expired(LimitKind),
    /// The buffer lacks headroom to rebuild the headers (`unprotect_datagram`).
    BufferTooSmall {
        /// Bytes the buffer needs in all.
        needed: usize,
    },
    /// The transform failed for a reason other than integrity.
    Crypto(CryptoError),
}

/// Why an SA could not be installed.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstallError {
    /// The SAD is full.
    Full,
    /// An inbound SA with this SPI and protocol exists already.
    DuplicateSpi(Spi),
    /// The parameters are inconsistent; the string says which.
    InvalidParams(&'static str),
    /// The provider refused the key or the algorithm.
    Crypto(CryptoError),
    /// The caller's random generator failed.
    Entropy,
}

impl From<wire::Error> for ProtectError {
    fn from(e: wire::Error) -> Self {
        match e {
            wire::Error::BufferTooSmall { needed } => ProtectError::BufferTooSmall { needed },
            e => ProtectError::Malformed(e),
        }
    }
}

impl From<wire::Error> for UnprotectError {
    fn from(e: wire::Error) -> Self {
        UnprotectError::Malformed(e)
    }
}

impl fmt::Display for ProtectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtectError::UnknownSa => f.write_str("unknown or stale SA id"),
            ProtectError::WrongDirection => f.write_str("SA is not outbound"),
            ProtectError::BufferTooSmall { needed } => write!(f, "buffer too small: {needed} bytes needed"),
            ProtectError::Malformed(e) => write!(f, "packet to protect: {e}"),
            ProtectError::Fragment => f.write_str("transport mode cannot protect a fragment"),
            ProtectError::TooLarge => f.write_str("protected packet would exceed the IP length limit"),
            ProtectError::SequenceExhausted => f.write_str("sequence numbers exhausted: rekey needed"),
            ProtectError::Expired(k) => write!(f, "SA expired ({k:?} hard limit)"),
            ProtectError::Crypto(e) => write!(f, "transform: {e}"),
        }
    }
}

impl fmt::Display for UnprotectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnprotectError::Malformed(e) => write!(f, "malformed: {e}"),
            UnprotectError::NotIpsec => f.write_str("not an ESP, AH or ESP-in-UDP packet"),
            UnprotectError::UnknownSpi(s) => write!(f, "no inbound SA for SPI {s}"),
            UnprotectError::Replayed(e) => write!(f, "anti-replay: {e}"),
            UnprotectError::IntegrityCheckFailed => f.write_str("integrity check failed"),
            UnprotectError::BadPadding => f.write_str("bad ESP padding"),
            UnprotectError::UnexpectedNextHeader(p) => write!(f, "unexpected next header {p}"),
            UnprotectError::EcnDrop => f.write_str("CE mark on a non-ECN-capable inner packet (RFC 6040)"),
            UnprotectError::Policy(p) => write!(f, "policy: {p}"),
            UnprotectError::Expired(k) => write!(f, "SA expired ({k:?} hard limit)"),
            UnprotectError::BufferTooSmall { needed } => write!(f, "buffer too small: {needed} bytes needed"),
            UnprotectError::Crypto(e) => write!(f, "transform: {e}"),
        }
    }
}

impl fmt::Display for InstallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstallError::Full => f.write_str("SAD full"),
            InstallError::DuplicateSpi(s) => write!(f, "inbound SPI {s} already installed"),
            InstallError::InvalidParams(w) => write!(f, "invalid SA parameters: {w}"),
            InstallError::Crypto(e) => write!(f, "transform: {e}"),
            InstallError::Entropy => f.write_str("random generator failed"),
        }
    }
}

impl core::error::Error for ProtectError {}
impl core::error::Error for UnprotectError {}
impl core::error::Error for InstallError {}
