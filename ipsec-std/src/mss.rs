//! TCP MSS clamping in the driver (RFC 4459 §3.2, RFC 9293 §3.7.1), on top of
//! [`ipsec_core::mss::clamp_mss`].
//!
//! Every TCP SYN and SYN-ACK that enters the tunnel (read from the TUN device) or leaves it
//! (decrypted) gets its MSS option lowered to what fits the CHILD SA: the inner MTU is the smaller
//! of the TUN MTU and the largest inner packet the outbound SA can carry within
//! [`MssClamping::path_mtu`] once ESP, UDP encapsulation and the outer IP header are added
//! (the SA's exact overhead, [`ipsec_core::Sad::max_inner_len`]); the MSS is that minus the inner
//! IP and TCP headers. This is what strongSwan users set up by hand with
//! `iptables -t mangle ... -j TCPMSS --set-mss` next to `kernel-libipsec`; here it is on by
//! default. Packets that are not TCP SYNs, fragments, and malformed TCP options are forwarded
//! unchanged (`clamp_mss` never half-modifies a packet).

use ipsec_core::mss::{MssClamp, clamp_mss, mss_for_mtu};

/// The path MTU assumed when none is configured: Ethernet.
pub const DEFAULT_PATH_MTU: u16 = 1500;

/// MSS clamping settings (TOML: `mss_clamp` and `path_mtu` in the `[driver]` table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MssClamping {
    /// Whether SYNs are clamped at all (default: yes).
    pub enabled: bool,
    /// The MTU of the path the ESP-in-UDP packets take (default 1500).
    pub path_mtu: u16,
}

impl Default for MssClamping {
    fn default() -> Self {
        Self {
            enabled: true,
            path_mtu: DEFAULT_PATH_MTU,
        }
    }
}

impl MssClamping {
    /// The inner MTU of a CHILD SA: the TUN MTU, lowered to `max_inner` (the largest inner packet
    /// the outbound SA fits into [`Self::path_mtu`], from [`ipsec_core::Sad::max_inner_len`]).
    #[must_use]
    pub fn inner_mtu(&self, max_inner: Option<usize>, tun_mtu: u16) -> usize {
        let tun = usize::from(tun_mtu);
        max_inner.map_or(tun, |m| m.min(tun))
    }

    /// The MSS a SYN may carry through a tunnel whose inner MTU is `inner_mtu`.
    #[must_use]
    pub fn max_mss(&self, inner_mtu: usize, ipv6: bool) -> u16 {
        mss_for_mtu(inner_mtu, ipv6)
    }

