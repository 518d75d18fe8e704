//! What the engine tells its driver (STYLE §2): IKE SAs up and down, CHILD SAs to install,
//! activate and delete (keys included), and warnings.
//!
//! CHILD SAs leave the engine in events; the engine never touches a SAD. For each
//! [`ChildSaInstall`], the driver installs both directions ([`ChildSaInstall::sa_params`] builds
//! the two `ipsec_core::sa::SaParams`) and points its outbound policy at the new outbound SA when
//! [`ChildSaInstall::outbound_active`] is true, or later on [`Event::ChildSaActivate`]. On
//! [`Event::ChildSaDelete`] it removes both directions. Events come in the order they must be
//! applied: during a rekey the new SA's install comes before the old SA's delete.

use alloc::vec::Vec;
use core::fmt;
use core::net::{IpAddr, SocketAddr};

use ipsec_core::Spi;
use ipsec_core::lifetime::{Lifetime, Limits};
use ipsec_core::sa::{Direction, Mode, SaParams, SecurityProtocol, TfcPadding, TunnelOptions, UdpEncap};
use ipsec_core::selector::SelectorSet;
use ipsec_core::transform::KeyMaterial;

use crate::config::{ChildConfigId, DpdAction, PeerId};
use crate::crypto::SecretBytes;
use crate::message::{DhGroup, EncrId, IntegId, NotifyType};

/// Identifies one IKE SA of an [`Endpoint`](crate::endpoint::Endpoint); never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IkeSaId(pub(crate) u64);

impl IkeSaId {
    /// The number behind the id (for logs).
    #[must_use]
    pub const fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for IkeSaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ike#{}", self.0)
    }
}

/// Identifies one CHILD SA (a pair of SAs) of an endpoint; never reused. A CHILD SA keeps its id
/// when its IKE SA is rekeyed; a rekeyed CHILD SA gets a new id
/// ([`ChildSaInstall::rekey_of`] names the old one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChildSaId(pub(crate) u64);

impl ChildSaId {
    /// The number behind the id (for logs).
    #[must_use]
    pub const fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ChildSaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "child#{}", self.0)
    }
}

/// Something the driver must act on or may log. Drain with
/// [`Endpoint::poll_event`](crate::endpoint::Endpoint::poll_event) after every input.
#[non_exhaustive]
#[derive(Debug)]
// Events are drained one at a time right after they are produced; boxing the install would
// cost an allocation per CHILD SA for no gain.
#[allow(clippy::large_enum_variant)]
pub enum Event {
    /// An IKE SA is authenticated and usable (IKE_AUTH done, or a rekeyed IKE SA took over).
    IkeSaUp {
        /// The IKE SA.
        sa: IkeSaId,
        /// Its connection.
        peer: PeerId,
        /// The peer's address (and port) now.
        remote: SocketAddr,
        /// The internal address the responder assigned us (CFG_REPLY), if any.
        virtual_ip: Option<IpAddr>,
        /// The DNS servers the responder sent with it (INTERNAL_IP4_DNS / INTERNAL_IP6_DNS).
        dns: Vec<IpAddr>,
    },
    /// An IKE SA is gone; its CHILD SAs were deleted (events before this one).
    IkeSaDown {
        /// The IKE SA.
        sa: IkeSaId,
        /// Its connection.
        peer: PeerId,
        /// Why.
        reason: CloseReason,
    },
    /// An IKE SA was rekeyed (RFC 7296 §2.18): `new` carries on with the CHILD SAs of `old`;
    /// `old` goes down (with [`CloseReason::Rekeyed`]) without deleting them.
    IkeSaRekeyed {
        /// The replaced IKE SA.
        old: IkeSaId,
        /// Its successor.
        new: IkeSaId,
    },
    /// Install a CHILD SA (both directions).
    ChildSaInstall(ChildSaInstall),
    /// Start sending on this CHILD SA's outbound SA, installed earlier with
    /// `outbound_active: false` (the responder of a rekey switches once the initiator showed it
    /// has the new inbound SA).
    ChildSaActivate {
        /// The CHILD SA.
        child: ChildSaId,
        /// Its outbound SPI.
        outbound: Spi,
    },
    /// The peer's address or port changed (NAT mapping change, RFC 7296 §2.23): update the
    /// tunnel endpoints and UDP encapsulation of this CHILD SA.
    ChildSaUpdate {
        /// The CHILD SA.
        child: ChildSaId,
        /// Its outbound SPI.
        outbound: Spi,
        /// The new outer tunnel endpoints (tunnel mode) or `Mode::Transport`.
        mode: Mode,
        /// The new UDP encapsulation ports.
        encap: Option<UdpEncap>,
    },
    /// Remove both directions of a CHILD SA.
    ChildSaDelete {
        /// The CHILD SA.
        child: ChildSaId,
        /// Its inbound SPI (ours).
        inbound: Spi,
        /// Its outbound SPI (the peer's).
        outbound: Spi,
        /// Why.
        reason: DeleteReason,
    },
    /// Something worth a log line that needs no action.
    Warning(Warning),
    /// The keys of an IKE SA just keyed (IKE_SA_INIT done, or an IKE rekey), for a key log;
    /// only with [`EndpointConfig::export_ike_keys`](crate::config::EndpointConfig::export_ike_keys).
    IkeSaKeys(IkeSaKeyLog),
}

