//! SK and SKF payload protection (RFC 7296 §3.14, RFC 5282 §3–§5, RFC 7634 §3, RFC 7383 §2.5).
//!
//! One [`SkKey`] protects one direction of an IKE SA: the initiator seals with SK_ei/SK_ai and
//! opens with SK_er/SK_ar, the responder the other way round ([`crate::keys::IkeSaKeys::sk_keys`]
//! builds both). The byte-level contract shared with the codec is described in the
//! [`crate::crypto`] module docs.
//!
//! Layout after `seal` (RFC 7296 §3.14; AEAD RFC 5282 §3):
//! ```text
//! [IKE header 28][payloads][SK/SKF header][IV][inner payloads][padding][pad length][ICV]
//!  ^ AAD for AEAD: from the IKE header to the end of the SK/SKF header ^
//! ```
//! Padding is zero bytes: the minimum to reach the cipher block size for CBC, none for AEAD
//! (the AEAD ciphers are stream ciphers; RFC 5282 §3 needs no alignment and the RFC 7634 App. B
//! example has none).

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;
use core::ops::Range;

use super::{CryptoError, Encr, EncrKey, EncrKind, Entropy, Integ, IntegKey};

/// Length of the IKE header (RFC 7296 §3.1); the message length field is its last 4 bytes.
const IKE_HEADER_LEN: usize = 28;
/// Largest IV we handle (AES block).
const MAX_IV_LEN: usize = 16;

/// The keys protecting one direction of an IKE SA's SK/SKF payloads.
pub struct SkKey {
    cipher: Box<dyn EncrKey>,
    integ: Option<Box<dyn IntegKey>>,
    kind: EncrKind,
    /// Next explicit AEAD IV (RFC 5282 §3.1: a counter never repeats under one key); `None`
    /// until the first seal, which starts it at a random point of the lower half of the space.
    next_iv: Option<u64>,
}

impl SkKey {
    /// Keys one direction: `sk_e` is SK_ei or SK_er (with the AEAD salt at its end), `sk_a` is
    /// SK_ai or SK_ar (empty for AEAD).
    ///
    /// # Errors
    /// [`CryptoError::UnsupportedAlgorithm`] if an AEAD cipher comes with an integrity algorithm
    /// or a CBC cipher without one (RFC 5282 §8); [`CryptoError::InvalidKeyLength`] for keys of
    /// the wrong length.
    pub fn new(
        encr: &dyn Encr,
        integ: Option<&dyn Integ>,
        sk_e: &[u8],
        sk_a: &[u8],
    ) -> Result<Self, CryptoError> {
        let kind = encr.kind();
        let integ = match (kind, integ) {
            (EncrKind::Aead { iv_len, tag_len, .. }, None) => {
                if !sk_a.is_empty() || iv_len != 8 || tag_len == 0 {
                    return Err(CryptoError::InvalidKeyLength);
                }
                None
            }
            (EncrKind::Block { block_len, iv_len }, Some(integ)) => {
                if iv_len > MAX_IV_LEN || block_len == 0 || block_len > 255 {
                    return Err(CryptoError::UnsupportedAlgorithm);
                }
                Some(integ.key(sk_a)?)
            }
            _ => return Err(CryptoError::UnsupportedAlgorithm),
        };
        Ok(Self {
            cipher: encr.key(sk_e)?,
            integ,
            kind,
            next_iv: None,
        })
    }

    /// Sets the next AEAD IV counter value, for handing an SA over to a standby (STYLE §2) or
    /// for reproducing published vectors. The caller must pass a value greater than every IV
    /// already used under this key: an AEAD IV must never repeat (RFC 5282 §3.1). CBC keys
    /// ignore it.
    #[must_use]
    pub fn with_aead_iv_counter(mut self, next: u64) -> Self {
        self.next_iv = Some(next);
        self
    }

    /// The next AEAD IV counter value (for SA hand-over); `None` before the first seal.
    #[must_use]
    pub fn aead_iv_counter(&self) -> Option<u64> {
        self.next_iv
    }

