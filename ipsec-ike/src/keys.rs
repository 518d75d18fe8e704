//! IKEv2 key derivation (RFC 7296 §2.13–§2.18) and the shared-key AUTH value (§2.15).
//!
//! Everything here is written against the [`Prf`]/[`PrfKey`] traits, so it works with any
//! [`crate::crypto::CryptoProvider`]:
//! - [`prf_plus`]: `prf+ (K, S) = T1 | T2 | ...`, `T1 = prf(K, S | 0x01)`,
//!   `Tn = prf(K, Tn-1 | S | n)` (§2.13).
//! - [`skeyseed`]: `SKEYSEED = prf(Ni | Nr, g^ir)` (§2.14); [`IkeSaKeys::derive`] then splits
//!   `prf+(SKEYSEED, Ni | Nr | SPIi | SPIr)` into SK_d, SK_ai, SK_ar, SK_ei, SK_er, SK_pi, SK_pr
//!   with lengths given by the negotiated transforms ([`KeyLengths`]).
//! - [`rekey_skeyseed`]: `SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr)` (§2.18).
//! - [`child_keymat`]: `KEYMAT = prf+(SK_d, Ni | Nr)` or, with PFS,
//!   `prf+(SK_d, g^ir (new) | Ni | Nr)` (§2.17), split encr_i | integ_i | encr_r | integ_r.
//! - [`shared_key_auth`]: `prf(prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets>)`
//!   (§2.15), with [`signed_octets`] building `RealMessage | Nonce | prf(SK_p, ID body)`.
//!
//! Only PRFs with variable key length (the HMAC family) are supported: for those the PRF key of
//! SKEYSEED is `Ni | Nr` at full length. The fixed-key-length rule of §2.14 (first 64 bits of
//! each nonce, for AES-XCBC/CMAC PRFs) is not implemented; [`skeyseed`] refuses such PRFs
//! implicitly because no provider offers them.

use alloc::vec::Vec;
use core::fmt;

use subtle::ConstantTimeEq;

use crate::crypto::{CryptoError, Encr, Integ, Prf, PrfKey, SecretBytes, sk::SkKey};

/// RFC 7296 §2.15: the fixed key pad for the shared-key MIC.
pub const KEY_PAD: &[u8] = b"Key Pad for IKEv2";

/// Largest PRF output we handle (SHA-512).
const MAX_PRF_OUTPUT: usize = 64;
/// Most seed parts [`prf_plus`] takes (the IKEv2 seeds have at most four).
const MAX_SEED_PARTS: usize = 6;

/// `prf+(K, S)` into `out` (RFC 7296 §2.13); `seed` is the concatenation of its parts (at most
/// six).
///
/// # Errors
/// [`CryptoError::PrfPlusTooLong`] if `out` needs more than 255 PRF blocks (checked before any
/// output is written); [`CryptoError::InvalidLength`] for more than six seed parts.
pub fn prf_plus(prf: &dyn PrfKey, seed: &[&[u8]], out: &mut [u8]) -> Result<(), CryptoError> {
    let block_len = prf.output_len();
    if block_len == 0 || block_len > MAX_PRF_OUTPUT {
        return Err(CryptoError::UnsupportedAlgorithm);
    }
    if out.len() > block_len.saturating_mul(255) {
        return Err(CryptoError::PrfPlusTooLong);
    }
    if seed.len() > MAX_SEED_PARTS {
        return Err(CryptoError::InvalidLength {
            what: "prf+ seed parts",
        });
    }
    let mut t = [0u8; MAX_PRF_OUTPUT];
    let mut t_len = 0usize;
    for (index, chunk) in out.chunks_mut(block_len).enumerate() {
        let counter = [u8::try_from(index.saturating_add(1)).map_err(|_| CryptoError::PrfPlusTooLong)?];
        let mut next = [0u8; MAX_PRF_OUTPUT];
        let next_block = next
            .get_mut(..block_len)
            .ok_or(CryptoError::UnsupportedAlgorithm)?;
        // T(n) | S | n without allocating: the parts are passed to the PRF as a list.
        let mut parts: [&[u8]; MAX_SEED_PARTS + 2] = [&[]; MAX_SEED_PARTS + 2];
        let (first, rest) = parts.split_at_mut(1);
        first.copy_from_slice(&[t.get(..t_len).ok_or(CryptoError::UnsupportedAlgorithm)?]);
        let (middle, last) = rest.split_at_mut(seed.len());
        middle.copy_from_slice(seed);
        let (counter_slot, _) = last.split_at_mut(1);
        counter_slot.copy_from_slice(&[&counter[..]]);
        let used = seed.len().saturating_add(2);
        prf.compute(
            parts.get(..used).ok_or(CryptoError::UnsupportedAlgorithm)?,
            next_block,
        )?;
        let take = next_block
            .get(..chunk.len())
            .ok_or(CryptoError::UnsupportedAlgorithm)?;
        chunk.copy_from_slice(take);
        t = next;
        t_len = block_len;
        zeroize::Zeroize::zeroize(&mut next);
    }
    zeroize::Zeroize::zeroize(&mut t);
    Ok(())
}

