//! Errors of the codec and of proposal selection, and the one mapping from an error to the
//! notification a responder sends (RFC 7296 §2.21, §3.10.1).
//!
//! Errors are sorted by who is at fault: [`InvalidMessage`] (the bytes are not a valid message),
//! [`PeerIncompatible`] (valid, but nothing we can agree to), [`PeerMisbehaved`] (a reply that
//! breaks the rules), [`EncodeError`] (our caller asked for something that cannot be encoded).
//! [`IkeError::notify`] is the single place that decides which notify type answers which error.

use alloc::vec::Vec;
use core::fmt;

use crate::message::{DhGroup, Notify, NotifyType, PayloadType};

/// Why received bytes are not a valid IKEv2 message (RFC 7296 §3). Syntax only: nothing here
/// depends on state.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InvalidMessage {
    /// The input ends inside the structure named by `what`.
    Truncated {
        /// The structure cut short.
        what: &'static str,
    },
    /// A length field is below its structure's minimum or exceeds its container.
    BadLength {
        /// The length field or structure.
        what: &'static str,
    },
    /// A container holds bytes after its last element.
    TrailingBytes {
        /// The container.
        what: &'static str,
    },
    /// A field holds a value the format forbids.
    Malformed {
        /// The field.
        what: &'static str,
    },
    /// A payload type we do not implement arrived with the critical bit set (RFC 7296 §2.5).
    UnsupportedCriticalPayload {
        /// The payload type, echoed in the UNSUPPORTED_CRITICAL_PAYLOAD data.
        payload_type: PayloadType,
    },
    /// The major version is not 2 (RFC 7296 §2.5, §3.1).
    InvalidMajorVersion {
        /// The major version received.
        major: u8,
    },
    /// A payload where the format forbids it: SK/SKF inside SK/SKF, SKF beside other payloads.
    MisplacedPayload {
        /// The payload type.
        payload_type: PayloadType,
        /// Where it was.
        what: &'static str,
    },
}

impl fmt::Display for InvalidMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated { what } => write!(f, "truncated {what}"),
            Self::BadLength { what } => write!(f, "bad length: {what}"),
            Self::TrailingBytes { what } => write!(f, "trailing bytes in {what}"),
            Self::Malformed { what } => write!(f, "malformed {what}"),
            Self::UnsupportedCriticalPayload { payload_type } => {
                write!(f, "unsupported critical payload {payload_type}")
            }
            Self::InvalidMajorVersion { major } => write!(f, "IKE major version {major}, not 2"),
            Self::MisplacedPayload { payload_type, what } => write!(f, "{payload_type} payload {what}"),
        }
    }
}

impl core::error::Error for InvalidMessage {}

/// Why a message or payload could not be encoded: the caller's values do not fit the format.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EncodeError {
    /// A value is longer than its length or count field can express.
    TooLong {
        /// The structure.
        what: &'static str,
    },
    /// Values contradict each other or the format (e.g. an SPI whose length differs from the
    /// stated SPI size, a payload after the SK payload).
    Inconsistent {
        /// What is inconsistent.
        what: &'static str,
    },
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLong { what } => write!(f, "{what} too long to encode"),
            Self::Inconsistent { what } => write!(f, "cannot encode: {what}"),
        }
    }
}

impl core::error::Error for EncodeError {}

/// A valid request we cannot agree to (RFC 7296 §2.7, §1.3).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PeerIncompatible {
    /// No offered proposal matches ours.
    NoProposalChosen,
    /// A proposal matches, but the KE payload is for a group we did not select; the peer should
    /// retry with `group` (RFC 7296 §1.3).
    InvalidKePayload {
        /// Our preferred group among those the peer offered.
        group: DhGroup,
    },
}

impl fmt::Display for PeerIncompatible {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoProposalChosen => f.write_str("no acceptable proposal"),
            Self::InvalidKePayload { group } => {
                write!(f, "KE payload for an unselected group, wanted {group}")
            }
        }
    }
}

impl core::error::Error for PeerIncompatible {}

