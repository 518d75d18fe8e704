//! One installed SA and its packet paths: the outbound `protect` and the inbound checks after the
//! SPI lookup.

// Arithmetic here is on lengths and offsets bounded by a slice length (< isize::MAX) plus small
// constants or 8-bit header fields scaled by at most 8; every subtraction follows the comparison that
// makes it non-negative. Checked arithmetic would add error paths that cannot be taken.
#![allow(clippy::arithmetic_side_effects)]

use core::ops::Range;

use super::{Protected, SEQ_SOFT_LIMIT_32, SEQ_SOFT_LIMIT_64, Unprotected};
use crate::error::{ProtectError, UnprotectError};
use crate::lifetime::{LifetimeState, LifetimeTracker, LimitKind};
use crate::mode;
use crate::replay::ReplayWindow;
use crate::sa::{Direction, EcnMode, Mode, SaId, SaParams, SaStats};
use crate::selector::PacketSelector;
use crate::spd::PolicyViolation;
use crate::time::Instant;
use crate::transform::{SeqContext, TransformProvider};
use crate::wire::{self, IpPacket, IpProtocol};
use crate::{ah, esp};

pub(super) enum Keyed<P: TransformProvider> {
    Esp(P::Cipher),
    Ah(P::Mac),
}

pub(super) struct Entry<P: TransformProvider, const W: usize> {
    pub(super) params: SaParams,
    pub(super) keyed: Keyed<P>,
    /// Outbound: the last sequence number sent (0 before the first packet).
    pub(super) seq: u64,
    pub(super) replay: ReplayWindow<W>,
    pub(super) life: LifetimeTracker,
    pub(super) stats: SaStats,
    /// Lifetime transitions not yet reported by `poll_event`.
    pub(super) pending: [Option<LifetimeState>; 2],
}

impl<P: TransformProvider, const W: usize> Entry<P, W> {
    /// The outbound path; `events` counts the lifetime events queued, also on error.
    pub(super) fn protect(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        start: usize,
        len: usize,
        dummy: bool,
        events: &mut usize,
    ) -> Result<Protected, ProtectError> {
        if self.params.direction != Direction::Outbound {
            return Err(ProtectError::WrongDirection);
        }
        *events += note(&mut self.pending, self.life.update(now));
        if let LifetimeState::Expired(k) = self.life.state() {
            return Err(ProtectError::Expired(k));
        }
        let limit = if self.params.esn {
            u64::MAX
        } else {
            u64::from(u32::MAX)
        };
        let seq = match self.seq.checked_add(1) {
            Some(s) if s <= limit => s,
            _ => return Err(ProtectError::SequenceExhausted),
        };
        let ctx = SeqContext {
            seq,
            esn: self.params.esn,
        };
        let out = match &self.keyed {
            Keyed::Esp(c) => esp::protect(c, &self.params, ctx, buf, start, len, dummy),
            Keyed::Ah(_) if dummy => Err(wire::Error::Unsupported {
                what: "dummy packets on AH",
            }
            .into()),
            Keyed::Ah(m) => ah::protect(m, &self.params, ctx, buf, start, len),
        }?;
        self.seq = seq;
        self.stats.packets = self.stats.packets.saturating_add(1);
        self.stats.bytes = self
            .stats
            .bytes
            .saturating_add(u64::try_from(len).unwrap_or(u64::MAX));
        *events += note(&mut self.pending, self.life.account(now, len));
        let soft = if self.params.esn {
            SEQ_SOFT_LIMIT_64
        } else {
            SEQ_SOFT_LIMIT_32
        };
        if seq == limit {
            *events += note(
                &mut self.pending,
                self.life
                    .advance(LifetimeState::Expired(LimitKind::SequenceNumbers)),
            );
        } else if seq >= soft {
            *events += note(
                &mut self.pending,
                self.life.advance(LifetimeState::Soft(LimitKind::SequenceNumbers)),
            );
        }
        Ok(Protected {
            packet: out.packet,
            ipsec: out.ipsec,
            seq,
        })
    }