    /// Length of the explicit IV in bytes.
    #[must_use]
    pub fn iv_len(&self) -> usize {
        match self.kind {
            EncrKind::Block { iv_len, .. } | EncrKind::Aead { iv_len, .. } => iv_len,
        }
    }

    /// Length of the ICV (HMAC truncation or AEAD tag) in bytes.
    #[must_use]
    pub fn icv_len(&self) -> usize {
        match (self.kind, &self.integ) {
            (EncrKind::Aead { tag_len, .. }, _) => tag_len,
            (EncrKind::Block { .. }, Some(i)) => i.icv_len(),
            (EncrKind::Block { .. }, None) => 0,
        }
    }

    /// Bytes `seal` adds to `plaintext_len` bytes of inner payloads: IV, padding, pad length byte
    /// and ICV. For sizing fragments (RFC 7383 §2.5.1). `None` on overflow.
    #[must_use]
    pub fn overhead(&self, plaintext_len: usize) -> Option<usize> {
        let pad = self.pad_len(plaintext_len)?;
        self.iv_len()
            .checked_add(pad)?
            .checked_add(1)?
            .checked_add(self.icv_len())
    }

    /// The largest plaintext `seal` can fit into `sealed_len` bytes of SK/SKF payload body (IV,
    /// ciphertext, padding, pad length and ICV): for sizing fragments to the path MTU
    /// (RFC 7383 §2.5.1). 0 if not even an empty plaintext fits.
    #[must_use]
    pub fn max_plaintext(&self, sealed_len: usize) -> usize {
        let room = sealed_len
            .saturating_sub(self.iv_len())
            .saturating_sub(self.icv_len());
        let room = match self.kind {
            EncrKind::Aead { .. } => room,
            EncrKind::Block { block_len, .. } => room
                .checked_div(block_len)
                .and_then(|blocks| blocks.checked_mul(block_len))
                .unwrap_or(0),
        };
        // One byte goes to the pad length field.
        room.saturating_sub(1)
    }

    fn pad_len(&self, plaintext_len: usize) -> Option<usize> {
        match self.kind {
            EncrKind::Aead { .. } => Some(0),
            EncrKind::Block { block_len, .. } => {
                let rem = plaintext_len.checked_add(1)?.checked_rem(block_len)?;
                if rem == 0 {
                    Some(0)
                } else {
                    block_len.checked_sub(rem)
                }
            }
        }
    }

