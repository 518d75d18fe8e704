//! Building messages into the caller's buffer (RFC 7296 §3).
//!
//! [`MessageBuilder`] appends the IKE header and payloads to a `&mut Vec<u8>`, writing each
//! payload's type into the previous Next Payload field and each length once the body is known.
//! For a protected message, [`MessageBuilder::encrypted`] switches to an [`EncryptedBuilder`] whose
//! payloads become the SK plaintext; its [`finish`](EncryptedBuilder::finish) returns the
//! [`SkFrame`] the crypto code's `seal` needs. Offsets in the frame count from the first byte of
//! the IKE header, which is where the builder started in `out`; since `seal` patches the IKE
//! header length at offset 24 of the buffer it is given, seal a buffer that holds only this
//! message (start from an empty `Vec`, or hand `seal` the message's own sub-vector).
//!
//! ```
//! use ipsec_ike::message::*;
//! let header = Header {
//!     spi_i: IkeSpi([1; 8]), spi_r: IkeSpi([2; 8]), version: Version::V2_0,
//!     exchange_type: ExchangeType::INFORMATIONAL, flags: Flags::new(true, false),
//!     message_id: MessageId(2),
//! };
//! let mut msg = Vec::new();
//! let mut sk = MessageBuilder::new(&mut msg, &header).encrypted();
//! sk.push(&Payload::Delete(Delete::ike()))?;
//! let frame = sk.finish()?;
//! assert_eq!((frame.sk_offset, frame.sk_header_len), (28, 4));
//! assert_eq!(msg.len(), 28 + 4 + 8);
//! // crypto.seal(&mut msg, frame.sk_offset, frame.sk_header_len)?;
//! # Ok::<(), ipsec_ike::error::EncodeError>(())
//! ```

use alloc::vec::Vec;

use super::header::{HEADER_LEN, Header};
use super::payload::{GENERIC_HEADER_LEN, Payload, PayloadType};
use super::sk::SkFrame;
use crate::error::EncodeError;

/// Appends one IKE message to a caller's buffer.
#[must_use = "a message is complete only after finish()"]
#[derive(Debug)]
pub struct MessageBuilder<'o> {
    out: &'o mut Vec<u8>,
    /// Index in `out` of the IKE header.
    start: usize,
    /// Index in `out` of the Next Payload field the next payload's type goes into.
    next_at: usize,
    /// An SK/SKF payload was appended: the chain is closed.
    closed: bool,
}

impl<'o> MessageBuilder<'o> {
    /// Starts a message at the end of `out` with `header` (Next Payload and Length are patched
    /// later).
    pub fn new(out: &'o mut Vec<u8>, header: &Header) -> Self {
        let start = out.len();
        out.extend_from_slice(&header.to_bytes(PayloadType::NONE, 0));
        let next_at = start.saturating_add(16);
        Self {
            out,
            start,
            next_at,
            closed: false,
        }
    }

    /// Appends one payload. An SK or SKF payload given here is copied as it is (its body
    /// opaque) and must be the last one.
    ///
    /// # Errors
    /// [`EncodeError`] if the payload cannot be encoded or is longer than 65535 bytes, or a
    /// payload follows an SK/SKF payload. On error `out` is as before the call.
    pub fn push(&mut self, payload: &Payload<'_>) -> Result<&mut Self, EncodeError> {
        if self.closed {
            return Err(EncodeError::Inconsistent {
                what: "payload after an encrypted payload",
            });
        }
        self.next_at = append_payload(self.out, self.next_at, payload)?;
        self.closed = payload.is_encrypted();
        Ok(self)
    }

    /// Appends every payload of `payloads` in order.
    ///
    /// # Errors
    /// As [`push`](Self::push); payloads appended before the failing one stay.
    pub fn extend<'p>(
        &mut self,
        payloads: impl IntoIterator<Item = &'p Payload<'p>>,
    ) -> Result<&mut Self, EncodeError> {
        for p in payloads {
            self.push(p)?;
        }
        Ok(self)
    }

    /// Patches the IKE header length and returns the message length.
    ///
    /// # Errors
    /// [`EncodeError::TooLong`] if the message exceeds 2^32 - 1 bytes.
    pub fn finish(self) -> Result<usize, EncodeError> {
        patch_message_len(self.out, self.start)
    }

    /// Appends an SK payload header; payloads pushed to the returned builder form its plaintext.
    pub fn encrypted(self) -> EncryptedBuilder<'o> {
        let sk_offset = self.out.len();
        patch(self.out, self.next_at, PayloadType::SK.0);
        self.out.extend_from_slice(&[PayloadType::NONE.0, 0, 0, 0]);
        EncryptedBuilder {
            out: self.out,
            start: self.start,
            sk_offset,
            first_at: sk_offset,
            next_at: sk_offset,
        }
    }
}

