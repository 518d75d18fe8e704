//! HMAC PRFs (RFC 2104, RFC 4868 §2.1.2) and truncated HMAC integrity (RFC 4868 §2.1.1,
//! RFC 2404) on RustCrypto `hmac`.

use alloc::boxed::Box;
use core::marker::PhantomData;

use hmac::{EagerHash, Hmac, KeyInit, Mac};

use crate::crypto::{CryptoError, Integ, IntegId, IntegKey, Prf, PrfId, PrfKey};

/// HMAC with hash `D` used as an IKEv2 PRF.
pub(crate) struct HmacPrf<D> {
    id: PrfId,
    output_len: usize,
    _hash: PhantomData<fn() -> D>,
}

impl<D> HmacPrf<D> {
    pub(crate) const fn new(id: PrfId, output_len: usize) -> Self {
        Self {
            id,
            output_len,
            _hash: PhantomData,
        }
    }
}

impl<D> Prf for HmacPrf<D>
where
    D: EagerHash + 'static,
    Hmac<D>: KeyInit + Mac + Clone + Send + Sync,
{
    fn id(&self) -> PrfId {
        self.id
    }

    fn output_len(&self) -> usize {
        self.output_len
    }

    fn key_len(&self) -> usize {
        self.output_len
    }

    fn key(&self, key: &[u8]) -> Result<Box<dyn PrfKey>, CryptoError> {
        let mac = <Hmac<D> as KeyInit>::new_from_slice(key).map_err(|_| CryptoError::InvalidKeyLength)?;
        Ok(Box::new(HmacPrfKey {
            mac,
            output_len: self.output_len,
        }))
    }
}

/// A keyed HMAC: the inner and outer pad states are computed once and cloned per use.
struct HmacPrfKey<D: EagerHash> {
    mac: Hmac<D>,
    output_len: usize,
}

impl<D> PrfKey for HmacPrfKey<D>
where
    D: EagerHash,
    Hmac<D>: Mac + Clone + Send + Sync,
{
    fn output_len(&self) -> usize {
        self.output_len
    }

    fn compute(&self, parts: &[&[u8]], out: &mut [u8]) -> Result<(), CryptoError> {
        if out.len() != self.output_len {
            return Err(CryptoError::InvalidLength { what: "PRF output" });
        }
        let mut mac = self.mac.clone();
        for part in parts {
            mac.update(part);
        }
        let tag = mac.finalize().into_bytes();
        let tag = tag
            .get(..self.output_len)
            .ok_or(CryptoError::InvalidLength { what: "PRF output" })?;
        out.copy_from_slice(tag);
        Ok(())
    }
}

/// HMAC with hash `D` truncated to `icv_len` bytes, as an integrity transform.
pub(crate) struct HmacInteg<D> {
    id: IntegId,
    key_len: usize,
    icv_len: usize,
    _hash: PhantomData<fn() -> D>,
}

impl<D> HmacInteg<D> {
    pub(crate) const fn new(id: IntegId, key_len: usize, icv_len: usize) -> Self {
        Self {
            id,
            key_len,
            icv_len,
            _hash: PhantomData,
        }
    }
}

impl<D> Integ for HmacInteg<D>
where
    D: EagerHash + 'static,
    Hmac<D>: KeyInit + Mac + Clone + Send + Sync,
{
    fn id(&self) -> IntegId {
        self.id
    }

    fn key_len(&self) -> usize {
        self.key_len
    }

    fn icv_len(&self) -> usize {
        self.icv_len
    }

    fn key(&self, key: &[u8]) -> Result<Box<dyn IntegKey>, CryptoError> {
        if key.len() != self.key_len {
            return Err(CryptoError::InvalidKeyLength);
        }
        let mac = <Hmac<D> as KeyInit>::new_from_slice(key).map_err(|_| CryptoError::InvalidKeyLength)?;
        Ok(Box::new(HmacIntegKey {
            mac,
            icv_len: self.icv_len,
        }))
    }
}

struct HmacIntegKey<D: EagerHash> {
    mac: Hmac<D>,
    icv_len: usize,
}

impl<D> IntegKey for HmacIntegKey<D>
where
    D: EagerHash,
    Hmac<D>: Mac + Clone + Send + Sync,
{
    fn icv_len(&self) -> usize {
        self.icv_len
    }

    fn compute(&self, data: &[u8], icv: &mut [u8]) -> Result<(), CryptoError> {
        if icv.len() != self.icv_len {
            return Err(CryptoError::InvalidLength { what: "ICV" });
        }
        let mut mac = self.mac.clone();
        mac.update(data);
        let tag = mac.finalize().into_bytes();
        icv.copy_from_slice(
            tag.get(..self.icv_len)
                .ok_or(CryptoError::InvalidLength { what: "ICV" })?,
        );
        Ok(())
    }

    fn verify(&self, data: &[u8], icv: &[u8]) -> Result<(), CryptoError> {
        if icv.len() != self.icv_len {
            return Err(CryptoError::IntegrityCheckFailed);
        }
        let mut mac = self.mac.clone();
        mac.update(data);
        // Constant-time comparison of the leftmost icv_len bytes (RFC 4868 §2.1.1 truncation).
        mac.verify_truncated_left(icv)
            .map_err(|_| CryptoError::IntegrityCheckFailed)
    }
}
