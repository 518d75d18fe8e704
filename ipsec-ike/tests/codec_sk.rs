//! The SK/SKF framing contract end to end: messages built with `MessageBuilder::encrypted` (or
//! split with `fragment_message`) are sealed by the crypto code, decode as protected messages,
//! are located by `SkFrame::locate`, opened, and their plaintext decodes back to the payloads that
//! were built.
#![cfg(feature = "rustcrypto")]

use ipsec_ike::crypto::rustcrypto::RustCrypto;
use ipsec_ike::crypto::sk::SkKey;
use ipsec_ike::crypto::{CryptoProvider, Entropy};
use ipsec_ike::message::*;
use ipsec_ike::testing::codec as strategies;
use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

static PROVIDER: RustCrypto = RustCrypto::new();

/// (cipher, key bits, integrity) suites of the default provider.
const SUITES: &[(EncrId, Option<u16>, Option<IntegId>)] = &[
    (EncrId::ENCR_AES_GCM_16, Some(256), None),
    (EncrId::ENCR_CHACHA20_POLY1305, None, None),
    (
        EncrId::ENCR_AES_CBC,
        Some(128),
        Some(IntegId::AUTH_HMAC_SHA2_256_128),
    ),
];

fn key(suite: usize) -> SkKey {
    let (id, bits, integ) = SUITES[suite];
    let encr = PROVIDER.encr(id, bits).unwrap();
    let integ = integ.map(|i| PROVIDER.integ(i).unwrap());
    let sk_e: Vec<u8> = (0..encr.key_len()).map(|i| i as u8).collect();
    let sk_a: Vec<u8> = (0..integ.map_or(0, |i| i.key_len()))
        .map(|i| (i as u8) ^ 0x5a)
        .collect();
    SkKey::new(encr, integ, &sk_e, &sk_a).unwrap()
}

fn entropy(seed: u64) -> Entropy {
    Entropy::new(ChaCha20Rng::seed_from_u64(seed))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn built_sealed_opened_decoded(
        suite in 0..SUITES.len(),
        header in strategies::header(),
        outer in proptest::collection::vec(strategies::inner_payload(), 0..2),
        inner in strategies::inner_chain(),
        seed in any::<u64>(),
    ) {
        let mut msg = Vec::new();
        let mut b = MessageBuilder::new(&mut msg, &header);
        b.extend(&outer).unwrap();
        let mut sk = b.encrypted();
        sk.extend(&inner).unwrap();
        let frame = sk.finish().unwrap();
        let (mut sealer, opener) = (key(suite), key(suite));
        sealer.seal(&mut msg, frame.sk_offset, frame.sk_header_len, &mut entropy(seed)).unwrap();

        // The sealed message is a valid protected message with the same outer payloads.
        let m = Message::decode(&msg).unwrap();
        prop_assert_eq!(m.header, header);
        prop_assert_eq!(&m.payloads[..outer.len()], &outer[..]);
        prop_assert!(matches!(m.payloads.last(), Some(Payload::Encrypted(_))));
        prop_assert_eq!(m.to_vec().unwrap(), msg.clone());
        prop_assert_eq!(SkFrame::locate(&msg).unwrap(), Some(frame));

        let range = opener.open(&mut msg, frame.sk_offset, frame.sk_header_len).unwrap();
        prop_assert_eq!(decode_inner(frame.first_inner, &msg[range]).unwrap(), inner);
    }

    #[test]
    fn fragmented_sealed_opened_reassembled(
        suite in 0..SUITES.len(),
        header in strategies::header(),
        inner in strategies::inner_chain(),
        chunk in 1usize..200,
        seed in any::<u64>(),
    ) {
        let mut plain = Vec::new();
        let mut sk = MessageBuilder::new(&mut plain, &header).encrypted();
        sk.extend(&inner).unwrap();
        let frame = sk.finish().unwrap();
        let chain = plain[frame.body_offset()..].to_vec();
        let frags = fragment_message(&header, frame.first_inner, &chain, chunk).unwrap();
        let (mut sealer, opener) = (key(suite), key(suite));
        let mut r = Reassembly::new(u16::MAX);
        let mut done = None;
        let mut rng = entropy(seed);
        for f in frags {
            let mut msg = f.bytes;
            sealer.seal(&mut msg, f.frame.sk_offset, f.frame.sk_header_len, &mut rng).unwrap();
            let located = SkFrame::locate(&msg).unwrap().unwrap();
            prop_assert_eq!(located, f.frame);
            let range = opener.open(&mut msg, located.sk_offset, located.sk_header_len).unwrap();
            if let ReassemblyStatus::Complete { first_inner, plaintext } = r.insert(&located, &msg[range]).unwrap() {
                done = Some((first_inner, plaintext));
            }
        }
        let (first, whole) = done.unwrap();
        prop_assert_eq!(&whole, &chain);
        prop_assert_eq!(decode_inner(first, &whole).unwrap(), inner);
    }
}
