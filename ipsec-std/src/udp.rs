//! The UDP transport: IKE on port 500, IKE and ESP-in-UDP on port 4500 (RFC 7296 §2.23,
//! RFC 3948), over IPv4 and IPv6.
//!
//! # Sockets
//! [`UdpTransport::bind`] opens one socket per (address, role): by default the IPv4 and IPv6
//! wildcards, each on 500 ([`SocketRole::Ike`]) and 4500 ([`SocketRole::Natt`]). IPv6 sockets
//! are `IPV6_V6ONLY`, so an IPv4 peer is always seen as IPv4 (never as `::ffff:a.b.c.d`). All
//! sockets are non-blocking; wait for them with [`UdpTransport::recv`] or with
//! [`crate::wait::wait_readable`] over [`UdpTransport::fds`] together with the TUN device.
//!
//! # Local address
//! A gateway with several addresses must answer from the address the peer wrote to, and the IKE
//! engine needs it for NAT detection (RFC 7296 §2.23). Every socket asks the kernel for the
//! destination address of each datagram (`IP_PKTINFO`, `IPV6_RECVPKTINFO`), reported as
//! [`Received::local`]; sending sets the source address the same way (`IP_PKTINFO` /
//! `IPV6_PKTINFO` control messages), so a wildcard socket can still answer from the right one.
//!
//! # Framing
//! - Port 500: every datagram is an IKE message (no marker).
//! - Port 4500 (RFC 3948 §2): `0xFF` alone is a NAT keepalive; four zero bytes (the non-ESP
//!   marker) precede an IKE message; anything else is ESP starting with its SPI. Receiving
//!   classifies with [`ipsec_core::wire::classify_4500`]; [`UdpTransport::send_ike`] adds the
//!   marker when it sends on 4500 (without copying the message).
//!
//! The sockets are plain UDP: no `UDP_ENCAP` option, so the kernel hands ESP-in-UDP to us
//! instead of to its own IPsec stack.

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6, UdpSocket};
use std::ops::Range;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::time::Duration;

use ipsec_core::wire::{self, NON_ESP_MARKER, NattDatagram, classify_4500};
use nix::errno::Errno;
use nix::libc;
use nix::sys::socket::{
    AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags, SockFlag, SockType, SockaddrStorage, bind,
    recvmsg, sendmsg, setsockopt, socket, sockopt,
};

use crate::wait::wait_readable;

/// The IKE port (RFC 7296 §2).
pub const IKE_PORT: u16 = 500;
/// The NAT traversal port for IKE and ESP-in-UDP (RFC 3948 §1, RFC 7296 §2.23).
pub const NATT_PORT: u16 = 4500;
/// The NAT keepalive payload (RFC 3948 §2.3).
pub const NAT_KEEPALIVE: [u8; 1] = [0xff];

/// What a socket carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SocketRole {
    /// Port 500: IKE messages only, no marker.
    Ike,
    /// Port 4500: IKE behind the non-ESP marker, ESP-in-UDP, NAT keepalives (RFC 3948).
    Natt,
}

/// Where [`UdpTransport::bind`] listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UdpConfig {
    /// Local addresses to bind; each gets an IKE and a NAT-T socket. Default: `0.0.0.0` and
    /// `::`. A wildcard still reports the real destination address of each datagram.
    pub addresses: Vec<IpAddr>,
    /// Port of the [`SocketRole::Ike`] sockets (default 500; 0 picks a free port, for tests).
    pub ike_port: u16,
    /// Port of the [`SocketRole::Natt`] sockets (default 4500; 0 picks a free port).
    pub natt_port: u16,
}

impl Default for UdpConfig {
    fn default() -> Self {
        Self {
            addresses: vec![
                IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            ],
            ike_port: IKE_PORT,
            natt_port: NATT_PORT,
        }
    }
}

/// Identifies one socket of a [`UdpTransport`] (its index in [`UdpTransport::sockets`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SocketId(pub usize);

