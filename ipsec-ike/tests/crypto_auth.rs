//! AUTH payload data (RFC 7296 §2.15, RFC 4754, RFC 7427): shared-key MIC and signatures with
//! the test PKI keys under tests/fixtures/crypto/certs.
#![cfg(feature = "rustcrypto")]

mod crypto_support;

use crypto_support::{entropy, legacy, strong};
use hmac::{Hmac, KeyInit, Mac};
use ipsec_ike::cert::Certificate;
use ipsec_ike::crypto::auth::{
    hash_algorithms_notify_data, parse_digital_signature, parse_hash_algorithms, sign_auth, verify_auth,
};
use ipsec_ike::crypto::{
    AuthMethod, CryptoError, CryptoProvider, HashAlgorithm, KeyType, PrfId, SignatureAlgorithm,
};
use ipsec_ike::keys;
use sha2::Sha256;

const RSA_KEY: &[u8] = include_bytes!("fixtures/crypto/certs/rsa-leaf.key.der");
const RSA_CERT: &[u8] = include_bytes!("fixtures/crypto/certs/rsa-leaf.der");
const EC_KEY: &[u8] = include_bytes!("fixtures/crypto/certs/ec-leaf.key.der");
const EC_CERT: &[u8] = include_bytes!("fixtures/crypto/certs/ec-leaf.der");
const EC384_KEY: &[u8] = include_bytes!("fixtures/crypto/certs/ec384-leaf.key.der");
const EC384_CERT: &[u8] = include_bytes!("fixtures/crypto/certs/ec384-leaf.der");

const ALL_HASHES: &[HashAlgorithm] = &[
    HashAlgorithm::SHA2_256,
    HashAlgorithm::SHA2_384,
    HashAlgorithm::SHA2_512,
];

fn hmac256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

#[test]
fn rfc7296_2_15_shared_key_mic() {
    let prf = strong().prf(PrfId::PRF_HMAC_SHA2_256).unwrap();
    let octets = keys::signed_octets(
        prf,
        b"SK_pi key",
        b"IKE_SA_INIT request bytes",
        b"Nr",
        b"\x02\0\0\0vpn.example.com",
    )
    .unwrap();
    // RealMessage | Nonce | prf(SK_p, RestOfIDPayload), computed independently.
    let expected_octets = [
        &b"IKE_SA_INIT request bytes"[..],
        b"Nr",
        &hmac256(b"SK_pi key", b"\x02\0\0\0vpn.example.com"),
    ]
    .concat();
    assert_eq!(octets, expected_octets);
    let auth = keys::shared_key_auth(prf, b"shared secret", &octets).unwrap();
    let expected = hmac256(&hmac256(b"shared secret", b"Key Pad for IKEv2"), &octets);
    assert_eq!(auth.as_bytes(), expected);
    keys::verify_shared_key_auth(prf, b"shared secret", &octets, &expected).unwrap();
    let mut bad = expected.clone();
    bad[31] ^= 1;
    assert_eq!(
        keys::verify_shared_key_auth(prf, b"shared secret", &octets, &bad),
        Err(CryptoError::AuthenticationFailed)
    );
    assert_eq!(
        keys::verify_shared_key_auth(prf, b"shared secret", &octets, &expected[..31]),
        Err(CryptoError::AuthenticationFailed)
    );
    assert_eq!(
        keys::verify_shared_key_auth(prf, b"other secret", &octets, &expected),
        Err(CryptoError::AuthenticationFailed)
    );
}

fn spki(cert: &[u8]) -> Vec<u8> {
    Certificate::from_der(cert)
        .unwrap()
        .subject_public_key_info()
        .to_vec()
}

