//! The Certificate and Certificate Request payloads (RFC 7296 §3.6, §3.7).
//!
//! ```text
//! CERT:    Cert Encoding (1) | Certificate Data (variable)
//! CERTREQ: Cert Encoding (1) | Certification Authority (variable; for X.509, concatenated
//!          20-byte SHA-1 hashes of trusted CAs' SubjectPublicKeyInfo)
//! ```

use alloc::borrow::Cow;
use alloc::vec::Vec;

use super::cow_owned;
use super::reader::Reader;
use crate::error::{EncodeError, InvalidMessage};

code_point! {
    /// Certificate encoding (RFC 7296 §3.6, IANA "IKEv2 Certificate Encodings").
    pub struct CertEncoding(u8);
    /// PKCS #7 wrapped X.509 certificate.
    PKCS7_WRAPPED_X509 = 1,
    /// PGP certificate.
    PGP = 2,
    /// DNS signed key.
    DNS_SIGNED_KEY = 3,
    /// X.509 certificate, signature (DER).
    X509_SIGNATURE = 4,
    /// Kerberos token.
    KERBEROS_TOKEN = 6,
    /// Certificate revocation list (CRL).
    CRL = 7,
    /// Authority revocation list (ARL).
    ARL = 8,
    /// SPKI certificate.
    SPKI = 9,
    /// X.509 certificate, attribute.
    X509_ATTRIBUTE = 10,
    /// Raw RSA key (deprecated).
    RAW_RSA_KEY = 11,
    /// Hash and URL of X.509 certificate.
    HASH_URL_X509_CERT = 12,
    /// Hash and URL of X.509 bundle.
    HASH_URL_X509_BUNDLE = 13,
    /// OCSP content (RFC 4806).
    OCSP_CONTENT = 14,
    /// Raw public key (RFC 7670).
    RAW_PUBLIC_KEY = 15,
}

/// Length of one CA hash in an X.509 CERTREQ (SHA-1, RFC 7296 §3.7).
pub const CA_HASH_LEN: usize = 20;

/// CERT payload body.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Cert<'a> {
    /// Encoding of `data`.
    pub encoding: CertEncoding,
    /// The certificate (DER for [`CertEncoding::X509_SIGNATURE`]), CRL, or other object.
    pub data: Cow<'a, [u8]>,
}

/// CERTREQ payload body.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CertReq<'a> {
    /// Encoding of the certificates asked for.
    pub encoding: CertEncoding,
    /// Certification authorities: for X.509, concatenated 20-byte SHA-1 hashes.
    pub authorities: Cow<'a, [u8]>,
}

impl<'a> Cert<'a> {
    /// Decodes a CERT payload body.
    ///
    /// # Errors
    /// [`InvalidMessage::Truncated`] if the body has no encoding byte.
    pub fn decode(body: &'a [u8]) -> Result<Self, InvalidMessage> {
        let (encoding, data) = split_encoding(body, "CERT payload")?;
        Ok(Self { encoding, data })
    }

    /// Bytes [`emit`](Self::emit) appends.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        self.data.len().saturating_add(1)
    }

    /// Appends the payload body.
    ///
    /// # Errors
    /// None today; the signature matches the other payloads.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.push(self.encoding.0);
        out.extend_from_slice(&self.data);
        Ok(())
    }

    /// Copies borrowed bytes so the payload outlives the received message.
    #[must_use]
    pub fn into_owned(self) -> Cert<'static> {
        Cert {
            encoding: self.encoding,
            data: cow_owned(self.data),
        }
    }
}

impl<'a> CertReq<'a> {
    /// The 20-byte CA hashes of an X.509 request, or `None` for another encoding or a length that
    /// is not a multiple of 20.
    #[must_use]
    pub fn ca_hashes(&self) -> Option<impl Iterator<Item = &[u8]>> {
        let chunks = self.authorities.chunks_exact(CA_HASH_LEN);
        (self.encoding == CertEncoding::X509_SIGNATURE && chunks.remainder().is_empty()).then_some(chunks)
    }

    /// Decodes a CERTREQ payload body.
    ///
    /// # Errors
    /// [`InvalidMessage::Truncated`] if the body has no encoding byte.
    pub fn decode(body: &'a [u8]) -> Result<Self, InvalidMessage> {
        let (encoding, authorities) = split_encoding(body, "CERTREQ payload")?;
        Ok(Self {
            encoding,
            authorities,
        })
    }

    /// Bytes [`emit`](Self::emit) appends.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        self.authorities.len().saturating_add(1)
    }

    /// Appends the payload body.
    ///
    /// # Errors
    /// None today; the signature matches the other payloads.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.push(self.encoding.0);
        out.extend_from_slice(&self.authorities);
        Ok(())
    }

    /// Copies borrowed bytes so the payload outlives the received message.
    #[must_use]
    pub fn into_owned(self) -> CertReq<'static> {
        CertReq {
            encoding: self.encoding,
            authorities: cow_owned(self.authorities),
        }
    }
}

fn split_encoding<'a>(
    body: &'a [u8],
    what: &'static str,
) -> Result<(CertEncoding, Cow<'a, [u8]>), InvalidMessage> {
    let mut r = Reader::new(body);
    let encoding = CertEncoding(r.u8(what)?);
    Ok((encoding, Cow::Borrowed(r.take_rest())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_rusticata_certreq() {
        // CERTREQ body from the rusticata IKE_SA_INIT response: X.509, one CA hash.
        let body = hex::decode("04447641e5268ad6a4bc5b982460aa0c66103c05c3").unwrap();
        let req = CertReq::decode(&body).unwrap();
        assert_eq!(req.encoding, CertEncoding::X509_SIGNATURE);
        let hashes: Vec<_> = req.ca_hashes().unwrap().collect();
        assert_eq!(hashes.len(), 1);
        assert_eq!(hashes[0], &body[1..]);
        let mut out = Vec::new();
        req.emit(&mut out).unwrap();
        assert_eq!(out, body);
        assert_eq!(req.buffer_len(), body.len());
        assert_eq!(
            CertReq::decode(&[]),
            Err(InvalidMessage::Truncated {
                what: "CERTREQ payload"
            })
        );
        let odd = CertReq {
            encoding: CertEncoding::X509_SIGNATURE,
            authorities: Cow::Borrowed(&body[2..]),
        };
        assert!(odd.ca_hashes().is_none());
        assert_eq!(req.clone().into_owned(), req);
    }

    #[test]
    fn cert_round_trips_and_rejects_empty() {
        let body = [4u8, 0x30, 0x82, 0x01, 0x00];
        let c = Cert::decode(&body).unwrap();
        assert_eq!(c.encoding, CertEncoding::X509_SIGNATURE);
        assert_eq!(&*c.data, &body[1..]);
        let mut out = Vec::new();
        c.emit(&mut out).unwrap();
        assert_eq!(out, body);
        assert_eq!(c.buffer_len(), body.len());
        assert_eq!(
            Cert::decode(&[]),
            Err(InvalidMessage::Truncated { what: "CERT payload" })
        );
        assert_eq!(c.clone().into_owned(), c);
    }
}