/// One bound socket, as listed by [`UdpTransport::sockets`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SocketInfo {
    /// Its id.
    pub id: SocketId,
    /// Its role.
    pub role: SocketRole,
    /// The address and port it is bound to (the port the kernel chose if 0 was configured).
    pub local: SocketAddr,
}

/// What a received datagram carries; ranges index the caller's receive buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Datagram {
    /// An IKE message at `buf[range]` (after the non-ESP marker on port 4500).
    Ike(Range<usize>),
    /// An ESP packet at `buf[range]`, starting with its SPI (port 4500 only).
    Esp(Range<usize>),
    /// A NAT keepalive (RFC 3948 §2.3); nothing to process.
    Keepalive,
}

/// A datagram taken from a socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    /// The socket it arrived on.
    pub socket: SocketId,
    /// That socket's role; [`SocketRole::Natt`] means UDP-encapsulated (RFC 3948).
    pub role: SocketRole,
    /// The sender.
    pub remote: SocketAddr,
    /// The address the datagram was sent to (from `IP_PKTINFO`/`IPV6_PKTINFO`) and our port.
    pub local: SocketAddr,
    /// Total UDP payload length in the buffer.
    pub len: usize,
    /// The classified payload.
    pub datagram: Datagram,
}

/// Errors of the UDP transport.
#[derive(Debug)]
#[non_exhaustive]
pub enum UdpError {
    /// Creating, configuring or binding a socket failed.
    Bind {
        /// The address the socket was to be bound to.
        addr: SocketAddr,
        /// The step that failed.
        step: &'static str,
        /// The OS error.
        source: io::Error,
    },
    /// Receiving or sending failed.
    Io {
        /// The operation.
        op: &'static str,
        /// The OS error.
        source: io::Error,
    },
    /// No bound socket can send to that address family with that role.
    NoSocket {
        /// The role needed.
        role: SocketRole,
        /// The destination.
        remote: SocketAddr,
    },
    /// A datagram did not fit the receive buffer and was dropped.
    Truncated {
        /// The sender.
        remote: SocketAddr,
        /// The buffer size.
        capacity: usize,
    },
    /// A datagram was none of IKE, ESP or keepalive (RFC 3948 §2) and was dropped.
    Malformed {
        /// The sender.
        remote: SocketAddr,
        /// Why.
        reason: wire::Error,
    },
    /// The kernel sent fewer bytes than the datagram has.
    ShortSend {
        /// Bytes sent.
        sent: usize,
        /// Bytes in the datagram.
        expected: usize,
    },
}

impl fmt::Display for UdpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bind { addr, step, source } => write!(f, "UDP socket on {addr}: {step} failed: {source}"),
            Self::Io { op, source } => write!(f, "UDP {op} failed: {source}"),
            Self::NoSocket { role, remote } => write!(f, "no {role:?} socket for sending to {remote}"),
            Self::Truncated { remote, capacity } => {
                write!(
                    f,
                    "datagram from {remote} larger than the {capacity}-byte buffer, dropped"
                )
            }
            Self::Malformed { remote, reason } => write!(f, "malformed datagram from {remote}: {reason}"),
            Self::ShortSend { sent, expected } => write!(f, "short UDP send: {sent} of {expected} bytes"),
        }
    }
}

impl std::error::Error for UdpError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Bind { source, .. } | Self::Io { source, .. } => Some(source),
            Self::Malformed { reason, .. } => Some(reason),
            _ => None,
        }
    }
}

impl UdpError {
    /// True for errors that concern one datagram only (drop it, count it, carry on).
    #[must_use]
    pub fn is_per_datagram(&self) -> bool {
        matches!(self, Self::Truncated { .. } | Self::Malformed { .. })
    }
}

