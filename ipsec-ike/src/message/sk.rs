//! The Encrypted and Authenticated payload "SK" (RFC 7296 §3.14) and the framing contract with
//! the crypto code.
//!
//! ```text
//! Generic header (Next Payload = type of the first inner payload) | IV | ciphertext | ICV
//! ```
//! The codec never encrypts. It frames:
//! - **Receiving**: [`SkFrame::locate`] validates the header and the unencrypted payloads and says
//!   where the SK (or SKF) payload starts, how long its header is and which payload the plaintext
//!   begins with. The crypto code's `open(msg, sk_offset, sk_header_len)` then verifies and
//!   decrypts in place and returns the plaintext range, which [`decode_inner`] turns into payloads.
//! - **Sending**: [`MessageBuilder::encrypted`](super::MessageBuilder::encrypted) writes the header,
//!   the unencrypted payloads, the SK header and the plaintext inner payloads, and returns the
//!   [`SkFrame`] for `seal(msg, sk_offset, sk_header_len)`, which inserts the IV, pads, encrypts,
//!   appends the ICV and patches the SK payload length and the IKE header length.

use alloc::borrow::Cow;
use alloc::vec::Vec;

use super::cow_owned;
use super::payload::{ChainKind, GENERIC_HEADER_LEN, Payload, PayloadType, decode_chain};
use crate::error::{EncodeError, InvalidMessage};

/// An SK payload as received (or built from received bytes): its body is opaque.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Encrypted<'a> {
    /// The Next Payload field: type of the first payload inside.
    pub first_inner: PayloadType,
    /// IV, ciphertext (with padding and Pad Length) and ICV; after an in-place open, whatever
    /// the crypto code left there.
    pub body: Cow<'a, [u8]>,
}

impl<'a> Encrypted<'a> {
    /// Takes an SK payload body whose Next Payload field was `first_inner`.
    ///
    /// # Errors
    /// None: the body is checked by the crypto code. The `Result` matches the other payloads.
    pub fn decode(first_inner: PayloadType, body: &'a [u8]) -> Result<Self, InvalidMessage> {
        Ok(Self {
            first_inner,
            body: Cow::Borrowed(body),
        })
    }

    /// Bytes [`emit`](Self::emit) appends.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        self.body.len()
    }

    /// Appends the body.
    ///
    /// # Errors
    /// None today; the signature matches the other payloads.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.body);
        Ok(())
    }

    /// Copies borrowed bytes so the payload outlives the received message.
    #[must_use]
    pub fn into_owned(self) -> Encrypted<'static> {
        Encrypted {
            first_inner: self.first_inner,
            body: cow_owned(self.body),
        }
    }
}

/// Fragment position carried by an SKF payload (RFC 7383 §2.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FragmentInfo {
    /// This fragment's number, 1..=total.
    pub number: u16,
    /// How many fragments the message was split into.
    pub total: u16,
}

/// Where the SK or SKF payload sits in a message: the byte-level contract with `seal`/`open`.
///
/// Offsets count from the first byte of the IKE header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SkFrame {
    /// Offset of the SK/SKF generic payload header.
    pub sk_offset: usize,
    /// Length of the SK/SKF header: 4 for SK, 8 for SKF (generic header + fragment fields).
    pub sk_header_len: usize,
    /// Type of the first inner payload ([`PayloadType::NONE`] for an empty SK payload, and for
    /// every SKF fragment but the first).
    pub first_inner: PayloadType,
    /// Fragment number and total for SKF; `None` for SK.
    pub fragment: Option<FragmentInfo>,
}

impl SkFrame {
    /// Finds the SK/SKF payload of a received message, after validating the IKE header and every
    /// unencrypted payload exactly as [`Message::decode`](super::Message::decode) does.
    ///
    /// Returns `Ok(None)` for a message without SK/SKF (IKE_SA_INIT).
    ///
    /// # Errors
    /// [`InvalidMessage`] for any syntax error outside the encrypted body.
    pub fn locate(msg: &[u8]) -> Result<Option<Self>, InvalidMessage> {
        let (_, frame) = super::decode_message(msg)?;
        Ok(frame)
    }

    /// Offset of the first byte after the SK/SKF header (where the IV starts).
    #[must_use]
    pub fn body_offset(&self) -> usize {
        self.sk_offset.saturating_add(self.sk_header_len)
    }

