//! X.509 certificates for IKEv2 authentication (RFC 7296 §3.6–§3.7, RFC 4945, RFC 5280).
//!
//! - [`Certificate::from_der`] parses a DER certificate once into plain data (names, validity,
//!   extensions, the raw to-be-signed bytes); hostile DER gives [`CertError::Malformed`], never a
//!   panic.
//! - [`validate_chain`] builds a path from an end-entity certificate through the intermediates
//!   the peer sent to one of the configured trust anchors, checking every signature with the
//!   provider's [`SignatureVerifier`], validity at the Unix time the caller passes in,
//!   basicConstraints (cA, pathLenConstraint), keyUsage and unknown critical extensions.
//! - [`matches_identity`] matches the peer's ID payload against the subjectAltName (FQDN,
//!   email, IP address) or the subject DN (RFC 4945 §3.1).
//! - [`certreq_authority_hash`] is the CERTREQ/CERT "hash and URL" authority indicator: SHA-1 of
//!   the CA's DER SubjectPublicKeyInfo (RFC 7296 §3.7).
//!
//! Not implemented (deferred): revocation (CRL/OCSP), name constraints (a certificate carrying
//! them critical is refused as an unknown critical extension), policy processing, RSASSA-PSS
//! certificate signatures.

use alloc::vec::Vec;
use core::fmt;

use der::asn1::ObjectIdentifier;
use der::oid::AssociatedOid;
use der::{Decode, Encode, Reader, SliceReader};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, SubjectAltName};

use crate::crypto::{CryptoError, EcdsaEncoding, HashAlgorithm, SignatureAlgorithm, SignatureVerifier};

mod chain;
mod identity;

pub use chain::{MAX_CHAIN_DEPTH, MAX_INTERMEDIATES, MAX_SIGNATURE_CHECKS, validate_chain};
pub use identity::{PeerIdentity, matches_identity};

/// Why a certificate or chain was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertError {
    /// The DER does not parse as an X.509 certificate, or an extension we read is malformed.
    Malformed,
    /// The signature algorithm is not supported (or refused by policy, for example SHA-1).
    UnsupportedSignatureAlgorithm,
    /// A certificate's signature does not verify with its issuer's key.
    BadSignature,
    /// A certificate is not valid yet at the given time.
    NotYetValid,
    /// A certificate has expired at the given time.
    Expired,
    /// No path leads to a configured trust anchor.
    UnknownIssuer,
    /// An issuing certificate lacks basicConstraints with cA = TRUE.
    NotCa,
    /// An issuing certificate's pathLenConstraint is exceeded.
    PathLenExceeded,
    /// keyUsage forbids the use: an issuer without keyCertSign, or an end-entity certificate
    /// without digitalSignature/nonRepudiation (RFC 4945 §5.1.3.2).
    KeyUsage,
    /// A critical extension we do not process (RFC 5280 §4.2).
    UnknownCriticalExtension,
    /// The path would be longer than [`MAX_CHAIN_DEPTH`].
    ChainTooLong,
    /// The certificate does not carry the peer's identity.
    IdentityMismatch,
    /// An ID type that cannot be matched against a certificate (for example ID_KEY_ID).
    UnsupportedIdentityType,
}

impl fmt::Display for CertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Malformed => "malformed certificate",
            Self::UnsupportedSignatureAlgorithm => "unsupported certificate signature algorithm",
            Self::BadSignature => "certificate signature does not verify",
            Self::NotYetValid => "certificate not yet valid",
            Self::Expired => "certificate expired",
            Self::UnknownIssuer => "no path to a trust anchor",
            Self::NotCa => "issuer is not a CA",
            Self::PathLenExceeded => "path length constraint exceeded",
            Self::KeyUsage => "key usage does not allow this use",
            Self::UnknownCriticalExtension => "unknown critical extension",
            Self::ChainTooLong => "certificate chain too long",
            Self::IdentityMismatch => "certificate does not match the peer identity",
            Self::UnsupportedIdentityType => "identity type cannot be matched to a certificate",
        })
    }
}

impl core::error::Error for CertError {}

/// A name from the subjectAltName extension that IKE identities can match.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AltName {
    /// dNSName.
    Dns(Vec<u8>),
    /// rfc822Name (email).
    Email(Vec<u8>),
    /// iPAddress: 4 or 16 bytes.
    Ip(Vec<u8>),
}

/// keyUsage bits we act on (RFC 5280 §4.2.1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyUsageBits {
    /// digitalSignature.
    pub digital_signature: bool,
    /// nonRepudiation (contentCommitment).
    pub non_repudiation: bool,
    /// keyCertSign.
    pub key_cert_sign: bool,
}