#[test]
fn rfc4754_ecdsa_methods_sign_and_verify() {
    let p = strong();
    for (key_der, cert, method, len) in [
        (EC_KEY, EC_CERT, AuthMethod::ECDSA_SHA256_P256, 64),
        (EC384_KEY, EC384_CERT, AuthMethod::ECDSA_SHA384_P384, 96),
    ] {
        let key = p.signing_key(key_der).unwrap();
        assert_eq!(key.public_key_spki().unwrap(), spki(cert));
        let auth = sign_auth(key.as_ref(), method, &[], b"signed octets", &mut entropy(1)).unwrap();
        assert_eq!(auth.len(), len, "{method:?}: r | s fixed length");
        verify_auth(p.signatures(), &spki(cert), method, &auth, b"signed octets").unwrap();
        assert_eq!(
            verify_auth(p.signatures(), &spki(cert), method, &auth, b"signed octetz"),
            Err(CryptoError::BadSignature)
        );
    }
    // Method 9 needs a P-256 key, 10 a P-384 key.
    let p384 = p.signing_key(EC384_KEY).unwrap();
    assert_eq!(
        sign_auth(
            p384.as_ref(),
            AuthMethod::ECDSA_SHA256_P256,
            &[],
            b"x",
            &mut entropy(1)
        ),
        Err(CryptoError::UnsupportedAlgorithm)
    );
}

#[test]
fn rfc7427_digital_signature_method_14_per_key_type() {
    let p = strong();
    for (key_der, cert, key_type, hashes, expected) in [
        (
            RSA_KEY,
            RSA_CERT,
            KeyType::Rsa { bits: 2048 },
            ALL_HASHES,
            SignatureAlgorithm::RsaPkcs1Sha256,
        ),
        (
            RSA_KEY,
            RSA_CERT,
            KeyType::Rsa { bits: 2048 },
            &[HashAlgorithm::SHA2_512][..],
            SignatureAlgorithm::RsaPkcs1Sha512,
        ),
        (
            EC_KEY,
            EC_CERT,
            KeyType::EcdsaP256,
            ALL_HASHES,
            SignatureAlgorithm::EcdsaSha256,
        ),
        (
            EC_KEY,
            EC_CERT,
            KeyType::EcdsaP256,
            &[HashAlgorithm::SHA2_384][..],
            SignatureAlgorithm::EcdsaSha384,
        ),
        (
            EC384_KEY,
            EC384_CERT,
            KeyType::EcdsaP384,
            ALL_HASHES,
            SignatureAlgorithm::EcdsaSha384,
        ),
    ] {
        let key = p.signing_key(key_der).unwrap();
        assert_eq!(key.key_type(), key_type);
        let auth = sign_auth(
            key.as_ref(),
            AuthMethod::DIGITAL_SIGNATURE,
            hashes,
            b"octets",
            &mut entropy(2),
        )
        .unwrap();
        let (alg, sig) = parse_digital_signature(&auth).unwrap();
        assert_eq!(alg, expected);
        if alg.is_ecdsa() {
            assert_eq!(sig[0], 0x30, "RFC 7427 ECDSA signatures are DER Ecdsa-Sig-Value");
        }
        verify_auth(
            p.signatures(),
            &spki(cert),
            AuthMethod::DIGITAL_SIGNATURE,
            &auth,
            b"octets",
        )
        .unwrap();
        let mut bad = auth.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(
            verify_auth(
                p.signatures(),
                &spki(cert),
                AuthMethod::DIGITAL_SIGNATURE,
                &bad,
                b"octets"
            )
            .is_err()
        );
        // Verifying with another key fails.
        let other = if cert == EC_CERT { RSA_CERT } else { EC_CERT };
        assert!(
            verify_auth(
                p.signatures(),
                &spki(other),
                AuthMethod::DIGITAL_SIGNATURE,
                &auth,
                b"octets"
            )
            .is_err()
        );
    }
    // No common hash: refuse rather than pick one the peer did not announce.
    let key = p.signing_key(RSA_KEY).unwrap();
    assert_eq!(
        sign_auth(
            key.as_ref(),
            AuthMethod::DIGITAL_SIGNATURE,
            &[HashAlgorithm::SHA1],
            b"x",
            &mut entropy(3)
        ),
        Err(CryptoError::UnsupportedAlgorithm)
    );
}

#[test]
fn rsa_method_1_uses_sha1_and_needs_the_opt_in() {
    let key = legacy().signing_key(RSA_KEY).unwrap();
    let auth = sign_auth(
        key.as_ref(),
        AuthMethod::RSA_DIGITAL_SIGNATURE,
        &[],
        b"octets",
        &mut entropy(4),
    )
    .unwrap();
    assert_eq!(auth.len(), 256);
    verify_auth(
        legacy().signatures(),
        &spki(RSA_CERT),
        AuthMethod::RSA_DIGITAL_SIGNATURE,
        &auth,
        b"octets",
    )
    .unwrap();
    assert_eq!(
        verify_auth(
            strong().signatures(),
            &spki(RSA_CERT),
            AuthMethod::RSA_DIGITAL_SIGNATURE,
            &auth,
            b"octets"
        ),
        Err(CryptoError::UnsupportedAlgorithm)
    );
    let strong_key = strong().signing_key(RSA_KEY).unwrap();
    assert_eq!(
        sign_auth(
            strong_key.as_ref(),
            AuthMethod::RSA_DIGITAL_SIGNATURE,
            &[],
            b"octets",
            &mut entropy(4)
        ),
        Err(CryptoError::UnsupportedAlgorithm)
    );
}

