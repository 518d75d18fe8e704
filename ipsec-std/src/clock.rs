//! The system clock, read once per driver step and handed to the Sans-IO crates as `now`.
//!
//! The protocol crates never read a clock (see `ipsec_core::time`): every input takes an
//! [`ipsec_core::Instant`], microseconds since an epoch the caller picks. [`StdClock`] picks the
//! moment it was created (or a `std::time::Instant` you give it) and counts from there with the
//! monotonic clock, so the values never go backwards and never jump with wall-clock changes.
//!
//! Certificates and anything else that needs calendar time use [`StdClock::unix_now`], the
//! wall clock in seconds since the Unix epoch; the IKE engine advances it by monotonic deltas
//! between calls (STYLE §2), so a wall-clock step during a run does not disturb its timers.
//!
//! `std::time::Instant` is `CLOCK_MONOTONIC` on Linux, which stands still while the machine is
//! suspended; after a resume, timers simply fire late, which IKE tolerates (DPD and rekey then
//! run at once).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ipsec_core::Instant;

/// Monotonic time in microseconds since a chosen epoch, plus wall-clock seconds.
#[derive(Clone, Copy, Debug)]
pub struct StdClock {
    epoch: std::time::Instant,
}

impl StdClock {
    /// A clock whose epoch ([`Instant::ZERO`]) is the moment of this call.
    #[must_use]
    pub fn new() -> Self {
        Self::with_epoch(std::time::Instant::now())
    }

    /// A clock whose epoch is `epoch` (for example the process start, shared by several parts).
    #[must_use]
    pub fn with_epoch(epoch: std::time::Instant) -> Self {
        Self { epoch }
    }

    /// The epoch this clock counts from.
    #[must_use]
    pub fn epoch(&self) -> std::time::Instant {
        self.epoch
    }

    /// Monotonic time since the epoch.
    ///
    /// Never decreases between calls. Saturates at `u64::MAX` microseconds (about 584 000
    /// years after the epoch).
    #[must_use]
    pub fn now(&self) -> Instant {
        self.to_instant(std::time::Instant::now())
    }

    /// Converts a `std::time::Instant` to ours; instants before the epoch map to
    /// [`Instant::ZERO`].
    #[must_use]
    pub fn to_instant(&self, t: std::time::Instant) -> Instant {
        let elapsed = t.saturating_duration_since(self.epoch);
        Instant::from_micros(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX))
    }

    /// Converts one of our instants back to a `std::time::Instant` (for `poll` timeouts).
    ///
    /// Returns `None` if the result would not be representable.
    #[must_use]
    pub fn to_std(&self, t: Instant) -> Option<std::time::Instant> {
        self.epoch.checked_add(Duration::from_micros(t.as_micros()))
    }

    /// How long from now until `deadline`; zero if it has passed.
    #[must_use]
    pub fn until(&self, deadline: Instant) -> Duration {
        deadline.saturating_duration_since(self.now())
    }

    /// Wall-clock time: whole seconds since 1970-01-01T00:00:00Z (for certificate validity).
    ///
    /// A system clock set before 1970 reads as 0.
    #[must_use]
    pub fn unix_now(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }
}

impl Default for StdClock {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_near_zero_and_never_goes_backwards() {
        let clock = StdClock::new();
        let first = clock.now();
        assert!(
            first.as_micros() < 5_000_000,
            "a fresh clock starts near its epoch: {first:?}"
        );
        let mut last = first;
        for _ in 0..1000 {
            let t = clock.now();
            assert!(t >= last, "{t:?} < {last:?}");
            last = t;
        }
    }

    #[test]
    fn advances_with_real_time() {
        let clock = StdClock::new();
        let a = clock.now();
        std::thread::sleep(Duration::from_millis(20));
        let b = clock.now();
        let d = b.saturating_duration_since(a);
        assert!(d >= Duration::from_millis(20), "{d:?}");
        assert!(d < Duration::from_secs(5), "{d:?}");
    }

    #[test]
    fn converts_both_ways_and_clamps_before_epoch() {
        let base = std::time::Instant::now();
        let clock = StdClock::with_epoch(base + Duration::from_secs(10));
        assert_eq!(clock.to_instant(base), Instant::ZERO);
        let later = base + Duration::from_millis(10_250);
        let ours = clock.to_instant(later);
        assert_eq!(ours, Instant::from_micros(250_000));
        assert_eq!(clock.to_std(ours), Some(later));
        assert_eq!(clock.epoch(), base + Duration::from_secs(10));
    }

    #[test]
    fn until_is_zero_for_past_deadlines() {
        let clock = StdClock::new();
        assert_eq!(clock.until(Instant::ZERO), Duration::ZERO);
        let soon = clock.now().saturating_add(Duration::from_secs(60));
        let left = clock.until(soon);
        assert!(
            left > Duration::from_secs(59) && left <= Duration::from_secs(60),
            "{left:?}"
        );
    }

    #[test]
    fn wall_clock_is_after_2024() {
        // 2024-01-01T00:00:00Z; a machine clock before that is broken, not a test failure to hide.
        assert!(StdClock::new().unix_now() > 1_704_067_200);
    }
}
