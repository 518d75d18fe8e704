//! ESP data-path benchmark: `Sad::protect` / `Sad::unprotect` (tunnel mode, IPv4) for each AEAD and
//! CBC+HMAC transform at 64, 512, 1400 and 8192 bytes, beside the raw call of the same RustCrypto
//! crate on a buffer of the same size in the same run. After criterion's own output it prints a
//! table: ns per packet, packets/s, Gbit/s of inner packets, and ratio = raw time / our time (1.0
//! means the ESP path costs nothing beyond the cipher).
//!
//! Run: `cargo bench -p ipsec-core --bench esp` (add `RUSTFLAGS="-C target-feature=+avx2"` for the
//! fast poly1305 path on x86-64). `-- --quick` shortens it.

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use aes_gcm::aead::{AeadInOut, KeyInit, inout::InOutBuf};
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, InnerIvInit};
use chacha20poly1305::ChaCha20Poly1305;
use criterion::{BatchSize, Criterion};
use hmac::{Hmac, Mac};
use ipsec_core::testing::packets;
use ipsec_core::testing::sa::{Shape, addrs, pair};
use ipsec_core::transform::{AesKeyLen, EspAlgorithm, Integrity};
use ipsec_core::{Instant, Unprotected};
use sha2::Sha256;

const SIZES: [usize; 4] = [64, 512, 1400, 8192];
const HEADROOM: usize = 64;

