//! MODP Diffie-Hellman groups (RFC 3526 groups 14–16, RFC 2409 group 2) on `crypto-bigint`,
//! with constant-time Montgomery exponentiation.
//!
//! Private exponents are shorter than the prime, as RFC 3526 §8 allows ("exponent ... at least
//! twice the strength"): 256 bits for MODP-1024/2048, 320 bits for MODP-3072 and 384 bits for
//! MODP-4096. Public values are validated as RFC 7296 §3.4 / SP 800-56A require: exactly the
//! prime length, and 1 < y < p − 1 (0, 1, p − 1 and values ≥ p are rejected). A subgroup check
//! (y^q = 1) is not done: these primes are safe primes, so after excluding 1 and p − 1 the only
//! small subgroup is gone.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crypto_bigint::modular::{FixedMontyForm, FixedMontyParams};
use crypto_bigint::{Odd, U512, U1024, U2048, U3072, U4096, Uint};
use zeroize::{Zeroize, Zeroizing};

use crate::crypto::{CryptoError, DhGroup, Entropy, KeyExchange, KeyExchangeSecret, SecretBytes};

/// Exponents are held in a 512-bit integer (enough for every group here).
const EXP_BYTES: usize = 64;

/// A MODP group with generator 2.
pub(crate) struct Modp<const LIMBS: usize> {
    group: DhGroup,
    prime: Odd<Uint<LIMBS>>,
    exp_bits: u32,
}

pub(crate) static MODP_1024: Modp<{ U1024::LIMBS }> = Modp {
    group: DhGroup::MODP_1024,
    prime: Odd::<U1024>::from_be_hex(MODP_1024_P),
    exp_bits: 256,
};
pub(crate) static MODP_2048: Modp<{ U2048::LIMBS }> = Modp {
    group: DhGroup::MODP_2048,
    prime: Odd::<U2048>::from_be_hex(MODP_2048_P),
    exp_bits: 256,
};
pub(crate) static MODP_3072: Modp<{ U3072::LIMBS }> = Modp {
    group: DhGroup::MODP_3072,
    prime: Odd::<U3072>::from_be_hex(MODP_3072_P),
    exp_bits: 320,
};
pub(crate) static MODP_4096: Modp<{ U4096::LIMBS }> = Modp {
    group: DhGroup::MODP_4096,
    prime: Odd::<U4096>::from_be_hex(MODP_4096_P),
    exp_bits: 384,
};

impl<const LIMBS: usize> Modp<LIMBS> {
    fn prime_len(&self) -> usize {
        Uint::<LIMBS>::BYTES
    }

    fn secret(&self, exponent: Zeroizing<U512>, exp_bits: u32) -> ModpSecret<LIMBS> {
        // The modulus is public: the variable-time parameter setup leaks nothing secret. It is
        // done once per private value and reused by `agree`.
        let params = FixedMontyParams::new_vartime(self.prime);
        let public = modpow(&params, &Uint::<LIMBS>::from_u8(2), &exponent, exp_bits);
        ModpSecret {
            group: self.group,
            params,
            exponent,
            exp_bits,
            public: public.to_be_bytes().as_ref().to_vec(),
        }
    }
}

impl<const LIMBS: usize> KeyExchange for Modp<LIMBS> {
    fn group(&self) -> DhGroup {
        self.group
    }

    fn public_len(&self) -> usize {
        self.prime_len()
    }

    fn shared_len(&self) -> usize {
        self.prime_len()
    }

    fn generate(&self, rng: &mut Entropy) -> Result<Box<dyn KeyExchangeSecret>, CryptoError> {
        let exp_len = usize::try_from(self.exp_bits / 8).map_err(|_| CryptoError::UnsupportedAlgorithm)?;
        let mut bytes = Zeroizing::new([0u8; EXP_BYTES]);
        let start = EXP_BYTES
            .checked_sub(exp_len)
            .ok_or(CryptoError::UnsupportedAlgorithm)?;
        let tail = bytes.get_mut(start..).ok_or(CryptoError::UnsupportedAlgorithm)?;
        rng.fill(tail)?;
        if tail.iter().all(|&b| b == 0) {
            return Err(CryptoError::RandomFailure);
        }
        let exponent = Zeroizing::new(U512::from_be_slice(bytes.as_ref()));
        Ok(Box::new(self.secret(exponent, self.exp_bits)))
    }

