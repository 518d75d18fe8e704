//! Signatures and hashes for AUTH payloads (RFC 7296 §3.8, RFC 4754, RFC 7427) and certificates.
//!
//! Public keys are passed as DER `SubjectPublicKeyInfo` (RFC 5280 §4.1.2.7), which is what a
//! certificate carries and what [`crate::cert::Certificate::subject_public_key_info`] returns.

use alloc::vec::Vec;

use super::{CryptoError, Entropy, HashAlgorithm};

/// A signature algorithm: scheme plus hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-1 (auth method 1, RFC 7296 §3.8); weak.
    RsaPkcs1Sha1,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (sha256WithRSAEncryption).
    RsaPkcs1Sha256,
    /// RSASSA-PKCS1-v1_5 with SHA-384 (sha384WithRSAEncryption).
    RsaPkcs1Sha384,
    /// RSASSA-PKCS1-v1_5 with SHA-512 (sha512WithRSAEncryption).
    RsaPkcs1Sha512,
    /// ECDSA with SHA-256 (the curve is the key's).
    EcdsaSha256,
    /// ECDSA with SHA-384.
    EcdsaSha384,
    /// ECDSA with SHA-512.
    EcdsaSha512,
}

impl SignatureAlgorithm {
    /// The hash this algorithm signs with.
    #[must_use]
    pub const fn hash(self) -> HashAlgorithm {
        match self {
            Self::RsaPkcs1Sha1 => HashAlgorithm::SHA1,
            Self::RsaPkcs1Sha256 | Self::EcdsaSha256 => HashAlgorithm::SHA2_256,
            Self::RsaPkcs1Sha384 | Self::EcdsaSha384 => HashAlgorithm::SHA2_384,
            Self::RsaPkcs1Sha512 | Self::EcdsaSha512 => HashAlgorithm::SHA2_512,
        }
    }

    /// True for the ECDSA algorithms.
    #[must_use]
    pub const fn is_ecdsa(self) -> bool {
        matches!(self, Self::EcdsaSha256 | Self::EcdsaSha384 | Self::EcdsaSha512)
    }
}

/// How an ECDSA signature is encoded (ignored for RSA).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EcdsaEncoding {
    /// r ‖ s, each left-padded to the curve size (RFC 4754 §7, auth methods 9/10).
    Fixed,
    /// DER `Ecdsa-Sig-Value` (RFC 3279 §2.2.3; RFC 7427 §3 and X.509).
    Der,
}

/// The kind of a signing key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyType {
    /// RSA with the given modulus size in bits.
    Rsa {
        /// Modulus size in bits.
        bits: usize,
    },
    /// ECDSA on P-256 (secp256r1).
    EcdsaP256,
    /// ECDSA on P-384 (secp384r1).
    EcdsaP384,
}

/// Verifies signatures and computes hashes.
pub trait SignatureVerifier: Send + Sync {
    /// Verifies `signature` over `message` with the public key `spki_der`.
    ///
    /// # Errors
    /// [`CryptoError::InvalidKey`] if the key does not parse or does not fit `algorithm`;
    /// [`CryptoError::UnsupportedAlgorithm`] if the algorithm is not provided or refused by
    /// policy; [`CryptoError::MalformedSignature`] / [`CryptoError::BadSignature`] otherwise.
    fn verify(
        &self,
        spki_der: &[u8],
        algorithm: SignatureAlgorithm,
        encoding: EcdsaEncoding,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError>;

    /// Hashes `data` with `algorithm`.
    ///
    /// # Errors
    /// [`CryptoError::UnsupportedAlgorithm`] for an unknown hash.
    fn hash(&self, algorithm: HashAlgorithm, data: &[u8]) -> Result<Vec<u8>, CryptoError>;
}

/// A private key that signs AUTH payloads; zeroized on drop.
pub trait SigningKey: Send + Sync {
    /// The key's type.
    fn key_type(&self) -> KeyType;
    /// The matching public key as DER `SubjectPublicKeyInfo`.
    ///
    /// # Errors
    /// [`CryptoError::InvalidKey`] if the key cannot be encoded.
    fn public_key_spki(&self) -> Result<Vec<u8>, CryptoError>;
    /// Signs `message`. RSA uses `rng` for blinding; ECDSA is deterministic (RFC 6979).
    ///
    /// # Errors
    /// [`CryptoError::UnsupportedAlgorithm`] if `algorithm` does not fit the key type or is
    /// refused by policy; [`CryptoError::RandomFailure`] if the generator failed.
    fn sign(
        &self,
        algorithm: SignatureAlgorithm,
        encoding: EcdsaEncoding,
        message: &[u8],
        rng: &mut Entropy,
    ) -> Result<Vec<u8>, CryptoError>;
}
