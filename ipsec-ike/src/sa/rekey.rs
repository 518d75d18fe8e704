//! CREATE_CHILD_SA for CHILD SAs (RFC 7296 §1.3): new CHILD SAs, CHILD SA rekey with or without
//! PFS (§1.3.3, §2.8), rekey collisions (§2.8.1) and CHILD SA lifetimes. IKE SA rekeying is in
//! `ike_rekey.rs`.
//!
//! **CHILD SA rekey, loss-free.** The responder installs the new SA with its outbound direction
//! inactive before it answers, so it already receives on it; the initiator installs it active
//! when the answer arrives and then deletes the old SA. The responder switches its outbound
//! direction when that Delete arrives ([`Event::ChildSaActivate`] before the old SA's
//! [`Event::ChildSaDelete`]).
//!
//! **Collisions (§2.8.1).** When both ends rekey the same CHILD SA at once, both exchanges
//! complete. The responder side of the peer's exchange records it as a [`Collision`]; when our
//! own answer arrives, the exchange that produced the lowest of the four nonces made the
//! redundant SA, which its initiator deletes; the other initiator deletes the old SA. Both ends
//! compute the same verdict from the same nonces.
//!
//! **Refusals (§2.25.1).** A rekey of a CHILD SA being deleted or already rekeyed gets
//! TEMPORARY_FAILURE; of an unknown one CHILD_SA_NOT_FOUND, unless a CREATE_CHILD_SA of ours is
//! in flight (its late answer may be what creates it here), then TEMPORARY_FAILURE too. A
//! refused rekey of ours is retried after a random delay; CHILD_SA_NOT_FOUND deletes ours.
//!
//! **Lifetimes.** The soft time limit (with its jitter) starts a rekey; a CHILD SA that is not
//! sending yet (its predecessor's Delete is still to come) postpones it. The hard limit removes
//! the CHILD SA at once and queues a Delete of its SPI for the peer.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::time::Duration;

use ipsec_core::{Instant, Spi};

use super::child::{ChildRequestView, ChildState, child_offer, configured_ts, pfs_group};
use super::ts::{self, Sel, Trigger};
use super::{Ctx, IkeSa, NONCE_LEN, Request, Task, error_notify, find_notify, key_exchange, nonce};
use crate::config::{ChildConfigId, IpsecMode};
use crate::crypto::KeyExchangeSecret;
use crate::endpoint::DatagramError;
use crate::event::{ChildSaId, DeleteReason, Event, Warning};
use crate::message::{
    DhGroup, ExchangeType, Header, Ke, Nonce, Notify, NotifyType, Payload, Proposal, ProtocolId, Sa,
    TransformType,
};

/// A CHILD SA rekey due while the SA is not in use yet is tried again after this long.
const REKEY_POSTPONE: Duration = Duration::from_secs(5);

/// How often an INVALID_KE_PAYLOAD answer to a CREATE_CHILD_SA is followed.
const MAX_KE_RETRIES: u32 = 2;

/// A failed CHILD SA rekey is tried again after this long (minus up to half of it, at random).
const REKEY_RETRY: Duration = Duration::from_secs(30);
/// See [`REKEY_RETRY`].
const REKEY_RETRY_JITTER: Duration = Duration::from_secs(15);

/// Our CREATE_CHILD_SA request for a CHILD SA.
pub(crate) struct ChildRequest {
    /// Our new inbound SPI (reserved).
    pub(crate) spi: Spi,
    pub(crate) config: ChildConfigId,
    pub(crate) rekey_of: Option<ChildSaId>,
    pub(crate) offer: Vec<Proposal<'static>>,
    pub(crate) ni: Vec<u8>,
    /// Our key exchange for PFS, if we sent KEi.
    pub(crate) kex: Option<Box<dyn KeyExchangeSecret>>,
    pub(crate) local_ts: Vec<Sel>,
    pub(crate) remote_ts: Vec<Sel>,
    pub(crate) transport: bool,
    /// INVALID_KE_PAYLOAD retries so far.
    pub(crate) retries: u32,
    /// The packet that asked for a new CHILD SA (kept for a retry).
    pub(crate) trigger: Option<Trigger>,
}

