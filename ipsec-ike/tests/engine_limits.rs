//! Responder protection against IKE_SA_INIT floods (RFC 7296 §2.6): half-open SAs limited per
//! peer address and in total, COOKIE challenges above their thresholds, and the half-open
//! timeout that frees the slots again.
#![cfg(feature = "rustcrypto")]

mod engine_support;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use engine_support::*;
use ipsec_core::Instant;
use ipsec_ike::config::{EndpointConfig, HalfOpenLimits};
use ipsec_ike::endpoint::IkeSaState;
use ipsec_ike::message::{Message, NotifyType};
use ipsec_ike::{DatagramError, Endpoint, PeerId};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

const B_ADDR: SocketAddr = SocketAddr::new(B_IP, 500);

fn from(last: u8, port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, last)), port)
}

/// A fresh initiator's IKE_SA_INIT request (each seed: other SPI, nonce and key share).
fn init_request(seed: u64) -> Vec<u8> {
    let mut a = endpoint(peer_a(), seed);
    a.connect(Instant::ZERO, PeerId(0)).unwrap();
    a.poll_transmit().unwrap().ike_message().to_vec()
}

/// B accepting any peer address, with `limits`.
fn responder(limits: HalfOpenLimits) -> Endpoint {
    let mut peer = peer_b();
    peer.remote_addr = None;
    let mut c = EndpointConfig::new(provider());
    c.peers.push(peer);
    c.half_open = limits;
    Endpoint::new(
        Arc::new(c),
        ChaCha20Rng::seed_from_u64(9),
        Instant::ZERO,
        1_800_000_000,
    )
    .unwrap()
}

/// Feeds one request; returns the result and the responses sent.
fn offer(
    b: &mut Endpoint,
    now: Instant,
    src: SocketAddr,
    msg: &[u8],
) -> (Result<(), DatagramError>, Vec<Vec<u8>>) {
    let r = b.handle_datagram(now, src, B_ADDR, &mut msg.to_vec());
    let mut sent = Vec::new();
    while let Some(t) = b.poll_transmit() {
        sent.push(t.ike_message().to_vec());
    }
    (r, sent)
}

fn half_open(b: &Endpoint) -> usize {
    b.ike_sas()
        .filter(|sa| b.ike_sa_state(*sa) == Some(IkeSaState::HalfOpen))
        .count()
}

fn has_cookie(response: &[u8]) -> bool {
    Message::decode(response)
        .unwrap()
        .notifies()
        .any(|n| n.notify_type == NotifyType::COOKIE)
}

#[test]
fn half_open_sas_are_limited_per_address_and_in_total() {
    let limits = HalfOpenLimits {
        cookie_threshold: 100,
        cookie_threshold_ip: 100,
        max_total: 3,
        max_per_ip: 2,
        timeout: Duration::from_secs(30),
    };
    let mut b = responder(limits);
    let now = Instant::ZERO;
    let reqs: Vec<Vec<u8>> = (1..=6).map(init_request).collect();

    // Two from .1 are answered; the third from .1 is dropped without an answer.
    for (i, port) in [(0, 500), (1, 501)] {
        let (r, sent) = offer(&mut b, now, from(1, port), &reqs[i]);
        assert_eq!((r, sent.len()), (Ok(()), 1));
        assert!(!has_cookie(&sent[0]));
    }
    let (r, sent) = offer(&mut b, now, from(1, 502), &reqs[2]);
    assert!(matches!(r, Err(DatagramError::Refused { .. })), "{r:?}");
    assert!(sent.is_empty());
    // A retransmission of an answered request is still answered (from the cache, no new SA).
    let (r, sent) = offer(&mut b, now, from(1, 500), &reqs[0]);
    assert_eq!((r, sent.len()), (Ok(()), 1));
    assert_eq!(half_open(&b), 2);

    // Another address gets the last slot in total; a fourth address gets nothing.
    assert_eq!(offer(&mut b, now, from(3, 500), &reqs[3]).1.len(), 1);
    let (r, sent) = offer(&mut b, now, from(4, 500), &reqs[4]);
    assert!(matches!(r, Err(DatagramError::Refused { .. })), "{r:?}");
    assert!(sent.is_empty());
    assert_eq!(half_open(&b), 3);
    assert_eq!(b.ike_sa_count(), 3);

    // Nobody completes IKE_AUTH: after the half-open timeout every slot is free again.
    let (at, _) = b.poll_timeout().unwrap();
    assert_eq!(at, now.saturating_add(Duration::from_secs(30)));
    b.handle_timeout(at);
    assert_eq!(b.ike_sa_count(), 0);
    let (r, sent) = offer(&mut b, at, from(1, 502), &reqs[2]);
    assert_eq!((r, sent.len()), (Ok(()), 1));
    assert_eq!(offer(&mut b, at, from(4, 500), &reqs[4]).1.len(), 1);
    assert_eq!(half_open(&b), 2);
}

#[test]
fn a_busy_address_is_asked_for_a_cookie_before_it_is_blocked() {
    let limits = HalfOpenLimits {
        cookie_threshold: 100,
        cookie_threshold_ip: 1,
        max_total: 100,
        max_per_ip: 3,
        timeout: Duration::from_secs(30),
    };
    let mut b = responder(limits);
    let now = Instant::ZERO;
    let first = init_request(1);
    assert!(!has_cookie(&offer(&mut b, now, from(1, 500), &first).1[0]));
    // The second from the same address gets a stateless COOKIE challenge, counted in the stats.
    let second = init_request(2);
    let (r, sent) = offer(&mut b, now, from(1, 501), &second);
    assert_eq!((r, sent.len()), (Ok(()), 1));
    assert!(has_cookie(&sent[0]));
    assert_eq!(b.ike_sa_count(), 1);
    assert_eq!(b.stats().half_open_limited, 1);
    // Another address is not affected.
    let third = init_request(3);
    let sent = offer(&mut b, now, from(3, 500), &third).1;
    assert!(!has_cookie(&sent[0]));
    assert_eq!(b.ike_sa_count(), 2);
}
