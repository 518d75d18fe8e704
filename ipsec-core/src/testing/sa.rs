//! SA fixtures: parameter sets for every transform and mode, deterministic keys, a seeded RNG, and
//! a pair of SADs (sender and receiver) sharing keys.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::vec::Vec;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use crate::lifetime::Lifetime;
use crate::replay::replay_words;
use crate::sa::{
    Direction, Mode, SaId, SaParams, SecurityProtocol, Spi, TfcPadding, TunnelOptions, UdpEncap,
};
use crate::sad::Sad;
use crate::selector::{SelectorSet, TrafficSelector};
use crate::time::Instant;
use crate::transform::{AesKeyLen, EspAlgorithm, Integrity, KeyMaterial, RustCrypto};

/// A SAD small enough for tests: 8 SAs, a 1024-packet replay window.
pub type TestSad = Sad<RustCrypto, 8, { replay_words(1024) }>;

/// A deterministic RNG for installs.
#[must_use]
pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// Every ESP transform the default provider implements.
pub const ESP_ALGORITHMS: [EspAlgorithm; 12] = [
    EspAlgorithm::AesGcm16(AesKeyLen::Aes128),
    EspAlgorithm::AesGcm16(AesKeyLen::Aes192),
    EspAlgorithm::AesGcm16(AesKeyLen::Aes256),
    EspAlgorithm::ChaCha20Poly1305,
    EspAlgorithm::AesGmac(AesKeyLen::Aes128),
    EspAlgorithm::AesGmac(AesKeyLen::Aes256),
    EspAlgorithm::AesCbc(AesKeyLen::Aes128, Integrity::HmacSha256_128),
    EspAlgorithm::AesCbc(AesKeyLen::Aes256, Integrity::HmacSha256_128),
    EspAlgorithm::AesCbc(AesKeyLen::Aes256, Integrity::HmacSha384_192),
    EspAlgorithm::AesCbc(AesKeyLen::Aes256, Integrity::HmacSha512_256),
    EspAlgorithm::Null(Integrity::HmacSha256_128),
    EspAlgorithm::Null(Integrity::HmacSha512_256),
];

/// Every AH transform.
pub const AH_ALGORITHMS: [Integrity; 3] = [
    Integrity::HmacSha256_128,
    Integrity::HmacSha384_192,
    Integrity::HmacSha512_256,
];

/// Deterministic key material of the right length for a protocol: bytes `seed, seed+1, ...`.
#[must_use]
pub fn keys(protocol: SecurityProtocol, seed: u8) -> KeyMaterial {
    let len = match protocol {
        SecurityProtocol::Esp(alg) => alg.key_material_len(),
        SecurityProtocol::Ah(alg) => alg.key_len(),
    };
    let bytes: Vec<u8> = (0..len).map(|i| seed.wrapping_add(i as u8)).collect();
    KeyMaterial::new(&bytes).expect("test keys fit")
}

/// Test addresses: gateway A and B (outer), hosts behind them (inner), per family.
#[derive(Clone, Copy, Debug)]
pub struct Addrs {
    /// Gateway A (the sender's outer address).
    pub gw_a: IpAddr,
    /// Gateway B.
    pub gw_b: IpAddr,
    /// A host behind A.
    pub host_a: IpAddr,
    /// A host behind B.
    pub host_b: IpAddr,
}

/// Addresses for IPv4 (`false`) or IPv6 (`true`).
#[must_use]
pub fn addrs(v6: bool) -> Addrs {
    if v6 {
        Addrs {
            gw_a: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
            gw_b: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2)),
            host_a: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0x10, 0, 0, 0, 0, 5)),
            host_b: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0x20, 0, 0, 0, 0, 7)),
        }
    } else {
        Addrs {
            gw_a: IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1)),
            gw_b: IpAddr::V4(Ipv4Addr::new(203, 0, 113, 1)),
            host_a: IpAddr::V4(Ipv4Addr::new(192, 168, 10, 5)),
            host_b: IpAddr::V4(Ipv4Addr::new(192, 168, 20, 7)),
        }
    }
}

/// Traffic selectors matching everything of both families.
#[must_use]
pub fn any_selectors() -> SelectorSet {
    SelectorSet::from_slice(&[TrafficSelector::any_v4(), TrafficSelector::any_v6()]).expect("two fit")
}

/// What a test SA looks like.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    /// ESP or AH with its transform.
    pub protocol: SecurityProtocol,
    /// Tunnel (with the outer family) or transport.
    pub tunnel: Option<bool>,
    /// Extended sequence numbers.
    pub esn: bool,
    /// UDP encapsulation.
    pub encap: bool,
    /// TFC padding target.
    pub tfc: Option<u16>,
}

impl Shape {
    /// ESP tunnel mode over IPv4 with `alg`.
    #[must_use]
    pub fn esp_tunnel(alg: EspAlgorithm) -> Shape {
        Shape {
            protocol: SecurityProtocol::Esp(alg),
            tunnel: Some(false),
            esn: false,
            encap: false,
            tfc: None,
        }
    }
}

/// Parameters of one direction of a test SA; A sends to B on SPI `spi`.
#[must_use]
pub fn params(shape: Shape, direction: Direction, spi: u32) -> SaParams {
    let outer = addrs(shape.tunnel.unwrap_or(false));
    let (local, remote) = match direction {
        Direction::Outbound => (outer.gw_a, outer.gw_b),
        Direction::Inbound => (outer.gw_b, outer.gw_a),
    };
    SaParams {
        spi: Spi(spi),
        direction,
        protocol: shape.protocol,
        mode: match shape.tunnel {
            Some(_) => Mode::Tunnel { local, remote },
            None => Mode::Transport,
        },
        esn: shape.esn,
        replay_window: 128,
        lifetime: Lifetime::default(),
        encap: shape.encap.then_some(UdpEncap {
            local_port: 4500,
            remote_port: 4500,
        }),
        selectors: any_selectors(),
        tunnel: TunnelOptions::default(),
        tfc: shape.tfc.map_or(TfcPadding::None, TfcPadding::PadTo),
    }
}

/// A sender SAD with the outbound SA and a receiver SAD with the matching inbound SA.
pub struct Pair {
    /// The sending side.
    pub tx: TestSad,
    /// The outbound SA in `tx`.
    pub out: SaId,
    /// The receiving side.
    pub rx: TestSad,
    /// The inbound SA in `rx`.
    pub inb: SaId,
}

/// Installs a [`Pair`] for `shape` with SPI 0x1000 and keys from `key_seed`.
///
/// # Panics
/// If the shape is not installable (a test bug).
#[must_use]
pub fn pair(shape: Shape, key_seed: u8) -> Pair {
    let keys = keys(shape.protocol, key_seed);
    let mut tx = TestSad::new(RustCrypto);
    let mut rx = TestSad::new(RustCrypto);
    let out = tx
        .install(
            Instant::ZERO,
            &params(shape, Direction::Outbound, 0x1000),
            &keys,
            &mut rng(1),
        )
        .expect("outbound installs");
    let inb = rx
        .install(
            Instant::ZERO,
            &params(shape, Direction::Inbound, 0x1000),
            &keys,
            &mut rng(2),
        )
        .expect("inbound installs");
    Pair { tx, out, rx, inb }
}