/// A response that breaks the rules of the exchange (the initiator's checks).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PeerMisbehaved {
    /// The SA payload of a reply is not exactly one proposal that is a subset of our offer
    /// (RFC 7296 §2.7, §3.3.6).
    ProposalNotOffered {
        /// What was wrong with it.
        what: &'static str,
    },
}

impl fmt::Display for PeerMisbehaved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ProposalNotOffered { what } => write!(f, "reply proposal not acceptable: {what}"),
        }
    }
}

impl core::error::Error for PeerMisbehaved {}

/// Any error of this module, for the one notify mapping.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IkeError {
    /// A syntax error.
    Invalid(InvalidMessage),
    /// Nothing acceptable offered.
    Incompatible(PeerIncompatible),
    /// A rule-breaking response.
    Misbehaved(PeerMisbehaved),
}

impl From<InvalidMessage> for IkeError {
    fn from(e: InvalidMessage) -> Self {
        Self::Invalid(e)
    }
}

impl From<PeerIncompatible> for IkeError {
    fn from(e: PeerIncompatible) -> Self {
        Self::Incompatible(e)
    }
}

impl From<PeerMisbehaved> for IkeError {
    fn from(e: PeerMisbehaved) -> Self {
        Self::Misbehaved(e)
    }
}

impl fmt::Display for IkeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Invalid(e) => e.fmt(f),
            Self::Incompatible(e) => e.fmt(f),
            Self::Misbehaved(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for IkeError {}

/// The notification a responder sends for an error, with its data (RFC 7296 §3.10.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ErrorNotify {
    /// The notify type.
    pub notify_type: NotifyType,
    data: [u8; 2],
    data_len: u8,
}

impl ErrorNotify {
    /// The notification data: the payload type for UNSUPPORTED_CRITICAL_PAYLOAD (1 byte), the
    /// group for INVALID_KE_PAYLOAD (2 bytes), empty otherwise.
    #[must_use]
    pub fn data(&self) -> &[u8] {
        self.data.get(..usize::from(self.data_len)).unwrap_or(&[])
    }

    /// The Notify payload to put in the response.
    #[must_use]
    pub fn to_notify(&self) -> Notify<'static> {
        let mut n = Notify::new(self.notify_type, &[]);
        n.data = alloc::borrow::Cow::Owned(Vec::from(self.data()));
        n
    }

    const fn plain(notify_type: NotifyType) -> Self {
        Self {
            notify_type,
            data: [0; 2],
            data_len: 0,
        }
    }
}

