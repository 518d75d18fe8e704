//! The default transform provider, built on the RustCrypto crates.

// Key and block sizes are small constants.
#![allow(clippy::arithmetic_side_effects)]

use aead::{AeadInOut, KeyInit, inout::InOutBuf};
use aes::{Aes128, Aes192, Aes256};
use aes_gcm::{Aes128Gcm, Aes256Gcm, AesGcm};
use chacha20poly1305::ChaCha20Poly1305;
use cipher::{BlockCipherEncrypt, BlockModeDecrypt, BlockModeEncrypt, InnerIvInit, consts::U12};
use hmac::{Hmac, Mac};
use sha2::{Sha256, Sha384, Sha512};

use super::{
    AesKeyLen, AhMac, CryptoError, EspAlgorithm, EspCipher, Integrity, IvSeed, KeyMaterial, MacState,
    SeqContext, TransformProvider,
};
use crate::wire::ESP_HEADER_LEN;

type Aes192Gcm = AesGcm<Aes192, U12>;

/// The RustCrypto transform provider: AES-GCM (RFC 4106), ChaCha20-Poly1305 (RFC 7634), AES-GMAC
/// (RFC 4543), AES-CBC (RFC 3602) and NULL (RFC 2410) with HMAC-SHA-2 (RFC 4868).
#[derive(Clone, Copy, Debug, Default)]
pub struct RustCrypto;

/// A keyed RustCrypto ESP cipher.
pub struct RustCryptoCipher {
    alg: EspAlgorithm,
    inner: Inner,
}

impl core::fmt::Debug for RustCryptoCipher {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RustCryptoCipher")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

// Inline by design (no alloc): the enum is as large as its largest keyed cipher.
#[allow(clippy::large_enum_variant)]
enum Inner {
    Aead {
        aead: AeadKey,
        salt: [u8; 4],
    },
    Cbc {
        key: CbcKey,
        mac: RustCryptoMac,
        iv_key: Aes128,
    },
    Null {
        mac: RustCryptoMac,
    },
}

enum AeadKey {
    Gcm128(Aes128Gcm),
    Gcm192(Aes192Gcm),
    Gcm256(Aes256Gcm),
    ChaCha(ChaCha20Poly1305),
}

enum CbcKey {
    Aes128(Aes128),
    Aes192(Aes192),
    Aes256(Aes256),
}

/// A keyed RustCrypto HMAC-SHA-2 (RFC 4868), for AH and for ESP with CBC or NULL.
#[derive(Clone)]
pub struct RustCryptoMac {
    alg: Integrity,
    state: RustCryptoMacState,
}

impl core::fmt::Debug for RustCryptoMac {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RustCryptoMac")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// Incremental HMAC state of a [`RustCryptoMac`].
#[derive(Clone)]
pub struct RustCryptoMacState(HmacState);

#[derive(Clone)]
enum HmacState {
    Sha256(Hmac<Sha256>),
    Sha384(Hmac<Sha384>),
    Sha512(Hmac<Sha512>),
}

impl TransformProvider for RustCrypto {
    type Cipher = RustCryptoCipher;
    type Mac = RustCryptoMac;