    fn import_private(&self, private: &[u8]) -> Result<Box<dyn KeyExchangeSecret>, CryptoError> {
        if private.is_empty() || private.len() > EXP_BYTES || private.iter().all(|&b| b == 0) {
            return Err(CryptoError::InvalidKey);
        }
        let mut bytes = Zeroizing::new([0u8; EXP_BYTES]);
        let start = EXP_BYTES
            .checked_sub(private.len())
            .ok_or(CryptoError::InvalidKey)?;
        bytes
            .get_mut(start..)
            .ok_or(CryptoError::InvalidKey)?
            .copy_from_slice(private);
        let bits = u32::try_from(private.len().saturating_mul(8)).map_err(|_| CryptoError::InvalidKey)?;
        let exponent = Zeroizing::new(U512::from_be_slice(bytes.as_ref()));
        Ok(Box::new(self.secret(exponent, bits)))
    }
}

/// The private exponent (zeroized on drop) and the public value g^x mod p.
struct ModpSecret<const LIMBS: usize> {
    group: DhGroup,
    params: FixedMontyParams<LIMBS>,
    exponent: Zeroizing<U512>,
    exp_bits: u32,
    public: Vec<u8>,
}

impl<const LIMBS: usize> KeyExchangeSecret for ModpSecret<LIMBS> {
    fn group(&self) -> DhGroup {
        self.group
    }

    fn public_value(&self) -> &[u8] {
        &self.public
    }

    fn agree(&self, peer_public: &[u8]) -> Result<SecretBytes, CryptoError> {
        if peer_public.len() != Uint::<LIMBS>::BYTES {
            return Err(CryptoError::InvalidPublicValue);
        }
        let y = Uint::<LIMBS>::from_be_slice(peer_public);
        let p_minus_1 = self.params.modulus().as_ref().wrapping_sub(&Uint::ONE);
        if y <= Uint::ONE || y >= p_minus_1 {
            return Err(CryptoError::InvalidPublicValue);
        }
        let mut shared = modpow(&self.params, &y, &self.exponent, self.exp_bits);
        // Left-padded to the prime length by construction (RFC 7296 §2.14).
        let out = SecretBytes::from_slice(shared.to_be_bytes().as_ref());
        shared.zeroize();
        Ok(out)
    }
}

/// base^exp mod p, constant time in `exp` for a fixed `exp_bits`.
fn modpow<const LIMBS: usize>(
    params: &FixedMontyParams<LIMBS>,
    base: &Uint<LIMBS>,
    exp: &U512,
    exp_bits: u32,
) -> Uint<LIMBS> {
    FixedMontyForm::new(base, params)
        .pow_bounded_exp(exp, exp_bits)
        .retrieve()
}

/// RFC 2409 Section 6.2 (Second Oakley Group): the 1024-bit prime, generator 2.
const MODP_1024_P: &str = concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF",
);
/// RFC 3526 Section 3: the 2048-bit prime, generator 2.
const MODP_2048_P: &str = concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05",
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB",
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718",
    "3995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF",
);
/// RFC 3526 Section 4: the 3072-bit prime, generator 2.
const MODP_3072_P: &str = concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05",
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB",
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718",
    "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33",
    "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7",
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864",
    "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2",
    "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
);
/// RFC 3526 Section 5: the 4096-bit prime, generator 2.
const MODP_4096_P: &str = concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05",
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB",
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718",
    "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33",
    "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7",
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864",
    "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2",
    "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A92108011A723C12A787E6D7",
    "88719A10BDBA5B2699C327186AF4E23C1A946834B6150BDA2583E9CA2AD44CE8",
    "DBBBC2DB04DE8EF92E8EFC141FBECAA6287C59474E6BC05D99B2964FA090C3A2",
    "233BA186515BE7ED1F612970CEE2D7AFB81BDD762170481CD0069127D5B05AA9",
    "93B4EA988D8FDDC186FFB7DC90A6C08F4DF435C934063199FFFFFFFFFFFFFFFF",
);
