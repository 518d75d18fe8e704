//! IKE_AUTH (RFC 7296 §1.2, §2.15): PSK and certificate authentication (RFC 7427 signatures,
//! CERT/CERTREQ), the first CHILD SA, INITIAL_CONTACT and configuration payloads (§2.19).

use alloc::borrow::Cow;
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipsec_core::{Instant, Spi};

use super::child::{ChildRequestView, child_offer, configured_ts};
use super::ts::{self, Sel};
use super::{Ctx, IkeSa, Request, State, error_notify, find_notify, id_body};
use crate::cert::{Certificate, PeerIdentity, matches_identity, validate_chain};
use crate::config::{ChildConfigId, Identity, LocalAuth, PeerConfig, PeerId, RemoteAuth};
use crate::crypto::auth::{sign_auth, verify_auth};
use crate::crypto::{AuthMethod, CryptoError, KeyType};
use crate::endpoint::DatagramError;
use crate::event::{CloseReason, Event, Warning};
use crate::keys;
use crate::message::{
    Auth, Cert, CertEncoding, CfgAttribute, CfgAttributeType, CfgType, Cp, ExchangeType, Header, Id,
    MessageId, Notify, NotifyType, Payload, Proposal, Sa,
};

/// Initiator state while the IKE_AUTH request is out.
pub(crate) struct AuthWait {
    pub(crate) init_resp: Vec<u8>,
    pub(crate) ni: Vec<u8>,
    pub(crate) nr: Vec<u8>,
    pub(crate) child_spi: Spi,
    pub(crate) child_config: ChildConfigId,
    pub(crate) offer: Vec<Proposal<'static>>,
    pub(crate) local_ts: Vec<Sel>,
    pub(crate) remote_ts: Vec<Sel>,
    pub(crate) transport: bool,
}

/// Our identity for `peer` (default: our IKE address).
fn local_identity(peer: &PeerConfig, local: IpAddr) -> Id<'static> {
    peer.local_id
        .clone()
        .unwrap_or(Identity::from_addr(local))
        .to_id()
}

/// Our AUTH payload over `octets` (RFC 7296 §2.15, RFC 7427).
fn make_auth(
    ctx: &mut Ctx<'_>,
    sa: &IkeSa,
    peer: &PeerConfig,
    octets: &[u8],
) -> Result<Auth<'static>, CryptoError> {
    let keys = sa.keys.as_ref().ok_or(CryptoError::Malformed { what: "keys" })?;
    let prf = ctx
        .config
        .crypto
        .prf(keys.algs.prf)
        .ok_or(CryptoError::UnsupportedAlgorithm)?;
    match &peer.local_auth {
        LocalAuth::Psk(psk) => Ok(Auth {
            method: AuthMethod::SHARED_KEY_MIC,
            data: Cow::Owned(
                keys::shared_key_auth(prf, psk.as_bytes(), octets)?
                    .as_bytes()
                    .to_vec(),
            ),
        }),
        LocalAuth::Certificate { key, .. } => {
            let method = if sa.peer_hashes.is_empty() {
                match key.key_type() {
                    KeyType::Rsa { .. } => AuthMethod::RSA_DIGITAL_SIGNATURE,
                    KeyType::EcdsaP256 => AuthMethod::ECDSA_SHA256_P256,
                    KeyType::EcdsaP384 => AuthMethod::ECDSA_SHA384_P384,
                }
            } else {
                AuthMethod::DIGITAL_SIGNATURE
            };
            let data = sign_auth(key.as_ref(), method, &sa.peer_hashes, octets, ctx.rng)?;
            Ok(Auth {
                method,
                data: Cow::Owned(data),
            })
        }
    }
}

/// Our CERT payloads (end entity first).
fn cert_payloads(peer: &PeerConfig) -> Vec<Payload<'static>> {
    match &peer.local_auth {
        LocalAuth::Certificate { chain, .. } => chain
            .iter()
            .map(|c| {
                Payload::Cert(Cert {
                    encoding: CertEncoding::X509_SIGNATURE,
                    data: Cow::Owned(c.der().to_vec()),
                })
            })
            .collect(),
        LocalAuth::Psk(_) => Vec::new(),
    }
}

/// Why a peer's AUTH was not accepted.
#[derive(Debug)]
pub(crate) struct AuthRefused;

