//! Published vectors for the IKEv2 cryptographic suite, each test named after its source. The
//! vector files are copies under tests/fixtures/crypto/ (see the README there).
#![cfg(feature = "rustcrypto")]

mod crypto_support;

use crypto_support::{entropy, hex, json, legacy, strong};
use ipsec_ike::crypto::auth::{algorithm_from_identifier, algorithm_identifier, sign_auth, verify_auth};
use ipsec_ike::crypto::sk::SkKey;
use ipsec_ike::crypto::{
    AuthMethod, CryptoError, CryptoProvider, DhGroup, EcdsaEncoding, EncrId, IntegId, PrfId,
    SignatureAlgorithm,
};
use ipsec_ike::keys::{self, IkeSaKeys, KeyLengths};
use serde_json::Value;

const HMAC: &str = include_str!("fixtures/crypto/hmac-sha2-rfc4868.json");
const KDF: &str = include_str!("fixtures/crypto/ikev2-kdf.json");
const DH: &str = include_str!("fixtures/crypto/dh-ecp-x25519.json");
const MODP: &str = include_str!("fixtures/crypto/dh-modp-groups.json");
const SIGS: &str = include_str!("fixtures/crypto/ikev2-signatures.json");
const CHACHA: &str = include_str!("fixtures/crypto/esp-ikev2-chacha20poly1305-rfc7634.json");
const MESSAGES: &str = include_str!("fixtures/crypto/ikev2-messages.json");
const AOSP_CERT: &[u8] = include_bytes!("fixtures/crypto/aosp-end-cert-small.der");
const AOSP_KEY: &[u8] = include_bytes!("fixtures/crypto/aosp-end-cert-key-a.der");

fn prf_id(name: &str) -> PrfId {
    match name {
        "PRF_HMAC_SHA1" => PrfId::PRF_HMAC_SHA1,
        "PRF_HMAC_SHA2_256" => PrfId::PRF_HMAC_SHA2_256,
        "PRF_HMAC_SHA2_384" => PrfId::PRF_HMAC_SHA2_384,
        "PRF_HMAC_SHA2_512" => PrfId::PRF_HMAC_SHA2_512,
        other => panic!("unknown PRF {other}"),
    }
}

fn integ_id(name: &str) -> IntegId {
    match name {
        "AUTH_HMAC_SHA2_256_128" => IntegId::AUTH_HMAC_SHA2_256_128,
        "AUTH_HMAC_SHA2_384_192" => IntegId::AUTH_HMAC_SHA2_384_192,
        "AUTH_HMAC_SHA2_512_256" => IntegId::AUTH_HMAC_SHA2_512_256,
        other => panic!("unknown integrity algorithm {other}"),
    }
}

fn cases<'a>(v: &'a Value, key: &str) -> &'a Vec<Value> {
    v[key].as_array().expect("case list")
}

#[test]
fn rfc4868_2_7_1_prf_hmac_sha2() {
    let v = json(HMAC);
    let p = strong();
    let mut n = 0;
    for case in cases(&v, "prf_cases") {
        let prf = p.prf(prf_id(case["alg"].as_str().unwrap())).unwrap();
        let out = prf
            .key(&hex(&case["key"]))
            .unwrap()
            .compute_secret(&[&hex(&case["data"])])
            .unwrap();
        assert_eq!(out.as_bytes(), hex(&case["output"]), "{}", case["id"]);
        n += 1;
    }
    assert_eq!(n, 16);
}

#[test]
fn rfc4868_2_7_1_prf_input_split_across_parts() {
    // prf(K, a | b) must not depend on how the input is split.
    let v = json(HMAC);
    let case = &cases(&v, "prf_cases")[3];
    let prf = strong().prf(prf_id(case["alg"].as_str().unwrap())).unwrap();
    let data = hex(&case["data"]);
    let (a, b) = data.split_at(7);
    let out = prf
        .key(&hex(&case["key"]))
        .unwrap()
        .compute_secret(&[a, &[], b])
        .unwrap();
    assert_eq!(out.as_bytes(), hex(&case["output"]));
}

