//! Data-path transforms: the algorithms an SA can use, its key material, and the provider traits
//! through which ESP and AH reach a crypto implementation.
//!
//! Dispatch is static: a [`TransformProvider`] names one cipher type and one MAC type (typically enums
//! over every algorithm it supports), and the SAD stores those inline. The default provider is
//! [`RustCrypto`] (feature `rustcrypto`); a user can plug in another (hardware engine, ring, ...) by
//! implementing the traits.
//!
//! The ESP cipher works on the whole ESP packet in place (`[header][IV][body][ICV]`), so an
//! implementation may feed contiguous regions to its primitive without copies.

// Key and block sizes are small constants.
#![allow(clippy::arithmetic_side_effects)]

#[cfg(feature = "rustcrypto")]
mod rustcrypto;

#[cfg(feature = "rustcrypto")]
pub use rustcrypto::{RustCrypto, RustCryptoCipher, RustCryptoMac, RustCryptoMacState};

use core::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

/// AES key sizes.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AesKeyLen {
    /// 128-bit key.
    Aes128,
    /// 192-bit key.
    Aes192,
    /// 256-bit key.
    Aes256,
}

impl AesKeyLen {
    /// Key length in bytes.
    #[must_use]
    pub const fn bytes(self) -> usize {
        match self {
            AesKeyLen::Aes128 => 16,
            AesKeyLen::Aes192 => 24,
            AesKeyLen::Aes256 => 32,
        }
    }
}

/// Integrity algorithms for ESP (with a non-AEAD cipher) and AH: HMAC-SHA-2 truncated to half the hash
/// length (RFC 4868).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Integrity {
    /// AUTH_HMAC_SHA2_256_128 (IKEv2 transform 12): 32-byte key, 16-byte ICV.
    HmacSha256_128,
    /// AUTH_HMAC_SHA2_384_192 (IKEv2 transform 13): 48-byte key, 24-byte ICV.
    HmacSha384_192,
    /// AUTH_HMAC_SHA2_512_256 (IKEv2 transform 14): 64-byte key, 32-byte ICV.
    HmacSha512_256,
}

impl Integrity {
    /// Key length in bytes (RFC 4868 §2.1.1: the hash output length).
    #[must_use]
    pub const fn key_len(self) -> usize {
        match self {
            Integrity::HmacSha256_128 => 32,
            Integrity::HmacSha384_192 => 48,
            Integrity::HmacSha512_256 => 64,
        }
    }
    /// ICV length in bytes.
    #[must_use]
    pub const fn icv_len(self) -> usize {
        self.key_len() / 2
    }
}

/// An ESP transform: the encryption algorithm and, for non-AEAD ciphers, the integrity algorithm.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EspAlgorithm {
    /// AES-GCM with a 16-byte ICV (RFC 4106): key followed by a 4-byte salt; 8-byte IV.
    AesGcm16(AesKeyLen),
    /// ChaCha20-Poly1305 (RFC 7634): 32-byte key followed by a 4-byte salt; 8-byte IV.
    ChaCha20Poly1305,
    /// AES-GMAC, integrity only (RFC 4543, ENCR_NULL_AUTH_AES_GMAC): key and 4-byte salt; 8-byte IV.
    /// Not available with extended sequence numbers (see [`crate::sa::SaParams`]).
    AesGmac(AesKeyLen),
    /// AES-CBC (RFC 3602) with HMAC-SHA-2 (RFC 4868): encryption key, then integrity key; 16-byte IV.
    AesCbc(AesKeyLen, Integrity),
    /// NULL encryption (RFC 2410) with HMAC-SHA-2: the integrity key only.
    Null(Integrity),
}

impl EspAlgorithm {
    /// Bytes of key material the algorithm takes (RFC 7296 §2.17: encryption key first, then
    /// integrity key; AEAD keys include the salt).
    #[must_use]
    pub const fn key_material_len(self) -> usize {
        match self {
            EspAlgorithm::AesGcm16(k) | EspAlgorithm::AesGmac(k) => k.bytes() + 4,
            EspAlgorithm::ChaCha20Poly1305 => 36,
            EspAlgorithm::AesCbc(k, i) => k.bytes() + i.key_len(),
            EspAlgorithm::Null(i) => i.key_len(),
        }
    }

    /// Length of the explicit IV carried in each packet.
    #[must_use]
    pub const fn iv_len(self) -> usize {
        match self {
            EspAlgorithm::AesGcm16(_) | EspAlgorithm::ChaCha20Poly1305 | EspAlgorithm::AesGmac(_) => 8,
            EspAlgorithm::AesCbc(..) => 16,
            EspAlgorithm::Null(_) => 0,
        }
    }