/// The keys protecting an IKE SA (RFC 7296 §2.14), as Wireshark's IKEv2 decryption table wants
/// them. The key bytes zeroize on drop and `Debug` prints their lengths only.
#[non_exhaustive]
#[derive(Debug)]
pub struct IkeSaKeyLog {
    /// The IKE SA.
    pub sa: IkeSaId,
    /// The initiator's SPI.
    pub spi_i: [u8; 8],
    /// The responder's SPI.
    pub spi_r: [u8; 8],
    /// The encryption algorithm and its key length in bits (if it has a variable one).
    pub encr: (EncrId, Option<u16>),
    /// The integrity algorithm (`None` with an AEAD).
    pub integ: Option<IntegId>,
    /// SK_ei (encryption key and salt, initiator to responder).
    pub sk_ei: SecretBytes,
    /// SK_er.
    pub sk_er: SecretBytes,
    /// SK_ai (integrity key, initiator to responder; empty with an AEAD).
    pub sk_ai: SecretBytes,
    /// SK_ar.
    pub sk_ar: SecretBytes,
}

/// Why an IKE SA went down.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CloseReason {
    /// [`Endpoint::close`](crate::endpoint::Endpoint::close) (DELETE sent).
    Closed,
    /// The peer deleted it (INFORMATIONAL with Delete of the IKE SA).
    DeletedByPeer,
    /// Replaced by a rekeyed IKE SA (RFC 7296 §2.18).
    Rekeyed,
    /// Its hard lifetime ran out before a rekey succeeded.
    Expired,
    /// A request was never answered (all retransmissions, or DPD, timed out).
    Timeout {
        /// What the configured DPD action did next.
        action: DpdAction,
    },
    /// The peer's AUTH payload, certificate or identity was not acceptable (RFC 7296 §2.15).
    AuthenticationFailed,
    /// The peer refused us with this error notify (e.g. NO_PROPOSAL_CHOSEN,
    /// AUTHENTICATION_FAILED).
    PeerRefused(NotifyType),
    /// Nothing the peer offered (or answered) was acceptable.
    NoProposalChosen,
    /// A half-open SA timed out waiting for IKE_AUTH.
    HalfOpenTimeout,
    /// The peer broke the protocol in an authenticated message.
    ProtocolError,
    /// INITIAL_CONTACT from the same identity replaced it (RFC 7296 §2.4).
    Replaced,
    /// The configured attempts (`keyingtries`) were used up.
    KeyingTriesExhausted,
}

/// Why a CHILD SA is deleted.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeleteReason {
    /// Closed locally.
    Closed,
    /// The peer deleted it.
    DeletedByPeer,
    /// Replaced by its rekeyed successor.
    Rekeyed,
    /// Its hard lifetime ran out.
    Expired,
    /// Its IKE SA went down.
    IkeSaDown,
}