impl IkeError {
    /// The notification a responder answers this error with, or `None` when the message is to be
    /// dropped without answer. This is the only place the mapping is decided.
    ///
    /// | error | notify |
    /// |---|---|
    /// | unknown payload with the critical bit | UNSUPPORTED_CRITICAL_PAYLOAD (1), data = its type |
    /// | major version above 2 | INVALID_MAJOR_VERSION (5), sent unprotected with version 2.0 |
    /// | major version below 2 (IKEv1) | none: not ours to answer |
    /// | any other syntax error | INVALID_SYNTAX (7), only inside a protected response |
    /// | no acceptable proposal | NO_PROPOSAL_CHOSEN (14) |
    /// | KE payload for another group | INVALID_KE_PAYLOAD (17), data = our group |
    /// | a misbehaving response | none: responses are never answered (RFC 7296 §2.21) |
    ///
    /// Where the answer may be sent is the caller's rule (STYLE.md §3): INVALID_SYNTAX only in an
    /// authenticated exchange, nothing at all for a message failing its integrity check.
    #[must_use]
    pub fn notify(&self) -> Option<ErrorNotify> {
        match self {
            Self::Invalid(InvalidMessage::UnsupportedCriticalPayload { payload_type }) => Some(ErrorNotify {
                notify_type: NotifyType::UNSUPPORTED_CRITICAL_PAYLOAD,
                data: [payload_type.0, 0],
                data_len: 1,
            }),
            Self::Invalid(InvalidMessage::InvalidMajorVersion { major }) => {
                (*major > 2).then_some(ErrorNotify::plain(NotifyType::INVALID_MAJOR_VERSION))
            }
            Self::Invalid(_) => Some(ErrorNotify::plain(NotifyType::INVALID_SYNTAX)),
            Self::Incompatible(PeerIncompatible::NoProposalChosen) => {
                Some(ErrorNotify::plain(NotifyType::NO_PROPOSAL_CHOSEN))
            }
            Self::Incompatible(PeerIncompatible::InvalidKePayload { group }) => Some(ErrorNotify {
                notify_type: NotifyType::INVALID_KE_PAYLOAD,
                data: group.0.to_be_bytes(),
                data_len: 2,
            }),
            Self::Misbehaved(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn notify(e: impl Into<IkeError>) -> Option<(NotifyType, Vec<u8>)> {
        e.into().notify().map(|n| (n.notify_type, n.data().to_vec()))
    }

    #[test]
    fn every_error_maps_to_its_notify() {
        assert_eq!(
            notify(InvalidMessage::UnsupportedCriticalPayload {
                payload_type: PayloadType(99)
            }),
            Some((NotifyType::UNSUPPORTED_CRITICAL_PAYLOAD, alloc::vec![99]))
        );
        assert_eq!(
            notify(InvalidMessage::InvalidMajorVersion { major: 3 }),
            Some((NotifyType::INVALID_MAJOR_VERSION, alloc::vec![]))
        );
        assert_eq!(
            notify(InvalidMessage::InvalidMajorVersion { major: 15 }),
            Some((NotifyType::INVALID_MAJOR_VERSION, alloc::vec![]))
        );
        assert_eq!(notify(InvalidMessage::InvalidMajorVersion { major: 1 }), None);
        assert_eq!(notify(InvalidMessage::InvalidMajorVersion { major: 0 }), None);
        for e in [
            InvalidMessage::Truncated { what: "x" },
            InvalidMessage::BadLength { what: "x" },
            InvalidMessage::TrailingBytes { what: "x" },
            InvalidMessage::Malformed { what: "x" },
            InvalidMessage::MisplacedPayload {
                payload_type: PayloadType::SK,
                what: "x",
            },
        ] {
            assert_eq!(
                notify(e),
                Some((NotifyType::INVALID_SYNTAX, alloc::vec![])),
                "{e:?}"
            );
        }
        assert_eq!(
            notify(PeerIncompatible::NoProposalChosen),
            Some((NotifyType::NO_PROPOSAL_CHOSEN, alloc::vec![]))
        );
        assert_eq!(
            notify(PeerIncompatible::InvalidKePayload {
                group: DhGroup::CURVE25519
            }),
            Some((NotifyType::INVALID_KE_PAYLOAD, alloc::vec![0, 31]))
        );
        assert_eq!(notify(PeerMisbehaved::ProposalNotOffered { what: "x" }), None);
    }

    #[test]
    fn notify_payload_and_display() {
        let n = IkeError::from(PeerIncompatible::InvalidKePayload {
            group: DhGroup::ECP_256,
        })
        .notify()
        .unwrap();
        let p = n.to_notify();
        assert_eq!(p.requested_group(), Some(DhGroup::ECP_256));
        assert_eq!(
            InvalidMessage::UnsupportedCriticalPayload {
                payload_type: PayloadType(99)
            }
            .to_string(),
            "unsupported critical payload PayloadType(99)"
        );
        assert_eq!(
            InvalidMessage::Truncated { what: "KE payload" }.to_string(),
            "truncated KE payload"
        );
        assert_eq!(
            EncodeError::TooLong { what: "payload" }.to_string(),
            "payload too long to encode"
        );
        assert_eq!(
            IkeError::from(PeerIncompatible::NoProposalChosen).to_string(),
            "no acceptable proposal"
        );
        assert!(
            !PeerMisbehaved::ProposalNotOffered {
                what: "two proposals"
            }
            .to_string()
            .is_empty()
        );
    }
}