    /// Length of the ICV.
    #[must_use]
    pub const fn icv_len(self) -> usize {
        match self {
            EspAlgorithm::AesGcm16(_) | EspAlgorithm::ChaCha20Poly1305 | EspAlgorithm::AesGmac(_) => 16,
            EspAlgorithm::AesCbc(_, i) | EspAlgorithm::Null(i) => i.icv_len(),
        }
    }

    /// The alignment the padded plaintext (payload, padding, pad length, next header) must reach:
    /// the cipher block size for CBC, 4 bytes otherwise (RFC 4303 §2.4).
    #[must_use]
    pub const fn block_len(self) -> usize {
        match self {
            EspAlgorithm::AesCbc(..) => 16,
            _ => 4,
        }
    }

    /// True if the payload is encrypted (false for GMAC and NULL, which only authenticate).
    #[must_use]
    pub const fn encrypts(self) -> bool {
        !matches!(self, EspAlgorithm::AesGmac(_) | EspAlgorithm::Null(_))
    }
}

/// Most key material any transform here takes: AES-256 plus an HMAC-SHA-512 key.
pub const MAX_KEY_MATERIAL: usize = 96;

/// Secret key bytes for one SA direction, zeroized on drop.
///
/// Layout as IKEv2 derives it (RFC 7296 §2.17): encryption key (with salt for AEAD), then integrity
/// key. `Debug` shows the length only.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct KeyMaterial {
    bytes: [u8; MAX_KEY_MATERIAL],
    len: u8,
}

impl KeyMaterial {
    /// Copies `key` into a new key container.
    ///
    /// # Errors
    /// [`CryptoError::KeyLength`] if `key` is longer than [`MAX_KEY_MATERIAL`].
    pub fn new(key: &[u8]) -> Result<Self, CryptoError> {
        let mut bytes = [0u8; MAX_KEY_MATERIAL];
        bytes
            .get_mut(..key.len())
            .ok_or(CryptoError::KeyLength)?
            .copy_from_slice(key);
        let len = u8::try_from(key.len()).map_err(|_| CryptoError::KeyLength)?;
        Ok(KeyMaterial { bytes, len })
    }

    /// The key bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// Number of key bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// True if there are no key bytes.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyMaterial({} bytes)", self.len)
    }
}

/// Per-SA secret from which a CBC cipher derives unpredictable IVs; drawn from the caller's entropy
/// when the SA is installed, so `protect` itself needs no RNG.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct IvSeed(pub [u8; 32]);

impl fmt::Debug for IvSeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IvSeed(..)")
    }
}

/// Why a transform could not be set up or applied.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CryptoError {
    /// The key material has the wrong length for the algorithm.
    KeyLength,
    /// The provider does not implement this algorithm (or combination).
    Unsupported,
    /// The ICV did not verify (or the AEAD tag did not).
    IntegrityCheckFailed,
    /// A length the algorithm needs (block alignment, IV, ICV) does not fit the buffer.
    Length,
}

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CryptoError::KeyLength => "key material has the wrong length",
            CryptoError::Unsupported => "algorithm not supported by the provider",
            CryptoError::IntegrityCheckFailed => "integrity check failed",
            CryptoError::Length => "buffer length does not fit the transform",
        })
    }
}

impl core::error::Error for CryptoError {}

/// The sequence-number context of one packet, as the ICV or AEAD needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeqContext {
    /// The full sequence number (64 bits with ESN; the low 32 are on the wire).
    pub seq: u64,
    /// Extended sequence numbers are in use: the high 32 bits enter the ICV (RFC 4303 §2.2.1) or the
    /// AAD (RFC 4106 §5, RFC 7634 §2.1).
    pub esn: bool,
}

impl SeqContext {
    /// The high 32 bits of the sequence number.
    #[must_use]
    pub const fn high(self) -> u32 {
        let [a, b, c, d, ..] = self.seq.to_be_bytes();
        u32::from_be_bytes([a, b, c, d])
    }

    /// The low 32 bits: what the packet carries.
    #[must_use]
    pub const fn low(self) -> u32 {
        let [.., a, b, c, d] = self.seq.to_be_bytes();
        u32::from_be_bytes([a, b, c, d])
    }

