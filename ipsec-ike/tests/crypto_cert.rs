//! X.509 chain validation and identity matching with the test PKI made by
//! tests/fixtures/crypto/certs/gen.sh (RSA-2048 and ECDSA P-256 chains with SANs).
#![cfg(feature = "rustcrypto")]

mod crypto_support;

use crypto_support::{legacy, strong};
use ipsec_ike::cert::{
    AltName, CertError, Certificate, PeerIdentity, certreq_authority_hash, matches_identity, validate_chain,
};
use ipsec_ike::crypto::CryptoProvider;

macro_rules! cert {
    ($name:literal) => {
        Certificate::from_der(include_bytes!(concat!("fixtures/crypto/certs/", $name, ".der"))).unwrap()
    };
}

const DAY: u64 = 86_400;

/// A time inside every fixture certificate's validity (they are issued together).
fn now(c: &Certificate) -> u64 {
    c.not_before() + DAY
}

#[test]
fn rsa_chain_validates_to_its_anchor() {
    let (leaf, ca) = (cert!("rsa-leaf"), cert!("rsa-ca"));
    validate_chain(
        strong().signatures(),
        &leaf,
        &[],
        std::slice::from_ref(&ca),
        now(&leaf),
    )
    .unwrap();
    // Extra unrelated intermediates and anchors do not disturb the search.
    let others = [cert!("ec-int"), cert!("noca-ca")];
    validate_chain(
        strong().signatures(),
        &leaf,
        &others,
        &[cert!("ec-ca"), ca],
        now(&leaf),
    )
    .unwrap();
}

#[test]
fn ecdsa_chain_through_intermediate() {
    let (leaf, int, root) = (cert!("ec-leaf"), cert!("ec-int"), cert!("ec-ca"));
    validate_chain(
        strong().signatures(),
        &leaf,
        std::slice::from_ref(&int),
        std::slice::from_ref(&root),
        now(&leaf),
    )
    .unwrap();
    // Without the intermediate there is no path.
    assert_eq!(
        validate_chain(
            strong().signatures(),
            &leaf,
            &[],
            std::slice::from_ref(&root),
            now(&leaf)
        ),
        Err(CertError::UnknownIssuer)
    );
    // The intermediate itself may be configured as the anchor.
    validate_chain(strong().signatures(), &leaf, &[], &[int], now(&leaf)).unwrap();
    // A P-384 leaf directly under the P-256 root.
    let p384 = cert!("ec384-leaf");
    validate_chain(strong().signatures(), &p384, &[], &[root], now(&p384)).unwrap();
}

#[test]
fn expired_and_not_yet_valid_at_the_given_time() {
    let (leaf, ca) = (cert!("rsa-leaf"), cert!("rsa-ca"));
    let anchors = [ca];
    assert_eq!(
        validate_chain(strong().signatures(), &leaf, &[], &anchors, leaf.not_after() + 1),
        Err(CertError::Expired)
    );
    assert_eq!(
        validate_chain(strong().signatures(), &leaf, &[], &anchors, leaf.not_before() - 1),
        Err(CertError::NotYetValid)
    );
    validate_chain(strong().signatures(), &leaf, &[], &anchors, leaf.not_after()).unwrap();
    // The intermediate's validity counts too: the EC leaf outlives nothing here, so check an
    // intermediate expiring before the leaf's time by moving the clock past it.
    let (ec_leaf, int, root) = (cert!("ec-leaf"), cert!("ec-int"), cert!("ec-ca"));
    assert_eq!(
        validate_chain(
            strong().signatures(),
            &ec_leaf,
            &[int],
            &[root],
            ec_leaf.not_after() + 1
        ),
        Err(CertError::Expired)
    );
}

