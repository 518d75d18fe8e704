//! Time as the caller tells it.
//!
//! The crate never reads a clock: every input that depends on time takes an [`Instant`] that the caller
//! derives from its own monotonic clock. Durations are [`core::time::Duration`].

use core::time::Duration;

/// A point in time: microseconds since an epoch the caller picks (boot, process start, ...).
///
/// Only differences between instants matter. An instant that goes backwards is treated as "no time
/// passed" wherever elapsed time is computed ([`Instant::saturating_duration_since`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(u64);

impl Instant {
    /// The caller's epoch.
    pub const ZERO: Instant = Instant(0);

    /// An instant `micros` microseconds after the epoch.
    #[must_use]
    pub const fn from_micros(micros: u64) -> Self {
        Instant(micros)
    }

    /// Microseconds since the epoch.
    #[must_use]
    pub const fn as_micros(self) -> u64 {
        self.0
    }

    /// Time elapsed from `earlier` to `self`, or zero if `earlier` is later.
    #[must_use]
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_micros(self.0.saturating_sub(earlier.0))
    }

    /// `self + d`, saturating at the largest representable instant.
    #[must_use]
    pub fn saturating_add(self, d: Duration) -> Instant {
        let micros = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        Instant(self.0.saturating_add(micros))
    }

    /// `self + d`, or `None` if that is not representable.
    #[must_use]
    pub fn checked_add(self, d: Duration) -> Option<Instant> {
        let micros = u64::try_from(d.as_micros()).ok()?;
        self.0.checked_add(micros).map(Instant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backwards_time_counts_as_no_time() {
        let a = Instant::from_micros(5_000_000);
        let b = Instant::from_micros(4_000_000);
        assert_eq!(b.saturating_duration_since(a), Duration::ZERO);
        assert_eq!(a.saturating_duration_since(b), Duration::from_secs(1));
    }

    #[test]
    fn adding_saturates_or_reports_overflow() {
        let a = Instant::from_micros(u64::MAX - 1);
        assert_eq!(
            a.saturating_add(Duration::from_secs(1)),
            Instant::from_micros(u64::MAX)
        );
        assert_eq!(a.checked_add(Duration::from_secs(1)), None);
        assert_eq!(
            Instant::ZERO.checked_add(Duration::from_millis(3)),
            Some(Instant::from_micros(3000))
        );
    }
}
