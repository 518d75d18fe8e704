//! SK payload ciphers on RustCrypto: AES-GCM-16 (RFC 5282), ChaCha20-Poly1305 (RFC 7634) and
//! AES-CBC (RFC 3602).

use alloc::boxed::Box;

use aead::array::Array;
use aead::{AeadInOut, KeyInit};
use aes::{Aes128, Aes256};
use cipher::{BlockModeDecrypt, BlockModeEncrypt, InnerIvInit};

use crate::crypto::{CryptoError, Encr, EncrId, EncrKey, EncrKind};

/// AEAD framing shared by AES-GCM-16 and ChaCha20-Poly1305 in IKEv2: 8-byte explicit IV, 4-byte
/// salt, 16-byte ICV (RFC 5282 §3–§4, RFC 7634 §2–§3).
const AEAD_KIND: EncrKind = EncrKind::Aead {
    iv_len: 8,
    salt_len: 4,
    tag_len: 16,
};
const SALT_LEN: usize = 4;
const AES_BLOCK: usize = 16;

/// Which AEAD the [`AeadEncr`] factory builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AeadAlg {
    Aes128Gcm,
    Aes256Gcm,
    ChaCha20Poly1305,
}

/// An AEAD transform.
pub(crate) struct AeadEncr(pub(crate) AeadAlg);

impl Encr for AeadEncr {
    fn id(&self) -> EncrId {
        match self.0 {
            AeadAlg::Aes128Gcm | AeadAlg::Aes256Gcm => EncrId::ENCR_AES_GCM_16,
            AeadAlg::ChaCha20Poly1305 => EncrId::ENCR_CHACHA20_POLY1305,
        }
    }

    fn key_bits(&self) -> u16 {
        match self.0 {
            AeadAlg::Aes128Gcm => 128,
            AeadAlg::Aes256Gcm | AeadAlg::ChaCha20Poly1305 => 256,
        }
    }

    fn key_len(&self) -> usize {
        usize::from(self.key_bits() / 8).saturating_add(SALT_LEN)
    }

    fn kind(&self) -> EncrKind {
        AEAD_KIND
    }

    fn key(&self, key: &[u8]) -> Result<Box<dyn EncrKey>, CryptoError> {
        if key.len() != self.key_len() {
            return Err(CryptoError::InvalidKeyLength);
        }
        let (key, salt) = key
            .split_last_chunk::<SALT_LEN>()
            .ok_or(CryptoError::InvalidKeyLength)?;
        let salt = *salt;
        let invalid = |_| CryptoError::InvalidKeyLength;
        Ok(match self.0 {
            AeadAlg::Aes128Gcm => Box::new(AeadKey {
                cipher: aes_gcm::Aes128Gcm::new_from_slice(key).map_err(invalid)?,
                salt,
            }),
            AeadAlg::Aes256Gcm => Box::new(AeadKey {
                cipher: aes_gcm::Aes256Gcm::new_from_slice(key).map_err(invalid)?,
                salt,
            }),
            AeadAlg::ChaCha20Poly1305 => Box::new(AeadKey {
                cipher: chacha20poly1305::ChaCha20Poly1305::new_from_slice(key).map_err(invalid)?,
                salt,
            }),
        })
    }
}

/// A keyed AEAD (key schedule done once) with its salt.
struct AeadKey<A> {
    cipher: A,
    salt: [u8; SALT_LEN],
}

impl<A> AeadKey<A> {
    fn nonce(&self, iv: &[u8]) -> Result<[u8; 12], CryptoError> {
        let iv: &[u8; 8] = iv
            .try_into()
            .map_err(|_| CryptoError::InvalidLength { what: "IV" })?;
        let mut nonce = [0u8; 12];
        let (s, i) = nonce.split_at_mut(SALT_LEN);
        s.copy_from_slice(&self.salt);
        i.copy_from_slice(iv);
        Ok(nonce)
    }
}

impl<A> Drop for AeadKey<A> {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.salt);
    }
}

