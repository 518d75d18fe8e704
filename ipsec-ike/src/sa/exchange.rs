//! Message IDs, retransmission and the response cache (RFC 7296 §2.1–§2.3), window size 1.
//!
//! - **Our requests**: one in flight at a time ([`Window::inflight`]), numbered from
//!   [`Window::next_id`]; retransmitted with exponential back-off until answered or given up.
//! - **The peer's requests**: the next one must carry [`Window::peer_next`]; the previous one is
//!   answered again from [`Window::cached`] (the exact datagrams we sent), anything else is
//!   dropped.

use alloc::vec::Vec;

use ipsec_core::Instant;

use super::Request;
use crate::config::RetransmitConfig;
use crate::message::MessageId;

/// A request of ours waiting for its response.
pub(crate) struct InFlight {
    /// Its message ID.
    pub(crate) id: MessageId,
    /// What it asks, with the state its response needs.
    pub(crate) request: Request,
    /// The sealed message, or its fragments.
    pub(crate) msgs: Vec<Vec<u8>>,
    /// Transmissions so far (1 after the first send).
    pub(crate) sends: u32,
    /// When to retransmit (or give up).
    pub(crate) next_at: Instant,
}

/// The response to the peer's last request, kept to answer its retransmissions.
pub(crate) struct Cached {
    pub(crate) id: MessageId,
    pub(crate) msgs: Vec<Vec<u8>>,
}

/// How a request of the peer relates to the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PeerRequest {
    /// The next request: process it.
    New,
    /// The one we answered last: resend the cached response.
    Retransmit,
    /// Outside the window: drop.
    OutOfWindow,
}

/// What a retransmission timer decided.
pub(crate) enum TimerOutcome {
    /// Nothing due yet.
    Idle,
    /// Send these datagrams again.
    Resend,
    /// All retransmissions are used up.
    GiveUp,
}

#[derive(Default)]
pub(crate) struct Window {
    pub(crate) next_id: MessageId,
    pub(crate) inflight: Option<InFlight>,
    pub(crate) peer_next: MessageId,
    pub(crate) cached: Option<Cached>,
}

impl Window {
    /// Classifies a request of the peer by its message ID.
    pub(crate) fn classify_request(&self, id: MessageId) -> PeerRequest {
        if id == self.peer_next {
            PeerRequest::New
        } else if self.cached.as_ref().is_some_and(|c| c.id == id) {
            PeerRequest::Retransmit
        } else {
            PeerRequest::OutOfWindow
        }
    }

    /// True if `id` answers our request in flight.
    pub(crate) fn expects_response(&self, id: MessageId) -> bool {
        self.inflight.as_ref().is_some_and(|f| f.id == id)
    }

    /// True if a new request of ours can go out now.
    pub(crate) fn can_send(&self) -> bool {
        self.inflight.is_none()
    }

    /// The ID for our next request, if the 32-bit space is not exhausted.
    pub(crate) fn peek_id(&self) -> MessageId {
        self.next_id
    }

    /// Records a request just sent with [`peek_id`](Self::peek_id).
    pub(crate) fn start(
        &mut self,
        now: Instant,
        cfg: &RetransmitConfig,
        request: Request,
        msgs: Vec<Vec<u8>>,
    ) -> Option<()> {
        let id = self.next_id;
        self.next_id = id.next()?;
        self.inflight = Some(InFlight {
            id,
            request,
            msgs,
            sends: 1,
            next_at: now.saturating_add(cfg.timeout_after(0)),
        });
        Some(())
    }

    /// Replaces the request in flight by a retry with the same message ID (IKE_SA_INIT after
    /// COOKIE or INVALID_KE_PAYLOAD, RFC 7296 §1.3, §2.6), restarting the timer.
    pub(crate) fn restart_same_id(&mut self, now: Instant, cfg: &RetransmitConfig, msgs: Vec<Vec<u8>>) {
        if let Some(f) = &mut self.inflight {
            f.msgs = msgs;
            f.sends = 1;
            f.next_at = now.saturating_add(cfg.timeout_after(0));
        }
    }

    /// Takes the request in flight once its response arrived.
    pub(crate) fn finish(&mut self) -> Option<InFlight> {
        self.inflight.take()
    }

    /// Remembers our response to the peer's request `id` and moves the window on.
    pub(crate) fn responded(&mut self, id: MessageId, msgs: Vec<Vec<u8>>) {
        self.peer_next = id.next().unwrap_or(id);
        self.cached = Some(Cached { id, msgs });
    }

    /// Checks the retransmission timer.
    pub(crate) fn on_timer(&mut self, now: Instant, cfg: &RetransmitConfig) -> TimerOutcome {
        let Some(f) = &mut self.inflight else {
            return TimerOutcome::Idle;
        };
        if now < f.next_at {
            return TimerOutcome::Idle;
        }
        if f.sends > cfg.tries {
            return TimerOutcome::GiveUp;
        }
        f.next_at = now.saturating_add(cfg.timeout_after(f.sends));
        f.sends = f.sends.saturating_add(1);
        TimerOutcome::Resend
    }

    /// The retransmission deadline.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.inflight.as_ref().map(|f| f.next_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::time::Duration;

    #[test]
    fn strongswan_schedule() {
        let cfg = RetransmitConfig::default();
        let mut w = Window::default();
        let t0 = Instant::ZERO;
        w.start(t0, &cfg, Request::Liveness, alloc::vec![alloc::vec![1]])
            .unwrap();
        assert_eq!(w.next_id, MessageId(1));
        let mut at = Vec::new();
        let now = loop {
            let now = w.deadline().unwrap();
            match w.on_timer(now, &cfg) {
                TimerOutcome::Resend => at.push(now.as_micros() / 100_000),
                TimerOutcome::GiveUp => break now,
                TimerOutcome::Idle => panic!("deadline reached"),
            }
        };
        // 4, 11.2, 24.2, 47.5, 89.5 s; give up at 165.1 s.
        assert_eq!(at, [40, 112, 241, 474, 894]);
        assert_eq!(now.as_micros() / 100_000, 1650);
        assert!(matches!(
            w.on_timer(now.saturating_add(Duration::from_secs(1)), &cfg),
            TimerOutcome::GiveUp
        ));
    }

    #[test]
    fn peer_window() {
        let mut w = Window::default();
        assert_eq!(w.classify_request(MessageId(0)), PeerRequest::New);
        assert_eq!(w.classify_request(MessageId(1)), PeerRequest::OutOfWindow);
        w.responded(MessageId(0), alloc::vec![]);
        assert_eq!(w.classify_request(MessageId(0)), PeerRequest::Retransmit);
        assert_eq!(w.classify_request(MessageId(1)), PeerRequest::New);
        assert_eq!(w.classify_request(MessageId(7)), PeerRequest::OutOfWindow);
        assert!(!w.expects_response(MessageId(0)));
    }
}
