//! The pure-Rust default provider on RustCrypto crates (feature `rustcrypto`).
//!
//! | transform | algorithms |
//! |---|---|
//! | ENCR | AES-GCM-16 128/256 (RFC 5282), ChaCha20-Poly1305 (RFC 7634), AES-CBC 128/256 (RFC 3602) |
//! | PRF | HMAC-SHA2-256/384/512 (RFC 4868); HMAC-SHA1 only with [`Options::allow_sha1`] |
//! | INTEG | HMAC-SHA2-256-128/384-192/512-256 (RFC 4868); HMAC-SHA1-96 only with [`Options::allow_sha1`] |
//! | KE | Curve25519 (RFC 8031), ECP-256/384 (RFC 5903), MODP-2048/3072/4096 (RFC 3526); MODP-1024 only with [`Options::allow_weak_modp1024`] |
//! | AUTH | RSA PKCS#1 v1.5 (SHA-256/384/512; SHA-1 with [`Options::allow_sha1`]), ECDSA P-256/P-384 |
//!
//! Weak algorithms are refused unless the caller turns them on at run time through [`Options`];
//! no Cargo feature changes that (STYLE §4.8).

use alloc::boxed::Box;

use sha1::Sha1;
use sha2::{Sha256, Sha384, Sha512};

use crate::crypto::{
    CryptoError, CryptoProvider, DhGroup, Encr, EncrId, Integ, IntegId, KeyExchange, Prf, PrfId,
    SignatureVerifier, SigningKey,
};

mod cipher;
mod ecdh;
mod mac;
mod modp;
mod signature;

use cipher::{AeadAlg, AeadEncr, AesCbcEncr};
use mac::{HmacInteg, HmacPrf};

/// Run-time options of the RustCrypto provider. Everything weak is off by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    allow_weak_modp1024: bool,
    allow_sha1: bool,
    min_rsa_bits: usize,
}

impl Options {
    /// Strong algorithms only; RSA keys of at least 2048 bits.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            allow_weak_modp1024: false,
            allow_sha1: false,
            min_rsa_bits: 2048,
        }
    }

    /// Offers the 1024-bit MODP group (RFC 2409 group 2). Weak: about 80-bit security. The
    /// engine should raise a warning event when it is negotiated ([`crate::crypto::WeakAlgorithm`]).
    #[must_use]
    pub const fn allow_weak_modp1024(mut self, allow: bool) -> Self {
        self.allow_weak_modp1024 = allow;
        self
    }

    /// Offers PRF_HMAC_SHA1, AUTH_HMAC_SHA1_96 and SHA-1 signatures (auth method 1,
    /// sha1WithRSAEncryption) for legacy peers.
    #[must_use]
    pub const fn allow_sha1(mut self, allow: bool) -> Self {
        self.allow_sha1 = allow;
        self
    }

    /// The smallest RSA modulus (bits) accepted for verifying and signing (default 2048).
    #[must_use]
    pub const fn min_rsa_bits(mut self, bits: usize) -> Self {
        self.min_rsa_bits = bits;
        self
    }
}

impl Default for Options {
    fn default() -> Self {
        Self::new()
    }
}

/// The RustCrypto-backed [`CryptoProvider`].
#[derive(Clone, Copy, Debug, Default)]
pub struct RustCrypto {
    options: Options,
    signatures: signature::Signatures,
}

impl Default for signature::Signatures {
    fn default() -> Self {
        Self {
            allow_sha1: false,
            min_rsa_bits: Options::new().min_rsa_bits,
        }
    }
}

static AES_GCM_128: AeadEncr = AeadEncr(AeadAlg::Aes128Gcm);
static AES_GCM_256: AeadEncr = AeadEncr(AeadAlg::Aes256Gcm);
static CHACHA20_POLY1305: AeadEncr = AeadEncr(AeadAlg::ChaCha20Poly1305);
static AES_CBC_128: AesCbcEncr = AesCbcEncr { bits: 128 };
static AES_CBC_256: AesCbcEncr = AesCbcEncr { bits: 256 };

static PRF_SHA1: HmacPrf<Sha1> = HmacPrf::new(PrfId::PRF_HMAC_SHA1, 20);
static PRF_SHA256: HmacPrf<Sha256> = HmacPrf::new(PrfId::PRF_HMAC_SHA2_256, 32);
static PRF_SHA384: HmacPrf<Sha384> = HmacPrf::new(PrfId::PRF_HMAC_SHA2_384, 48);
static PRF_SHA512: HmacPrf<Sha512> = HmacPrf::new(PrfId::PRF_HMAC_SHA2_512, 64);