    fn esp_cipher(
        &self,
        alg: EspAlgorithm,
        keys: &KeyMaterial,
        iv_seed: &IvSeed,
    ) -> Result<RustCryptoCipher, CryptoError> {
        let k = keys.as_bytes();
        if k.len() != alg.key_material_len() {
            return Err(CryptoError::KeyLength);
        }
        let inner = match alg {
            EspAlgorithm::AesGcm16(len) | EspAlgorithm::AesGmac(len) => {
                let (key, salt) = split_salt(k)?;
                let aead = match len {
                    AesKeyLen::Aes128 => AeadKey::Gcm128(aead_key(key)?),
                    AesKeyLen::Aes192 => AeadKey::Gcm192(aead_key(key)?),
                    AesKeyLen::Aes256 => AeadKey::Gcm256(aead_key(key)?),
                };
                Inner::Aead { aead, salt }
            }
            EspAlgorithm::ChaCha20Poly1305 => {
                let (key, salt) = split_salt(k)?;
                Inner::Aead {
                    aead: AeadKey::ChaCha(aead_key(key)?),
                    salt,
                }
            }
            EspAlgorithm::AesCbc(len, integ) => {
                let (enc, auth) = k.split_at_checked(len.bytes()).ok_or(CryptoError::KeyLength)?;
                let key = match len {
                    AesKeyLen::Aes128 => CbcKey::Aes128(block_key(enc)?),
                    AesKeyLen::Aes192 => CbcKey::Aes192(block_key(enc)?),
                    AesKeyLen::Aes256 => CbcKey::Aes256(block_key(enc)?),
                };
                let iv_key = block_key(iv_seed.0.get(..16).ok_or(CryptoError::KeyLength)?)?;
                Inner::Cbc {
                    key,
                    mac: hmac_key(integ, auth)?,
                    iv_key,
                }
            }
            EspAlgorithm::Null(integ) => Inner::Null {
                mac: hmac_key(integ, k)?,
            },
        };
        Ok(RustCryptoCipher { alg, inner })
    }

    fn ah_mac(&self, alg: Integrity, key: &KeyMaterial) -> Result<RustCryptoMac, CryptoError> {
        hmac_key(alg, key.as_bytes())
    }
}

impl EspCipher for RustCryptoCipher {
    fn algorithm(&self) -> EspAlgorithm {
        self.alg
    }

    fn write_iv(&self, seq: u64, iv: &mut [u8]) {
        match &self.inner {
            Inner::Aead { .. } => {
                if let Some(iv) = iv.first_chunk_mut::<8>() {
                    *iv = seq.to_be_bytes();
                }
            }
            Inner::Cbc { iv_key, .. } => {
                let mut block = aes::Block::default();
                if let Some(tail) = block.last_chunk_mut::<8>() {
                    *tail = seq.to_be_bytes();
                }
                iv_key.encrypt_block(&mut block);
                if let Some(iv) = iv.first_chunk_mut::<16>() {
                    iv.copy_from_slice(&block);
                }
            }
            Inner::Null { .. } => {}
        }
    }

    fn seal(&self, esp: &mut [u8], seq: SeqContext) -> Result<(), CryptoError> {
        let layout = Layout::of(self.alg, esp.len())?;
        match &self.inner {
            Inner::Aead { aead, salt } => {
                let (head, rest) = esp.split_at_mut(layout.body_start);
                let (body, icv) = rest.split_at_mut(layout.body_len);
                let nonce = nonce(salt, head)?;
                let tag = if self.alg.encrypts() {
                    let aad = Aad::new(head, seq)?;
                    aead.seal(&nonce, aad.as_slice(), body)?
                } else {
                    // GMAC (RFC 4543 §3.2): everything up to the ICV is authenticated, nothing
                    // encrypted; only 32-bit sequence numbers (the AAD must be contiguous).
                    if seq.esn {
                        return Err(CryptoError::Unsupported);
                    }
                    let authenticated = esp.get(..layout.icv_start).ok_or(CryptoError::Length)?;
                    let tag = aead.seal(&nonce, authenticated, &mut [])?;
                    let icv = esp.get_mut(layout.icv_start..).ok_or(CryptoError::Length)?;
                    icv.copy_from_slice(&tag);
                    return Ok(());
                };
                icv.copy_from_slice(&tag);
                Ok(())
            }
            Inner::Cbc { key, mac, .. } => {
                let (head, rest) = esp.split_at_mut(layout.body_start);
                let body = rest.get_mut(..layout.body_len).ok_or(CryptoError::Length)?;
                let iv = head.get(ESP_HEADER_LEN..).ok_or(CryptoError::Length)?;
                key.encrypt(iv, body)?;
                mac_esp(mac, esp, layout, seq)
            }
            Inner::Null { mac } => mac_esp(mac, esp, layout, seq),
        }
    }