/// `SKEYSEED = prf(Ni | Nr, g^ir)` (RFC 7296 §2.14).
///
/// # Errors
/// As [`Prf::key`] and [`PrfKey::compute`].
pub fn skeyseed(prf: &dyn Prf, ni: &[u8], nr: &[u8], g_ir: &[u8]) -> Result<SecretBytes, CryptoError> {
    let mut key = SecretBytes::zeroed(ni.len().saturating_add(nr.len()));
    let (a, b) = key.as_mut_bytes().split_at_mut(ni.len());
    a.copy_from_slice(ni);
    b.copy_from_slice(nr);
    prf.key(key.as_bytes())?.compute_secret(&[g_ir])
}

/// `SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr)` for an IKE SA rekey (RFC 7296 §2.18); the
/// PRF is the *old* IKE SA's, the nonces are those of the CREATE_CHILD_SA exchange.
///
/// # Errors
/// As [`Prf::key`] and [`PrfKey::compute`].
pub fn rekey_skeyseed(
    prf: &dyn Prf,
    sk_d_old: &[u8],
    g_ir_new: &[u8],
    ni: &[u8],
    nr: &[u8],
) -> Result<SecretBytes, CryptoError> {
    prf.key(sk_d_old)?.compute_secret(&[g_ir_new, ni, nr])
}

/// Lengths of the IKE SA keys, from the negotiated transforms (RFC 7296 §2.14).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyLengths {
    /// SK_d, SK_pi, SK_pr: the PRF's preferred key length.
    pub prf: usize,
    /// SK_ai, SK_ar: the integrity key length (0 with an AEAD cipher).
    pub integ: usize,
    /// SK_ei, SK_er: the cipher key length, plus the salt for AEAD (RFC 5282 §7.1, RFC 7634 §2).
    pub encr: usize,
}

impl KeyLengths {
    /// Lengths for the negotiated PRF, cipher and (for non-AEAD ciphers) integrity algorithm.
    #[must_use]
    pub fn new(prf: &dyn Prf, encr: &dyn Encr, integ: Option<&dyn Integ>) -> Self {
        Self {
            prf: prf.key_len(),
            integ: integ.map_or(0, Integ::key_len),
            encr: encr.key_len(),
        }
    }

    fn total(&self) -> Option<usize> {
        let three_prf = self.prf.checked_mul(3)?;
        let two_integ = self.integ.checked_mul(2)?;
        let two_encr = self.encr.checked_mul(2)?;
        three_prf.checked_add(two_integ)?.checked_add(two_encr)
    }
}

/// Which end of the IKE SA we are (decides which keys seal and which open).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The original initiator of the IKE SA.
    Initiator,
    /// The original responder.
    Responder,
}

/// The seven IKE SA keys (RFC 7296 §2.14), zeroized on drop.
pub struct IkeSaKeys {
    /// SK_d: derives CHILD SA keys and the next SKEYSEED.
    pub sk_d: SecretBytes,
    /// SK_ai: integrity key, initiator to responder.
    pub sk_ai: SecretBytes,
    /// SK_ar: integrity key, responder to initiator.
    pub sk_ar: SecretBytes,
    /// SK_ei: encryption key (plus salt), initiator to responder.
    pub sk_ei: SecretBytes,
    /// SK_er: encryption key (plus salt), responder to initiator.
    pub sk_er: SecretBytes,
    /// SK_pi: MACs the initiator's ID in its AUTH signed octets.
    pub sk_pi: SecretBytes,
    /// SK_pr: MACs the responder's ID in its AUTH signed octets.
    pub sk_pr: SecretBytes,
}

