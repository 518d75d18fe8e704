//! The site-to-site demo: two IKEv2 gateways in one process, over real loopback UDP sockets.
//!
//! Gateway A (LAN 192.168.10.0/24) and gateway B (LAN 192.168.20.0/24) each run an
//! `ipsec_std::Driver` — the same loop the `ipsec-peer` CLI runs — with in-memory packet I/O
//! instead of a TUN device, so nothing needs root. A initiates: IKE_SA_INIT and IKE_AUTH with a
//! pre-shared key, then ICMP echo requests from A's LAN go through ESP-in-UDP to B's LAN and the
//! replies come back the same way; the demo checks that every packet arrives decrypted and
//! byte-identical, prints the SAs like `swanctl --list-sas`, and closes the tunnel (Delete).
//!
//! Proposal: `aes256gcm16-prfsha256-x25519!` for IKE and `aes256gcm16!` for ESP — the strong
//! default; the MISSION seed's `modp1024` is refused unless a config asks for it (the
//! `ipsec-peer` interop tests run that one against strongSwan).
//!
//! Ports: the engine moves IKE to UDP port 4500 and sends ESP-in-UDP to the peer's port 4500
//! (RFC 7296 §2.23, RFC 3948), so each gateway binds port 4500 (unprivileged) on its own
//! loopback address, 127.0.10.1 and 127.0.20.1; the port-500 sockets take ephemeral ports and
//! stay unused (the initiator starts on 4500 directly).
//!
//! Run: `cargo run --example demo`.
#![forbid(unsafe_code)]

use std::error::Error;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ipsec_core::wire::{IpProtocol, Ipv4Repr};
use ipsec_ike::transmit::NATT_PORT;
use ipsec_std::config::Config;
use ipsec_std::config::engine::engine_config;
use ipsec_std::driver::{Driver, DriverOptions, IKE_MESSAGE_TARGET, protocol_name};
use ipsec_std::packet_io::PacketIoKind;
use ipsec_std::route::StaticRoutes;
use ipsec_std::udp::UdpConfig;

/// The strong default proposals (strict: only these).
const IKE_PROPOSAL: &str = "aes256gcm16-prfsha256-x25519!";
const ESP_PROPOSAL: &str = "aes256gcm16!";
/// The demo's pre-shared key (a real one comes from `ipsec.secrets`).
const PSK: &str = "demo-only-psk-not-for-real-use";
const LAN_A: &str = "192.168.10.0/24";
const LAN_B: &str = "192.168.20.0/24";
const HOST_A: Ipv4Addr = Ipv4Addr::new(192, 168, 10, 10);
const HOST_B: Ipv4Addr = Ipv4Addr::new(192, 168, 20, 20);
/// How long each phase may take before the demo gives up.
const PHASE_LIMIT: Duration = Duration::from_secs(5);

/// What one run of the demo did (checked by `examples/tests/demo.rs`).
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// Echo requests sent from A's LAN.
    pub(crate) requests_sent: usize,
    /// Echo requests delivered at B, decrypted and byte-identical.
    pub(crate) requests_delivered: usize,
    /// Echo replies delivered at A, decrypted and byte-identical.
    pub(crate) replies_delivered: usize,
    /// ESP SPIs of A's CHILD SA (inbound, outbound) and of B's.
    pub(crate) spis: [(u32, u32); 2],
    /// A's `list-sas` text while the tunnel was up.
    pub(crate) list_sas: String,
    /// Both sides closed every IKE and CHILD SA after the Delete.
    pub(crate) closed_cleanly: bool,
}

/// One gateway: its driver and the span its log lines carry.
struct Gateway {
    driver: Driver,
    span: tracing::Span,
}

impl Gateway {
    fn new(
        name: &str,
        me: Ipv4Addr,
        peer: Ipv4Addr,
        lans: (&str, &str),
        auto: &str,
    ) -> Result<Self, Box<dyn Error>> {
        let toml = format!(
            "[[connection]]\nname = \"site-to-site\"\nauto = \"{auto}\"\nike = \"{IKE_PROPOSAL}\"\n\
             esp = \"{ESP_PROPOSAL}\"\nlifetime = \"1h\"\n\
             [connection.local]\naddress = \"{me}\"\nsubnets = [\"{}\"]\nauth = \"psk\"\n\
             [connection.remote]\naddress = \"{peer}\"\nsubnets = [\"{}\"]\nauth = \"psk\"\n\
             [[secret]]\ntype = \"psk\"\nids = [\"{me}\", \"{peer}\"]\nsecret = \"{PSK}\"\n",
            lans.0, lans.1
        );
        let loaded = Config::from_toml_str(&toml, Path::new("demo.toml"), &StaticRoutes::default())?;
        let mut engine = engine_config(&loaded.config)?;
        // Start directly on the NAT-T port: no privileged port 500 is needed.
        let endpoint = Arc::get_mut(&mut engine.endpoint).ok_or("engine config is shared")?;
        for p in &mut endpoint.peers {
            p.remote_port = NATT_PORT;
        }
        let options = DriverOptions {
            udp: UdpConfig {
                addresses: vec![IpAddr::V4(me)],
                ike_port: 0,
                natt_port: NATT_PORT,
            },
            packet_io: PacketIoKind::Memory,
            ..DriverOptions::default()
        };
        let driver = Driver::new(engine, &options).map_err(|e| format!("gateway {name} on {me}: {e}"))?;
        Ok(Self {
            driver,
            // Span names are static: one per gateway, printed before each log line.
            span: if name == "A" {
                tracing::info_span!("A")
            } else {
                tracing::info_span!("B")
            },
        })
    }

