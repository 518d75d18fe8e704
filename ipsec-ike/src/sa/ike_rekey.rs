//! IKE SA rekey (RFC 7296 §1.3.2, §2.18): a CREATE_CHILD_SA exchange on the old IKE SA
//! negotiates a new one, keyed from the old SK_d and a fresh key exchange; the new SA inherits
//! every CHILD SA (they keep their ids and keys), and the rekey's initiator deletes the old SA.
//!
//! - The responder moves the CHILD SAs to the new SA when it answers, the initiator when the
//!   answer arrives. Both report [`Event::IkeSaRekeyed`] and [`Event::IkeSaUp`] for the new SA;
//!   the old SA goes down with [`CloseReason::Rekeyed`] and without deleting any CHILD SA.
//! - **Collisions (§2.8.2).** A rekey request that meets our own IKE rekey in flight is
//!   answered normally, but its new SA is held back, unused, in an [`IkeCollision`]. When our
//!   own exchange ends, the exchange that produced the lowest of the four nonces made the
//!   redundant SA, which its initiator deletes; the other SA takes the CHILD SAs, and its
//!   initiator deletes the old SA. Both ends compute the same verdict. If our exchange fails
//!   (the peer had already finished its own and refuses ours with TEMPORARY_FAILURE), or the
//!   peer deletes the old SA first, or it sends a CREATE_CHILD_SA on its new SA (it has already
//!   decided that one survives), the peer's SA takes over; should our own exchange still
//!   complete, the SA it made is deleted as redundant. Messages for the held SA reach it
//!   through the old one. Any other request in flight makes us refuse with TEMPORARY_FAILURE
//!   (§2.25.2); a refused rekey is retried after a random delay.

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::time::Duration;

use ipsec_core::Instant;

use super::child::ChildState;
use super::init::{derive_keys, ike_algs, usable_ike_proposals};
use super::{Ctx, IkeSa, Keys, NONCE_LEN, Request, State, Task, error_notify, key_exchange, nonce};
use crate::crypto::KeyExchangeSecret;
use crate::endpoint::DatagramError;
use crate::event::{CloseReason, DeleteReason, Event, IkeSaId};
use crate::message::{
    ExchangeType, Header, IkeSpi, Ke, Nonce, Notify, NotifyType, Payload, Proposal, ProtocolId, Sa,
};
use crate::proposal::{check_reply, select};

/// A failed IKE rekey is tried again after this long minus up to [`RETRY_JITTER`].
const RETRY: Duration = Duration::from_secs(30);
/// See [`RETRY`].
const RETRY_JITTER: Duration = Duration::from_secs(20);

/// How long a rekeyed IKE SA waits for its Delete before it goes by itself.
const OLD_SA_GRACE: Duration = Duration::from_secs(300);

/// Our CREATE_CHILD_SA request rekeying the IKE SA.
pub(crate) struct IkeRekeyRequest {
    /// The new SA's id and our SPI of it (registered).
    pub(crate) id: IkeSaId,
    pub(crate) spi: IkeSpi,
    pub(crate) offer: Vec<Proposal<'static>>,
    pub(crate) ni: Vec<u8>,
    pub(crate) kex: Box<dyn KeyExchangeSecret>,
}

/// The peer's IKE rekey that we answered while ours was in flight: its new SA and the lower of
/// its exchange's two nonces, until our own exchange ends (RFC 7296 §2.8.2).
pub(crate) struct IkeCollision {
    pub(crate) sa: Box<IkeSa>,
    pub(crate) lowest: Vec<u8>,
}

/// True if the exchange with nonces `ni` and `nr` made the redundant SA of a collision whose
/// other exchange's lower nonce is `other_lowest`: it holds the lowest of the four (§2.8.2).
fn made_the_redundant_sa(ni: &[u8], nr: &[u8], other_lowest: &[u8]) -> bool {
    super::rekey::lower(ni, nr) < other_lowest
}