    /// The low 16 bits, used as the IPv4 identification of tunnel-mode outer headers (unique per
    /// SA for 65536 packets, which is what RFC 6864 asks of atomic datagrams: nothing).
    #[must_use]
    pub const fn low16(self) -> u16 {
        let [.., a, b] = self.seq.to_be_bytes();
        u16::from_be_bytes([a, b])
    }
}

/// An ESP cipher keyed for one SA (encryption and integrity).
///
/// The ESP packet handed to `seal` and `open` is laid out as `[SPI, seq: 8][IV: iv_len][body][ICV:
/// icv_len]`, where body is payload, padding, pad length and next header, already aligned to
/// `block_len`.
pub trait EspCipher {
    /// The algorithm this cipher implements.
    fn algorithm(&self) -> EspAlgorithm;

    /// Writes the IV for the packet with sequence number `seq` into `iv` (`iv_len` bytes).
    ///
    /// IVs never repeat under one key: AEAD ciphers use the 64-bit sequence number itself (unique per
    /// SA); CBC encrypts it under a per-SA key derived from the [`IvSeed`], which also makes it
    /// unpredictable (RFC 3602 §3).
    fn write_iv(&self, seq: u64, iv: &mut [u8]);

    /// Encrypts the body in place and writes the ICV.
    ///
    /// # Errors
    /// [`CryptoError::Length`] if the packet layout does not fit the algorithm.
    fn seal(&self, esp: &mut [u8], seq: SeqContext) -> Result<(), CryptoError>;

    /// Verifies the ICV (in constant time) and, only if it is correct, decrypts the body in place.
    ///
    /// # Errors
    /// [`CryptoError::IntegrityCheckFailed`]; [`CryptoError::Length`] for a layout that does not fit.
    fn open(&self, esp: &mut [u8], seq: SeqContext) -> Result<(), CryptoError>;
}

/// An integrity key for AH (RFC 4302), fed the packet in pieces.
pub trait AhMac {
    /// Incremental MAC state.
    type State: MacState;
    /// The algorithm this key is for.
    fn algorithm(&self) -> Integrity;
    /// A fresh state keyed with this SA's key.
    fn start(&self) -> Self::State;
}

/// Incremental MAC computation.
pub trait MacState {
    /// Feeds bytes.
    fn update(&mut self, data: &[u8]);
    /// Writes the truncated ICV into `out` (`icv_len` bytes).
    fn finish_into(self, out: &mut [u8]);
    /// Compares the truncated MAC with `icv` in constant time.
    ///
    /// # Errors
    /// [`CryptoError::IntegrityCheckFailed`] if they differ.
    fn verify(self, icv: &[u8]) -> Result<(), CryptoError>;
}

/// A source of ESP ciphers and AH MACs: the user's choice of crypto implementation.
pub trait TransformProvider {
    /// The keyed ESP cipher type (an enum over algorithms is typical).
    type Cipher: EspCipher;
    /// The keyed AH MAC type.
    type Mac: AhMac;

    /// Keys an ESP cipher.
    ///
    /// # Errors
    /// [`CryptoError::KeyLength`] if `keys` does not have `alg.key_material_len()` bytes,
    /// [`CryptoError::Unsupported`] if the provider lacks the algorithm.
    fn esp_cipher(
        &self,
        alg: EspAlgorithm,
        keys: &KeyMaterial,
        iv_seed: &IvSeed,
    ) -> Result<Self::Cipher, CryptoError>;

    /// Keys an AH MAC.
    ///
    /// # Errors
    /// As [`TransformProvider::esp_cipher`].
    fn ah_mac(&self, alg: Integrity, key: &KeyMaterial) -> Result<Self::Mac, CryptoError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_material_debug_hides_bytes_and_checks_length() {
        let k = KeyMaterial::new(&[0x42; 36]).unwrap();
        assert_eq!(std::format!("{k:?}"), "KeyMaterial(36 bytes)");
        assert_eq!(k.as_bytes(), &[0x42; 36]);
        assert_eq!(KeyMaterial::new(&[0; 97]).unwrap_err(), CryptoError::KeyLength);
    }

    #[test]
    fn algorithm_sizes() {
        assert_eq!(EspAlgorithm::AesGcm16(AesKeyLen::Aes256).key_material_len(), 36);
        assert_eq!(
            EspAlgorithm::AesCbc(AesKeyLen::Aes256, Integrity::HmacSha512_256).key_material_len(),
            96
        );
        assert_eq!(EspAlgorithm::Null(Integrity::HmacSha384_192).icv_len(), 24);
        assert_eq!(EspAlgorithm::ChaCha20Poly1305.iv_len(), 8);
    }
}