    /// Encrypts the inner payloads at the end of `msg` into an SK (or SKF) payload.
    ///
    /// `msg` = `[IKE header][payloads][SK/SKF generic header at sk_offset][plaintext]`;
    /// `sk_header_len` is 4 for SK, 8 for SKF. See the [`crate::crypto`] module docs. CBC IVs
    /// come from `rng`; AEAD IVs are this key's counter, started at a random value from `rng` on the
    /// first seal.
    ///
    /// # Errors
    /// [`CryptoError::Malformed`] if the framing is impossible (offset inside the IKE header,
    /// header length other than 4 or 8, `msg` too short); [`CryptoError::TooLong`] if the SK
    /// payload would exceed 65535 bytes; [`CryptoError::RandomFailure`];
    /// [`CryptoError::IvExhausted`]. On these errors `msg` is unchanged.
    pub fn seal(
        &mut self,
        msg: &mut Vec<u8>,
        sk_offset: usize,
        sk_header_len: usize,
        rng: &mut Entropy,
    ) -> Result<(), CryptoError> {
        let body_start = check_framing(msg.len(), sk_offset, sk_header_len)?;
        let plaintext_len = msg
            .len()
            .checked_sub(body_start)
            .ok_or(CryptoError::Malformed { what: "SK header" })?;
        let iv_len = self.iv_len();
        let icv_len = self.icv_len();
        let pad_len = self.pad_len(plaintext_len).ok_or(CryptoError::TooLong)?;
        let pad_byte = u8::try_from(pad_len).map_err(|_| CryptoError::TooLong)?;
        let enc_len = plaintext_len
            .checked_add(pad_len)
            .and_then(|n| n.checked_add(1))
            .ok_or(CryptoError::TooLong)?;
        let enc_start = body_start.checked_add(iv_len).ok_or(CryptoError::TooLong)?;
        let icv_start = enc_start.checked_add(enc_len).ok_or(CryptoError::TooLong)?;
        let total = icv_start.checked_add(icv_len).ok_or(CryptoError::TooLong)?;
        let sk_len = total
            .checked_sub(sk_offset)
            .and_then(|n| u16::try_from(n).ok())
            .ok_or(CryptoError::TooLong)?;
        let ike_len = u32::try_from(total).map_err(|_| CryptoError::TooLong)?;

        let mut iv_buf = [0u8; MAX_IV_LEN];
        let iv = iv_buf
            .get_mut(..iv_len)
            .ok_or(CryptoError::UnsupportedAlgorithm)?;
        match self.kind {
            EncrKind::Block { .. } => rng.fill(iv)?,
            EncrKind::Aead { .. } => {
                let counter = match self.next_iv {
                    Some(counter) => counter,
                    None => {
                        // A random start (below 2^63, leaving 2^63 messages of room) keeps two
                        // SkKeys accidentally built from the same keys from sharing IVs.
                        let mut start = [0u8; 8];
                        rng.fill(&mut start)?;
                        u64::from_be_bytes(start) >> 1
                    }
                };
                let next = counter.checked_add(1).ok_or(CryptoError::IvExhausted)?;
                iv.copy_from_slice(&counter.to_be_bytes());
                self.next_iv = Some(next);
            }
        }

        // Nothing below fails on valid framing; `msg` is modified from here on.
        msg.reserve(total.saturating_sub(msg.len()));
        msg.splice(body_start..body_start, iv.iter().copied());
        msg.resize(icv_start.saturating_sub(1), 0);
        msg.push(pad_byte);
        msg.resize(total, 0);
        put(msg, sk_offset.saturating_add(2), &sk_len.to_be_bytes())?;
        put(msg, 24, &ike_len.to_be_bytes())?;

        let (head, rest) = msg.split_at_mut(enc_start);
        let (enc, icv) = rest.split_at_mut(enc_len);
        match &self.integ {
            None => {
                let aad = head
                    .get(..body_start)
                    .ok_or(CryptoError::Malformed { what: "SK header" })?;
                self.cipher.encrypt(iv, aad, enc, icv)
            }
            Some(integ) => {
                self.cipher.encrypt(iv, &[], enc, &mut [])?;
                let (signed, icv) = msg.split_at_mut(icv_start);
                integ.compute(signed, icv)
            }
        }
    }

