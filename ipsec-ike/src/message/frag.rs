//! The Encrypted Fragment payload "SKF" (RFC 7383 §2.5), splitting a message into fragments and
//! putting the fragments back together.
//!
//! ```text
//! Generic header (Next Payload: first inner payload in fragment 1, else 0)
//! Fragment Number (2) | Total Fragments (2) | IV | ciphertext | ICV
//! ```
//! Every fragment is sealed on its own: [`fragment_message`] produces, per fragment, a message
//! ready for `seal(msg, frame.sk_offset, frame.sk_header_len)`. On receipt each fragment is opened
//! on its own and its plaintext handed to a [`Reassembly`], which yields the whole inner payload
//! chain for [`decode_inner`](super::decode_inner) once every fragment is there.

use alloc::borrow::Cow;
use alloc::vec::Vec;

use super::cow_owned;
use super::header::{HEADER_LEN, Header};
use super::payload::PayloadType;
use super::reader::Reader;
use super::sk::{FragmentInfo, SkFrame};
use crate::error::{EncodeError, InvalidMessage};

/// Length of the SKF header: generic header plus Fragment Number and Total Fragments.
pub const SKF_HEADER_LEN: usize = 8;

/// An SKF payload as received: fragment position and opaque encrypted body.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EncryptedFragment<'a> {
    /// Fragment number, 1..=total.
    pub number: u16,
    /// Total number of fragments.
    pub total: u16,
    /// The Next Payload field: the first inner payload in fragment 1, [`PayloadType::NONE`] in
    /// the others (RFC 7383 §2.5).
    pub first_inner: PayloadType,
    /// IV, ciphertext and ICV.
    pub body: Cow<'a, [u8]>,
}

impl<'a> EncryptedFragment<'a> {
    /// Decodes an SKF payload body whose Next Payload field was `first_inner`.
    ///
    /// # Errors
    /// [`InvalidMessage::Truncated`] without the 4 fragment bytes; [`InvalidMessage::Malformed`]
    /// if the fragment number is 0, the total is 0, or the number exceeds the total
    /// (RFC 7383 §2.5, §2.6.2).
    pub fn decode(first_inner: PayloadType, body: &'a [u8]) -> Result<Self, InvalidMessage> {
        let mut r = Reader::new(body);
        let number = r.u16("SKF fragment fields")?;
        let total = r.u16("SKF fragment fields")?;
        check_position(number, total).map_err(|what| InvalidMessage::Malformed { what })?;
        Ok(Self {
            number,
            total,
            first_inner,
            body: Cow::Borrowed(r.take_rest()),
        })
    }

    /// Bytes [`emit`](Self::emit) appends.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        self.body.len().saturating_add(4)
    }

    /// Appends the body, fragment fields first.
    ///
    /// # Errors
    /// [`EncodeError::Inconsistent`] for a fragment number or total that [`decode`](Self::decode)
    /// would refuse.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        check_position(self.number, self.total).map_err(|what| EncodeError::Inconsistent { what })?;
        out.extend_from_slice(&self.number.to_be_bytes());
        out.extend_from_slice(&self.total.to_be_bytes());
        out.extend_from_slice(&self.body);
        Ok(())
    }

    /// Copies borrowed bytes so the payload outlives the received message.
    #[must_use]
    pub fn into_owned(self) -> EncryptedFragment<'static> {
        EncryptedFragment {
            number: self.number,
            total: self.total,
            first_inner: self.first_inner,
            body: cow_owned(self.body),
        }
    }
}

/// One fragment message built by [`fragment_message`], not sealed yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FragmentMessage {
    /// IKE header, SKF header and this fragment's share of the plaintext.
    pub bytes: Vec<u8>,
    /// Where the SKF payload is, for `seal`.
    pub frame: SkFrame,
}