/// Checks the peer's identity and AUTH payload (RFC 7296 §2.15, RFC 4945 §3.1).
fn verify_peer(
    ctx: &Ctx<'_>,
    sa: &IkeSa,
    peer: &PeerConfig,
    id: &Id<'_>,
    auth: &Auth<'_>,
    certs: &[&Cert<'_>],
    octets: &[u8],
) -> Result<(), AuthRefused> {
    if peer.remote_id.as_ref().is_some_and(|want| !want.matches(id)) {
        return Err(AuthRefused);
    }
    let keys = sa.keys.as_ref().ok_or(AuthRefused)?;
    let provider = &*ctx.config.crypto;
    match &peer.remote_auth {
        RemoteAuth::Psk(psk) => {
            if auth.method != AuthMethod::SHARED_KEY_MIC {
                return Err(AuthRefused);
            }
            let prf = provider.prf(keys.algs.prf).ok_or(AuthRefused)?;
            keys::verify_shared_key_auth(prf, psk.as_bytes(), octets, &auth.data).map_err(|_| AuthRefused)
        }
        RemoteAuth::Certificate { trust_anchors } => {
            let mut x509 = certs
                .iter()
                .filter(|c| c.encoding == CertEncoding::X509_SIGNATURE)
                .map(|c| Certificate::from_der(&c.data));
            let ee = x509.next().ok_or(AuthRefused)?.map_err(|_| AuthRefused)?;
            let intermediates: Vec<Certificate> = x509.filter_map(Result::ok).take(8).collect();
            validate_chain(
                provider.signatures(),
                &ee,
                &intermediates,
                trust_anchors,
                ctx.unix_now,
            )
            .map_err(|_| AuthRefused)?;
            let identity = PeerIdentity::from_id_payload(id.id_type.0, &id.data).map_err(|_| AuthRefused)?;
            matches_identity(&ee, &identity).map_err(|_| AuthRefused)?;
            verify_auth(
                provider.signatures(),
                ee.subject_public_key_info(),
                auth.method,
                &auth.data,
                octets,
            )
            .map_err(|_| AuthRefused)
        }
    }
}

/// The signed octets of one side (RFC 7296 §2.15): its IKE_SA_INIT message, the other side's
/// nonce, prf(SK_px, IDx').
fn octets(
    ctx: &Ctx<'_>,
    sa: &IkeSa,
    initiator_side: bool,
    message: &[u8],
    nonce: &[u8],
    id: &Id<'_>,
) -> Result<Vec<u8>, CryptoError> {
    let keys = sa.keys.as_ref().ok_or(CryptoError::Malformed { what: "keys" })?;
    let prf = ctx
        .config
        .crypto
        .prf(keys.algs.prf)
        .ok_or(CryptoError::UnsupportedAlgorithm)?;
    let sk_p = if initiator_side { &keys.sk_pi } else { &keys.sk_pr };
    keys::signed_octets(prf, sk_p.as_bytes(), message, nonce, &id_body(id))
}

/// CFG_REQUEST for an internal address of the family of our IKE address and its DNS servers
/// (RFC 7296 §3.15.1: empty attributes ask for a value).
fn cp_request(v6: bool) -> Cp<'static> {
    let (addr, dns) = if v6 {
        (
            CfgAttributeType::INTERNAL_IP6_ADDRESS,
            CfgAttributeType::INTERNAL_IP6_DNS,
        )
    } else {
        (
            CfgAttributeType::INTERNAL_IP4_ADDRESS,
            CfgAttributeType::INTERNAL_IP4_DNS,
        )
    };
    let ask = |attribute_type| CfgAttribute {
        attribute_type,
        value: Cow::Borrowed(&[]),
    };
    Cp {
        cfg_type: CfgType::CFG_REQUEST,
        attributes: alloc::vec![ask(addr), ask(dns)],
    }
}