/// Classifies a UDP payload received on a socket of `role` (RFC 3948 §2).
///
/// # Errors
/// On port 500, an empty datagram; on port 4500, whatever
/// [`ipsec_core::wire::classify_4500`] rejects (too short for ESP and not a keepalive, or a
/// marker with nothing after it).
pub fn classify(role: SocketRole, payload: &[u8]) -> Result<Datagram, wire::Error> {
    match role {
        SocketRole::Ike if payload.is_empty() => Err(wire::Error::Truncated { what: "IKE message" }),
        SocketRole::Ike => Ok(Datagram::Ike(0..payload.len())),
        SocketRole::Natt => Ok(match classify_4500(payload)? {
            NattDatagram::Keepalive => Datagram::Keepalive,
            NattDatagram::Ike(_) => Datagram::Ike(NON_ESP_MARKER.len()..payload.len()),
            NattDatagram::Esp(_) => Datagram::Esp(0..payload.len()),
        }),
    }
}

/// IKE and NAT-T sockets on every configured address. See the module docs.
#[derive(Debug)]
pub struct UdpTransport {
    sockets: Vec<Bound>,
}

#[derive(Debug)]
struct Bound {
    role: SocketRole,
    local: SocketAddr,
    socket: UdpSocket,
}

impl UdpTransport {
    /// Opens and binds the sockets `config` asks for.
    ///
    /// # Errors
    /// [`UdpError::Bind`] naming the address and step that failed (ports 500 and 4500 need
    /// root or `CAP_NET_BIND_SERVICE`; `EADDRINUSE` if another IKE daemon runs).
    pub fn bind(config: &UdpConfig) -> Result<Self, UdpError> {
        let mut sockets = Vec::with_capacity(config.addresses.len().saturating_mul(2));
        for &ip in &config.addresses {
            for (role, port) in [
                (SocketRole::Ike, config.ike_port),
                (SocketRole::Natt, config.natt_port),
            ] {
                let (socket, local) = open(SocketAddr::new(ip, port))?;
                sockets.push(Bound { role, local, socket });
            }
        }
        Ok(Self { sockets })
    }