/// A parsed X.509 certificate (RFC 5280 §4.1), as plain data.
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
    tbs: Vec<u8>,
    signature: Vec<u8>,
    signature_algorithm: Option<SignatureAlgorithm>,
    spki: Vec<u8>,
    subject: Vec<u8>,
    issuer: Vec<u8>,
    not_before: u64,
    not_after: u64,
    basic_constraints: Option<(bool, Option<u8>)>,
    key_usage: Option<KeyUsageBits>,
    alt_names: Vec<AltName>,
    unknown_critical: bool,
}

const SHA1_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.5");
const SHA256_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const SHA384_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const SHA512_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ECDSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");

/// Extensions we understand well enough to accept when critical.
const KNOWN_CRITICAL: &[ObjectIdentifier] = &[
    BasicConstraints::OID,
    KeyUsage::OID,
    SubjectAltName::OID,
    // extKeyUsage: RFC 4945 §5.1.3.12 says IKE peers should not depend on it; accepted unread.
    ObjectIdentifier::new_unwrap("2.5.29.37"),
];

fn signature_algorithm(oid: ObjectIdentifier) -> Option<SignatureAlgorithm> {
    Some(match oid {
        o if o == SHA1_RSA => SignatureAlgorithm::RsaPkcs1Sha1,
        o if o == SHA256_RSA => SignatureAlgorithm::RsaPkcs1Sha256,
        o if o == SHA384_RSA => SignatureAlgorithm::RsaPkcs1Sha384,
        o if o == SHA512_RSA => SignatureAlgorithm::RsaPkcs1Sha512,
        o if o == ECDSA_SHA256 => SignatureAlgorithm::EcdsaSha256,
        o if o == ECDSA_SHA384 => SignatureAlgorithm::EcdsaSha384,
        o if o == ECDSA_SHA512 => SignatureAlgorithm::EcdsaSha512,
        _ => return None,
    })
}

/// The raw bytes of the first element inside the outer SEQUENCE (the TBSCertificate).
fn raw_tbs(der: &[u8]) -> Result<&[u8], CertError> {
    let mut reader = SliceReader::new(der).map_err(|_| CertError::Malformed)?;
    let header = der::Header::decode(&mut reader).map_err(|_| CertError::Malformed)?;
    if header.tag() != der::Tag::Sequence {
        return Err(CertError::Malformed);
    }
    reader.tlv_bytes().map_err(|_| CertError::Malformed)
}

impl Certificate {
    /// Parses one DER certificate (no trailing bytes).
    ///
    /// # Errors
    /// [`CertError::Malformed`] for anything that is not a well-formed X.509 v1–v3 certificate,
    /// for a duplicated extension (RFC 5280 §4.2) or a malformed extension we read.
    pub fn from_der(der: &[u8]) -> Result<Self, CertError> {
        let cert = x509_cert::Certificate::from_der(der).map_err(|_| CertError::Malformed)?;
        let tbs = cert.tbs_certificate();
        let raw_tbs = raw_tbs(der)?;
        // RFC 5280 §4.1.1.2: the inner and outer algorithm identifiers must match.
        if tbs.signature() != cert.signature_algorithm() {
            return Err(CertError::Malformed);
        }
        let signature_algorithm = signature_algorithm(cert.signature_algorithm().oid);
        let signature = cert.signature().as_bytes().ok_or(CertError::Malformed)?.to_vec();
        let enc = |e: der::Result<Vec<u8>>| e.map_err(|_| CertError::Malformed);
        let spki = enc(tbs.subject_public_key_info().to_der())?;
        let subject = enc(tbs.subject().to_der())?;
        let issuer = enc(tbs.issuer().to_der())?;
        let not_before = tbs.validity().not_before.to_unix_duration().as_secs();
        let not_after = tbs.validity().not_after.to_unix_duration().as_secs();

        let mut out = Self {
            der: der.to_vec(),
            tbs: raw_tbs.to_vec(),
            signature,
            signature_algorithm,
            spki,
            subject,
            issuer,
            not_before,
            not_after,
            basic_constraints: None,
            key_usage: None,
            alt_names: Vec::new(),
            unknown_critical: false,
        };
        let mut seen: Vec<ObjectIdentifier> = Vec::new();
        for ext in tbs.extensions().map(|e| e.as_slice()).unwrap_or_default() {
            if seen.contains(&ext.extn_id) {
                return Err(CertError::Malformed);
            }
            seen.push(ext.extn_id);
            let value = ext.extn_value.as_bytes();
            if ext.extn_id == BasicConstraints::OID {
                let bc = BasicConstraints::from_der(value).map_err(|_| CertError::Malformed)?;
                out.basic_constraints = Some((bc.ca, bc.path_len_constraint));
            } else if ext.extn_id == KeyUsage::OID {
                let ku = KeyUsage::from_der(value).map_err(|_| CertError::Malformed)?;
                out.key_usage = Some(KeyUsageBits {
                    digital_signature: ku.digital_signature(),
                    non_repudiation: ku.non_repudiation(),
                    key_cert_sign: ku.key_cert_sign(),
                });
            } else if ext.extn_id == SubjectAltName::OID {
                let san = SubjectAltName::from_der(value).map_err(|_| CertError::Malformed)?;
                for name in san.0 {
                    match name {
                        GeneralName::DnsName(s) => out.alt_names.push(AltName::Dns(s.as_bytes().to_vec())),
                        GeneralName::Rfc822Name(s) => {
                            out.alt_names.push(AltName::Email(s.as_bytes().to_vec()))
                        }
                        GeneralName::IpAddress(ip) => out.alt_names.push(AltName::Ip(ip.as_bytes().to_vec())),
                        _ => {}
                    }
                }
            } else if ext.critical && !KNOWN_CRITICAL.contains(&ext.extn_id) {
                out.unknown_critical = true;
            }
        }
        Ok(out)
    }

