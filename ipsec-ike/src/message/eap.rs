//! The EAP payload (RFC 7296 §3.16), carried opaquely: the body is one EAP message (RFC 3748)
//! handed to and from an EAP method implementation untouched.

use alloc::borrow::Cow;
use alloc::vec::Vec;

use super::cow_owned;
use crate::error::{EncodeError, InvalidMessage};

/// EAP payload.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Eap<'a> {
    /// The EAP message (Code, Identifier, Length, Type, Data).
    pub message: Cow<'a, [u8]>,
}

impl<'a> Eap<'a> {
    /// Decodes an EAP payload body; its content is not interpreted.
    ///
    /// # Errors
    /// None: the body is opaque. The `Result` matches the other payloads.
    pub fn decode(body: &'a [u8]) -> Result<Self, InvalidMessage> {
        Ok(Self {
            message: Cow::Borrowed(body),
        })
    }

    /// The EAP Code (1 Request, 2 Response, 3 Success, 4 Failure), if the message has one.
    #[must_use]
    pub fn code(&self) -> Option<u8> {
        self.message.first().copied()
    }

    /// Bytes [`emit`](Self::emit) appends.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        self.message.len()
    }

    /// Appends the payload body.
    ///
    /// # Errors
    /// None; see [`decode`](Self::decode).
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.message);
        Ok(())
    }

    /// Copies borrowed bytes so the payload outlives the received message.
    #[must_use]
    pub fn into_owned(self) -> Eap<'static> {
        Eap {
            message: cow_owned(self.message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_the_aosp_eap_request() {
        // The EAP-MSCHAPv2 challenge inside the AOSP 3DES SK vector (decrypted body minus the
        // 4-byte generic header).
        let body =
            hex::decode("013c00241a013c001f10dac4f8b759138776091dd0f00033c5b07374726f6e675377616e").unwrap();
        let e = Eap::decode(&body).unwrap();
        assert_eq!(e.code(), Some(1));
        let mut out = Vec::new();
        e.emit(&mut out).unwrap();
        assert_eq!(out, body);
        assert_eq!(e.buffer_len(), body.len());
        assert_eq!(Eap::decode(&[]).unwrap().code(), None);
        assert_eq!(e.clone().into_owned(), e);
    }
}