    /// The inbound path after the SPI lookup; returns the result and the number of events queued.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn unprotect(
        &mut self,
        now: Instant,
        id: SaId,
        buf: &mut [u8],
        start: usize,
        split: &mode::TransportSplit,
        ipsec: Range<usize>,
        encapsulated: bool,
        seq_low: u32,
        outer_ecn: u8,
    ) -> Result<(Unprotected, usize), UnprotectError> {
        if let LifetimeState::Expired(k) = self.life.state() {
            return Err(UnprotectError::Expired(k));
        }
        if self.params.direction != Direction::Inbound {
            return Err(UnprotectError::UnknownSpi(self.params.spi));
        }
        let seq = self.replay.check(seq_low).map_err(|e| {
            self.stats.replay_drops = self.stats.replay_drops.saturating_add(1);
            UnprotectError::Replayed(e)
        })?;
        let ctx = SeqContext {
            seq,
            esn: self.params.esn,
        };
        let ipsec_abs = start + ipsec.start..start + ipsec.end;
        let (payload, next_header) = match &self.keyed {
            Keyed::Esp(cipher) => {
                let opened = esp::open_in(cipher, ctx, buf, ipsec_abs).map_err(|e| self.count(e))?;
                (opened.payload, opened.next_header)
            }
            Keyed::Ah(mac) => {
                let packet = buf
                    .get(start..start + split.total_len)
                    .ok_or(wire::Error::Truncated { what: "packet" })?;
                let info = ah::verify(mac, packet, split.header_len, ctx).map_err(|e| self.count(e))?;
                let range = ah::payload_range(split.header_len, &info, split.total_len);
                (start + range.start..start + range.end, info.next_header)
            }
        };
        if next_header == IpProtocol::NO_NEXT_HEADER && matches!(self.keyed, Keyed::Esp(_)) {
            self.replay.accept(seq).map_err(UnprotectError::Replayed)?;
            self.stats.dummy_packets = self.stats.dummy_packets.saturating_add(1);
            return Ok((Unprotected::Dummy { sa: id, seq }, 0));
        }
        // The packet to deliver and its selector, each parsed once.
        let (packet, selector) = match self.params.mode {
            Mode::Tunnel { .. } => {
                if next_header != IpProtocol::IPV4 && next_header != IpProtocol::IPV6 {
                    return Err(self.count(UnprotectError::UnexpectedNextHeader(next_header)));
                }
                let bytes = buf.get(payload.clone()).unwrap_or(&[]);
                let parsed = IpPacket::new_checked(bytes).and_then(|ip| {
                    // Anything after the inner packet is TFC padding (RFC 4303 §2.7).
                    let len = ip.total_len();
                    Ok((len, PacketSelector::from_ip(&ip, bytes, Direction::Inbound)?))
                });
                let (len, selector) = parsed.map_err(|e| self.count(e.into()))?;
                (payload.start..payload.start + len, selector)
            }
            Mode::Transport => {
                let rebuilt =
                    esp::rejoin(buf, start, split, payload, next_header).map_err(|e| self.count(e))?;
                if encapsulated {
                    let p = buf.get_mut(rebuilt.clone()).unwrap_or(&mut []);
                    esp::fix_transport_checksum(p).map_err(|e| self.count(e))?;
                }
                let bytes = buf.get(rebuilt.clone()).unwrap_or(&[]);
                let selector = PacketSelector::inbound(bytes).map_err(|e| self.count(e.into()))?;
                (rebuilt, selector)
            }
        };
        if !self.params.selectors.matches_any(&selector) {
            self.stats.policy_drops = self.stats.policy_drops.saturating_add(1);
            return Err(UnprotectError::Policy(PolicyViolation::OutsideSaSelectors));
        }
        let inner = buf.get_mut(packet.clone()).unwrap_or(&mut []);
        if matches!(self.params.mode, Mode::Tunnel { .. }) && self.params.tunnel.ecn == EcnMode::Normal {
            mode::ecn_decapsulate(outer_ecn, inner).map_err(|_| self.count(UnprotectError::EcnDrop))?;
        }
        // Everything checked: commit.
        self.replay.accept(seq).map_err(UnprotectError::Replayed)?;
        self.stats.packets = self.stats.packets.saturating_add(1);
        self.stats.bytes = self.stats.bytes.saturating_add(packet.len() as u64);
        let events = note(&mut self.pending, self.life.account(now, packet.len()));
        Ok((Unprotected::Packet { sa: id, packet, seq }, events))
    }

    /// Counts a drop by its cause and passes the error on.
    fn count(&mut self, e: UnprotectError) -> UnprotectError {
        let s = &mut self.stats;
        match e {
            UnprotectError::IntegrityCheckFailed => s.icv_failures = s.icv_failures.saturating_add(1),
            UnprotectError::Policy(_) => s.policy_drops = s.policy_drops.saturating_add(1),
            _ => s.malformed_drops = s.malformed_drops.saturating_add(1),
        }
        e
    }
}

/// Queues a lifetime transition for `poll_event`; returns how many events were queued.
pub(super) fn note(pending: &mut [Option<LifetimeState>; 2], change: Option<LifetimeState>) -> usize {
    let Some(state) = change else { return 0 };
    match pending.iter_mut().find(|p| p.is_none()) {
        Some(slot) => {
            *slot = Some(state);
            1
        }
        None => 0,
    }
}
