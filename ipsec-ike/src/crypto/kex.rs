//! Key exchange methods (RFC 7296 §1.2, §3.4; RFC 3526 MODP; RFC 5903 ECP; RFC 8031 Curve25519).

use alloc::boxed::Box;

use super::{CryptoError, DhGroup, Entropy, SecretBytes};

/// A key exchange method: a factory for ephemeral private values.
pub trait KeyExchange: Send + Sync {
    /// The transform ID.
    fn group(&self) -> DhGroup;
    /// Length of the KE payload's Key Exchange Data in bytes (MODP: the prime length; ECP: x ‖ y;
    /// Curve25519: 32).
    fn public_len(&self) -> usize;
    /// Length of the shared secret g^ir in bytes.
    fn shared_len(&self) -> usize;
    /// Draws a fresh private value from `rng` and computes its public value.
    ///
    /// # Errors
    /// [`CryptoError::RandomFailure`] if the generator failed.
    fn generate(&self, rng: &mut Entropy) -> Result<Box<dyn KeyExchangeSecret>, CryptoError>;
    /// Imports a known private value (big-endian scalar or exponent; Curve25519: the 32-byte
    /// string of RFC 7748 §5). Meant for published test vectors and SA hand-over, not for
    /// generating keys.
    ///
    /// # Errors
    /// [`CryptoError::InvalidKey`] if the value is out of range for the group.
    fn import_private(&self, private: &[u8]) -> Result<Box<dyn KeyExchangeSecret>, CryptoError>;
}

/// An ephemeral private value with its public value; zeroized on drop.
pub trait KeyExchangeSecret: Send + Sync {
    /// The group.
    fn group(&self) -> DhGroup;
    /// Our Key Exchange Data for the KE payload (RFC 7296 §3.4).
    fn public_value(&self) -> &[u8];
    /// Validates the peer's Key Exchange Data and computes the shared secret g^ir in the form
    /// IKEv2 feeds to SKEYSEED (MODP: left-padded to the prime length; ECP: the x coordinate;
    /// Curve25519: the 32-byte X25519 output).
    ///
    /// # Errors
    /// [`CryptoError::InvalidPublicValue`] for a wrong length or an invalid value;
    /// [`CryptoError::WeakSharedSecret`] for an all-zero Curve25519 result.
    fn agree(&self, peer_public: &[u8]) -> Result<SecretBytes, CryptoError>;
}
