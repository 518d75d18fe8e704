//! SK/SKF payload protection (RFC 7296 §3.14, RFC 5282, RFC 7634, RFC 7383 §2.5): round trips
//! and tamper detection per algorithm, framing errors, padding checks.
#![cfg(feature = "rustcrypto")]

mod crypto_support;

use crypto_support::{entropy, strong};
use ipsec_ike::crypto::sk::SkKey;
use ipsec_ike::crypto::{CryptoError, CryptoProvider, EncrId, IntegId};
use ipsec_ike::keys::{IkeSaKeys, KeyLengths, Role};
use proptest::prelude::*;

/// Every SK transform combination we provide: (cipher, key bits, integrity).
const SUITES: &[(EncrId, Option<u16>, Option<IntegId>)] = &[
    (EncrId::ENCR_AES_GCM_16, Some(128), None),
    (EncrId::ENCR_AES_GCM_16, Some(256), None),
    (EncrId::ENCR_CHACHA20_POLY1305, None, None),
    (
        EncrId::ENCR_AES_CBC,
        Some(128),
        Some(IntegId::AUTH_HMAC_SHA2_256_128),
    ),
    (
        EncrId::ENCR_AES_CBC,
        Some(128),
        Some(IntegId::AUTH_HMAC_SHA2_384_192),
    ),
    (
        EncrId::ENCR_AES_CBC,
        Some(128),
        Some(IntegId::AUTH_HMAC_SHA2_512_256),
    ),
    (
        EncrId::ENCR_AES_CBC,
        Some(256),
        Some(IntegId::AUTH_HMAC_SHA2_256_128),
    ),
    (
        EncrId::ENCR_AES_CBC,
        Some(256),
        Some(IntegId::AUTH_HMAC_SHA2_384_192),
    ),
    (
        EncrId::ENCR_AES_CBC,
        Some(256),
        Some(IntegId::AUTH_HMAC_SHA2_512_256),
    ),
];

/// A keyed pair (sealer, opener) for one direction of suite `index`, keys from `seed`.
fn keys(index: usize, seed: u8) -> (SkKey, SkKey) {
    let (id, bits, integ_id) = SUITES[index];
    let p = strong();
    let encr = p.encr(id, bits).unwrap();
    let integ = integ_id.map(|i| p.integ(i).unwrap());
    let ke: Vec<u8> = (0..encr.key_len()).map(|i| seed.wrapping_add(i as u8)).collect();
    let ka: Vec<u8> = (0..integ.map_or(0, |i| i.key_len()))
        .map(|i| seed ^ (i as u8))
        .collect();
    (
        SkKey::new(encr, integ, &ke, &ka).unwrap(),
        SkKey::new(encr, integ, &ke, &ka).unwrap(),
    )
}

