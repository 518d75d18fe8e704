//! `EndpointConfig::export_ike_keys`: the IKE SA keys leave the engine for a key log only when
//! asked, match on both sides, and are announced again for a rekeyed IKE SA (RFC 7296 §2.14,
//! §2.18).
#![cfg(feature = "rustcrypto")]

mod engine_support;

use std::sync::Arc;
use std::time::Duration;

use engine_support::*;
use ipsec_core::Instant;
use ipsec_ike::config::EndpointConfig;
use ipsec_ike::{Endpoint, Event, IkeSaKeyLog, PeerId};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

fn exporting(peer: ipsec_ike::PeerConfig, seed: u64) -> Endpoint {
    let mut c = EndpointConfig::new(provider());
    c.peers.push(peer);
    c.export_ike_keys = true;
    Endpoint::new(
        Arc::new(c),
        ChaCha20Rng::seed_from_u64(seed),
        Instant::ZERO,
        1_800_000_000,
    )
    .unwrap()
}

fn logs(events: &[Event]) -> Vec<&IkeSaKeyLog> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::IkeSaKeys(k) => Some(k),
            _ => None,
        })
        .collect()
}

#[test]
fn keys_are_exported_only_when_asked_and_match_on_both_sides() {
    let mut quiet = Pair::psk(3);
    quiet.a.connect(quiet.now, PeerId(0)).unwrap();
    quiet.run(Duration::from_secs(1));
    assert_eq!(installs(&quiet.a_events).len(), 1);
    assert!(logs(&quiet.a_events).is_empty() && logs(&quiet.b_events).is_empty());

    let mut p = Pair::new(exporting(peer_a(), 3), exporting(peer_b(), 4));
    let sa = p.a.connect(p.now, PeerId(0)).unwrap();
    p.run(Duration::from_secs(1));
    let (a, b) = (logs(&p.a_events), logs(&p.b_events));
    assert_eq!((a.len(), b.len()), (1, 1));
    let (a, b) = (a[0], b[0]);
    assert_eq!(a.sa, sa);
    assert_eq!((a.spi_i, a.spi_r), (b.spi_i, b.spi_r));
    assert_ne!(a.spi_r, [0; 8]);
    for (x, y) in [
        (&a.sk_ei, &b.sk_ei),
        (&a.sk_er, &b.sk_er),
        (&a.sk_ai, &b.sk_ai),
        (&a.sk_ar, &b.sk_ar),
    ] {
        assert_eq!(x.as_bytes(), y.as_bytes());
    }
    assert_ne!(a.sk_ei.as_bytes(), a.sk_er.as_bytes());
    assert!(!a.sk_ei.as_bytes().is_empty());
    assert_eq!(a.encr, b.encr);
    // Debug shows no key bytes.
    let shown = format!("{a:?}");
    assert!(!shown.contains(&format!("{:?}", a.sk_ei.as_bytes())));

    let (first_spi_i, first_sk_er) = (a.spi_i, a.sk_er.as_bytes().to_vec());
    // A rekeyed IKE SA is announced with its new SPIs and keys.
    p.a.rekey_ike_sa(p.now, sa).unwrap();
    p.run(Duration::from_secs(1));
    let (a2, b2) = (logs(&p.a_events), logs(&p.b_events));
    assert_eq!((a2.len(), b2.len()), (2, 2));
    assert_eq!((a2[1].spi_i, a2[1].spi_r), (b2[1].spi_i, b2[1].spi_r));
    assert_ne!(a2[1].spi_i, first_spi_i);
    assert_eq!(a2[1].sk_er.as_bytes(), b2[1].sk_er.as_bytes());
    assert_ne!(a2[1].sk_er.as_bytes(), first_sk_er.as_slice());
}