/// The IKE SPI carried in a proposal (8 bytes, non-zero).
fn proposal_spi(p: &Proposal<'_>) -> Option<IkeSpi> {
    let b: [u8; 8] = p.spi.as_ref().try_into().ok()?;
    let spi = IkeSpi(b);
    (!spi.is_zero()).then_some(spi)
}

impl IkeSa {
    /// Sends the CREATE_CHILD_SA request rekeying this IKE SA.
    pub(crate) fn start_rekey_ike(&mut self, ctx: &mut Ctx<'_>, now: Instant) -> Result<(), DatagramError> {
        let Some(peer) = self.peer_config(ctx.config) else {
            return Ok(());
        };
        let mut offer = usable_ike_proposals(ctx, peer);
        // Start with the group in use: the peer accepted it once.
        let group = self
            .keys
            .as_ref()
            .map(|k| k.algs.group)
            .filter(|g| offer.iter().any(|p| p.dh_group() == Some(*g)))
            .or_else(|| offer.first().and_then(Proposal::dh_group));
        let Some(group) = group else {
            return Ok(());
        };
        let id = ctx.reg.ike_id();
        let spi = ctx.reg.new_ike_spi(ctx.rng, id).map_err(DatagramError::Crypto)?;
        for p in &mut offer {
            p.spi = Cow::Owned(spi.0.to_vec());
        }
        let prepared = (|| Ok((nonce(ctx.rng, NONCE_LEN)?, key_exchange(ctx, group)?)))();
        let (ni, kex) = match prepared {
            Ok(p) => p,
            Err(e) => {
                ctx.reg.by_spi.remove(&spi);
                return Err(DatagramError::Crypto(e));
            }
        };
        let payloads = [
            Payload::Sa(Sa {
                proposals: offer.clone(),
            }),
            Payload::Nonce(Nonce {
                data: Cow::Borrowed(&ni),
            }),
            Payload::Ke(Ke {
                group: kex.group(),
                data: Cow::Borrowed(kex.public_value()),
            }),
        ];
        let msgs = {
            let header = self.header(ExchangeType::CREATE_CHILD_SA, false, self.window.peek_id());
            self.seal(ctx, &header, &payloads)
        };
        let msgs = match msgs {
            Ok(m) => m,
            Err(e) => {
                ctx.reg.by_spi.remove(&spi);
                return Err(e);
            }
        };
        let req = IkeRekeyRequest {
            id,
            spi,
            offer,
            ni,
            kex,
        };
        self.transmit(ctx, &msgs);
        if self
            .window
            .start(
                now,
                &ctx.config.retransmit,
                Request::RekeyIke(Box::new(req)),
                msgs,
            )
            .is_none()
        {
            ctx.reg.by_spi.remove(&spi);
            return Err(DatagramError::Unexpected {
                what: "message IDs exhausted",
            });
        }
        Ok(())
    }