    /// Parses a PEM (RFC 7468) `CERTIFICATE` block.
    ///
    /// # Errors
    /// [`CertError::Malformed`] if the text is not one PEM certificate.
    pub fn from_pem(pem: &[u8]) -> Result<Self, CertError> {
        let (label, der) = der::pem::decode_vec(pem).map_err(|_| CertError::Malformed)?;
        if label != "CERTIFICATE" {
            return Err(CertError::Malformed);
        }
        Self::from_der(&der)
    }

    /// The certificate's DER encoding (for a CERT payload, encoding 4).
    #[must_use]
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// DER SubjectPublicKeyInfo: the key that verifies the peer's AUTH payload.
    #[must_use]
    pub fn subject_public_key_info(&self) -> &[u8] {
        &self.spki
    }

    /// DER subject Name.
    #[must_use]
    pub fn subject_der(&self) -> &[u8] {
        &self.subject
    }

    /// DER issuer Name.
    #[must_use]
    pub fn issuer_der(&self) -> &[u8] {
        &self.issuer
    }

    /// notBefore as Unix seconds.
    #[must_use]
    pub fn not_before(&self) -> u64 {
        self.not_before
    }

    /// notAfter as Unix seconds.
    #[must_use]
    pub fn not_after(&self) -> u64 {
        self.not_after
    }

    /// basicConstraints: `(cA, pathLenConstraint)` if the extension is present.
    #[must_use]
    pub fn basic_constraints(&self) -> Option<(bool, Option<u8>)> {
        self.basic_constraints
    }

    /// The keyUsage bits we act on, if the extension is present.
    #[must_use]
    pub fn key_usage(&self) -> Option<KeyUsageBits> {
        self.key_usage
    }

    /// The subjectAltName entries IKE identities can match.
    #[must_use]
    pub fn alt_names(&self) -> &[AltName] {
        &self.alt_names
    }

    /// The signature algorithm, if supported.
    #[must_use]
    pub fn signature_algorithm(&self) -> Option<SignatureAlgorithm> {
        self.signature_algorithm
    }

    fn check_validity(&self, unix_now: u64) -> Result<(), CertError> {
        if unix_now < self.not_before {
            return Err(CertError::NotYetValid);
        }
        if unix_now > self.not_after {
            return Err(CertError::Expired);
        }
        Ok(())
    }

    /// Verifies that `issuer`'s key signed this certificate.
    fn verify_signed_by(&self, verifier: &dyn SignatureVerifier, issuer: &Self) -> Result<(), CertError> {
        let algorithm = self
            .signature_algorithm
            .ok_or(CertError::UnsupportedSignatureAlgorithm)?;
        verifier
            .verify(
                &issuer.spki,
                algorithm,
                EcdsaEncoding::Der,
                &self.tbs,
                &self.signature,
            )
            .map_err(|e| match e {
                CryptoError::UnsupportedAlgorithm => CertError::UnsupportedSignatureAlgorithm,
                _ => CertError::BadSignature,
            })
    }
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("der_len", &self.der.len())
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .field("basic_constraints", &self.basic_constraints)
            .field("alt_names", &self.alt_names.len())
            .finish_non_exhaustive()
    }
}

/// The CERTREQ certification-authority indicator of `ca`: SHA-1 of its DER SubjectPublicKeyInfo
/// (RFC 7296 §3.7).
///
/// # Errors
/// [`CryptoError::UnsupportedAlgorithm`] if the provider has no SHA-1.
pub fn certreq_authority_hash(
    verifier: &dyn SignatureVerifier,
    ca: &Certificate,
) -> Result<[u8; 20], CryptoError> {
    let digest = verifier.hash(HashAlgorithm::SHA1, &ca.spki)?;
    digest
        .as_slice()
        .try_into()
        .map_err(|_| CryptoError::UnsupportedAlgorithm)
}