/// Appends the plaintext inner payloads of an SK payload; see [`MessageBuilder::encrypted`].
#[must_use = "the SK payload is framed only after finish()"]
#[derive(Debug)]
pub struct EncryptedBuilder<'o> {
    out: &'o mut Vec<u8>,
    start: usize,
    sk_offset: usize,
    /// Index of the SK header's Next Payload field (the first inner payload's type).
    first_at: usize,
    next_at: usize,
}

impl EncryptedBuilder<'_> {
    /// Appends one inner payload.
    ///
    /// # Errors
    /// [`EncodeError`] if the payload cannot be encoded, is longer than 65535 bytes, or is an
    /// SK/SKF payload. On error `out` is as before the call.
    pub fn push(&mut self, payload: &Payload<'_>) -> Result<&mut Self, EncodeError> {
        if payload.is_encrypted() {
            return Err(EncodeError::Inconsistent {
                what: "encrypted payload inside an encrypted payload",
            });
        }
        self.next_at = append_payload(self.out, self.next_at, payload)?;
        Ok(self)
    }

    /// Appends every payload of `payloads` in order.
    ///
    /// # Errors
    /// As [`push`](Self::push).
    pub fn extend<'p>(
        &mut self,
        payloads: impl IntoIterator<Item = &'p Payload<'p>>,
    ) -> Result<&mut Self, EncodeError> {
        for p in payloads {
            self.push(p)?;
        }
        Ok(self)
    }

    /// Patches the SK payload length and the IKE header length as for the plaintext (`seal`
    /// patches both again) and returns the frame for `seal`.
    ///
    /// # Errors
    /// [`EncodeError::TooLong`] if the SK payload exceeds 65535 bytes.
    pub fn finish(self) -> Result<SkFrame, EncodeError> {
        let sk_len = self.out.len().saturating_sub(self.sk_offset);
        let sk_len = u16::try_from(sk_len).map_err(|_| EncodeError::TooLong { what: "SK payload" })?;
        patch_u16(self.out, self.sk_offset.saturating_add(2), sk_len);
        patch_message_len(self.out, self.start)?;
        let first_inner = PayloadType(self.out.get(self.first_at).copied().unwrap_or(0));
        Ok(SkFrame {
            sk_offset: self.sk_offset.saturating_sub(self.start),
            sk_header_len: GENERIC_HEADER_LEN,
            first_inner,
            fragment: None,
        })
    }
}

/// Appends `payload` with its generic header, writes its type at `next_at` and returns the index
/// of its own Next Payload field. Restores `out` on error.
fn append_payload(out: &mut Vec<u8>, next_at: usize, payload: &Payload<'_>) -> Result<usize, EncodeError> {
    let at = out.len();
    out.extend_from_slice(&[
        payload.trailing_next().0,
        if payload.critical() { 0x80 } else { 0 },
        0,
        0,
    ]);
    let result = payload.emit_body(out).and_then(|()| {
        u16::try_from(out.len().saturating_sub(at)).map_err(|_| EncodeError::TooLong { what: "payload" })
    });
    match result {
        Ok(len) => {
            patch_u16(out, at.saturating_add(2), len);
            patch(out, next_at, payload.payload_type().0);
            Ok(at)
        }
        Err(e) => {
            out.truncate(at);
            Err(e)
        }
    }
}

fn patch_message_len(out: &mut [u8], start: usize) -> Result<usize, EncodeError> {
    let len = out.len().saturating_sub(start);
    let len32 = u32::try_from(len).map_err(|_| EncodeError::TooLong { what: "message" })?;
    if let Some(field) = out.get_mut(start.saturating_add(24)..start.saturating_add(HEADER_LEN)) {
        field.copy_from_slice(&len32.to_be_bytes());
    }
    Ok(len)
}

/// Overwrites one byte the builder wrote earlier (the index is always in bounds).
fn patch(out: &mut [u8], at: usize, value: u8) {
    if let Some(b) = out.get_mut(at) {
        *b = value;
    }
}

