//! Encryption algorithms for the SK payload (RFC 7296 §3.14; RFC 3602 AES-CBC; RFC 5282 AES-GCM;
//! RFC 7634 ChaCha20-Poly1305).

use alloc::boxed::Box;

use super::{CryptoError, EncrId};

/// How a cipher frames the SK payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncrKind {
    /// A block cipher in CBC mode, with a separate integrity algorithm (RFC 7296 §3.14).
    Block {
        /// Cipher block size in bytes; the padded plaintext is a multiple of it.
        block_len: usize,
        /// IV length in bytes (random per message).
        iv_len: usize,
    },
    /// An AEAD cipher with an implicit salt (RFC 5282 §3, RFC 7634 §2).
    Aead {
        /// Length of the explicit IV carried in the message (8).
        iv_len: usize,
        /// Salt length in bytes, taken from the end of the key material (4).
        salt_len: usize,
        /// ICV (tag) length in bytes (16).
        tag_len: usize,
    },
}

/// An encryption algorithm with a fixed key size: a factory for keyed instances.
pub trait Encr: Send + Sync {
    /// The transform ID.
    fn id(&self) -> EncrId;
    /// Key size in bits (the Key Length attribute), without the salt.
    fn key_bits(&self) -> u16;
    /// Length of SK_ei/SK_er (and of the ESP KEYMAT share) in bytes: the key plus, for AEAD, the
    /// salt (RFC 5282 §7.1, RFC 7634 §2).
    fn key_len(&self) -> usize;
    /// The SK payload framing.
    fn kind(&self) -> EncrKind;
    /// Returns an instance keyed with `key` (`key_len()` bytes), with the key schedule done.
    ///
    /// # Errors
    /// [`CryptoError::InvalidKeyLength`] unless `key.len() == self.key_len()`.
    fn key(&self, key: &[u8]) -> Result<Box<dyn EncrKey>, CryptoError>;
}

/// A keyed cipher instance.
pub trait EncrKey: Send + Sync {
    /// The SK payload framing.
    fn kind(&self) -> EncrKind;
    /// Encrypts `buf` in place. CBC: `buf` is a multiple of the block size, `aad` and `tag` are
    /// empty. AEAD: the nonce is salt ‖ `iv`, the tag is written to `tag`.
    ///
    /// # Errors
    /// [`CryptoError::InvalidLength`] for wrong IV, tag or buffer lengths.
    fn encrypt(&self, iv: &[u8], aad: &[u8], buf: &mut [u8], tag: &mut [u8]) -> Result<(), CryptoError>;
    /// Decrypts `buf` in place. AEAD: the tag is verified (in constant time, by the AEAD crate)
    /// before any plaintext is released.
    ///
    /// # Errors
    /// [`CryptoError::IntegrityCheckFailed`] if the AEAD tag is wrong;
    /// [`CryptoError::InvalidLength`] for wrong IV, tag or buffer lengths.
    fn decrypt(&self, iv: &[u8], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> Result<(), CryptoError>;
}
