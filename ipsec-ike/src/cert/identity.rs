//! Matching an IKE identity (RFC 7296 §3.5) against a certificate (RFC 4945 §3.1).

use super::{AltName, CertError, Certificate};

/// A peer identity from an IDi/IDr payload, in the forms a certificate can carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PeerIdentity<'a> {
    /// ID_IPV4_ADDR (1): matched against an iPAddress subjectAltName.
    Ipv4([u8; 4]),
    /// ID_FQDN (2): matched against a dNSName subjectAltName, ASCII case-insensitively.
    Fqdn(&'a [u8]),
    /// ID_RFC822_ADDR (3): matched against an rfc822Name subjectAltName, ASCII
    /// case-insensitively.
    Rfc822(&'a [u8]),
    /// ID_IPV6_ADDR (5): matched against an iPAddress subjectAltName.
    Ipv6([u8; 16]),
    /// ID_DER_ASN1_DN (9): the DER subject Name, compared byte for byte.
    DerAsn1Dn(&'a [u8]),
}

impl<'a> PeerIdentity<'a> {
    /// Builds an identity from an ID payload's ID type and identification data.
    ///
    /// # Errors
    /// [`CertError::UnsupportedIdentityType`] for ID types that cannot be matched against a
    /// certificate (ID_KEY_ID, ID_DER_ASN1_GN, unknown) or a wrong address length.
    pub fn from_id_payload(id_type: u8, data: &'a [u8]) -> Result<Self, CertError> {
        match id_type {
            1 => data
                .try_into()
                .map(Self::Ipv4)
                .map_err(|_| CertError::UnsupportedIdentityType),
            2 => Ok(Self::Fqdn(data)),
            3 => Ok(Self::Rfc822(data)),
            5 => data
                .try_into()
                .map(Self::Ipv6)
                .map_err(|_| CertError::UnsupportedIdentityType),
            9 => Ok(Self::DerAsn1Dn(data)),
            _ => Err(CertError::UnsupportedIdentityType),
        }
    }
}

/// Checks that `cert` carries `identity` (RFC 4945 §3.1: FQDN, email and IP identities only
/// match the subjectAltName; a DN identity matches the subject).
///
/// # Errors
/// [`CertError::IdentityMismatch`] if it does not.
pub fn matches_identity(cert: &Certificate, identity: &PeerIdentity<'_>) -> Result<(), CertError> {
    let found = match identity {
        PeerIdentity::DerAsn1Dn(dn) => cert.subject_der() == *dn,
        PeerIdentity::Fqdn(name) => cert
            .alt_names()
            .iter()
            .any(|a| matches!(a, AltName::Dns(d) if !name.is_empty() && d.eq_ignore_ascii_case(name))),
        PeerIdentity::Rfc822(addr) => cert
            .alt_names()
            .iter()
            .any(|a| matches!(a, AltName::Email(e) if !addr.is_empty() && e.eq_ignore_ascii_case(addr))),
        PeerIdentity::Ipv4(ip) => cert
            .alt_names()
            .iter()
            .any(|a| matches!(a, AltName::Ip(i) if i == ip)),
        PeerIdentity::Ipv6(ip) => cert
            .alt_names()
            .iter()
            .any(|a| matches!(a, AltName::Ip(i) if i == ip)),
    };
    if found {
        Ok(())
    } else {
        Err(CertError::IdentityMismatch)
    }
}
