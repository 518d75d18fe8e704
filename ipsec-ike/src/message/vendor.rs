//! The Vendor ID payload (RFC 7296 §3.12): an opaque identifier, usually a hash.

use alloc::borrow::Cow;
use alloc::vec::Vec;

use super::cow_owned;
use crate::error::{EncodeError, InvalidMessage};

/// Vendor ID payload.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VendorId<'a> {
    /// The vendor's identifier bytes.
    pub data: Cow<'a, [u8]>,
}

impl<'a> VendorId<'a> {
    /// Decodes a Vendor ID payload body (any length, empty included).
    ///
    /// # Errors
    /// None: every body is a valid Vendor ID. The `Result` matches the other payloads.
    pub fn decode(body: &'a [u8]) -> Result<Self, InvalidMessage> {
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
    /// None; see [`decode`](Self::decode).
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.data);
        Ok(())
    }

    /// Copies borrowed bytes so the payload outlives the received message.
    #[must_use]
    pub fn into_owned(self) -> VendorId<'static> {
        VendorId {
            data: cow_owned(self.data),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        // strongSwan's vendor ID is the MD5 of "strongSwan".
        let body = hex::decode("882fe56d6fd20dbc2251613b2ebe5beb").unwrap();
        let v = VendorId::decode(&body).unwrap();
        let mut out = Vec::new();
        v.emit(&mut out).unwrap();
        assert_eq!(out, body);
        assert_eq!(v.buffer_len(), body.len());
        assert_eq!(v.clone().into_owned(), v);
    }
}