    fn step(&mut self) -> Result<(), Box<dyn Error>> {
        let _entered = self.span.enter();
        self.driver.step(None, Some(Duration::from_millis(1)))?;
        Ok(())
    }

    fn child_spis(&self) -> Option<(u32, u32)> {
        self.driver
            .children()
            .next()
            .map(|(_, c)| (c.inbound_spi.0, c.outbound_spi.0))
    }

    fn delivered(&mut self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        if let Some(m) = self.driver.memory_packets() {
            while let Some(p) = m.pop_delivered() {
                out.push(p);
            }
        }
        out
    }

    fn send(&mut self, packet: Vec<u8>) -> Result<(), Box<dyn Error>> {
        self.driver
            .memory_packets()
            .ok_or("no in-memory packet I/O")?
            .push_outbound(packet);
        Ok(())
    }
}

/// Steps both gateways until `done` holds, or fails after [`PHASE_LIMIT`].
fn pump(
    a: &mut Gateway,
    b: &mut Gateway,
    what: &str,
    mut done: impl FnMut(&mut Gateway, &mut Gateway) -> bool,
) -> Result<(), Box<dyn Error>> {
    let start = Instant::now();
    while !done(a, b) {
        if start.elapsed() > PHASE_LIMIT {
            return Err(format!("timed out waiting for {what}").into());
        }
        a.step()?;
        b.step()?;
    }
    Ok(())
}

/// The Internet checksum (RFC 1071) of `data`.
fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !u16::try_from(sum).unwrap_or(0)
}

/// An ICMP echo request (type 8) or reply (type 0) between two LAN hosts (RFC 792).
fn icmp_echo(src: Ipv4Addr, dst: Ipv4Addr, kind: u8, seq: u16) -> Vec<u8> {
    let mut icmp = vec![kind, 0, 0, 0, 0x12, 0x34];
    icmp.extend_from_slice(&seq.to_be_bytes());
    icmp.extend((0..48u8).map(|i| b'a' + i % 26));
    let sum = checksum(&icmp);
    icmp[2..4].copy_from_slice(&sum.to_be_bytes());
    let repr = Ipv4Repr {
        src,
        dst,
        protocol: IpProtocol::ICMP,
        payload_len: icmp.len(),
        tos: 0,
        ident: seq,
        dont_fragment: true,
        ttl: 64,
    };
    let mut packet = vec![0u8; 20];
    repr.emit(&mut packet).expect("a 20-byte IPv4 header fits");
    packet.extend_from_slice(&icmp);
    packet
}