impl IkeSaKeys {
    /// `{SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni | Nr | SPIi |
    /// SPIr)` (RFC 7296 §2.14). For a rekeyed IKE SA the SPIs are the new ones (§2.18).
    ///
    /// # Errors
    /// As [`prf_plus`]; [`CryptoError::PrfPlusTooLong`] if the lengths overflow.
    pub fn derive(
        prf: &dyn Prf,
        skeyseed: &SecretBytes,
        ni: &[u8],
        nr: &[u8],
        spi_i: &[u8; 8],
        spi_r: &[u8; 8],
        lengths: KeyLengths,
    ) -> Result<Self, CryptoError> {
        let total = lengths.total().ok_or(CryptoError::PrfPlusTooLong)?;
        let mut dkm = SecretBytes::zeroed(total);
        let key = prf.key(skeyseed.as_bytes())?;
        prf_plus(key.as_ref(), &[ni, nr, spi_i, spi_r], dkm.as_mut_bytes())?;
        let mut rest = dkm.as_bytes();
        let mut take = |n: usize| -> Result<SecretBytes, CryptoError> {
            let (head, tail) = rest.split_at_checked(n).ok_or(CryptoError::PrfPlusTooLong)?;
            rest = tail;
            Ok(SecretBytes::from_slice(head))
        };
        Ok(Self {
            sk_d: take(lengths.prf)?,
            sk_ai: take(lengths.integ)?,
            sk_ar: take(lengths.integ)?,
            sk_ei: take(lengths.encr)?,
            sk_er: take(lengths.encr)?,
            sk_pi: take(lengths.prf)?,
            sk_pr: take(lengths.prf)?,
        })
    }

    /// SKEYSEED from g^ir and the nonces, then [`IkeSaKeys::derive`]: the IKE_SA_INIT case.
    ///
    /// # Errors
    /// As [`skeyseed`] and [`IkeSaKeys::derive`].
    pub fn from_shared_secret(
        prf: &dyn Prf,
        g_ir: &[u8],
        ni: &[u8],
        nr: &[u8],
        spi_i: &[u8; 8],
        spi_r: &[u8; 8],
        lengths: KeyLengths,
    ) -> Result<Self, CryptoError> {
        let seed = skeyseed(prf, ni, nr, g_ir)?;
        Self::derive(prf, &seed, ni, nr, spi_i, spi_r, lengths)
    }

    /// The SK payload keys for our side: `(outbound, inbound)`. The initiator seals with
    /// SK_ei/SK_ai and opens with SK_er/SK_ar; the responder the other way round.
    ///
    /// # Errors
    /// As [`SkKey::new`].
    pub fn sk_keys(
        &self,
        role: Role,
        encr: &dyn Encr,
        integ: Option<&dyn Integ>,
    ) -> Result<(SkKey, SkKey), CryptoError> {
        let initiator = SkKey::new(encr, integ, self.sk_ei.as_bytes(), self.sk_ai.as_bytes())?;
        let responder = SkKey::new(encr, integ, self.sk_er.as_bytes(), self.sk_ar.as_bytes())?;
        Ok(match role {
            Role::Initiator => (initiator, responder),
            Role::Responder => (responder, initiator),
        })
    }
}

impl fmt::Debug for IkeSaKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IkeSaKeys")
            .field("sk_d", &self.sk_d)
            .field("sk_ai", &self.sk_ai)
            .field("sk_ar", &self.sk_ar)
            .field("sk_ei", &self.sk_ei)
            .field("sk_er", &self.sk_er)
            .field("sk_pi", &self.sk_pi)
            .field("sk_pr", &self.sk_pr)
            .finish()
    }
}

/// CHILD SA keys (RFC 7296 §2.17), zeroized on drop. The encryption keys include the salt for
/// AEAD ciphers (RFC 4106 §8.1, RFC 7634 §2); the integrity keys are empty for AEAD.
pub struct ChildSaKeys {
    /// Encryption key for initiator-to-responder traffic.
    pub encr_i: SecretBytes,
    /// Integrity key for initiator-to-responder traffic.
    pub integ_i: SecretBytes,
    /// Encryption key for responder-to-initiator traffic.
    pub encr_r: SecretBytes,
    /// Integrity key for responder-to-initiator traffic.
    pub integ_r: SecretBytes,
}

impl fmt::Debug for ChildSaKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildSaKeys")
            .field("encr_i", &self.encr_i)
            .field("integ_i", &self.integ_i)
            .field("encr_r", &self.encr_r)
            .field("integ_r", &self.integ_r)
            .finish()
    }
}

