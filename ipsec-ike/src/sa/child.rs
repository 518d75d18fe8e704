//! CHILD SAs: proposals, traffic selector negotiation, KEYMAT (RFC 7296 §2.9, §2.17) and the
//! install events that hand them to the driver.

use alloc::borrow::Cow;
use alloc::vec::Vec;

use ipsec_core::sa::{Mode, SecurityProtocol, UdpEncap};
use ipsec_core::transform::{AesKeyLen, EspAlgorithm, Integrity, KeyMaterial};
use ipsec_core::{Instant, Spi};

use super::ts::{self, Sel};
use super::{Ctx, IkeSa};
use crate::config::{ChildConfig, ChildConfigId, IpsecMode, PeerConfig};
use crate::crypto::{CryptoError, WeakAlgorithm};
use crate::event::{ChildSaId, ChildSaInstall, Event, sad_lifetime};
use crate::message::{
    DhGroup, EncrId, EsnId, IntegId, Ke, Notify, NotifyType, Payload, Proposal, ProtocolId, Sa,
    TransformType, Ts,
};
use crate::proposal::select;
use crate::sa::timers::jittered;

/// Where a CHILD SA is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChildState {
    /// In use.
    Installed,
    /// We started rekeying it.
    Rekeying,
    /// Replaced by a newer CHILD SA; waiting for its Delete.
    Rekeyed,
    /// Our Delete is in flight.
    Deleting,
}

/// One CHILD SA (a pair of SAs).
#[derive(Clone, Debug)]
pub(crate) struct ChildSa {
    pub(crate) id: ChildSaId,
    pub(crate) config: ChildConfigId,
    pub(crate) protocol: ProtocolId,
    /// Our SPI.
    pub(crate) inbound: Spi,
    /// The peer's SPI.
    pub(crate) outbound: Spi,
    pub(crate) alg: SecurityProtocol,
    pub(crate) local_ts: Vec<Sel>,
    pub(crate) remote_ts: Vec<Sel>,
    pub(crate) transport: bool,
    pub(crate) rekey_at: Option<Instant>,
    pub(crate) expire_at: Option<Instant>,
    pub(crate) state: ChildState,
    /// Announced to the driver (false for a CHILD SA refused after the peer created it).
    pub(crate) installed: bool,
    /// The driver sends on the outbound SA.
    pub(crate) outbound_active: bool,
    /// Why our Delete is in flight.
    pub(crate) delete_reason: crate::event::DeleteReason,
}

impl ChildSa {
    /// The tunnel endpoints and encapsulation as they are now.
    pub(crate) fn mode_and_encap(&self, sa: &IkeSa) -> (Mode, Option<UdpEncap>) {
        let mode = if self.transport {
            Mode::Transport
        } else {
            Mode::Tunnel {
                local: sa.local.ip(),
                remote: sa.remote.ip(),
            }
        };
        let encap = (sa.nat.any() && matches!(self.alg, SecurityProtocol::Esp(_))).then_some(UdpEncap {
            local_port: sa.local.port(),
            remote_port: sa.remote.port(),
        });
        (mode, encap)
    }

    pub(crate) fn update_event(&self, sa: &IkeSa) -> Event {
        let (mode, encap) = self.mode_and_encap(sa);
        Event::ChildSaUpdate {
            child: self.id,
            outbound: self.outbound,
            mode,
            encap,
        }
    }
}

