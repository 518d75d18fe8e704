//! Payload types, the generic payload header and the payload chain (RFC 7296 §3.2).
//!
//! ```text
//! Next Payload (1) | C (1 bit) | RESERVED (7 bits) | Payload Length (2, header included)
//! ```
//! Decoding walks the chain from the type named by the IKE header (or, inside an SK payload, by
//! the SK payload's own Next Payload field). A payload type we do not implement is kept as an
//! [`UnknownPayload`] when its critical bit is clear, and refused with
//! [`InvalidMessage::UnsupportedCriticalPayload`] when it is set (RFC 7296 §2.5). The reserved bits
//! are ignored on receipt and sent as zero, as are the critical bits of payloads we implement
//! (RFC 7296 §3.2: "MUST be ignored by the recipient if the recipient understands the payload").

use alloc::borrow::Cow;
use alloc::vec::Vec;

use super::auth::Auth;
use super::cert::{Cert, CertReq};
use super::cow_owned;
use super::cp::Cp;
use super::delete::Delete;
use super::eap::Eap;
use super::frag::EncryptedFragment;
use super::id::Id;
use super::ke::Ke;
use super::nonce::Nonce;
use super::notify::Notify;
use super::reader::Reader;
use super::sa::Sa;
use super::sk::Encrypted;
use super::ts::Ts;
use super::vendor::VendorId;
use crate::error::{EncodeError, InvalidMessage};

/// Length of the generic payload header (RFC 7296 §3.2).
pub const GENERIC_HEADER_LEN: usize = 4;

code_point! {
    /// Payload type (RFC 7296 §3.2, IANA "IKEv2 Payload Types").
    pub struct PayloadType(u8);
    /// No next payload.
    NONE = 0,
    /// Security Association (RFC 7296 §3.3).
    SA = 33,
    /// Key Exchange (RFC 7296 §3.4).
    KE = 34,
    /// Identification - Initiator (RFC 7296 §3.5).
    IDI = 35,
    /// Identification - Responder (RFC 7296 §3.5).
    IDR = 36,
    /// Certificate (RFC 7296 §3.6).
    CERT = 37,
    /// Certificate Request (RFC 7296 §3.7).
    CERTREQ = 38,
    /// Authentication (RFC 7296 §3.8).
    AUTH = 39,
    /// Nonce (RFC 7296 §3.9).
    NONCE = 40,
    /// Notify (RFC 7296 §3.10).
    NOTIFY = 41,
    /// Delete (RFC 7296 §3.11).
    DELETE = 42,
    /// Vendor ID (RFC 7296 §3.12).
    VENDOR_ID = 43,
    /// Traffic Selector - Initiator (RFC 7296 §3.13).
    TSI = 44,
    /// Traffic Selector - Responder (RFC 7296 §3.13).
    TSR = 45,
    /// Encrypted and Authenticated, "SK" (RFC 7296 §3.14).
    SK = 46,
    /// Configuration (RFC 7296 §3.15).
    CP = 47,
    /// Extensible Authentication (RFC 7296 §3.16).
    EAP = 48,
    /// Generic Secure Password Methods (RFC 6467); not implemented here.
    GSPM = 49,
    /// Group Identification (RFC 9838); not implemented here.
    IDG = 50,
    /// Group Security Association (RFC 9838); not implemented here.
    GSA = 51,
    /// Key Download (RFC 9838); not implemented here.
    KD = 52,
    /// Encrypted and Authenticated Fragment, "SKF" (RFC 7383 §2.5).
    SKF = 53,
    /// Puzzle Solution (RFC 8019); not implemented here.
    PS = 54,
}

