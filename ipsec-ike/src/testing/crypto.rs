//! Crypto test support: fuzz entry points for SK decryption and certificate parsing, and small
//! fixtures. The entry points must return (never panic) on any input.

#[cfg(feature = "rustcrypto")]
pub use imp::*;

// Test support: a fuzz entry point must panic when an invariant breaks, so the panicking shortcuts
// are allowed here (this module is only built for tests and the `testing` feature).
#[cfg(feature = "rustcrypto")]
#[allow(
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::unwrap_used
)]
mod imp {
    use alloc::vec::Vec;

    use crate::cert::{Certificate, PeerIdentity, certreq_authority_hash, matches_identity, validate_chain};
    use crate::crypto::rustcrypto::RustCrypto;
    use crate::crypto::sk::SkKey;
    use crate::crypto::{CryptoProvider, EncrId, Entropy, IntegId};

    /// The test PKI's ECDSA root (tests/fixtures/crypto/certs/ec-ca.der).
    pub const EC_ROOT_DER: &[u8] = include_bytes!("../../tests/fixtures/crypto/certs/ec-ca.der");
    /// The test PKI's ECDSA intermediate (tests/fixtures/crypto/certs/ec-int.der).
    pub const EC_INTERMEDIATE_DER: &[u8] = include_bytes!("../../tests/fixtures/crypto/certs/ec-int.der");
    /// An ECDSA end-entity certificate (tests/fixtures/crypto/certs/ec-leaf.der).
    pub const EC_LEAF_DER: &[u8] = include_bytes!("../../tests/fixtures/crypto/certs/ec-leaf.der");
    /// The test PKI's RSA root (tests/fixtures/crypto/certs/rsa-ca.der).
    pub const RSA_ROOT_DER: &[u8] = include_bytes!("../../tests/fixtures/crypto/certs/rsa-ca.der");

    /// The SK transforms the fuzz target cycles through: (cipher, key bits, integrity).
    pub const SK_SUITES: &[(EncrId, Option<u16>, Option<IntegId>)] = &[
        (EncrId::ENCR_AES_GCM_16, Some(128), None),
        (EncrId::ENCR_AES_GCM_16, Some(256), None),
        (EncrId::ENCR_CHACHA20_POLY1305, None, None),
        (
            EncrId::ENCR_AES_CBC,
            Some(128),
            Some(IntegId::AUTH_HMAC_SHA2_256_128),
        ),
        (
            EncrId::ENCR_AES_CBC,
            Some(256),
            Some(IntegId::AUTH_HMAC_SHA2_512_256),
        ),
    ];

    /// An [`SkKey`] for `SK_SUITES[index % len]` with fixed keys (0x01, 0x02, ... for SK_e and
    /// 0x80, 0x81, ... for SK_a).
    ///
    /// # Panics
    /// Never for the suites above (they are all provided by [`RustCrypto`]).
    #[must_use]
    pub fn fixed_sk_key(index: usize) -> SkKey {
        let provider = RustCrypto::new();
        let (id, bits, integ_id) = SK_SUITES[index.checked_rem(SK_SUITES.len()).unwrap_or(0)];
        let encr = provider.encr(id, bits).expect("suite is provided");
        let integ = integ_id.map(|i| provider.integ(i).expect("suite is provided"));
        let ke: Vec<u8> = (1..=encr.key_len())
            .map(|i| u8::try_from(i).unwrap_or(0))
            .collect();
        let ka: Vec<u8> = (0..integ.map_or(0, |i| i.key_len()))
            .map(|i| 0x80 ^ u8::try_from(i).unwrap_or(0))
            .collect();
        SkKey::new(encr, integ, &ke, &ka).expect("fixed key lengths match")
    }