    /// Builds the frame for the SK/SKF payload at `sk_offset`, given the decoded payload.
    pub(crate) fn of(sk_offset: usize, payload: &Payload<'_>) -> Option<Self> {
        match payload {
            Payload::Encrypted(e) => Some(Self {
                sk_offset,
                sk_header_len: GENERIC_HEADER_LEN,
                first_inner: e.first_inner,
                fragment: None,
            }),
            Payload::EncryptedFragment(f) => Some(Self {
                sk_offset,
                sk_header_len: super::frag::SKF_HEADER_LEN,
                first_inner: f.first_inner,
                fragment: Some(FragmentInfo {
                    number: f.number,
                    total: f.total,
                }),
            }),
            _ => None,
        }
    }
}

/// Decodes the plaintext inner payloads of an opened SK payload (or of a reassembled SKF message),
/// starting with `first` (the frame's [`SkFrame::first_inner`]).
///
/// `plaintext` is exactly the range `open` returned: padding and Pad Length already removed.
///
/// # Errors
/// [`InvalidMessage`] for any syntax error, including an SK or SKF payload inside and
/// [`InvalidMessage::UnsupportedCriticalPayload`] for an unknown critical payload.
pub fn decode_inner(first: PayloadType, plaintext: &[u8]) -> Result<Vec<Payload<'_>>, InvalidMessage> {
    Ok(decode_chain(first, plaintext, ChainKind::Inner)?.payloads)
}

/// The IKE header bytes plus the SK header, i.e. what an AEAD authenticates as associated data
/// (RFC 5282 §5.1): every byte of `msg` before the IV.
///
/// # Errors
/// [`InvalidMessage::Truncated`] if `msg` is shorter than the frame says.
pub fn associated_data<'m>(msg: &'m [u8], frame: &SkFrame) -> Result<&'m [u8], InvalidMessage> {
    msg.get(..frame.body_offset())
        .ok_or(InvalidMessage::Truncated { what: "SK header" })
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7634 App. B: INFORMATIONAL with one SK payload (ChaCha20-Poly1305), inner N(SET_WINDOW_SIZE).
    const RFC7634_B: &str = "c0c1c2c3c4c5c6c7d0d1d2d3d4d5d6d72e2025000000000900000045290000291011121314151617610394701f8d017f7c129248896b71bfe25236efd7cdc67066906315b2";

    #[test]
    fn locates_the_rfc7634_sk_payload() {
        let msg = hex::decode(RFC7634_B).unwrap();
        let frame = SkFrame::locate(&msg).unwrap().unwrap();
        assert_eq!(
            frame,
            SkFrame {
                sk_offset: 28,
                sk_header_len: 4,
                first_inner: PayloadType::NOTIFY,
                fragment: None
            }
        );
        assert_eq!(frame.body_offset(), 32);
        assert_eq!(associated_data(&msg, &frame).unwrap(), &msg[..32]);
        assert!(associated_data(&msg[..10], &frame).is_err());
        // The plaintext of App. B, without its Pad Length byte, decodes to the Notify.
        let plain = hex::decode("0000000c000040010000000a").unwrap();
        let inner = decode_inner(frame.first_inner, &plain).unwrap();
        assert_eq!(inner.len(), 1);
        let Payload::Notify(n) = &inner[0] else {
            panic!("not a Notify: {inner:?}")
        };
        assert_eq!(n.notify_type, crate::message::NotifyType::SET_WINDOW_SIZE);
        assert_eq!(&*n.data, &[0, 0, 0, 10]);
    }

    #[test]
    fn inner_chain_refuses_nested_encryption_and_critical_unknowns() {
        let nested = [0, 0, 0, 4];
        assert_eq!(
            decode_inner(PayloadType::SK, &nested).err(),
            Some(InvalidMessage::MisplacedPayload {
                payload_type: PayloadType::SK,
                what: "inside an encrypted payload"
            })
        );
        let critical = [0, 0x80, 0, 4];
        assert_eq!(
            decode_inner(PayloadType(99), &critical).err(),
            Some(InvalidMessage::UnsupportedCriticalPayload {
                payload_type: PayloadType(99)
            })
        );
        assert_eq!(decode_inner(PayloadType::NONE, &[]).unwrap(), Vec::new());
        assert!(decode_inner(PayloadType::NONE, &[0]).is_err());
    }

    #[test]
    fn message_without_sk_has_no_frame() {
        let mut msg = hex::decode(RFC7634_B).unwrap();
        msg.truncate(28);
        msg[16] = 0;
        msg[27] = 28;
        assert_eq!(SkFrame::locate(&msg), Ok(None));
    }
}