/// Informational conditions (STYLE §4.8: weak algorithms in use).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Warning {
    /// A weak algorithm was negotiated because the configuration allowed it.
    WeakAlgorithm {
        /// The IKE SA.
        sa: IkeSaId,
        /// The group (MODP-1024).
        group: DhGroup,
    },
    /// The IKE SA is up but a CHILD SA could not be created; the peer said why.
    ChildSaFailed {
        /// The IKE SA.
        sa: IkeSaId,
        /// The error notify (TS_UNACCEPTABLE, NO_PROPOSAL_CHOSEN, ...), or NOTIFY 0 if we
        /// refused the peer's reply.
        notify: NotifyType,
    },
    /// A rekey collided with the peer's and the peer's won (RFC 7296 §2.8.1); informational.
    RekeyCollision {
        /// The IKE SA.
        sa: IkeSaId,
    },
}

/// A CHILD SA to install: everything needed for both directions (RFC 7296 §2.17, RFC 4301 §4.4.2).
#[non_exhaustive]
pub struct ChildSaInstall {
    /// The CHILD SA.
    pub child: ChildSaId,
    /// Its IKE SA.
    pub ike_sa: IkeSaId,
    /// The connection.
    pub peer: PeerId,
    /// The child template it was made from.
    pub config: ChildConfigId,
    /// The CHILD SA this one replaces (rekey), which is deleted by a later event.
    pub rekey_of: Option<ChildSaId>,
    /// Our SPI: the peer sends to it.
    pub inbound_spi: Spi,
    /// The peer's SPI: we send to it.
    pub outbound_spi: Spi,
    /// ESP with its algorithm, or AH with its integrity algorithm.
    pub protocol: SecurityProtocol,
    /// Tunnel (with our and the peer's IKE addresses as outer endpoints) or transport.
    pub mode: Mode,
    /// UDP encapsulation (RFC 3948) with our and the peer's ports, if a NAT was detected or
    /// encapsulation forced.
    pub encap: Option<UdpEncap>,
    /// Extended sequence numbers negotiated.
    pub esn: bool,
    /// The narrowed traffic selectors, `local` = our side.
    pub selectors: SelectorSet,
    /// Byte and packet limits for the SAD (time limits run in the engine).
    pub lifetime: Lifetime,
    /// Anti-replay window in packets.
    pub replay_window: u32,
    /// Keys of the inbound SA (encryption key with salt, then integrity key).
    pub inbound_keys: KeyMaterial,
    /// Keys of the outbound SA.
    pub outbound_keys: KeyMaterial,
    /// Send on the outbound SA now; if false, wait for [`Event::ChildSaActivate`].
    pub outbound_active: bool,
    /// The KE group used for PFS, if any.
    pub pfs_group: Option<DhGroup>,
}

impl ChildSaInstall {
    /// The `SaParams` of the inbound and the outbound SA, in that order.
    #[must_use]
    pub fn sa_params(&self) -> (SaParams, SaParams) {
        let make = |spi, direction| SaParams {
            spi,
            direction,
            protocol: self.protocol,
            mode: self.mode,
            esn: self.esn,
            replay_window: self.replay_window,
            lifetime: self.lifetime,
            encap: self.encap,
            selectors: self.selectors,
            tunnel: TunnelOptions::default(),
            tfc: TfcPadding::None,
        };
        (
            make(self.inbound_spi, Direction::Inbound),
            make(self.outbound_spi, Direction::Outbound),
        )
    }
}

impl fmt::Debug for ChildSaInstall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildSaInstall")
            .field("child", &self.child)
            .field("ike_sa", &self.ike_sa)
            .field("rekey_of", &self.rekey_of)
            .field("inbound_spi", &self.inbound_spi)
            .field("outbound_spi", &self.outbound_spi)
            .field("protocol", &self.protocol)
            .field("mode", &self.mode)
            .field("encap", &self.encap)
            .field("selectors", &self.selectors)
            .field("outbound_active", &self.outbound_active)
            .finish_non_exhaustive()
    }
}

/// Byte and packet limits of a CHILD SA as the SAD takes them.
pub(crate) fn sad_lifetime(l: &crate::config::ChildLifetime) -> Lifetime {
    Lifetime {
        soft: Limits {
            bytes: l.rekey_bytes,
            packets: l.rekey_packets,
            time: None,
        },
        hard: Limits {
            bytes: l.life_bytes,
            packets: l.life_packets,
            time: None,
        },
    }
}
