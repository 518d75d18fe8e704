//! The IKEv2 cryptographic suite behind a provider trait (RFC 7296 §2.13–§2.15, §3.3.2, §3.14).
//!
//! # The provider
//! Every algorithm the IKE engine uses is looked up through a [`CryptoProvider`] chosen by the user
//! and set in the endpoint configuration; there is no process-wide default. Lookups return trait
//! objects (`&dyn Prf`, `&dyn Integ`, `&dyn Encr`, `&dyn KeyExchange`, `&dyn SignatureVerifier`):
//! the control plane is not hot enough for static dispatch to matter, and trait objects keep the
//! engine free of generic parameters. A lookup that returns `None` means "not offered": the
//! engine then treats the transform as unsupported during proposal selection.
//!
//! The algorithm objects are *factories*: `Prf::key`, `Integ::key` and `Encr::key` return a keyed
//! instance that holds the precomputed state (HMAC inner/outer pads, AES round keys), so that the
//! per-message cost is only the cipher work itself.
//!
//! `rustcrypto::RustCrypto` (feature `rustcrypto`, on by default) is the pure-Rust default.
//! Weak algorithms (MODP-1024, HMAC-SHA1 as PRF or integrity) are refused unless the caller builds
//! the provider with `rustcrypto::Options` that say so at run time; a Cargo feature never turns
//! them on (STYLE §4.8). [`WeakAlgorithm::is_weak`] lets the engine raise a warning event when a
//! weak algorithm is negotiated. The code points are the codec's registry types
//! ([`crate::message`]), re-exported here.
//!
//! # SK payload protection (the byte-level contract with the codec)
//! [`sk::SkKey`] protects one direction of an IKE SA:
//! - `seal(&mut self, msg: &mut Vec<u8>, sk_offset, sk_header_len, rng: &mut Entropy)`: `msg`
//!   holds `[IKE header (28)][payloads ...][SK (4) or SKF (8) generic header at sk_offset]
//!   [plaintext inner payloads to the end]`. `seal` inserts the IV after the SK/SKF header, pads
//!   (RFC 7296 §3.14), encrypts, appends the ICV and patches the SK payload length
//!   (`sk_offset+2..+4`) and the IKE header length (bytes 24..28). For AEAD the AAD is every byte
//!   from the start of the IKE header to the end of the SK/SKF header, after the lengths are
//!   patched (RFC 5282 §5.1, RFC 7383 §2.5). `seal` takes `&mut self` because AEAD IVs are a
//!   per-key counter that must never repeat (RFC 5282 §3.1; it starts at a random 63-bit value
//!   drawn from `rng`); CBC IVs come from `rng`.
//! - `open(&self, msg: &mut [u8], sk_offset, sk_header_len) -> Range<usize>`: checks that the
//!   SK payload length field and the IKE header length match the buffer, verifies the ICV (over the
//!   whole message minus the ICV for CBC + HMAC) or the AEAD tag in constant time **before**
//!   anything is decrypted, decrypts in place, checks the pad length and returns the byte range
//!   of the inner payloads. On error nothing is claimed as plaintext and `msg` holds unspecified
//!   bytes.
//!
//! # Randomness
//! Entropy enters only as a rand_core 0.10 `TryCryptoRng`, wrapped at once in our [`Entropy`]
//! type; no other public signature names rand_core.
//!
//! # Secrets
//! Keys, shared secrets and private values live in [`SecretBytes`] or in the RustCrypto types
//! with their `zeroize` features on; `Debug` prints lengths only.

use alloc::boxed::Box;
use core::fmt;

mod entropy;
mod ids;
mod secret;

pub mod auth;
pub mod encr;
pub mod integ;
pub mod kex;
pub mod prf;
#[cfg(feature = "rustcrypto")]
pub mod rustcrypto;
pub mod sig;
pub mod sk;

pub use entropy::Entropy;
pub use ids::{AuthMethod, DhGroup, EncrId, HashAlgorithm, IntegId, PrfId, WeakAlgorithm};
pub use secret::SecretBytes;

pub use encr::{Encr, EncrKey, EncrKind};
pub use integ::{Integ, IntegKey};
pub use kex::{KeyExchange, KeyExchangeSecret};
pub use prf::{Prf, PrfKey};
pub use sig::{EcdsaEncoding, KeyType, SignatureAlgorithm, SignatureVerifier, SigningKey};