    /// The bound sockets.
    pub fn sockets(&self) -> impl Iterator<Item = SocketInfo> + '_ {
        self.sockets.iter().enumerate().map(|(i, b)| SocketInfo {
            id: SocketId(i),
            role: b.role,
            local: b.local,
        })
    }

    /// The first socket of `role` bound to an address of `ip`'s family.
    #[must_use]
    pub fn local_addr(&self, role: SocketRole, ipv6: bool) -> Option<SocketAddr> {
        self.sockets
            .iter()
            .find(|b| b.role == role && b.local.is_ipv6() == ipv6)
            .map(|b| b.local)
    }

    /// The descriptors to wait on, in [`SocketId`] order.
    #[must_use]
    pub fn fds(&self) -> Vec<BorrowedFd<'_>> {
        self.sockets.iter().map(|b| b.socket.as_fd()).collect()
    }

    /// Takes one datagram from socket `id` into `buf`, if one is waiting.
    ///
    /// Returns `Ok(None)` when the socket has nothing (it is non-blocking). Use a buffer of at
    /// least 65 535 bytes to receive every datagram whole.
    ///
    /// # Errors
    /// Per datagram (drop, count, continue; see [`UdpError::is_per_datagram`]):
    /// [`UdpError::Truncated`], [`UdpError::Malformed`]. Otherwise [`UdpError::Io`], or
    /// [`UdpError::NoSocket`] for an unknown id.
    pub fn recv_from(&self, id: SocketId, buf: &mut [u8]) -> Result<Option<Received>, UdpError> {
        let bound = self.sockets.get(id.0).ok_or(UdpError::NoSocket {
            role: SocketRole::Ike,
            remote: SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
        })?;
        let capacity = buf.len();
        let Some((len, remote, local_ip)) = receive(&bound.socket, buf)? else {
            return Ok(None);
        };
        if len > capacity {
            return Err(UdpError::Truncated { remote, capacity });
        }
        let payload = buf.get(..len).unwrap_or_default();
        let datagram =
            classify(bound.role, payload).map_err(|reason| UdpError::Malformed { remote, reason })?;
        let local = SocketAddr::new(local_ip.unwrap_or(bound.local.ip()), bound.local.port());
        Ok(Some(Received {
            socket: id,
            role: bound.role,
            remote,
            local,
            len,
            datagram,
        }))
    }

    /// Waits up to `timeout` (`None`: forever) for a datagram on any socket and returns it.
    ///
    /// Returns `Ok(None)` after the timeout or an interrupting signal. Convenient for tests and
    /// simple loops; a driver that also waits for TUN uses [`Self::fds`] and [`Self::recv_from`].
    ///
    /// # Errors
    /// As [`Self::recv_from`], plus [`UdpError::Io`] if waiting fails.
    pub fn recv(&self, buf: &mut [u8], timeout: Option<Duration>) -> Result<Option<Received>, UdpError> {
        for (i, _) in self.sockets.iter().enumerate() {
            if let Some(r) = self.recv_from(SocketId(i), buf)? {
                return Ok(Some(r));
            }
        }
        let fds = self.fds();
        let mut ready = vec![false; fds.len()];
        wait_readable(&fds, &mut ready, timeout).map_err(|source| UdpError::Io { op: "poll", source })?;
        for (i, r) in ready.iter().enumerate() {
            if *r {
                if let Some(got) = self.recv_from(SocketId(i), buf)? {
                    return Ok(Some(got));
                }
            }
        }
        Ok(None)
    }

    /// Sends an IKE message from `local` to `remote`; on port 4500 (`encap`) behind the non-ESP
    /// marker (RFC 3948 §2.2).
    ///
    /// `local` picks the socket (role from `encap`, family and address from `local`) and, when
    /// its address is specified, the source address of the datagram.
    ///
    /// # Errors
    /// [`UdpError::NoSocket`] if no socket fits; [`UdpError::Io`] / [`UdpError::ShortSend`].
    pub fn send_ike(
        &self,
        local: SocketAddr,
        remote: SocketAddr,
        encap: bool,
        msg: &[u8],
    ) -> Result<(), UdpError> {
        if encap {
            self.send(SocketRole::Natt, local.ip(), remote, &[&NON_ESP_MARKER, msg])
        } else {
            self.send(SocketRole::Ike, local.ip(), remote, &[msg])
        }
    }

    /// Sends a UDP-encapsulated ESP packet (RFC 3948 §2.1) from port 4500 of `local` (the
    /// unspecified address lets the kernel choose).
    ///
    /// # Errors
    /// As [`Self::send_ike`].
    pub fn send_esp(&self, local: IpAddr, remote: SocketAddr, packet: &[u8]) -> Result<(), UdpError> {
        self.send(SocketRole::Natt, local, remote, &[packet])
    }

    /// Sends a NAT keepalive (RFC 3948 §2.3) from port 4500 of `local`.
    ///
    /// # Errors
    /// As [`Self::send_ike`].
    pub fn send_keepalive(&self, local: IpAddr, remote: SocketAddr) -> Result<(), UdpError> {
        self.send(SocketRole::Natt, local, remote, &[&NAT_KEEPALIVE])
    }

    fn pick(&self, role: SocketRole, local: IpAddr, remote: SocketAddr) -> Option<&Bound> {
        let fits = |b: &&Bound| b.role == role && b.local.is_ipv6() == remote.is_ipv6();
        // A socket bound to exactly that address, else a wildcard of the family.
        self.sockets
            .iter()
            .filter(fits)
            .find(|b| b.local.ip() == local)
            .or_else(|| {
                self.sockets
                    .iter()
                    .filter(fits)
                    .find(|b| b.local.ip().is_unspecified())
            })
    }

    fn send(
        &self,
        role: SocketRole,
        local: IpAddr,
        remote: SocketAddr,
        parts: &[&[u8]],
    ) -> Result<(), UdpError> {
        let bound = self
            .pick(role, local, remote)
            .ok_or(UdpError::NoSocket { role, remote })?;
        let iov: Vec<IoSlice<'_>> = parts.iter().map(|p| IoSlice::new(p)).collect();
        let expected = parts.iter().map(|p| p.len()).fold(0usize, usize::saturating_add);
        // Choose the source address only where the socket does not fix it already.
        let source = if bound.local.ip().is_unspecified() && !local.is_unspecified() {
            Some(local)
        } else {
            None
        };
        let dst = SockaddrStorage::from(remote);
        let v4info;
        let v6info;
        let cmsgs: Vec<ControlMessage<'_>> = match source {
            Some(IpAddr::V4(ip)) => {
                v4info = libc::in_pktinfo {
                    ipi_ifindex: 0,
                    ipi_spec_dst: libc::in_addr {
                        s_addr: u32::from_ne_bytes(ip.octets()),
                    },
                    ipi_addr: libc::in_addr { s_addr: 0 },
                };
                vec![ControlMessage::Ipv4PacketInfo(&v4info)]
            }
            Some(IpAddr::V6(ip)) => {
                v6info = libc::in6_pktinfo {
                    ipi6_addr: libc::in6_addr { s6_addr: ip.octets() },
                    ipi6_ifindex: 0,
                };
                vec![ControlMessage::Ipv6PacketInfo(&v6info)]
            }
            None => Vec::new(),
        };
        let sent = sendmsg(
            bound.socket.as_raw_fd(),
            &iov,
            &cmsgs,
            MsgFlags::empty(),
            Some(&dst),
        )
        .map_err(|e| UdpError::Io {
            op: "sendmsg",
            source: io::Error::from(e),
        })?;
        if sent == expected {
            Ok(())
        } else {
            Err(UdpError::ShortSend { sent, expected })
        }
    }
}