/// Splits the plaintext inner payload chain of a message into SKF fragment messages
/// (RFC 7383 §2.5), each carrying at most `max_chunk` plaintext bytes.
///
/// `header` is the header of the unfragmented message (same SPIs, exchange type, flags and
/// message ID in every fragment); `first_inner` the type of the first inner payload. The caller
/// derives `max_chunk` from the path MTU minus the IKE/SKF headers, IV, padding and ICV of the
/// negotiated cipher (RFC 7383 §2.5.1).
///
/// # Errors
/// [`EncodeError::Inconsistent`] if `max_chunk` is 0, and [`EncodeError::TooLong`] if more than
/// 65535 fragments would be needed or a fragment payload exceeds 65535 bytes.
pub fn fragment_message(
    header: &Header,
    first_inner: PayloadType,
    plaintext: &[u8],
    max_chunk: usize,
) -> Result<Vec<FragmentMessage>, EncodeError> {
    if max_chunk == 0 {
        return Err(EncodeError::Inconsistent {
            what: "fragment size 0",
        });
    }
    let chunks: Vec<&[u8]> = if plaintext.is_empty() {
        alloc::vec![&[][..]]
    } else {
        plaintext.chunks(max_chunk).collect()
    };
    let total = u16::try_from(chunks.len()).map_err(|_| EncodeError::TooLong {
        what: "fragment count",
    })?;
    let mut out = Vec::with_capacity(chunks.len());
    for (number, chunk) in (1u16..).zip(chunks) {
        let next = if number == 1 {
            first_inner
        } else {
            PayloadType::NONE
        };
        let payload_len = chunk.len().saturating_add(SKF_HEADER_LEN);
        let payload_len16 =
            u16::try_from(payload_len).map_err(|_| EncodeError::TooLong { what: "SKF payload" })?;
        let message_len = u32::try_from(payload_len.saturating_add(HEADER_LEN))
            .map_err(|_| EncodeError::TooLong { what: "message" })?;
        let mut bytes = Vec::with_capacity(usize::try_from(message_len).unwrap_or(0));
        bytes.extend_from_slice(&header.to_bytes(PayloadType::SKF, message_len));
        bytes.extend_from_slice(&[next.0, 0]);
        bytes.extend_from_slice(&payload_len16.to_be_bytes());
        bytes.extend_from_slice(&number.to_be_bytes());
        bytes.extend_from_slice(&total.to_be_bytes());
        bytes.extend_from_slice(chunk);
        let frame = SkFrame {
            sk_offset: HEADER_LEN,
            sk_header_len: SKF_HEADER_LEN,
            first_inner: next,
            fragment: Some(FragmentInfo { number, total }),
        };
        out.push(FragmentMessage { bytes, frame });
    }
    Ok(out)
}

/// Collects the opened fragments of one message (RFC 7383 §2.6.2).
///
/// Feed it the frame and decrypted plaintext of each fragment that passed its integrity check.
/// Duplicates are ignored; a fragment announcing a larger total restarts the collection (the
/// sender re-fragmented with a smaller size), one announcing a smaller total is ignored, one
/// announcing more fragments than the configured limit is refused.
#[derive(Clone, Debug)]
pub struct Reassembly {
    max_fragments: u16,
    total: u16,
    first_inner: Option<PayloadType>,
    parts: Vec<Option<Vec<u8>>>,
    bytes: usize,
}

/// What [`Reassembly::insert`] did with a fragment.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReassemblyStatus {
    /// Stored; more fragments are missing.
    Incomplete,
    /// Already had it, or it belongs to an older fragmentation: ignored.
    Ignored,
    /// Its total exceeds the limit given to [`Reassembly::new`]: ignored, nothing collected
    /// so far is dropped.
    TooManyFragments,
    /// Every fragment is there: the first inner payload type and the whole plaintext chain.
    Complete {
        /// Type of the first inner payload (from fragment 1).
        first_inner: PayloadType,
        /// The concatenated plaintext of all fragments.
        plaintext: Vec<u8>,
    },
}

impl Reassembly {
    /// An empty collection accepting messages of at most `max_fragments` fragments (a memory
    /// bound; RFC 7383 §2.6.2 leaves the number to the implementation).
    #[must_use]
    pub fn new(max_fragments: u16) -> Self {
        Self {
            max_fragments,
            total: 0,
            first_inner: None,
            parts: Vec::new(),
            bytes: 0,
        }
    }

    /// Plaintext bytes held so far (for a caller-side memory limit).
    #[must_use]
    pub fn buffered_bytes(&self) -> usize {
        self.bytes
    }