    /// Verifies and decrypts the SK (or SKF) payload at `sk_offset`, which must run to the end of
    /// `msg`, and returns the byte range of the inner payloads in `msg`.
    ///
    /// The ICV (CBC + HMAC, over the whole message minus the ICV) or the AEAD tag is checked in
    /// constant time before anything is decrypted.
    ///
    /// # Errors
    /// [`CryptoError::Malformed`] if the framing or a length field is inconsistent with `msg`;
    /// [`CryptoError::IntegrityCheckFailed`]; [`CryptoError::BadPadding`] if the pad length does
    /// not fit. On error no plaintext is claimed and `msg` holds unspecified bytes.
    pub fn open(
        &self,
        msg: &mut [u8],
        sk_offset: usize,
        sk_header_len: usize,
    ) -> Result<Range<usize>, CryptoError> {
        let body_start = check_framing(msg.len(), sk_offset, sk_header_len)?;
        let ike_len = read_u32(msg, 24).ok_or(CryptoError::Malformed { what: "IKE header" })?;
        if usize::try_from(ike_len).ok() != Some(msg.len()) {
            return Err(CryptoError::Malformed {
                what: "IKE header length",
            });
        }
        let sk_len =
            read_u16(msg, sk_offset.saturating_add(2)).ok_or(CryptoError::Malformed { what: "SK header" })?;
        if Some(usize::from(sk_len)) != msg.len().checked_sub(sk_offset) {
            return Err(CryptoError::Malformed {
                what: "SK payload length",
            });
        }
        let iv_len = self.iv_len();
        let icv_len = self.icv_len();
        let body_len = msg
            .len()
            .checked_sub(body_start)
            .ok_or(CryptoError::Malformed { what: "SK header" })?;
        let enc_len = body_len
            .checked_sub(iv_len)
            .and_then(|n| n.checked_sub(icv_len))
            .filter(|&n| n > 0)
            .ok_or(CryptoError::Malformed {
                what: "SK payload too short",
            })?;
        if let EncrKind::Block { block_len, .. } = self.kind {
            if enc_len.checked_rem(block_len) != Some(0) {
                return Err(CryptoError::Malformed {
                    what: "ciphertext not a multiple of the block size",
                });
            }
        }
        let enc_start = body_start
            .checked_add(iv_len)
            .ok_or(CryptoError::Malformed { what: "SK header" })?;
        let icv_start = enc_start
            .checked_add(enc_len)
            .ok_or(CryptoError::Malformed { what: "SK header" })?;

        if let Some(integ) = &self.integ {
            let (signed, icv) = msg.split_at(icv_start);
            integ
                .verify(signed, icv)
                .map_err(|_| CryptoError::IntegrityCheckFailed)?;
        }
        let mut iv_buf = [0u8; MAX_IV_LEN];
        let iv = iv_buf
            .get_mut(..iv_len)
            .ok_or(CryptoError::UnsupportedAlgorithm)?;
        iv.copy_from_slice(
            msg.get(body_start..enc_start)
                .ok_or(CryptoError::Malformed { what: "IV" })?,
        );
        let (head, rest) = msg.split_at_mut(enc_start);
        let (enc, icv) = rest.split_at_mut(enc_len);
        match &self.integ {
            None => {
                let aad = head
                    .get(..body_start)
                    .ok_or(CryptoError::Malformed { what: "SK header" })?;
                self.cipher
                    .decrypt(iv, aad, enc, icv)
                    .map_err(|_| CryptoError::IntegrityCheckFailed)?;
            }
            Some(_) => self.cipher.decrypt(iv, &[], enc, &[])?,
        }
        let pad_len = usize::from(*enc.last().ok_or(CryptoError::BadPadding)?);
        let inner_len = enc_len
            .checked_sub(1)
            .and_then(|n| n.checked_sub(pad_len))
            .ok_or(CryptoError::BadPadding)?;
        let inner_end = enc_start.checked_add(inner_len).ok_or(CryptoError::BadPadding)?;
        Ok(enc_start..inner_end)
    }
}

impl fmt::Debug for SkKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SkKey")
            .field("kind", &self.kind)
            .field("icv_len", &self.icv_len())
            .finish_non_exhaustive()
    }
}

/// Checks the framing shared by `seal` and `open` and returns where the IV starts.
fn check_framing(msg_len: usize, sk_offset: usize, sk_header_len: usize) -> Result<usize, CryptoError> {
    if sk_header_len != 4 && sk_header_len != 8 {
        return Err(CryptoError::Malformed {
            what: "SK header length (4 for SK, 8 for SKF)",
        });
    }
    if sk_offset < IKE_HEADER_LEN {
        return Err(CryptoError::Malformed {
            what: "SK payload inside the IKE header",
        });
    }
    let body_start = sk_offset
        .checked_add(sk_header_len)
        .ok_or(CryptoError::Malformed { what: "SK offset" })?;
    if body_start > msg_len {
        return Err(CryptoError::Malformed {
            what: "SK header past the end of the message",
        });
    }
    Ok(body_start)
}

fn put(msg: &mut [u8], at: usize, bytes: &[u8]) -> Result<(), CryptoError> {
    let end = at
        .checked_add(bytes.len())
        .ok_or(CryptoError::Malformed { what: "length field" })?;
    msg.get_mut(at..end)
        .ok_or(CryptoError::Malformed { what: "length field" })?
        .copy_from_slice(bytes);
    Ok(())
}

fn read_u32(msg: &[u8], at: usize) -> Option<u32> {
    let b = msg.get(at..)?.first_chunk::<4>()?;
    Some(u32::from_be_bytes(*b))
}

fn read_u16(msg: &[u8], at: usize) -> Option<u16> {
    let b = msg.get(at..)?.first_chunk::<2>()?;
    Some(u16::from_be_bytes(*b))
}
