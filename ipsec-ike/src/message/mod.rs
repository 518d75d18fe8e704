//! The IKEv2 message codec (RFC 7296 §3, RFC 7383).
//!
//! # Contract
//! - **Decoding is total.** [`Message::decode`] checks, once, the IKE header length against the
//!   datagram, every generic payload length against what is left, and every proposal, transform,
//!   attribute, selector and configuration attribute length against its container; trailing bytes
//!   are refused at every level. Any input returns a value or an [`InvalidMessage`]; nothing
//!   panics and nothing indexes.
//! - **Decoding borrows.** Payloads hold `Cow::Borrowed` slices of the input; `into_owned` copies
//!   when a value must outlive the datagram.
//! - **Unknown payloads** (RFC 7296 §2.5): without the critical bit they are kept as
//!   [`UnknownPayload`] (so `encode(decode(b)) == b`), with it the message is refused with
//!   [`InvalidMessage::UnsupportedCriticalPayload`], which maps to UNSUPPORTED_CRITICAL_PAYLOAD.
//! - **Exactness.** For every message whose reserved bits (and the critical bits of the payloads
//!   we implement) are zero, as RFC 7296 requires of senders, `encode(decode(b)) == b`. For every
//!   message we can build, `decode(encode(m)) == m`.
//! - **Encoding appends** to the caller's `Vec<u8>` through [`MessageBuilder`], which back-patches
//!   lengths and the Next Payload chain.
//! - **SK/SKF framing** (RFC 7296 §3.14, RFC 7383): the codec never encrypts. See [`sk`] for the
//!   byte-level contract with the crypto code's `seal` and `open`: [`SkFrame::locate`] on receipt,
//!   [`decode_inner`] on the opened plaintext, [`MessageBuilder::encrypted`] and
//!   [`fragment_message`] when sending.
//! - **Code points** are newtypes with IANA-named constants; unknown values survive.

#[macro_use]
mod code_point;

pub mod auth;
pub mod builder;
pub mod cert;
pub mod cp;
pub mod delete;
pub mod eap;
pub mod frag;
pub mod header;
pub mod id;
pub mod ke;
pub mod nonce;
pub mod notify;
pub mod payload;
pub mod reader;
pub mod sa;
pub mod sk;
pub mod transform;
pub mod ts;
pub mod vendor;

use alloc::borrow::Cow;
use alloc::vec::Vec;

pub use auth::{Auth, AuthMethod, HashAlgorithm};
pub use builder::{EncryptedBuilder, MessageBuilder};
pub use cert::{CA_HASH_LEN, Cert, CertEncoding, CertReq};
pub use cp::{CfgAttribute, CfgAttributeType, CfgType, Cp};
pub use delete::Delete;
pub use eap::Eap;
pub use frag::{
    EncryptedFragment, FragmentMessage, Reassembly, ReassemblyStatus, SKF_HEADER_LEN, fragment_message,
};
pub use header::{ExchangeType, Flags, HEADER_LEN, Header, HeaderView, IkeSpi, MessageId, Version};
pub use id::{Id, IdType};
pub use ke::Ke;
pub use nonce::{NONCE_MAX_LEN, NONCE_MIN_LEN, Nonce};
pub use notify::{Notify, NotifyType};
pub use payload::{GENERIC_HEADER_LEN, Payload, PayloadType, UnknownPayload};
pub use reader::Reader;
pub use sa::{Proposal, ProtocolId, Sa};
pub use sk::{Encrypted, FragmentInfo, SkFrame, associated_data, decode_inner};
pub use transform::{
    Attribute, AttributeType, DhGroup, EncrId, EsnId, IntegId, PrfId, Transform, TransformType,
};
pub use ts::{TrafficSelector, Ts, TsRange, TsType};
pub use vendor::VendorId;

use crate::error::{EncodeError, InvalidMessage};
use payload::{ChainKind, decode_chain};

/// A whole IKE message: header and payload chain (RFC 7296 §3).
///
/// A received protected message holds its unencrypted payloads followed by one
/// [`Payload::Encrypted`] (or a lone [`Payload::EncryptedFragment`]) whose body is opaque; the
/// inner payloads come from [`decode_inner`] after the crypto code opened it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Message<'a> {
    /// The header (Next Payload and Length are derived from `payloads` when encoding).
    pub header: Header,
    /// The payloads in order.
    pub payloads: Vec<Payload<'a>>,
}

impl<'a> Message<'a> {
    /// Decodes a whole message (one UDP payload, non-ESP marker already removed).
    ///
    /// # Errors
    /// - [`InvalidMessage::InvalidMajorVersion`] if the major version is not 2 (checked before
    ///   anything else after the header, so a responder can answer it, RFC 7296 §2.5);
    /// - [`InvalidMessage::BadLength`] if the header length differs from `buf.len()`;
    /// - any other [`InvalidMessage`] for a malformed or misplaced payload.
    pub fn decode(buf: &'a [u8]) -> Result<Self, InvalidMessage> {
        Ok(decode_message(buf)?.0)
    }

