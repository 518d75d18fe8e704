//! Anti-replay window (RFC 4303 §3.4.3, Appendix A) as a ring of 64-bit words (RFC 6479).
//!
//! The window holds `W` words. One word is kept as slack so that advancing the window clears whole
//! words instead of shifting bits, which makes the usable window `(W - 1) * 64` packets; the size an
//! SA actually uses is set at run time, up to that capacity. [`replay_words`] computes `W` for a
//! window size: `ReplayWindow<{ replay_words(4096) }>` holds a 4096-packet window.
//!
//! Checking is split in two on purpose (RFC 4303 §3.4.3): [`ReplayWindow::check`] is read-only and
//! runs before the ICV is verified; [`ReplayWindow::accept`] updates the window only after it was.

// Window arithmetic: `top - seq` only after `seq <= top`, `size - 1` with size >= 1, word indices
// modulo W; sequence numbers are u64 and never incremented here.
#![allow(clippy::arithmetic_side_effects)]

use core::fmt;

/// The number of 64-bit words a [`ReplayWindow`] needs for a window of `packets` packets.
#[must_use]
pub const fn replay_words(packets: usize) -> usize {
    packets.div_ceil(64).saturating_add(1)
}

/// Why a sequence number was refused.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplayError {
    /// The packet was already received.
    Replayed,
    /// The packet lies to the left of the window.
    TooOld,
    /// Sequence number 0 is never sent (RFC 4303 §2.2: the first packet carries 1).
    Zero,
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReplayError::Replayed => "sequence number already received",
            ReplayError::TooOld => "sequence number left of the replay window",
            ReplayError::Zero => "sequence number zero",
        })
    }
}

impl core::error::Error for ReplayError {}

/// The receive-side anti-replay state of one SA.
#[derive(Clone, PartialEq, Eq)]
pub struct ReplayWindow<const W: usize> {
    bitmap: [u64; W],
    /// Highest sequence number accepted so far (0 before the first packet).
    top: u64,
    /// Window size in packets, 1..=(W - 1) * 64.
    size: u64,
    esn: bool,
}

impl<const W: usize> fmt::Debug for ReplayWindow<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplayWindow")
            .field("top", &self.top)
            .field("size", &self.size)
            .field("esn", &self.esn)
            .finish_non_exhaustive()
    }
}

impl<const W: usize> ReplayWindow<W> {
    /// The largest window this type can hold, in packets.
    pub const CAPACITY: usize = W.saturating_sub(1).saturating_mul(64);

    /// A window of `size` packets; with `esn`, sequence numbers are 64 bits wide and their high half
    /// is inferred from the window (RFC 4303 Appendix A2.2).
    ///
    /// Returns `None` if `size` is 0 or larger than [`Self::CAPACITY`].
    #[must_use]
    pub fn new(size: u32, esn: bool) -> Option<Self> {
        let s = usize::try_from(size).ok()?;
        if s == 0 || s > Self::CAPACITY {
            return None;
        }
        Some(ReplayWindow {
            bitmap: [0; W],
            top: 0,
            size: u64::from(size),
            esn,
        })
    }

    /// Highest sequence number accepted so far.
    #[must_use]
    pub fn top(&self) -> u64 {
        self.top
    }

    /// Window size in packets.
    #[must_use]
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The full sequence number for a received low half, with the high half inferred when ESN is in
    /// use (RFC 4303 Appendix A2.2); the low half itself without ESN.
    #[must_use]
    pub fn infer(&self, seq_low: u32) -> u64 {
        if !self.esn {
            return u64::from(seq_low);
        }
        // Split the 64-bit top into halves; the window's bottom is top - size + 1 (mod 2^32).
        let [h0, h1, h2, h3, l0, l1, l2, l3] = self.top.to_be_bytes();
        let (th, tl) = (
            u32::from_be_bytes([h0, h1, h2, h3]),
            u32::from_be_bytes([l0, l1, l2, l3]),
        );
        // size - 1 < 2^32: the size came from a u32.
        let span = u32::try_from(self.size - 1).unwrap_or(u32::MAX);
        let bottom = tl.wrapping_sub(span);
        let high = if u64::from(tl) >= self.size - 1 {
            // Case A: the window lies within one 2^32 block.
            if seq_low >= bottom { th } else { th.wrapping_add(1) }
        } else {
            // Case B: the window spans two blocks (or, before any packet of the second block,
            // starts at 0: there is no block below the first).
            if seq_low >= bottom && th > 0 { th - 1 } else { th }
        };
        (u64::from(high) << 32) | u64::from(seq_low)
    }