    /// Adds one opened fragment.
    ///
    /// # Errors
    /// [`InvalidMessage::Malformed`] if `frame` is not an SKF frame.
    pub fn insert(&mut self, frame: &SkFrame, plaintext: &[u8]) -> Result<ReassemblyStatus, InvalidMessage> {
        let info = frame.fragment.ok_or(InvalidMessage::Malformed {
            what: "SK payload given to fragment reassembly",
        })?;
        check_position(info.number, info.total).map_err(|what| InvalidMessage::Malformed { what })?;
        if info.total > self.max_fragments {
            return Ok(ReassemblyStatus::TooManyFragments);
        }
        if info.total < self.total {
            return Ok(ReassemblyStatus::Ignored);
        }
        if info.total > self.total {
            *self = Self {
                total: info.total,
                parts: alloc::vec![None; usize::from(info.total)],
                ..Self::new(self.max_fragments)
            };
        }
        let index = usize::from(info.number.saturating_sub(1));
        let Some(slot) = self.parts.get_mut(index) else {
            return Ok(ReassemblyStatus::Ignored);
        };
        if slot.is_some() {
            return Ok(ReassemblyStatus::Ignored);
        }
        *slot = Some(plaintext.to_vec());
        self.bytes = self.bytes.saturating_add(plaintext.len());
        if info.number == 1 {
            self.first_inner = Some(frame.first_inner);
        }
        if self.parts.iter().any(Option::is_none) {
            return Ok(ReassemblyStatus::Incomplete);
        }
        let first_inner = self.first_inner.unwrap_or(PayloadType::NONE);
        let plaintext = self.parts.iter().flatten().flatten().copied().collect();
        *self = Self::new(self.max_fragments);
        Ok(ReassemblyStatus::Complete {
            first_inner,
            plaintext,
        })
    }
}

