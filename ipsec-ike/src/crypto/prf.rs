//! Pseudorandom functions (RFC 7296 §2.13, §3.3.2 transform type 2; RFC 4868 §2.1).

use alloc::boxed::Box;

use super::{CryptoError, PrfId, SecretBytes};

/// A PRF algorithm: a factory for keyed instances.
pub trait Prf: Send + Sync {
    /// The transform ID.
    fn id(&self) -> PrfId;
    /// Output length in bytes (32/48/64 for HMAC-SHA2-256/384/512, 20 for HMAC-SHA1).
    fn output_len(&self) -> usize;
    /// The preferred key length in bytes, which is the length of SK_d, SK_pi and SK_pr
    /// (RFC 7296 §2.14; for the HMAC PRFs this equals the output length, RFC 4868 §2.1.2).
    fn key_len(&self) -> usize;
    /// Returns an instance keyed with `key`, holding the precomputed key state.
    ///
    /// HMAC accepts keys of any length (longer ones are hashed, RFC 2104 §2), so the HMAC PRFs
    /// never fail here.
    ///
    /// # Errors
    /// [`CryptoError::InvalidKeyLength`] for a PRF with fixed key length given a wrong key.
    fn key(&self, key: &[u8]) -> Result<Box<dyn PrfKey>, CryptoError>;
}

/// A keyed PRF instance.
pub trait PrfKey: Send + Sync {
    /// Output length in bytes.
    fn output_len(&self) -> usize;
    /// Computes `prf(K, parts[0] | parts[1] | ...)` into `out`.
    ///
    /// # Errors
    /// [`CryptoError::InvalidLength`] unless `out.len() == self.output_len()`.
    fn compute(&self, parts: &[&[u8]], out: &mut [u8]) -> Result<(), CryptoError>;

    /// Computes `prf(K, parts...)` into a new zeroizing buffer.
    ///
    /// # Errors
    /// As [`PrfKey::compute`].
    fn compute_secret(&self, parts: &[&[u8]]) -> Result<SecretBytes, CryptoError> {
        let mut out = SecretBytes::zeroed(self.output_len());
        self.compute(parts, out.as_mut_bytes())?;
        Ok(out)
    }
}
