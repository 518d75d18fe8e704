//! The Nonce payload (RFC 7296 §3.9).
//!
//! The body is the nonce itself, which RFC 7296 §3.9 bounds to 16..=256 bytes; a nonce outside
//! those bounds is a syntax error (strongSwan and Libreswan refuse it the same way).

use alloc::borrow::Cow;
use alloc::vec::Vec;

use super::cow_owned;
use crate::error::{EncodeError, InvalidMessage};

/// Smallest nonce RFC 7296 §3.9 allows, in bytes.
pub const NONCE_MIN_LEN: usize = 16;
/// Largest nonce RFC 7296 §3.9 allows, in bytes.
pub const NONCE_MAX_LEN: usize = 256;

/// Nonce payload (Ni, Nr).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Nonce<'a> {
    /// Nonce bytes, 16..=256 of them.
    pub data: Cow<'a, [u8]>,
}

impl<'a> Nonce<'a> {
    /// Decodes a Nonce payload body.
    ///
    /// # Errors
    /// [`InvalidMessage::BadLength`] if the nonce is shorter than 16 or longer than 256 bytes.
    pub fn decode(body: &'a [u8]) -> Result<Self, InvalidMessage> {
        check_len(body.len()).map_err(|()| InvalidMessage::BadLength {
            what: "Nonce (16..=256 bytes)",
        })?;
        Ok(Self {
            data: Cow::Borrowed(body),
        })
    }

    /// Bytes [`emit`](Self::emit) appends.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        self.data.len()
    }

    /// Appends the payload body.
    ///
    /// # Errors
    /// [`EncodeError::Inconsistent`] if the nonce is outside 16..=256 bytes.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        check_len(self.data.len()).map_err(|()| EncodeError::Inconsistent {
            what: "Nonce (16..=256 bytes)",
        })?;
        out.extend_from_slice(&self.data);
        Ok(())
    }

    /// Copies borrowed bytes so the payload outlives the received message.
    #[must_use]
    pub fn into_owned(self) -> Nonce<'static> {
        Nonce {
            data: cow_owned(self.data),
        }
    }
}

fn check_len(len: usize) -> Result<(), ()> {
    if (NONCE_MIN_LEN..=NONCE_MAX_LEN).contains(&len) {
        Ok(())
    } else {
        Err(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_emits_and_bounds_length() {
        // Nonce body of the rusticata IKE_SA_INIT request (32 bytes).
        let body = hex::decode("4b98c2d7d3d81e9f52b0ca4e0545817d94560249583970190d97e44002ce1752").unwrap();
        let n = Nonce::decode(&body).unwrap();
        assert_eq!(&*n.data, &body[..]);
        let mut out = Vec::new();
        n.emit(&mut out).unwrap();
        assert_eq!(out, body);
        assert_eq!(n.buffer_len(), 32);
        for len in [0, 1, 15, 257] {
            let e = InvalidMessage::BadLength {
                what: "Nonce (16..=256 bytes)",
            };
            assert_eq!(Nonce::decode(&alloc::vec![0; len]), Err(e));
            assert!(
                Nonce {
                    data: Cow::Owned(alloc::vec![0; len])
                }
                .emit(&mut Vec::new())
                .is_err()
            );
        }
        assert!(Nonce::decode(&[0; 16]).is_ok() && Nonce::decode(&[0; 256]).is_ok());
        assert_eq!(n.clone().into_owned(), n);
    }
}
