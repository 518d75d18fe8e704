//! The Key Exchange payload (RFC 7296 §3.4).
//!
//! ```text
//! Diffie-Hellman Group Num (2) | RESERVED (2) | Key Exchange Data (variable)
//! ```

use alloc::borrow::Cow;
use alloc::vec::Vec;

use super::cow_owned;
use super::reader::Reader;
use super::transform::DhGroup;
use crate::error::{EncodeError, InvalidMessage};

/// KE payload: the sender's public value for one key exchange method.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ke<'a> {
    /// Key exchange method the data belongs to.
    pub group: DhGroup,
    /// Public value (MODP: g^x padded to the prime length; ECP: x || y; Curve25519: 32 bytes).
    pub data: Cow<'a, [u8]>,
}

impl<'a> Ke<'a> {
    /// Decodes a KE payload body. The data length is checked against the group by the key
    /// exchange code, not here (an unknown group is not a syntax error).
    ///
    /// # Errors
    /// [`InvalidMessage::Truncated`] if the body is shorter than its 4 fixed bytes.
    pub fn decode(body: &'a [u8]) -> Result<Self, InvalidMessage> {
        let mut r = Reader::new(body);
        let group = DhGroup(r.u16("KE payload")?);
        r.take(2, "KE payload")?;
        Ok(Self {
            group,
            data: Cow::Borrowed(r.take_rest()),
        })
    }

    /// Bytes [`emit`](Self::emit) appends.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        self.data.len().saturating_add(4)
    }

    /// Appends the payload body.
    ///
    /// # Errors
    /// None today; the signature matches the other payloads.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.group.0.to_be_bytes());
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&self.data);
        Ok(())
    }

    /// Copies borrowed bytes so the payload outlives the received message.
    #[must_use]
    pub fn into_owned(self) -> Ke<'static> {
        Ke {
            group: self.group,
            data: cow_owned(self.data),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_emits_and_rejects_truncation() {
        // Start of the KE payload body of the rusticata IKE_SA_INIT request (group 2).
        let body = [0x00, 0x02, 0x00, 0x00, 0xc7, 0x2c, 0x1c, 0xfd];
        let ke = Ke::decode(&body).unwrap();
        assert_eq!(ke.group, DhGroup::MODP_1024);
        assert_eq!(&*ke.data, &[0xc7, 0x2c, 0x1c, 0xfd]);
        let mut out = Vec::new();
        ke.emit(&mut out).unwrap();
        assert_eq!(out, body);
        assert_eq!(ke.buffer_len(), out.len());
        for n in 0..4 {
            assert_eq!(
                Ke::decode(&body[..n]),
                Err(InvalidMessage::Truncated { what: "KE payload" })
            );
        }
        assert!(Ke::decode(&body[..4]).unwrap().data.is_empty());
        assert_eq!(ke.clone().into_owned(), ke);
    }
}