#[test]
fn rfc4868_2_7_2_integrity_truncated_icv() {
    let v = json(HMAC);
    let p = strong();
    let mut n = 0;
    for case in cases(&v, "auth_cases") {
        let integ = p.integ(integ_id(case["alg"].as_str().unwrap())).unwrap();
        let key = integ.key(&hex(&case["key"])).unwrap();
        let data = hex(&case["data"]);
        let expected = hex(&case["icv"]);
        let mut icv = vec![0u8; integ.icv_len()];
        key.compute(&data, &mut icv).unwrap();
        assert_eq!(icv, expected, "{}", case["id"]);
        key.verify(&data, &expected).unwrap();
        let mut bad = expected.clone();
        bad[0] ^= 1;
        assert_eq!(key.verify(&data, &bad), Err(CryptoError::IntegrityCheckFailed));
        assert_eq!(
            key.verify(&data, &expected[1..]),
            Err(CryptoError::IntegrityCheckFailed)
        );
        n += 1;
    }
    assert_eq!(n, 9);
}

#[test]
fn nist_cavp_sp800_135_ikev2_prf_plus() {
    let v = json(KDF);
    let p = strong();
    let mut n = 0;
    for case in cases(&v, "prf_plus_cases") {
        let prf = p.prf(prf_id(case["prf"].as_str().unwrap())).unwrap();
        let key = prf.key(&hex(&case["key"])).unwrap();
        let expected = hex(&case["output"]);
        let mut out = vec![0u8; expected.len()];
        keys::prf_plus(key.as_ref(), &[&hex(&case["seed"])], &mut out).unwrap();
        assert_eq!(out, expected, "{}", case["id"]);
        n += 1;
    }
    assert_eq!(n, 7);
}

#[test]
fn prf_plus_refuses_more_than_255_blocks() {
    let prf = strong().prf(PrfId::PRF_HMAC_SHA2_256).unwrap();
    let key = prf.key(b"k").unwrap();
    let mut ok = vec![0u8; 255 * 32];
    keys::prf_plus(key.as_ref(), &[b"seed"], &mut ok).unwrap();
    let mut too_long = vec![0u8; 255 * 32 + 1];
    assert_eq!(
        keys::prf_plus(key.as_ref(), &[b"seed"], &mut too_long),
        Err(CryptoError::PrfPlusTooLong)
    );
    assert_eq!(
        too_long,
        vec![0u8; 255 * 32 + 1],
        "nothing written before the length check"
    );
    let parts: [&[u8]; 7] = [b"a"; 7];
    assert!(matches!(
        keys::prf_plus(key.as_ref(), &parts, &mut ok),
        Err(CryptoError::InvalidLength { .. })
    ));
    // Six parts are the same as their concatenation.
    let mut six = vec![0u8; 100];
    let mut joined = vec![0u8; 100];
    keys::prf_plus(key.as_ref(), &[b"a", b"bc", b"", b"def", b"g", b"h"], &mut six).unwrap();
    keys::prf_plus(key.as_ref(), &[b"abcdefgh"], &mut joined).unwrap();
    assert_eq!(six, joined);
}

