//! Published vectors through the transform layer and the SAD. Each test names its source; the bytes
//! are in `fixtures/vectors.rs` (see `fixtures/README.md`).

#[path = "fixtures/vectors.rs"]
mod fixtures;

use fixtures::*;
use ipsec_core::sa::{Direction, Mode, SaParams, Spi};
use ipsec_core::testing::sa::{Shape, TestSad, params, rng};
use ipsec_core::transform::{
    AesKeyLen, AhMac, CryptoError, EspAlgorithm, EspCipher, Integrity, IvSeed, KeyMaterial, MacState,
    RustCrypto, SeqContext, TransformProvider,
};
use ipsec_core::{Instant, Unprotected};

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn cipher(alg: EspAlgorithm, keymat: &[u8]) -> ipsec_core::transform::RustCryptoCipher {
    RustCrypto
        .esp_cipher(alg, &KeyMaterial::new(keymat).unwrap(), &IvSeed([9; 32]))
        .unwrap()
}

fn gcm_alg(key_len: usize) -> EspAlgorithm {
    EspAlgorithm::AesGcm16(match key_len {
        16 => AesKeyLen::Aes128,
        24 => AesKeyLen::Aes192,
        _ => AesKeyLen::Aes256,
    })
}

fn seq_of(esp: &[u8], high: &str, esn: bool) -> SeqContext {
    let low = u32::from_be_bytes(esp[4..8].try_into().unwrap());
    let high = if high.is_empty() {
        0
    } else {
        u32::from_str_radix(high, 16).unwrap()
    };
    SeqContext {
        seq: (u64::from(high) << 32) | u64::from(low),
        esn,
    }
}

#[test]
fn mcgrew_gcm_decrypts_and_encrypts_byte_exact() {
    // draft-mcgrew-gcm-test-01 §4: every case, both directions, and one flipped bit per byte fails.
    for case in MCGREW_GCM {
        let key = h(case.key);
        let keymat = [key.clone(), h(case.salt)].concat();
        let alg = gcm_alg(key.len());
        let c = cipher(alg, &keymat);
        let packet = h(case.esp_packet);
        let seq = seq_of(&packet, case.seq_high, case.esn);
        let plaintext = h(case.plaintext);

        let mut buf = packet.clone();
        c.open(&mut buf, seq)
            .unwrap_or_else(|e| panic!("{}: {e}", case.id));
        assert_eq!(&buf[16..16 + plaintext.len()], &plaintext[..], "{}", case.id);

        let mut buf = packet.clone();
        buf[16..16 + plaintext.len()].copy_from_slice(&plaintext);
        c.seal(&mut buf, seq).unwrap();
        assert_eq!(buf, packet, "{} seal", case.id);

        for i in 0..packet.len() {
            let mut bad = packet.clone();
            bad[i] ^= 0x01;
            // The SPI and the sequence number are in the AAD, the rest in the tag input.
            assert_eq!(
                c.open(&mut bad, seq),
                Err(CryptoError::IntegrityCheckFailed),
                "{} byte {i}",
                case.id
            );
        }
        if case.esn {
            // The high half of the sequence number is authenticated although it is not sent.
            let mut buf = packet.clone();
            let wrong = SeqContext {
                seq: seq.seq ^ (1 << 40),
                esn: true,
            };
            assert_eq!(
                c.open(&mut buf, wrong),
                Err(CryptoError::IntegrityCheckFailed),
                "{}",
                case.id
            );
        }
    }
}

#[test]
fn mcgrew_gmac_authenticates_without_encrypting() {
    // draft-mcgrew-gcm-test-01, the ENCR_NULL_AUTH_AES_GMAC (RFC 4543) case.
    let (key, salt, payload, packet) = MCGREW_GMAC;
    let c = cipher(
        EspAlgorithm::AesGmac(AesKeyLen::Aes128),
        &[h(key), h(salt)].concat(),
    );
    let packet = h(packet);
    let seq = SeqContext { seq: 7, esn: false };
    let mut buf = packet.clone();
    c.open(&mut buf, seq).unwrap();
    assert_eq!(&buf[16..buf.len() - 16], &h(payload)[..]);
    let mut buf = packet.clone();
    buf[packet.len() - 16..].fill(0);
    c.seal(&mut buf, seq).unwrap();
    assert_eq!(buf, packet);
    let mut bad = packet.clone();
    bad[30] ^= 0x80;
    assert_eq!(c.open(&mut bad, seq), Err(CryptoError::IntegrityCheckFailed));
    assert_eq!(
        c.open(&mut packet.clone(), SeqContext { seq: 7, esn: true }),
        Err(CryptoError::Unsupported)
    );
}

#[test]
fn rfc7634_appendix_a_esp_chacha20_poly1305() {
    let c = cipher(EspAlgorithm::ChaCha20Poly1305, &h(RFC7634_A_KEYMAT));
    let packet = h(RFC7634_A_ESP_PACKET);
    let plaintext = h(RFC7634_A_PLAINTEXT_WITH_ESP_TRAILER);
    let seq = SeqContext { seq: 5, esn: false };
    let mut buf = packet.clone();
    c.open(&mut buf, seq).unwrap();
    assert_eq!(&buf[16..16 + plaintext.len()], &plaintext[..]);
    buf[16..16 + plaintext.len()].copy_from_slice(&plaintext);
    c.seal(&mut buf, seq).unwrap();
    assert_eq!(buf, packet);
}

