//! The crypto fuzz entry points on stable: random and mutated inputs must never panic.
#![cfg(all(feature = "testing", feature = "rustcrypto"))]

use ipsec_ike::testing::crypto::{
    EC_INTERMEDIATE_DER, EC_LEAF_DER, RSA_ROOT_DER, fuzz_certificate, fuzz_sk_open,
};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn sk_open_never_panics(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        fuzz_sk_open(&data);
    }

    #[test]
    fn sk_open_survives_plausible_framing(
        selector in any::<u8>(),
        body in proptest::collection::vec(any::<u8>(), 0..300),
        lie in any::<u16>(),
    ) {
        // A well-formed IKE header and SK header whose length fields tell the truth or lie.
        let total = 28 + 4 + body.len();
        let mut msg = vec![selector, 0];
        msg.extend_from_slice(&[0x11; 16]);
        msg.extend_from_slice(&[46, 0x20, 35, 0x08, 0, 0, 0, 1]);
        let len = if lie % 3 == 0 { u32::from(lie) } else { total as u32 };
        msg.extend_from_slice(&len.to_be_bytes());
        let sk_len = if lie % 5 == 0 { lie } else { (4 + body.len()) as u16 };
        msg.extend_from_slice(&[41, 0]);
        msg.extend_from_slice(&sk_len.to_be_bytes());
        msg.extend_from_slice(&body);
        fuzz_sk_open(&msg);
    }

    #[test]
    fn certificate_parse_never_panics(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        fuzz_certificate(&data);
    }

    #[test]
    fn mutated_certificates_never_panic(
        which in 0..3usize,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut der = [EC_LEAF_DER, EC_INTERMEDIATE_DER, RSA_ROOT_DER][which].to_vec();
        for (at, value) in edits {
            let i = at.index(der.len());
            der[i] = value;
        }
        fuzz_certificate(&der);
        let keep = cut.index(der.len() + 1);
        fuzz_certificate(&der[..keep]);
    }
}