/// The SAD algorithm of a negotiated ESP or AH proposal, with the encryption and integrity key
/// lengths KEYMAT is cut into (RFC 7296 §2.17).
pub(crate) fn sa_algorithm(p: &Proposal<'_>) -> Option<(SecurityProtocol, usize, usize, bool)> {
    let esn = match p.esn() {
        None => false,
        Some(e) if e == EsnId::NO_ESN => false,
        Some(e) if e == EsnId::ESN => true,
        Some(_) => return None,
    };
    let integ = match p.integ() {
        None | Some(IntegId::NONE) => None,
        Some(IntegId::AUTH_HMAC_SHA2_256_128) => Some(Integrity::HmacSha256_128),
        Some(IntegId::AUTH_HMAC_SHA2_384_192) => Some(Integrity::HmacSha384_192),
        Some(IntegId::AUTH_HMAC_SHA2_512_256) => Some(Integrity::HmacSha512_256),
        Some(_) => return None,
    };
    let aes = |bits: Option<u16>| match bits {
        Some(128) => Some(AesKeyLen::Aes128),
        Some(192) => Some(AesKeyLen::Aes192),
        Some(256) => Some(AesKeyLen::Aes256),
        _ => None,
    };
    if p.protocol == ProtocolId::AH {
        let i = integ?;
        return Some((SecurityProtocol::Ah(i), 0, i.key_len(), esn));
    }
    if p.protocol != ProtocolId::ESP {
        return None;
    }
    let (encr, bits) = p.encr()?;
    let alg = match (encr, integ) {
        (EncrId::ENCR_AES_GCM_16, None) => EspAlgorithm::AesGcm16(aes(bits)?),
        (EncrId::ENCR_CHACHA20_POLY1305, None) if bits.is_none() || bits == Some(256) => {
            EspAlgorithm::ChaCha20Poly1305
        }
        (EncrId::ENCR_NULL_AUTH_AES_GMAC, None) => EspAlgorithm::AesGmac(aes(bits)?),
        (EncrId::ENCR_AES_CBC, Some(i)) => EspAlgorithm::AesCbc(aes(bits)?, i),
        (EncrId::ENCR_NULL, Some(i)) => EspAlgorithm::Null(i),
        _ => return None,
    };
    let integ_len = integ.map_or(0, Integrity::key_len);
    let encr_len = alg.key_material_len().checked_sub(integ_len)?;
    Some((SecurityProtocol::Esp(alg), encr_len, integ_len, esn))
}

/// Our proposals for a child: transforms the SAD can run, our SPI, numbered 1.., without KE
/// transforms when `with_ke` is false (IKE_AUTH, rekey without PFS).
pub(crate) fn child_offer(
    ctx: &Ctx<'_>,
    peer: &PeerConfig,
    child: &ChildConfig,
    spi: Spi,
    with_ke: bool,
) -> Vec<Proposal<'static>> {
    let mut out = Vec::new();
    let mut number = 0u8;
    for prop in &child.proposals {
        let mut q = prop.clone();
        q.transforms.retain(|t| match t.transform_type {
            TransformType::KE => {
                with_ke
                    && t.dh_group().is_some_and(|g| {
                        g == DhGroup::NONE
                            || ctx.config.crypto.key_exchange(g).is_some()
                                && (!g.is_weak() || peer.allow_weak_modp1024 && g == DhGroup::MODP_1024)
                    })
            }
            TransformType::ENCR => {
                let single = Proposal {
                    number: 1,
                    protocol: q.protocol,
                    spi: Cow::Borrowed(&[]),
                    transforms: alloc::vec![
                        t.clone(),
                        crate::message::Transform::integ(IntegId::AUTH_HMAC_SHA2_256_128)
                    ],
                };
                let aead = Proposal {
                    transforms: alloc::vec![t.clone()],
                    ..single.clone()
                };
                sa_algorithm(&single).is_some() || sa_algorithm(&aead).is_some()
            }
            TransformType::INTEG => matches!(t.transform_id, 0 | 12 | 13 | 14),
            TransformType::ESN => matches!(t.transform_id, 0 | 1),
            _ => false,
        });
        let has_encr = q.encr().is_some() || q.protocol == ProtocolId::AH;
        if !has_encr {
            continue;
        }
        number = number.saturating_add(1);
        q.number = number;
        q.spi = Cow::Owned(spi.0.to_be_bytes().to_vec());
        out.push(q);
    }
    out
}