/// Runs the demo with gateway A on `a_ip` and B on `b_ip` (loopback addresses); `print` shows
/// the steps on stdout.
///
/// # Errors
/// A socket that cannot be bound (port 4500 in use on that address), or a phase that does not
/// complete within five seconds.
pub(crate) fn run(a_ip: Ipv4Addr, b_ip: Ipv4Addr, print: bool) -> Result<Outcome, Box<dyn Error>> {
    let say = |s: String| {
        if print {
            println!("{s}");
        }
    };
    let mut outcome = Outcome::default();
    let mut a = Gateway::new("A", a_ip, b_ip, (LAN_A, LAN_B), "start")?;
    let mut b = Gateway::new("B", b_ip, a_ip, (LAN_B, LAN_A), "add")?;
    say(format!(
        "gateway A {a_ip}:{NATT_PORT} (LAN {LAN_A})  <->  gateway B {b_ip}:{NATT_PORT} (LAN {LAN_B})\n\
         PSK, IKE {IKE_PROPOSAL}, ESP {ESP_PROPOSAL}, tunnel mode, ESP in UDP\n"
    ));

    // 1. IKE_SA_INIT + IKE_AUTH (the log lines come from the drivers).
    let started = Instant::now();
    {
        let _entered = a.span.enter();
        a.driver.start_connections();
    }
    pump(&mut a, &mut b, "the CHILD SA", |a, b| {
        a.child_spis().is_some() && b.child_spis().is_some()
    })?;
    let (a_spis, b_spis) = (
        a.child_spis().unwrap_or_default(),
        b.child_spis().unwrap_or_default(),
    );
    outcome.spis = [a_spis, b_spis];
    let protocol = a
        .driver
        .children()
        .next()
        .map(|(_, c)| protocol_name(c.protocol))
        .unwrap_or_default();
    say(format!(
        "\ntunnel up in {} ms: IKE ENCR_AES_GCM_16-256/PRF_HMAC_SHA2_256/CURVE_25519 (the strict proposal), \
         CHILD {protocol}\n  \
         A: ESP SPIs {:08x}_i {:08x}_o    B: ESP SPIs {:08x}_i {:08x}_o\n",
        started.elapsed().as_millis(),
        a_spis.0,
        a_spis.1,
        b_spis.0,
        b_spis.1
    ));

    // 2. Traffic both ways: echo requests A's LAN -> B's LAN, replies back.
    const PINGS: u16 = 3;
    let requests: Vec<Vec<u8>> = (1..=PINGS).map(|s| icmp_echo(HOST_A, HOST_B, 8, s)).collect();
    for r in &requests {
        a.send(r.clone())?;
    }
    outcome.requests_sent = requests.len();
    let mut at_b = Vec::new();
    pump(&mut a, &mut b, "the echo requests at B", |_, b| {
        at_b.extend(b.delivered());
        at_b.len() >= requests.len()
    })?;
    for (seq, (sent, got)) in (1..).zip(requests.iter().zip(&at_b)) {
        let ok = sent == got;
        outcome.requests_delivered += usize::from(ok);
        say(format!(
            "A -> B  ICMP echo request {HOST_A} -> {HOST_B} seq {seq}, {} bytes: {}",
            got.len(),
            if ok {
                "delivered at B, decrypted, identical"
            } else {
                "CORRUPTED"
            }
        ));
        b.send(icmp_echo(HOST_B, HOST_A, 0, seq))?;
    }
    let replies: Vec<Vec<u8>> = (1..=PINGS).map(|s| icmp_echo(HOST_B, HOST_A, 0, s)).collect();
    let mut at_a = Vec::new();
    pump(&mut a, &mut b, "the echo replies at A", |a, _| {
        at_a.extend(a.delivered());
        at_a.len() >= replies.len()
    })?;
    for (seq, (sent, got)) in (1..).zip(replies.iter().zip(&at_a)) {
        let ok = sent == got;
        outcome.replies_delivered += usize::from(ok);
        say(format!(
            "B -> A  ICMP echo reply   {HOST_B} -> {HOST_A} seq {seq}, {} bytes: {}",
            got.len(),
            if ok {
                "delivered at A, decrypted, identical"
            } else {
                "CORRUPTED"
            }
        ));
    }

    // 3. The SAs, as `ipsec-peer list-sas` shows them.
    outcome.list_sas = a.driver.list_sas_text();
    say(format!("\ngateway A, list-sas:\n{}", outcome.list_sas));

    // 4. Close: A sends Delete for the IKE SA (and with it the CHILD SA), B answers.
    say("closing: A deletes the IKE SA (INFORMATIONAL with a Delete payload)".to_owned());
    {
        let _entered = a.span.enter();
        a.driver.close_all();
    }
    pump(&mut a, &mut b, "the Delete", |a, b| {
        a.driver.endpoint().ike_sa_count() == 0 && b.driver.endpoint().ike_sa_count() == 0
    })?;
    outcome.closed_cleanly = a.driver.children().next().is_none() && b.driver.children().next().is_none();
    say(format!(
        "\nclosed: IKE SAs {} / {}, CHILD SAs {} / {} (A / B)",
        a.driver.endpoint().ike_sa_count(),
        b.driver.endpoint().ike_sa_count(),
        a.driver.children().count(),
        b.driver.children().count()
    ));
    Ok(outcome)
}

#[allow(dead_code)] // examples/tests/demo.rs includes this file for `run` only.
fn main() -> std::process::ExitCode {
    // One line per IKE message (the driver's debug log), warnings and errors otherwise.
    let filter = tracing_subscriber::filter::Targets::new()
        .with_target(IKE_MESSAGE_TARGET, tracing::Level::DEBUG)
        .with_target("demo", tracing::Level::INFO)
        .with_default(tracing::Level::WARN);
    let subscriber = tracing_subscriber::fmt()
        .with_target(false)
        .with_level(false)
        .without_time()
        .with_max_level(tracing::Level::DEBUG)
        .finish();
    use tracing_subscriber::layer::SubscriberExt;
    let _ = tracing::subscriber::set_global_default(subscriber.with(filter));
    match run(Ipv4Addr::new(127, 0, 10, 1), Ipv4Addr::new(127, 0, 20, 1), true) {
        Ok(o)
            if o.requests_delivered == o.requests_sent
                && o.replies_delivered == o.requests_sent
                && o.closed_cleanly =>
        {
            std::process::ExitCode::SUCCESS
        }
        Ok(o) => {
            eprintln!("demo: traffic or close incomplete: {o:?}");
            std::process::ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("demo: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
