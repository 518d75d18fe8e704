//! Elliptic-curve key exchange: Curve25519 (RFC 8031) and ECP-256/384 (RFC 5903).

use alloc::boxed::Box;
use alloc::vec::Vec;

use zeroize::Zeroizing;

use crate::crypto::{CryptoError, DhGroup, Entropy, KeyExchange, KeyExchangeSecret, SecretBytes};

/// Attempts to draw a valid scalar before giving up (the chance that one 256-bit draw falls
/// outside [1, n) is below 2^-32, so this never triggers with a working generator).
const SCALAR_DRAWS: usize = 16;

/// Curve25519 (RFC 8031, RFC 7748).
pub(crate) struct X25519;

impl KeyExchange for X25519 {
    fn group(&self) -> DhGroup {
        DhGroup::CURVE25519
    }

    fn public_len(&self) -> usize {
        32
    }

    fn shared_len(&self) -> usize {
        32
    }

    fn generate(&self, rng: &mut Entropy) -> Result<Box<dyn KeyExchangeSecret>, CryptoError> {
        // RFC 8031 §2: the private key is 32 random bytes, clamped by X25519 itself.
        let mut bytes = Zeroizing::new([0u8; 32]);
        rng.fill(bytes.as_mut())?;
        Ok(Box::new(X25519Secret::new(*bytes)))
    }

    fn import_private(&self, private: &[u8]) -> Result<Box<dyn KeyExchangeSecret>, CryptoError> {
        let bytes: [u8; 32] = private.try_into().map_err(|_| CryptoError::InvalidKey)?;
        Ok(Box::new(X25519Secret::new(bytes)))
    }
}

struct X25519Secret {
    secret: x25519_dalek::StaticSecret,
    public: [u8; 32],
}

impl X25519Secret {
    fn new(bytes: [u8; 32]) -> Self {
        let mut bytes = Zeroizing::new(bytes);
        let secret = x25519_dalek::StaticSecret::from(*bytes);
        zeroize::Zeroize::zeroize(&mut *bytes);
        let public = x25519_dalek::PublicKey::from(&secret).to_bytes();
        Self { secret, public }
    }
}

impl KeyExchangeSecret for X25519Secret {
    fn group(&self) -> DhGroup {
        DhGroup::CURVE25519
    }

    fn public_value(&self) -> &[u8] {
        &self.public
    }

    fn agree(&self, peer_public: &[u8]) -> Result<SecretBytes, CryptoError> {
        let peer: [u8; 32] = peer_public
            .try_into()
            .map_err(|_| CryptoError::InvalidPublicValue)?;
        let shared = self.secret.diffie_hellman(&x25519_dalek::PublicKey::from(peer));
        // RFC 8031 §2.3: an all-zero result means a low-order peer point; abort.
        if !shared.was_contributory() {
            return Err(CryptoError::WeakSharedSecret);
        }
        Ok(SecretBytes::from_slice(shared.as_bytes()))
    }
}

macro_rules! ecp_group {
    ($factory:ident, $secret:ident, $curve:ident, $group:expr, $field:expr) => {
        /// An RFC 5903 ECP group: KE data is x ‖ y, the shared secret is x.
        pub(crate) struct $factory;

        impl KeyExchange for $factory {
            fn group(&self) -> DhGroup {
                $group
            }

            fn public_len(&self) -> usize {
                2 * $field
            }

            fn shared_len(&self) -> usize {
                $field
            }

            fn generate(&self, rng: &mut Entropy) -> Result<Box<dyn KeyExchangeSecret>, CryptoError> {
                let mut bytes = Zeroizing::new([0u8; $field]);
                for _ in 0..SCALAR_DRAWS {
                    rng.fill(bytes.as_mut())?;
                    if let Ok(secret) = $curve::SecretKey::from_slice(bytes.as_ref()) {
                        return Ok(Box::new($secret::new(secret)));
                    }
                }
                Err(CryptoError::RandomFailure)
            }

            fn import_private(&self, private: &[u8]) -> Result<Box<dyn KeyExchangeSecret>, CryptoError> {
                if private.len() != $field {
                    return Err(CryptoError::InvalidKey);
                }
                let secret = $curve::SecretKey::from_slice(private).map_err(|_| CryptoError::InvalidKey)?;
                Ok(Box::new($secret::new(secret)))
            }
        }

        /// The private scalar (zeroized on drop by `elliptic-curve`) and x ‖ y of its point.
        struct $secret {
            secret: $curve::SecretKey,
            public: Vec<u8>,
        }

        impl $secret {
            fn new(secret: $curve::SecretKey) -> Self {
                let sec1 = secret.public_key().to_sec1_bytes();
                // Uncompressed SEC1 is 0x04 ‖ x ‖ y; RFC 5903 §7 drops the 0x04.
                let public = sec1.get(1..).map(<[u8]>::to_vec).unwrap_or_default();
                Self { secret, public }
            }
        }

        impl KeyExchangeSecret for $secret {
            fn group(&self) -> DhGroup {
                $group
            }

            fn public_value(&self) -> &[u8] {
                &self.public
            }

            fn agree(&self, peer_public: &[u8]) -> Result<SecretBytes, CryptoError> {
                if peer_public.len() != 2 * $field {
                    return Err(CryptoError::InvalidPublicValue);
                }
                let mut sec1 = [0u8; 1 + 2 * $field];
                let (tag, xy) = sec1.split_at_mut(1);
                tag.copy_from_slice(&[0x04]);
                xy.copy_from_slice(peer_public);
                // Decoding checks that the coordinates are field elements and the point is on
                // the curve (RFC 5903 §9 / SP 800-56A partial validation); the uncompressed
                // form cannot encode the identity.
                let peer =
                    $curve::PublicKey::from_sec1_bytes(&sec1).map_err(|_| CryptoError::InvalidPublicValue)?;
                let shared = self.secret.diffie_hellman(&peer);
                Ok(SecretBytes::from_slice(
                    shared.raw_secret_bytes().as_slice(),
                ))
            }
        }
    };
}

ecp_group!(Ecp256, Ecp256Secret, p256, DhGroup::ECP_256, 32);
ecp_group!(Ecp384, Ecp384Secret, p384, DhGroup::ECP_384, 48);
