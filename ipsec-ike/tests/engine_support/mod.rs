//! A two-endpoint harness for the engine tests: direct delivery of datagrams (optionally
//! filtered), a virtual clock jumping to the earliest timeout, events collected per side.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use ipsec_core::Instant;
use ipsec_core::selector::AddrRange;
use ipsec_ike::config::{ChildConfig, EndpointConfig, PeerConfig, TsEntry};
use ipsec_ike::crypto::rustcrypto::RustCrypto;
use ipsec_ike::{Endpoint, Event, Transmit};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

pub(crate) const A_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
pub(crate) const B_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));
pub(crate) const PSK: &[u8] = b"engine-test-psk-0123456789";

pub(crate) fn net(a: [u8; 4], prefix: u8) -> TsEntry {
    TsEntry::subnet(AddrRange::from_prefix(IpAddr::V4(Ipv4Addr::from(a)), prefix).unwrap())
}

/// A's view of the site-to-site PSK connection (10.1.0.0/16 <-> 10.2.0.0/16).
pub(crate) fn peer_a() -> PeerConfig {
    let mut p = PeerConfig::psk("a-to-b", Some(A_IP), Some(B_IP), PSK);
    p.children = vec![ChildConfig::tunnel(
        "net",
        vec![net([10, 1, 0, 0], 16)],
        vec![net([10, 2, 0, 0], 16)],
    )];
    p
}

/// B's view.
pub(crate) fn peer_b() -> PeerConfig {
    let mut p = PeerConfig::psk("b-to-a", Some(B_IP), Some(A_IP), PSK);
    p.children = vec![ChildConfig::tunnel(
        "net",
        vec![net([10, 2, 0, 0], 16)],
        vec![net([10, 1, 0, 0], 16)],
    )];
    p
}

pub(crate) fn provider() -> Arc<RustCrypto> {
    Arc::new(RustCrypto::new())
}

pub(crate) fn endpoint_config(peer: PeerConfig) -> Arc<EndpointConfig> {
    let mut c = EndpointConfig::new(provider());
    c.peers.push(peer);
    Arc::new(c)
}

pub(crate) fn endpoint(peer: PeerConfig, seed: u64) -> Endpoint {
    Endpoint::new(
        endpoint_config(peer),
        ChaCha20Rng::seed_from_u64(seed),
        Instant::ZERO,
        1_800_000_000,
    )
    .unwrap()
}

/// A datagram on the wire.
#[derive(Clone, Debug)]
pub(crate) struct Wire {
    pub(crate) from_a: bool,
    pub(crate) t: Transmit,
}

pub(crate) struct Pair {
    pub(crate) a: Endpoint,
    pub(crate) b: Endpoint,
    pub(crate) now: Instant,
    pub(crate) wire: VecDeque<Wire>,
    pub(crate) a_events: Vec<Event>,
    pub(crate) b_events: Vec<Event>,
    /// Every datagram ever sent, in order.
    pub(crate) log: Vec<Wire>,
}

impl Pair {
    pub(crate) fn new(a: Endpoint, b: Endpoint) -> Self {
        Self {
            a,
            b,
            now: Instant::ZERO,
            wire: VecDeque::new(),
            a_events: Vec::new(),
            b_events: Vec::new(),
            log: Vec::new(),
        }
    }

    pub(crate) fn psk(seed: u64) -> Self {
        Self::new(endpoint(peer_a(), seed), endpoint(peer_b(), seed + 1000))
    }

    /// Moves outputs to the wire and event lists.
    pub(crate) fn drain(&mut self) {
        while let Some(t) = self.a.poll_transmit() {
            let w = Wire { from_a: true, t };
            self.log.push(w.clone());
            self.wire.push_back(w);
        }
        while let Some(t) = self.b.poll_transmit() {
            let w = Wire { from_a: false, t };
            self.log.push(w.clone());
            self.wire.push_back(w);
        }
        while let Some(e) = self.a.poll_event() {
            self.a_events.push(e);
        }
        while let Some(e) = self.b.poll_event() {
            self.b_events.push(e);
        }
    }

    /// Delivers one datagram; returns the receiver's result.
    pub(crate) fn deliver(&mut self, w: Wire) -> Option<Result<(), ipsec_ike::DatagramError>> {
        let src_ip = if w.from_a { A_IP } else { B_IP };
        let remote = SocketAddr::new(src_ip, w.t.local.port());
        let local = w.t.remote;
        let mut msg = w.t.ike_message().to_vec();
        if msg.is_empty() {
            return None;
        }
        let dst = if w.from_a { &mut self.b } else { &mut self.a };
        let r = dst.handle_datagram(self.now, remote, local, &mut msg);
        self.drain();
        Some(r)
    }

    /// Delivers everything in flight, passing each datagram through `keep` first.
    pub(crate) fn run_with(&mut self, mut keep: impl FnMut(&Wire) -> bool, limit: Duration) {
        let end = self.now.saturating_add(limit);
        self.drain();
        loop {
            while let Some(w) = self.wire.pop_front() {
                if keep(&w) {
                    self.deliver(w);
                }
            }
            let next = [self.a.poll_timeout(), self.b.poll_timeout()]
                .into_iter()
                .flatten()
                .map(|(t, _)| t)
                .min();
            match next {
                Some(t) if t <= end => {
                    self.now = self.now.max(t);
                    self.a.handle_timeout(self.now);
                    self.b.handle_timeout(self.now);
                    self.drain();
                }
                _ => break,
            }
        }
    }

    pub(crate) fn run(&mut self, limit: Duration) {
        self.run_with(|_| true, limit);
    }

    /// Runs until both sides have no datagram in flight (timers not advanced).
    pub(crate) fn settle(&mut self) {
        self.drain();
        while let Some(w) = self.wire.pop_front() {
            self.deliver(w);
        }
    }

    pub(crate) fn advance(&mut self, d: Duration) {
        self.now = self.now.saturating_add(d);
    }
}

pub(crate) fn count<F: Fn(&Event) -> bool>(events: &[Event], f: F) -> usize {
    events.iter().filter(|e| f(e)).count()
}

pub(crate) fn installs(events: &[Event]) -> Vec<&ipsec_ike::ChildSaInstall> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::ChildSaInstall(i) => Some(i),
            _ => None,
        })
        .collect()
}
