//! Signature AUTH payload data (RFC 7296 §2.15 and §3.8, RFC 4754 §7, RFC 7427 §3) and the
//! SIGNATURE_HASH_ALGORITHMS notify data (RFC 7427 §4).
//!
//! The AUTH data is what follows the 4-byte AUTH payload header (auth method, 3 reserved bytes):
//! - method 1 (RSA Digital Signature): the PKCS#1 v1.5 signature with SHA-1;
//! - methods 9/10 (ECDSA P-256/SHA-256, P-384/SHA-384): r ‖ s, each left-padded (RFC 4754 §7);
//! - method 14 (Digital Signature, RFC 7427 §3): a 1-byte length, the DER AlgorithmIdentifier,
//!   then the signature; ECDSA signatures are a DER `Ecdsa-Sig-Value` (RFC 7427 App. A.3).
//!
//! The shared-key MIC (method 2) lives in [`crate::keys`] beside the other PRF uses.
//! RSASSA-PSS AlgorithmIdentifiers (RFC 7427 App. A.4) are recognised as unsupported.

use alloc::vec::Vec;

use super::{
    AuthMethod, CryptoError, EcdsaEncoding, Entropy, HashAlgorithm, KeyType, SignatureAlgorithm,
    SignatureVerifier, SigningKey,
};

/// DER AlgorithmIdentifiers of RFC 7427 App. A (RSA with the NULL parameter, ECDSA without).
const AIDS: &[(&[u8], SignatureAlgorithm)] = &[
    (
        &[
            0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05, 0x05, 0x00,
        ],
        SignatureAlgorithm::RsaPkcs1Sha1,
    ),
    (
        &[
            0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00,
        ],
        SignatureAlgorithm::RsaPkcs1Sha256,
    ),
    (
        &[
            0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c, 0x05, 0x00,
        ],
        SignatureAlgorithm::RsaPkcs1Sha384,
    ),
    (
        &[
            0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d, 0x05, 0x00,
        ],
        SignatureAlgorithm::RsaPkcs1Sha512,
    ),
    (
        &[
            0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
        ],
        SignatureAlgorithm::EcdsaSha256,
    ),
    (
        &[
            0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03,
        ],
        SignatureAlgorithm::EcdsaSha384,
    ),
    (
        &[
            0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04,
        ],
        SignatureAlgorithm::EcdsaSha512,
    ),
    // The same RSA algorithms with the parameters absent instead of NULL (RFC 4055 §2.1 allows
    // both readings; some peers send this form).
    (
        &[
            0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05,
        ],
        SignatureAlgorithm::RsaPkcs1Sha1,
    ),
    (
        &[
            0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b,
        ],
        SignatureAlgorithm::RsaPkcs1Sha256,
    ),
    (
        &[
            0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c,
        ],
        SignatureAlgorithm::RsaPkcs1Sha384,
    ),
    (
        &[
            0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d,
        ],
        SignatureAlgorithm::RsaPkcs1Sha512,
    ),
];

/// The DER AlgorithmIdentifier we send for `algorithm` (RFC 7427 App. A).
#[must_use]
pub fn algorithm_identifier(algorithm: SignatureAlgorithm) -> Option<&'static [u8]> {
    AIDS.iter().find(|(_, a)| *a == algorithm).map(|(der, _)| *der)
}

/// The signature algorithm named by a DER AlgorithmIdentifier, if we support it.
#[must_use]
pub fn algorithm_from_identifier(der: &[u8]) -> Option<SignatureAlgorithm> {
    AIDS.iter().find(|(d, _)| *d == der).map(|(_, a)| *a)
}

/// The hashes we can sign and verify RFC 7427 signatures with, in our order of preference, for
/// the SIGNATURE_HASH_ALGORITHMS notify.
pub const SUPPORTED_HASHES: &[HashAlgorithm] = &[
    HashAlgorithm::SHA2_256,
    HashAlgorithm::SHA2_384,
    HashAlgorithm::SHA2_512,
];

/// SIGNATURE_HASH_ALGORITHMS notify data: 2-byte hash identifiers (RFC 7427 §4).
#[must_use]
pub fn hash_algorithms_notify_data(hashes: &[HashAlgorithm]) -> Vec<u8> {
    hashes.iter().flat_map(|h| h.0.to_be_bytes()).collect()
}

/// Parses SIGNATURE_HASH_ALGORITHMS notify data; unknown identifiers are kept.
///
/// # Errors
/// [`CryptoError::MalformedSignature`] for an odd length.
pub fn parse_hash_algorithms(data: &[u8]) -> Result<Vec<HashAlgorithm>, CryptoError> {
    let pairs = data.chunks_exact(2);
    if !pairs.remainder().is_empty() {
        return Err(CryptoError::MalformedSignature);
    }
    Ok(pairs
        .filter_map(|p| p.first_chunk::<2>())
        .map(|p| HashAlgorithm(u16::from_be_bytes(*p)))
        .collect())
}

/// Chooses the RFC 7427 signature algorithm for `key`, preferring the hash that fits the key
/// (SHA-256 for RSA and P-256, SHA-384 for P-384) among those the peer announced.
fn choose_digital_signature(
    key: KeyType,
    peer_hashes: &[HashAlgorithm],
) -> Result<SignatureAlgorithm, CryptoError> {
    let order: &[SignatureAlgorithm] = match key {
        KeyType::Rsa { .. } => &[
            SignatureAlgorithm::RsaPkcs1Sha256,
            SignatureAlgorithm::RsaPkcs1Sha384,
            SignatureAlgorithm::RsaPkcs1Sha512,
        ],
        KeyType::EcdsaP256 => &[SignatureAlgorithm::EcdsaSha256, SignatureAlgorithm::EcdsaSha384],
        KeyType::EcdsaP384 => &[SignatureAlgorithm::EcdsaSha384, SignatureAlgorithm::EcdsaSha512],
    };
    order
        .iter()
        .copied()
        .find(|a| peer_hashes.contains(&a.hash()))
        .ok_or(CryptoError::UnsupportedAlgorithm)
}