#[test]
fn rfc7634_appendix_a_whole_packet_through_the_sad() {
    // The outer IPv4 packet of RFC 7634 App. A, unprotected by an inbound tunnel-mode SA.
    let outer = h(RFC7634_A_OUTER_IPV4_PACKET);
    let mut p: SaParams = params(
        Shape::esp_tunnel(EspAlgorithm::ChaCha20Poly1305),
        Direction::Inbound,
        0x0102_0304,
    );
    p.mode = Mode::Tunnel {
        local: "203.0.113.5".parse().unwrap(),
        remote: "203.0.113.153".parse().unwrap(),
    };
    let mut sad = TestSad::new(RustCrypto);
    let id = sad
        .install(
            Instant::ZERO,
            &p,
            &KeyMaterial::new(&h(RFC7634_A_KEYMAT)).unwrap(),
            &mut rng(0),
        )
        .unwrap();
    let mut buf = outer.clone();
    let got = sad.unprotect(Instant::ZERO, &mut buf, 0, outer.len()).unwrap();
    let Unprotected::Packet { sa, packet, seq } = got else {
        panic!("not a packet")
    };
    assert_eq!((sa, seq), (id, 5));
    assert_eq!(&buf[packet], &h(RFC7634_A_INNER_IP_PACKET)[..]);
    // The same packet again is a replay.
    let mut buf = outer.clone();
    assert!(matches!(
        sad.unprotect(Instant::ZERO, &mut buf, 0, outer.len()),
        Err(ipsec_core::UnprotectError::Replayed(_))
    ));
    assert_eq!(sad.stats(id).unwrap().replay_drops, 1);
    assert_eq!(sad.params(id).unwrap().spi, Spi(0x0102_0304));
}

#[test]
fn rfc3602_aes_cbc_blocks_inside_esp() {
    // RFC 3602 §4 cases #1–#4 (AES-128-CBC), sealed and opened inside an ESP packet.
    for (i, (key, iv, pt, ct)) in RFC3602.iter().enumerate() {
        let alg = EspAlgorithm::AesCbc(AesKeyLen::Aes128, Integrity::HmacSha256_128);
        let keymat = [h(key), vec![0x5a; 32]].concat();
        let c = cipher(alg, &keymat);
        let (pt, ct) = (h(pt), h(ct));
        let mut esp = vec![0, 0, 1, 0, 0, 0, 0, 1];
        esp.extend_from_slice(&h(iv));
        esp.extend_from_slice(&pt);
        esp.extend_from_slice(&[0; 16]);
        let seq = SeqContext { seq: 1, esn: false };
        c.seal(&mut esp, seq).unwrap();
        assert_eq!(&esp[24..24 + ct.len()], &ct[..], "case {}", i + 1);
        c.open(&mut esp, seq).unwrap();
        assert_eq!(&esp[24..24 + pt.len()], &pt[..], "case {}", i + 1);
    }
}

#[test]
fn rfc4868_hmac_sha2_truncated_icvs() {
    for (alg, key, data, icv) in RFC4868_AUTH {
        let integ = match *alg {
            "AUTH_HMAC_SHA2_256_128" => Integrity::HmacSha256_128,
            "AUTH_HMAC_SHA2_384_192" => Integrity::HmacSha384_192,
            "AUTH_HMAC_SHA2_512_256" => Integrity::HmacSha512_256,
            other => panic!("unknown {other}"),
        };
        let key = h(key);
        let mac = match RustCrypto.ah_mac(integ, &KeyMaterial::new(&key).unwrap()) {
            Ok(m) => m,
            // RFC 4868 keys of other lengths than the output size don't apply to IPsec.
            Err(CryptoError::KeyLength) => {
                assert_ne!(key.len(), integ.key_len());
                continue;
            }
            Err(e) => panic!("{e}"),
        };
        let mut s = mac.start();
        s.update(&h(data));
        let mut out = vec![0; integ.icv_len()];
        s.finish_into(&mut out);
        assert_eq!(out, h(icv), "{alg}");
        let mut s = mac.start();
        s.update(&h(data));
        assert!(s.verify(&h(icv)).is_ok());
        let mut wrong = h(icv);
        wrong[0] ^= 1;
        let mut s = mac.start();
        s.update(&h(data));
        assert_eq!(s.verify(&wrong), Err(CryptoError::IntegrityCheckFailed));
    }
}

#[test]
fn key_material_of_the_wrong_length_is_refused() {
    for alg in ipsec_core::testing::sa::ESP_ALGORITHMS {
        let short = KeyMaterial::new(&vec![1; alg.key_material_len() - 1]).unwrap();
        assert_eq!(
            RustCrypto.esp_cipher(alg, &short, &IvSeed([0; 32])).unwrap_err(),
            CryptoError::KeyLength
        );
    }
}
