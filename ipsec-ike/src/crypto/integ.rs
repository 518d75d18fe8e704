//! Integrity algorithms for the SK payload (RFC 7296 §3.14, RFC 4868 §2.1.1, RFC 2404).

use alloc::boxed::Box;

use super::{CryptoError, IntegId};

/// An integrity algorithm: a factory for keyed instances.
pub trait Integ: Send + Sync {
    /// The transform ID.
    fn id(&self) -> IntegId;
    /// Key length in bytes (the length of SK_ai/SK_ar, RFC 7296 §2.14).
    fn key_len(&self) -> usize;
    /// ICV length in bytes (the truncated output: 16/24/32 for RFC 4868, 12 for HMAC-SHA1-96).
    fn icv_len(&self) -> usize;
    /// Returns an instance keyed with `key`, holding the precomputed HMAC state.
    ///
    /// # Errors
    /// [`CryptoError::InvalidKeyLength`] unless `key.len() == self.key_len()`.
    fn key(&self, key: &[u8]) -> Result<Box<dyn IntegKey>, CryptoError>;
}

/// A keyed integrity instance.
pub trait IntegKey: Send + Sync {
    /// ICV length in bytes.
    fn icv_len(&self) -> usize;
    /// Computes the truncated ICV of `data` into `icv`.
    ///
    /// # Errors
    /// [`CryptoError::InvalidLength`] unless `icv.len() == self.icv_len()`.
    fn compute(&self, data: &[u8], icv: &mut [u8]) -> Result<(), CryptoError>;
    /// Verifies `icv` over `data` in constant time (STYLE §4.4).
    ///
    /// # Errors
    /// [`CryptoError::IntegrityCheckFailed`] on mismatch or a wrong ICV length.
    fn verify(&self, data: &[u8], icv: &[u8]) -> Result<(), CryptoError>;
}