/// Control-message space for one `in6_pktinfo` (the larger of the two), aligned for `cmsghdr`.
#[repr(C, align(8))]
struct CmsgBuf([u8; 64]);

/// One `recvmsg`: (UDP payload length, sender, destination address), `None` if nothing waits.
fn receive(
    socket: &UdpSocket,
    buf: &mut [u8],
) -> Result<Option<(usize, SocketAddr, Option<IpAddr>)>, UdpError> {
    let mut cmsg = CmsgBuf([0; 64]);
    let mut iov = [IoSliceMut::new(buf)];
    // MSG_TRUNC makes the kernel report the datagram's real length, so truncation is detected.
    let msg = match recvmsg::<SockaddrStorage>(
        socket.as_raw_fd(),
        &mut iov,
        Some(&mut cmsg.0),
        MsgFlags::MSG_TRUNC,
    ) {
        Ok(m) => m,
        Err(Errno::EAGAIN | Errno::EINTR) => return Ok(None),
        Err(e) => {
            return Err(UdpError::Io {
                op: "recvmsg",
                source: io::Error::from(e),
            });
        }
    };
    let remote = msg
        .address
        .as_ref()
        .and_then(to_socket_addr)
        .ok_or_else(|| UdpError::Io {
            op: "recvmsg",
            source: io::Error::new(
                io::ErrorKind::InvalidData,
                "datagram without an IP sender address",
            ),
        })?;
    let mut local = None;
    if let Ok(cmsgs) = msg.cmsgs() {
        for c in cmsgs {
            match c {
                ControlMessageOwned::Ipv4PacketInfo(info) => {
                    local = Some(IpAddr::V4(Ipv4Addr::from(info.ipi_addr.s_addr.to_ne_bytes())));
                }
                ControlMessageOwned::Ipv6PacketInfo(info) => {
                    local = Some(IpAddr::V6(Ipv6Addr::from(info.ipi6_addr.s6_addr)));
                }
                _ => {}
            }
        }
    }
    Ok(Some((msg.bytes, remote, local)))
}