    fn open(&self, esp: &mut [u8], seq: SeqContext) -> Result<(), CryptoError> {
        let layout = Layout::of(self.alg, esp.len())?;
        match &self.inner {
            Inner::Aead { aead, salt } => {
                let (head, rest) = esp.split_at_mut(layout.body_start);
                let (body, icv) = rest.split_at_mut(layout.body_len);
                let nonce = nonce(salt, head)?;
                if self.alg.encrypts() {
                    let aad = Aad::new(head, seq)?;
                    aead.open(&nonce, aad.as_slice(), body, icv)
                } else {
                    if seq.esn {
                        return Err(CryptoError::Unsupported);
                    }
                    let (authenticated, icv) = esp.split_at_mut(layout.icv_start);
                    aead.open(&nonce, authenticated, &mut [], icv)
                }
            }
            Inner::Cbc { key, mac, .. } => {
                verify_esp(mac, esp, layout, seq)?;
                let (head, rest) = esp.split_at_mut(layout.body_start);
                let body = rest.get_mut(..layout.body_len).ok_or(CryptoError::Length)?;
                let iv = head.get(ESP_HEADER_LEN..).ok_or(CryptoError::Length)?;
                key.decrypt(iv, body)
            }
            Inner::Null { mac } => verify_esp(mac, esp, layout, seq),
        }
    }
}

impl AhMac for RustCryptoMac {
    type State = RustCryptoMacState;

    fn algorithm(&self) -> Integrity {
        self.alg
    }

    fn start(&self) -> RustCryptoMacState {
        self.state.clone()
    }
}

impl MacState for RustCryptoMacState {
    fn update(&mut self, data: &[u8]) {
        match &mut self.0 {
            HmacState::Sha256(m) => m.update(data),
            HmacState::Sha384(m) => m.update(data),
            HmacState::Sha512(m) => m.update(data),
        }
    }

    fn finish_into(self, out: &mut [u8]) {
        match self.0 {
            HmacState::Sha256(m) => truncate_into(&m.finalize().into_bytes(), out),
            HmacState::Sha384(m) => truncate_into(&m.finalize().into_bytes(), out),
            HmacState::Sha512(m) => truncate_into(&m.finalize().into_bytes(), out),
        }
    }