#[test]
fn aosp_ikemacprftest_sha1_full_chain() {
    let v = json(KDF);
    let c = &cases(&v, "full_chain_cases")[0];
    assert_eq!(c["id"], "aosp-ikemacprftest-sha1");
    let p = legacy();
    let prf = p.prf(PrfId::PRF_HMAC_SHA1).unwrap();
    let (ni, nr) = (hex(&c["ni"]), hex(&c["nr"]));
    let seed = keys::skeyseed(prf, &ni, &nr, &hex(&c["g_ir"])).unwrap();
    assert_eq!(seed.as_bytes(), hex(&c["skeyseed"]));
    let encr = p.encr(EncrId::ENCR_AES_CBC, Some(128)).unwrap();
    let integ = p.integ(IntegId::AUTH_HMAC_SHA1_96).unwrap();
    let lengths = KeyLengths::new(prf, encr, Some(integ));
    assert_eq!(
        lengths,
        KeyLengths {
            prf: 20,
            integ: 20,
            encr: 16
        }
    );
    let spi_i: [u8; 8] = hex(&c["spi_i"]).try_into().unwrap();
    let spi_r: [u8; 8] = hex(&c["spi_r"]).try_into().unwrap();
    let k = IkeSaKeys::derive(prf, &seed, &ni, &nr, &spi_i, &spi_r, lengths).unwrap();
    assert_eq!(k.sk_d.as_bytes(), hex(&c["sk_d"]));
    assert_eq!(k.sk_ai.as_bytes(), hex(&c["sk_ai"]));
    assert_eq!(k.sk_ar.as_bytes(), hex(&c["sk_ar"]));
    assert_eq!(k.sk_ei.as_bytes(), hex(&c["sk_ei"]));
    assert_eq!(k.sk_er.as_bytes(), hex(&c["sk_er"]));
    assert_eq!(k.sk_pi.as_bytes(), hex(&c["sk_pi"]));
    assert_eq!(k.sk_pr.as_bytes(), hex(&c["sk_pr"]));
    let from_shared =
        IkeSaKeys::from_shared_secret(prf, &hex(&c["g_ir"]), &ni, &nr, &spi_i, &spi_r, lengths).unwrap();
    assert_eq!(from_shared.sk_pr.as_bytes(), hex(&c["sk_pr"]));

    // First CHILD SA (AES-CBC-128 + HMAC-SHA1-96): KEYMAT = prf+(SK_d, Ni | Nr).
    let child = keys::child_keymat(prf, k.sk_d.as_bytes(), None, &ni, &nr, 16, 20).unwrap();
    assert_eq!(child.encr_i.as_bytes(), hex(&c["child_encr_i"]));
    assert_eq!(child.integ_i.as_bytes(), hex(&c["child_integ_i"]));
    assert_eq!(child.encr_r.as_bytes(), hex(&c["child_encr_r"]));
    assert_eq!(child.integ_r.as_bytes(), hex(&c["child_integ_r"]));

    let sample = &c["prf_sha1_sample"];
    let out = prf
        .key(&hex(&sample["key"]))
        .unwrap()
        .compute_secret(&[&hex(&sample["data"])])
        .unwrap();
    assert_eq!(out.as_bytes(), hex(&sample["output"]));
}

#[test]
fn aosp_ikemacprftest_sha256_skeyseed() {
    let v = json(KDF);
    let c = &cases(&v, "full_chain_cases")[1];
    let prf = strong().prf(PrfId::PRF_HMAC_SHA2_256).unwrap();
    let seed = keys::skeyseed(prf, &hex(&c["ni"]), &hex(&c["nr"]), &hex(&c["g_ir"])).unwrap();
    assert_eq!(seed.as_bytes(), hex(&c["skeyseed"]));
    let sample = &c["prf_sample"];
    let out = prf
        .key(&hex(&sample["key"]))
        .unwrap()
        .compute_secret(&[&hex(&sample["data"])])
        .unwrap();
    assert_eq!(out.as_bytes(), hex(&sample["output"]));
}