    /// Fuzz entry point: decrypt arbitrary bytes with fixed keys. `data[0]` picks the suite and
    /// SK (4) or SKF (8) header length, `data[1]` how far past the IKE header the SK payload
    /// starts; the rest is the message. Also seals the bytes as plaintext and checks the round
    /// trip.
    ///
    /// # Panics
    /// If `open` claims a plaintext range outside the buffer or a round trip fails: both are
    /// bugs the fuzzer should find.
    pub fn fuzz_sk_open(data: &[u8]) {
        let Some((&selector, rest)) = data.split_first() else {
            return;
        };
        let Some((&offset, message)) = rest.split_first() else {
            return;
        };
        let suite = usize::from(selector & 0x0f);
        let header_len = if selector & 0x10 == 0 { 4 } else { 8 };
        let sk_offset = 28usize.saturating_add(usize::from(offset & 0x3f));
        let key = fixed_sk_key(suite);
        let mut buf = message.to_vec();
        if let Ok(range) = key.open(&mut buf, sk_offset, header_len) {
            assert!(range.end <= buf.len() && range.start <= range.end);
        }

        let mut sealer = fixed_sk_key(suite);
        let mut msg = Vec::with_capacity(message.len().saturating_add(64));
        msg.resize(sk_offset, 0);
        msg.extend_from_slice(&[0, 0, 0, 0, 0, 1, 0, 1][..header_len]);
        let inner = message.get(..message.len().min(4096)).unwrap_or_default();
        msg.extend_from_slice(inner);
        let mut rng = Entropy::new(FixedRng(u64::from(selector)));
        if sealer.seal(&mut msg, sk_offset, header_len, &mut rng).is_ok() {
            let range = key
                .open(&mut msg, sk_offset, header_len)
                .expect("own message opens");
            assert_eq!(msg.get(range), Some(inner));
        }
    }

    /// Fuzz entry point: parse a certificate; if it parses, exercise the accessors, identity
    /// matching, the CERTREQ hash and chain validation against the fixed test PKI.
    pub fn fuzz_certificate(data: &[u8]) {
        let Ok(cert) = Certificate::from_der(data) else {
            return;
        };
        let provider = RustCrypto::new();
        let _ = cert.subject_public_key_info();
        let _ = cert.alt_names();
        let _ = certreq_authority_hash(provider.signatures(), &cert);
        for id in [
            PeerIdentity::Fqdn(b"gw.example.net"),
            PeerIdentity::Ipv4([198, 51, 100, 7]),
            PeerIdentity::DerAsn1Dn(cert.subject_der()),
        ] {
            let _ = matches_identity(&cert, &id);
        }
        let anchors: Vec<Certificate> = [EC_ROOT_DER, RSA_ROOT_DER]
            .iter()
            .filter_map(|d| Certificate::from_der(d).ok())
            .collect();
        let intermediates: Vec<Certificate> = [EC_INTERMEDIATE_DER, data]
            .iter()
            .filter_map(|d| Certificate::from_der(d).ok())
            .collect();
        let _ = validate_chain(
            provider.signatures(),
            &cert,
            &intermediates,
            &anchors,
            cert.not_before(),
        );
    }

    /// A deterministic, non-cryptographic byte source for fuzzing (never use elsewhere).
    pub(crate) struct FixedRng(pub(crate) u64);

    impl rand_core::TryRng for FixedRng {
        type Error = core::convert::Infallible;

        fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
            Ok(u32::try_from(self.try_next_u64()? >> 32).unwrap_or(0))
        }

        fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
            // SplitMix64 step.
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            Ok(z ^ (z >> 31))
        }

        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
            for chunk in dst.chunks_mut(8) {
                let v = self.try_next_u64()?.to_le_bytes();
                chunk.copy_from_slice(v.get(..chunk.len()).unwrap_or_default());
            }
            Ok(())
        }
    }

    impl rand_core::TryCryptoRng for FixedRng {}

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn fuzz_entry_points_accept_edge_inputs() {
            fuzz_sk_open(&[]);
            fuzz_sk_open(&[0]);
            for selector in 0..32u8 {
                fuzz_sk_open(&[selector, 0]);
                fuzz_sk_open(&[selector, 3, 1, 2, 3]);
                let mut long = alloc::vec![selector, 0];
                long.extend(core::iter::repeat_n(0xa5, 300));
                fuzz_sk_open(&long);
            }
            fuzz_certificate(&[]);
            fuzz_certificate(&[0x30, 0x80]);
            fuzz_certificate(EC_LEAF_DER);
            fuzz_certificate(RSA_ROOT_DER);
            for cut in [1, 10, 100, EC_LEAF_DER.len() - 1] {
                fuzz_certificate(&EC_LEAF_DER[..cut]);
            }
        }

        #[test]
        fn fixed_sk_key_opens_what_it_seals() {
            for suite in 0..SK_SUITES.len() {
                let mut k = fixed_sk_key(suite);
                let mut msg = alloc::vec![0u8; 28];
                msg.extend_from_slice(&[0, 0, 0, 0]);
                msg.extend_from_slice(b"inner");
                k.seal(&mut msg, 28, 4, &mut Entropy::new(FixedRng(1))).unwrap();
                let r = fixed_sk_key(suite).open(&mut msg, 28, 4).unwrap();
                assert_eq!(&msg[r], b"inner");
            }
        }
    }
}
