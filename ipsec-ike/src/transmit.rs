//! Datagrams the engine asks its driver to send (STYLE §2 `poll_transmit`).

use alloc::vec::Vec;
use core::net::SocketAddr;

use ipsec_core::wire::NON_ESP_MARKER;

/// How the UDP payload of a [`Transmit`] is framed (RFC 3948 §2).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encapsulation {
    /// A plain IKE message (port 500, or the peer's non-4500 port).
    Plain,
    /// An IKE message behind the 4-byte zero non-ESP marker (port 4500, RFC 3948 §2.2); the
    /// marker is already at the start of [`Transmit::payload`].
    NonEspMarker,
    /// A NAT keepalive: the single byte 0xff (RFC 3948 §2.3).
    NatKeepalive,
}

/// One UDP datagram to send.
#[must_use]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// Destination.
    pub remote: SocketAddr,
    /// Source: the local address and port to send from (the IP may be unspecified before the
    /// first datagram arrived: the driver then chooses).
    pub local: SocketAddr,
    /// What the payload is.
    pub encap: Encapsulation,
    /// The complete UDP payload, marker included.
    pub payload: Vec<u8>,
}

impl Transmit {
    /// The IKE message inside (without the non-ESP marker); empty for a keepalive.
    #[must_use]
    pub fn ike_message(&self) -> &[u8] {
        match self.encap {
            Encapsulation::Plain => &self.payload,
            Encapsulation::NonEspMarker => self.payload.get(NON_ESP_MARKER.len()..).unwrap_or(&[]),
            Encapsulation::NatKeepalive => &[],
        }
    }

    /// An IKE message from `local` to `remote`, framed for the local port (4500: marker).
    pub(crate) fn ike(local: SocketAddr, remote: SocketAddr, message: &[u8]) -> Self {
        if local.port() == NATT_PORT || remote.port() == NATT_PORT {
            let mut payload = Vec::with_capacity(message.len().saturating_add(4));
            payload.extend_from_slice(&NON_ESP_MARKER);
            payload.extend_from_slice(message);
            Self {
                remote,
                local,
                encap: Encapsulation::NonEspMarker,
                payload,
            }
        } else {
            Self {
                remote,
                local,
                encap: Encapsulation::Plain,
                payload: message.to_vec(),
            }
        }
    }
}

/// The IKE port (RFC 7296 §2).
pub const IKE_PORT: u16 = 500;
/// The NAT traversal port (RFC 3948, RFC 7296 §2.23).
pub const NATT_PORT: u16 = 4500;
