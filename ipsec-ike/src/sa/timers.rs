//! The timers of an IKE SA: a fixed table of optional deadlines whose minimum is the next timeout
//! (retransmission, half-open expiry, IKE rekey and expiry, DPD, NAT keepalive, and per CHILD SA
//! rekey and expiry).

use core::time::Duration;

use ipsec_core::Instant;

use super::{Ctx, IkeSa, State, Task};
use crate::crypto::Entropy;
use crate::endpoint::TimerReason;
use crate::event::{CloseReason, DeleteReason};
use crate::sa::exchange::TimerOutcome;
use crate::transmit::{Encapsulation, Transmit};

#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Timers {
    /// Responder: delete the half-open SA.
    pub(crate) half_open: Option<Instant>,
    /// Start an IKE rekey.
    pub(crate) rekey: Option<Instant>,
    /// Delete the IKE SA (hard lifetime).
    pub(crate) expire: Option<Instant>,
    /// Check liveness.
    pub(crate) dpd: Option<Instant>,
    /// Give up the liveness check in flight (`dpdtimeout`).
    pub(crate) dpd_timeout: Option<Instant>,
    /// Send a NAT keepalive.
    pub(crate) keepalive: Option<Instant>,
}

impl Timers {
    pub(crate) fn next(&self, sa: &IkeSa) -> Option<(Instant, TimerReason)> {
        let mut best: Option<(Instant, TimerReason)> = None;
        let mut consider = |at: Option<Instant>, why: TimerReason| {
            if let Some(at) = at {
                if best.is_none_or(|(b, _)| at < b) {
                    best = Some((at, why));
                }
            }
        };
        if sa.is_gone() {
            return None;
        }
        consider(sa.window.deadline(), TimerReason::Retransmit);
        consider(self.half_open, TimerReason::HalfOpenTimeout);
        consider(self.rekey, TimerReason::IkeRekey);
        consider(self.expire, TimerReason::IkeExpire);
        consider(self.dpd, TimerReason::Dpd);
        consider(self.dpd_timeout, TimerReason::Dpd);
        consider(self.keepalive, TimerReason::NatKeepalive);
        for c in &sa.children {
            consider(c.rekey_at, TimerReason::ChildRekey);
            consider(c.expire_at, TimerReason::ChildExpire);
        }
        best
    }
}

/// `base` minus a random duration in `[0, jitter]` (rekeyfuzz).
pub(crate) fn jittered(base: Duration, jitter: Duration, rng: &mut Entropy) -> Duration {
    if jitter.is_zero() {
        return base;
    }
    let mut b = [0u8; 8];
    if rng.fill(&mut b).is_err() {
        return base;
    }
    let span = u64::try_from(jitter.as_micros()).unwrap_or(u64::MAX);
    let r = u64::from_be_bytes(b)
        .checked_rem(span.saturating_add(1))
        .unwrap_or(0);
    base.saturating_sub(Duration::from_micros(r))
}

impl IkeSa {
    /// Sets the IKE SA lifetime timers once it is established (or rekeyed).
    pub(crate) fn arm_ike_timers(&mut self, ctx: &mut Ctx<'_>, now: Instant) {
        let Some(peer) = self.peer_config(ctx.config) else {
            return;
        };
        let life = peer.ike_lifetime;
        let dpd = peer.dpd.delay;
        let keepalive = ctx.config.nat_keepalive;
        if let Some(rekey) = life.rekey_time {
            let at = jittered(rekey, life.jitter, ctx.rng);
            self.timers.rekey = Some(now.saturating_add(at));
            self.timers.expire = Some(now.saturating_add(rekey.saturating_add(life.over_time)));
        }
        self.timers.dpd = dpd.map(|d| now.saturating_add(d));
        self.timers.keepalive =
            (self.nat.local_behind && !keepalive.is_zero()).then(|| now.saturating_add(keepalive));
    }

    /// Runs every timer that is due.
    pub(crate) fn handle_timeout(&mut self, ctx: &mut Ctx<'_>, now: Instant) {
        if self.is_gone() {
            return;
        }
        match self.window.on_timer(now, &ctx.config.retransmit) {
            TimerOutcome::Idle => {}
            TimerOutcome::Resend => {
                if let Some(f) = &self.window.inflight {
                    let msgs = f.msgs.clone();
                    self.transmit(ctx, &msgs);
                }
            }
            TimerOutcome::GiveUp => {
                let action = self
                    .peer_config(ctx.config)
                    .map(|p| p.dpd.action)
                    .unwrap_or_default();
                self.fail(ctx, now, CloseReason::Timeout { action });
                return;
            }
        }
        if self.timers.dpd_timeout.is_some_and(|t| t <= now) {
            self.timers.dpd_timeout = None;
            if self
                .window
                .inflight
                .as_ref()
                .is_some_and(|f| matches!(f.request, super::Request::Liveness))
            {
                let action = self
                    .peer_config(ctx.config)
                    .map(|p| p.dpd.action)
                    .unwrap_or_default();
                self.fail(ctx, now, CloseReason::Timeout { action });
                return;
            }
        }
        if self.timers.half_open.is_some_and(|t| t <= now) {
            self.timers.half_open = None;
            if matches!(self.state, State::InitResponded(_)) {
                self.go_down(ctx, CloseReason::HalfOpenTimeout, DeleteReason::IkeSaDown);
                return;
            }
        }
        if self.timers.expire.is_some_and(|t| t <= now) {
            self.timers.expire = None;
            self.expire(ctx, now);
            return;
        }
        if self.timers.rekey.is_some_and(|t| t <= now) {
            self.timers.rekey = None;
            self.enqueue(Task::RekeyIke);
        }
        self.dpd_timer(ctx, now);
        if self.timers.keepalive.is_some_and(|t| t <= now) {
            ctx.out.transmits.push_back(Transmit {
                remote: self.remote,
                local: self.local,
                encap: Encapsulation::NatKeepalive,
                payload: alloc::vec![0xff],
            });
            self.timers.keepalive = Some(now.saturating_add(ctx.config.nat_keepalive));
        }
        self.child_timers(ctx, now);
        self.pump(ctx, now);
    }

    fn dpd_timer(&mut self, ctx: &mut Ctx<'_>, now: Instant) {
        let Some(at) = self.timers.dpd else {
            return;
        };
        if at > now {
            return;
        }
        let Some(peer) = self.peer_config(ctx.config) else {
            return;
        };
        let Some(delay) = peer.dpd.delay else {
            self.timers.dpd = None;
            return;
        };
        let quiet_until = self.last_recv.saturating_add(delay);
        if quiet_until > now {
            self.timers.dpd = Some(quiet_until);
            return;
        }
        self.timers.dpd = Some(now.saturating_add(delay));
        if self.window.can_send() && self.queue.is_empty() && self.is_established() {
            self.enqueue(Task::Liveness);
            self.timers.dpd_timeout = Some(now.saturating_add(peer.dpd.timeout));
        }
    }

    /// Hard IKE lifetime: a last Delete (not retransmitted), then down.
    fn expire(&mut self, ctx: &mut Ctx<'_>, now: Instant) {
        if self.is_established() && self.window.can_send() {
            let payloads = [crate::message::Payload::Delete(crate::message::Delete::ike())];
            let id = self.window.peek_id();
            let header = self.header(crate::message::ExchangeType::INFORMATIONAL, false, id);
            if let Ok(msgs) = self.seal(ctx, &header, &payloads) {
                self.transmit(ctx, &msgs);
            }
        }
        let _ = now;
        self.go_down(ctx, CloseReason::Expired, DeleteReason::Expired);
    }
}
