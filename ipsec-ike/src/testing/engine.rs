//! Engine fuzz entry point: arbitrary datagrams to a responder [`Endpoint`](crate::endpoint::Endpoint) and to an initiator
//! waiting for its IKE_SA_INIT response. Must return (never panic) on any input.

#[cfg(feature = "rustcrypto")]
pub use imp::*;

#[cfg(feature = "rustcrypto")]
mod imp {
    use alloc::sync::Arc;
    use alloc::vec;
    use core::net::{IpAddr, Ipv4Addr, SocketAddr};

    use ipsec_core::Instant;
    use ipsec_core::selector::AddrRange;

    use crate::config::{ChildConfig, EndpointConfig, PeerConfig, PeerId, TsEntry};
    use crate::crypto::rustcrypto::RustCrypto;
    use crate::endpoint::Endpoint;
    use crate::testing::crypto::FixedRng;

    const A: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1));
    const B: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 2));
    const PSK: &[u8] = b"fuzz-endpoint-psk-0123456789";

    const NET_A: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 1, 0, 0));
    const NET_B: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 2, 0, 0));

    fn endpoint(local: IpAddr, remote: IpAddr, seed: u64) -> Option<Endpoint> {
        let subnet = |a: IpAddr| AddrRange::from_prefix(a, 16).ok().map(TsEntry::subnet);
        let (ours, theirs) = if local == A {
            (NET_A, NET_B)
        } else {
            (NET_B, NET_A)
        };
        let mut peer = PeerConfig::psk("fuzz", Some(local), Some(remote), PSK);
        peer.children = vec![ChildConfig::tunnel(
            "net",
            vec![subnet(ours)?],
            vec![subnet(theirs)?],
        )];
        let mut config = EndpointConfig::new(Arc::new(RustCrypto::new()));
        config.peers.push(peer);
        Endpoint::new(Arc::new(config), FixedRng(seed), Instant::ZERO, 1_800_000_000).ok()
    }

    /// Feeds `data` as a UDP payload on port 500 to a fresh responder, and (with the initiator's
    /// SPI written over its first 8 bytes, so it reaches the half-open SA) to an initiator that
    /// has just sent IKE_SA_INIT; then runs both endpoints' timers.
    pub fn fuzz_endpoint(data: &[u8]) {
        let _ = run(data);
    }

    /// Datagrams each endpoint sent in reply to `data` (the initiator's own IKE_SA_INIT excluded).
    #[derive(Debug, Default, PartialEq, Eq)]
    struct Replies {
        responder: usize,
        initiator: usize,
    }

    fn drain(e: &mut Endpoint) -> usize {
        let mut sent: usize = 0;
        while e.poll_transmit().is_some() {
            sent = sent.saturating_add(1);
        }
        while e.poll_event().is_some() {}
        sent
    }

    fn run(data: &[u8]) -> Replies {
        let mut replies = Replies::default();
        let now = Instant::ZERO;
        let (a_addr, b_addr) = (SocketAddr::new(A, 500), SocketAddr::new(B, 500));
        if let Some(mut responder) = endpoint(B, A, 2) {
            let _ = responder.handle_datagram(now, a_addr, b_addr, &mut data.to_vec());
            replies.responder = drain(&mut responder);
            if let Some((at, _)) = responder.poll_timeout() {
                responder.handle_timeout(at);
            }
        }
        let Some(mut initiator) = endpoint(A, B, 1) else {
            return replies;
        };
        if initiator.connect(now, PeerId(0)).is_err() {
            return replies;
        }
        let Some(init) = initiator.poll_transmit() else {
            return replies;
        };
        let mut buf = data.to_vec();
        if let (Some(spi), Some(dst)) = (init.ike_message().get(..8), buf.get_mut(..8)) {
            dst.copy_from_slice(spi);
        }
        let _ = initiator.handle_datagram(now, b_addr, a_addr, &mut buf);
        replies.initiator = drain(&mut initiator);
        if let Some((at, _)) = initiator.poll_timeout() {
            initiator.handle_timeout(at);
        }
        replies
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn both_endpoints_build_and_the_initiator_starts() {
            let mut a = endpoint(A, B, 1).expect("initiator config is valid");
            assert!(endpoint(B, A, 2).is_some());
            a.connect(Instant::ZERO, PeerId(0)).expect("connect");
            assert!(a.poll_transmit().is_some());
        }

        #[test]
        fn a_valid_exchange_reaches_both_state_machines() {
            // The initiator's own IKE_SA_INIT request makes a fresh responder answer; the
            // responder's answer makes the initiator send IKE_AUTH. Both prove that fuzz
            // input reaches past the header checks into the exchanges.
            let mut a = endpoint(A, B, 1).expect("initiator");
            a.connect(Instant::ZERO, PeerId(0)).expect("connect");
            let request = a.poll_transmit().expect("IKE_SA_INIT").ike_message().to_vec();
            assert_eq!(run(&request).responder, 1);

            let mut b = endpoint(B, A, 2).expect("responder");
            let (a_addr, b_addr) = (SocketAddr::new(A, 500), SocketAddr::new(B, 500));
            let _ = b.handle_datagram(Instant::ZERO, a_addr, b_addr, &mut request.clone());
            let response = b
                .poll_transmit()
                .expect("IKE_SA_INIT response")
                .ike_message()
                .to_vec();
            assert_eq!(run(&response).initiator, 1);
        }

        #[test]
        fn edge_inputs_return() {
            fuzz_endpoint(&[]);
            fuzz_endpoint(&[0; 28]);
            fuzz_endpoint(&[0xff; 300]);
        }
    }
}
