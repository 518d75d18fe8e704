//! OS entropy for the constructors and `Sad::install` of the Sans-IO crates.
//!
//! [`OsEntropy`] is a rand_core 0.10 `TryCryptoRng` over the operating system's generator
//! (`getrandom(2)` on Linux, through the `getrandom` crate's `SysRng`). This is the entropy
//! boundary of STYLE §2: the only place where rand_core appears in our public signatures. Pass
//! an `OsEntropy` where the protocol crates ask for an RNG; they wrap it at once.

use core::fmt;

use rand_core::{TryCryptoRng, TryRng};

/// The operating system's cryptographically secure random number generator.
///
/// Zero-sized and stateless: every call asks the kernel. Failures are reported, never turned
/// into a panic or weak output.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OsEntropy;

impl OsEntropy {
    /// Fills `dest` with random bytes.
    ///
    /// # Errors
    /// [`EntropyError`] if the OS generator fails (on Linux only before the pool is
    /// initialised at early boot, or if the `getrandom` syscall is blocked).
    pub fn fill(&mut self, dest: &mut [u8]) -> Result<(), EntropyError> {
        self.try_fill_bytes(dest)
    }
}

impl TryRng for OsEntropy {
    type Error = EntropyError;

    fn try_next_u32(&mut self) -> Result<u32, EntropyError> {
        getrandom::SysRng.try_next_u32().map_err(EntropyError)
    }

    fn try_next_u64(&mut self) -> Result<u64, EntropyError> {
        getrandom::SysRng.try_next_u64().map_err(EntropyError)
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), EntropyError> {
        getrandom::SysRng.try_fill_bytes(dst).map_err(EntropyError)
    }
}

impl TryCryptoRng for OsEntropy {}

/// The OS random number generator failed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct EntropyError(getrandom::Error);

impl EntropyError {
    /// The OS error code, if the failure came from a system call.
    #[must_use]
    pub fn raw_os_error(&self) -> Option<i32> {
        self.0.raw_os_error()
    }
}

impl fmt::Debug for EntropyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EntropyError({})", self.0)
    }
}

impl fmt::Display for EntropyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OS random number generator failed: {}", self.0)
    }
}

impl std::error::Error for EntropyError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_crypto_rng<R: TryCryptoRng + Send + Sync + 'static>(_: &R) {}

    #[test]
    fn is_a_crypto_rng_for_the_protocol_crates() {
        assert_crypto_rng(&OsEntropy);
    }

    #[test]
    fn fills_buffers_with_distinct_values() {
        let mut rng = OsEntropy;
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        rng.fill(&mut a).unwrap();
        rng.fill(&mut b).unwrap();
        // 2^-256 chance of a false failure per comparison.
        assert_ne!(a, [0u8; 32]);
        assert_ne!(a, b);
        let words: Vec<u64> = (0..8).map(|_| rng.try_next_u64().unwrap()).collect();
        let mut dedup = words.clone();
        dedup.sort_unstable();
        dedup.dedup();
        assert_eq!(dedup.len(), words.len(), "repeated 64-bit outputs: {words:?}");
        assert_ne!(
            rng.try_next_u32().unwrap() as u64 | rng.try_next_u32().unwrap() as u64,
            0
        );
    }

    #[test]
    fn bytes_look_uniform() {
        // A coarse sanity check, not a statistical test suite: 64 KiB of output should use every
        // byte value, each about 256 times.
        let mut buf = vec![0u8; 65536];
        OsEntropy.fill(&mut buf).unwrap();
        let mut counts = [0u32; 256];
        for b in &buf {
            counts[usize::from(*b)] += 1;
        }
        assert!(counts.iter().all(|&c| (128..=400).contains(&c)), "{counts:?}");
    }

    #[test]
    fn empty_fill_is_fine() {
        OsEntropy.fill(&mut []).unwrap();
    }
}
