//! Shared helpers for the crypto integration tests: fixture loading and providers.
#![allow(dead_code)]

use ipsec_ike::crypto::Entropy;
use ipsec_ike::crypto::rustcrypto::{Options, RustCrypto};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use serde_json::Value;

/// Parses a JSON fixture (the text is compiled in; tests never read /work/shared).
pub(crate) fn json(text: &str) -> Value {
    serde_json::from_str(text).expect("fixture JSON")
}

/// Decodes a hex string field.
pub(crate) fn hex(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().expect("hex string")).expect("valid hex")
}

static STRONG: RustCrypto = RustCrypto::new();
static LEGACY: RustCrypto = RustCrypto::with_options(
    Options::new()
        .allow_sha1(true)
        .allow_weak_modp1024(true)
        .min_rsa_bits(512),
);

/// The default provider (strong algorithms only).
pub(crate) fn strong() -> &'static RustCrypto {
    &STRONG
}

/// A provider that also allows SHA-1, MODP-1024 and small RSA keys, for legacy vectors.
pub(crate) fn legacy() -> &'static RustCrypto {
    &LEGACY
}

/// A deterministic generator.
pub(crate) fn entropy(seed: u64) -> Entropy {
    Entropy::new(ChaCha20Rng::seed_from_u64(seed))
}
