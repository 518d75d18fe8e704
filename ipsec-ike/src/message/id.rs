//! The Identification payloads IDi and IDr (RFC 7296 §3.5).
//!
//! ```text
//! ID Type (1) | RESERVED (3) | Identification Data (variable)
//! ```
//! The data is kept as bytes for every ID type; typed accessors read the common ones. The AUTH
//! computation (RFC 7296 §2.15) signs the body exactly as [`Id::emit`] writes it.

use alloc::borrow::Cow;
use alloc::vec::Vec;
use core::net::{Ipv4Addr, Ipv6Addr};

use super::cow_owned;
use super::reader::Reader;
use crate::error::{EncodeError, InvalidMessage};

code_point! {
    /// Identification type (RFC 7296 §3.5, IANA "IKEv2 Identification Payload ID Types").
    pub struct IdType(u8);
    /// A single IPv4 address, 4 bytes.
    ID_IPV4_ADDR = 1,
    /// A fully qualified domain name, ASCII without terminator.
    ID_FQDN = 2,
    /// An RFC 822 email address, ASCII without terminator.
    ID_RFC822_ADDR = 3,
    /// A single IPv6 address, 16 bytes.
    ID_IPV6_ADDR = 5,
    /// A DER-encoded X.500 Distinguished Name.
    ID_DER_ASN1_DN = 9,
    /// A DER-encoded X.509 GeneralName.
    ID_DER_ASN1_GN = 10,
    /// An opaque octet stream for vendor-specific information.
    ID_KEY_ID = 11,
    /// RFC 4595 (Fibre Channel name).
    ID_FC_NAME = 12,
    /// RFC 7619 (NULL authentication), empty data.
    ID_NULL = 13,
}

/// IDi or IDr payload body.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Id<'a> {
    /// Identification type.
    pub id_type: IdType,
    /// Identification data, as sent.
    pub data: Cow<'a, [u8]>,
}

