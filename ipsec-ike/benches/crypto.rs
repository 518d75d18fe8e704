//! IKEv2 crypto suite benchmarks (criterion; figures are printed, nothing is asserted):
//! key exchange operations per group, SK seal/open per message size and suite, key derivation,
//! AUTH signatures. Run with `cargo bench -p ipsec-ike --bench crypto`; for ChaCha20-Poly1305
//! also with `RUSTFLAGS="-C target-feature=+avx2"` (see ../shared/PERF.md).

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ipsec_ike::crypto::rustcrypto::RustCrypto;
use ipsec_ike::crypto::sk::SkKey;
use ipsec_ike::crypto::{
    AuthMethod, CryptoProvider, DhGroup, EncrId, Entropy, HashAlgorithm, IntegId, PrfId,
};
use ipsec_ike::keys::{self, IkeSaKeys, KeyLengths};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

static PROVIDER: RustCrypto = RustCrypto::new();

fn entropy(seed: u64) -> Entropy {
    Entropy::new(ChaCha20Rng::seed_from_u64(seed))
}

/// One side of a key exchange: generate a private value and agree with a fixed peer value.
fn key_exchange(c: &mut Criterion) {
    let mut g = c.benchmark_group("kex/generate+agree");
    g.sample_size(10);
    for group in [
        DhGroup::CURVE25519,
        DhGroup::ECP_256,
        DhGroup::ECP_384,
        DhGroup::MODP_2048,
        DhGroup::MODP_3072,
        DhGroup::MODP_4096,
    ] {
        let kex = PROVIDER.key_exchange(group).expect("group provided");
        let peer = kex.generate(&mut entropy(1)).expect("generate");
        let peer_public = peer.public_value().to_vec();
        let mut rng = entropy(2);
        g.bench_function(format!("{group:?}"), |b| {
            b.iter(|| {
                let ours = kex.generate(&mut rng).expect("generate");
                black_box(ours.agree(black_box(&peer_public)).expect("agree"))
            });
        });
    }
    g.finish();
}

const SUITES: &[(&str, EncrId, Option<u16>, Option<IntegId>)] = &[
    ("aes128gcm16", EncrId::ENCR_AES_GCM_16, Some(128), None),
    ("aes256gcm16", EncrId::ENCR_AES_GCM_16, Some(256), None),
    ("chacha20poly1305", EncrId::ENCR_CHACHA20_POLY1305, None, None),
    (
        "aes128cbc-sha256",
        EncrId::ENCR_AES_CBC,
        Some(128),
        Some(IntegId::AUTH_HMAC_SHA2_256_128),
    ),
    (
        "aes256cbc-sha256",
        EncrId::ENCR_AES_CBC,
        Some(256),
        Some(IntegId::AUTH_HMAC_SHA2_256_128),
    ),
    (
        "aes256cbc-sha512",
        EncrId::ENCR_AES_CBC,
        Some(256),
        Some(IntegId::AUTH_HMAC_SHA2_512_256),
    ),
];
const SIZES: &[usize] = &[64, 512, 1400, 8192];

fn sk_key(encr: EncrId, bits: Option<u16>, integ: Option<IntegId>) -> SkKey {
    let encr = PROVIDER.encr(encr, bits).expect("cipher provided");
    let integ = integ.map(|i| PROVIDER.integ(i).expect("integrity provided"));
    let ke = vec![0x42; encr.key_len()];
    let ka = vec![0x24; integ.map_or(0, |i| i.key_len())];
    SkKey::new(encr, integ, &ke, &ka).expect("keys")
}

fn message(plaintext_len: usize) -> Vec<u8> {
    let mut msg = vec![0u8; 28];
    msg.extend_from_slice(&[0, 0, 0, 0]);
    msg.resize(32 + plaintext_len, 0x5a);
    msg
}

/// SK payload seal and open (verify + decrypt) per suite and inner payload size.
fn sk_payload(c: &mut Criterion) {
    for &(name, encr, bits, integ) in SUITES {
        let mut g = c.benchmark_group(format!("sk/{name}"));
        for &size in SIZES {
            g.throughput(Throughput::Bytes(size as u64));
            let mut sealer = sk_key(encr, bits, integ);
            let opener = sk_key(encr, bits, integ);
            let mut rng = entropy(3);
            let plain = message(size);
            g.bench_with_input(BenchmarkId::new("seal", size), &size, |b, _| {
                let mut buf = Vec::with_capacity(size + 128);
                b.iter(|| {
                    buf.clear();
                    buf.extend_from_slice(&plain);
                    sealer.seal(&mut buf, 28, 4, &mut rng).expect("seal");
                    black_box(&buf);
                });
            });
            let mut sealed = plain.clone();
            sealer.seal(&mut sealed, 28, 4, &mut rng).expect("seal");
            g.bench_with_input(BenchmarkId::new("open", size), &size, |b, _| {
                let mut buf = sealed.clone();
                b.iter(|| {
                    buf.copy_from_slice(&sealed);
                    black_box(opener.open(&mut buf, 28, 4).expect("open"));
                });
            });
        }
        g.finish();
    }
}