#[test]
fn libreswan_cavs_ikev2_sha1_chain_with_child_and_rekey() {
    let v = json(KDF);
    let c = &cases(&v, "full_chain_cases")[2];
    let prf = legacy().prf(PrfId::PRF_HMAC_SHA1).unwrap();
    let (ni, nr) = (hex(&c["ni"]), hex(&c["nr"]));
    let seed = keys::skeyseed(prf, &ni, &nr, &hex(&c["g_ir"])).unwrap();
    assert_eq!(seed.as_bytes(), hex(&c["skeyseed"]));
    // DKM = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr), 132 bytes.
    let mut dkm = vec![0u8; 132];
    let spi_i = hex(&c["spi_i"]);
    let spi_r = hex(&c["spi_r"]);
    keys::prf_plus(
        prf.key(seed.as_bytes()).unwrap().as_ref(),
        &[&ni, &nr, &spi_i, &spi_r],
        &mut dkm,
    )
    .unwrap();
    assert_eq!(dkm, hex(&c["dkm"]));
    // SK_d is the first PRF-length bytes; IkeSaKeys::derive must agree.
    let lengths = KeyLengths {
        prf: 20,
        integ: 20,
        encr: 16,
    };
    let k = IkeSaKeys::derive(
        prf,
        &seed,
        &ni,
        &nr,
        &spi_i.try_into().unwrap(),
        &spi_r.try_into().unwrap(),
        lengths,
    )
    .unwrap();
    assert_eq!(k.sk_d.as_bytes(), &dkm[..20]);
    assert_eq!(k.sk_ai.as_bytes(), &dkm[20..40]);
    assert_eq!(k.sk_pr.as_bytes(), &dkm[112..132]);
    // DKM(Child SA) = prf+(SK_d, Ni | Nr); DKM(Child SA D-H) = prf+(SK_d, g^ir(new) | Ni | Nr).
    let g_new = hex(&c["g_ir_new"]);
    let child = keys::keymat(prf, &dkm[..20], None, &ni, &nr, 132).unwrap();
    assert_eq!(child.as_bytes(), hex(&c["dkm_child_sa"]));
    let child_dh = keys::keymat(prf, &dkm[..20], Some(&g_new), &ni, &nr, 132).unwrap();
    assert_eq!(child_dh.as_bytes(), hex(&c["dkm_child_sa_dh"]));
    let split = keys::child_keymat(prf, &dkm[..20], Some(&g_new), &ni, &nr, 16, 20).unwrap();
    assert_eq!(split.encr_i.as_bytes(), &child_dh.as_bytes()[..16]);
    assert_eq!(split.integ_r.as_bytes(), &child_dh.as_bytes()[52..72]);
    // SKEYSEED(rekey) = prf(SK_d, g^ir(new) | Ni | Nr).
    let rekey = keys::rekey_skeyseed(prf, &dkm[..20], &g_new, &ni, &nr).unwrap();
    assert_eq!(rekey.as_bytes(), hex(&c["skeyseed_rekey"]));
}

#[test]
fn rfc5903_8_ecp_groups() {
    let v = json(DH);
    let p = strong();
    let mut n = 0;
    for case in cases(&v, "ecp_cases") {
        let group = DhGroup(case["ike_group"].as_u64().unwrap() as u16);
        let Some(kex) = p.key_exchange(group) else {
            assert_eq!(group, DhGroup::ECP_521, "only ECP-521 is not provided");
            continue;
        };
        let i = kex.import_private(&hex(&case["i"])).unwrap();
        let r = kex.import_private(&hex(&case["r"])).unwrap();
        assert_eq!(
            i.public_value(),
            hex(&case["ke_payload_data_i"]),
            "{}",
            case["id"]
        );
        assert_eq!(
            r.public_value(),
            hex(&case["ke_payload_data_r"]),
            "{}",
            case["id"]
        );
        let gir = hex(&case["shared_secret_g_ir"]);
        assert_eq!(i.agree(r.public_value()).unwrap().as_bytes(), gir);
        assert_eq!(r.agree(i.public_value()).unwrap().as_bytes(), gir);
        assert_eq!(kex.public_len(), i.public_value().len());
        assert_eq!(kex.shared_len(), gir.len());
        n += 1;
    }
    assert_eq!(n, 2);
}

#[test]
fn rfc7748_6_1_and_rfc8031_appendix_a_x25519() {
    let v = json(DH);
    let kex = strong().key_exchange(DhGroup::CURVE25519).unwrap();
    for case in cases(&v, "x25519_cases") {
        let i = kex.import_private(&hex(&case["priv_i"])).unwrap();
        let r = kex.import_private(&hex(&case["priv_r"])).unwrap();
        assert_eq!(i.public_value(), hex(&case["pub_i"]), "{}", case["id"]);
        assert_eq!(r.public_value(), hex(&case["pub_r"]), "{}", case["id"]);
        assert_eq!(
            i.agree(&hex(&case["pub_r"])).unwrap().as_bytes(),
            hex(&case["shared"])
        );
        assert_eq!(
            r.agree(&hex(&case["pub_i"])).unwrap().as_bytes(),
            hex(&case["shared"])
        );
    }
}

