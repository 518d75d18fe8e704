//! The Authentication payload (RFC 7296 §3.8) and the RFC 7427 signature hash registry.
//!
//! ```text
//! Auth Method (1) | RESERVED (3) | Authentication Data (variable)
//! ```
//! With method 14 (RFC 7427 §3) the data is `ASN.1 Length (1) | AlgorithmIdentifier | Signature`.

use alloc::borrow::Cow;
use alloc::vec::Vec;

use super::cow_owned;
use super::reader::Reader;
use crate::error::{EncodeError, InvalidMessage};

code_point! {
    /// Authentication method (RFC 7296 §3.8, IANA "IKEv2 Authentication Method").
    pub struct AuthMethod(u8);
    /// RSA digital signature, PKCS#1 v1.5 with SHA-1 (RFC 7296).
    RSA_DIGITAL_SIGNATURE = 1,
    /// Shared key message integrity code (RFC 7296 §2.15).
    SHARED_KEY_MIC = 2,
    /// DSS digital signature (RFC 7296).
    DSS_DIGITAL_SIGNATURE = 3,
    /// ECDSA with SHA-256 on P-256 (RFC 4754).
    ECDSA_SHA256_P256 = 9,
    /// ECDSA with SHA-384 on P-384 (RFC 4754).
    ECDSA_SHA384_P384 = 10,
    /// ECDSA with SHA-512 on P-521 (RFC 4754).
    ECDSA_SHA512_P521 = 11,
    /// Generic secure password authentication method (RFC 6467).
    GSPAM = 12,
    /// NULL authentication (RFC 7619).
    NULL_AUTH = 13,
    /// Digital signature with an AlgorithmIdentifier (RFC 7427).
    DIGITAL_SIGNATURE = 14,
}

code_point! {
    /// Hash algorithm for RFC 7427 signatures, listed in SIGNATURE_HASH_ALGORITHMS
    /// (IANA "IKEv2 Hash Algorithms").
    pub struct HashAlgorithm(u16);
    /// SHA-1 (RFC 7427).
    SHA1 = 1,
    /// SHA2-256 (RFC 7427).
    SHA2_256 = 2,
    /// SHA2-384 (RFC 7427).
    SHA2_384 = 3,
    /// SHA2-512 (RFC 7427).
    SHA2_512 = 4,
    /// Identity, for EdDSA (RFC 8420).
    IDENTITY = 5,
    /// Streebog 256 (RFC 9385).
    STREEBOG_256 = 6,
    /// Streebog 512 (RFC 9385).
    STREEBOG_512 = 7,
}

/// AUTH payload body.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Auth<'a> {
    /// Authentication method.
    pub method: AuthMethod,
    /// Authentication data (MIC, signature, or RFC 7427 AlgorithmIdentifier + signature).
    pub data: Cow<'a, [u8]>,
}

impl<'a> Auth<'a> {
    /// For [`AuthMethod::DIGITAL_SIGNATURE`], splits the data into the DER AlgorithmIdentifier and
    /// the signature (RFC 7427 §3). `None` for other methods or a length octet that overruns.
    #[must_use]
    pub fn digital_signature(&self) -> Option<(&[u8], &[u8])> {
        if self.method != AuthMethod::DIGITAL_SIGNATURE {
            return None;
        }
        let (len, rest) = self.data.split_first()?;
        rest.split_at_checked(usize::from(*len))
    }

    /// Decodes an AUTH payload body.
    ///
    /// # Errors
    /// [`InvalidMessage::Truncated`] if the body is shorter than its 4 fixed bytes.
    pub fn decode(body: &'a [u8]) -> Result<Self, InvalidMessage> {
        let mut r = Reader::new(body);
        let [method, _, _, _] = *r.take_array::<4>("AUTH payload")?;
        Ok(Self {
            method: AuthMethod(method),
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
        out.extend_from_slice(&[self.method.0, 0, 0, 0]);
        out.extend_from_slice(&self.data);
        Ok(())
    }

    /// Copies borrowed bytes so the payload outlives the received message.
    #[must_use]
    pub fn into_owned(self) -> Auth<'static> {
        Auth {
            method: self.method,
            data: cow_owned(self.data),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The AOSP RFC 7427 RSA-SHA256 AUTH payload body (ikev2-signatures.json).
    const AOSP_AUTH: &str = "0e0000000f300d06092a864886f70d01010b05006f76af4150d653c5d4136b9f69d905849bf075c563e6d14ccda42361ec3e7d12c72e2dece5711ea1d952f7b8e12c5d982aa4efdaeac36a02b222aa96242cc424";

    #[test]
    fn parses_a_real_rfc7427_auth_payload() {
        let body = hex::decode(AOSP_AUTH).unwrap();
        let auth = Auth::decode(&body).unwrap();
        assert_eq!(auth.method, AuthMethod::DIGITAL_SIGNATURE);
        let (alg, sig) = auth.digital_signature().unwrap();
        assert_eq!(alg, hex::decode("300d06092a864886f70d01010b0500").unwrap());
        assert_eq!(sig.len(), 64);
        assert_eq!(sig, &body[20..]);
        let mut out = Vec::new();
        auth.emit(&mut out).unwrap();
        assert_eq!(out, body);
        assert_eq!(auth.buffer_len(), body.len());
        for n in 0..4 {
            assert_eq!(
                Auth::decode(&body[..n]),
                Err(InvalidMessage::Truncated { what: "AUTH payload" })
            );
        }
        assert_eq!(auth.clone().into_owned(), auth);
    }

    #[test]
    fn digital_signature_split_is_checked() {
        let psk = Auth {
            method: AuthMethod::SHARED_KEY_MIC,
            data: Cow::Borrowed(&[1, 2, 3]),
        };
        assert_eq!(psk.digital_signature(), None);
        let overrun = Auth {
            method: AuthMethod::DIGITAL_SIGNATURE,
            data: Cow::Borrowed(&[5, 1, 2]),
        };
        assert_eq!(overrun.digital_signature(), None);
        let empty = Auth {
            method: AuthMethod::DIGITAL_SIGNATURE,
            data: Cow::Borrowed(&[]),
        };
        assert_eq!(empty.digital_signature(), None);
        assert_eq!(alloc::format!("{:?}", HashAlgorithm::SHA2_256), "SHA2_256");
    }
}