/// A source of every IKEv2 cryptographic algorithm (STYLE §2; rustls-style provider).
///
/// Implementations must be cheap to query: the engine looks algorithms up per IKE SA.
pub trait CryptoProvider: Send + Sync {
    /// The encryption algorithm `id` with key size `key_bits` (the Key Length attribute, RFC 7296
    /// §3.3.5; `None` for algorithms with a fixed key size).
    fn encr(&self, id: EncrId, key_bits: Option<u16>) -> Option<&dyn Encr>;
    /// The pseudorandom function `id` (RFC 7296 §3.3.2, transform type 2).
    fn prf(&self, id: PrfId) -> Option<&dyn Prf>;
    /// The integrity algorithm `id` (transform type 3).
    fn integ(&self, id: IntegId) -> Option<&dyn Integ>;
    /// The key exchange method `group` (transform type 4).
    fn key_exchange(&self, group: DhGroup) -> Option<&dyn KeyExchange>;
    /// Signature verification and hashing for AUTH payloads and certificates.
    fn signatures(&self) -> &dyn SignatureVerifier;
    /// Loads a private key for signing AUTH payloads from PKCS#8 DER (RFC 5208/5958), or
    /// from a PKCS#1 `RSAPrivateKey` / SEC1 `ECPrivateKey` DER structure.
    ///
    /// # Errors
    /// [`CryptoError::InvalidKey`] if the bytes are no supported key;
    /// [`CryptoError::UnsupportedAlgorithm`] for a key type this provider cannot sign with.
    fn signing_key(&self, der: &[u8]) -> Result<Box<dyn SigningKey>, CryptoError>;
}

/// Errors of the cryptographic suite. None of them carries secret bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CryptoError {
    /// The algorithm (or algorithm/key combination) is not provided, or refused by policy.
    UnsupportedAlgorithm,
    /// A key has the wrong length for its algorithm.
    InvalidKeyLength,
    /// A private or public key could not be decoded or is not usable.
    InvalidKey,
    /// An output or input buffer has the wrong length for the operation.
    InvalidLength {
        /// What had the wrong length.
        what: &'static str,
    },
    /// The ICV or AEAD tag did not verify (RFC 7296 §2.21: drop silently).
    IntegrityCheckFailed,
    /// The decrypted pad length does not fit in the ciphertext (RFC 7296 §3.14).
    BadPadding,
    /// The bytes handed to SK protection do not have the framing the contract requires.
    Malformed {
        /// Which part of the framing is wrong.
        what: &'static str,
    },
    /// A message would grow past the 16-bit payload or 32-bit message length fields.
    TooLong,
    /// A peer's key exchange value is invalid: wrong length, 0, 1, p−1, ≥ p, not on the curve
    /// (RFC 7296 §3.4, RFC 5903 §9, RFC 8031 §2.3).
    InvalidPublicValue,
    /// The key exchange produced an all-zero (non-contributory) shared secret (RFC 8031 §2.3).
    WeakSharedSecret,
    /// A signature did not verify.
    BadSignature,
    /// A signature or an AUTH payload's algorithm identifier is malformed.
    MalformedSignature,
    /// The AUTH value did not match (shared-key MIC, RFC 7296 §2.15).
    AuthenticationFailed,
    /// The injected random number generator failed.
    RandomFailure,
    /// The AEAD IV counter for this key is exhausted; rekey the IKE SA.
    IvExhausted,
    /// prf+ was asked for more than 255 blocks (RFC 7296 §2.13).
    PrfPlusTooLong,
}

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnsupportedAlgorithm => f.write_str("algorithm not supported or not allowed"),
            Self::InvalidKeyLength => f.write_str("invalid key length"),
            Self::InvalidKey => f.write_str("invalid or unusable key"),
            Self::InvalidLength { what } => write!(f, "invalid length: {what}"),
            Self::IntegrityCheckFailed => f.write_str("integrity check failed"),
            Self::BadPadding => f.write_str("bad padding"),
            Self::Malformed { what } => write!(f, "malformed encrypted payload: {what}"),
            Self::TooLong => f.write_str("message too long"),
            Self::InvalidPublicValue => f.write_str("invalid key exchange public value"),
            Self::WeakSharedSecret => f.write_str("all-zero key exchange shared secret"),
            Self::BadSignature => f.write_str("signature verification failed"),
            Self::MalformedSignature => f.write_str("malformed signature"),
            Self::AuthenticationFailed => f.write_str("AUTH value mismatch"),
            Self::RandomFailure => f.write_str("random number generator failed"),
            Self::IvExhausted => f.write_str("IV counter exhausted"),
            Self::PrfPlusTooLong => f.write_str("prf+ output longer than 255 blocks"),
        }
    }
}

impl core::error::Error for CryptoError {}