/// SKEYSEED + the seven SK_* keys, CHILD SA KEYMAT, and the PSK AUTH value.
fn key_derivation(c: &mut Criterion) {
    let mut g = c.benchmark_group("kdf");
    let g_ir = [0x11u8; 32];
    let (ni, nr) = ([0x22u8; 32], [0x33u8; 32]);
    for (name, prf_id, encr, bits, integ) in [
        (
            "sha256/aes256gcm",
            PrfId::PRF_HMAC_SHA2_256,
            EncrId::ENCR_AES_GCM_16,
            Some(256),
            None,
        ),
        (
            "sha256/aes256cbc-sha256",
            PrfId::PRF_HMAC_SHA2_256,
            EncrId::ENCR_AES_CBC,
            Some(256),
            Some(IntegId::AUTH_HMAC_SHA2_256_128),
        ),
        (
            "sha512/aes256gcm",
            PrfId::PRF_HMAC_SHA2_512,
            EncrId::ENCR_AES_GCM_16,
            Some(256),
            None,
        ),
    ] {
        let prf = PROVIDER.prf(prf_id).expect("prf");
        let encr = PROVIDER.encr(encr, bits).expect("encr");
        let integ = integ.map(|i| PROVIDER.integ(i).expect("integ"));
        let lengths = KeyLengths::new(prf, encr, integ);
        g.bench_function(format!("ike_sa_keys/{name}"), |b| {
            b.iter(|| {
                black_box(
                    IkeSaKeys::from_shared_secret(prf, &g_ir, &ni, &nr, &[1; 8], &[2; 8], lengths)
                        .expect("derive"),
                )
            });
        });
        g.bench_function(format!("child_keymat/{name}"), |b| {
            b.iter(|| black_box(keys::child_keymat(prf, &g_ir, None, &ni, &nr, 36, 32).expect("keymat")));
        });
    }
    let prf = PROVIDER.prf(PrfId::PRF_HMAC_SHA2_256).expect("prf");
    let octets = vec![0x77u8; 600];
    g.bench_function("psk_auth/sha256", |b| {
        b.iter(|| black_box(keys::shared_key_auth(prf, b"a shared secret", &octets).expect("auth")));
    });
    g.finish();
}

/// AUTH payload signatures with the test PKI keys.
fn signatures(c: &mut Criterion) {
    let mut g = c.benchmark_group("auth");
    g.sample_size(10);
    let octets = vec![0x55u8; 600];
    for (name, key_der, method) in [
        (
            "ecdsa-p256",
            &include_bytes!("../tests/fixtures/crypto/certs/ec-leaf.key.der")[..],
            AuthMethod::ECDSA_SHA256_P256,
        ),
        (
            "ecdsa-p384",
            &include_bytes!("../tests/fixtures/crypto/certs/ec384-leaf.key.der")[..],
            AuthMethod::ECDSA_SHA384_P384,
        ),
        (
            "rsa2048-sha256",
            &include_bytes!("../tests/fixtures/crypto/certs/rsa-leaf.key.der")[..],
            AuthMethod::DIGITAL_SIGNATURE,
        ),
    ] {
        let key = PROVIDER.signing_key(key_der).expect("key");
        let spki = key.public_key_spki().expect("spki");
        let mut rng = entropy(4);
        let hashes = [HashAlgorithm::SHA2_256];
        let auth = ipsec_ike::crypto::auth::sign_auth(key.as_ref(), method, &hashes, &octets, &mut rng)
            .expect("sign");
        g.bench_function(format!("sign/{name}"), |b| {
            b.iter(|| {
                black_box(ipsec_ike::crypto::auth::sign_auth(
                    key.as_ref(),
                    method,
                    &hashes,
                    &octets,
                    &mut rng,
                ))
            });
        });
        g.bench_function(format!("verify/{name}"), |b| {
            b.iter(|| {
                black_box(ipsec_ike::crypto::auth::verify_auth(
                    PROVIDER.signatures(),
                    &spki,
                    method,
                    &auth,
                    &octets,
                ))
            });
        });
    }
    g.finish();
}

criterion_group!(benches, key_exchange, sk_payload, key_derivation, signatures);
criterion_main!(benches);
