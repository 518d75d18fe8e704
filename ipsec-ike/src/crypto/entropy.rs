//! The entropy boundary (STYLE §2 "Entropy only at the boundary").
//!
//! A rand_core 0.10 [`TryCryptoRng`] is wrapped at once into [`Entropy`]; nothing else in the
//! crate's public API names rand_core, so a future rand_core release changes one constructor.

use alloc::boxed::Box;
use core::fmt;

use rand_core::TryCryptoRng;
#[cfg(any(test, feature = "rustcrypto"))]
use rand_core::TryRng;

use super::CryptoError;

/// Object-safe view of a fallible byte source, implemented for every `TryCryptoRng`.
trait ByteSource: Send {
    fn fill(&mut self, dst: &mut [u8]) -> bool;
}

struct RngSource<R>(R);

impl<R: TryCryptoRng + Send> ByteSource for RngSource<R> {
    fn fill(&mut self, dst: &mut [u8]) -> bool {
        self.0.try_fill_bytes(dst).is_ok()
    }
}

/// The injected cryptographically secure random number generator.
///
/// Every random value of the IKE suite (DH private values, CBC IVs, RSA blinding; and in the
/// engine SPIs, nonces, cookie secrets) is drawn from here (STYLE §4.7).
pub struct Entropy {
    source: Box<dyn ByteSource>,
}

impl Entropy {
    /// Wraps a rand_core 0.10 `TryCryptoRng` (for example `getrandom::SysRng`, or a seeded
    /// `rand_chacha::ChaCha20Rng` in deterministic tests).
    pub fn new<R: TryCryptoRng + Send + 'static>(rng: R) -> Self {
        Self {
            source: Box::new(RngSource(rng)),
        }
    }

    /// Fills `dst` with random bytes.
    ///
    /// # Errors
    /// [`CryptoError::RandomFailure`] if the generator failed; `dst` is then zeroed so that a
    /// partial fill is never mistaken for randomness.
    pub fn fill(&mut self, dst: &mut [u8]) -> Result<(), CryptoError> {
        if self.source.fill(dst) {
            Ok(())
        } else {
            dst.fill(0);
            Err(CryptoError::RandomFailure)
        }
    }

    /// Borrows this generator as a rand_core `TryCryptoRng` for RustCrypto APIs (RSA blinding).
    #[cfg(feature = "rustcrypto")]
    pub(crate) fn as_rng(&mut self) -> EntropyRng<'_> {
        EntropyRng(self)
    }
}

impl fmt::Debug for Entropy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Entropy")
    }
}

/// Adapter handing an [`Entropy`] to RustCrypto functions that want a `TryCryptoRng`.
#[cfg(feature = "rustcrypto")]
pub(crate) struct EntropyRng<'a>(&'a mut Entropy);

#[cfg(feature = "rustcrypto")]
impl TryRng for EntropyRng<'_> {
    type Error = CryptoError;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        self.0.fill(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        self.0.fill(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        self.0.fill(dst)
    }
}

#[cfg(feature = "rustcrypto")]
impl TryCryptoRng for EntropyRng<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    struct Failing;
    #[derive(Debug)]
    struct Broken;
    impl fmt::Display for Broken {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("broken")
        }
    }
    impl core::error::Error for Broken {}
    impl TryRng for Failing {
        type Error = Broken;
        fn try_next_u32(&mut self) -> Result<u32, Broken> {
            Err(Broken)
        }
        fn try_next_u64(&mut self) -> Result<u64, Broken> {
            Err(Broken)
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Broken> {
            dst.fill(0xaa);
            Err(Broken)
        }
    }
    impl TryCryptoRng for Failing {}

    #[test]
    fn failure_is_reported_and_output_zeroed() {
        let mut e = Entropy::new(Failing);
        let mut buf = [1u8; 8];
        assert_eq!(e.fill(&mut buf), Err(CryptoError::RandomFailure));
        assert_eq!(buf, [0u8; 8]);
    }
}