/// Signs `signed_octets` (see [`crate::keys::signed_octets`]) and returns the AUTH data for
/// `method`. For method 14, `peer_hashes` are the hashes of the peer's SIGNATURE_HASH_ALGORITHMS
/// notify; the other methods ignore it.
///
/// # Errors
/// [`CryptoError::UnsupportedAlgorithm`] if `method` does not fit the key (method 9 needs a
/// P-256 key, 10 a P-384 key, 1 an RSA key) or no announced hash fits; signing errors.
pub fn sign_auth(
    key: &dyn SigningKey,
    method: AuthMethod,
    peer_hashes: &[HashAlgorithm],
    signed_octets: &[u8],
    rng: &mut Entropy,
) -> Result<Vec<u8>, CryptoError> {
    let key_type = key.key_type();
    match (method, key_type) {
        (AuthMethod::RSA_DIGITAL_SIGNATURE, KeyType::Rsa { .. }) => key.sign(
            SignatureAlgorithm::RsaPkcs1Sha1,
            EcdsaEncoding::Fixed,
            signed_octets,
            rng,
        ),
        (AuthMethod::ECDSA_SHA256_P256, KeyType::EcdsaP256) => key.sign(
            SignatureAlgorithm::EcdsaSha256,
            EcdsaEncoding::Fixed,
            signed_octets,
            rng,
        ),
        (AuthMethod::ECDSA_SHA384_P384, KeyType::EcdsaP384) => key.sign(
            SignatureAlgorithm::EcdsaSha384,
            EcdsaEncoding::Fixed,
            signed_octets,
            rng,
        ),
        (AuthMethod::DIGITAL_SIGNATURE, _) => {
            let algorithm = choose_digital_signature(key_type, peer_hashes)?;
            let aid = algorithm_identifier(algorithm).ok_or(CryptoError::UnsupportedAlgorithm)?;
            let aid_len = u8::try_from(aid.len()).map_err(|_| CryptoError::UnsupportedAlgorithm)?;
            let signature = key.sign(algorithm, EcdsaEncoding::Der, signed_octets, rng)?;
            let mut out = Vec::with_capacity(aid.len().saturating_add(signature.len()).saturating_add(1));
            out.push(aid_len);
            out.extend_from_slice(aid);
            out.extend_from_slice(&signature);
            Ok(out)
        }
        _ => Err(CryptoError::UnsupportedAlgorithm),
    }
}

/// Splits RFC 7427 AUTH data into its signature algorithm and signature.
///
/// # Errors
/// [`CryptoError::MalformedSignature`] if the length byte overruns the data;
/// [`CryptoError::UnsupportedAlgorithm`] for an AlgorithmIdentifier we do not support.
pub fn parse_digital_signature(auth_data: &[u8]) -> Result<(SignatureAlgorithm, &[u8]), CryptoError> {
    let (&len, rest) = auth_data.split_first().ok_or(CryptoError::MalformedSignature)?;
    let (aid, signature) = rest
        .split_at_checked(usize::from(len))
        .ok_or(CryptoError::MalformedSignature)?;
    let algorithm = algorithm_from_identifier(aid).ok_or(CryptoError::UnsupportedAlgorithm)?;
    if signature.is_empty() {
        return Err(CryptoError::MalformedSignature);
    }
    Ok((algorithm, signature))
}

/// Verifies a peer's signature AUTH data over `signed_octets` with the peer's public key
/// (`spki_der`, usually from its end-entity certificate).
///
/// # Errors
/// [`CryptoError::UnsupportedAlgorithm`] for a method or algorithm we do not support (or refuse
/// by policy, such as SHA-1); [`CryptoError::MalformedSignature`] / [`CryptoError::BadSignature`]
/// / [`CryptoError::InvalidKey`] from verification.
pub fn verify_auth(
    verifier: &dyn SignatureVerifier,
    spki_der: &[u8],
    method: AuthMethod,
    auth_data: &[u8],
    signed_octets: &[u8],
) -> Result<(), CryptoError> {
    let (algorithm, encoding, signature) = match method {
        AuthMethod::RSA_DIGITAL_SIGNATURE => {
            (SignatureAlgorithm::RsaPkcs1Sha1, EcdsaEncoding::Fixed, auth_data)
        }
        // RFC 4754 §7: r and s of 32 (P-256) or 48 (P-384) bytes each; the length binds the curve.
        AuthMethod::ECDSA_SHA256_P256 if auth_data.len() == 64 => {
            (SignatureAlgorithm::EcdsaSha256, EcdsaEncoding::Fixed, auth_data)
        }
        AuthMethod::ECDSA_SHA384_P384 if auth_data.len() == 96 => {
            (SignatureAlgorithm::EcdsaSha384, EcdsaEncoding::Fixed, auth_data)
        }
        AuthMethod::ECDSA_SHA256_P256 | AuthMethod::ECDSA_SHA384_P384 => {
            return Err(CryptoError::MalformedSignature);
        }
        AuthMethod::DIGITAL_SIGNATURE => {
            let (algorithm, signature) = parse_digital_signature(auth_data)?;
            (algorithm, EcdsaEncoding::Der, signature)
        }
        _ => return Err(CryptoError::UnsupportedAlgorithm),
    };
    verifier.verify(spki_der, algorithm, encoding, signed_octets, signature)
}
