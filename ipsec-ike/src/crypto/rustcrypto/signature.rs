//! RSA PKCS#1 v1.5 and ECDSA P-256/P-384 signatures on RustCrypto (`rsa`, `p256`, `p384`,
//! `ecdsa`), plus the SHA-1/SHA-2 hashes.

use alloc::boxed::Box;
use alloc::vec::Vec;

use der::Decode;
use der::asn1::ObjectIdentifier;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey};
use rsa::traits::PublicKeyParts;
use rsa::{BoxedUint, Pkcs1v15Sign};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};
use signature::hazmat::{PrehashSigner, PrehashVerifier};
use x509_cert::spki::SubjectPublicKeyInfoRef;

use crate::crypto::{
    CryptoError, EcdsaEncoding, Entropy, HashAlgorithm, KeyType, SignatureAlgorithm, SignatureVerifier,
    SigningKey,
};

const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
/// Largest RSA modulus accepted (bits), bounding verification cost for hostile keys.
const MAX_RSA_BITS: usize = 8192;

/// Signature policy and implementation of the RustCrypto provider.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Signatures {
    pub(crate) allow_sha1: bool,
    pub(crate) min_rsa_bits: usize,
}

pub(crate) fn digest(algorithm: HashAlgorithm, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    Ok(match algorithm {
        HashAlgorithm::SHA1 => Sha1::digest(data).to_vec(),
        HashAlgorithm::SHA2_256 => Sha256::digest(data).to_vec(),
        HashAlgorithm::SHA2_384 => Sha384::digest(data).to_vec(),
        HashAlgorithm::SHA2_512 => Sha512::digest(data).to_vec(),
        _ => return Err(CryptoError::UnsupportedAlgorithm),
    })
}

fn pkcs1v15_scheme(algorithm: SignatureAlgorithm) -> Result<Pkcs1v15Sign, CryptoError> {
    Ok(match algorithm {
        SignatureAlgorithm::RsaPkcs1Sha1 => Pkcs1v15Sign::new::<Sha1>(),
        SignatureAlgorithm::RsaPkcs1Sha256 => Pkcs1v15Sign::new::<Sha256>(),
        SignatureAlgorithm::RsaPkcs1Sha384 => Pkcs1v15Sign::new::<Sha384>(),
        SignatureAlgorithm::RsaPkcs1Sha512 => Pkcs1v15Sign::new::<Sha512>(),
        _ => return Err(CryptoError::UnsupportedAlgorithm),
    })
}

fn bits_of(bytes: &[u8]) -> Result<u32, CryptoError> {
    u32::try_from(bytes.len())
        .ok()
        .and_then(|n| n.checked_mul(8))
        .ok_or(CryptoError::InvalidKey)
}

/// The public key inside a `SubjectPublicKeyInfo`.
enum PublicKey {
    Rsa(rsa::PublicKey),
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
}

impl Signatures {
    fn check_policy(&self, algorithm: SignatureAlgorithm) -> Result<(), CryptoError> {
        if algorithm.hash() == HashAlgorithm::SHA1 && !self.allow_sha1 {
            return Err(CryptoError::UnsupportedAlgorithm);
        }
        Ok(())
    }

    fn public_key(&self, spki_der: &[u8]) -> Result<PublicKey, CryptoError> {
        let spki = SubjectPublicKeyInfoRef::from_der(spki_der).map_err(|_| CryptoError::InvalidKey)?;
        let key_bytes = spki
            .subject_public_key
            .as_bytes()
            .ok_or(CryptoError::InvalidKey)?;
        if spki.algorithm.oid == RSA_ENCRYPTION {
            let key =
                rsa::pkcs1::RsaPublicKeyRef::from_der(key_bytes).map_err(|_| CryptoError::InvalidKey)?;
            let n_bytes = key.modulus.as_bytes();
            let e_bytes = key.public_exponent.as_bytes();
            let n =
                BoxedUint::from_be_slice(n_bytes, bits_of(n_bytes)?).map_err(|_| CryptoError::InvalidKey)?;
            let e =
                BoxedUint::from_be_slice(e_bytes, bits_of(e_bytes)?).map_err(|_| CryptoError::InvalidKey)?;
            let min = self.min_rsa_bits.min(MAX_RSA_BITS);
            let key = rsa::PublicKey::new_with_size_limits(n, e, min..=MAX_RSA_BITS)
                .map_err(|_| CryptoError::InvalidKey)?;
            return Ok(PublicKey::Rsa(key));
        }
        if spki.algorithm.oid == EC_PUBLIC_KEY {
            let curve: ObjectIdentifier = spki
                .algorithm
                .parameters
                .as_ref()
                .ok_or(CryptoError::InvalidKey)?
                .decode_as()
                .map_err(|_| CryptoError::InvalidKey)?;
            if curve == SECP256R1 {
                let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(key_bytes)
                    .map_err(|_| CryptoError::InvalidKey)?;
                return Ok(PublicKey::P256(key));
            }
            if curve == SECP384R1 {
                let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(key_bytes)
                    .map_err(|_| CryptoError::InvalidKey)?;
                return Ok(PublicKey::P384(key));
            }
        }
        Err(CryptoError::UnsupportedAlgorithm)
    }
}

macro_rules! ecdsa_verify {
    ($curve:ident, $key:expr, $encoding:expr, $prehash:expr, $sig:expr) => {{
        let sig = match $encoding {
            EcdsaEncoding::Fixed => $curve::ecdsa::Signature::from_slice($sig),
            EcdsaEncoding::Der => $curve::ecdsa::Signature::from_der($sig),
        }
        .map_err(|_| CryptoError::MalformedSignature)?;
        $key.verify_prehash($prehash, &sig)
            .map_err(|_| CryptoError::BadSignature)
    }};
}