fn check_position(number: u16, total: u16) -> Result<(), &'static str> {
    match (number, total) {
        (0, _) => Err("SKF fragment number 0"),
        (_, 0) => Err("SKF total fragments 0"),
        (n, t) if n > t => Err("SKF fragment number above total"),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::header::{ExchangeType, Flags, IkeSpi, MessageId, Version};

    // AOSP IkeSkfPayloadTest: fragment 2 of 2 (AES-CBC + HMAC-SHA256-128), parse only.
    const AOSP_SKF_2_OF_2: &str = "bb3d5237aa558779db24aeb6c9ea183e3520232000000001000001340000011800020002c1471fc7714a3b77a2bfd78dd2df4c048dfed913c5de76cb1f4463ef541df2442b43c65308a47b873502268cc1195f994f6f1a945f56cb342969936af97d79c560c8e0f8bb1a0874ebfb5d0e610b0fcff96d4197c06e7aef07a3a9ae487555bec95c78b87fe6483cbe07e3d132f8594c34db";

    #[test]
    fn parses_a_real_skf_payload() {
        let msg = hex::decode(AOSP_SKF_2_OF_2).unwrap();
        let body = &msg[HEADER_LEN + 4..];
        let f = EncryptedFragment::decode(PayloadType::NONE, body).unwrap();
        assert_eq!((f.number, f.total, f.first_inner), (2, 2, PayloadType::NONE));
        assert_eq!(f.body.len(), body.len() - 4);
        let mut out = Vec::new();
        f.emit(&mut out).unwrap();
        assert_eq!(out, body);
        assert_eq!(f.buffer_len(), body.len());
        for n in 0..4 {
            assert_eq!(
                EncryptedFragment::decode(PayloadType::NONE, &body[..n]),
                Err(InvalidMessage::Truncated {
                    what: "SKF fragment fields"
                })
            );
        }
        assert_eq!(f.clone().into_owned(), f);
    }

    #[test]
    fn fragment_positions_are_checked() {
        for (bytes, what) in [
            ([0, 0, 0, 1], "SKF fragment number 0"),
            ([0, 1, 0, 0], "SKF total fragments 0"),
            ([0, 3, 0, 2], "SKF fragment number above total"),
        ] {
            assert_eq!(
                EncryptedFragment::decode(PayloadType::NONE, &bytes),
                Err(InvalidMessage::Malformed { what })
            );
        }
        let bad = EncryptedFragment {
            number: 0,
            total: 1,
            first_inner: PayloadType::NONE,
            body: Cow::Borrowed(&[]),
        };
        assert!(bad.emit(&mut Vec::new()).is_err());
    }

    fn header() -> Header {
        Header {
            spi_i: IkeSpi([1; 8]),
            spi_r: IkeSpi([2; 8]),
            version: Version::V2_0,
            exchange_type: ExchangeType::IKE_AUTH,
            flags: Flags::new(true, false),
            message_id: MessageId(1),
        }
    }

    #[test]
    fn fragments_and_reassembles() {
        let plain: Vec<u8> = (0u8..=250).collect();
        let frags = fragment_message(&header(), PayloadType::IDI, &plain, 100).unwrap();
        assert_eq!(frags.len(), 3);
        for (i, f) in (0u16..).zip(&frags) {
            let located = SkFrame::locate(&f.bytes).unwrap().unwrap();
            assert_eq!(located, f.frame);
            assert_eq!(
                f.frame.fragment,
                Some(FragmentInfo {
                    number: i + 1,
                    total: 3
                })
            );
            let expect_next = if i == 0 {
                PayloadType::IDI
            } else {
                PayloadType::NONE
            };
            assert_eq!(f.frame.first_inner, expect_next);
        }
        let mut r = Reassembly::new(16);
        let body = |f: &FragmentMessage| f.bytes[f.frame.body_offset()..].to_vec();
        assert_eq!(
            r.insert(&frags[2].frame, &body(&frags[2])).unwrap(),
            ReassemblyStatus::Incomplete
        );
        assert_eq!(
            r.insert(&frags[2].frame, &body(&frags[2])).unwrap(),
            ReassemblyStatus::Ignored
        );
        assert_eq!(
            r.insert(&frags[0].frame, &body(&frags[0])).unwrap(),
            ReassemblyStatus::Incomplete
        );
        assert_eq!(r.buffered_bytes(), 151);
        let done = r.insert(&frags[1].frame, &body(&frags[1])).unwrap();
        assert_eq!(
            done,
            ReassemblyStatus::Complete {
                first_inner: PayloadType::IDI,
                plaintext: plain
            }
        );
        assert_eq!(r.buffered_bytes(), 0);
    }

    #[test]
    fn reassembly_restarts_on_a_larger_total() {
        let plain = [7u8; 40];
        let big = fragment_message(&header(), PayloadType::AUTH, &plain, 20).unwrap();
        let small = fragment_message(&header(), PayloadType::AUTH, &plain, 10).unwrap();
        let body = |f: &FragmentMessage| f.bytes[f.frame.body_offset()..].to_vec();
        let mut r = Reassembly::new(4);
        assert_eq!(
            r.insert(&big[0].frame, &body(&big[0])).unwrap(),
            ReassemblyStatus::Incomplete
        );
        for f in &small[..3] {
            assert_eq!(
                r.insert(&f.frame, &body(f)).unwrap(),
                ReassemblyStatus::Incomplete
            );
        }
        // A fragment of the older, coarser split no longer counts.
        assert_eq!(
            r.insert(&big[1].frame, &body(&big[1])).unwrap(),
            ReassemblyStatus::Ignored
        );
        let done = r.insert(&small[3].frame, &body(&small[3])).unwrap();
        assert_eq!(
            done,
            ReassemblyStatus::Complete {
                first_inner: PayloadType::AUTH,
                plaintext: plain.to_vec()
            }
        );
        let finer = fragment_message(&header(), PayloadType::AUTH, &plain, 5).unwrap();
        let refused = r.insert(&finer[0].frame, &body(&finer[0])).unwrap();
        assert_eq!(refused, ReassemblyStatus::TooManyFragments);
        let sk = SkFrame {
            sk_offset: 28,
            sk_header_len: 4,
            first_inner: PayloadType::NONE,
            fragment: None,
        };
        assert!(r.insert(&sk, &[]).is_err());
        assert!(fragment_message(&header(), PayloadType::AUTH, &plain, 0).is_err());
        assert_eq!(
            fragment_message(&header(), PayloadType::NONE, &[], 10)
                .unwrap()
                .len(),
            1
        );
    }
}