/// The KE group of our first proposal for PFS, if the config asks for it.
pub(crate) fn pfs_group(offer: &[Proposal<'_>]) -> Option<DhGroup> {
    offer
        .first()
        .and_then(Proposal::dh_group)
        .filter(|g| *g != DhGroup::NONE)
}

/// Our side's and the peer's configured selectors for a child ("dynamic" = the IKE address or
/// the virtual IP).
pub(crate) fn configured_ts(sa: &IkeSa, child: &ChildConfig, initiator: bool) -> (Vec<Sel>, Vec<Sel>) {
    let local_vip = sa.virtual_ip;
    let remote_vip = sa.peer_virtual_ip;
    let local = if child.local_ts.is_empty() {
        match local_vip {
            Some(v) => alloc::vec![Sel::host(v)],
            None if initiator && wants_vip(sa) => alloc::vec![Sel::any_like(sa.local.ip())],
            None => alloc::vec![Sel::host(sa.local.ip())],
        }
    } else {
        child.local_ts.iter().map(Sel::from_config).collect()
    };
    let remote = if child.remote_ts.is_empty() {
        match remote_vip {
            Some(v) => alloc::vec![Sel::host(v)],
            None => alloc::vec![Sel::host(sa.remote.ip())],
        }
    } else {
        child.remote_ts.iter().map(Sel::from_config).collect()
    };
    (local, remote)
}

fn wants_vip(sa: &IkeSa) -> bool {
    sa.virtual_ip.is_none() && sa.requested_vip
}

/// A negotiated CHILD SA before it is keyed.
pub(crate) struct Negotiated {
    pub(crate) config: ChildConfigId,
    /// The selected proposal (the peer's SPI in it when we are the exchange's initiator; the
    /// peer's number).
    pub(crate) proposal: Proposal<'static>,
    pub(crate) peer_spi: Spi,
    pub(crate) alg: SecurityProtocol,
    pub(crate) encr_len: usize,
    pub(crate) integ_len: usize,
    pub(crate) esn: bool,
    pub(crate) local_ts: Vec<Sel>,
    pub(crate) remote_ts: Vec<Sel>,
    pub(crate) transport: bool,
    pub(crate) group: Option<DhGroup>,
}

/// The child-related payloads of a request.
pub(crate) struct ChildRequestView<'p, 'a> {
    pub(crate) sa: Option<&'p Sa<'a>>,
    pub(crate) tsi: Option<&'p Ts<'a>>,
    pub(crate) tsr: Option<&'p Ts<'a>>,
    pub(crate) ke: Option<&'p Ke<'a>>,
    pub(crate) transport: bool,
}

impl<'p, 'a> ChildRequestView<'p, 'a> {
    pub(crate) fn of(payloads: &'p [Payload<'a>]) -> Self {
        let mut v = Self {
            sa: None,
            tsi: None,
            tsr: None,
            ke: None,
            transport: false,
        };
        for p in payloads {
            match p {
                Payload::Sa(s) => v.sa = v.sa.or(Some(s)),
                Payload::TsI(t) => v.tsi = v.tsi.or(Some(t)),
                Payload::TsR(t) => v.tsr = v.tsr.or(Some(t)),
                Payload::Ke(k) => v.ke = v.ke.or(Some(k)),
                Payload::Notify(n) if n.notify_type == NotifyType::USE_TRANSPORT_MODE => v.transport = true,
                _ => {}
            }
        }
        v
    }
}