impl<A> EncrKey for AeadKey<A>
where
    A: AeadInOut<NonceSize = aead::consts::U12, TagSize = aead::consts::U16> + Send + Sync,
{
    fn kind(&self) -> EncrKind {
        AEAD_KIND
    }

    fn encrypt(&self, iv: &[u8], aad: &[u8], buf: &mut [u8], tag: &mut [u8]) -> Result<(), CryptoError> {
        let nonce = Array::from(self.nonce(iv)?);
        if tag.len() != 16 {
            return Err(CryptoError::InvalidLength { what: "AEAD tag" });
        }
        let t = self
            .cipher
            .encrypt_inout_detached(&nonce, aad, buf.into())
            .map_err(|_| CryptoError::InvalidLength { what: "AEAD input" })?;
        tag.copy_from_slice(&t);
        Ok(())
    }

    fn decrypt(&self, iv: &[u8], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> Result<(), CryptoError> {
        let nonce = Array::from(self.nonce(iv)?);
        let tag = Array::try_from(tag).map_err(|_| CryptoError::IntegrityCheckFailed)?;
        self.cipher
            .decrypt_inout_detached(&nonce, aad, buf.into(), &tag)
            .map_err(|_| CryptoError::IntegrityCheckFailed)
    }
}

/// AES-CBC with a 128- or 256-bit key (RFC 3602), integrity supplied separately.
pub(crate) struct AesCbcEncr {
    pub(crate) bits: u16,
}

const CBC_KIND: EncrKind = EncrKind::Block {
    block_len: AES_BLOCK,
    iv_len: AES_BLOCK,
};

impl Encr for AesCbcEncr {
    fn id(&self) -> EncrId {
        EncrId::ENCR_AES_CBC
    }

    fn key_bits(&self) -> u16 {
        self.bits
    }

    fn key_len(&self) -> usize {
        usize::from(self.bits / 8)
    }

    fn kind(&self) -> EncrKind {
        CBC_KIND
    }

    fn key(&self, key: &[u8]) -> Result<Box<dyn EncrKey>, CryptoError> {
        if key.len() != self.key_len() {
            return Err(CryptoError::InvalidKeyLength);
        }
        let invalid = |_| CryptoError::InvalidKeyLength;
        Ok(match self.bits {
            128 => Box::new(CbcKey(Aes128::new_from_slice(key).map_err(invalid)?)),
            256 => Box::new(CbcKey(Aes256::new_from_slice(key).map_err(invalid)?)),
            _ => return Err(CryptoError::UnsupportedAlgorithm),
        })
    }
}

/// The expanded AES key; each message clones it into a CBC mode object with its own IV.
struct CbcKey<C>(C);

type Block = Array<u8, aead::consts::U16>;

fn blocks(buf: &mut [u8]) -> Result<&mut [Block], CryptoError> {
    let (blocks, rest) = Block::slice_as_chunks_mut(buf);
    if rest.is_empty() {
        Ok(blocks)
    } else {
        Err(CryptoError::InvalidLength { what: "CBC input" })
    }
}

fn cbc_iv(iv: &[u8]) -> Result<Block, CryptoError> {
    Block::try_from(iv).map_err(|_| CryptoError::InvalidLength { what: "IV" })
}

impl<C> EncrKey for CbcKey<C>
where
    C: cipher::BlockCipherEncrypt<BlockSize = aead::consts::U16>
        + cipher::BlockCipherDecrypt<BlockSize = aead::consts::U16>
        + Clone
        + Send
        + Sync,
{
    fn kind(&self) -> EncrKind {
        CBC_KIND
    }

    fn encrypt(&self, iv: &[u8], aad: &[u8], buf: &mut [u8], tag: &mut [u8]) -> Result<(), CryptoError> {
        if !aad.is_empty() || !tag.is_empty() {
            return Err(CryptoError::InvalidLength {
                what: "CBC takes no AAD or tag",
            });
        }
        let iv = cbc_iv(iv)?;
        let mut mode = cbc::Encryptor::<C>::inner_iv_init(self.0.clone(), &iv);
        mode.encrypt_blocks(blocks(buf)?);
        Ok(())
    }

    fn decrypt(&self, iv: &[u8], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> Result<(), CryptoError> {
        if !aad.is_empty() || !tag.is_empty() {
            return Err(CryptoError::InvalidLength {
                what: "CBC takes no AAD or tag",
            });
        }
        let iv = cbc_iv(iv)?;
        let mut mode = cbc::Decryptor::<C>::inner_iv_init(self.0.clone(), &iv);
        mode.decrypt_blocks(blocks(buf)?);
        Ok(())
    }
}
