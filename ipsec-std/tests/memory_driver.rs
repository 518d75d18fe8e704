//! Two drivers with in-memory packet I/O over loopback UDP (no root): a TCP SYN sent through
//! the tunnel arrives with its MSS clamped to what fits the CHILD SA, the rest unchanged.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ipsec_core::wire::{IpProtocol, Ipv4Repr, transport_checksum};
use ipsec_std::config::Config;
use ipsec_std::config::engine::engine_config;
use ipsec_std::driver::{Driver, DriverOptions};
use ipsec_std::packet_io::PacketIoKind;
use ipsec_std::route::StaticRoutes;
use ipsec_std::udp::UdpConfig;

const SRC: Ipv4Addr = Ipv4Addr::new(192, 168, 10, 10);
const DST: Ipv4Addr = Ipv4Addr::new(192, 168, 20, 20);

fn driver(me: Ipv4Addr, peer: Ipv4Addr, lans: (&str, &str), auto: &str, extra: &str) -> Driver {
    let toml = format!(
        "{extra}[[connection]]\nname = \"t\"\nauto = \"{auto}\"\nike = \"aes256gcm16-prfsha256-x25519!\"\n\
         esp = \"aes256gcm16!\"\n[connection.local]\naddress = \"{me}\"\nsubnets = [\"{}\"]\nauth = \"psk\"\n\
         [connection.remote]\naddress = \"{peer}\"\nsubnets = [\"{}\"]\nauth = \"psk\"\n\
         [[secret]]\ntype = \"psk\"\nsecret = \"memory-driver-test-psk\"\n",
        lans.0, lans.1
    );
    let loaded = Config::from_toml_str(&toml, Path::new("t.toml"), &StaticRoutes::default()).unwrap();
    let mut engine = engine_config(&loaded.config).unwrap();
    for p in &mut Arc::get_mut(&mut engine.endpoint).unwrap().peers {
        p.remote_port = 4500;
    }
    let options = DriverOptions {
        udp: UdpConfig {
            addresses: vec![IpAddr::V4(me)],
            ike_port: 0,
            natt_port: 4500,
        },
        packet_io: PacketIoKind::Memory,
        mss: loaded.config.mss,
        ..DriverOptions::default()
    };
    Driver::new(engine, &options).unwrap()
}

fn pump(a: &mut Driver, b: &mut Driver, mut done: impl FnMut(&mut Driver, &mut Driver) -> bool) {
    let start = Instant::now();
    while !done(a, b) {
        assert!(start.elapsed() < Duration::from_secs(5), "timed out");
        a.step(None, Some(Duration::from_millis(1))).unwrap();
        b.step(None, Some(Duration::from_millis(1))).unwrap();
    }
}

fn syn(mss: u16) -> Vec<u8> {
    let mut tcp = vec![0u8; 24];
    tcp[0..2].copy_from_slice(&40000u16.to_be_bytes());
    tcp[2..4].copy_from_slice(&80u16.to_be_bytes());
    tcp[12] = 6 << 4;
    tcp[13] = 0x02;
    tcp[20..24].copy_from_slice(&[2, 4, mss.to_be_bytes()[0], mss.to_be_bytes()[1]]);
    let sum = transport_checksum(IpAddr::V4(SRC), IpAddr::V4(DST), IpProtocol::TCP, &tcp);
    tcp[16..18].copy_from_slice(&sum.to_be_bytes());
    let mut p = vec![0u8; 20];
    Ipv4Repr {
        src: SRC,
        dst: DST,
        protocol: IpProtocol::TCP,
        payload_len: tcp.len(),
        tos: 0,
        ident: 9,
        dont_fragment: true,
        ttl: 64,
    }
    .emit(&mut p)
    .unwrap();
    p.extend_from_slice(&tcp);
    p
}

/// Sends a SYN with MSS 1460 from A's LAN; returns the packet B delivers.
fn syn_through_tunnel(a_ip: Ipv4Addr, b_ip: Ipv4Addr, driver_table: &str) -> (Vec<u8>, usize) {
    let lans = ("192.168.10.0/24", "192.168.20.0/24");
    let mut a = driver(a_ip, b_ip, lans, "start", driver_table);
    let mut b = driver(b_ip, a_ip, (lans.1, lans.0), "add", driver_table);
    a.start_connections();
    pump(&mut a, &mut b, |a, b| {
        a.children().next().is_some() && b.children().next().is_some()
    });
    let inner_mtu = a.children().next().unwrap().1.inner_mtu;
    a.memory_packets().unwrap().push_outbound(syn(1460));
    let mut got = None;
    pump(&mut a, &mut b, |_, b| {
        got = got.take().or_else(|| b.memory_packets().unwrap().pop_delivered());
        got.is_some()
    });
    a.close_all();
    pump(&mut a, &mut b, |a, b| {
        a.endpoint().ike_sa_count() == 0 && b.endpoint().ike_sa_count() == 0
    });
    (got.unwrap(), inner_mtu)
}

#[test]
fn syn_mss_is_clamped_to_the_tunnel_and_tcp_checksum_stays_valid() {
    // Default: TUN MTU 1400 within a 1500-byte path -> inner MTU 1400, MSS 1360.
    let (p, inner) = syn_through_tunnel(Ipv4Addr::new(127, 0, 31, 1), Ipv4Addr::new(127, 0, 32, 1), "");
    assert_eq!(inner, 1400);
    assert_eq!(u16::from_be_bytes([p[42], p[43]]), 1360);
    assert_eq!(
        transport_checksum(IpAddr::V4(SRC), IpAddr::V4(DST), IpProtocol::TCP, &p[20..]),
        0
    );
    let mut expected = syn(1360);
    expected[36..38].copy_from_slice(&p[36..38]); // checksum, checked above
    assert_eq!(p, expected, "only the MSS and the checksum changed");

    // A 1400-byte path: AES-GCM-256 in UDP over IPv4 leaves 1338 bytes, MSS 1298.
    let (p, inner) = syn_through_tunnel(
        Ipv4Addr::new(127, 0, 33, 1),
        Ipv4Addr::new(127, 0, 34, 1),
        "[driver]\npath_mtu = 1400\n",
    );
    assert_eq!(inner, 1338);
    assert_eq!(u16::from_be_bytes([p[42], p[43]]), 1298);

    // Off: the SYN goes through as it was sent.
    let (p, _) = syn_through_tunnel(
        Ipv4Addr::new(127, 0, 35, 1),
        Ipv4Addr::new(127, 0, 36, 1),
        "[driver]\nmss_clamp = false\n",
    );
    assert_eq!(p, syn(1460));
}