/// The IP address an address or DNS attribute carries (an INTERNAL_IP6_ADDRESS is followed by
/// its prefix length); `None` for other attributes and malformed values.
fn attribute_ip(a: &CfgAttribute<'_>) -> Option<IpAddr> {
    let v4 = |b: &[u8]| <[u8; 4]>::try_from(b).ok().map(|b| IpAddr::V4(Ipv4Addr::from(b)));
    let v6 = |b: &[u8]| {
        <[u8; 16]>::try_from(b)
            .ok()
            .map(|b| IpAddr::V6(Ipv6Addr::from(b)))
    };
    match a.attribute_type {
        CfgAttributeType::INTERNAL_IP4_ADDRESS | CfgAttributeType::INTERNAL_IP4_DNS => v4(&a.value),
        CfgAttributeType::INTERNAL_IP6_ADDRESS => v6(a.value.get(..16)?),
        CfgAttributeType::INTERNAL_IP6_DNS => v6(&a.value),
        _ => None,
    }
}

/// The attributes of a CFG_REPLY of either type whose addresses are wanted.
fn cp_reply_ips<'c>(cp: &'c Cp<'_>, types: [CfgAttributeType; 2]) -> impl Iterator<Item = IpAddr> + 'c {
    let reply = cp.cfg_type == CfgType::CFG_REPLY;
    cp.attributes
        .iter()
        .filter(move |a| reply && types.contains(&a.attribute_type))
        .filter_map(attribute_ip)
}

/// The address of a CFG_REPLY, if any.
fn cp_reply_address(cp: &Cp<'_>) -> Option<IpAddr> {
    let types = [
        CfgAttributeType::INTERNAL_IP4_ADDRESS,
        CfgAttributeType::INTERNAL_IP6_ADDRESS,
    ];
    cp_reply_ips(cp, types).next()
}

/// The DNS servers of a CFG_REPLY (malformed values are skipped).
fn cp_reply_dns(cp: &Cp<'_>) -> Vec<IpAddr> {
    let types = [
        CfgAttributeType::INTERNAL_IP4_DNS,
        CfgAttributeType::INTERNAL_IP6_DNS,
    ];
    cp_reply_ips(cp, types).collect()
}

fn cp_reply(addr: IpAddr, dns: &[IpAddr]) -> Cp<'static> {
    let mut attributes = Vec::new();
    match addr {
        IpAddr::V4(a) => attributes.push(CfgAttribute {
            attribute_type: CfgAttributeType::INTERNAL_IP4_ADDRESS,
            value: Cow::Owned(a.octets().to_vec()),
        }),
        IpAddr::V6(a) => {
            let mut v = a.octets().to_vec();
            v.push(128);
            attributes.push(CfgAttribute {
                attribute_type: CfgAttributeType::INTERNAL_IP6_ADDRESS,
                value: Cow::Owned(v),
            });
        }
    }
    for d in dns {
        attributes.push(match d {
            IpAddr::V4(a) => CfgAttribute {
                attribute_type: CfgAttributeType::INTERNAL_IP4_DNS,
                value: Cow::Owned(a.octets().to_vec()),
            },
            IpAddr::V6(a) => CfgAttribute {
                attribute_type: CfgAttributeType::INTERNAL_IP6_DNS,
                value: Cow::Owned(a.octets().to_vec()),
            },
        });
    }
    Cp {
        cfg_type: CfgType::CFG_REPLY,
        attributes,
    }
}