/// The peer rekeyed a CHILD SA we were rekeying ourselves (RFC 7296 §2.8.1).
#[derive(Clone, Debug)]
pub(crate) struct Collision {
    /// The CHILD SA both sides rekeyed.
    pub(crate) old: ChildSaId,
    /// The CHILD SA the peer's exchange created.
    pub(crate) new: ChildSaId,
    /// The lower of the two nonces of the peer's exchange.
    pub(crate) lowest: Vec<u8>,
}

/// The lower of two nonces (compared as unsigned big-endian byte strings, shorter first on a
/// common prefix).
pub(crate) fn lower<'n>(a: &'n [u8], b: &'n [u8]) -> &'n [u8] {
    if a <= b { a } else { b }
}

impl IkeSa {
    /// Responder of a CREATE_CHILD_SA request for a CHILD SA (new or rekey).
    pub(crate) fn respond_create_child(
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
        let view = ChildRequestView::of(payloads);
        let ni = payloads.iter().find_map(|p| match p {
            Payload::Nonce(n) => Some(n.data.to_vec()),
            _ => None,
        });
        let is_ike_rekey = view
            .sa
            .and_then(|s| s.proposals.first())
            .is_some_and(|p| p.protocol == ProtocolId::IKE);
        if is_ike_rekey {
            return self.respond_rekey_ike(ctx, now, header, payloads);
        }
        let Some(ni) = ni else {
            return refuse(self, ctx, Notify::new(NotifyType::INVALID_SYNTAX, &[]));
        };
        // REKEY_SA names the SPI the exchange's initiator receives on: our outbound SPI.
        let mut rekey_of = None;
        if let Some(n) = find_notify(payloads, NotifyType::REKEY_SA) {
            let Some(spi) = n.spi_u32() else {
                return refuse(self, ctx, Notify::new(NotifyType::INVALID_SYNTAX, &[]));
            };
            let Some(old) = self
                .children
                .iter()
                .find(|c| c.outbound.0 == spi && c.protocol == n.protocol)
            else {
                // Our own CREATE_CHILD_SA in flight may be what creates it here (its response
                // is late): ask the peer to try again rather than to forget it (§2.25).
                let creating = self
                    .window
                    .inflight
                    .as_ref()
                    .is_some_and(|f| matches!(f.request, Request::CreateChild(_)));
                let notify = if creating {
                    Notify::new(NotifyType::TEMPORARY_FAILURE, &[])
                } else {
                    Notify::with_spi(n.protocol, spi, NotifyType::CHILD_SA_NOT_FOUND)
                };
                return refuse(self, ctx, notify);
            };
            if matches!(old.state, ChildState::Rekeyed | ChildState::Deleting) {
                return refuse(self, ctx, Notify::new(NotifyType::TEMPORARY_FAILURE, &[]));
            }
            rekey_of = Some((old.id, old.config, old.state == ChildState::Rekeying));
        }
        let Some(peer) = self.peer_config(ctx.config) else {
            return Err(DatagramError::Unexpected { what: "peer" });
        };
        let negotiated = self.negotiate_child(ctx, peer, &view, false, rekey_of.map(|r| r.1));
        let n = match negotiated {
            Ok(n) => n,
            Err(notify) => return refuse(self, ctx, notify),
        };
        // PFS: our public value and the shared secret.
        let mut kex = None;
        let mut g_ir = None;
        if let Some(group) = n.group {
            let Some(ke) = view.ke.filter(|k| k.group == group) else {
                return refuse(self, ctx, Notify::invalid_ke_payload(group));
            };
            let secret = key_exchange(ctx, group).map_err(DatagramError::Crypto)?;
            match secret.agree(&ke.data) {
                Ok(s) => g_ir = Some(s),
                Err(_) => return refuse(self, ctx, Notify::new(NotifyType::INVALID_SYNTAX, &[])),
            }
            kex = Some(secret);
        }
        let nr = nonce(ctx.rng, NONCE_LEN).map_err(DatagramError::Crypto)?;
        let spi = ctx.reg.new_child_spi(ctx.rng).map_err(DatagramError::Crypto)?;
        let mut out = Self::child_response_payloads(&n, spi);
        let at = out
            .iter()
            .position(|p| matches!(p, Payload::Sa(_)))
            .map_or(out.len(), |i| i.saturating_add(1));
        let mut extra: Vec<Payload<'static>> = alloc::vec![Payload::Nonce(Nonce {
            data: alloc::borrow::Cow::Owned(nr.clone()),
        })];
        if let Some(k) = &kex {
            extra.push(Payload::Ke(Ke {
                group: k.group(),
                data: alloc::borrow::Cow::Owned(k.public_value().to_vec()),
            }));
        }
        out.splice(at..at, extra);
        let old_id = rekey_of.map(|r| r.0);
        let keyed = self.key_child(
            ctx,
            now,
            n,
            spi,
            false,
            &ni,
            &nr,
            g_ir.as_ref().map(|s| s.as_bytes()),
            old_id,
            old_id.is_none(),
        );
        let (child, install) = match keyed {
            Ok(k) => k,
            Err(_) => {
                ctx.reg.child_spis.remove(&spi.0);
                return refuse(self, ctx, Notify::new(NotifyType::NO_PROPOSAL_CHOSEN, &[]));
            }
        };
        if let Err(e) = self.send_response(ctx, ExchangeType::CREATE_CHILD_SA, id, &out) {
            ctx.reg.child_spis.remove(&spi.0);
            return Err(e);
        }
        // Commit.
        let new_id = child.id;
        self.children.push(child);
        ctx.event(Event::ChildSaInstall(install));
        if let Some((old, _, colliding)) = rekey_of {
            self.rekeyed_by.push((old, new_id));
            if colliding {
                self.collisions.push(Collision {
                    old,
                    new: new_id,
                    lowest: lower(&ni, &nr).to_vec(),
                });
            } else if let Some(c) = self.children.iter_mut().find(|c| c.id == old) {
                c.state = ChildState::Rekeyed;
                c.rekey_at = None;
            }
        }
        Ok(())
    }

    /// Our CREATE_CHILD_SA request was answered.
    pub(crate) fn on_create_child_response(
        &mut self,
        ctx: &mut Ctx<'_>,
        now: Instant,
        req: ChildRequest,
        payloads: &[Payload<'_>],
    ) -> Result<(), DatagramError> {
        if let Some(notify) = error_notify(payloads) {
            ctx.reg.child_spis.remove(&req.spi.0);
            if notify == NotifyType::INVALID_KE_PAYLOAD {
                let group = find_notify(payloads, NotifyType::INVALID_KE_PAYLOAD)
                    .and_then(Notify::requested_group)
                    .filter(|g| offers_group(&req.offer, *g));
                if let Some(g) = group.filter(|_| req.retries < MAX_KE_RETRIES) {
                    let retries = req.retries.saturating_add(1);
                    return self.send_create_child(
                        ctx,
                        now,
                        req.config,
                        req.rekey_of,
                        Some(g),
                        retries,
                        req.trigger,
                    );
                }
            }
            self.child_request_failed(ctx, now, &req, notify);
            return Ok(());
        }
        let accepted = self.accept_child(
            &req.offer,
            &req.local_ts,
            &req.remote_ts,
            req.transport,
            req.config,
            payloads,
        );
        let nr = payloads.iter().find_map(|p| match p {
            Payload::Nonce(n) => Some(n.data.to_vec()),
            _ => None,
        });
        let (Some(n), Some(nr)) = (accepted, nr) else {
            ctx.reg.child_spis.remove(&req.spi.0);
            self.child_request_failed(ctx, now, &req, NotifyType(0));
            return Ok(());
        };
        let g_ir = match (n.group, &req.kex) {
            (None, _) => None,
            (Some(g), Some(k)) if k.group() == g => {
                let ke = payloads.iter().find_map(|p| match p {
                    Payload::Ke(k) if k.group == g => Some(k),
                    _ => None,
                });
                match ke.map(|ke| k.agree(&ke.data)) {
                    Some(Ok(s)) => Some(s),
                    _ => {
                        ctx.reg.child_spis.remove(&req.spi.0);
                        self.child_request_failed(ctx, now, &req, NotifyType(0));
                        return Ok(());
                    }
                }
            }
            (Some(_), _) => {
                ctx.reg.child_spis.remove(&req.spi.0);
                self.child_request_failed(ctx, now, &req, NotifyType(0));
                return Ok(());
            }
        };
        // A collision: the exchange with the lowest nonce made the redundant SA.
        let collision = req
            .rekey_of
            .and_then(|old| self.collisions.iter().position(|c| c.old == old));
        let we_lose = collision
            .and_then(|i| self.collisions.get(i))
            .is_some_and(|c| lower(&req.ni, &nr) < c.lowest.as_slice());
        let keyed = self.key_child(
            ctx,
            now,
            n,
            req.spi,
            true,
            &req.ni,
            &nr,
            g_ir.as_ref().map(|s| s.as_bytes()),
            req.rekey_of,
            !we_lose,
        );
        let (child, install) = match keyed {
            Ok(k) => k,
            Err(_) => {
                ctx.reg.child_spis.remove(&req.spi.0);
                self.child_request_failed(ctx, now, &req, NotifyType(0));
                return Ok(());
            }
        };
        // Commit.
        let new_id = child.id;
        self.children.push(child);
        ctx.event(Event::ChildSaInstall(install));
        let Some(old) = req.rekey_of else {
            return Ok(());
        };
        if let Some(i) = collision {
            let c = self.collisions.remove(i);
            ctx.event(Event::Warning(Warning::RekeyCollision { sa: self.id }));
            if we_lose {
                // Ours is redundant: delete it; the peer deletes the old SA, which activates
                // the peer's new SA here.
                self.mark_rekeyed(old);
                self.enqueue(Task::DeleteChildren(alloc::vec![new_id], DeleteReason::Rekeyed));
                return Ok(());
            }
            // The peer's new SA is redundant and the peer deletes it: never activate it.
            self.rekeyed_by.retain(|(o, n)| !(*o == old && *n == c.new));
        }
        if self.child_index(old).is_some() {
            self.mark_rekeyed(old);
            self.enqueue(Task::DeleteChildren(alloc::vec![old], DeleteReason::Rekeyed));
        }
        Ok(())
    }

    fn mark_rekeyed(&mut self, old: ChildSaId) {
        if let Some(c) = self.children.iter_mut().find(|c| c.id == old) {
            c.state = ChildState::Rekeyed;
            c.rekey_at = None;
        }
    }

    /// A CREATE_CHILD_SA of ours failed (`notify` 0: we refused the answer).
    fn child_request_failed(
        &mut self,
        ctx: &mut Ctx<'_>,
        now: Instant,
        req: &ChildRequest,
        notify: NotifyType,
    ) {
        let Some(old) = req.rekey_of else {
            ctx.event(Event::Warning(Warning::ChildSaFailed { sa: self.id, notify }));
            return;
        };
        if notify == NotifyType::CHILD_SA_NOT_FOUND {
            // The peer does not know it (RFC 7296 §1.3.3): delete it on both sides, in case the
            // peer creates it after all (a late response of a lost exchange).
            self.mark_rekeyed(old);
            self.enqueue(Task::DeleteChildren(
                alloc::vec![old],
                DeleteReason::DeletedByPeer,
            ));
            return;
        }
        if let Some(i) = self.collisions.iter().position(|c| c.old == old) {
            // The peer's rekey of the same SA went through: it deletes the old SA.
            self.collisions.remove(i);
            self.mark_rekeyed(old);
            return;
        }
        let retry = super::timers::jittered(REKEY_RETRY, REKEY_RETRY_JITTER, ctx.rng);
        if let Some(c) = self.children.iter_mut().find(|c| c.id == old) {
            if c.state == ChildState::Rekeying {
                c.state = ChildState::Installed;
                c.rekey_at = Some(now.saturating_add(retry));
            }
        }
    }

    /// Starts a CREATE_CHILD_SA for a new CHILD SA from `config`, or rekeying `rekey_of`.
    pub(crate) fn start_create_child(
        &mut self,
        ctx: &mut Ctx<'_>,
        now: Instant,
        config: ChildConfigId,
        rekey_of: Option<ChildSaId>,
    ) -> Result<(), DatagramError> {
        self.send_create_child(ctx, now, config, rekey_of, None, 0, None)
    }

    /// Starts a CREATE_CHILD_SA for a new CHILD SA from `config` asked for by `trigger` (an SPD
    /// acquire), unless one from `config` is already there or under way.
    pub(crate) fn start_new_child(
        &mut self,
        ctx: &mut Ctx<'_>,
        now: Instant,
        config: ChildConfigId,
        trigger: Option<Trigger>,
    ) -> Result<(), DatagramError> {
        if trigger.is_some() && self.has_child_from(config) {
            return Ok(());
        }
        self.send_create_child(ctx, now, config, None, None, 0, trigger)
    }

    /// A CHILD SA from `config` is installed here, being negotiated or queued.
    pub(crate) fn has_child_from(&self, config: ChildConfigId) -> bool {
        let installed = self
            .children
            .iter()
            .any(|c| c.config == config && c.state != ChildState::Deleting);
        let in_flight = self.window.inflight.as_ref().is_some_and(|f| match &f.request {
            Request::CreateChild(r) => r.config == config && r.rekey_of.is_none(),
            _ => false,
        });
        let in_auth = self.is_connecting() && self.auth_child == config;
        let queued = self
            .queue
            .iter()
            .any(|t| matches!(t, Task::CreateChild(c, _) if *c == config));
        installed || in_flight || in_auth || queued
    }

    #[allow(clippy::too_many_arguments)] // each input distinct; the last two only on a retry
    fn send_create_child(
        &mut self,
        ctx: &mut Ctx<'_>,
        now: Instant,
        config: ChildConfigId,
        rekey_of: Option<ChildSaId>,
        group: Option<DhGroup>,
        retries: u32,
        trigger: Option<Trigger>,
    ) -> Result<(), DatagramError> {
        let Some(peer) = self.peer_config(ctx.config) else {
            return Ok(());
        };
        let Some(child_cfg) = peer.children.get(config.0) else {
            return Ok(());
        };
        let old = rekey_of.and_then(|id| self.children.iter().find(|c| c.id == id));
        if rekey_of.is_some() && old.is_none() {
            return Ok(());
        }
        // A rekey keeps the SA's protocol, mode and negotiated selectors (RFC 7296 §2.8).
        let (local_ts, remote_ts, transport, rekey_notify) = match old {
            Some(c) => (
                c.local_ts.clone(),
                c.remote_ts.clone(),
                c.transport,
                Some(Notify::with_spi(c.protocol, c.inbound.0, NotifyType::REKEY_SA)),
            ),
            None => {
                let (mut l, mut r) = configured_ts(self, child_cfg, true);
                Trigger::prepend(trigger, &mut l, &mut r);
                (l, r, child_cfg.mode == IpsecMode::Transport, None)
            }
        };
        let spi = ctx.reg.new_child_spi(ctx.rng).map_err(DatagramError::Crypto)?;
        let offer = child_offer(ctx, peer, child_cfg, spi, true);
        if offer.is_empty() {
            ctx.reg.child_spis.remove(&spi.0);
            ctx.event(Event::Warning(Warning::ChildSaFailed {
                sa: self.id,
                notify: NotifyType(0),
            }));
            return Ok(());
        }
        let group = group.or_else(|| pfs_group(&offer));
        let prepared = (|| {
            let ni = nonce(ctx.rng, NONCE_LEN)?;
            let kex = match group {
                Some(g) => Some(key_exchange(ctx, g)?),
                None => None,
            };
            Ok((ni, kex))
        })();
        let (ni, kex) = match prepared {
            Ok(p) => p,
            Err(e) => {
                ctx.reg.child_spis.remove(&spi.0);
                return Err(DatagramError::Crypto(e));
            }
        };
        let mut payloads: Vec<Payload<'_>> = Vec::new();
        if let Some(n) = rekey_notify {
            payloads.push(Payload::Notify(n));
        }
        if transport {
            payloads.push(Payload::Notify(Notify::new(NotifyType::USE_TRANSPORT_MODE, &[])));
        }
        payloads.push(Payload::Sa(Sa {
            proposals: offer.clone(),
        }));
        payloads.push(Payload::Nonce(Nonce {
            data: alloc::borrow::Cow::Borrowed(&ni),
        }));
        if let Some(k) = &kex {
            payloads.push(Payload::Ke(Ke {
                group: k.group(),
                data: alloc::borrow::Cow::Borrowed(k.public_value()),
            }));
        }
        payloads.push(Payload::TsI(ts::to_payload(&local_ts)));
        payloads.push(Payload::TsR(ts::to_payload(&remote_ts)));
        let msgs = {
            let id = self.window.peek_id();
            let header = self.header(ExchangeType::CREATE_CHILD_SA, false, id);
            self.seal(ctx, &header, &payloads)
        };
        drop(payloads);
        let msgs = match msgs {
            Ok(m) => m,
            Err(e) => {
                ctx.reg.child_spis.remove(&spi.0);
                return Err(e);
            }
        };
        let req = ChildRequest {
            spi,
            config,
            rekey_of,
            offer,
            ni,
            kex,
            local_ts,
            remote_ts,
            transport,
            retries,
            trigger,
        };
        self.transmit(ctx, &msgs);
        if self
            .window
            .start(
                now,
                &ctx.config.retransmit,
                Request::CreateChild(Box::new(req)),
                msgs,
            )
            .is_none()
        {
            ctx.reg.child_spis.remove(&spi.0);
            return Err(DatagramError::Unexpected {
                what: "message IDs exhausted",
            });
        }
        if let Some(c) = rekey_of.and_then(|id| self.children.iter_mut().find(|c| c.id == id)) {
            c.state = ChildState::Rekeying;
            c.rekey_at = None;
        }
        Ok(())
    }

    /// Starts rekeying a CHILD SA that is in use (not already being rekeyed or deleted).
    pub(crate) fn start_rekey_child(
        &mut self,
        ctx: &mut Ctx<'_>,
        now: Instant,
        child: ChildSaId,
    ) -> Result<(), DatagramError> {
        let Some(c) = self.children.iter().find(|c| c.id == child) else {
            return Ok(());
        };
        if c.state != ChildState::Installed {
            return Ok(());
        }
        if !c.outbound_active {
            // The peer's rekey that made it is not finished (its Delete of the predecessor has
            // not come): the peer may not even have it yet. Try again shortly.
            if let Some(c) = self.children.iter_mut().find(|c| c.id == child) {
                c.rekey_at = Some(now.saturating_add(REKEY_POSTPONE));
            }
            return Ok(());
        }
        let config = c.config;
        self.start_create_child(ctx, now, config, Some(child))
    }

    /// CHILD SA lifetimes: the soft limit starts a rekey; the hard limit removes the CHILD SA at
    /// once (the driver stops using it now, not after whatever exchange is in flight) and
    /// queues a Delete telling the peer (RFC 7296 §1.4.1, §2.8).
    pub(crate) fn child_timers(&mut self, ctx: &mut Ctx<'_>, now: Instant) {
        let mut rekey = Vec::new();
        let mut expired = Vec::new();
        for c in &mut self.children {
            if c.expire_at.is_some_and(|t| t <= now) {
                c.expire_at = None;
                c.rekey_at = None;
                expired.push((c.id, c.protocol, c.inbound.0));
            }
            if c.rekey_at.is_some_and(|t| t <= now) {
                c.rekey_at = None;
                if c.state == ChildState::Installed {
                    rekey.push(c.id);
                }
            }
        }
        for id in rekey {
            self.enqueue(Task::RekeyChild(id));
        }
        if expired.is_empty() {
            return;
        }
        let mut notice = Vec::new();
        for (id, protocol, spi) in expired {
            // A rekeyed SA whose Delete never came: its successor takes over.
            self.activate_successor(ctx, id);
            self.remove_child(ctx, id, DeleteReason::Expired);
            notice.push((protocol, spi));
        }
        self.enqueue(Task::DeleteSpis(notice));
    }
}

/// Whether one of our proposals lists KE method `group`.
fn offers_group(offer: &[Proposal<'_>], group: DhGroup) -> bool {
    offer.iter().any(|p| {
        p.transforms_of(TransformType::KE)
            .any(|t| t.transform_id == group.0)
    })
}