fn to_socket_addr(a: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = a.as_sockaddr_in() {
        return Some(SocketAddr::from(*v4));
    }
    a.as_sockaddr_in6()
        .map(|v6| SocketAddr::V6(SocketAddrV6::from(*v6)))
}

/// Creates a non-blocking UDP socket with packet info enabled and binds it.
fn open(addr: SocketAddr) -> Result<(UdpSocket, SocketAddr), UdpError> {
    let fail = |step| {
        move |e: Errno| UdpError::Bind {
            addr,
            step,
            source: io::Error::from(e),
        }
    };
    let family = if addr.is_ipv6() {
        AddressFamily::Inet6
    } else {
        AddressFamily::Inet
    };
    let fd: OwnedFd = socket(
        family,
        SockType::Datagram,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(fail("socket"))?;
    if addr.is_ipv6() {
        setsockopt(&fd, sockopt::Ipv6V6Only, &true).map_err(fail("IPV6_V6ONLY"))?;
        setsockopt(&fd, sockopt::Ipv6RecvPacketInfo, &true).map_err(fail("IPV6_RECVPKTINFO"))?;
    } else {
        setsockopt(&fd, sockopt::Ipv4PacketInfo, &true).map_err(fail("IP_PKTINFO"))?;
    }
    bind(fd.as_raw_fd(), &SockaddrStorage::from(addr)).map_err(fail("bind"))?;
    let socket = UdpSocket::from(fd);
    let local = socket.local_addr().map_err(|source| UdpError::Bind {
        addr,
        step: "getsockname",
        source,
    })?;
    Ok((socket, local))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_500_carries_ike_only() {
        assert_eq!(classify(SocketRole::Ike, &[1, 2, 3]), Ok(Datagram::Ike(0..3)));
        // Four zero bytes on 500 are the start of an IKE header, not a marker.
        assert_eq!(
            classify(SocketRole::Ike, &[0, 0, 0, 0, 9]),
            Ok(Datagram::Ike(0..5))
        );
        assert_eq!(classify(SocketRole::Ike, &[0xff]), Ok(Datagram::Ike(0..1)));
        assert!(classify(SocketRole::Ike, &[]).is_err());
    }

    #[test]
    fn port_4500_separates_ike_esp_and_keepalives() {
        assert_eq!(classify(SocketRole::Natt, &[0xff]), Ok(Datagram::Keepalive));
        assert_eq!(
            classify(SocketRole::Natt, &[0, 0, 0, 0, 7, 7]),
            Ok(Datagram::Ike(4..6))
        );
        let esp = [0, 0, 1, 0, 0, 0, 0, 1, 0xaa];
        assert_eq!(classify(SocketRole::Natt, &esp), Ok(Datagram::Esp(0..9)));
        assert!(matches!(
            classify(SocketRole::Natt, &[1, 2, 3]),
            Err(wire::Error::Truncated { .. })
        ));
        assert!(classify(SocketRole::Natt, &[0, 0, 0, 0]).is_err());
        assert!(classify(SocketRole::Natt, &[]).is_err());
    }

    #[test]
    fn default_config_is_both_families_on_500_and_4500() {
        let c = UdpConfig::default();
        assert_eq!(c.ike_port, 500);
        assert_eq!(c.natt_port, 4500);
        assert_eq!(c.addresses.len(), 2);
        assert!(c.addresses.iter().all(IpAddr::is_unspecified));
    }

    #[test]
    fn errors_say_what_happened() {
        let remote: SocketAddr = "127.0.0.1:4500".parse().unwrap();
        let e = UdpError::Malformed {
            remote,
            reason: wire::Error::Truncated {
                what: "ESP-in-UDP packet",
            },
        };
        assert!(e.is_per_datagram());
        assert!(e.to_string().contains("127.0.0.1:4500"), "{e}");
        let e = UdpError::NoSocket {
            role: SocketRole::Natt,
            remote,
        };
        assert!(!e.is_per_datagram());
        assert!(e.to_string().contains("Natt"), "{e}");
    }
}