#[test]
fn malformed_auth_data_is_refused() {
    let p = strong();
    let s = spki(EC_CERT);
    let m = AuthMethod::DIGITAL_SIGNATURE;
    assert_eq!(
        verify_auth(p.signatures(), &s, m, &[], b"x"),
        Err(CryptoError::MalformedSignature)
    );
    assert_eq!(
        verify_auth(p.signatures(), &s, m, &[40, 1, 2], b"x"),
        Err(CryptoError::MalformedSignature)
    );
    // RSASSA-PSS (RFC 7427 A.4.1) is not supported.
    let pss = [
        &[15u8][..],
        &hex::decode("300d06092a864886f70d01010a3000").unwrap(),
        &[0u8; 64],
    ]
    .concat();
    assert_eq!(
        verify_auth(p.signatures(), &s, m, &pss, b"x"),
        Err(CryptoError::UnsupportedAlgorithm)
    );
    // ecdsa-with-SHA256 AID with no signature after it.
    let empty = hex::decode("0c300a06082a8648ce3d040302").unwrap();
    assert_eq!(
        verify_auth(p.signatures(), &s, m, &empty, b"x"),
        Err(CryptoError::MalformedSignature)
    );
    // A DER signature with garbage.
    let garbage = [&empty[..], &[0x30, 0x03, 0x02, 0x01]].concat();
    assert_eq!(
        verify_auth(p.signatures(), &s, m, &garbage, b"x"),
        Err(CryptoError::MalformedSignature)
    );
    // Methods we do not do.
    assert_eq!(
        verify_auth(
            p.signatures(),
            &s,
            AuthMethod::DSS_DIGITAL_SIGNATURE,
            &[0; 40],
            b"x"
        ),
        Err(CryptoError::UnsupportedAlgorithm)
    );
    assert_eq!(
        verify_auth(p.signatures(), &s, AuthMethod::SHARED_KEY_MIC, &[0; 32], b"x"),
        Err(CryptoError::UnsupportedAlgorithm)
    );
    // Garbage public keys.
    assert_eq!(
        verify_auth(
            p.signatures(),
            &[0x30, 0x00],
            AuthMethod::ECDSA_SHA256_P256,
            &[1; 64],
            b"x"
        ),
        Err(CryptoError::InvalidKey)
    );
    assert!(p.signing_key(&[0x30, 0x03, 0x02, 0x01, 0x00]).is_err());
}

#[test]
fn rfc7427_4_signature_hash_algorithms_notify_data() {
    let data = hash_algorithms_notify_data(ALL_HASHES);
    assert_eq!(data, [0, 2, 0, 3, 0, 4]);
    assert_eq!(parse_hash_algorithms(&data).unwrap(), ALL_HASHES);
    assert_eq!(
        parse_hash_algorithms(&[0, 2, 0, 9]).unwrap(),
        [HashAlgorithm::SHA2_256, HashAlgorithm(9)]
    );
    assert_eq!(
        parse_hash_algorithms(&[0, 2, 0]),
        Err(CryptoError::MalformedSignature)
    );
}

#[test]
fn signing_key_debug_and_weak_rsa_policy() {
    // A 2048-bit key passes the default policy; the policy floor is checked on load.
    let p = ipsec_ike::crypto::rustcrypto::RustCrypto::with_options(
        ipsec_ike::crypto::rustcrypto::Options::new().min_rsa_bits(3072),
    );
    assert_eq!(p.signing_key(RSA_KEY).err(), Some(CryptoError::InvalidKey));
    assert!(
        verify_auth(
            p.signatures(),
            &spki(RSA_CERT),
            AuthMethod::DIGITAL_SIGNATURE,
            &[0; 16],
            b"x"
        )
        .is_err()
    );
}