    /// Appends the encoded message to `out` and returns its length.
    ///
    /// # Errors
    /// [`EncodeError`] if a payload cannot be encoded or an SK/SKF payload is not last; on error
    /// `out` may hold a partial message after its original content.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<usize, EncodeError> {
        let mut b = MessageBuilder::new(out, &self.header);
        b.extend(&self.payloads)?;
        b.finish()
    }

    /// The encoded message as a new vector.
    ///
    /// # Errors
    /// As [`encode`](Self::encode).
    pub fn to_vec(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::new();
        self.encode(&mut out)?;
        Ok(out)
    }

    /// Every Notify payload, in order.
    pub fn notifies(&self) -> impl Iterator<Item = &Notify<'a>> {
        self.payloads.iter().filter_map(|p| match p {
            Payload::Notify(n) => Some(n),
            _ => None,
        })
    }

    /// The first Notify payload of type `ty`.
    #[must_use]
    pub fn notify(&self, ty: NotifyType) -> Option<&Notify<'a>> {
        self.notifies().find(|n| n.notify_type == ty)
    }

    /// The first payload of type `ty`.
    #[must_use]
    pub fn payload(&self, ty: PayloadType) -> Option<&Payload<'a>> {
        self.payloads.iter().find(|p| p.payload_type() == ty)
    }

    /// Copies borrowed bytes so the message outlives the received datagram.
    #[must_use]
    pub fn into_owned(self) -> Message<'static> {
        Message {
            header: self.header,
            payloads: self.payloads.into_iter().map(Payload::into_owned).collect(),
        }
    }
}

/// Decodes a message and, when it ends with SK/SKF, that payload's frame.
pub(crate) fn decode_message(buf: &[u8]) -> Result<(Message<'_>, Option<SkFrame>), InvalidMessage> {
    let view = HeaderView::new_checked(buf)?;
    let major = view.version().major();
    if major != 2 {
        return Err(InvalidMessage::InvalidMajorVersion { major });
    }
    let stated = usize::try_from(view.length()).map_err(|_| InvalidMessage::BadLength {
        what: "IKE header length",
    })?;
    if stated != buf.len() {
        return Err(InvalidMessage::BadLength {
            what: "IKE header length",
        });
    }
    let body = buf
        .get(HEADER_LEN..)
        .ok_or(InvalidMessage::Truncated { what: "IKE header" })?;
    let chain = decode_chain(view.next_payload(), body, ChainKind::Outer)?;
    let frame = match (chain.encrypted_at, chain.payloads.last()) {
        (Some(at), Some(last)) => SkFrame::of(at.saturating_add(HEADER_LEN), last),
        _ => None,
    };
    Ok((
        Message {
            header: view.header(),
            payloads: chain.payloads,
        },
        frame,
    ))
}

/// Turns a possibly borrowed byte string into an owned one.
pub(crate) fn cow_owned(c: Cow<'_, [u8]>) -> Cow<'static, [u8]> {
    Cow::Owned(c.into_owned())
}

/// Appends `len` as a big-endian `u16` length field.
pub(crate) fn put_u16_len(out: &mut Vec<u8>, len: usize, what: &'static str) -> Result<(), EncodeError> {
    let len = u16::try_from(len).map_err(|_| EncodeError::TooLong { what })?;
    out.extend_from_slice(&len.to_be_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUSTICATA_REQ: &str = "54c184961bc3fd770000000000000000212022080000000000000100220000380000003401010005\
0300000c0100000c800e008003000008010000030300000802000002030000080300000200000008040000022800008800020000\
c72c1cfdccbb5b0dc0f654861d4aa3987293bd41e9d2dc9b2b806c26c1dcf880908f6a8a3c7065b40bf458c86787c135c570c8df\
48b740f0ed283d73056272baf68491a3443e159c5cd14c15a15cf2fc86459dc80b6e76ca01fa458fc8828c05d03dbb37bbbeb882\
d51b3412dd87cf68322ff4bb40b6c4b66191bc580d9fe1a8000000244b98c2d7d3d81e9f52b0ca4e0545817d94560249583970190d\
97e44002ce1752";

    #[test]
    fn decodes_and_re_encodes_a_real_message() {
        let bytes = hex::decode(RUSTICATA_REQ).unwrap();
        let m = Message::decode(&bytes).unwrap();
        assert_eq!(m.header.exchange_type, ExchangeType::IKE_SA_INIT);
        let types: Vec<_> = m.payloads.iter().map(Payload::payload_type).collect();
        assert_eq!(types, [PayloadType::SA, PayloadType::KE, PayloadType::NONCE]);
        assert_eq!(m.to_vec().unwrap(), bytes);
        assert!(m.payload(PayloadType::KE).is_some());
        assert!(m.notify(NotifyType::COOKIE).is_none());
        assert_eq!(m.clone().into_owned(), m);
        assert_eq!(SkFrame::locate(&bytes), Ok(None));
    }

    #[test]
    fn header_checks() {
        let bytes = hex::decode(RUSTICATA_REQ).unwrap();
        let mut v1 = bytes.clone();
        v1[17] = 0x10;
        assert_eq!(
            Message::decode(&v1),
            Err(InvalidMessage::InvalidMajorVersion { major: 1 })
        );
        let mut v3 = bytes.clone();
        v3[17] = 0x30;
        assert_eq!(
            Message::decode(&v3),
            Err(InvalidMessage::InvalidMajorVersion { major: 3 })
        );
        let mut minor = bytes.clone();
        minor[17] = 0x21;
        assert!(Message::decode(&minor).is_ok());
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(
            Message::decode(&long),
            Err(InvalidMessage::BadLength {
                what: "IKE header length"
            })
        );
        for n in 0..bytes.len() {
            assert!(Message::decode(&bytes[..n]).is_err(), "length {n}");
        }
        let mut short = bytes.clone();
        short[27] = 0xff;
        assert_eq!(
            Message::decode(&short),
            Err(InvalidMessage::BadLength {
                what: "IKE header length"
            })
        );
    }
}