#[test]
fn wrong_anchor_is_refused() {
    let leaf = cert!("rsa-leaf");
    assert_eq!(
        validate_chain(strong().signatures(), &leaf, &[], &[cert!("ec-ca")], now(&leaf)),
        Err(CertError::UnknownIssuer)
    );
    // Same subject name as the real CA, different key: the signature does not verify.
    assert_eq!(
        validate_chain(strong().signatures(), &leaf, &[], &[cert!("evil-ca")], now(&leaf)),
        Err(CertError::BadSignature)
    );
    // An anchor of the wrong chain offered as "intermediate" plus the evil root.
    assert_eq!(
        validate_chain(
            strong().signatures(),
            &leaf,
            &[cert!("evil-ca")],
            &[cert!("ec-ca")],
            now(&leaf)
        ),
        Err(CertError::BadSignature)
    );
}

#[test]
fn issuer_without_basic_constraints_ca_is_refused() {
    let (leaf, noca) = (cert!("noca-leaf"), cert!("noca-ca"));
    assert_eq!(noca.basic_constraints(), None);
    assert_eq!(
        validate_chain(
            strong().signatures(),
            &leaf,
            &[],
            std::slice::from_ref(&noca),
            now(&leaf)
        ),
        Err(CertError::NotCa)
    );
    // Sent as an intermediate, it is refused for the same reason before any anchor is sought.
    assert_eq!(
        validate_chain(
            strong().signatures(),
            &leaf,
            &[noca],
            &[cert!("ec-ca")],
            now(&leaf)
        ),
        Err(CertError::NotCa)
    );
    assert_eq!(cert!("ec-leaf").basic_constraints(), Some((false, None)));
}

#[test]
fn path_length_constraint_is_enforced() {
    // ec-int has pathLenConstraint 0, so the CA ec-int2 below it may not issue certificates.
    let (deep, int2, int, root) = (
        cert!("deep-leaf"),
        cert!("ec-int2"),
        cert!("ec-int"),
        cert!("ec-ca"),
    );
    assert_eq!(int.basic_constraints(), Some((true, Some(0))));
    assert_eq!(
        validate_chain(
            strong().signatures(),
            &deep,
            &[int2.clone(), int.clone()],
            &[root],
            now(&deep)
        ),
        Err(CertError::PathLenExceeded)
    );
    // With ec-int2 itself trusted the path is fine (no constraint above it).
    validate_chain(
        strong().signatures(),
        &deep,
        &[],
        std::slice::from_ref(&int2),
        now(&deep),
    )
    .unwrap();
    // And with ec-int as anchor the constraint still applies to the anchor.
    assert_eq!(
        validate_chain(strong().signatures(), &deep, &[int2], &[int], now(&deep)),
        Err(CertError::PathLenExceeded)
    );
}

#[test]
fn end_entity_key_usage_without_digital_signature_is_refused() {
    let (leaf, ca) = (cert!("keyenc-leaf"), cert!("rsa-ca"));
    let ku = leaf.key_usage().unwrap();
    assert!(!ku.digital_signature && !ku.non_repudiation);
    assert_eq!(
        validate_chain(strong().signatures(), &leaf, &[], &[ca], now(&leaf)),
        Err(CertError::KeyUsage)
    );
    // No keyUsage extension at all is acceptable.
    let plain = cert!("plain-leaf");
    assert_eq!(plain.key_usage(), None);
    validate_chain(
        strong().signatures(),
        &plain,
        &[cert!("ec-int")],
        &[cert!("ec-ca")],
        now(&plain),
    )
    .unwrap();
}

