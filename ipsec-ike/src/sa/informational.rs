//! INFORMATIONAL exchanges (RFC 7296 §1.4): Delete of CHILD SAs and of the IKE SA, liveness
//! checks (§2.4), notifications.

use alloc::vec::Vec;

use ipsec_core::Instant;

use super::child::ChildState;
use super::{Ctx, IkeSa, Request, State};
use crate::endpoint::DatagramError;
use crate::event::{ChildSaId, CloseReason, DeleteReason, Event};
use crate::message::{Delete, ExchangeType, Header, Payload, ProtocolId};

impl IkeSa {
    /// Responder of an INFORMATIONAL request.
    pub(crate) fn respond_informational(
        &mut self,
        ctx: &mut Ctx<'_>,
        now: Instant,
        header: &Header,
        payloads: &[Payload<'_>],
    ) -> Result<(), DatagramError> {
        let deletes: Vec<&Delete<'_>> = payloads
            .iter()
            .filter_map(|p| match p {
                Payload::Delete(d) => Some(d),
                _ => None,
            })
            .collect();
        if deletes.iter().any(|d| d.protocol == ProtocolId::IKE) {
            // RFC 7296 §1.4.1: answer with an empty INFORMATIONAL, then the IKE SA is gone.
            self.send_response(ctx, ExchangeType::INFORMATIONAL, header.message_id, &[])?;
            // Our IKE rekey collided with the peer's, and the peer's won (RFC 7296 §2.8.2):
            // its new SA takes over before this one goes.
            if let Some(c) = self.take_collision(ctx) {
                self.adopt_collision(ctx, now, *c);
                let ours = self.window.inflight.as_ref().map(|f| &f.request);
                if matches!(ours, Some(Request::RekeyIke(_))) {
                    // The answer to our own rekey may be on its way (the peer may have answered
                    // before it deleted this SA): the SA it makes is redundant and ours to
                    // delete. Wait one retransmission timeout for it, no more: the peer will
                    // not answer a retransmission on an SA it deleted.
                    self.timers.expire = Some(now.saturating_add(ctx.config.retransmit.timeout));
                    self.peer_deleted = true;
                    return Ok(());
                }
            }
            self.go_down(ctx, CloseReason::DeletedByPeer, DeleteReason::DeletedByPeer);
            return Ok(());
        }
        // CHILD SA deletes name the SPIs the peer receives on: our outbound SPIs.
        let mut found: Vec<usize> = Vec::new();
        let mut answer: Vec<(ProtocolId, Vec<u32>)> = Vec::new();
        for d in &deletes {
            let Some(spis) = d.spis_u32() else {
                continue;
            };
            let mut ours = Vec::new();
            for spi in spis {
                if let Some(i) = self
                    .children
                    .iter()
                    .position(|c| c.outbound.0 == spi && c.protocol == d.protocol)
                {
                    if !found.contains(&i) {
                        found.push(i);
                        if let Some(c) = self.children.get(i) {
                            // A CHILD SA we are deleting ourselves is not named again
                            // (RFC 7296 §1.4.1, simultaneous deletes).
                            if c.state != ChildState::Deleting {
                                ours.push(c.inbound.0);
                            }
                        }
                    }
                }
            }
            if !ours.is_empty() {
                answer.push((d.protocol, ours));
            }
        }
        let out: Vec<Payload<'static>> = answer
            .iter()
            .map(|(p, spis)| Payload::Delete(Delete::ipsec(*p, spis)))
            .collect();
        self.send_response(ctx, ExchangeType::INFORMATIONAL, header.message_id, &out)?;
        // Commit: remove them (the successor of a rekeyed one starts sending first).
        let ids: Vec<ChildSaId> = found
            .iter()
            .filter_map(|i| self.children.get(*i).map(|c| c.id))
            .collect();
        for id in ids {
            self.activate_successor(ctx, id);
            self.remove_child(ctx, id, DeleteReason::DeletedByPeer);
        }
        let _ = now;
        Ok(())
    }

    /// A rekeyed CHILD SA is being deleted: its successor's outbound SA takes over.
    pub(crate) fn activate_successor(&mut self, ctx: &mut Ctx<'_>, old: ChildSaId) {
        let successor = self.rekeyed_by.iter().find(|(o, _)| *o == old).map(|(_, n)| *n);
        let Some(new) = successor else {
            return;
        };
        self.rekeyed_by.retain(|(o, _)| *o != old);
        if let Some(c) = self.children.iter_mut().find(|c| c.id == new) {
            if !c.outbound_active {
                c.outbound_active = true;
                ctx.event(Event::ChildSaActivate {
                    child: c.id,
                    outbound: c.outbound,
                });
            }
        }
    }

    /// Removes a CHILD SA and tells the driver.
    pub(crate) fn remove_child(&mut self, ctx: &mut Ctx<'_>, id: ChildSaId, reason: DeleteReason) {
        let Some(i) = self.child_index(id) else {
            return;
        };
        let c = self.children.remove(i);
        ctx.reg.child_spis.remove(&c.inbound.0);
        if c.installed {
            ctx.event(Event::ChildSaDelete {
                child: c.id,
                inbound: c.inbound,
                outbound: c.outbound,
                reason,
            });
        }
    }

    /// Sends an INFORMATIONAL deleting `ids` (our inbound SPIs).
    pub(crate) fn start_delete_children(
        &mut self,
        ctx: &mut Ctx<'_>,
        now: Instant,
        ids: &[ChildSaId],
        reason: DeleteReason,
    ) -> Result<(), DatagramError> {
        let mut esp = Vec::new();
        let mut ah = Vec::new();
        let mut live = Vec::new();
        for c in self.children.iter_mut().filter(|c| ids.contains(&c.id)) {
            if c.protocol == ProtocolId::AH {
                ah.push(c.inbound.0);
            } else {
                esp.push(c.inbound.0);
            }
            c.state = ChildState::Deleting;
            c.delete_reason = reason;
            c.rekey_at = None;
            live.push(c.id);
        }
        if live.is_empty() {
            return Ok(());
        }
        let mut payloads = Vec::new();
        if !esp.is_empty() {
            payloads.push(Payload::Delete(Delete::ipsec(ProtocolId::ESP, &esp)));
        }
        if !ah.is_empty() {
            payloads.push(Payload::Delete(Delete::ipsec(ProtocolId::AH, &ah)));
        }
        self.send_request(
            ctx,
            now,
            ExchangeType::INFORMATIONAL,
            &payloads,
            Request::DeleteChildren(live),
        )
    }

    /// Sends an INFORMATIONAL deleting CHILD SAs removed here already (our inbound SPIs).
    pub(crate) fn start_delete_spis(
        &mut self,
        ctx: &mut Ctx<'_>,
        now: Instant,
        spis: &[(ProtocolId, u32)],
    ) -> Result<(), DatagramError> {
        let mut payloads = Vec::new();
        for protocol in [ProtocolId::ESP, ProtocolId::AH] {
            let list: Vec<u32> = spis
                .iter()
                .filter(|(p, _)| *p == protocol)
                .map(|(_, s)| *s)
                .collect();
            if !list.is_empty() {
                payloads.push(Payload::Delete(Delete::ipsec(protocol, &list)));
            }
        }
        if payloads.is_empty() {
            return Ok(());
        }
        self.send_request(
            ctx,
            now,
            ExchangeType::INFORMATIONAL,
            &payloads,
            Request::DeleteChildren(Vec::new()),
        )
    }

    /// The peer confirmed our CHILD SA Delete.
    pub(crate) fn on_delete_children_response(
        &mut self,
        ctx: &mut Ctx<'_>,
        ids: &[ChildSaId],
        _payloads: &[Payload<'_>],
    ) {
        for id in ids {
            let reason = self
                .children
                .iter()
                .find(|c| c.id == *id)
                .map_or(DeleteReason::Closed, |c| c.delete_reason);
            // A rekeyed SA we deleted ourselves (e.g. its hard lifetime ran out before the
            // peer's Delete came): its successor takes over.
            self.activate_successor(ctx, *id);
            self.remove_child(ctx, *id, reason);
        }
    }

    /// Sends the Delete of this IKE SA.
    pub(crate) fn start_delete_ike(&mut self, ctx: &mut Ctx<'_>, now: Instant) -> Result<(), DatagramError> {
        let payloads = [Payload::Delete(Delete::ike())];
        self.send_request(
            ctx,
            now,
            ExchangeType::INFORMATIONAL,
            &payloads,
            Request::DeleteIke,
        )?;
        self.state = State::Deleting;
        Ok(())
    }
}