/// 2^bits − p for a prime p with 2^(bits−1) < p < 2^bits: the two's complement of p.
fn two_pow_minus(p: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> = p.iter().map(|b| !b).collect();
    for b in out.iter_mut().rev() {
        let (v, carry) = b.overflowing_add(1);
        *b = v;
        if !carry {
            break;
        }
    }
    out
}

#[test]
fn rfc3526_rfc2409_modp_primes_and_public_value_checks() {
    let v = json(MODP);
    let p = legacy();
    let mut n = 0;
    for case in cases(&v, "groups") {
        let group = DhGroup(case["ike_group"].as_u64().unwrap() as u16);
        let Some(kex) = p.key_exchange(group) else {
            assert!(
                ![2, 14, 15, 16].contains(&group.0),
                "group {group:?} must be provided"
            );
            continue;
        };
        let prime = hex(&case["prime"]);
        let len = prime.len();
        assert_eq!(kex.public_len(), len);
        // x = 1: g^x = 2, left-padded to the prime length.
        let one = kex.import_private(&[1]).unwrap();
        let mut two = vec![0u8; len];
        two[len - 1] = 2;
        assert_eq!(one.public_value(), two);
        // x = bits: 2^bits mod p = 2^bits − p, which proves the prime is the RFC's.
        let bits = (len * 8) as u16;
        let wrap = kex.import_private(&bits.to_be_bytes()).unwrap();
        assert_eq!(wrap.public_value(), two_pow_minus(&prime), "{group:?}");
        // Shared secret with g^1 is the peer's public value itself: y^1 = y.
        let other = kex.import_private(&[0x12, 0x34, 0x56]).unwrap();
        assert_eq!(
            one.agree(other.public_value()).unwrap().as_bytes(),
            other.public_value()
        );
        assert_eq!(
            other.agree(one.public_value()).unwrap().as_bytes(),
            other.public_value()
        );

        // RFC 7296 §3.4 / SP 800-56A: reject 0, 1, p − 1, p, > p and wrong lengths.
        let mut p_minus_1 = prime.clone();
        p_minus_1[len - 1] -= 1;
        // p ends in 64 one bits, so p + 2^64 (with the carry) is a value above p.
        let mut above_p = prime.clone();
        above_p[len - 9] = above_p[len - 9].wrapping_add(1);
        let mut one_value = vec![0u8; len];
        one_value[len - 1] = 1;
        for bad in [
            vec![0u8; len],
            one_value,
            p_minus_1,
            prime.clone(),
            above_p,
            vec![0xff; len],
        ] {
            assert_eq!(
                one.agree(&bad).unwrap_err(),
                CryptoError::InvalidPublicValue,
                "{group:?}"
            );
        }
        assert_eq!(one.agree(&two[1..]).unwrap_err(), CryptoError::InvalidPublicValue);
        let mut longer = vec![0u8];
        longer.extend_from_slice(&two);
        assert_eq!(one.agree(&longer).unwrap_err(), CryptoError::InvalidPublicValue);
        n += 1;
    }
    assert_eq!(n, 4);
}

/// DER SubjectPublicKeyInfo for an uncompressed P-256 or P-384 point.
fn ec_spki(x: &[u8], y: &[u8]) -> Vec<u8> {
    let prefix: &[u8] = if x.len() == 32 {
        &[
            0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
            0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
        ]
    } else {
        &[
            0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b,
            0x81, 0x04, 0x00, 0x22, 0x03, 0x62, 0x00, 0x04,
        ]
    };
    [prefix, x, y].concat()
}