/// An IKE message prefix: header (28 bytes, length to be patched), `extra` bytes of other
/// payloads, then an SK (4) or SKF (8) header.
fn frame(extra: &[u8], skf: bool, plaintext: &[u8]) -> (Vec<u8>, usize, usize) {
    let mut msg = vec![0x11; 8];
    msg.extend_from_slice(&[0x22; 8]);
    msg.extend_from_slice(&[if skf { 53 } else { 46 }, 0x20, 35, 0x08, 0, 0, 0, 7, 0, 0, 0, 0]);
    msg.extend_from_slice(extra);
    let sk_offset = msg.len();
    let header_len = if skf { 8 } else { 4 };
    msg.extend_from_slice(&[41, 0, 0, 0]);
    if skf {
        msg.extend_from_slice(&[0, 1, 0, 3]);
    }
    msg.extend_from_slice(plaintext);
    (msg, sk_offset, header_len)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn seal_then_open_round_trips(
        suite in 0..SUITES.len(),
        plaintext in proptest::collection::vec(any::<u8>(), 0..1500),
        extra in proptest::collection::vec(any::<u8>(), 0..40),
        skf in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let (mut sealer, opener) = keys(suite, 7);
        let (mut msg, off, hl) = frame(&extra, skf, &plaintext);
        let before = msg[..off + hl].to_vec();
        sealer.seal(&mut msg, off, hl, &mut entropy(seed)).unwrap();
        // Lengths patched: IKE header length and SK payload length.
        prop_assert_eq!(u32::from_be_bytes(msg[24..28].try_into().unwrap()) as usize, msg.len());
        prop_assert_eq!(u16::from_be_bytes(msg[off + 2..off + 4].try_into().unwrap()) as usize, msg.len() - off);
        prop_assert_eq!(&msg[..24], &before[..24]);
        prop_assert_eq!(&msg[28..off + 2], &before[28..off + 2]);
        let overhead = sealer.overhead(plaintext.len()).unwrap();
        let sealed_body = msg.len() - off - hl;
        prop_assert_eq!(sealed_body, plaintext.len() + overhead);
        // max_plaintext is the inverse: this size fits, one more byte would not.
        prop_assert!(sealer.max_plaintext(sealed_body) >= plaintext.len());
        let max = sealer.max_plaintext(sealed_body);
        prop_assert!(max + sealer.overhead(max).unwrap() <= sealed_body);
        prop_assert!(max + 1 + sealer.overhead(max + 1).unwrap() > sealed_body);
        let range = opener.open(&mut msg, off, hl).unwrap();
        prop_assert_eq!(&msg[range], &plaintext[..]);
    }

    #[test]
    fn one_flipped_bit_fails_open(
        suite in 0..SUITES.len(),
        plaintext in proptest::collection::vec(any::<u8>(), 0..300),
        skf in any::<bool>(),
        bit in any::<prop::sample::Index>(),
    ) {
        let (mut sealer, opener) = keys(suite, 9);
        let (mut msg, off, hl) = frame(&[0xab; 12], skf, &plaintext);
        sealer.seal(&mut msg, off, hl, &mut entropy(3)).unwrap();
        let bit = bit.index(msg.len() * 8);
        msg[bit / 8] ^= 1 << (bit % 8);
        let result = opener.open(&mut msg, off, hl);
        prop_assert!(result.is_err(), "bit {} accepted", bit);
    }
}

#[test]
fn sizes_up_to_max_round_trip_and_longer_is_refused_unchanged() {
    for suite in 0..SUITES.len() {
        let (mut sealer, opener) = keys(suite, 1);
        for size in [0usize, 1, 15, 16, 17, 255, 256, 9000, 65_000] {
            let plaintext: Vec<u8> = (0..size).map(|i| i as u8).collect();
            let (mut msg, off, hl) = frame(&[], false, &plaintext);
            sealer.seal(&mut msg, off, hl, &mut entropy(size as u64)).unwrap();
            let range = opener.open(&mut msg, off, hl).unwrap();
            assert_eq!(&msg[range], &plaintext[..], "suite {suite} size {size}");
        }
        let (mut msg, off, hl) = frame(&[], false, &vec![0u8; 65_530]);
        let copy = msg.clone();
        assert_eq!(
            sealer.seal(&mut msg, off, hl, &mut entropy(0)),
            Err(CryptoError::TooLong)
        );
        assert_eq!(msg, copy);
    }
}

#[test]
fn framing_errors_leave_the_message_unchanged() {
    let (mut sealer, opener) = keys(0, 1);
    let (mut msg, off, _) = frame(&[], false, b"payload");
    let copy = msg.clone();
    for (o, h) in [(off, 5), (off, 0), (27, 4), (msg.len() - 3, 4), (usize::MAX, 4)] {
        assert!(matches!(
            sealer.seal(&mut msg, o, h, &mut entropy(0)),
            Err(CryptoError::Malformed { .. })
        ));
        assert_eq!(msg, copy);
        assert!(matches!(
            opener.open(&mut msg.clone(), o, h),
            Err(CryptoError::Malformed { .. })
        ));
    }
}

