//! The IANA code points the cryptographic suite is keyed by. They are the codec's registry types
//! (one type per registry for the whole crate), re-exported here for convenience, plus the
//! [`WeakAlgorithm`] classification of STYLE §4.8.

pub use crate::message::{AuthMethod, DhGroup, EncrId, HashAlgorithm, IntegId, PrfId};

/// Whether an algorithm is weak in the sense of STYLE §4.8 (MODP-768/1024, MD5, SHA-1): using one
/// takes an explicit run-time option and the engine should raise a warning event.
pub trait WeakAlgorithm {
    /// True for weak algorithms.
    fn is_weak(&self) -> bool;
}

impl WeakAlgorithm for DhGroup {
    fn is_weak(&self) -> bool {
        matches!(*self, Self::MODP_768 | Self::MODP_1024 | Self::MODP_1024_160)
    }
}

impl WeakAlgorithm for PrfId {
    fn is_weak(&self) -> bool {
        matches!(*self, Self::PRF_HMAC_MD5 | Self::PRF_HMAC_SHA1)
    }
}

impl WeakAlgorithm for IntegId {
    fn is_weak(&self) -> bool {
        matches!(
            *self,
            Self::AUTH_HMAC_MD5_96
                | Self::AUTH_HMAC_SHA1_96
                | Self::AUTH_HMAC_MD5_128
                | Self::AUTH_HMAC_SHA1_160
        )
    }
}

impl WeakAlgorithm for HashAlgorithm {
    fn is_weak(&self) -> bool {
        *self == Self::SHA1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_classification() {
        assert!(DhGroup::MODP_1024.is_weak());
        assert!(!DhGroup::MODP_2048.is_weak());
        assert!(!DhGroup::CURVE25519.is_weak());
        assert!(PrfId::PRF_HMAC_SHA1.is_weak());
        assert!(!PrfId::PRF_HMAC_SHA2_256.is_weak());
        assert!(IntegId::AUTH_HMAC_SHA1_96.is_weak());
        assert!(!IntegId::AUTH_HMAC_SHA2_256_128.is_weak());
        assert!(HashAlgorithm::SHA1.is_weak());
        assert!(!HashAlgorithm::SHA2_384.is_weak());
    }
}