// RFC 4868 §2.1.1: key length = hash output length, ICV = half of it; RFC 2404: 20-byte key, 12-byte ICV.
static INTEG_SHA1_96: HmacInteg<Sha1> = HmacInteg::new(IntegId::AUTH_HMAC_SHA1_96, 20, 12);
static INTEG_SHA256_128: HmacInteg<Sha256> = HmacInteg::new(IntegId::AUTH_HMAC_SHA2_256_128, 32, 16);
static INTEG_SHA384_192: HmacInteg<Sha384> = HmacInteg::new(IntegId::AUTH_HMAC_SHA2_384_192, 48, 24);
static INTEG_SHA512_256: HmacInteg<Sha512> = HmacInteg::new(IntegId::AUTH_HMAC_SHA2_512_256, 64, 32);

static X25519: ecdh::X25519 = ecdh::X25519;
static ECP_256: ecdh::Ecp256 = ecdh::Ecp256;
static ECP_384: ecdh::Ecp384 = ecdh::Ecp384;

impl RustCrypto {
    /// The provider with default [`Options`] (strong algorithms only).
    #[must_use]
    pub const fn new() -> Self {
        Self::with_options(Options::new())
    }

    /// The provider with the given options.
    #[must_use]
    pub const fn with_options(options: Options) -> Self {
        Self {
            options,
            signatures: signature::Signatures {
                allow_sha1: options.allow_sha1,
                min_rsa_bits: options.min_rsa_bits,
            },
        }
    }

    /// The options this provider was built with.
    #[must_use]
    pub const fn options(&self) -> Options {
        self.options
    }
}

impl CryptoProvider for RustCrypto {
    fn encr(&self, id: EncrId, key_bits: Option<u16>) -> Option<&dyn Encr> {
        match (id, key_bits) {
            (EncrId::ENCR_AES_GCM_16, Some(128)) => Some(&AES_GCM_128),
            (EncrId::ENCR_AES_GCM_16, Some(256)) => Some(&AES_GCM_256),
            // RFC 7634 §2: no Key Length attribute (256-bit key only).
            (EncrId::ENCR_CHACHA20_POLY1305, None) => Some(&CHACHA20_POLY1305),
            (EncrId::ENCR_AES_CBC, Some(128)) => Some(&AES_CBC_128),
            (EncrId::ENCR_AES_CBC, Some(256)) => Some(&AES_CBC_256),
            _ => None,
        }
    }

    fn prf(&self, id: PrfId) -> Option<&dyn Prf> {
        match id {
            PrfId::PRF_HMAC_SHA1 if self.options.allow_sha1 => Some(&PRF_SHA1),
            PrfId::PRF_HMAC_SHA2_256 => Some(&PRF_SHA256),
            PrfId::PRF_HMAC_SHA2_384 => Some(&PRF_SHA384),
            PrfId::PRF_HMAC_SHA2_512 => Some(&PRF_SHA512),
            _ => None,
        }
    }

    fn integ(&self, id: IntegId) -> Option<&dyn Integ> {
        match id {
            IntegId::AUTH_HMAC_SHA1_96 if self.options.allow_sha1 => Some(&INTEG_SHA1_96),
            IntegId::AUTH_HMAC_SHA2_256_128 => Some(&INTEG_SHA256_128),
            IntegId::AUTH_HMAC_SHA2_384_192 => Some(&INTEG_SHA384_192),
            IntegId::AUTH_HMAC_SHA2_512_256 => Some(&INTEG_SHA512_256),
            _ => None,
        }
    }

    fn key_exchange(&self, group: DhGroup) -> Option<&dyn KeyExchange> {
        match group {
            DhGroup::CURVE25519 => Some(&X25519),
            DhGroup::ECP_256 => Some(&ECP_256),
            DhGroup::ECP_384 => Some(&ECP_384),
            DhGroup::MODP_2048 => Some(&modp::MODP_2048),
            DhGroup::MODP_3072 => Some(&modp::MODP_3072),
            DhGroup::MODP_4096 => Some(&modp::MODP_4096),
            DhGroup::MODP_1024 if self.options.allow_weak_modp1024 => Some(&modp::MODP_1024),
            _ => None,
        }
    }

    fn signatures(&self) -> &dyn SignatureVerifier {
        &self.signatures
    }

    fn signing_key(&self, der: &[u8]) -> Result<Box<dyn SigningKey>, CryptoError> {
        signature::load_signing_key(self.signatures, der)
    }
}