#[test]
fn open_checks_length_fields_and_minimum_size() {
    for suite in [0, 3] {
        let (mut sealer, opener) = keys(suite, 2);
        let (mut msg, off, hl) = frame(&[], false, b"inner payloads");
        sealer.seal(&mut msg, off, hl, &mut entropy(0)).unwrap();
        // Truncated message: the IKE length no longer matches.
        for cut in 1..=msg.len() - 28 {
            let mut short = msg[..msg.len() - cut].to_vec();
            assert!(opener.open(&mut short, off, hl).is_err(), "cut {cut}");
        }
        // Consistent length fields but nothing after the IV.
        let mut tiny = msg[..off + hl].to_vec();
        let len = tiny.len() as u32;
        tiny[24..28].copy_from_slice(&len.to_be_bytes());
        tiny[off + 2..off + 4].copy_from_slice(&(hl as u16).to_be_bytes());
        assert!(matches!(
            opener.open(&mut tiny, off, hl),
            Err(CryptoError::Malformed { .. })
        ));
    }
}

#[test]
fn wrong_key_fails() {
    let (mut sealer, _) = keys(1, 5);
    let (_, other) = keys(1, 6);
    let (mut msg, off, hl) = frame(&[], false, b"hello");
    sealer.seal(&mut msg, off, hl, &mut entropy(0)).unwrap();
    assert_eq!(
        other.open(&mut msg, off, hl),
        Err(CryptoError::IntegrityCheckFailed)
    );
}

#[test]
fn aead_ivs_count_and_cbc_ivs_are_random() {
    let (mut gcm, _) = keys(0, 1);
    assert_eq!(gcm.aead_iv_counter(), None);
    let (mut a, off, hl) = frame(&[], false, b"same");
    let (mut b, _, _) = frame(&[], false, b"same");
    gcm.seal(&mut a, off, hl, &mut entropy(0)).unwrap();
    // The second seal's generator is not consulted: the counter continues.
    gcm.seal(&mut b, off, hl, &mut entropy(99)).unwrap();
    let iv_a = u64::from_be_bytes(a[off + hl..off + hl + 8].try_into().unwrap());
    let iv_b = u64::from_be_bytes(b[off + hl..off + hl + 8].try_into().unwrap());
    assert!(iv_a < 1 << 63, "random start in the lower half");
    assert_eq!(iv_b, iv_a + 1);
    assert_eq!(gcm.aead_iv_counter(), Some(iv_a + 2));
    assert_ne!(a, b);
    // Two keys built from the same key bytes start at different points.
    let (mut other, _) = keys(0, 1);
    let (mut c, _, _) = frame(&[], false, b"same");
    other.seal(&mut c, off, hl, &mut entropy(1)).unwrap();
    assert_ne!(&c[off + hl..off + hl + 8], &a[off + hl..off + hl + 8]);
    let mut exhausted = keys(0, 1).0.with_aead_iv_counter(u64::MAX);
    let (mut c, _, _) = frame(&[], false, b"same");
    let copy = c.clone();
    assert_eq!(
        exhausted.seal(&mut c, off, hl, &mut entropy(0)),
        Err(CryptoError::IvExhausted)
    );
    assert_eq!(c, copy);

    let (mut cbc, _) = keys(3, 1);
    let (mut x, off, hl) = frame(&[], false, b"same");
    let (mut y, _, _) = frame(&[], false, b"same");
    cbc.seal(&mut x, off, hl, &mut entropy(1)).unwrap();
    cbc.seal(&mut y, off, hl, &mut entropy(2)).unwrap();
    assert_ne!(&x[off + hl..off + hl + 16], &y[off + hl..off + hl + 16]);
}

