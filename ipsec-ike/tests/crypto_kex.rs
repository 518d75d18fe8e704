//! Key exchange (RFC 7296 §3.4): agreement per group, public value validation, weak-group opt-in.
#![cfg(feature = "rustcrypto")]

mod crypto_support;

use crypto_support::{entropy, legacy, strong};
use ipsec_ike::crypto::rustcrypto::{Options, RustCrypto};
use ipsec_ike::crypto::{CryptoError, CryptoProvider, DhGroup, WeakAlgorithm};

const GROUPS: &[(DhGroup, usize)] = &[
    (DhGroup::CURVE25519, 32),
    (DhGroup::ECP_256, 64),
    (DhGroup::ECP_384, 96),
    (DhGroup::MODP_2048, 256),
    (DhGroup::MODP_3072, 384),
    (DhGroup::MODP_4096, 512),
];

#[test]
fn generated_secrets_agree_in_every_group() {
    for (n, &(group, len)) in GROUPS.iter().enumerate() {
        let kex = strong().key_exchange(group).unwrap();
        assert_eq!(kex.group(), group);
        let i = kex.generate(&mut entropy(n as u64)).unwrap();
        let r = kex.generate(&mut entropy(100 + n as u64)).unwrap();
        assert_eq!(i.group(), group);
        assert_eq!(i.public_value().len(), len);
        assert_ne!(i.public_value(), r.public_value());
        let a = i.agree(r.public_value()).unwrap();
        let b = r.agree(i.public_value()).unwrap();
        assert_eq!(a.as_bytes(), b.as_bytes(), "{group:?}");
        assert_eq!(a.len(), kex.shared_len());
        // Same seed, same key: generation only uses the injected generator.
        let again = kex.generate(&mut entropy(n as u64)).unwrap();
        assert_eq!(again.public_value(), i.public_value());
        // Wrong lengths are refused.
        assert_eq!(
            i.agree(&r.public_value()[1..]).unwrap_err(),
            CryptoError::InvalidPublicValue
        );
        let mut long = r.public_value().to_vec();
        long.push(0);
        assert_eq!(i.agree(&long).unwrap_err(), CryptoError::InvalidPublicValue);
        assert_eq!(i.agree(&[]).unwrap_err(), CryptoError::InvalidPublicValue);
    }
}

#[test]
fn modp1024_needs_the_run_time_opt_in() {
    assert!(strong().key_exchange(DhGroup::MODP_1024).is_none());
    assert!(RustCrypto::new().key_exchange(DhGroup::MODP_1024).is_none());
    assert!(DhGroup::MODP_1024.is_weak());
    let allowed = RustCrypto::with_options(Options::new().allow_weak_modp1024(true));
    let kex = allowed.key_exchange(DhGroup::MODP_1024).unwrap();
    let i = kex.generate(&mut entropy(1)).unwrap();
    let r = kex.generate(&mut entropy(2)).unwrap();
    assert_eq!(i.public_value().len(), 128);
    assert_eq!(
        i.agree(r.public_value()).unwrap().as_bytes(),
        r.agree(i.public_value()).unwrap().as_bytes()
    );
    assert!(
        legacy().key_exchange(DhGroup::MODP_768).is_none(),
        "MODP-768 is never provided"
    );
}

#[test]
fn rfc5903_ecp_points_are_validated() {
    for (group, len) in [(DhGroup::ECP_256, 64), (DhGroup::ECP_384, 96)] {
        let kex = strong().key_exchange(group).unwrap();
        let i = kex.generate(&mut entropy(5)).unwrap();
        // All zeros (not on the curve; also the would-be point at infinity).
        assert_eq!(
            i.agree(&vec![0u8; len]).unwrap_err(),
            CryptoError::InvalidPublicValue
        );
        // A valid point with y changed is off the curve.
        let mut off_curve = kex.generate(&mut entropy(6)).unwrap().public_value().to_vec();
        off_curve[len - 1] ^= 1;
        assert_eq!(i.agree(&off_curve).unwrap_err(), CryptoError::InvalidPublicValue);
        // Coordinates >= p.
        assert_eq!(
            i.agree(&vec![0xff; len]).unwrap_err(),
            CryptoError::InvalidPublicValue
        );
    }
}

#[test]
fn rfc8031_2_3_all_zero_x25519_result_is_refused() {
    let kex = strong().key_exchange(DhGroup::CURVE25519).unwrap();
    let i = kex.generate(&mut entropy(7)).unwrap();
    // Low-order points (u = 0, u = 1) give the all-zero shared secret.
    assert_eq!(i.agree(&[0u8; 32]).unwrap_err(), CryptoError::WeakSharedSecret);
    let mut one = [0u8; 32];
    one[0] = 1;
    assert_eq!(i.agree(&one).unwrap_err(), CryptoError::WeakSharedSecret);
}

#[test]
fn import_private_rejects_out_of_range_values() {
    let p = strong();
    let ecp = p.key_exchange(DhGroup::ECP_256).unwrap();
    assert!(ecp.import_private(&[0u8; 32]).is_err(), "zero scalar");
    assert!(ecp.import_private(&[0xffu8; 32]).is_err(), "scalar >= n");
    assert!(ecp.import_private(&[1u8; 31]).is_err(), "wrong length");
    let x = p.key_exchange(DhGroup::CURVE25519).unwrap();
    assert!(x.import_private(&[1u8; 31]).is_err());
    let modp = p.key_exchange(DhGroup::MODP_2048).unwrap();
    assert!(modp.import_private(&[]).is_err());
    assert!(modp.import_private(&[0, 0]).is_err());
    assert!(modp.import_private(&[1u8; 65]).is_err());
}

#[test]
fn failing_generator_is_reported() {
    struct Broken;
    #[derive(Debug)]
    struct E;
    impl core::fmt::Display for E {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            f.write_str("e")
        }
    }
    impl core::error::Error for E {}
    impl rand_core::TryRng for Broken {
        type Error = E;
        fn try_next_u32(&mut self) -> Result<u32, E> {
            Err(E)
        }
        fn try_next_u64(&mut self) -> Result<u64, E> {
            Err(E)
        }
        fn try_fill_bytes(&mut self, _: &mut [u8]) -> Result<(), E> {
            Err(E)
        }
    }
    impl rand_core::TryCryptoRng for Broken {}
    for &(group, _) in GROUPS {
        let kex = strong().key_exchange(group).unwrap();
        let mut rng = ipsec_ike::crypto::Entropy::new(Broken);
        assert_eq!(
            kex.generate(&mut rng).err(),
            Some(CryptoError::RandomFailure),
            "{group:?}"
        );
    }
}
