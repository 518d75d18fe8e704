//! SA lifetimes (RFC 4301 §4.4.2.1): soft and hard limits in bytes, packets and time.
//!
//! Reaching a soft limit asks for a rekey; reaching a hard limit ends the SA. Time comes from the
//! caller as [`Instant`]; the SAD reports each crossing once as an event.

use core::time::Duration;

use crate::time::Instant;

/// One set of limits; `None` means unlimited.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of (inner) payload protected or unprotected.
    pub bytes: Option<u64>,
    /// Packets protected or unprotected.
    pub packets: Option<u64>,
    /// Time since the SA was installed.
    pub time: Option<Duration>,
}

impl Limits {
    /// No limits.
    pub const NONE: Limits = Limits {
        bytes: None,
        packets: None,
        time: None,
    };
}

/// Soft and hard limits of an SA.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Lifetime {
    /// Crossing any of these asks for a rekey.
    pub soft: Limits,
    /// Crossing any of these ends the SA.
    pub hard: Limits,
}

/// Which limit was crossed.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitKind {
    /// The byte count.
    Bytes,
    /// The packet count.
    Packets,
    /// The time since installation.
    Time,
    /// The outbound sequence number space is nearly (soft) or entirely (hard) used up.
    SequenceNumbers,
}

/// Where an SA stands with respect to its limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LifetimeState {
    /// Below every soft limit.
    Fresh,
    /// A soft limit was crossed; rekeying is wanted.
    Soft(LimitKind),
    /// A hard limit was crossed; the SA may no longer be used.
    Expired(LimitKind),
}

/// Usage counters and the lifetime check of one SA.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LifetimeTracker {
    limits: Lifetime,
    installed: Instant,
    bytes: u64,
    packets: u64,
    state: LifetimeState,
}

impl LifetimeTracker {
    pub(crate) fn new(limits: Lifetime, now: Instant) -> Self {
        LifetimeTracker {
            limits,
            installed: now,
            bytes: 0,
            packets: 0,
            state: LifetimeState::Fresh,
        }
    }

    pub(crate) fn state(&self) -> LifetimeState {
        self.state
    }

    pub(crate) fn installed(&self) -> Instant {
        self.installed
    }

    /// Counts one packet of `bytes` bytes and moves the state forward; returns the new state if it
    /// changed.
    pub(crate) fn account(&mut self, now: Instant, bytes: usize) -> Option<LifetimeState> {
        self.bytes = self
            .bytes
            .saturating_add(u64::try_from(bytes).unwrap_or(u64::MAX));
        self.packets = self.packets.saturating_add(1);
        self.update(now)
    }

    /// Re-evaluates the time limits (and counters) at `now`; returns the new state if it changed.
    pub(crate) fn update(&mut self, now: Instant) -> Option<LifetimeState> {
        let age = now.saturating_duration_since(self.installed);
        let next = if let Some(k) = crossed(&self.limits.hard, self.bytes, self.packets, age) {
            LifetimeState::Expired(k)
        } else if let Some(k) = crossed(&self.limits.soft, self.bytes, self.packets, age) {
            LifetimeState::Soft(k)
        } else {
            LifetimeState::Fresh
        };
        self.advance(next)
    }

    /// Moves to `next` if it is further along than the current state (states never go back).
    pub(crate) fn advance(&mut self, next: LifetimeState) -> Option<LifetimeState> {
        let rank = |s: LifetimeState| match s {
            LifetimeState::Fresh => 0,
            LifetimeState::Soft(_) => 1,
            LifetimeState::Expired(_) => 2,
        };
        if rank(next) > rank(self.state) {
            self.state = next;
            Some(next)
        } else {
            None
        }
    }

    /// The next instant at which a time limit will be crossed, if any lies ahead.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let soft = self.limits.soft.time.and_then(|d| self.installed.checked_add(d));
        let hard = self.limits.hard.time.and_then(|d| self.installed.checked_add(d));
        match self.state {
            LifetimeState::Fresh => match (soft, hard) {
                (Some(s), Some(h)) => Some(s.min(h)),
                (s, h) => s.or(h),
            },
            LifetimeState::Soft(_) => hard,
            LifetimeState::Expired(_) => None,
        }
    }
}

fn crossed(l: &Limits, bytes: u64, packets: u64, age: Duration) -> Option<LimitKind> {
    if l.bytes.is_some_and(|b| bytes >= b) {
        Some(LimitKind::Bytes)
    } else if l.packets.is_some_and(|p| packets >= p) {
        Some(LimitKind::Packets)
    } else if l.time.is_some_and(|t| age >= t) {
        Some(LimitKind::Time)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soft_then_hard_by_packets_and_time() {
        let limits = Lifetime {
            soft: Limits {
                packets: Some(2),
                time: Some(Duration::from_secs(10)),
                ..Limits::NONE
            },
            hard: Limits {
                packets: Some(3),
                time: Some(Duration::from_secs(20)),
                ..Limits::NONE
            },
        };
        let t0 = Instant::from_micros(1_000_000);
        let mut t = LifetimeTracker::new(limits, t0);
        assert_eq!(t.next_deadline(), Some(Instant::from_micros(11_000_000)));
        assert_eq!(t.account(t0, 100), None);
        assert_eq!(t.account(t0, 100), Some(LifetimeState::Soft(LimitKind::Packets)));
        assert_eq!(t.next_deadline(), Some(Instant::from_micros(21_000_000)));
        assert_eq!(
            t.account(t0, 100),
            Some(LifetimeState::Expired(LimitKind::Packets))
        );
        assert_eq!(t.state(), LifetimeState::Expired(LimitKind::Packets));
        assert_eq!(t.next_deadline(), None);

        let mut t = LifetimeTracker::new(limits, t0);
        assert_eq!(t.update(Instant::from_micros(10_999_999)), None);
        assert_eq!(
            t.update(Instant::from_micros(11_000_000)),
            Some(LifetimeState::Soft(LimitKind::Time))
        );
        // Time going backwards changes nothing.
        assert_eq!(t.update(Instant::ZERO), None);
        assert_eq!(
            t.update(Instant::from_micros(21_000_000)),
            Some(LifetimeState::Expired(LimitKind::Time))
        );
    }
}