#[test]
fn cbc_bad_pad_length_is_rejected_after_a_valid_icv() {
    let p = strong();
    let encr = p.encr(EncrId::ENCR_AES_CBC, Some(128)).unwrap();
    let integ = p.integ(IntegId::AUTH_HMAC_SHA2_256_128).unwrap();
    let (ke, ka) = ([3u8; 16], [4u8; 32]);
    let opener = SkKey::new(encr, Some(integ), &ke, &ka).unwrap();
    // One block whose pad length byte (200) exceeds the 15 bytes before it.
    let (mut msg, off, hl) = frame(&[], false, &[]);
    let iv = [9u8; 16];
    let mut block = [0u8; 16];
    block[15] = 200;
    encr.key(&ke)
        .unwrap()
        .encrypt(&iv, &[], &mut block, &mut [])
        .unwrap();
    msg.extend_from_slice(&iv);
    msg.extend_from_slice(&block);
    msg.extend_from_slice(&[0u8; 16]);
    let total = msg.len();
    msg[24..28].copy_from_slice(&(total as u32).to_be_bytes());
    msg[off + 2..off + 4].copy_from_slice(&((total - off) as u16).to_be_bytes());
    let (signed, icv) = msg.split_at_mut(total - 16);
    integ.key(&ka).unwrap().compute(signed, icv).unwrap();
    assert_eq!(opener.open(&mut msg, off, hl), Err(CryptoError::BadPadding));
}

#[test]
fn aead_and_integrity_must_match_the_cipher_kind() {
    let p = strong();
    let gcm = p.encr(EncrId::ENCR_AES_GCM_16, Some(128)).unwrap();
    let cbc = p.encr(EncrId::ENCR_AES_CBC, Some(128)).unwrap();
    let sha = p.integ(IntegId::AUTH_HMAC_SHA2_256_128).unwrap();
    assert_eq!(
        SkKey::new(gcm, Some(sha), &[0; 20], &[0; 32]).unwrap_err(),
        CryptoError::UnsupportedAlgorithm
    );
    assert_eq!(
        SkKey::new(cbc, None, &[0; 16], &[]).unwrap_err(),
        CryptoError::UnsupportedAlgorithm
    );
    assert_eq!(
        SkKey::new(gcm, None, &[0; 16], &[]).unwrap_err(),
        CryptoError::InvalidKeyLength
    );
    assert_eq!(
        SkKey::new(cbc, Some(sha), &[0; 16], &[0; 31]).unwrap_err(),
        CryptoError::InvalidKeyLength
    );
}

#[test]
fn ike_sa_keys_give_matching_directions() {
    let p = strong();
    let prf = p.prf(ipsec_ike::crypto::PrfId::PRF_HMAC_SHA2_256).unwrap();
    let encr = p.encr(EncrId::ENCR_AES_GCM_16, Some(256)).unwrap();
    let lengths = KeyLengths::new(prf, encr, None);
    assert_eq!(
        lengths,
        KeyLengths {
            prf: 32,
            integ: 0,
            encr: 36
        }
    );
    let k =
        IkeSaKeys::from_shared_secret(prf, b"g^ir", &[1; 32], &[2; 32], &[3; 8], &[4; 8], lengths).unwrap();
    assert!(k.sk_ai.is_empty() && k.sk_ar.is_empty());
    assert_eq!(k.sk_ei.len(), 36);
    let dbg = format!("{k:?}");
    assert!(dbg.contains("SecretBytes(36 bytes)"));
    let (mut i_out, i_in) = k.sk_keys(Role::Initiator, encr, None).unwrap();
    let (mut r_out, r_in) = k.sk_keys(Role::Responder, encr, None).unwrap();
    let (mut req, off, hl) = frame(&[], false, b"request");
    i_out.seal(&mut req, off, hl, &mut entropy(0)).unwrap();
    assert!(
        i_in.open(&mut req.clone(), off, hl).is_err(),
        "own direction must not open"
    );
    let range = r_in.open(&mut req, off, hl).unwrap();
    assert_eq!(&req[range], b"request");
    let (mut resp, off, hl) = frame(&[], false, b"response");
    r_out.seal(&mut resp, off, hl, &mut entropy(0)).unwrap();
    let range = i_in.open(&mut resp, off, hl).unwrap();
    assert_eq!(&resp[range], b"response");
}