    /// Checks a received sequence number without changing the window; returns the full 64-bit
    /// sequence number to authenticate the packet with.
    ///
    /// # Errors
    /// [`ReplayError`] if the packet must be dropped.
    pub fn check(&self, seq_low: u32) -> Result<u64, ReplayError> {
        let seq = self.infer(seq_low);
        self.check_full(seq)?;
        Ok(seq)
    }

    fn check_full(&self, seq: u64) -> Result<(), ReplayError> {
        if seq == 0 {
            return Err(ReplayError::Zero);
        }
        if seq > self.top {
            return Ok(());
        }
        if self.top - seq >= self.size {
            return Err(ReplayError::TooOld);
        }
        let (word, bit) = Self::position(seq);
        if self.bitmap.get(word).is_some_and(|w| w & bit != 0) {
            Err(ReplayError::Replayed)
        } else {
            Ok(())
        }
    }

    /// Marks `seq` (as returned by [`ReplayWindow::check`]) received, after its ICV verified,
    /// advancing the window if it is new.
    ///
    /// # Errors
    /// As [`ReplayWindow::check`], if `seq` became unacceptable in between; the window is then
    /// unchanged.
    pub fn accept(&mut self, seq: u64) -> Result<(), ReplayError> {
        self.check_full(seq)?;
        if seq > self.top {
            let old_word = self.top / 64;
            let new_word = seq / 64;
            // Clear the words the window slides over (at most all of them).
            let steps = (new_word - old_word).min(W as u64);
            let mut w = old_word;
            for _ in 0..steps {
                w = w.wrapping_add(1);
                if let Some(slot) = usize::try_from(w % W as u64)
                    .ok()
                    .and_then(|i| self.bitmap.get_mut(i))
                {
                    *slot = 0;
                }
            }
            self.top = seq;
        }
        let (word, bit) = Self::position(seq);
        if let Some(slot) = self.bitmap.get_mut(word) {
            *slot |= bit;
        }
        Ok(())
    }

    fn position(seq: u64) -> (usize, u64) {
        // The remainder is below W, an array length, so it fits usize.
        let word = usize::try_from((seq / 64) % W as u64).unwrap_or(0);
        (word, 1u64 << (seq % 64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Win = ReplayWindow<{ replay_words(64) }>;

    #[test]
    fn sizes_and_capacity() {
        assert_eq!(replay_words(4096), 65);
        assert_eq!(ReplayWindow::<65>::CAPACITY, 4096);
        assert!(Win::new(0, false).is_none());
        assert!(Win::new(65, false).is_none());
        assert!(Win::new(64, false).is_some());
    }

    #[test]
    fn rejects_zero_duplicates_and_old() {
        let mut w = Win::new(32, false).unwrap();
        assert_eq!(w.check(0), Err(ReplayError::Zero));
        for s in [1u32, 2, 5, 3] {
            let seq = w.check(s).unwrap();
            w.accept(seq).unwrap();
        }
        assert_eq!(w.check(5), Err(ReplayError::Replayed));
        assert_eq!(w.check(3), Err(ReplayError::Replayed));
        assert!(w.check(4).is_ok());
        w.accept(100).unwrap();
        assert_eq!(w.check(68), Err(ReplayError::TooOld));
        assert!(w.check(69).is_ok());
        assert_eq!(w.check(100), Err(ReplayError::Replayed));
    }

    #[test]
    fn check_does_not_change_state() {
        let mut w = Win::new(32, false).unwrap();
        w.accept(10).unwrap();
        let before = w.clone();
        let _ = w.check(11);
        let _ = w.check(10);
        assert_eq!(w, before);
    }

    #[test]
    fn esn_infers_high_bits_across_the_boundary() {
        let mut w = Win::new(32, true).unwrap();
        w.accept(0xffff_fff0).unwrap();
        // Beyond the 2^32 boundary: the high half is inferred as 1.
        assert_eq!(w.check(5), Ok(0x1_0000_0005));
        w.accept(0x1_0000_0005).unwrap();
        // Case B: window spans two blocks; a low number from the old block is inferred as high 0.
        assert_eq!(w.infer(0xffff_fff8), 0xffff_fff8);
        assert_eq!(w.check(0xffff_fff0), Err(ReplayError::Replayed));
        assert_eq!(w.check(0xffff_fff1), Ok(0xffff_fff1));
        // Below the window: inferred as the next block (RFC 4303 A2.2), so only the ICV can reject it.
        assert_eq!(w.check(0xffff_ffe0), Ok(0x1_ffff_ffe0));
    }
}