#[test]
fn identity_matching_rfc4945_3_1() {
    let rsa = cert!("rsa-leaf");
    assert_eq!(rsa.alt_names().len(), 4);
    assert!(
        rsa.alt_names()
            .contains(&AltName::Dns(b"vpn.example.com".to_vec()))
    );
    matches_identity(&rsa, &PeerIdentity::Fqdn(b"vpn.example.com")).unwrap();
    matches_identity(&rsa, &PeerIdentity::Fqdn(b"VPN.Example.COM")).unwrap();
    matches_identity(&rsa, &PeerIdentity::Rfc822(b"vpn@example.com")).unwrap();
    matches_identity(&rsa, &PeerIdentity::Ipv4([192, 0, 2, 1])).unwrap();
    let mut v6 = [0u8; 16];
    v6[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
    v6[15] = 1;
    matches_identity(&rsa, &PeerIdentity::Ipv6(v6)).unwrap();
    matches_identity(&rsa, &PeerIdentity::DerAsn1Dn(rsa.subject_der())).unwrap();
    for wrong in [
        PeerIdentity::Fqdn(b"other.example.com"),
        PeerIdentity::Fqdn(b"vpn.example.com."),
        PeerIdentity::Fqdn(b""),
        PeerIdentity::Rfc822(b"vpn@example.org"),
        PeerIdentity::Ipv4([192, 0, 2, 2]),
        PeerIdentity::DerAsn1Dn(cert!("rsa-ca").subject_der()),
    ] {
        assert_eq!(
            matches_identity(&rsa, &wrong),
            Err(CertError::IdentityMismatch),
            "{wrong:?}"
        );
    }
    // The CN is not a subjectAltName: an FQDN only matches dNSName entries.
    let ec = cert!("ec-leaf");
    assert_eq!(
        matches_identity(&ec, &PeerIdentity::Fqdn(b"vpn.example.com")),
        Err(CertError::IdentityMismatch)
    );
    matches_identity(
        &ec,
        &PeerIdentity::from_id_payload(1, &[198, 51, 100, 7]).unwrap(),
    )
    .unwrap();
    matches_identity(&ec, &PeerIdentity::from_id_payload(2, b"gw.example.net").unwrap()).unwrap();
    assert_eq!(
        PeerIdentity::from_id_payload(11, b"keyid"),
        Err(CertError::UnsupportedIdentityType)
    );
    assert_eq!(
        PeerIdentity::from_id_payload(1, &[1, 2, 3]),
        Err(CertError::UnsupportedIdentityType)
    );
}

#[test]
fn rfc7296_3_7_certreq_authority_hash_is_sha1_of_spki() {
    let ca = cert!("rsa-ca");
    let hash = certreq_authority_hash(strong().signatures(), &ca).unwrap();
    let expected = strong().signatures().hash(
        ipsec_ike::crypto::HashAlgorithm::SHA1,
        ca.subject_public_key_info(),
    );
    assert_eq!(hash.to_vec(), expected.unwrap());
    // Fixed value from `openssl x509 -pubkey | openssl pkey -pubin -outform DER | sha1sum`
    // recorded in the fixture README.
    assert_eq!(
        hex::encode(hash),
        include_str!("fixtures/crypto/certs/rsa-ca.spki.sha1").trim()
    );
}

#[test]
fn pem_and_aosp_certificate_parse() {
    let from_pem = Certificate::from_pem(include_bytes!("fixtures/crypto/certs/rsa-leaf.pem")).unwrap();
    assert_eq!(from_pem.der(), cert!("rsa-leaf").der());
    let aosp = Certificate::from_pem(include_bytes!("fixtures/crypto/aosp-end-cert-small.pem")).unwrap();
    matches_identity(&aosp, &PeerIdentity::Ipv4([192, 168, 43, 138])).unwrap();
    // Its 512-bit key only verifies with a provider that allows it.
    assert!(
        legacy()
            .signatures()
            .hash(ipsec_ike::crypto::HashAlgorithm::SHA2_256, b"")
            .is_ok()
    );
}

#[test]
fn hostile_der_is_refused_without_panic() {
    let good = cert!("ec-leaf").der().to_vec();
    assert_eq!(Certificate::from_der(&[]).unwrap_err(), CertError::Malformed);
    for cut in 0..good.len() {
        assert!(Certificate::from_der(&good[..cut]).is_err(), "truncated at {cut}");
    }
    let mut trailing = good.clone();
    trailing.push(0);
    assert!(Certificate::from_der(&trailing).is_err());
    // Flip every byte in turn: parse must not panic; a parse that succeeds must then fail the
    // signature check (or the validity window), never validate.
    let (int, root) = (cert!("ec-int"), cert!("ec-ca"));
    for i in 0..good.len() {
        let mut bad = good.clone();
        bad[i] ^= 0x55;
        if let Ok(c) = Certificate::from_der(&bad) {
            let at = now(&int);
            let r = validate_chain(
                strong().signatures(),
                &c,
                std::slice::from_ref(&int),
                std::slice::from_ref(&root),
                at,
            );
            assert!(r.is_err(), "byte {i} flipped still validates");
        }
    }
    assert_eq!(
        Certificate::from_pem(b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n").unwrap_err(),
        CertError::Malformed
    );
}

/// Counts signature verifications, delegating to the default provider.
struct Counting(std::sync::atomic::AtomicU32);

impl ipsec_ike::crypto::SignatureVerifier for Counting {
    fn verify(
        &self,
        spki_der: &[u8],
        algorithm: ipsec_ike::crypto::SignatureAlgorithm,
        encoding: ipsec_ike::crypto::EcdsaEncoding,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), ipsec_ike::crypto::CryptoError> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        strong()
            .signatures()
            .verify(spki_der, algorithm, encoding, message, signature)
    }

    fn hash(
        &self,
        algorithm: ipsec_ike::crypto::HashAlgorithm,
        data: &[u8],
    ) -> Result<Vec<u8>, ipsec_ike::crypto::CryptoError> {
        strong().signatures().hash(algorithm, data)
    }
}

#[test]
fn hostile_cross_signed_intermediates_are_bounded() {
    // Twelve CA certificates sharing one key and one subject: each verifies every other, so an
    // unbounded search would try 12 * 11 * ... paths. The search gives up after
    // MAX_SIGNATURE_CHECKS verifications.
    let loops: Vec<Certificate> = [
        &include_bytes!("fixtures/crypto/certs/loop-ca-1.der")[..],
        include_bytes!("fixtures/crypto/certs/loop-ca-2.der"),
        include_bytes!("fixtures/crypto/certs/loop-ca-3.der"),
        include_bytes!("fixtures/crypto/certs/loop-ca-4.der"),
        include_bytes!("fixtures/crypto/certs/loop-ca-5.der"),
        include_bytes!("fixtures/crypto/certs/loop-ca-6.der"),
        include_bytes!("fixtures/crypto/certs/loop-ca-7.der"),
        include_bytes!("fixtures/crypto/certs/loop-ca-8.der"),
        include_bytes!("fixtures/crypto/certs/loop-ca-9.der"),
        include_bytes!("fixtures/crypto/certs/loop-ca-10.der"),
        include_bytes!("fixtures/crypto/certs/loop-ca-11.der"),
        include_bytes!("fixtures/crypto/certs/loop-ca-12.der"),
    ]
    .iter()
    .map(|d| Certificate::from_der(d).unwrap())
    .collect();
    let leaf = cert!("loop-leaf");
    let counting = Counting(std::sync::atomic::AtomicU32::new(0));
    let result = validate_chain(&counting, &leaf, &loops, &[cert!("ec-ca")], now(&leaf));
    assert_eq!(result, Err(CertError::ChainTooLong));
    let used = counting.0.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        used <= ipsec_ike::cert::MAX_SIGNATURE_CHECKS,
        "{used} verifications"
    );
    // With one of them trusted the same material validates at once.
    validate_chain(strong().signatures(), &leaf, &loops, &loops[..1], now(&leaf)).unwrap();
    // More intermediates than a peer may send are refused up front.
    let many: Vec<Certificate> = loops.iter().chain(loops.iter()).cloned().collect();
    assert_eq!(
        validate_chain(strong().signatures(), &leaf, &many, &loops[..1], now(&leaf)),
        Err(CertError::ChainTooLong)
    );
}