    /// The answer to our IKE rekey.
    pub(crate) fn on_rekey_ike_response(
        &mut self,
        ctx: &mut Ctx<'_>,
        now: Instant,
        req: IkeRekeyRequest,
        payloads: &[Payload<'_>],
    ) -> Result<(), DatagramError> {
        let outcome = self.accept_ike_rekey(ctx, &req, payloads);
        if self.rekeyed_to.is_some() {
            // The peer's SA of a collision took over (the peer deleted this one, or used its
            // new SA): the SA our answer makes is redundant, and ours to delete.
            match outcome {
                Ok((keys, spi_r, _)) => self.discard_redundant(ctx, now, &req, keys, spi_r),
                Err(()) => {
                    ctx.reg.by_spi.remove(&req.spi);
                }
            }
            if self.peer_deleted {
                self.go_down(ctx, CloseReason::DeletedByPeer, DeleteReason::DeletedByPeer);
            }
            return Ok(());
        }
        let collision = self.take_collision(ctx);
        let Ok((keys, spi_r, nr)) = outcome else {
            ctx.reg.by_spi.remove(&req.spi);
            if let Some(c) = collision {
                // The peer's rekey, answered by us, stands alone.
                self.adopt_collision(ctx, now, *c);
                return Ok(());
            }
            // Refused or unusable: try again later; the hard lifetime still ends the SA.
            let retry = super::timers::jittered(RETRY, RETRY_JITTER, ctx.rng);
            self.timers.rekey = Some(now.saturating_add(retry));
            return Ok(());
        };
        if let Some(c) = collision {
            if made_the_redundant_sa(&req.ni, &nr, &c.lowest) {
                // Ours holds the lowest nonce: it is redundant, and ours to delete.
                self.discard_redundant(ctx, now, &req, keys, spi_r);
                self.adopt_collision(ctx, now, *c);
                return Ok(());
            }
            // The peer's is redundant: it deletes it; keep it until then.
            let mut redundant = *c.sa;
            redundant.timers = super::timers::Timers {
                expire: Some(now.saturating_add(OLD_SA_GRACE)),
                ..super::timers::Timers::default()
            };
            ctx.out.spawned.push(redundant);
        }
        let new = self.successor(ctx, now, req.id, true, req.spi, spi_r, keys);
        ctx.out.spawned.push(new);
        // The old SA's last act: its Delete (RFC 7296 §2.18).
        self.queue.clear();
        self.enqueue(Task::DeleteIke);
        Ok(())
    }

    /// Sets up the redundant SA our rekey made in a collision, only to delete it at once; it
    /// reports nothing.
    fn discard_redundant(
        &mut self,
        ctx: &mut Ctx<'_>,
        now: Instant,
        req: &IkeRekeyRequest,
        keys: Keys,
        spi_r: IkeSpi,
    ) {
        let mut redundant = self.rekeyed_sa(req.id, true, req.spi, spi_r, keys, now);
        redundant.rekeyed_from = Some(self.id);
        redundant.enqueue(Task::DeleteIke);
        redundant.pump(ctx, now);
        ctx.out.spawned.push(redundant);
    }

    /// Takes the collision's new SA out of the old one.
    pub(crate) fn take_collision(&mut self, ctx: &mut Ctx<'_>) -> Option<Box<IkeCollision>> {
        let mut c = self.ike_collision.take()?;
        ctx.reg.held.remove(&c.sa.id);
        c.sa.held = false;
        Some(c)
    }

    /// A message for the collision's new SA while this SA holds it: the peer may already use
    /// it (to delete it, when it lost) before our own exchange has ended.
    pub(crate) fn handle_held(
        &mut self,
        ctx: &mut Ctx<'_>,
        now: Instant,
        remote: core::net::SocketAddr,
        local: core::net::SocketAddr,
        msg: &mut [u8],
    ) -> Result<(), DatagramError> {
        let Some(c) = self.ike_collision.as_mut() else {
            return Err(DatagramError::UnknownSa);
        };
        let r = c.sa.handle(ctx, now, remote, local, msg);
        if c.sa.claimed {
            // The peer counts the held SA as the survivor: so do we, now. Should our own
            // exchange still be answered, the SA it makes is redundant (see
            // `on_rekey_ike_response`); the peer deletes this one.
            if let Some(mut c) = self.take_collision(ctx) {
                c.sa.claimed = false;
                self.adopt_collision(ctx, now, *c);
            }
        }
        r
    }

    /// The peer's new SA from a collision takes over; the peer deletes this one.
    pub(crate) fn adopt_collision(&mut self, ctx: &mut Ctx<'_>, now: Instant, c: IkeCollision) {
        let mut new = *c.sa;
        self.hand_over(ctx, now, &mut new);
        new.pump(ctx, now);
        ctx.out.spawned.push(new);
        self.queue.clear();
        self.state = State::Deleting;
    }

    /// Checks the answer to our IKE rekey and derives the new keys.
    fn accept_ike_rekey(
        &self,
        ctx: &Ctx<'_>,
        req: &IkeRekeyRequest,
        payloads: &[Payload<'_>],
    ) -> Result<(Keys, IkeSpi, Vec<u8>), ()> {
        if error_notify(payloads).is_some() {
            return Err(());
        }
        let mut sa = None;
        let mut nr = None;
        let mut ke = None;
        for p in payloads {
            match p {
                Payload::Sa(s) => sa = sa.or(Some(s)),
                Payload::Nonce(n) => nr = nr.or(Some(n)),
                Payload::Ke(k) => ke = ke.or(Some(k)),
                _ => {}
            }
        }
        let (Some(sa), Some(nr), Some(ke)) = (sa, nr, ke) else {
            return Err(());
        };
        let chosen = check_reply(&req.offer, sa).map_err(|_| ())?;
        let algs = ike_algs(&chosen).ok_or(())?;
        let spi_r = proposal_spi(&chosen).ok_or(())?;
        if algs.group != ke.group || algs.group != req.kex.group() {
            return Err(());
        }
        let old = self.keys.as_ref().ok_or(())?;
        let g_ir = req.kex.agree(&ke.data).map_err(|_| ())?;
        let keys = derive_keys(
            ctx,
            algs,
            g_ir.as_bytes(),
            Some((old.sk_d.as_bytes(), old.algs.prf)),
            &req.ni,
            &nr.data,
            req.spi,
            spi_r,
            true,
        )
        .map_err(|_| ())?;
        Ok((keys, spi_r, nr.data.to_vec()))
    }

    /// Responder of a CREATE_CHILD_SA request rekeying this IKE SA.
    pub(crate) fn respond_rekey_ike(
        &mut self,
        ctx: &mut Ctx<'_>,
        now: Instant,
        header: &Header,
        payloads: &[Payload<'_>],
    ) -> Result<(), DatagramError> {
        let id = header.message_id;
        let refuse = |sa: &mut Self, ctx: &mut Ctx<'_>, n: Notify<'_>| {
            sa.send_response(ctx, ExchangeType::CREATE_CHILD_SA, id, &[Payload::Notify(n)])
        };
        // Our own IKE rekey, or a CHILD SA exchange whose answer would come to the old SA after
        // its CHILD SAs moved: the peer tries again later (§2.25.2). A liveness check may go on.
        let inflight = self.window.inflight.as_ref().map(|f| &f.request);
        let collision = matches!(inflight, Some(Request::RekeyIke(_))) && self.ike_collision.is_none();
        let busy = inflight.is_some_and(|r| !matches!(r, Request::Liveness));
        if busy && !collision {
            return refuse(self, ctx, Notify::new(NotifyType::TEMPORARY_FAILURE, &[]));
        }
        let mut sa = None;
        let mut ni = None;
        let mut ke = None;
        for p in payloads {
            match p {
                Payload::Sa(s) => sa = sa.or(Some(s)),
                Payload::Nonce(n) => ni = ni.or(Some(n)),
                Payload::Ke(k) => ke = ke.or(Some(k)),
                _ => {}
            }
        }
        let (Some(sa), Some(ni), Some(ke)) = (sa, ni, ke) else {
            return refuse(self, ctx, Notify::new(NotifyType::INVALID_SYNTAX, &[]));
        };
        let Some(peer) = self.peer_config(ctx.config) else {
            return Err(DatagramError::Unexpected { what: "peer" });
        };
        let ours = usable_ike_proposals(ctx, peer);
        let chosen = match select(&ours, &sa.proposals, Some(ke.group), peer.ike_strictness) {
            Ok(p) => p,
            Err(crate::error::PeerIncompatible::InvalidKePayload { group }) => {
                return refuse(self, ctx, Notify::invalid_ke_payload(group));
            }
            Err(_) => return refuse(self, ctx, Notify::new(NotifyType::NO_PROPOSAL_CHOSEN, &[])),
        };
        let (Some(algs), Some(spi_i)) = (ike_algs(&chosen), proposal_spi(&chosen)) else {
            return refuse(self, ctx, Notify::new(NotifyType::NO_PROPOSAL_CHOSEN, &[]));
        };
        if chosen.protocol != ProtocolId::IKE {
            return refuse(self, ctx, Notify::new(NotifyType::NO_PROPOSAL_CHOSEN, &[]));
        }
        let kex = key_exchange(ctx, algs.group).map_err(DatagramError::Crypto)?;
        let Ok(g_ir) = kex.agree(&ke.data) else {
            return refuse(self, ctx, Notify::new(NotifyType::INVALID_SYNTAX, &[]));
        };
        let nr = nonce(ctx.rng, NONCE_LEN).map_err(DatagramError::Crypto)?;
        let new_id = ctx.reg.ike_id();
        let spi_r = ctx
            .reg
            .new_ike_spi(ctx.rng, new_id)
            .map_err(DatagramError::Crypto)?;
        let keys = {
            let Some(old) = self.keys.as_ref() else {
                ctx.reg.by_spi.remove(&spi_r);
                return Err(DatagramError::Unexpected { what: "no keys" });
            };
            derive_keys(
                ctx,
                algs,
                g_ir.as_bytes(),
                Some((old.sk_d.as_bytes(), old.algs.prf)),
                &ni.data,
                &nr,
                spi_i,
                spi_r,
                false,
            )
        };
        let keys = match keys {
            Ok(k) => k,
            Err(_) => {
                ctx.reg.by_spi.remove(&spi_r);
                return refuse(self, ctx, Notify::new(NotifyType::NO_PROPOSAL_CHOSEN, &[]));
            }
        };
        let mut reply = chosen;
        reply.spi = Cow::Owned(spi_r.0.to_vec());
        let out = [
            Payload::Sa(Sa {
                proposals: alloc::vec![reply],
            }),
            Payload::Nonce(Nonce {
                data: Cow::Borrowed(&nr),
            }),
            Payload::Ke(Ke {
                group: kex.group(),
                data: Cow::Borrowed(kex.public_value()),
            }),
        ];
        if let Err(e) = self.send_response(ctx, ExchangeType::CREATE_CHILD_SA, id, &out) {
            ctx.reg.by_spi.remove(&spi_r);
            return Err(e);
        }
        if collision {
            // Ours is in flight too: the nonces decide when it ends.
            let mut sa = self.rekeyed_sa(new_id, false, spi_i, spi_r, keys, now);
            sa.held = true;
            ctx.reg.held.insert(new_id, self.id);
            self.ike_collision = Some(Box::new(IkeCollision {
                sa: Box::new(sa),
                lowest: super::rekey::lower(&ni.data, &nr).to_vec(),
            }));
            return Ok(());
        }
        // Commit: the new SA takes the CHILD SAs; the peer deletes this one.
        let new = self.successor(ctx, now, new_id, false, spi_i, spi_r, keys);
        ctx.out.spawned.push(new);
        self.queue.clear();
        // Only the peer's Delete (or the grace timer) is expected here now.
        self.state = State::Deleting;
        Ok(())
    }

    /// Builds the SA replacing this one and moves everything that lives on to it (§2.18).
    #[allow(clippy::too_many_arguments)] // the new SA's identity: each input distinct
    fn successor(
        &mut self,
        ctx: &mut Ctx<'_>,
        now: Instant,
        id: IkeSaId,
        initiator: bool,
        spi_i: IkeSpi,
        spi_r: IkeSpi,
        keys: Keys,
    ) -> IkeSa {
        let mut new = self.rekeyed_sa(id, initiator, spi_i, spi_r, keys, now);
        self.hand_over(ctx, now, &mut new);
        new
    }

    /// A new, established SA keyed by a rekey of this one, without anything of this one's yet
    /// and without events (a collision may yet make it redundant).
    fn rekeyed_sa(
        &self,
        id: IkeSaId,
        initiator: bool,
        spi_i: IkeSpi,
        spi_r: IkeSpi,
        keys: Keys,
        now: Instant,
    ) -> IkeSa {
        let mut new = IkeSa::blank(id, self.peer, initiator, self.local, self.remote, now);
        new.spi_i = spi_i;
        new.spi_r = spi_r;
        new.state = State::Established;
        new.keys = Some(keys);
        new.nat = self.nat;
        new.peer_fragmentation = self.peer_fragmentation;
        new.peer_hashes = self.peer_hashes.clone();
        new.remote_id = self.remote_id.clone();
        new
    }

    /// Moves the CHILD SAs, queued work and addresses of this SA to `new`, which replaces it
    /// (§2.18), and reports the rekey; this SA then only waits for its Delete.
    fn hand_over(&mut self, ctx: &mut Ctx<'_>, now: Instant, new: &mut IkeSa) {
        let id = new.id;
        let key_log = match new.keys.as_mut() {
            Some(k) => k.key_log(id, new.spi_i, new.spi_r),
            None => None,
        };
        new.children = core::mem::take(&mut self.children);
        for c in &mut new.children {
            // A CHILD SA exchange of ours on the old SA dies with it: rekey again later.
            if c.state == ChildState::Rekeying {
                c.state = ChildState::Installed;
                c.rekey_at = Some(now.saturating_add(Duration::from_secs(1)));
            }
        }
        // A Delete of ours still queued goes out on the new SA.
        let deleting: Vec<_> = new
            .children
            .iter()
            .filter(|c| c.state == ChildState::Deleting)
            .map(|c| (c.id, c.delete_reason))
            .collect();
        new.rekeyed_by = core::mem::take(&mut self.rekeyed_by);
        new.collisions = core::mem::take(&mut self.collisions);
        new.queue = core::mem::take(&mut self.queue);
        new.queue
            .retain(|t| !matches!(t, Task::RekeyIke | Task::DeleteIke));
        for (id, reason) in deleting {
            let queued = new
                .queue
                .iter()
                .any(|t| matches!(t, Task::DeleteChildren(ids, _) if ids.contains(&id)));
            if !queued {
                new.queue.push_back(Task::DeleteChildren(alloc::vec![id], reason));
            }
        }
        new.virtual_ip = self.virtual_ip;
        new.dns = core::mem::take(&mut self.dns);
        new.peer_virtual_ip = self.peer_virtual_ip;
        if let Some(a) = self.peer_virtual_ip {
            if ctx.reg.leases.get(&a) == Some(&self.id) {
                ctx.reg.leases.insert(a, id);
            }
        }
        new.was_up = true;
        new.requested_vip = self.requested_vip;
        new.rekeyed_from = Some(self.id);
        new.last_recv = now;
        new.arm_ike_timers(ctx, now);
        // The old SA only waits for its Delete now.
        self.rekeyed_to = Some(id);
        // Should its Delete never come (the peer lost our answer for good), it goes anyway
        // once every retransmission of the peer could have come (RFC 7296 §2.4 schedule).
        self.timers = super::timers::Timers {
            expire: Some(now.saturating_add(OLD_SA_GRACE)),
            ..super::timers::Timers::default()
        };
        if let Some(e) = key_log {
            ctx.event(e);
        }
        ctx.event(Event::IkeSaRekeyed {
            old: self.id,
            new: id,
        });
        ctx.event(Event::IkeSaUp {
            sa: id,
            peer: new.peer,
            remote: new.remote,
            virtual_ip: new.virtual_ip,
            dns: new.dns.clone(),
        });
    }
}

/// The reason an IKE SA that was rekeyed goes down with.
pub(crate) fn down_reason(sa: &IkeSa, reason: CloseReason) -> CloseReason {
    if sa.rekeyed_to.is_some() {
        CloseReason::Rekeyed
    } else {
        reason
    }
}

#[cfg(test)]
mod tests {
    use super::made_the_redundant_sa;

    #[test]
    fn the_exchange_holding_the_lowest_nonce_made_the_redundant_sa() {
        let (low, mid, high) = ([0x10u8; 32], [0x80u8; 32], [0xf0u8; 32]);
        assert!(made_the_redundant_sa(&low, &high, &mid));
        assert!(made_the_redundant_sa(&high, &low, &mid));
        assert!(!made_the_redundant_sa(&mid, &high, &low));
        // Unsigned big-endian comparison, not by length first.
        assert!(made_the_redundant_sa(&[0x01; 64], &[0xff; 16], &[0x02; 16]));
    }
}