/// Overwrites a big-endian `u16` the builder wrote earlier.
fn patch_u16(out: &mut [u8], at: usize, value: u16) {
    if let Some(field) = out.get_mut(at..at.saturating_add(2)) {
        field.copy_from_slice(&value.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{
        Delete, Encrypted, ExchangeType, Flags, IkeSpi, Message, MessageId, Nonce, Notify, NotifyType,
        Version,
    };
    use alloc::borrow::Cow;

    fn header() -> Header {
        Header {
            spi_i: IkeSpi([0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7]),
            spi_r: IkeSpi([0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7]),
            version: Version::V2_0,
            exchange_type: ExchangeType::INFORMATIONAL,
            flags: Flags(0),
            message_id: MessageId(9),
        }
    }

    #[test]
    fn builds_the_rfc7634_plaintext_frame() {
        // RFC 7634 App. B before sealing: header, SK header, N(SET_WINDOW_SIZE 10).
        let mut msg = alloc::vec![0xee]; // bytes before the message stay untouched
        let mut sk = MessageBuilder::new(&mut msg, &header()).encrypted();
        sk.push(&Payload::Notify(Notify::new(
            NotifyType::SET_WINDOW_SIZE,
            &[0, 0, 0, 10],
        )))
        .unwrap();
        let frame = sk.finish().unwrap();
        assert_eq!(
            frame,
            SkFrame {
                sk_offset: 28,
                sk_header_len: 4,
                first_inner: PayloadType::NOTIFY,
                fragment: None
            }
        );
        assert_eq!(msg[0], 0xee);
        let mut expect_header = hex::decode("c0c1c2c3c4c5c6c7d0d1d2d3d4d5d6d72e20250000000009").unwrap();
        expect_header.extend_from_slice(&[0, 0, 0, 0x2c]);
        assert_eq!(msg[1..29], expect_header[..]);
        // SK header: next = N (41), length 4 + 12; then the App. B plaintext without padding.
        assert_eq!(msg[29..33], [41, 0, 0, 16]);
        assert_eq!(msg[33..], hex::decode("0000000c000040010000000a").unwrap());
        assert_eq!(msg.len() - 1, 0x2c);
    }

    #[test]
    fn chains_and_round_trips() {
        let nonce = [0x11u8; 32];
        let payloads = alloc::vec![
            Payload::Nonce(Nonce {
                data: Cow::Borrowed(&nonce)
            }),
            Payload::Notify(Notify::new(NotifyType::NAT_DETECTION_SOURCE_IP, &[1; 20])),
            Payload::Delete(Delete::ike()),
        ];
        let mut msg = Vec::new();
        let mut b = MessageBuilder::new(&mut msg, &header());
        b.extend(&payloads).unwrap();
        let len = b.finish().unwrap();
        assert_eq!(len, msg.len());
        assert_eq!(msg[16], PayloadType::NONCE.0);
        let m = Message::decode(&msg).unwrap();
        assert_eq!(m.header, header());
        assert_eq!(m.payloads, payloads);
    }

    #[test]
    fn failed_push_leaves_the_buffer_unchanged() {
        let mut msg = Vec::new();
        let mut b = MessageBuilder::new(&mut msg, &header());
        let bad = Payload::Nonce(Nonce {
            data: Cow::Borrowed(&[1, 2]),
        });
        assert!(b.push(&bad).is_err());
        let huge = alloc::vec![0u8; 70_000];
        let too_long = Payload::Notify(Notify::new(NotifyType::COOKIE, &huge));
        assert_eq!(
            b.push(&too_long).err(),
            Some(EncodeError::TooLong { what: "payload" })
        );
        b.finish().unwrap();
        assert_eq!(msg.len(), HEADER_LEN);
        assert_eq!(msg[16], 0);
        let m = Message::decode(&msg).unwrap();
        assert!(m.payloads.is_empty());
    }

    #[test]
    fn nothing_follows_an_encrypted_payload() {
        let mut msg = Vec::new();
        let mut b = MessageBuilder::new(&mut msg, &header());
        b.push(&Payload::Encrypted(Encrypted {
            first_inner: PayloadType::NOTIFY,
            body: Cow::Borrowed(&[1, 2, 3]),
        }))
        .unwrap();
        assert!(b.push(&Payload::Delete(Delete::ike())).is_err());
        b.finish().unwrap();
        let frame = SkFrame::locate(&msg).unwrap().unwrap();
        assert_eq!(frame.first_inner, PayloadType::NOTIFY);
        let mut sk = MessageBuilder::new(&mut msg, &header()).encrypted();
        assert!(
            sk.push(&Payload::Encrypted(Encrypted {
                first_inner: PayloadType::NONE,
                body: Cow::Borrowed(&[])
            }))
            .is_err()
        );
    }

    #[test]
    fn empty_sk_payload() {
        let mut msg = Vec::new();
        let frame = MessageBuilder::new(&mut msg, &header())
            .encrypted()
            .finish()
            .unwrap();
        assert_eq!(frame.first_inner, PayloadType::NONE);
        assert_eq!(msg.len(), 32);
        assert_eq!(SkFrame::locate(&msg).unwrap(), Some(frame));
    }
}
