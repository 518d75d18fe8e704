//! Zeroizing byte strings for keys and shared secrets (STYLE §4.3).

use alloc::vec::Vec;
use core::fmt;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Secret bytes (keys, SKEYSEED, g^ir, PSK-derived values): zeroized on drop, `Debug` prints the
/// length only, equality only in constant time through [`ConstantTimeEq`]. Deliberately not
/// `Clone`: use [`SecretBytes::duplicate`] where a copy is really needed (for example keys that
/// leave in an event).
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    /// Copies `bytes` into a new secret.
    #[must_use]
    pub fn from_slice(bytes: &[u8]) -> Self {
        Self(bytes.to_vec())
    }

    /// A secret of `len` zero bytes, to be filled through [`SecretBytes::as_mut_bytes`].
    #[must_use]
    pub fn zeroed(len: usize) -> Self {
        Self(alloc::vec![0u8; len])
    }

    /// Takes ownership of `bytes` (which is zeroized when this value drops).
    #[must_use]
    pub fn from_vec(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The secret bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The secret bytes, writable.
    pub fn as_mut_bytes(&mut self) -> &mut [u8] {
        &mut self.0
    }

    /// Length in bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True if empty (for example SK_ai with an AEAD cipher).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// An explicit copy.
    #[must_use]
    pub fn duplicate(&self) -> Self {
        Self(self.0.clone())
    }
}

impl Drop for SecretBytes {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl ZeroizeOnDrop for SecretBytes {}

impl ConstantTimeEq for SecretBytes {
    fn ct_eq(&self, other: &Self) -> subtle::Choice {
        self.0.as_slice().ct_eq(other.0.as_slice())
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes({} bytes)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn debug_shows_length_only() {
        let s = SecretBytes::from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        let d = format!("{s:?}");
        assert_eq!(d, "SecretBytes(4 bytes)");
        assert!(!d.contains("de"));
        assert!(bool::from(
            s.ct_eq(&SecretBytes::from_slice(&[0xde, 0xad, 0xbe, 0xef]))
        ));
        assert!(!bool::from(
            s.ct_eq(&SecretBytes::from_slice(&[0xde, 0xad, 0xbe]))
        ));
    }
}