impl IkeSa {
    /// Initiator: sends IKE_AUTH with the first CHILD SA (after IKE_SA_INIT succeeded).
    pub(crate) fn start_auth(
        &mut self,
        ctx: &mut Ctx<'_>,
        now: Instant,
        init_req: Vec<u8>,
        init_resp: Vec<u8>,
        ni: Vec<u8>,
        nr: Vec<u8>,
    ) -> Result<(), DatagramError> {
        let cfg = ctx.config;
        let peer = cfg
            .peers
            .get(self.peer.0)
            .ok_or(DatagramError::Unexpected { what: "peer" })?;
        let child_config = self.auth_child;
        let child = peer
            .children
            .get(child_config.0)
            .ok_or(DatagramError::Unexpected {
                what: "no child config",
            })?;
        let idi = local_identity(peer, self.local.ip());
        let signed = octets(ctx, self, true, &init_req, &nr, &idi).map_err(DatagramError::Crypto)?;
        let auth = make_auth(ctx, self, peer, &signed).map_err(DatagramError::Crypto)?;
        let spi = ctx.reg.new_child_spi(ctx.rng).map_err(DatagramError::Crypto)?;
        self.requested_vip = peer.request_virtual_ip;
        let offer = child_offer(ctx, peer, child, spi, false);
        let (mut local_ts, mut remote_ts) = configured_ts(self, child, true);
        ts::Trigger::prepend(self.trigger, &mut local_ts, &mut remote_ts);
        let transport = child.mode == crate::config::IpsecMode::Transport;
        let mut payloads: Vec<Payload<'_>> = alloc::vec![Payload::IdI(idi)];
        payloads.extend(cert_payloads(peer));
        if peer.initial_contact {
            payloads.push(Payload::Notify(Notify::new(NotifyType::INITIAL_CONTACT, &[])));
        }
        if let RemoteAuth::Certificate { trust_anchors } = &peer.remote_auth {
            if peer.send_certreq {
                let c = super::init::certreq_payload(ctx, trust_anchors).map_err(DatagramError::Crypto)?;
                payloads.push(Payload::CertReq(c));
            }
        }
        if let Some(r) = &peer.remote_id {
            payloads.push(Payload::IdR(r.to_id()));
        }
        payloads.push(Payload::Auth(auth));
        if peer.request_virtual_ip {
            payloads.push(Payload::Cp(cp_request(self.local.is_ipv6())));
        }
        if transport {
            payloads.push(Payload::Notify(Notify::new(NotifyType::USE_TRANSPORT_MODE, &[])));
        }
        payloads.push(Payload::Sa(Sa {
            proposals: offer.clone(),
        }));
        payloads.push(Payload::TsI(ts::to_payload(&local_ts)));
        payloads.push(Payload::TsR(ts::to_payload(&remote_ts)));
        if let Err(e) = self.send_request(ctx, now, ExchangeType::IKE_AUTH, &payloads, Request::IkeAuth) {
            ctx.reg.child_spis.remove(&spi.0);
            return Err(e);
        }
        self.state = State::AuthSent(alloc::boxed::Box::new(AuthWait {
            init_resp,
            ni,
            nr,
            child_spi: spi,
            child_config,
            offer,
            local_ts,
            remote_ts,
            transport,
        }));
        Ok(())
    }