#[test]
fn rfc4754_8_ecdsa_auth_methods_9_and_10() {
    let v = json(SIGS);
    let p = strong();
    let mut n = 0;
    for case in cases(&v, "ecdsa_cases") {
        let method = AuthMethod(case["ike_auth_method"].as_u64().unwrap() as u8);
        if method == AuthMethod::ECDSA_SHA512_P521 {
            continue; // P-521 is not provided.
        }
        let spki = ec_spki(&hex(&case["gwx"]), &hex(&case["gwy"]));
        let message = hex(&case["message"]);
        let auth = hex(&case["ikev2_signature_r_concat_s"]);
        verify_auth(p.signatures(), &spki, method, &auth, &message).unwrap();
        let mut bad = auth.clone();
        bad[5] ^= 0x80;
        assert_eq!(
            verify_auth(p.signatures(), &spki, method, &bad, &message),
            Err(CryptoError::BadSignature)
        );
        assert_eq!(
            verify_auth(p.signatures(), &spki, method, &auth, b"abd"),
            Err(CryptoError::BadSignature),
            "{}",
            case["id"]
        );
        // The wrong length for the method's curve is malformed, not a verification attempt.
        assert_eq!(
            verify_auth(p.signatures(), &spki, method, &auth[1..], &message),
            Err(CryptoError::MalformedSignature)
        );
        n += 1;
    }
    assert_eq!(n, 2);
}

#[test]
fn rfc7427_appendix_a_algorithm_identifiers() {
    let v = json(SIGS);
    let mut supported = 0;
    for aid in cases(&v, "rfc7427_algorithm_identifiers") {
        let der = hex(&aid["der"]);
        let prefix = hex(&aid["auth_data_prefix"]);
        assert_eq!(prefix[0] as usize, der.len());
        assert_eq!(&prefix[1..], der);
        let name = aid["name"].as_str().unwrap();
        let expected = match name {
            "sha1WithRSAEncryption" => Some(SignatureAlgorithm::RsaPkcs1Sha1),
            "sha256WithRSAEncryption" => Some(SignatureAlgorithm::RsaPkcs1Sha256),
            "sha384WithRSAEncryption" => Some(SignatureAlgorithm::RsaPkcs1Sha384),
            "sha512WithRSAEncryption" => Some(SignatureAlgorithm::RsaPkcs1Sha512),
            "ecdsa-with-SHA256" => Some(SignatureAlgorithm::EcdsaSha256),
            "ecdsa-with-SHA384" => Some(SignatureAlgorithm::EcdsaSha384),
            "ecdsa-with-SHA512" => Some(SignatureAlgorithm::EcdsaSha512),
            _ => None, // RSASSA-PSS: deferred.
        };
        assert_eq!(algorithm_from_identifier(&der), expected, "{name}");
        if let Some(alg) = expected {
            assert_eq!(algorithm_identifier(alg), Some(der.as_slice()), "{name}");
            supported += 1;
        }
    }
    assert_eq!(supported, 7);
}

#[test]
fn aosp_ikeauthdigitalsignpayloadtest_rsa_sha256_auth() {
    let v = json(SIGS);
    let c = &v["aosp_rsa_sha256_auth"];
    let p = legacy();
    let prf = p.prf(PrfId::PRF_HMAC_SHA1).unwrap();
    // Responder signed octets: IKE_SA_INIT response | Ni | prf(SK_pr, IDr body).
    let octets = keys::signed_octets(
        prf,
        &hex(&c["sk_pr"]),
        &hex(&c["ike_sa_init_resp"]),
        &hex(&c["nonce_i"]),
        &hex(&c["id_r_payload_body"]),
    )
    .unwrap();
    let cert = ipsec_ike::cert::Certificate::from_der(AOSP_CERT).unwrap();
    let body = hex(&c["auth_payload_body"]);
    let method = AuthMethod(body[0]);
    assert_eq!(method, AuthMethod::DIGITAL_SIGNATURE);
    let auth_data = &body[4..];
    verify_auth(
        p.signatures(),
        cert.subject_public_key_info(),
        method,
        auth_data,
        &octets,
    )
    .unwrap();
    let mut flipped = octets.clone();
    flipped[100] ^= 1;
    assert_eq!(
        verify_auth(
            p.signatures(),
            cert.subject_public_key_info(),
            method,
            auth_data,
            &flipped
        ),
        Err(CryptoError::BadSignature)
    );
    // The 512-bit key is refused by the default policy.
    assert!(
        verify_auth(
            strong().signatures(),
            cert.subject_public_key_info(),
            method,
            auth_data,
            &octets
        )
        .is_err()
    );

    // Re-signing with the published key gives the same bytes (PKCS#1 v1.5 is deterministic).
    let key = p.signing_key(AOSP_KEY).unwrap();
    assert_eq!(key.public_key_spki().unwrap(), cert.subject_public_key_info());
    let ours = sign_auth(
        key.as_ref(),
        AuthMethod::DIGITAL_SIGNATURE,
        &[ipsec_ike::crypto::HashAlgorithm::SHA2_256],
        &octets,
        &mut entropy(1),
    )
    .unwrap();
    assert_eq!(ours, auth_data);
    let raw = key
        .sign(
            SignatureAlgorithm::RsaPkcs1Sha256,
            EcdsaEncoding::Der,
            &octets,
            &mut entropy(2),
        )
        .unwrap();
    assert_eq!(raw, hex(&c["signature"]));
}