/// One decoded payload.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Payload<'a> {
    /// SA.
    Sa(Sa<'a>),
    /// KE.
    Ke(Ke<'a>),
    /// IDi.
    IdI(Id<'a>),
    /// IDr.
    IdR(Id<'a>),
    /// CERT.
    Cert(Cert<'a>),
    /// CERTREQ.
    CertReq(CertReq<'a>),
    /// AUTH.
    Auth(Auth<'a>),
    /// Ni, Nr.
    Nonce(Nonce<'a>),
    /// N.
    Notify(Notify<'a>),
    /// D.
    Delete(Delete<'a>),
    /// V.
    VendorId(VendorId<'a>),
    /// TSi.
    TsI(Ts<'a>),
    /// TSr.
    TsR(Ts<'a>),
    /// SK, still sealed (or its body opaque): always the last payload.
    Encrypted(Encrypted<'a>),
    /// CP.
    Cp(Cp<'a>),
    /// EAP.
    Eap(Eap<'a>),
    /// SKF, one fragment, still sealed: always the only payload.
    EncryptedFragment(EncryptedFragment<'a>),
    /// A payload type this codec does not implement, received without the critical bit.
    Unknown(UnknownPayload<'a>),
}

/// A payload of a type we do not implement, kept so the message re-encodes exactly.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UnknownPayload<'a> {
    /// Its payload type.
    pub payload_type: PayloadType,
    /// Its critical bit (always clear for a received one: a set bit refuses the message).
    pub critical: bool,
    /// Its body.
    pub body: Cow<'a, [u8]>,
}

impl<'a> Payload<'a> {
    /// The payload type this payload is sent as.
    #[must_use]
    pub fn payload_type(&self) -> PayloadType {
        match self {
            Self::Sa(_) => PayloadType::SA,
            Self::Ke(_) => PayloadType::KE,
            Self::IdI(_) => PayloadType::IDI,
            Self::IdR(_) => PayloadType::IDR,
            Self::Cert(_) => PayloadType::CERT,
            Self::CertReq(_) => PayloadType::CERTREQ,
            Self::Auth(_) => PayloadType::AUTH,
            Self::Nonce(_) => PayloadType::NONCE,
            Self::Notify(_) => PayloadType::NOTIFY,
            Self::Delete(_) => PayloadType::DELETE,
            Self::VendorId(_) => PayloadType::VENDOR_ID,
            Self::TsI(_) => PayloadType::TSI,
            Self::TsR(_) => PayloadType::TSR,
            Self::Encrypted(_) => PayloadType::SK,
            Self::Cp(_) => PayloadType::CP,
            Self::Eap(_) => PayloadType::EAP,
            Self::EncryptedFragment(_) => PayloadType::SKF,
            Self::Unknown(u) => u.payload_type,
        }
    }

    /// Whether this is an SK or SKF payload, which ends a chain.
    #[must_use]
    pub fn is_encrypted(&self) -> bool {
        matches!(self, Self::Encrypted(_) | Self::EncryptedFragment(_))
    }

    /// Decodes the body of a payload of type `ty` that is not SK or SKF.
    ///
    /// Returns `Ok(None)` for SK/SKF, whose framing the chain decoder handles
    /// ([`Message::decode`](super::Message::decode), [`decode_inner`](super::decode_inner)).
    ///
    /// # Errors
    /// [`InvalidMessage`] if the body is malformed, or
    /// [`InvalidMessage::UnsupportedCriticalPayload`] for an unimplemented type with `critical` set.
    pub fn decode_body(
        ty: PayloadType,
        critical: bool,
        body: &'a [u8],
    ) -> Result<Option<Self>, InvalidMessage> {
        let payload = match ty {
            PayloadType::SA => Self::Sa(Sa::decode(body)?),
            PayloadType::KE => Self::Ke(Ke::decode(body)?),
            PayloadType::IDI => Self::IdI(Id::decode(body)?),
            PayloadType::IDR => Self::IdR(Id::decode(body)?),
            PayloadType::CERT => Self::Cert(Cert::decode(body)?),
            PayloadType::CERTREQ => Self::CertReq(CertReq::decode(body)?),
            PayloadType::AUTH => Self::Auth(Auth::decode(body)?),
            PayloadType::NONCE => Self::Nonce(Nonce::decode(body)?),
            PayloadType::NOTIFY => Self::Notify(Notify::decode(body)?),
            PayloadType::DELETE => Self::Delete(Delete::decode(body)?),
            PayloadType::VENDOR_ID => Self::VendorId(VendorId::decode(body)?),
            PayloadType::TSI => Self::TsI(Ts::decode(body)?),
            PayloadType::TSR => Self::TsR(Ts::decode(body)?),
            PayloadType::CP => Self::Cp(Cp::decode(body)?),
            PayloadType::EAP => Self::Eap(Eap::decode(body)?),
            PayloadType::SK | PayloadType::SKF => return Ok(None),
            PayloadType::NONE => {
                return Err(InvalidMessage::Malformed {
                    what: "payload type 0 in the chain",
                });
            }
            _ if critical => return Err(InvalidMessage::UnsupportedCriticalPayload { payload_type: ty }),
            _ => Self::Unknown(UnknownPayload {
                payload_type: ty,
                critical,
                body: Cow::Borrowed(body),
            }),
        };
        Ok(Some(payload))
    }

    /// Length of the payload body (without the generic header), as [`emit_body`](Self::emit_body)
    /// writes it.
    #[must_use]
    pub fn body_len(&self) -> usize {
        match self {
            Self::Sa(p) => p.buffer_len(),
            Self::Ke(p) => p.buffer_len(),
            Self::IdI(p) | Self::IdR(p) => p.buffer_len(),
            Self::Cert(p) => p.buffer_len(),
            Self::CertReq(p) => p.buffer_len(),
            Self::Auth(p) => p.buffer_len(),
            Self::Nonce(p) => p.buffer_len(),
            Self::Notify(p) => p.buffer_len(),
            Self::Delete(p) => p.buffer_len(),
            Self::VendorId(p) => p.buffer_len(),
            Self::TsI(p) | Self::TsR(p) => p.buffer_len(),
            Self::Encrypted(p) => p.buffer_len(),
            Self::Cp(p) => p.buffer_len(),
            Self::Eap(p) => p.buffer_len(),
            Self::EncryptedFragment(p) => p.buffer_len(),
            Self::Unknown(p) => p.body.len(),
        }
    }

    /// Length of the whole payload, generic header included.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        self.body_len().saturating_add(GENERIC_HEADER_LEN)
    }

    /// Appends the payload body (without the generic header).
    ///
    /// # Errors
    /// [`EncodeError`] if a field does not fit its length or count field.
    pub fn emit_body(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            Self::Sa(p) => p.emit(out),
            Self::Ke(p) => p.emit(out),
            Self::IdI(p) | Self::IdR(p) => p.emit(out),
            Self::Cert(p) => p.emit(out),
            Self::CertReq(p) => p.emit(out),
            Self::Auth(p) => p.emit(out),
            Self::Nonce(p) => p.emit(out),
            Self::Notify(p) => p.emit(out),
            Self::Delete(p) => p.emit(out),
            Self::VendorId(p) => p.emit(out),
            Self::TsI(p) | Self::TsR(p) => p.emit(out),
            Self::Encrypted(p) => p.emit(out),
            Self::Cp(p) => p.emit(out),
            Self::Eap(p) => p.emit(out),
            Self::EncryptedFragment(p) => p.emit(out),
            Self::Unknown(p) => {
                out.extend_from_slice(&p.body);
                Ok(())
            }
        }
    }

    /// The Next Payload value this payload's own header carries when it is last in its chain:
    /// the first inner payload for SK/SKF, none otherwise.
    pub(crate) fn trailing_next(&self) -> PayloadType {
        match self {
            Self::Encrypted(e) => e.first_inner,
            Self::EncryptedFragment(f) => f.first_inner,
            _ => PayloadType::NONE,
        }
    }

    /// The critical bit this payload is sent with.
    pub(crate) fn critical(&self) -> bool {
        matches!(self, Self::Unknown(UnknownPayload { critical: true, .. }))
    }

    /// Copies borrowed bytes so the payload outlives the received message.
    #[must_use]
    pub fn into_owned(self) -> Payload<'static> {
        match self {
            Self::Sa(p) => Payload::Sa(p.into_owned()),
            Self::Ke(p) => Payload::Ke(p.into_owned()),
            Self::IdI(p) => Payload::IdI(p.into_owned()),
            Self::IdR(p) => Payload::IdR(p.into_owned()),
            Self::Cert(p) => Payload::Cert(p.into_owned()),
            Self::CertReq(p) => Payload::CertReq(p.into_owned()),
            Self::Auth(p) => Payload::Auth(p.into_owned()),
            Self::Nonce(p) => Payload::Nonce(p.into_owned()),
            Self::Notify(p) => Payload::Notify(p.into_owned()),
            Self::Delete(p) => Payload::Delete(p.into_owned()),
            Self::VendorId(p) => Payload::VendorId(p.into_owned()),
            Self::TsI(p) => Payload::TsI(p.into_owned()),
            Self::TsR(p) => Payload::TsR(p.into_owned()),
            Self::Encrypted(p) => Payload::Encrypted(p.into_owned()),
            Self::Cp(p) => Payload::Cp(p.into_owned()),
            Self::Eap(p) => Payload::Eap(p.into_owned()),
            Self::EncryptedFragment(p) => Payload::EncryptedFragment(p.into_owned()),
            Self::Unknown(p) => Payload::Unknown(UnknownPayload {
                payload_type: p.payload_type,
                critical: p.critical,
                body: cow_owned(p.body),
            }),
        }
    }
}

/// Where a chain is decoded: the message itself, or the plaintext of an SK/SKF payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChainKind {
    /// Directly after the IKE header: SK may end it; SKF must be alone.
    Outer,
    /// Inside SK/SKF: neither may appear.
    Inner,
}

/// A decoded chain plus, when it ends with SK/SKF, that payload's offset within the chain buffer.
pub(crate) struct Chain<'a> {
    pub(crate) payloads: Vec<Payload<'a>>,
    pub(crate) encrypted_at: Option<usize>,
}

/// Decodes the payload chain in `buf`, starting with type `first` (RFC 7296 §3.2).
///
/// Every generic payload length is checked against what is left; the chain must end exactly at
/// the end of `buf`; an SK payload must be last and an SKF payload alone (RFC 7383 §2.5).
pub(crate) fn decode_chain(
    first: PayloadType,
    buf: &[u8],
    kind: ChainKind,
) -> Result<Chain<'_>, InvalidMessage> {
    let mut r = Reader::new(buf);
    let mut next = first;
    let mut payloads = Vec::new();
    let mut encrypted_at = None;
    while next != PayloadType::NONE {
        let ty = next;
        let offset = buf.len().saturating_sub(r.remaining());
        let [np, flags, l0, l1] = *r.take_array::<GENERIC_HEADER_LEN>("generic payload header")?;
        next = PayloadType(np);
        let len = usize::from(u16::from_be_bytes([l0, l1]));
        let body_len = len
            .checked_sub(GENERIC_HEADER_LEN)
            .ok_or(InvalidMessage::BadLength {
                what: "payload length",
            })?;
        let body = r.sub(body_len, "payload length")?.rest();
        let critical = flags & 0x80 != 0;
        if let Some(p) = Payload::decode_body(ty, critical, body)? {
            payloads.push(p);
            continue;
        }
        // SK or SKF: the Next Payload field names the first inner payload, and the chain ends.
        if kind == ChainKind::Inner {
            return Err(InvalidMessage::MisplacedPayload {
                payload_type: ty,
                what: "inside an encrypted payload",
            });
        }
        let p = if ty == PayloadType::SK {
            Payload::Encrypted(Encrypted::decode(next, body)?)
        } else {
            if !payloads.is_empty() {
                return Err(InvalidMessage::MisplacedPayload {
                    payload_type: ty,
                    what: "not the only payload",
                });
            }
            Payload::EncryptedFragment(EncryptedFragment::decode(next, body)?)
        };
        payloads.push(p);
        encrypted_at = Some(offset);
        r.finish("message (after the encrypted payload)")?;
        return Ok(Chain {
            payloads,
            encrypted_at,
        });
    }
    r.finish("message (after the last payload)")?;
    Ok(Chain {
        payloads,
        encrypted_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_payloads_follow_the_critical_bit() {
        // An unknown type 200 payload, then a Vendor ID.
        let chain = [43, 0x00, 0x00, 0x06, 0xaa, 0xbb, 0, 0, 0, 5, 0x01];
        let c = decode_chain(PayloadType(200), &chain, ChainKind::Outer).unwrap();
        assert_eq!(c.payloads.len(), 2);
        assert_eq!(
            c.payloads[0],
            Payload::Unknown(UnknownPayload {
                payload_type: PayloadType(200),
                critical: false,
                body: Cow::Borrowed(&[0xaa, 0xbb])
            })
        );
        assert_eq!(c.payloads[1].payload_type(), PayloadType::VENDOR_ID);
        let mut critical = chain;
        critical[1] = 0x80;
        assert!(matches!(
            decode_chain(PayloadType(200), &critical, ChainKind::Outer),
            Err(InvalidMessage::UnsupportedCriticalPayload {
                payload_type: PayloadType(200)
            })
        ));
        // Reserved bits are ignored; the critical bit of a known payload too.
        let mut reserved = chain;
        reserved[1] = 0x7f;
        reserved[7] = 0x80;
        assert_eq!(
            decode_chain(PayloadType(200), &reserved, ChainKind::Outer)
                .unwrap()
                .payloads,
            c.payloads
        );
        // Unimplemented but registered types behave like unknown ones.
        assert!(matches!(
            decode_chain(PayloadType::PS, &critical, ChainKind::Outer),
            Err(InvalidMessage::UnsupportedCriticalPayload {
                payload_type: PayloadType::PS
            })
        ));
    }

    #[test]
    fn chain_lengths_are_checked() {
        let v = [0, 0, 0, 5, 1];
        assert_eq!(
            decode_chain(PayloadType::VENDOR_ID, &v, ChainKind::Outer)
                .unwrap()
                .payloads
                .len(),
            1
        );
        for n in 0..4 {
            assert_eq!(
                decode_chain(PayloadType::VENDOR_ID, &v[..n], ChainKind::Outer).err(),
                Some(InvalidMessage::Truncated {
                    what: "generic payload header"
                })
            );
        }
        assert_eq!(
            decode_chain(PayloadType::VENDOR_ID, &v[..4], ChainKind::Outer).err(),
            Some(InvalidMessage::BadLength {
                what: "payload length"
            })
        );
        let below = [0, 0, 0, 3];
        assert_eq!(
            decode_chain(PayloadType::VENDOR_ID, &below, ChainKind::Outer).err(),
            Some(InvalidMessage::BadLength {
                what: "payload length"
            })
        );
        let trailing = [0, 0, 0, 4, 9];
        assert_eq!(
            decode_chain(PayloadType::VENDOR_ID, &trailing, ChainKind::Outer).err(),
            Some(InvalidMessage::TrailingBytes {
                what: "message (after the last payload)"
            })
        );
        let zero_in_chain = [0, 0, 0, 4];
        assert!(decode_chain(PayloadType::NONE, &zero_in_chain, ChainKind::Outer).is_err());
    }

    #[test]
    fn encrypted_payloads_are_placed_correctly() {
        // V, then SK (first inner: N) with a 4-byte body.
        let outer = [46, 0, 0, 4, 41, 0, 0, 8, 1, 2, 3, 4];
        let c = decode_chain(PayloadType::VENDOR_ID, &outer, ChainKind::Outer).unwrap();
        assert_eq!(c.encrypted_at, Some(4));
        assert!(c.payloads[1].is_encrypted());
        assert_eq!(
            decode_chain(PayloadType::VENDOR_ID, &outer, ChainKind::Inner).err(),
            Some(InvalidMessage::MisplacedPayload {
                payload_type: PayloadType::SK,
                what: "inside an encrypted payload"
            })
        );
        let mut after = outer.to_vec();
        after.push(0);
        assert_eq!(
            decode_chain(PayloadType::VENDOR_ID, &after, ChainKind::Outer).err(),
            Some(InvalidMessage::TrailingBytes {
                what: "message (after the encrypted payload)"
            })
        );
        // SKF after another payload.
        let skf = [53, 0, 0, 4, 0, 0, 0, 12, 0, 1, 0, 1, 9, 9, 9, 9];
        assert_eq!(
            decode_chain(PayloadType::VENDOR_ID, &skf, ChainKind::Outer).err(),
            Some(InvalidMessage::MisplacedPayload {
                payload_type: PayloadType::SKF,
                what: "not the only payload"
            })
        );
        assert!(decode_chain(PayloadType::SKF, &skf[4..], ChainKind::Outer).is_ok());
    }
}