    /// Initiator: the IKE_AUTH response.
    pub(crate) fn on_auth_response(
        &mut self,
        ctx: &mut Ctx<'_>,
        now: Instant,
        payloads: &[Payload<'_>],
    ) -> Result<(), DatagramError> {
        let State::AuthSent(st) = &self.state else {
            return Err(DatagramError::Unexpected {
                what: "IKE_AUTH response",
            });
        };
        let peer = ctx
            .config
            .peers
            .get(self.peer.0)
            .ok_or(DatagramError::Unexpected { what: "peer" })?;
        let mut idr = None;
        let mut auth = None;
        let mut certs = Vec::new();
        let mut cp = None;
        for p in payloads {
            match p {
                Payload::IdR(i) => idr = idr.or(Some(i)),
                Payload::Auth(a) => auth = auth.or(Some(a)),
                Payload::Cert(c) => certs.push(c),
                Payload::Cp(c) => cp = cp.or(Some(c)),
                _ => {}
            }
        }
        let (Some(idr), Some(auth)) = (idr, auth) else {
            let reason = match error_notify(payloads) {
                Some(n) => CloseReason::PeerRefused(n),
                None => CloseReason::ProtocolError,
            };
            let child_spi = st.child_spi;
            ctx.reg.child_spis.remove(&child_spi.0);
            self.fail(ctx, now, reason);
            return Ok(());
        };
        let signed = octets(ctx, self, false, &st.init_resp, &st.ni, idr).map_err(DatagramError::Crypto)?;
        if verify_peer(ctx, self, peer, idr, auth, &certs, &signed).is_err() {
            let child_spi = st.child_spi;
            ctx.reg.child_spis.remove(&child_spi.0);
            self.fail(ctx, now, CloseReason::AuthenticationFailed);
            return Ok(());
        }
        let (virtual_ip, dns) = if self.requested_vip {
            (
                cp.and_then(cp_reply_address),
                cp.map(cp_reply_dns).unwrap_or_default(),
            )
        } else {
            (None, Vec::new())
        };
        // Commit: the IKE SA is up whatever happens to the CHILD SA.
        let State::AuthSent(st) = core::mem::replace(&mut self.state, State::Established) else {
            return Err(DatagramError::Unexpected { what: "state" });
        };
        self.remote_id = Some(idr.clone().into_owned());
        self.virtual_ip = virtual_ip;
        self.dns.clone_from(&dns);
        self.was_up = true;
        self.arm_ike_timers(ctx, now);
        ctx.event(Event::IkeSaUp {
            sa: self.id,
            peer: self.peer,
            remote: self.remote,
            virtual_ip,
            dns,
        });
        // With a virtual IP, our selectors were "any"; the responder narrowed them to it.
        let proposed_local = st.local_ts.clone();
        let accepted = self.accept_child(
            &st.offer,
            &proposed_local,
            &st.remote_ts,
            st.transport,
            st.child_config,
            payloads,
        );
        match accepted {
            Some(n) => {
                match self.key_child(ctx, now, n, st.child_spi, true, &st.ni, &st.nr, None, None, true) {
                    Ok((child, install)) => {
                        self.children.push(child);
                        ctx.event(Event::ChildSaInstall(install));
                    }
                    Err(_) => {
                        ctx.reg.child_spis.remove(&st.child_spi.0);
                    }
                }
            }
            None => {
                ctx.reg.child_spis.remove(&st.child_spi.0);
                let notify = error_notify(payloads).unwrap_or(NotifyType(0));
                ctx.event(Event::Warning(Warning::ChildSaFailed { sa: self.id, notify }));
                // If the responder created a CHILD SA we cannot accept, delete it.
                if let Some(spi) = ChildRequestView::of(payloads)
                    .sa
                    .and_then(|s| s.proposals.first())
                    .and_then(Proposal::spi_u32)
                {
                    self.delete_refused_child(ctx, now, Spi(spi));
                }
            }
        }
        self.pump(ctx, now);
        Ok(())
    }

    /// Sends a Delete for a CHILD SA the peer created but we refused (its SPI only).
    fn delete_refused_child(&mut self, ctx: &mut Ctx<'_>, now: Instant, _peer_spi: Spi) {
        // We never installed it and hold no SPI of ours for it: nothing to delete on our side,
        // and the peer's inbound SPI is unknown to the Delete payload (which names SPIs the
        // sender receives on). The peer deletes it with its own lifetime.
        let _ = (ctx, now);
    }

    /// Responder: the IKE_AUTH request.
    pub(crate) fn respond_auth(
        &mut self,
        ctx: &mut Ctx<'_>,
        now: Instant,
        header: &Header,
        payloads: &[Payload<'_>],
    ) -> Result<(), DatagramError> {
        let State::InitResponded(st) = &self.state else {
            return Err(DatagramError::Unexpected {
                what: "IKE_AUTH request",
            });
        };
        let mut idi = None;
        let mut idr = None;
        let mut auth = None;
        let mut certs = Vec::new();
        let mut cp = None;
        for p in payloads {
            match p {
                Payload::IdI(i) => idi = idi.or(Some(i)),
                Payload::IdR(i) => idr = idr.or(Some(i)),
                Payload::Auth(a) => auth = auth.or(Some(a)),
                Payload::Cert(c) => certs.push(c),
                Payload::Cp(c) => cp = cp.or(Some(c)),
                _ => {}
            }
        }
        let id = header.message_id;
        let (Some(idi), Some(auth)) = (idi, auth) else {
            // EAP (no AUTH) is not supported; anything else is a syntax error.
            let n = [Payload::Notify(Notify::new(
                NotifyType::AUTHENTICATION_FAILED,
                &[],
            ))];
            self.send_response(ctx, ExchangeType::IKE_AUTH, id, &n)?;
            self.go_down(
                ctx,
                CloseReason::AuthenticationFailed,
                crate::event::DeleteReason::IkeSaDown,
            );
            return Ok(());
        };
        let signed = octets(ctx, self, true, &st.request, &st.nr, idi).map_err(DatagramError::Crypto)?;
        // The connection: the one chosen at IKE_SA_INIT first, then any other for these
        // addresses whose identities and credentials fit.
        let mut candidates = alloc::vec![self.peer];
        for p in super::init::candidate_peers(ctx, self.remote, self.local) {
            if !candidates.contains(&p) {
                candidates.push(p);
            }
        }
        let mut chosen: Option<PeerId> = None;
        for p in candidates {
            let Some(cfg) = ctx.config.peers.get(p.0) else {
                continue;
            };
            let ours = local_identity(cfg, self.local.ip());
            if idr.is_some_and(|r| *r != ours) {
                continue;
            }
            if verify_peer(ctx, self, cfg, idi, auth, &certs, &signed).is_ok() {
                chosen = Some(p);
                break;
            }
        }
        let Some(peer_id) = chosen else {
            let n = [Payload::Notify(Notify::new(
                NotifyType::AUTHENTICATION_FAILED,
                &[],
            ))];
            self.send_response(ctx, ExchangeType::IKE_AUTH, id, &n)?;
            self.go_down(
                ctx,
                CloseReason::AuthenticationFailed,
                crate::event::DeleteReason::IkeSaDown,
            );
            return Ok(());
        };
        let peer = ctx
            .config
            .peers
            .get(peer_id.0)
            .ok_or(DatagramError::Unexpected { what: "peer" })?;
        let init_resp = st.response.clone();
        let ni = st.ni.clone();
        let nr = st.nr.clone();
        self.peer = peer_id;
        let our_id = local_identity(peer, self.local.ip());
        let our_signed = octets(ctx, self, false, &init_resp, &ni, &our_id).map_err(DatagramError::Crypto)?;
        let our_auth = make_auth(ctx, self, peer, &our_signed).map_err(DatagramError::Crypto)?;
        // Configuration payload: an address from the pool.
        let mut cp_out = None;
        let mut address_failure = false;
        if let (Some(req), Some(pool)) = (cp, &peer.address_pool) {
            if req.cfg_type == CfgType::CFG_REQUEST {
                match ctx.reg.lease(pool, self.id) {
                    Some(a) => {
                        self.peer_virtual_ip = Some(a);
                        cp_out = Some(cp_reply(a, &pool.dns));
                    }
                    None => address_failure = true,
                }
            }
        }
        let view = ChildRequestView::of(payloads);
        let mut out: Vec<Payload<'_>> = alloc::vec![Payload::IdR(our_id)];
        out.extend(cert_payloads(peer));
        out.push(Payload::Auth(our_auth));
        if let Some(c) = cp_out {
            out.push(Payload::Cp(c));
        }
        let mut new_child = None;
        if address_failure {
            out.push(Payload::Notify(Notify::new(
                NotifyType::INTERNAL_ADDRESS_FAILURE,
                &[],
            )));
        } else if view.sa.is_some() {
            match self.negotiate_child(ctx, peer, &view, true, None) {
                Ok(n) => {
                    let spi = ctx.reg.new_child_spi(ctx.rng).map_err(DatagramError::Crypto)?;
                    let child_payloads = Self::child_response_payloads(&n, spi);
                    match self.key_child(ctx, now, n, spi, false, &ni, &nr, None, None, true) {
                        Ok((child, install)) => {
                            out.extend(child_payloads);
                            new_child = Some((child, install));
                        }
                        Err(_) => {
                            ctx.reg.child_spis.remove(&spi.0);
                            out.push(Payload::Notify(Notify::new(NotifyType::NO_PROPOSAL_CHOSEN, &[])));
                        }
                    }
                }
                Err(n) => out.push(Payload::Notify(n)),
            }
        }
        let initial_contact = find_notify(payloads, NotifyType::INITIAL_CONTACT).is_some();
        let remote_id = idi.clone().into_owned();
        if let Err(e) = self.send_response(ctx, ExchangeType::IKE_AUTH, id, &out) {
            if let Some((c, _)) = &new_child {
                ctx.reg.child_spis.remove(&c.inbound.0);
            }
            return Err(e);
        }
        // Commit.
        self.state = State::Established;
        self.remote_id = Some(remote_id.clone());
        self.was_up = true;
        self.timers.half_open = None;
        self.arm_ike_timers(ctx, now);
        ctx.event(Event::IkeSaUp {
            sa: self.id,
            peer: self.peer,
            remote: self.remote,
            virtual_ip: None,
            dns: Vec::new(),
        });
        if let Some((child, install)) = new_child {
            self.children.push(child);
            ctx.event(Event::ChildSaInstall(install));
        }
        if initial_contact {
            ctx.out.initial_contact.push((self.id, self.peer, remote_id));
        }
        let _ = MessageId(0);
        Ok(())
    }
}