/// The raw KEYMAT of RFC 7296 §2.17: `prf+(SK_d, Ni | Nr)`, or with a CREATE_CHILD_SA key
/// exchange (PFS) `prf+(SK_d, g^ir (new) | Ni | Nr)`.
///
/// # Errors
/// As [`prf_plus`].
pub fn keymat(
    prf: &dyn Prf,
    sk_d: &[u8],
    g_ir_new: Option<&[u8]>,
    ni: &[u8],
    nr: &[u8],
    len: usize,
) -> Result<SecretBytes, CryptoError> {
    let key = prf.key(sk_d)?;
    let mut out = SecretBytes::zeroed(len);
    match g_ir_new {
        Some(g) => prf_plus(key.as_ref(), &[g, ni, nr], out.as_mut_bytes())?,
        None => prf_plus(key.as_ref(), &[ni, nr], out.as_mut_bytes())?,
    }
    Ok(out)
}

/// CHILD SA keys from KEYMAT, taken in the order encr_i | integ_i | encr_r | integ_r
/// (RFC 7296 §2.17). `encr_len` includes the salt for AEAD; `integ_len` is 0 for AEAD.
///
/// # Errors
/// As [`keymat`].
pub fn child_keymat(
    prf: &dyn Prf,
    sk_d: &[u8],
    g_ir_new: Option<&[u8]>,
    ni: &[u8],
    nr: &[u8],
    encr_len: usize,
    integ_len: usize,
) -> Result<ChildSaKeys, CryptoError> {
    let half = encr_len
        .checked_add(integ_len)
        .ok_or(CryptoError::PrfPlusTooLong)?;
    let total = half.checked_mul(2).ok_or(CryptoError::PrfPlusTooLong)?;
    let km = keymat(prf, sk_d, g_ir_new, ni, nr, total)?;
    let mut rest = km.as_bytes();
    let mut take = |n: usize| -> Result<SecretBytes, CryptoError> {
        let (head, tail) = rest.split_at_checked(n).ok_or(CryptoError::PrfPlusTooLong)?;
        rest = tail;
        Ok(SecretBytes::from_slice(head))
    };
    Ok(ChildSaKeys {
        encr_i: take(encr_len)?,
        integ_i: take(integ_len)?,
        encr_r: take(encr_len)?,
        integ_r: take(integ_len)?,
    })
}

/// The signed octets of RFC 7296 §2.15: `RealMessage | Nonce | prf(SK_p, RestOfIDPayload)`.
///
/// For the initiator: its IKE_SA_INIT request, the responder's nonce Nr, SK_pi and its own ID
/// payload body (ID type, 3 reserved bytes, identification data). For the responder: its
/// IKE_SA_INIT response, Ni, SK_pr and its ID payload body.
///
/// # Errors
/// As [`Prf::key`] and [`PrfKey::compute`].
pub fn signed_octets(
    prf: &dyn Prf,
    sk_p: &[u8],
    message: &[u8],
    peer_nonce: &[u8],
    id_payload_body: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let maced_id = prf.key(sk_p)?.compute_secret(&[id_payload_body])?;
    let mut out = Vec::with_capacity(
        message
            .len()
            .saturating_add(peer_nonce.len())
            .saturating_add(maced_id.len()),
    );
    out.extend_from_slice(message);
    out.extend_from_slice(peer_nonce);
    out.extend_from_slice(maced_id.as_bytes());
    Ok(out)
}

/// The shared-key MIC AUTH data: `prf(prf(Shared Secret, "Key Pad for IKEv2"), signed_octets)`
/// (RFC 7296 §2.15).
///
/// # Errors
/// As [`Prf::key`] and [`PrfKey::compute`].
pub fn shared_key_auth(prf: &dyn Prf, psk: &[u8], signed_octets: &[u8]) -> Result<SecretBytes, CryptoError> {
    let padded = prf.key(psk)?.compute_secret(&[KEY_PAD])?;
    prf.key(padded.as_bytes())?.compute_secret(&[signed_octets])
}

/// Checks a peer's shared-key MIC AUTH data in constant time (STYLE §4.4).
///
/// # Errors
/// [`CryptoError::AuthenticationFailed`] on mismatch (including a wrong length).
pub fn verify_shared_key_auth(
    prf: &dyn Prf,
    psk: &[u8],
    signed_octets: &[u8],
    auth_data: &[u8],
) -> Result<(), CryptoError> {
    let expected = shared_key_auth(prf, psk, signed_octets)?;
    if bool::from(expected.as_bytes().ct_eq(auth_data)) {
        Ok(())
    } else {
        Err(CryptoError::AuthenticationFailed)
    }
}
