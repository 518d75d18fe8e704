//! The UDP transport over loopback (unprivileged: ephemeral ports instead of 500/4500).
//!
//! A plain `std` socket plays the peer; the tests check the bytes on the wire in both
//! directions: the non-ESP marker added and removed on the NAT-T socket, ESP and keepalives
//! classified, and the local address reported and chosen through packet info.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::time::Duration;

use ipsec_std::udp::{Datagram, SocketRole, UdpConfig, UdpError, UdpTransport};

const WAIT: Option<Duration> = Some(Duration::from_secs(5));

fn transport(addr: IpAddr) -> UdpTransport {
    UdpTransport::bind(&UdpConfig {
        addresses: vec![addr],
        ike_port: 0,
        natt_port: 0,
    })
    .unwrap()
}

fn peer(addr: &str) -> UdpSocket {
    let s = UdpSocket::bind(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

fn ports(t: &UdpTransport, ipv6: bool) -> (SocketAddr, SocketAddr) {
    (
        t.local_addr(SocketRole::Ike, ipv6).unwrap(),
        t.local_addr(SocketRole::Natt, ipv6).unwrap(),
    )
}

/// A plausible IKE_SA_INIT header (RFC 7296 §3.1): SPIi, zero SPIr, next payload SA, v2.0,
/// IKE_SA_INIT, flags I, message ID 0, length 28.
fn ike_header() -> Vec<u8> {
    let mut m = vec![0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88];
    m.extend([0; 8]);
    m.extend([33, 0x20, 34, 0x08, 0, 0, 0, 0, 0, 0, 0, 28]);
    m
}

#[test]
fn ike_on_500_is_delivered_whole_with_both_addresses() {
    let t = transport(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let (ike, _) = ports(&t, false);
    let p = peer("127.0.0.1:0");
    let msg = ike_header();
    p.send_to(&msg, ike).unwrap();
    let mut buf = vec![0u8; 65535];
    let r = t.recv(&mut buf, WAIT).unwrap().expect("a datagram");
    assert_eq!(r.role, SocketRole::Ike);
    assert_eq!(r.remote, p.local_addr().unwrap());
    assert_eq!(r.local, ike);
    assert_eq!(r.len, msg.len());
    let Datagram::Ike(range) = r.datagram else {
        panic!("{r:?}")
    };
    assert_eq!(&buf[range], &msg[..]);
}

#[test]
fn natt_socket_strips_the_marker_and_classifies_esp_and_keepalives() {
    let t = transport(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let (_, natt) = ports(&t, false);
    let p = peer("127.0.0.1:0");
    let mut buf = vec![0u8; 65535];

    let msg = ike_header();
    let mut framed = vec![0, 0, 0, 0];
    framed.extend(&msg);
    p.send_to(&framed, natt).unwrap();
    let r = t.recv(&mut buf, WAIT).unwrap().unwrap();
    assert_eq!((r.role, r.local, r.len), (SocketRole::Natt, natt, framed.len()));
    let Datagram::Ike(range) = r.datagram else {
        panic!("{r:?}")
    };
    assert_eq!(range.start, 4);
    assert_eq!(&buf[range], &msg[..]);

    let esp = [0xc0, 0xff, 0xee, 0x01, 0, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef];
    p.send_to(&esp, natt).unwrap();
    let r = t.recv(&mut buf, WAIT).unwrap().unwrap();
    let Datagram::Esp(range) = r.datagram else {
        panic!("{r:?}")
    };
    assert_eq!(&buf[range], &esp[..]);

    p.send_to(&[0xff], natt).unwrap();
    assert_eq!(
        t.recv(&mut buf, WAIT).unwrap().unwrap().datagram,
        Datagram::Keepalive
    );

    // Neither keepalive, marker + IKE, nor long enough for ESP: dropped with a typed error.
    p.send_to(&[1, 2, 3], natt).unwrap();
    let e = t.recv(&mut buf, WAIT).unwrap_err();
    assert!(
        matches!(e, UdpError::Malformed { remote, .. } if remote == p.local_addr().unwrap()),
        "{e}"
    );
    assert!(e.is_per_datagram());
}

#[test]
fn sending_adds_the_marker_only_on_4500() {
    let t = transport(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let (ike, natt) = ports(&t, false);
    let p = peer("127.0.0.1:0");
    let to = p.local_addr().unwrap();
    let msg = ike_header();
    let mut got = [0u8; 2048];

    t.send_ike(ike, to, false, &msg).unwrap();
    let (n, from) = p.recv_from(&mut got).unwrap();
    assert_eq!(from, ike);
    assert_eq!(&got[..n], &msg[..]);

    t.send_ike(natt, to, true, &msg).unwrap();
    let (n, from) = p.recv_from(&mut got).unwrap();
    assert_eq!(from, natt);
    assert_eq!(&got[..4], &[0, 0, 0, 0]);
    assert_eq!(&got[4..n], &msg[..]);

    let esp = [0, 0, 0x10, 0x01, 0, 0, 0, 7, 1, 2, 3];
    t.send_esp(natt.ip(), to, &esp).unwrap();
    let (n, from) = p.recv_from(&mut got).unwrap();
    assert_eq!((from, &got[..n]), (natt, &esp[..]));

    t.send_keepalive(natt.ip(), to).unwrap();
    let (n, from) = p.recv_from(&mut got).unwrap();
    assert_eq!((from, &got[..n]), (natt, &[0xffu8][..]));
}

#[test]
fn oversized_datagrams_are_reported_not_cut() {
    let t = transport(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let (ike, _) = ports(&t, false);
    let p = peer("127.0.0.1:0");
    p.send_to(&[7u8; 300], ike).unwrap();
    let mut small = [0u8; 100];
    let e = t.recv(&mut small, WAIT).unwrap_err();
    assert!(matches!(e, UdpError::Truncated { capacity: 100, .. }), "{e}");
    // The next datagram is received normally.
    p.send_to(&[8u8; 50], ike).unwrap();
    let r = t.recv(&mut small, WAIT).unwrap().unwrap();
    assert_eq!(r.len, 50);
}

#[test]
fn nothing_to_receive_times_out_with_none() {
    let t = transport(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let mut buf = [0u8; 64];
    assert!(
        t.recv(&mut buf, Some(Duration::from_millis(20)))
            .unwrap()
            .is_none()
    );
}

#[test]
fn wildcard_socket_reports_and_uses_the_real_local_address() {
    // 127.0.0.2 is loopback too (127/8 is routed to `lo`), but not the address we bound.
    let t = transport(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let (ike, natt) = ports(&t, false);
    let p = peer("127.0.0.1:0");
    let target = SocketAddr::new("127.0.0.2".parse().unwrap(), ike.port());
    p.send_to(&ike_header(), target).unwrap();
    let mut buf = vec![0u8; 4096];
    let r = t.recv(&mut buf, WAIT).unwrap().unwrap();
    assert_eq!(r.local, target, "IP_PKTINFO gives the destination address");

    // Answering from that address: the source is set per datagram.
    t.send_ike(r.local, r.remote, false, b"reply").unwrap();
    let mut got = [0u8; 64];
    let (n, from) = p.recv_from(&mut got).unwrap();
    assert_eq!((from, &got[..n]), (target, &b"reply"[..]));

    let from3 = SocketAddr::new("127.0.0.3".parse().unwrap(), natt.port());
    t.send_esp(from3.ip(), p.local_addr().unwrap(), &[0, 0, 0, 1, 0, 0, 0, 1])
        .unwrap();
    let (_, from) = p.recv_from(&mut got).unwrap();
    assert_eq!(from, from3);
}

#[test]
fn ipv6_loopback_works_the_same() {
    let t = transport(IpAddr::V6(Ipv6Addr::LOCALHOST));
    let (ike, natt) = ports(&t, true);
    assert!(t.local_addr(SocketRole::Ike, false).is_none());
    let p = peer("[::1]:0");
    let mut buf = vec![0u8; 4096];
    let mut framed = vec![0, 0, 0, 0];
    framed.extend(ike_header());
    p.send_to(&framed, natt).unwrap();
    let r = t.recv(&mut buf, WAIT).unwrap().unwrap();
    assert_eq!((r.local, r.remote), (natt, p.local_addr().unwrap()));
    assert!(matches!(r.datagram, Datagram::Ike(ref range) if range.start == 4));

    t.send_ike(ike, p.local_addr().unwrap(), false, b"v6").unwrap();
    let mut got = [0u8; 16];
    let (n, from) = p.recv_from(&mut got).unwrap();
    assert_eq!((from, &got[..n]), (ike, &b"v6"[..]));

    // No IPv4 socket: sending to an IPv4 peer is a clear error.
    let e = t
        .send_esp(
            IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            "127.0.0.1:9".parse().unwrap(),
            &[0; 8],
        )
        .unwrap_err();
    assert!(
        matches!(
            e,
            UdpError::NoSocket {
                role: SocketRole::Natt,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn both_families_side_by_side() {
    let t = UdpTransport::bind(&UdpConfig {
        addresses: vec![IpAddr::V4(Ipv4Addr::LOCALHOST), IpAddr::V6(Ipv6Addr::LOCALHOST)],
        ike_port: 0,
        natt_port: 0,
    })
    .unwrap();
    let socks: Vec<_> = t.sockets().collect();
    assert_eq!(socks.len(), 4);
    assert_eq!(t.fds().len(), 4);
    let roles: Vec<_> = socks.iter().map(|s| (s.role, s.local.is_ipv6())).collect();
    assert_eq!(
        roles,
        [
            (SocketRole::Ike, false),
            (SocketRole::Natt, false),
            (SocketRole::Ike, true),
            (SocketRole::Natt, true)
        ]
    );
}

#[test]
fn binding_a_taken_port_names_the_address() {
    let taken = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let e = UdpTransport::bind(&UdpConfig {
        addresses: vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
        ike_port: port,
        natt_port: 0,
    })
    .unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains(&format!("127.0.0.1:{port}")) && text.contains("bind"),
        "{text}"
    );
}
