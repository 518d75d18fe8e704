//! Protected messages of an IKE SA (RFC 7296 §2.1, §3.14, RFC 7383): sealing (fragmented when
//! the peer supports it and the message is too large), sending requests and responses, and the
//! receive path: window check, integrity check, reassembly, address following and dispatch to
//! the exchange handlers. Nothing changes before the integrity check passed.

use alloc::borrow::Cow;
use alloc::vec::Vec;
use core::net::SocketAddr;

use ipsec_core::Instant;

use super::exchange::PeerRequest;
use super::{Ctx, IkeSa, Request, State};
use crate::endpoint::DatagramError;
use crate::error::IkeError;
use crate::event::{CloseReason, DeleteReason};
use crate::message::{
    ExchangeType, Header, HeaderView, MessageBuilder, MessageId, Notify, NotifyType, Payload, PayloadType,
    Reassembly, ReassemblyStatus, SkFrame, decode_inner, fragment_message,
};
use crate::transmit::Transmit;

impl IkeSa {
    /// Queues datagrams to the peer.
    pub(crate) fn transmit(&self, ctx: &mut Ctx<'_>, msgs: &[Vec<u8>]) {
        for m in msgs {
            ctx.out
                .transmits
                .push_back(Transmit::ike(self.local, self.remote, m));
        }
    }