    /// Clamps `packet` (an inner IPv4 or IPv6 packet) if it is a TCP SYN; returns what was done
    /// (`None` when clamping is off or the packet is malformed: it is then left as it is).
    pub fn clamp(&self, packet: &mut [u8], inner_mtu: usize) -> Option<MssClamp> {
        if !self.enabled {
            return None;
        }
        let ipv6 = packet.first().is_some_and(|b| b >> 4 == 6);
        let result = clamp_mss(packet, self.max_mss(inner_mtu, ipv6)).ok()?;
        if let MssClamp::Clamped { from, to } = result {
            tracing::trace!(from, to, "TCP MSS clamped");
        }
        Some(result)
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use ipsec_core::lifetime::{Lifetime, Limits};
    use ipsec_core::sa::{
        Direction, Mode, SaParams, SecurityProtocol, Spi, TfcPadding, TunnelOptions, UdpEncap,
    };
    use ipsec_core::selector::{AddrRange, SelectorSet, TrafficSelector};
    use ipsec_core::transform::{AesKeyLen, EspAlgorithm, KeyMaterial};
    use ipsec_core::wire::{IpProtocol, Ipv4Repr, transport_checksum};

    use super::*;
    use crate::driver::DriverSad;
    use crate::random::OsEntropy;

    const SRC: Ipv4Addr = Ipv4Addr::new(192, 168, 10, 10);
    const DST: Ipv4Addr = Ipv4Addr::new(192, 168, 20, 20);

    /// An IPv4 TCP segment with flags `flags` and an MSS option of `mss`, checksum correct.
    fn tcp_packet(flags: u8, mss: u16) -> Vec<u8> {
        let mut tcp = vec![0u8; 24];
        tcp[0..2].copy_from_slice(&40000u16.to_be_bytes());
        tcp[2..4].copy_from_slice(&443u16.to_be_bytes());
        tcp[12] = 6 << 4; // data offset: 6 words (one 4-byte option)
        tcp[13] = flags;
        tcp[14..16].copy_from_slice(&64240u16.to_be_bytes());
        tcp[20..24].copy_from_slice(&[2, 4, mss.to_be_bytes()[0], mss.to_be_bytes()[1]]);
        let sum = transport_checksum(IpAddr::V4(SRC), IpAddr::V4(DST), IpProtocol::TCP, &tcp);
        tcp[16..18].copy_from_slice(&sum.to_be_bytes());
        let mut packet = vec![0u8; 20];
        Ipv4Repr {
            src: SRC,
            dst: DST,
            protocol: IpProtocol::TCP,
            payload_len: tcp.len(),
            tos: 0,
            ident: 1,
            dont_fragment: true,
            ttl: 64,
        }
        .emit(&mut packet)
        .unwrap();
        packet.extend_from_slice(&tcp);
        packet
    }

    fn mss_of(packet: &[u8]) -> u16 {
        u16::from_be_bytes([packet[42], packet[43]])
    }

    fn checksum_ok(packet: &[u8]) -> bool {
        transport_checksum(IpAddr::V4(SRC), IpAddr::V4(DST), IpProtocol::TCP, &packet[20..]) == 0
    }

    /// A UDP-encapsulated AES-GCM-256 tunnel SA over IPv4, as the driver installs them.
    fn gcm_tunnel_sad() -> (DriverSad, ipsec_core::SaId) {
        let range = |a: &str| AddrRange::from_prefix(a.parse::<IpAddr>().unwrap(), 24).unwrap();
        let params = SaParams {
            spi: Spi(0x1000_0001),
            direction: Direction::Outbound,
            protocol: SecurityProtocol::Esp(EspAlgorithm::AesGcm16(AesKeyLen::Aes256)),
            mode: Mode::Tunnel {
                local: "192.0.2.1".parse().unwrap(),
                remote: "192.0.2.2".parse().unwrap(),
            },
            esn: false,
            replay_window: 0,
            lifetime: Lifetime {
                soft: Limits::NONE,
                hard: Limits::NONE,
            },
            encap: Some(UdpEncap {
                local_port: 4500,
                remote_port: 4500,
            }),
            selectors: SelectorSet::from_slice(&[TrafficSelector::new(
                range("192.168.10.0"),
                range("192.168.20.0"),
            )])
            .unwrap(),
            tunnel: TunnelOptions::default(),
            tfc: TfcPadding::None,
        };
        let mut sad = DriverSad::new(ipsec_core::transform::RustCrypto);
        let keys = KeyMaterial::new(&[7u8; 36]).unwrap();
        let id = sad
            .install(ipsec_core::Instant::ZERO, &params, &keys, &mut OsEntropy)
            .unwrap();
        (sad, id)
    }

    #[test]
    fn inner_mtu_is_the_smaller_of_tun_mtu_and_what_the_sa_fits() {
        let (sad, id) = gcm_tunnel_sad();
        let m = MssClamping::default();
        // 1500-byte path: outer IPv4 20 + UDP 8 + ESP 8 + IV 8 + ICV 16 + pad/trailer
        // (inner + 2 rounded up to 4): 1438 bytes of inner packet fit, the 1400-byte TUN MTU rules.
        assert_eq!(sad.max_inner_len(id, 1500), Some(1438));
        assert_eq!(m.inner_mtu(sad.max_inner_len(id, 1500), 1400), 1400);
        // A 1400-byte path leaves 1338 bytes: MSS 1338 - 20 - 20.
        let small = MssClamping {
            enabled: true,
            path_mtu: 1400,
        };
        let inner = small.inner_mtu(sad.max_inner_len(id, usize::from(small.path_mtu)), 1400);
        assert_eq!(inner, 1338);
        assert_eq!(small.max_mss(inner, false), 1298);
        assert_eq!(small.max_mss(inner, true), 1278);
        // No SA (stale id): the TUN MTU alone.
        assert_eq!(m.inner_mtu(None, 1400), 1400);
    }

    #[test]
    fn syn_and_syn_ack_are_clamped_with_a_valid_checksum() {
        let m = MssClamping::default();
        for flags in [0x02, 0x12] {
            let mut p = tcp_packet(flags, 1460);
            assert_eq!(
                m.clamp(&mut p, 1338),
                Some(MssClamp::Clamped { from: 1460, to: 1298 })
            );
            assert_eq!(mss_of(&p), 1298);
            assert!(checksum_ok(&p));
        }
        // Already small enough: unchanged.
        let mut p = tcp_packet(0x02, 1200);
        let before = p.clone();
        assert_eq!(m.clamp(&mut p, 1338), Some(MssClamp::Unchanged));
        assert_eq!(p, before);
    }

    #[test]
    fn non_syn_disabled_and_malformed_packets_pass_unchanged() {
        let m = MssClamping::default();
        let mut ack = tcp_packet(0x10, 1460);
        let before = ack.clone();
        assert_eq!(m.clamp(&mut ack, 1338), Some(MssClamp::NotTcpSyn));
        assert_eq!(ack, before);

        let off = MssClamping {
            enabled: false,
            ..MssClamping::default()
        };
        let mut syn = tcp_packet(0x02, 1460);
        assert_eq!(off.clamp(&mut syn, 1338), None);
        assert_eq!(mss_of(&syn), 1460);

        // An MSS option with a bad length: left exactly as it was.
        let mut bad = tcp_packet(0x02, 1460);
        bad[41] = 3;
        let before = bad.clone();
        assert_eq!(m.clamp(&mut bad, 1338), None);
        assert_eq!(bad, before);
        // Garbage.
        let mut junk = vec![0x45, 0, 0];
        assert_eq!(m.clamp(&mut junk, 1338), None);
    }
}
