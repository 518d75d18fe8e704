//! Runs the README demo's logic (`examples/demo.rs`): two gateways in one process over loopback
//! UDP, IKE_SA_INIT + IKE_AUTH, ICMP both ways through ESP, Delete. No privileges needed.

#[path = "../demo.rs"]
mod demo;

use std::net::Ipv4Addr;

#[test]
fn demo_tunnel_carries_traffic_both_ways_and_closes_cleanly() {
    // Other loopback addresses than `cargo run --example demo` uses, so both can run at once.
    let outcome = demo::run(
        Ipv4Addr::new(127, 0, 110, 1),
        Ipv4Addr::new(127, 0, 120, 1),
        false,
    )
    .expect("the demo completes");
    assert_eq!(outcome.requests_sent, 3);
    assert_eq!(outcome.requests_delivered, 3, "echo requests decrypted at B");
    assert_eq!(outcome.replies_delivered, 3, "echo replies decrypted at A");
    // Each side's inbound SPI is the other's outbound SPI, and the SPIs are not zero.
    let [(a_in, a_out), (b_in, b_out)] = outcome.spis;
    assert_eq!((a_in, a_out), (b_out, b_in));
    assert_ne!(a_in, 0);
    assert_ne!(a_out, 0);
    // The status table counts the three 76-byte packets (IPv4 20 + ICMP 8 + 48) each way and names the algorithm.
    assert!(outcome.list_sas.contains("ESTABLISHED"), "{}", outcome.list_sas);
    assert!(
        outcome.list_sas.contains("AES_GCM_16-256"),
        "{}",
        outcome.list_sas
    );
    assert!(
        outcome
            .list_sas
            .contains(&format!("in  {a_in:08x}, 228 bytes, 3 packets")),
        "{}",
        outcome.list_sas
    );
    assert!(
        outcome
            .list_sas
            .contains(&format!("out {a_out:08x}, 228 bytes, 3 packets")),
        "{}",
        outcome.list_sas
    );
    assert!(
        outcome.closed_cleanly,
        "both sides removed every SA after the Delete"
    );
}