    /// Builds and seals a protected message with `payloads` inside the SK payload, fragmented
    /// (RFC 7383) if the peer supports it and the message would exceed the configured size.
    pub(crate) fn seal(
        &mut self,
        ctx: &mut Ctx<'_>,
        header: &Header,
        payloads: &[Payload<'_>],
    ) -> Result<Vec<Vec<u8>>, DatagramError> {
        let frag = self
            .peer_config(ctx.config)
            .map(|p| p.fragmentation)
            .unwrap_or_default();
        let keys = self.keys.as_mut().ok_or(DatagramError::Unexpected {
            what: "no keys to protect a message",
        })?;
        let mut buf = Vec::new();
        let mut sk = MessageBuilder::new(&mut buf, header).encrypted();
        sk.extend(payloads).map_err(DatagramError::Encode)?;
        let frame = sk.finish().map_err(DatagramError::Encode)?;
        let ip_udp = if self.remote.is_ipv4() { 28 } else { 48 };
        let marker = if self.local.port() == crate::transmit::NATT_PORT {
            4
        } else {
            0
        };
        let overhead = keys
            .seal
            .overhead(buf.len().saturating_sub(frame.body_offset()))
            .unwrap_or(usize::MAX);
        let sealed_len = buf
            .len()
            .saturating_add(overhead)
            .saturating_add(ip_udp)
            .saturating_add(marker);
        let fragment = frag.enabled
            && self.peer_fragmentation
            && header.exchange_type != ExchangeType::IKE_SA_INIT
            && sealed_len > frag.max_packet;
        if !fragment {
            keys.seal
                .seal(&mut buf, frame.sk_offset, frame.sk_header_len, ctx.rng)
                .map_err(DatagramError::Crypto)?;
            return Ok(alloc::vec![buf]);
        }
        let room = frag
            .max_packet
            .saturating_sub(ip_udp)
            .saturating_sub(marker)
            .saturating_sub(crate::message::HEADER_LEN)
            .saturating_sub(crate::message::SKF_HEADER_LEN);
        let chunk = keys.seal.max_plaintext(room).max(64);
        let plaintext = buf.get(frame.body_offset()..).unwrap_or(&[]);
        let frags =
            fragment_message(header, frame.first_inner, plaintext, chunk).map_err(DatagramError::Encode)?;
        let mut out = Vec::with_capacity(frags.len());
        for mut f in frags {
            keys.seal
                .seal(&mut f.bytes, f.frame.sk_offset, f.frame.sk_header_len, ctx.rng)
                .map_err(DatagramError::Crypto)?;
            out.push(f.bytes);
        }
        Ok(out)
    }

    /// Sends a new request of ours and records it in the window.
    pub(crate) fn send_request(
        &mut self,
        ctx: &mut Ctx<'_>,
        now: Instant,
        exchange: ExchangeType,
        payloads: &[Payload<'_>],
        request: Request,
    ) -> Result<(), DatagramError> {
        let id = self.window.peek_id();
        let header = self.header(exchange, false, id);
        let msgs = self.seal(ctx, &header, payloads)?;
        self.transmit(ctx, &msgs);
        self.window
            .start(now, &ctx.config.retransmit, request, msgs)
            .ok_or(DatagramError::Unexpected {
                what: "message IDs exhausted",
            })
    }

    /// Sends a response to the peer's request `id` and caches it.
    pub(crate) fn send_response(
        &mut self,
        ctx: &mut Ctx<'_>,
        exchange: ExchangeType,
        id: MessageId,
        payloads: &[Payload<'_>],
    ) -> Result<(), DatagramError> {
        let header = self.header(exchange, true, id);
        let msgs = self.seal(ctx, &header, payloads)?;
        self.transmit(ctx, &msgs);
        self.window.responded(id, msgs);
        Ok(())
    }

    /// Handles a datagram routed to this SA by its SPI.
    pub(crate) fn handle(
        &mut self,
        ctx: &mut Ctx<'_>,
        now: Instant,
        remote: SocketAddr,
        local: SocketAddr,
        msg: &mut [u8],
    ) -> Result<(), DatagramError> {
        let header = HeaderView::new_checked(msg)
            .map_err(DatagramError::Malformed)?
            .header();
        if header.exchange_type == ExchangeType::IKE_SA_INIT {
            return self.handle_init_datagram(ctx, now, remote, local, &header, msg);
        }
        if header.flags.initiator() == self.initiator {
            return Err(DatagramError::Unexpected {
                what: "initiator flag of our own role",
            });
        }
        if self.keys.is_none() {
            return Err(DatagramError::Unexpected {
                what: "protected message before IKE_SA_INIT completed",
            });
        }
        let frame =
            SkFrame::locate(msg)
                .map_err(DatagramError::Malformed)?
                .ok_or(DatagramError::Malformed(
                    crate::error::InvalidMessage::Malformed {
                        what: "no encrypted payload after IKE_SA_INIT",
                    },
                ))?;
        let response = header.flags.response();
        let retransmit = if response {
            if !self.window.expects_response(header.message_id) {
                return Err(DatagramError::OutOfWindow);
            }
            false
        } else {
            match self.window.classify_request(header.message_id) {
                PeerRequest::OutOfWindow => return Err(DatagramError::OutOfWindow),
                PeerRequest::Retransmit => true,
                PeerRequest::New => false,
            }
        };
        let keys = self
            .keys
            .as_ref()
            .ok_or(DatagramError::Unexpected { what: "no keys" })?;
        let range = keys
            .open
            .open(msg, frame.sk_offset, frame.sk_header_len)
            .map_err(|_| DatagramError::IntegrityCheckFailed)?;
        // Authenticated from here on.
        if retransmit {
            // RFC 7383 §2.6.1: answer a retransmitted fragmented request once, on fragment 1.
            if frame.fragment.is_none_or(|f| f.number == 1) {
                if let Some(c) = &self.window.cached {
                    let msgs = c.msgs.clone();
                    self.transmit(ctx, &msgs);
                }
            }
            return Ok(());
        }
        let plaintext = msg
            .get(range)
            .ok_or(DatagramError::Unexpected { what: "open range" })?;
        let (first, plain): (PayloadType, Cow<'_, [u8]>) = match frame.fragment {
            None => (frame.first_inner, Cow::Borrowed(plaintext)),
            Some(_) => {
                let max = self
                    .peer_config(ctx.config)
                    .map_or(32, |p| p.fragmentation.max_fragments);
                let fresh = !matches!(&self.reassembly, Some((id, r, _)) if *id == header.message_id && *r == response);
                if fresh {
                    self.reassembly = Some((header.message_id, response, Reassembly::new(max)));
                }
                let Some((_, _, r)) = &mut self.reassembly else {
                    return Err(DatagramError::Unexpected { what: "reassembly" });
                };
                match r.insert(&frame, plaintext).map_err(DatagramError::Malformed)? {
                    ReassemblyStatus::Complete {
                        first_inner,
                        plaintext,
                    } => {
                        self.reassembly = None;
                        (first_inner, Cow::Owned(plaintext))
                    }
                    ReassemblyStatus::TooManyFragments => {
                        return Err(DatagramError::Refused {
                            what: "too many fragments",
                        });
                    }
                    _ => return Ok(()),
                }
            }
        };
        self.last_recv = now;
        self.follow_address(ctx, remote, local);
        let payloads = decode_inner(first, &plain);
        if response {
            let payloads = match payloads {
                Ok(p) => p,
                Err(_) => {
                    // A malformed response from the holder of the keys: the exchange failed.
                    self.window.finish();
                    self.fail(ctx, now, CloseReason::ProtocolError);
                    return Ok(());
                }
            };
            let r = self.on_response(ctx, now, &header, &payloads);
            // The window is free again: queued work (a Delete after a rekey, ...) goes out.
            self.pump(ctx, now);
            r
        } else {
            match payloads {
                Ok(p) => self.on_request(ctx, now, &header, &p),
                Err(e) => {
                    let notify = IkeError::from(e).notify();
                    let payloads: Vec<Payload<'static>> = notify
                        .map(|n| Payload::Notify(n.to_notify()))
                        .into_iter()
                        .collect();
                    self.send_response(ctx, header.exchange_type, header.message_id, &payloads)?;
                    if !self.is_established() && !matches!(self.state, State::Deleting) {
                        self.state = State::Gone;
                    }
                    Ok(())
                }
            }
        }
    }

    /// Adopts the addresses of an authenticated message (RFC 7296 §2.11, §2.23): our local
    /// address once known; the peer's address and port when it is behind a NAT (its mapping may
    /// change at any time); and the peer's port alone when a NAT anywhere made both sides float
    /// to port 4500. Installed CHILD SAs get an update event when their endpoints changed.
    fn follow_address(&mut self, ctx: &mut Ctx<'_>, remote: SocketAddr, local: SocketAddr) {
        let old = (self.local, self.remote);
        if !local.ip().is_unspecified() {
            self.local = local;
        }
        let float = self.nat.any() && remote.ip() == self.remote.ip();
        if remote != self.remote && (self.nat.remote_behind || float) {
            self.remote = remote;
        }
        if old == (self.local, self.remote) {
            return;
        }
        for c in &self.children {
            let update = c.update_event(self);
            ctx.event(update);
        }
    }

    fn on_request(
        &mut self,
        ctx: &mut Ctx<'_>,
        now: Instant,
        header: &Header,
        payloads: &[Payload<'_>],
    ) -> Result<(), DatagramError> {
        if self.held && header.exchange_type == ExchangeType::CREATE_CHILD_SA {
            // The peer uses this SA of a rekey collision for CHILD SAs: it has decided that
            // this one survives (RFC 7296 §2.8.2). The old SA hands its CHILD SAs over; the
            // request, unanswered and not counted, is answered when retransmitted.
            self.claimed = true;
            return Ok(());
        }
        match (header.exchange_type, &self.state) {
            (ExchangeType::IKE_AUTH, State::InitResponded(_)) => {
                self.respond_auth(ctx, now, header, payloads)
            }
            (ExchangeType::CREATE_CHILD_SA, State::Established) => {
                self.respond_create_child(ctx, now, header, payloads)
            }
            (ExchangeType::INFORMATIONAL, State::Established | State::Deleting) => {
                self.respond_informational(ctx, now, header, payloads)
            }
            (ExchangeType::CREATE_CHILD_SA, State::Deleting) => {
                let n = [Payload::Notify(Notify::new(NotifyType::TEMPORARY_FAILURE, &[]))];
                self.send_response(ctx, header.exchange_type, header.message_id, &n)
            }
            _ => Err(DatagramError::Unexpected {
                what: "request not valid in this state",
            }),
        }
    }

    fn on_response(
        &mut self,
        ctx: &mut Ctx<'_>,
        now: Instant,
        header: &Header,
        payloads: &[Payload<'_>],
    ) -> Result<(), DatagramError> {
        let Some(flight) = self.window.inflight.as_ref() else {
            return Err(DatagramError::OutOfWindow);
        };
        let expected = match flight.request {
            Request::IkeSaInit => ExchangeType::IKE_SA_INIT,
            Request::IkeAuth => ExchangeType::IKE_AUTH,
            Request::CreateChild(_) | Request::RekeyIke(_) => ExchangeType::CREATE_CHILD_SA,
            Request::DeleteChildren(_) | Request::DeleteIke | Request::Liveness => {
                ExchangeType::INFORMATIONAL
            }
        };
        if header.exchange_type != expected {
            return Err(DatagramError::Unexpected {
                what: "response of another exchange type",
            });
        }
        let Some(flight) = self.window.finish() else {
            return Err(DatagramError::OutOfWindow);
        };
        match flight.request {
            Request::IkeSaInit => Err(DatagramError::Unexpected { what: "IKE_SA_INIT" }),
            Request::IkeAuth => self.on_auth_response(ctx, now, payloads),
            Request::CreateChild(req) => self.on_create_child_response(ctx, now, *req, payloads),
            Request::RekeyIke(req) => self.on_rekey_ike_response(ctx, now, *req, payloads),
            Request::DeleteChildren(ids) => {
                self.on_delete_children_response(ctx, &ids, payloads);
                Ok(())
            }
            Request::DeleteIke => {
                self.go_down(ctx, CloseReason::Closed, DeleteReason::Closed);
                Ok(())
            }
            Request::Liveness => Ok(()),
        }
    }
}