impl<'a> Id<'a> {
    /// An ID_IPV4_ADDR identity.
    #[must_use]
    pub fn ipv4(addr: Ipv4Addr) -> Id<'static> {
        Id {
            id_type: IdType::ID_IPV4_ADDR,
            data: Cow::Owned(addr.octets().to_vec()),
        }
    }

    /// An ID_IPV6_ADDR identity.
    #[must_use]
    pub fn ipv6(addr: Ipv6Addr) -> Id<'static> {
        Id {
            id_type: IdType::ID_IPV6_ADDR,
            data: Cow::Owned(addr.octets().to_vec()),
        }
    }

    /// An ID_FQDN identity.
    #[must_use]
    pub fn fqdn(name: &'a str) -> Self {
        Self {
            id_type: IdType::ID_FQDN,
            data: Cow::Borrowed(name.as_bytes()),
        }
    }

    /// An ID_RFC822_ADDR identity.
    #[must_use]
    pub fn rfc822(addr: &'a str) -> Self {
        Self {
            id_type: IdType::ID_RFC822_ADDR,
            data: Cow::Borrowed(addr.as_bytes()),
        }
    }

    /// The address of an ID_IPV4_ADDR identity whose data is 4 bytes.
    #[must_use]
    pub fn as_ipv4(&self) -> Option<Ipv4Addr> {
        let octets: [u8; 4] = self.data.as_ref().try_into().ok()?;
        (self.id_type == IdType::ID_IPV4_ADDR).then(|| Ipv4Addr::from(octets))
    }

    /// The address of an ID_IPV6_ADDR identity whose data is 16 bytes.
    #[must_use]
    pub fn as_ipv6(&self) -> Option<Ipv6Addr> {
        let octets: [u8; 16] = self.data.as_ref().try_into().ok()?;
        (self.id_type == IdType::ID_IPV6_ADDR).then(|| Ipv6Addr::from(octets))
    }

    /// The name of an ID_FQDN identity, if it is printable ASCII.
    #[must_use]
    pub fn as_fqdn(&self) -> Option<&str> {
        self.ascii_of(IdType::ID_FQDN)
    }

    /// The address of an ID_RFC822_ADDR identity, if it is printable ASCII.
    #[must_use]
    pub fn as_rfc822(&self) -> Option<&str> {
        self.ascii_of(IdType::ID_RFC822_ADDR)
    }

    /// Decodes an ID payload body.
    ///
    /// # Errors
    /// [`InvalidMessage::Truncated`] if the body is shorter than its 4 fixed bytes.
    pub fn decode(body: &'a [u8]) -> Result<Self, InvalidMessage> {
        let mut r = Reader::new(body);
        let [ty, _, _, _] = *r.take_array::<4>("ID payload")?;
        Ok(Self {
            id_type: IdType(ty),
            data: Cow::Borrowed(r.take_rest()),
        })
    }

    /// Bytes [`emit`](Self::emit) appends.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        self.data.len().saturating_add(4)
    }

    /// Appends the payload body (the "RestOfIDPayload" that AUTH signs, RFC 7296 §2.15).
    ///
    /// # Errors
    /// None today; the signature matches the other payloads.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&[self.id_type.0, 0, 0, 0]);
        out.extend_from_slice(&self.data);
        Ok(())
    }

    /// Copies borrowed bytes so the payload outlives the received message.
    #[must_use]
    pub fn into_owned(self) -> Id<'static> {
        Id {
            id_type: self.id_type,
            data: cow_owned(self.data),
        }
    }

    fn ascii_of(&self, ty: IdType) -> Option<&str> {
        if self.id_type != ty || !self.data.iter().all(|b| b.is_ascii_graphic()) {
            return None;
        }
        core::str::from_utf8(&self.data).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_aosp_idr_and_emits_identically() {
        // IDr body from the AOSP RSA AUTH vector (ikev2-signatures.json): ID_IPV4_ADDR 192.168.43.138.
        let body = [0x01, 0x00, 0x00, 0x00, 0xc0, 0xa8, 0x2b, 0x8a];
        let id = Id::decode(&body).unwrap();
        assert_eq!(id.id_type, IdType::ID_IPV4_ADDR);
        assert_eq!(id.as_ipv4(), Some(Ipv4Addr::new(192, 168, 43, 138)));
        assert_eq!(id.as_ipv6(), None);
        assert_eq!(id.as_fqdn(), None);
        let mut out = Vec::new();
        id.emit(&mut out).unwrap();
        assert_eq!(out, body);
        assert_eq!(id.buffer_len(), out.len());
        assert_eq!(id, Id::ipv4(Ipv4Addr::new(192, 168, 43, 138)));
        for n in 0..4 {
            assert_eq!(
                Id::decode(&body[..n]),
                Err(InvalidMessage::Truncated { what: "ID payload" })
            );
        }
        // Four bytes of data with the wrong type are not an IPv4 address.
        let wrong = Id {
            id_type: IdType::ID_KEY_ID,
            data: Cow::Borrowed(&body[4..]),
        };
        assert_eq!(wrong.as_ipv4(), None);
    }

    #[test]
    fn typed_accessors() {
        let f = Id::fqdn("vpn.example.org");
        assert_eq!(f.as_fqdn(), Some("vpn.example.org"));
        assert_eq!(f.as_rfc822(), None);
        let e = Id::rfc822("alice@example.org");
        assert_eq!(e.as_rfc822(), Some("alice@example.org"));
        let bad = Id {
            id_type: IdType::ID_FQDN,
            data: Cow::Borrowed(b"a b"),
        };
        assert_eq!(bad.as_fqdn(), None);
        let v6 = Id::ipv6(Ipv6Addr::LOCALHOST);
        assert_eq!(v6.as_ipv6(), Some(Ipv6Addr::LOCALHOST));
        let mut out = Vec::new();
        v6.emit(&mut out).unwrap();
        assert_eq!(Id::decode(&out).unwrap(), v6);
        assert_eq!(alloc::format!("{:?}", IdType::ID_DER_ASN1_DN), "ID_DER_ASN1_DN");
        assert_eq!(f.clone().into_owned(), f);
    }
}