impl IkeSa {
    /// Responder: chooses a child config, proposal and narrowed selectors for a request
    /// (IKE_AUTH or CREATE_CHILD_SA). `only` restricts to one config (rekey). Returns the error
    /// notify to answer with otherwise.
    pub(crate) fn negotiate_child(
        &self,
        ctx: &Ctx<'_>,
        peer: &PeerConfig,
        req: &ChildRequestView<'_, '_>,
        in_auth: bool,
        only: Option<ChildConfigId>,
    ) -> Result<Negotiated, Notify<'static>> {
        let no_proposal = || Notify::new(NotifyType::NO_PROPOSAL_CHOSEN, &[]).into_owned();
        let (Some(sa), Some(tsi), Some(tsr)) = (req.sa, req.tsi, req.tsr) else {
            return Err(Notify::new(NotifyType::INVALID_SYNTAX, &[]).into_owned());
        };
        let proposed_i = ts::from_payload(tsi);
        let proposed_r = ts::from_payload(tsr);
        let mut ts_failed = false;
        let mut wanted_group: Option<DhGroup> = None;
        // With more than one selector a side, the first pair may be the packet that made the
        // initiator start (RFC 7296 §2.9): configs that cover it are tried first, so the CHILD
        // SA carries that packet when another config would also fit the rest.
        let packet = match (proposed_i.as_slice(), proposed_r.as_slice()) {
            ([pi, _, ..], [pr, _, ..]) => Some((*pi, *pr)),
            _ => None,
        };
        let covers = |child: &ChildConfig| {
            packet.is_none_or(|(pi, pr)| {
                let (local_cfg, remote_cfg) = configured_ts(self, child, false);
                let inside = |s: Sel, cfg: &[Sel]| cfg.iter().any(|c| s.within(*c));
                inside(pr, &local_cfg) && inside(pi, &remote_cfg)
            })
        };
        let (first, rest): (Vec<_>, Vec<_>) = peer
            .children
            .iter()
            .enumerate()
            .filter(|(c, _)| only.is_none_or(|o| o.0 == *c))
            .partition(|(_, child)| covers(child));
        for (c, child) in first.into_iter().chain(rest) {
            let transport = match (child.mode, req.transport) {
                (IpsecMode::Transport, true) => true,
                (IpsecMode::Transport, false) => continue,
                (IpsecMode::Tunnel, _) => false,
            };
            let (local_cfg, remote_cfg) = configured_ts(self, child, false);
            let local = ts::narrow(&proposed_r, &local_cfg);
            let remote = ts::narrow(&proposed_i, &remote_cfg);
            if local.is_empty() || remote.is_empty() || ts::selector_set(&local, &remote).is_none() {
                ts_failed = true;
                continue;
            }
            let ours = child_offer(ctx, peer, child, Spi(0), !in_auth);
            let peer_ke = req.ke.map(|k| k.group);
            let chosen = match select(&ours, &sa.proposals, peer_ke, child.strictness) {
                Ok(p) => p,
                Err(crate::error::PeerIncompatible::InvalidKePayload { group }) => {
                    wanted_group.get_or_insert(group);
                    continue;
                }
                Err(_) => continue,
            };
            if chosen.protocol != child.protocol() {
                continue;
            }
            let Some((alg, encr_len, integ_len, esn)) = sa_algorithm(&chosen) else {
                continue;
            };
            let Some(peer_spi) = chosen.spi_u32().filter(|s| *s >= 256) else {
                continue;
            };
            let group = chosen.dh_group().filter(|g| *g != DhGroup::NONE);
            if group.is_some() && req.ke.is_none() {
                continue;
            }
            return Ok(Negotiated {
                config: ChildConfigId(c),
                proposal: chosen,
                peer_spi: Spi(peer_spi),
                alg,
                encr_len,
                integ_len,
                esn,
                local_ts: local,
                remote_ts: remote,
                transport,
                group,
            });
        }
        if let Some(g) = wanted_group {
            return Err(Notify::invalid_ke_payload(g));
        }
        if ts_failed {
            return Err(Notify::new(NotifyType::TS_UNACCEPTABLE, &[]).into_owned());
        }
        Err(no_proposal())
    }

    /// Initiator: checks the responder's answer against our offer (RFC 7296 §2.7, §2.9).
    pub(crate) fn accept_child(
        &self,
        offer: &[Proposal<'_>],
        proposed_local: &[Sel],
        proposed_remote: &[Sel],
        transport_requested: bool,
        config: ChildConfigId,
        payloads: &[Payload<'_>],
    ) -> Option<Negotiated> {
        let view = ChildRequestView::of(payloads);
        let chosen = crate::proposal::check_reply(offer, view.sa?).ok()?;
        let (alg, encr_len, integ_len, esn) = sa_algorithm(&chosen)?;
        let peer_spi = chosen.spi_u32().filter(|s| *s >= 256)?;
        let local = ts::from_payload(view.tsi?);
        let remote = ts::from_payload(view.tsr?);
        if !ts::is_narrowing(&local, proposed_local) || !ts::is_narrowing(&remote, proposed_remote) {
            return None;
        }
        ts::selector_set(&local, &remote)?;
        // Transport mode only if we asked and the responder agreed (RFC 7296 §1.3.1).
        let transport = transport_requested && view.transport;
        if transport_requested && !transport {
            return None;
        }
        let group = chosen.dh_group().filter(|g| *g != DhGroup::NONE);
        Some(Negotiated {
            config,
            proposal: chosen,
            peer_spi: Spi(peer_spi),
            alg,
            encr_len,
            integ_len,
            esn,
            local_ts: local,
            remote_ts: remote,
            transport,
            group,
        })
    }

    /// Keys a negotiated CHILD SA (RFC 7296 §2.17) and returns it with its install event.
    /// `exchange_initiator`: we sent the request that created it.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn key_child(
        &self,
        ctx: &mut Ctx<'_>,
        now: Instant,
        n: Negotiated,
        our_spi: Spi,
        exchange_initiator: bool,
        ni: &[u8],
        nr: &[u8],
        g_ir: Option<&[u8]>,
        rekey_of: Option<ChildSaId>,
        outbound_active: bool,
    ) -> Result<(ChildSa, ChildSaInstall), CryptoError> {
        let keys = self
            .keys
            .as_ref()
            .ok_or(CryptoError::Malformed { what: "no IKE keys" })?;
        let prf = ctx
            .config
            .crypto
            .prf(keys.algs.prf)
            .ok_or(CryptoError::UnsupportedAlgorithm)?;
        let k = crate::keys::child_keymat(prf, keys.sk_d.as_bytes(), g_ir, ni, nr, n.encr_len, n.integ_len)?;
        let material = |e: &crate::crypto::SecretBytes, i: &crate::crypto::SecretBytes| {
            let mut v = zeroize::Zeroizing::new(Vec::with_capacity(e.len().saturating_add(i.len())));
            v.extend_from_slice(e.as_bytes());
            v.extend_from_slice(i.as_bytes());
            KeyMaterial::new(&v).map_err(|_| CryptoError::InvalidKeyLength)
        };
        let i2r = material(&k.encr_i, &k.integ_i)?;
        let r2i = material(&k.encr_r, &k.integ_r)?;
        let (outbound_keys, inbound_keys) = if exchange_initiator {
            (i2r, r2i)
        } else {
            (r2i, i2r)
        };
        let peer = self
            .peer_config(ctx.config)
            .ok_or(CryptoError::Malformed { what: "peer" })?;
        let child_cfg = peer
            .children
            .get(n.config.0)
            .ok_or(CryptoError::Malformed { what: "child config" })?;
        let selectors = ts::selector_set(&n.local_ts, &n.remote_ts)
            .ok_or(CryptoError::Malformed { what: "selectors" })?;
        let life = child_cfg.lifetime;
        let rekey_at = life
            .rekey_time
            .map(|t| now.saturating_add(jittered(t, life.jitter, ctx.rng)));
        let expire_at = life.life_time.map(|t| now.saturating_add(t));
        let id = ctx.reg.child_id();
        let child = ChildSa {
            id,
            config: n.config,
            protocol: n.proposal.protocol,
            inbound: our_spi,
            outbound: n.peer_spi,
            alg: n.alg,
            local_ts: n.local_ts,
            remote_ts: n.remote_ts,
            transport: n.transport,
            rekey_at,
            expire_at,
            state: ChildState::Installed,
            installed: true,
            outbound_active,
            delete_reason: crate::event::DeleteReason::Closed,
        };
        let (mode, encap) = child.mode_and_encap(self);
        let install = ChildSaInstall {
            child: id,
            ike_sa: self.id,
            peer: self.peer,
            config: n.config,
            rekey_of,
            inbound_spi: our_spi,
            outbound_spi: n.peer_spi,
            protocol: n.alg,
            mode,
            encap,
            esn: n.esn,
            selectors,
            lifetime: sad_lifetime(&life),
            replay_window: child_cfg.replay_window,
            inbound_keys,
            outbound_keys,
            outbound_active,
            pfs_group: n.group,
        };
        Ok((child, install))
    }

    /// The response payloads of a responder-created child: [N(USE_TRANSPORT_MODE)], SA, TSi, TSr.
    pub(crate) fn child_response_payloads(n: &Negotiated, our_spi: Spi) -> Vec<Payload<'static>> {
        let mut out = Vec::new();
        if n.transport {
            out.push(Payload::Notify(Notify::new(NotifyType::USE_TRANSPORT_MODE, &[])));
        }
        let mut p = n.proposal.clone();
        p.spi = Cow::Owned(our_spi.0.to_be_bytes().to_vec());
        out.push(Payload::Sa(Sa {
            proposals: alloc::vec![p],
        }));
        out.push(Payload::TsI(ts::to_payload(&n.remote_ts)));
        out.push(Payload::TsR(ts::to_payload(&n.local_ts)));
        out
    }

    /// Index of a child by id.
    pub(crate) fn child_index(&self, id: ChildSaId) -> Option<usize> {
        self.children.iter().position(|c| c.id == id)
    }
}