    fn verify(self, icv: &[u8]) -> Result<(), CryptoError> {
        let r = match self.0 {
            HmacState::Sha256(m) => m.verify_truncated_left(icv),
            HmacState::Sha384(m) => m.verify_truncated_left(icv),
            HmacState::Sha512(m) => m.verify_truncated_left(icv),
        };
        r.map_err(|_| CryptoError::IntegrityCheckFailed)
    }
}

/// Where the parts of an ESP packet of a given length lie for an algorithm.
#[derive(Clone, Copy)]
struct Layout {
    body_start: usize,
    body_len: usize,
    icv_start: usize,
}

impl Layout {
    fn of(alg: EspAlgorithm, esp_len: usize) -> Result<Layout, CryptoError> {
        let body_start = ESP_HEADER_LEN
            .checked_add(alg.iv_len())
            .ok_or(CryptoError::Length)?;
        let icv_start = esp_len.checked_sub(alg.icv_len()).ok_or(CryptoError::Length)?;
        let body_len = icv_start.checked_sub(body_start).ok_or(CryptoError::Length)?;
        if body_len % alg.block_len() != 0 {
            return Err(CryptoError::Length);
        }
        Ok(Layout {
            body_start,
            body_len,
            icv_start,
        })
    }
}

/// The AEAD additional data: SPI ‖ seq, or SPI ‖ seq-high ‖ seq-low with ESN (RFC 4106 §5).
struct Aad {
    bytes: [u8; 12],
    len: usize,
}

impl Aad {
    fn new(head: &[u8], seq: SeqContext) -> Result<Aad, CryptoError> {
        let (header, _) = head
            .split_first_chunk::<ESP_HEADER_LEN>()
            .ok_or(CryptoError::Length)?;
        let mut bytes = [0u8; 12];
        let [s0, s1, s2, s3, q0, q1, q2, q3] = *header;
        if seq.esn {
            let [h0, h1, h2, h3] = seq.high().to_be_bytes();
            bytes = [s0, s1, s2, s3, h0, h1, h2, h3, q0, q1, q2, q3];
            Ok(Aad { bytes, len: 12 })
        } else {
            bytes[..8].copy_from_slice(header);
            Ok(Aad { bytes, len: 8 })
        }
    }
    fn as_slice(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&self.bytes)
    }
}

fn nonce(salt: &[u8; 4], head: &[u8]) -> Result<[u8; 12], CryptoError> {
    let iv = head
        .get(ESP_HEADER_LEN..)
        .and_then(|iv| iv.first_chunk::<8>())
        .ok_or(CryptoError::Length)?;
    let mut n = [0u8; 12];
    n[..4].copy_from_slice(salt);
    n[4..].copy_from_slice(iv);
    Ok(n)
}

impl AeadKey {
    fn seal(&self, nonce: &[u8; 12], aad: &[u8], body: &mut [u8]) -> Result<[u8; 16], CryptoError> {
        let buf = InOutBuf::from(body);
        let tag = match self {
            AeadKey::Gcm128(a) => a.encrypt_inout_detached(nonce.into(), aad, buf),
            AeadKey::Gcm192(a) => a.encrypt_inout_detached(nonce.into(), aad, buf),
            AeadKey::Gcm256(a) => a.encrypt_inout_detached(nonce.into(), aad, buf),
            AeadKey::ChaCha(a) => a.encrypt_inout_detached(nonce.into(), aad, buf),
        }
        .map_err(|_| CryptoError::Length)?;
        Ok(tag.into())
    }

    fn open(&self, nonce: &[u8; 12], aad: &[u8], body: &mut [u8], icv: &[u8]) -> Result<(), CryptoError> {
        let tag = <&[u8; 16]>::try_from(icv).map_err(|_| CryptoError::Length)?;
        let buf = InOutBuf::from(body);
        match self {
            AeadKey::Gcm128(a) => a.decrypt_inout_detached(nonce.into(), aad, buf, tag.into()),
            AeadKey::Gcm192(a) => a.decrypt_inout_detached(nonce.into(), aad, buf, tag.into()),
            AeadKey::Gcm256(a) => a.decrypt_inout_detached(nonce.into(), aad, buf, tag.into()),
            AeadKey::ChaCha(a) => a.decrypt_inout_detached(nonce.into(), aad, buf, tag.into()),
        }
        .map_err(|_| CryptoError::IntegrityCheckFailed)
    }
}

impl CbcKey {
    fn encrypt(&self, iv: &[u8], body: &mut [u8]) -> Result<(), CryptoError> {
        let iv = <&[u8; 16]>::try_from(iv).map_err(|_| CryptoError::Length)?;
        let (blocks, tail) = InOutBuf::from(body).into_chunks::<cipher::consts::U16>();
        if !tail.is_empty() {
            return Err(CryptoError::Length);
        }
        match self {
            CbcKey::Aes128(k) => {
                cbc::Encryptor::inner_iv_init(k.clone(), iv.into()).encrypt_blocks_inout(blocks)
            }
            CbcKey::Aes192(k) => {
                cbc::Encryptor::inner_iv_init(k.clone(), iv.into()).encrypt_blocks_inout(blocks)
            }
            CbcKey::Aes256(k) => {
                cbc::Encryptor::inner_iv_init(k.clone(), iv.into()).encrypt_blocks_inout(blocks)
            }
        }
        Ok(())
    }