impl SignatureVerifier for Signatures {
    fn verify(
        &self,
        spki_der: &[u8],
        algorithm: SignatureAlgorithm,
        encoding: EcdsaEncoding,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        self.check_policy(algorithm)?;
        let prehash = digest(algorithm.hash(), message)?;
        match (self.public_key(spki_der)?, algorithm.is_ecdsa()) {
            (PublicKey::Rsa(key), false) => {
                if signature.len() != key.size() {
                    return Err(CryptoError::MalformedSignature);
                }
                key.verify(pkcs1v15_scheme(algorithm)?, &prehash, signature)
                    .map_err(|_| CryptoError::BadSignature)
            }
            (PublicKey::P256(key), true) => ecdsa_verify!(p256, key, encoding, &prehash, signature),
            (PublicKey::P384(key), true) => ecdsa_verify!(p384, key, encoding, &prehash, signature),
            _ => Err(CryptoError::InvalidKey),
        }
    }

    fn hash(&self, algorithm: HashAlgorithm, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        digest(algorithm, data)
    }
}

/// Loads a signing key from PKCS#8, PKCS#1 or SEC1 DER.
pub(crate) fn load_signing_key(policy: Signatures, der: &[u8]) -> Result<Box<dyn SigningKey>, CryptoError> {
    let rsa_key = rsa::PrivateKey::from_pkcs8_der(der).or_else(|_| rsa::PrivateKey::from_pkcs1_der(der));
    if let Ok(key) = rsa_key {
        let bits = key.size().saturating_mul(8);
        if bits < policy.min_rsa_bits || bits > MAX_RSA_BITS {
            return Err(CryptoError::InvalidKey);
        }
        return Ok(Box::new(RsaSigningKey { key, policy }));
    }
    if let Ok(key) = p256::SecretKey::from_pkcs8_der(der).or_else(|_| p256::SecretKey::from_sec1_der(der)) {
        return Ok(Box::new(EcdsaP256SigningKey {
            key: p256::ecdsa::SigningKey::from(&key),
        }));
    }
    if let Ok(key) = p384::SecretKey::from_pkcs8_der(der).or_else(|_| p384::SecretKey::from_sec1_der(der)) {
        return Ok(Box::new(EcdsaP384SigningKey {
            key: p384::ecdsa::SigningKey::from(&key),
        }));
    }
    Err(CryptoError::InvalidKey)
}

/// An RSA private key (zeroized on drop by `rsa`).
struct RsaSigningKey {
    key: rsa::PrivateKey,
    policy: Signatures,
}

impl SigningKey for RsaSigningKey {
    fn key_type(&self) -> KeyType {
        KeyType::Rsa {
            bits: self.key.size().saturating_mul(8),
        }
    }

    fn public_key_spki(&self) -> Result<Vec<u8>, CryptoError> {
        let doc = self
            .key
            .to_public_key()
            .to_public_key_der()
            .map_err(|_| CryptoError::InvalidKey)?;
        Ok(doc.as_bytes().to_vec())
    }

    fn sign(
        &self,
        algorithm: SignatureAlgorithm,
        _encoding: EcdsaEncoding,
        message: &[u8],
        rng: &mut Entropy,
    ) -> Result<Vec<u8>, CryptoError> {
        self.policy.check_policy(algorithm)?;
        let scheme = pkcs1v15_scheme(algorithm)?;
        let prehash = digest(algorithm.hash(), message)?;
        // Blinded with the injected generator against timing side channels.
        self.key
            .sign_with_rng(&mut rng.as_rng(), scheme, &prehash)
            .map_err(|e| match e {
                rsa::Error::Rng => CryptoError::RandomFailure,
                _ => CryptoError::InvalidKey,
            })
    }
}

macro_rules! ecdsa_signing_key {
    ($name:ident, $curve:ident, $key_type:expr) => {
        /// An ECDSA private key (zeroized on drop by `ecdsa`); signatures are RFC 6979
        /// deterministic, so no randomness is needed.
        struct $name {
            key: $curve::ecdsa::SigningKey,
        }

        impl SigningKey for $name {
            fn key_type(&self) -> KeyType {
                $key_type
            }

            fn public_key_spki(&self) -> Result<Vec<u8>, CryptoError> {
                let public = $curve::PublicKey::from(self.key.verifying_key());
                let doc = public
                    .to_public_key_der()
                    .map_err(|_| CryptoError::InvalidKey)?;
                Ok(doc.as_bytes().to_vec())
            }

            fn sign(
                &self,
                algorithm: SignatureAlgorithm,
                encoding: EcdsaEncoding,
                message: &[u8],
                _rng: &mut Entropy,
            ) -> Result<Vec<u8>, CryptoError> {
                if !algorithm.is_ecdsa() {
                    return Err(CryptoError::UnsupportedAlgorithm);
                }
                let prehash = digest(algorithm.hash(), message)?;
                let sig: $curve::ecdsa::Signature = self
                    .key
                    .sign_prehash(&prehash)
                    .map_err(|_| CryptoError::InvalidKey)?;
                Ok(match encoding {
                    EcdsaEncoding::Fixed => sig.to_vec(),
                    EcdsaEncoding::Der => sig.to_der().as_bytes().to_vec(),
                })
            }
        }
    };
}

ecdsa_signing_key!(EcdsaP256SigningKey, p256, KeyType::EcdsaP256);
ecdsa_signing_key!(EcdsaP384SigningKey, p384, KeyType::EcdsaP384);