#[test]
fn rfc7634_appendix_b_ikev2_sk_payload() {
    let v = json(CHACHA);
    let c = cases(&v, "cases")
        .iter()
        .find(|c| c["id"] == "rfc7634-appendix-B-ikev2")
        .unwrap();
    let encr = strong().encr(EncrId::ENCR_CHACHA20_POLY1305, None).unwrap();
    let keymat = hex(&c["keymat"]);
    let key = SkKey::new(encr, None, &keymat, &[]).unwrap();
    let message = hex(&c["ike_message"]);
    let mut buf = message.clone();
    let range = key.open(&mut buf, 28, 4).unwrap();
    // Inner payloads without the pad length byte (no padding in this example).
    let plaintext = hex(&c["plaintext"]);
    assert_eq!(&buf[range], &plaintext[..plaintext.len() - 1]);

    // Sealing the same inner payloads with the same IV reproduces the message byte for byte.
    let iv = u64::from_be_bytes(hex(&c["iv"]).try_into().unwrap());
    let mut sealer = SkKey::new(encr, None, &keymat, &[])
        .unwrap()
        .with_aead_iv_counter(iv);
    let mut out = hex(&c["ike_header"]);
    out.extend_from_slice(&hex(&c["sk_payload_header"]));
    out.extend_from_slice(&plaintext[..plaintext.len() - 1]);
    sealer.seal(&mut out, 28, 4, &mut entropy(0)).unwrap();
    assert_eq!(out, message);
    assert_eq!(sealer.aead_iv_counter(), Some(iv + 1));

    // One flipped bit anywhere (header/AAD, IV, ciphertext, tag) fails.
    for bit in 0..message.len() * 8 {
        let mut bad = message.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        assert!(key.open(&mut bad, 28, 4).is_err(), "bit {bit}");
    }
}

#[test]
fn aosp_ikeencryptedpayloadbodytest_3des_hmac_sha1_96_icv() {
    // 3DES is out of scope; these messages check the HMAC-SHA1-96 ICV over the whole message
    // minus the ICV (RFC 7296 §3.14) for an SK and an SKF (RFC 7383 §2.5) payload.
    let v = json(MESSAGES);
    let integ = legacy().integ(IntegId::AUTH_HMAC_SHA1_96).unwrap();
    assert!(
        strong().integ(IntegId::AUTH_HMAC_SHA1_96).is_none(),
        "SHA-1 needs the opt-in"
    );
    for case in cases(&v, "encrypted_3des") {
        let msg = hex(&case["message"]);
        let key = integ.key(&hex(&case["sk_a"])).unwrap();
        let (signed, icv) = msg.split_at(msg.len() - 12);
        key.verify(signed, icv).unwrap();
        let mut bad = msg.clone();
        bad[30] ^= 4;
        let (signed, icv) = bad.split_at(bad.len() - 12);
        assert_eq!(
            key.verify(signed, icv),
            Err(CryptoError::IntegrityCheckFailed),
            "{}",
            case["id"]
        );
        assert!(strong().encr(EncrId::ENCR_3DES, Some(192)).is_none());
    }
}