fn algorithms() -> [(&'static str, EspAlgorithm); 5] {
    [
        ("aes128gcm16", EspAlgorithm::AesGcm16(AesKeyLen::Aes128)),
        ("aes256gcm16", EspAlgorithm::AesGcm16(AesKeyLen::Aes256)),
        ("chacha20poly1305", EspAlgorithm::ChaCha20Poly1305),
        (
            "aes128cbc-sha256",
            EspAlgorithm::AesCbc(AesKeyLen::Aes128, Integrity::HmacSha256_128),
        ),
        (
            "aes256cbc-sha256",
            EspAlgorithm::AesCbc(AesKeyLen::Aes256, Integrity::HmacSha256_128),
        ),
    ]
}

/// The raw primitives of the same crates, keyed once (a per-SA key schedule, like ours).
enum Raw {
    Gcm128(Aes128Gcm),
    Gcm256(Aes256Gcm),
    ChaCha(ChaCha20Poly1305),
    Cbc128(aes::Aes128, Hmac<Sha256>),
    Cbc256(aes::Aes256, Hmac<Sha256>),
}

const NONCE: [u8; 12] = [7; 12];
const AAD: [u8; 8] = [1; 8];
const IV: [u8; 16] = [9; 16];

impl Raw {
    fn new(alg: EspAlgorithm) -> Raw {
        let mac = || <Hmac<Sha256>>::new_from_slice(&[4; 32]).unwrap();
        match alg {
            EspAlgorithm::AesGcm16(AesKeyLen::Aes128) => {
                Raw::Gcm128(Aes128Gcm::new_from_slice(&[3; 16]).unwrap())
            }
            EspAlgorithm::AesGcm16(_) => Raw::Gcm256(Aes256Gcm::new_from_slice(&[3; 32]).unwrap()),
            EspAlgorithm::ChaCha20Poly1305 => {
                Raw::ChaCha(ChaCha20Poly1305::new_from_slice(&[3; 32]).unwrap())
            }
            EspAlgorithm::AesCbc(AesKeyLen::Aes128, _) => {
                Raw::Cbc128(aes::Aes128::new_from_slice(&[3; 16]).unwrap(), mac())
            }
            EspAlgorithm::AesCbc(..) => Raw::Cbc256(aes::Aes256::new_from_slice(&[3; 32]).unwrap(), mac()),
            _ => unreachable!(),
        }
    }

    /// Seals `buf` in place (AEAD: 8-byte AAD; CBC: encrypt the block-aligned part, then HMAC).
    fn seal(&self, buf: &mut [u8]) -> [u8; 16] {
        let n = buf.len() / 16 * 16;
        match self {
            Raw::Gcm128(c) => c
                .encrypt_inout_detached((&NONCE).into(), &AAD, InOutBuf::from(buf))
                .unwrap()
                .into(),
            Raw::Gcm256(c) => c
                .encrypt_inout_detached((&NONCE).into(), &AAD, InOutBuf::from(buf))
                .unwrap()
                .into(),
            Raw::ChaCha(c) => c
                .encrypt_inout_detached((&NONCE).into(), &AAD, InOutBuf::from(buf))
                .unwrap()
                .into(),
            Raw::Cbc128(k, m) => {
                let (blocks, _) = InOutBuf::from(&mut buf[..n]).into_chunks();
                cbc::Encryptor::inner_iv_init(k.clone(), &IV.into()).encrypt_blocks_inout(blocks);
                mac(m, buf)
            }
            Raw::Cbc256(k, m) => {
                let (blocks, _) = InOutBuf::from(&mut buf[..n]).into_chunks();
                cbc::Encryptor::inner_iv_init(k.clone(), &IV.into()).encrypt_blocks_inout(blocks);
                mac(m, buf)
            }
        }
    }

    /// Opens `buf` in place (CBC: verify the HMAC, then decrypt).
    fn open(&self, buf: &mut [u8], tag: &[u8; 16]) {
        let n = buf.len() / 16 * 16;
        match self {
            Raw::Gcm128(c) => c
                .decrypt_inout_detached((&NONCE).into(), &AAD, InOutBuf::from(buf), tag.into())
                .unwrap(),
            Raw::Gcm256(c) => c
                .decrypt_inout_detached((&NONCE).into(), &AAD, InOutBuf::from(buf), tag.into())
                .unwrap(),
            Raw::ChaCha(c) => c
                .decrypt_inout_detached((&NONCE).into(), &AAD, InOutBuf::from(buf), tag.into())
                .unwrap(),
            Raw::Cbc128(k, m) => {
                assert_eq!(&mac(m, buf), tag);
                let (blocks, _) = InOutBuf::from(&mut buf[..n]).into_chunks();
                cbc::Decryptor::inner_iv_init(k.clone(), &IV.into()).decrypt_blocks_inout(blocks);
            }
            Raw::Cbc256(k, m) => {
                assert_eq!(&mac(m, buf), tag);
                let (blocks, _) = InOutBuf::from(&mut buf[..n]).into_chunks();
                cbc::Decryptor::inner_iv_init(k.clone(), &IV.into()).decrypt_blocks_inout(blocks);
            }
        }
    }
}

fn mac(m: &Hmac<Sha256>, buf: &[u8]) -> [u8; 16] {
    let mut m = m.clone();
    m.update(&AAD);
    m.update(buf);
    let full = m.finalize().into_bytes();
    full[..16].try_into().unwrap()
}

fn bench(c: &mut Criterion) {
    for (name, alg) in algorithms() {
        for size in SIZES {
            let mut g = c.benchmark_group(format!("{name}/{size}"));
            g.throughput(criterion::Throughput::Bytes(size as u64));
            let a = addrs(false);
            let inner = packets::udp(a.host_a, a.host_b, size - 28, 0);
            assert_eq!(inner.len(), size);
            let fresh = || {
                let mut buf = vec![0u8; HEADROOM + size + 64];
                buf[HEADROOM..HEADROOM + size].copy_from_slice(&inner);
                buf
            };

            let raw = Raw::new(alg);
            g.bench_function("raw-seal", |b| {
                b.iter_batched_ref(
                    fresh,
                    |buf| black_box(raw.seal(&mut buf[HEADROOM..HEADROOM + size])),
                    BatchSize::SmallInput,
                )
            });
            let mut p = pair(Shape::esp_tunnel(alg), 1);
            g.bench_function("protect", |b| {
                b.iter_batched_ref(
                    fresh,
                    |buf| black_box(p.tx.protect(Instant::ZERO, p.out, buf, HEADROOM, size).unwrap()),
                    BatchSize::SmallInput,
                )
            });

            let mut cipher_text = inner.clone();
            let tag = raw.seal(&mut cipher_text);
            g.bench_function("raw-open", |b| {
                b.iter_batched_ref(
                    || cipher_text.clone(),
                    |buf| raw.open(buf, &tag),
                    BatchSize::SmallInput,
                )
            });
            // Fresh packets from the sender in setup (untimed); the receiver's window advances.
            let mut p = pair(Shape::esp_tunnel(alg), 1);
            let (tx, out) = (&mut p.tx, p.out);
            let mut rx = p.rx;
            g.bench_function("unprotect", |b| {
                b.iter_batched_ref(
                    || {
                        let mut buf = fresh();
                        let r = tx.protect(Instant::ZERO, out, &mut buf, HEADROOM, size).unwrap();
                        (buf, r.packet)
                    },
                    |(buf, range)| {
                        let r = rx
                            .unprotect(Instant::ZERO, buf, range.start, range.len())
                            .unwrap();
                        assert!(matches!(r, Unprotected::Packet { .. }));
                    },
                    BatchSize::SmallInput,
                )
            });
            g.finish();
        }
    }
}

/// Reads criterion's median estimate (ns) for one benchmark.
fn median_ns(dir: &std::path::Path, group: &str, func: &str) -> Option<f64> {
    let path = dir
        .join(group.replace('/', "_"))
        .join(func)
        .join("new")
        .join("estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let median = text.split("\"median\"").nth(1)?;
    let pe = median.split("\"point_estimate\":").nth(1)?;
    pe.split([',', '}']).next()?.trim().parse().ok()
}

fn main() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("criterion");
    let mut c = Criterion::default()
        .output_directory(&dir)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
        .configure_from_args();
    bench(&mut c);
    c.final_summary();

    let mut t = String::new();
    let _ = writeln!(
        t,
        "\nESP tunnel mode, IPv4, RustCrypto; median ns per packet; ratio = raw / ours"
    );
    let _ = writeln!(
        t,
        "| transform | bytes | raw seal | protect | ratio | Mpps | Gbit/s | raw open | unprotect | ratio | Mpps | Gbit/s |"
    );
    let _ = writeln!(t, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (name, _) in algorithms() {
        for size in SIZES {
            let group = format!("{name}/{size}");
            let get = |f| median_ns(&dir, &group, f).unwrap_or(f64::NAN);
            let (rs, p, ro, u) = (get("raw-seal"), get("protect"), get("raw-open"), get("unprotect"));
            let gbps = |ns: f64| size as f64 * 8.0 / ns;
            let _ = writeln!(
                t,
                "| {name} | {size} | {rs:.0} | {p:.0} | {:.2} | {:.2} | {:.2} | {ro:.0} | {u:.0} | {:.2} | {:.2} | {:.2} |",
                rs / p,
                1e3 / p,
                gbps(p),
                ro / u,
                1e3 / u,
                gbps(u)
            );
        }
    }
    println!("{t}");
}