    fn decrypt(&self, iv: &[u8], body: &mut [u8]) -> Result<(), CryptoError> {
        let iv = <&[u8; 16]>::try_from(iv).map_err(|_| CryptoError::Length)?;
        let (blocks, tail) = InOutBuf::from(body).into_chunks::<cipher::consts::U16>();
        if !tail.is_empty() {
            return Err(CryptoError::Length);
        }
        match self {
            CbcKey::Aes128(k) => {
                cbc::Decryptor::inner_iv_init(k.clone(), iv.into()).decrypt_blocks_inout(blocks)
            }
            CbcKey::Aes192(k) => {
                cbc::Decryptor::inner_iv_init(k.clone(), iv.into()).decrypt_blocks_inout(blocks)
            }
            CbcKey::Aes256(k) => {
                cbc::Decryptor::inner_iv_init(k.clone(), iv.into()).decrypt_blocks_inout(blocks)
            }
        }
        Ok(())
    }
}

/// The ESP ICV over header, IV and body, followed by the high sequence bits when ESN is in use
/// (RFC 4303 §2.2.1, §3.3.2.2: the high bits are MACed but not sent).
fn esp_mac(
    mac: &RustCryptoMac,
    esp: &[u8],
    layout: Layout,
    seq: SeqContext,
) -> Result<RustCryptoMacState, CryptoError> {
    let covered = esp.get(..layout.icv_start).ok_or(CryptoError::Length)?;
    let mut state = mac.start();
    state.update(covered);
    if seq.esn {
        state.update(&seq.high().to_be_bytes());
    }
    Ok(state)
}

fn mac_esp(mac: &RustCryptoMac, esp: &mut [u8], layout: Layout, seq: SeqContext) -> Result<(), CryptoError> {
    let state = esp_mac(mac, esp, layout, seq)?;
    let icv = esp.get_mut(layout.icv_start..).ok_or(CryptoError::Length)?;
    state.finish_into(icv);
    Ok(())
}

fn verify_esp(mac: &RustCryptoMac, esp: &[u8], layout: Layout, seq: SeqContext) -> Result<(), CryptoError> {
    let state = esp_mac(mac, esp, layout, seq)?;
    state.verify(esp.get(layout.icv_start..).ok_or(CryptoError::Length)?)
}

fn truncate_into(full: &[u8], out: &mut [u8]) {
    let n = out.len().min(full.len());
    if let (Some(dst), Some(src)) = (out.get_mut(..n), full.get(..n)) {
        dst.copy_from_slice(src);
    }
}

fn split_salt(k: &[u8]) -> Result<(&[u8], [u8; 4]), CryptoError> {
    let (key, salt) = k.split_last_chunk::<4>().ok_or(CryptoError::KeyLength)?;
    Ok((key, *salt))
}

fn aead_key<A: KeyInit>(key: &[u8]) -> Result<A, CryptoError> {
    A::new_from_slice(key).map_err(|_| CryptoError::KeyLength)
}

fn block_key<B: KeyInit>(key: &[u8]) -> Result<B, CryptoError> {
    B::new_from_slice(key).map_err(|_| CryptoError::KeyLength)
}

fn hmac_key(alg: Integrity, key: &[u8]) -> Result<RustCryptoMac, CryptoError> {
    if key.len() != alg.key_len() {
        return Err(CryptoError::KeyLength);
    }
    let bad = |_| CryptoError::KeyLength;
    let state = match alg {
        Integrity::HmacSha256_128 => HmacState::Sha256(Hmac::new_from_slice(key).map_err(bad)?),
        Integrity::HmacSha384_192 => HmacState::Sha384(Hmac::new_from_slice(key).map_err(bad)?),
        Integrity::HmacSha512_256 => HmacState::Sha512(Hmac::new_from_slice(key).map_err(bad)?),
    };
    Ok(RustCryptoMac {
        alg,
        state: RustCryptoMacState(state),
    })
}
